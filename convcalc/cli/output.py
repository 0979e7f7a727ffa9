"""Everything the CLI writes: documents on stdout, notices and errors on stderr."""

from __future__ import annotations

import os
import sys
from typing import Any

from convcalc.cli.options import Common
from convcalc.cli.streams import write_err
from convcalc.core import documents
from convcalc.core.budgets import Verdict, annotate
from convcalc.interrupts import check_interrupt
from convcalc.render import OutputFormat, render

# Set by batch and check (dispatch.run), which read each document back: JSON is
# written compact. The document is the same; only its whitespace differs from a
# run alone. (A plain flag: runs are sequential, and contextvars costs start-up.)
COMPACT_JSON = [False]


def notify(message: str) -> None:
    """A notice on stderr (never on stdout, which holds the document)."""
    write_err(message + "\n")


def console(stderr: bool = False) -> Any:
    """A Rich console: plain when not a terminal or NO_COLOR is set.

    Markup, emoji and highlighting are off: cells are plain text, and their
    parsers cost start-up time on the fast path.
    """
    from rich.console import Console

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


def emit(
    report: Any,
    common: Common,
    verdicts: list[Verdict] | None = None,
    *,
    depth: int | None = None,
    top: int | None = None,
) -> None:
    """Write a report (one, a comparison or a sweep) to stdout in the chosen format;
    ``depth`` folds per-layer rows into their modules, ``top`` keeps the costliest.

    JSON carries each point's budget verdicts and the device used; ``--value``
    prints one figure per point instead of the document.
    """
    check_interrupt()  # a Ctrl-C that torch's import swallowed: print nothing
    counts = _convention_counts(report, common.convention)
    backwards = _backwards(report) if common.backward else []
    if common.value is not None:
        document = report.to_dict()
        if counts and common.value in ("macs", "flops"):
            lines = [str(c.value(common.value)) for c in counts]
        else:
            lines = [documents.text(documents.figure(item, common.value)) for _, item in
                     documents.points(document)]  # fmt: skip
        sys.stdout.write("".join(line + "\n" for line in lines))
        return
    if common.output is OutputFormat.json:
        document = annotate(report.to_dict(), verdicts or [])
        items = [item for _, item in documents.points(document)]
        for key, extras in (("convention", counts), ("backward", backwards)):
            for item, extra in zip(items, extras, strict=False):  # none when not asked
                item[key] = extra.to_dict()
        if COMPACT_JSON[0]:  # batch and check parse it back: no indentation to pay for
            import json

            sys.stdout.write(json.dumps(document, separators=(",", ":")) + "\n")
            return
        from convcalc.render.text import to_json

        sys.stdout.write(to_json(document))
        return
    blocks = [render(report, common.output, common.exact, depth=depth, top=top)]
    if counts or backwards:
        from convcalc.render.conventions import backward_table, convention_table

        markdown = common.output is not OutputFormat.table
        blocks += [convention_table(c, common.exact, markdown=markdown) for c in counts]
        if backwards:
            trained = [r.measured and r.measured.flop_counter_training_flops
                       for r in report.reports]  # fmt: skip
            blocks += [backward_table(b, common.exact, markdown=markdown, measured=m)
                       for b, m in zip(backwards, trained, strict=True)]  # fmt: skip
    for block in blocks:
        if isinstance(block, str):
            sys.stdout.write(block)
        else:
            console().print(block)


def _backwards(report: Any) -> list[Any]:
    """Each point's backward pass (``--backward``)."""
    from convcalc.core.backward import backward

    return [backward(r.figures) for r in report.reports]


def _convention_counts(report: Any, name: str) -> list[Any]:
    """Each point's count under ``--convention`` (none for the paper's own)."""
    if name == "paper":
        return []
    from convcalc.core.conventions import count

    return [count(r.figures, name) for r in report.reports]
