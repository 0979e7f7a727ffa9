"""Run a command line in this process, exactly as ``convcalc LINE`` would run alone.

``batch`` and ``check`` run many command lines in one process (torch is
imported once). Each goes through the same Typer app as a command typed in a
shell: the same parsing, the same errors, the same output, captured; so any
command the app has, ``model`` included once it lands, works in both with no
second parser. The outcome is its exit status, its stdout and its stderr.
"""

from __future__ import annotations

import contextlib
import functools
import io
import shlex
import warnings
from dataclasses import dataclass
from typing import Any

from convcalc.errors import InvalidSpecError

# Commands that run other command lines: not allowed inside one.
RUNNERS = ("batch", "check")


@dataclass(frozen=True)
class Outcome:
    """What one command line gave: exit status, stdout, stderr."""

    argv: tuple[str, ...]
    exit: int
    stdout: str
    stderr: str

    @property
    def error(self) -> str | None:
        """The message of its ``error:`` line (the last one), or None."""
        errors = [line for line in self.stderr.splitlines() if line.startswith("error: ")]
        return errors[-1].removeprefix("error: ") if errors else None

    @property
    def notices(self) -> list[str]:
        """Its stderr lines other than the error."""
        return [line for line in self.stderr.splitlines() if not line.startswith("error: ")]


def split(line: str, where: str = "line") -> list[str]:
    """A command line as a shell would split it (``#`` starts a comment); ``convcalc`` optional.

    Raises InvalidSpecError for unbalanced quotes and for ``batch``/``check`` inside a runner.
    """
    try:
        argv = shlex.split(line, comments=True)
    except ValueError as exc:
        raise InvalidSpecError(f"{where}: cannot split {line.strip()!r}: {exc}") from None
    if argv and argv[0] == "convcalc":
        argv = argv[1:]
    if argv and argv[0] in RUNNERS:
        raise InvalidSpecError(f"{where}: {argv[0]!r} runs command lines itself; it cannot be one")
    return argv


@functools.cache
def _command() -> Any:
    """The click command behind the Typer app, built once (building it costs milliseconds)."""
    import typer.main

    from convcalc.cli.app import app

    return typer.main.get_command(app)


def run(argv: list[str], *, compact: bool = False) -> Outcome:
    """Run ``convcalc ARGV`` here, its streams captured.

    ``compact``: JSON documents without indentation (the caller parses them).
    Raises only what a run alone would end in a traceback for (a bug), or Ctrl-C.
    """
    from convcalc.cli.output import COMPACT_JSON

    out, err = io.StringIO(), io.StringIO()
    code: int
    previous, COMPACT_JSON[0] = COMPACT_JSON[0], compact
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        warnings.catch_warnings(),
    ):
        try:
            _command().main(args=list(argv), prog_name="convcalc")
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
        finally:
            COMPACT_JSON[0] = previous
    return Outcome(tuple(argv), code, out.getvalue(), err.getvalue())
