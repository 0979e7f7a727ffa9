"""Width x resolution sweeps: a row per point, ratios to the registry's reference point."""

from __future__ import annotations

import csv
import io
from typing import Any

from rich.console import RenderableType
from rich.table import Table

from convcalc.core.documents.report import Report, SweepReport
from convcalc.render import units
from convcalc.render.fit import Fit
from convcalc.render.table import MARKS


def _point(report: Report) -> tuple[float, int]:
    return float(report.spec["width"]), int(report.spec["resolution"])


def _reference_text(sweep: SweepReport) -> str:
    return " at ".join(str(v) for v in sweep.reference_point.values())


def sweep_table(sweep: SweepReport, exact: bool = False) -> RenderableType:
    """One row per (width, resolution) point."""
    table = Table(
        title=f"convcalc {sweep.reports[0].command}: {sweep.title} sweep "
        f"(ratios to width {_reference_text(sweep)})",
        title_justify="default",
    )
    for name in ("width", "resolution", "params", "x ref", "MACs", "x ref", "weights only",
                 "torchinfo mult-adds", "match"):  # fmt: skip
        table.add_column(name, justify="left" if name == "match" else "right")
    for report in sweep.reports:
        totals = report.figures.totals
        width, resolution = _point(report)
        measured = report.measured
        params, macs = sweep.ratios(report)
        table.add_row(
            f"{width:g}",
            str(resolution),
            units.count(totals.params, exact),
            units.times(params),
            units.count(totals.macs, exact),
            units.times(macs),
            units.count(totals.weights, exact),
            "-" if measured is None else units.count(measured.torchinfo_mult_adds, exact),
            MARKS[report.match],
        )
    return Fit(table, ("weights only", "torchinfo mult-adds", "x ref"))


def _rows(sweep: SweepReport) -> list[list[Any]]:
    rows = []
    for report in sweep.reports:
        totals = report.figures.totals
        width, resolution = _point(report)
        params, macs = sweep.ratios(report)
        rows.append([
            f"{width:g}", resolution, totals.params, _ratio(params),
            totals.macs, _ratio(macs), totals.weights, totals.biases,
            totals.batchnorm, "" if report.match is None else str(report.match).lower(),
        ])  # fmt: skip
    return rows


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


_HEADER = ["width", "resolution", "params", "params_ratio", "macs", "macs_ratio", "weights",
           "biases", "batchnorm", "match"]  # fmt: skip


def sweep_csv(sweep: SweepReport) -> str:
    """One CSV row per point, exact integers."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(_HEADER)
    writer.writerows(_rows(sweep))
    return buffer.getvalue()


def sweep_markdown(sweep: SweepReport, exact: bool = False) -> str:
    """One Markdown row per point."""
    lines = ["| " + " | ".join(_HEADER) + " |", "|" + " --- |" * len(_HEADER)]
    for row in _rows(sweep):
        cells = [
            units.count(v, exact) if isinstance(v, int) and not isinstance(v, bool) else str(v)
            for v in row
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
