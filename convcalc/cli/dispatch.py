"""One command line of ``batch`` or ``check``, parsed into a plan and run through the pipeline.

A line is parsed by its own click command (the same options, the same errors as
``convcalc LINE`` alone) into a ``cli.run.Plan``; running it is
``convcalc.pipeline.run``, and its outcome (exit status, error, notices, JSON
document or text) is built from the ``Result``: nothing is printed and read
back. The figure commands come from ``cli.commands.FIGURES``; ``batch`` and
``check`` cannot be lines, nor can ``diff`` and ``conventions``, which compute
no figures.
"""

from __future__ import annotations

import shlex
import warnings
from dataclasses import field
from typing import Any

from convcalc.core.values.record import Record
from convcalc.errors import ConvCalcError, InvalidSpecError
from convcalc.interrupts import check_interrupt, interrupted

# Commands that run other command lines: not allowed inside one.
RUNNERS = ("batch", "check")


class Outcome(Record):
    """What one command line gave: exit status, error, notices, and its JSON document
    (``--format json``) or its text (any other format, ``--value``)."""

    argv: tuple[str, ...]
    exit: int
    error: str | None = None
    notices: list[str] = field(default_factory=list)
    document: Any = None
    text: str | None = None
    result: Any = None  # the pipeline's Result, when the line ran


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


def parse(argv: list[str]) -> Any:
    """The plan of ``convcalc ARGV``, parsed by the named command's own click command.

    Raises InvalidSpecError for an unknown command, one that computes no figures,
    a usage error (click's message, as the app says it) or an invalid value.
    """
    import typer
    import typer.main

    from convcalc.cli.commands import FIGURES
    from convcalc.cli.run import Plan
    from convcalc.cli.usage import CLICK_ERROR, USAGE_ERROR, usage_message

    name, args = (argv[0], argv[1:]) if argv else ("", [])
    callback = FIGURES.get(name)
    if callback is None:
        if name in ("diff", "conventions"):
            raise InvalidSpecError(
                f"{name!r} computes no figures: batch and check run the figure commands "
                f"({', '.join(FIGURES)}); run {name} alone"
            )
        raise InvalidSpecError(f"No such command {name!r}.")
    if any(a in ("-h", "--help") for a in args):
        raise InvalidSpecError(f"--help: run 'convcalc {name} --help' alone")
    single = typer.Typer(add_completion=False, pretty_exceptions_enable=False,
                         rich_markup_mode=None)  # fmt: skip
    single.command(name)(callback)
    command = typer.main.get_command(single)
    try:
        with command.make_context(name, list(args)) as context:
            plan = command.invoke(context)
    except (USAGE_ERROR, CLICK_ERROR) as exc:
        raise InvalidSpecError(usage_message(exc)) from None
    assert isinstance(plan, Plan), f"{name} returned no plan"  # every FIGURES command does
    return plan


def run(argv: list[str], *, text_output: bool = True) -> Outcome:
    """Run ``convcalc ARGV`` here: parse its plan, run it through the pipeline, and gather
    the outcome a run alone would give (its exit status, error line, notices, document).

    ``text_output``: render non-JSON formats to text (batch); off, only the document.
    Raises only what a run alone would end in a traceback for (a bug), or Ctrl-C.
    """
    from convcalc.cli.collector import collect_line
    from convcalc.cli.output import text
    from convcalc.cli.run import compute, finish
    from convcalc.cli.streams import notices_to
    from convcalc.render import OutputFormat

    collect_line()  # what the line before left (the collector is paused for the command)
    notices: list[str] = []
    with warnings.catch_warnings():  # what one line sets up does not leak into the next
        try:
            with notices_to(notices.append):  # a deprecated spelling's notice, say
                plan = parse(argv)
            result = compute(plan, notices.append)
        except ConvCalcError as exc:
            if interrupted():
                check_interrupt()
            return Outcome(tuple(argv), exc.exit_code, str(exc), notices)
        common = plan.common
        document = output = None
        try:  # rendering may refuse too (--value of a partial total), as a run alone would
            if common.value is None and common.output is OutputFormat.json:
                document = result.to_dict()
            elif text_output:
                output = text(result, common)
            finish(plan, result, notices.append)
        except ConvCalcError as exc:
            return Outcome(tuple(argv), exc.exit_code, str(exc), notices, document, output, result)
    return Outcome(tuple(argv), 0, None, notices, document, output, result)
