"""Everything the CLI writes: documents on stdout, notices and errors on stderr."""

from __future__ import annotations

import io
import os
import sys
from typing import TYPE_CHECKING, Any

from convcalc.cli.options import Common
from convcalc.cli.streams import write_err
from convcalc.interrupts import check_interrupt
from convcalc.render import OutputFormat, render

if TYPE_CHECKING:
    from convcalc.pipeline import Result


def notify(message: str) -> None:
    """A notice on stderr (never on stdout, which holds the document)."""
    write_err(message + "\n")


def console(stderr: bool = False, file: Any = None) -> Any:
    """A Rich console on stdout, stderr or ``file``: plain when not a terminal or NO_COLOR is set.

    Markup, emoji and highlighting are off: cells are plain text, and their
    parsers cost start-up time on the fast path.
    """
    from rich.console import Console

    if file is None:
        file = sys.stderr if stderr else sys.stdout
    columns = os.environ.get("COLUMNS", "")
    given = columns.isascii() and columns.isdigit() and 0 < int(columns) < 100_000
    width = None if file.isatty() else int(columns) if given else 200
    # NO_COLOR means plain: no bold or italic either, not only no colour.
    plain = bool(os.environ.get("NO_COLOR")) or not file.isatty()
    result = Console(
        file=file,
        width=width,
        soft_wrap=False,
        markup=False,
        emoji=False,
        highlight=False,
        color_system=None if plain else "auto",
    )
    # Rich exits 1 on a broken pipe; streams.GuardedStdout decides instead (the verdict stands).
    result.on_broken_pipe = _broken_pipe  # type: ignore[method-assign]
    return result


def _broken_pipe() -> None:
    raise BrokenPipeError


def emit(result: Result, common: Common) -> None:
    """Write a result to stdout in the chosen format (``--value``: one figure per point)."""
    check_interrupt()  # a Ctrl-C that torch's import swallowed: print nothing
    for block in blocks(result, common):
        if isinstance(block, str):
            sys.stdout.write(block)
        else:
            console().print(block)


def text(result: Result, common: Common) -> str:
    """What ``emit`` writes, as one string (tables laid out as on a redirected stdout)."""
    parts = []
    for block in blocks(result, common):
        if isinstance(block, str):
            parts.append(block)
        else:
            buffer = io.StringIO()
            console(file=buffer).print(block)
            parts.append(buffer.getvalue())
    return "".join(parts)


def blocks(result: Result, common: Common) -> list[Any]:
    """The result in the chosen format: strings, and Rich renderables for tables.

    JSON carries each point's budget verdicts, convention count and backward pass;
    the other formats show them as tables after the report's.
    """
    if common.value is not None:
        return ["".join(line + "\n" for line in result.values(common.value))]
    if common.output is OutputFormat.json:
        from convcalc.render.jsontext import to_json

        return [to_json(result.to_dict())]
    report = result.report
    shown = [render(report, common.output, common.exact, depth=result.fold, top=result.top)]
    if result.conventions or result.backward:
        from convcalc.render.conventions import backward_table, convention_table

        markdown = common.output is not OutputFormat.table
        shown += [convention_table(c, common.exact, markdown=markdown) for c in result.conventions]
        if result.backward:
            trained = [r.measured.flop_counter_training_flops if r.measured else None
                       for r in report.reports]  # fmt: skip
            shown += [backward_table(b, common.exact, markdown=markdown, measured=m)
                      for b, m in zip(result.backward, trained, strict=True)]  # fmt: skip
    return shown
