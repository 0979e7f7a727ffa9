"""``convcalc batch FILE|-``: one command line per line, JSON Lines out, torch imported once.

Each line runs through ``dispatch`` exactly as ``convcalc LINE --format json``
would run alone (``--format json`` is added unless the line chooses a format),
and gives one JSON object on its own line:

    {"line": 3, "command": "conv --cin 4 --cout 8", "exit": 0, "error": null,
     "notices": [], "document": {...}, "text": null}

``document`` is the line's JSON document (null when it printed none), ``text``
its stdout when that is not JSON (``--value``, ``--format csv``). Blank lines
and ``#`` comments give nothing. ``batch`` exits with the worst status of its
lines (0 all ok; else the highest of 1, 2, 3), 130 on Ctrl-C.
"""

from __future__ import annotations

import contextlib
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
        yield from enumerate(stream, start=1)
        return
    path = Path(source)
    try:
        handle: TextIO = path.open(encoding="utf-8")
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
        return _object(number, command, exc.exit_code, str(exc), [], "")
    if not argv:
        return None
    outcome = dispatch.run(with_json(argv), compact=True)
    return _object(number, command, outcome.exit, outcome.error, outcome.notices, outcome.stdout)


def _object(
    number: int, command: str, code: int, error: str | None, notices: list[str], stdout: str
) -> dict[str, Any]:
    import json

    document: Any = None
    text: str | None = stdout or None
    if stdout.lstrip().startswith(("{", "[")):
        with contextlib.suppress(ValueError):  # not JSON after all: keep it as text
            document, text = json.loads(stdout), None
    return {
        "line": number,
        "command": command,
        "exit": code,
        "error": error,
        "notices": notices,
        "document": document,
        "text": text,
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
