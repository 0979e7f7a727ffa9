"""Reports as JSON, CSV and Markdown strings (no I/O)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from convcalc.core.documents.report import CompareReport, Report
from convcalc.render import units
from convcalc.render.jsontext import to_json as _to_json
from convcalc.render.rows import (
    COMPARE_HEADER,
    ROOFLINE_HEADER,
    TIMING_HEADER,
    compare_cells,
    layer_rows,
    roofline_cells,
    summary_rows,
    timing_cells,
)

to_json = _to_json  # its home is render/jsontext.py, which a JSON run loads alone


def _csv_value(value: Any) -> Any:
    """A CSV cell: shapes as ``1x8x222x222``, booleans as ``true``/``false``, None empty."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return "x".join(str(v) for v in value)
    return "" if value is None else value


# Columns of the long CSV: numbers stay numbers (``analytic``, ``measured``), and a
# measured side that is not a number ("not counted by torchinfo") goes to ``note``.
CSV_HEADER = ["scope", "figure", "analytic", "measured", "match", "formula", "note"]


def _measured_cells(value: Any) -> tuple[Any, str]:
    """(measured cell, note): prose never sits in the numeric column."""
    if isinstance(value, str):
        return "", "measured with --cross-check" if value == "--cross-check" else value
    return _csv_value(value), ""


def to_csv(
    report: Report, scope: str = "total", *, depth: int | None = None, top: int | None = None
) -> str:
    """Long format: scope (``total`` or a layer), figure, analytic, measured, match, formula,
    note (what the measured side is when it is not a number)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    _csv_rows(writer, report, scope, depth, top)
    return buffer.getvalue()


def compare_csv(comparison: CompareReport) -> str:
    """Every variant's rows, scoped by variant name."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for report in comparison.reports:
        _csv_rows(writer, report, report.figures.network.name)
    return buffer.getvalue()


def _csv_rows(
    writer: Any, report: Report, scope: str, depth: int | None = None, top: int | None = None
) -> None:
    for row in summary_rows(report):
        measured, note = _measured_cells(row.measured)
        check = report.check(row.figure)
        note = note or (check.reason if check is not None else "")  # why not compared
        writer.writerow(
            [
                scope,
                row.figure,
                _csv_value(row.analytic),
                measured,
                _csv_value(row.match),
                row.formula,
                note,
            ]
        )
    if len(report.figures.layers) > 1:
        for layer in layer_rows(report, depth=depth, top=top):
            prefix = f"{scope}/{layer['name']}" if scope != "total" else layer["name"]
            measured = {
                "output_shape": layer["measured_output_shape"],
                "torchinfo_mult_adds": layer["measured_mult_adds"],
            }
            formulas = {"params": layer["params_formula"], "macs": layer["macs_formula"]}
            for name in layer["layer_figures"]:
                checked = name in measured
                writer.writerow(
                    [
                        prefix,
                        name,
                        _csv_value(layer[name]),
                        _csv_value(measured.get(name)),
                        _csv_value(layer["match"]) if checked else "",
                        formulas.get(name, ""),
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
                    "element-wise",
                    "RF",
                    "torchinfo mult-adds",
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
                        units.count(r["elementwise_ops"], exact),
                        r["receptive_field"],
                        _measured_mult_adds(r, exact),
                        _MARK[r["match"]],
                    ]
                    for r in layer_rows(report, depth=depth, top=top)
                ],
            )
        )
    roofline = roofline_cells(report, exact, depth=depth, top=top)
    if roofline is not None:
        out.append(f"{roofline[0]}\n\n" + _md_table(ROOFLINE_HEADER, roofline[1]))
    timing = timing_cells(report, depth=depth, top=top)
    if timing is not None:  # --measure-time
        out.append(f"{timing[0]}\n\n" + _md_table(TIMING_HEADER, timing[1]))
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
    out += [f"{line}\n" for line in report.not_compared_lines()]  # each reason, visible
    return "\n".join(out)


def _measured_mult_adds(row: dict[str, Any], exact: bool) -> str:
    """The per-layer table's torchinfo column: measured, ``-`` unverified, never a false 0."""
    measured = row["measured_mult_adds"]
    if measured is None:
        return "-"
    if measured == 0 and row["elementwise_ops"]:
        return "not counted"
    return units.count(measured, exact)


def compare_markdown(comparison: CompareReport, exact: bool = False) -> str:
    """``compare`` as one Markdown table."""
    rows = [
        [
            *compare_cells(comparison, r, exact),
            "-" if r.measured is None else units.count(r.measured.torchinfo_mult_adds, exact),
            _MARK[r.match],
        ]
        for r in comparison.reports
    ]
    return _md_table([*COMPARE_HEADER, "torchinfo mult-adds", "match"], rows)
