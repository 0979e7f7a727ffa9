"""Reports as JSON, CSV and Markdown strings (no I/O)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from convcalc.core.report import CompareReport, Report
from convcalc.render import units
from convcalc.render.rows import COMPARE_HEADER, compare_cells, layer_rows, summary_rows


def to_json(document: Any) -> str:
    """One JSON document, exact integers, stable key order.

    Indented for reading unless it is large (a sweep's is megabytes, and
    indenting it costs several times the compact dump); both parse the same.
    """
    compact = json.dumps(document, separators=(",", ":"))
    if len(compact) > 200_000:
        return compact + "\n"
    return json.dumps(document, indent=2) + "\n"


def _csv_value(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return "x".join(str(v) for v in value)
    return "" if value is None else value


def to_csv(
    report: Report, scope: str = "total", *, depth: int | None = None, top: int | None = None
) -> str:
    """Long format: scope (``total`` or a layer), figure, analytic, measured, match, formula."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["scope", "figure", "analytic", "measured", "match", "formula"])
    _csv_rows(writer, report, scope, depth, top)
    return buffer.getvalue()


def compare_csv(comparison: CompareReport) -> str:
    """Every variant's rows, scoped by variant name."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["scope", "figure", "analytic", "measured", "match", "formula"])
    for report in comparison.reports:
        _csv_rows(writer, report, report.figures.network.name)
    return buffer.getvalue()


def _csv_rows(
    writer: Any, report: Report, scope: str, depth: int | None = None, top: int | None = None
) -> None:
    for row in summary_rows(report):
        writer.writerow(
            [
                scope,
                row.figure,
                _csv_value(row.analytic),
                _csv_value(row.measured),
                _csv_value(row.match),
                row.formula,
            ]
        )
    if len(report.figures.layers) > 1:
        for layer in layer_rows(report, depth=depth, top=top):
            prefix = f"{scope}/{layer['name']}" if scope != "total" else layer["name"]
            writer.writerow(
                [
                    prefix,
                    "output_shape",
                    _csv_value(layer["output_shape"]),
                    _csv_value(layer["measured_output_shape"]),
                    _csv_value(layer["match"]),
                    "",
                ]
            )
            writer.writerow([prefix, "params", layer["params"], "", "", layer["params_formula"]])
            writer.writerow([prefix, "macs", layer["macs"], "", "", layer["macs_formula"]])
            writer.writerow(
                [
                    prefix,
                    "torchinfo_mult_adds",
                    layer["torchinfo_mult_adds"],
                    _csv_value(layer["measured_mult_adds"]),
                    _csv_value(layer["match"]),
                    "",
                ]
            )


_MARK = {True: "✓", False: "✗", None: ""}


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(header), line(["---"] * len(header)), *(line(r) for r in rows)]) + "\n"


def to_markdown(
    report: Report, exact: bool = False, *, depth: int | None = None, top: int | None = None
) -> str:
    """The table format as Markdown: per-layer table (for several layers), then totals."""
    out = []
    if len(report.figures.layers) > 1:
        out.append(
            _md_table(
                [
                    "#",
                    "layer",
                    "type",
                    "in -> out",
                    "kernel",
                    "output",
                    "params",
                    "MACs",
                    "share",
                    "RF",
                    "match",
                ],
                [
                    [
                        str(r["index"]),
                        r["name"],
                        r["type"],
                        r["channels"],
                        r["description"],
                        r["output"],
                        "shared" if r["shared"] else units.count(r["params"], exact),
                        units.count(r["macs"], exact),
                        f"{r['share'] * 100:.1f}%",
                        r["receptive_field"],
                        _MARK[r["match"]],
                    ]
                    for r in layer_rows(report, depth=depth, top=top)
                ],
            )
        )
    out.append(
        _md_table(
            ["quantity", "analytic", "measured", "match", "formula"],
            [
                [
                    row.label,
                    row.cell(row.analytic, exact),
                    row.cell(row.measured, exact),
                    _MARK[row.match],
                    row.formula,
                ]
                for row in summary_rows(report)
            ],
        )
    )
    return "\n".join(out)


def compare_markdown(comparison: CompareReport, exact: bool = False) -> str:
    """``compare`` as one Markdown table."""
    rows = [[*compare_cells(comparison, r, exact), _MARK[r.match]] for r in comparison.reports]
    return _md_table([*COMPARE_HEADER, "match"], rows)
