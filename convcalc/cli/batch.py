"""``convcalc batch FILE|-``: one command line per line, JSON Lines out, torch imported once.

Each line is parsed as ``convcalc LINE --format json`` would be alone
(``--format json`` is added unless the line chooses a format) and run through
the library pipeline (``dispatch``), and gives one JSON object on its own line:

    {"line": 3, "command": "conv --cin 4 --cout 8", "exit": 0, "error": null,
     "notices": [], "document": {...}, "text": null}

``document`` is the line's JSON document (null when it has none), ``text``
what it would print when that is not JSON (``--value``, ``--format csv``). Blank lines
and ``#`` comments give nothing. ``batch`` exits with the worst status of its
lines (0 all ok; else the highest of 1, 2, 3), 130 on Ctrl-C.
"""

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from convcalc.errors import ConvCalcError, InvalidSpecError
from convcalc.interrupts import check_interrupt


def _lines(source: str) -> Iterator[tuple[int, str]]:
    if source == "-":
        stream: Iterable[str] = sys.stdin
        for number, line in enumerate(stream, start=1):
            # A byte-order mark (Windows editors write one) is not part of the first command.
            yield number, line.removeprefix("\ufeff") if number == 1 else line
        return
    path = Path(source)
    try:
        handle: TextIO = path.open(encoding="utf-8-sig")  # a byte-order mark is not a command
    except OSError as exc:
        raise InvalidSpecError(f"cannot read {source}: {exc.strerror or exc}") from None
    with handle:
        try:
            yield from enumerate(handle, start=1)
        except UnicodeDecodeError as exc:
            raise InvalidSpecError(f"{source} is not UTF-8 text: {exc.reason}") from None


def with_json(argv: list[str]) -> list[str]:
    """The line's arguments with ``--format json`` added, unless it chose a format."""
    chosen = any(a == "--format" or a.startswith("--format=") for a in argv)
    return argv if chosen else [*argv, "--format", "json"]


def result(number: int, line: str) -> dict[str, Any] | None:
    """The JSON object of one line (None for a blank or comment line)."""
    from convcalc.cli import dispatch

    command = line.strip()
    try:
        argv = dispatch.split(line, f"line {number}")
    except ConvCalcError as exc:
        return _object(number, command, dispatch.Outcome((), exc.exit_code, str(exc)))
    if not argv:
        return None
    return _object(number, command, dispatch.run(with_json(argv)))


def _object(number: int, command: str, outcome: Any) -> dict[str, Any]:
    return {
        "line": number,
        "command": command,
        "exit": outcome.exit,
        "error": outcome.error,
        "notices": outcome.notices,
        "document": outcome.document,
        "text": outcome.text or None,
    }


def batch(
    source: Annotated[
        str, typer.Argument(metavar="FILE|-", help="A file of command lines, or - for stdin.")
    ],
) -> None:
    """Run many command lines in one process: one JSON object per line (JSON Lines)."""
    import json

    worst = 0
    for number, line in _lines(source):
        check_interrupt()
        entry = result(number, line)
        if entry is None:
            continue
        if entry["exit"] == 130:  # the line was interrupted: so is the batch
            check_interrupt()
        worst = max(worst, entry["exit"])
        sys.stdout.write(json.dumps(entry, separators=(",", ":")) + "\n")
        sys.stdout.flush()
        if getattr(sys.stdout, "gone", False):
            break  # the reader has gone: nobody reads the rest
    if worst:
        raise typer.Exit(worst)
