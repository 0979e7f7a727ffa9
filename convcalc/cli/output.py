"""Everything the CLI writes: documents on stdout, notices and errors on stderr."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from convcalc.cli.options import Common
from convcalc.core.figures import NetworkFigures
from convcalc.core.report import Report
from convcalc.render import OutputFormat


def notify(message: str) -> None:
    """A notice on stderr (never on stdout, which holds the document)."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def console(stderr: bool = False) -> Any:
    """A Rich console: plain when not a terminal or NO_COLOR is set.

    Markup, emoji and highlighting are off: cells are plain text, and their
    parsers cost start-up time on the fast path.
    """
    from rich.console import Console

    file = sys.stderr if stderr else sys.stdout
    columns = os.environ.get("COLUMNS", "")
    width = None if file.isatty() else int(columns) if columns.isdigit() else 200
    # NO_COLOR means plain: no bold or italic either, not only no colour.
    plain = bool(os.environ.get("NO_COLOR")) or not file.isatty()
    return Console(
        file=file,
        width=width,
        soft_wrap=False,
        markup=False,
        emoji=False,
        highlight=False,
        color_system=None if plain else "auto",
    )


def emit(report: Report, common: Common) -> None:
    """Write one report to stdout in the chosen format."""
    if common.output is OutputFormat.table:
        from convcalc.render.table import report_table

        console().print(report_table(report, common.exact))
        return
    from convcalc.render import text

    if common.output is OutputFormat.json:
        sys.stdout.write(text.to_json(report.to_dict()))
    elif common.output is OutputFormat.csv:
        sys.stdout.write(text.to_csv(report))
    else:
        sys.stdout.write(text.to_markdown(report, common.exact))


def emit_compare(reports: Sequence[Report], spec: dict[str, Any], common: Common) -> None:
    """Write compare's document."""
    from convcalc.render import text

    if common.output is OutputFormat.json:
        sys.stdout.write(text.to_json(text.compare_document(spec, reports)))
    elif common.output is OutputFormat.csv:
        sys.stdout.write(text.compare_csv(reports))
    elif common.output is OutputFormat.markdown:
        sys.stdout.write(text.compare_markdown(reports, common.exact))
    else:
        from convcalc.render.table import compare_table

        console().print(compare_table(reports, common.exact))


def emit_sweep(reports: Sequence[Report], reference: NetworkFigures, common: Common) -> None:
    """Write a sweep: one row (or JSON object) per point, with ratios to the reference."""
    from convcalc.render import sweep

    if common.output is OutputFormat.json:
        from convcalc.render.text import to_json

        sys.stdout.write(to_json(sweep.sweep_document(reports, reference)))
    elif common.output is OutputFormat.csv:
        sys.stdout.write(sweep.sweep_csv(reports, reference))
    elif common.output is OutputFormat.markdown:
        sys.stdout.write(sweep.sweep_markdown(reports, reference, common.exact))
    else:
        console().print(sweep.sweep_table(reports, reference, common.exact))
