"""Renderers: a report -> Rich renderable or string. They never print.

``render`` is the one table from (output format, report type) to renderer;
each renderer's module is imported only when its format is asked for, so a
table never pays for the JSON or CSV code and the reverse.
"""

from __future__ import annotations

import importlib
from enum import Enum
from typing import Any


class OutputFormat(str, Enum):
    """The output formats of every command."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


# (format, report type) -> (module under convcalc.render, function, takes ``exact``).
RENDERERS: dict[tuple[OutputFormat, str], tuple[str, str, bool]] = {
    (OutputFormat.table, "Report"): ("table", "report_table", True),
    (OutputFormat.table, "CompareReport"): ("table", "compare_table", True),
    (OutputFormat.table, "SweepReport"): ("sweep", "sweep_table", True),
    (OutputFormat.csv, "Report"): ("text", "to_csv", False),
    (OutputFormat.csv, "CompareReport"): ("text", "compare_csv", False),
    (OutputFormat.csv, "SweepReport"): ("sweep", "sweep_csv", False),
    (OutputFormat.markdown, "Report"): ("text", "to_markdown", True),
    (OutputFormat.markdown, "CompareReport"): ("text", "compare_markdown", True),
    (OutputFormat.markdown, "SweepReport"): ("sweep", "sweep_markdown", True),
}


def render(
    report: Any,
    output: OutputFormat,
    exact: bool = False,
    *,
    depth: int | None = None,
    top: int | None = None,
) -> Any:
    """The report in one format: a string, or a Rich renderable for ``table``.

    ``depth`` and ``top`` shape a single report's per-layer rows (JSON keeps every node).
    """
    if output is OutputFormat.json:
        from convcalc.render.jsontext import to_json

        return to_json(report.to_dict())
    module, function, takes_exact = RENDERERS[(output, type(report).__name__)]
    renderer = getattr(importlib.import_module(f"convcalc.render.{module}"), function)
    fold = {"depth": depth, "top": top} if type(report).__name__ == "Report" else {}
    return renderer(report, exact, **fold) if takes_exact else renderer(report, **fold)
