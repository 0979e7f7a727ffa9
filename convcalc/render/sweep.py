"""Width x resolution sweeps: a row per point, ratios to the width 1.0, 224 reference."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from rich.table import Table

from convcalc.core.figures import NetworkFigures
from convcalc.core.report import Report
from convcalc.render import units
from convcalc.render.table import MARKS


def _point(report: Report) -> tuple[float, int]:
    return float(report.spec["width"]), int(report.spec["resolution"])


def sweep_document(reports: Sequence[Report], reference: NetworkFigures) -> list[dict[str, Any]]:
    """The JSON list: each point's full report plus its ratios to the reference."""
    ref = reference.totals
    documents = []
    for report in reports:
        entry = report.to_dict()
        totals = report.figures.totals
        entry["ratio_to_reference"] = {
            "reference": {"width": 1.0, "resolution": 224},
            "params": totals.params / ref.params,
            "macs": totals.macs / ref.macs,
        }
        documents.append(entry)
    return documents


def sweep_table(reports: Sequence[Report], reference: NetworkFigures, exact: bool = False) -> Table:
    """One row per (width, resolution) point."""
    ref = reference.totals
    version = reports[0].spec["version"]
    table = Table(
        title=f"convcalc mobilenet: MobileNet V{version} sweep (ratios to width 1.0 at 224)",
        title_justify="left",
    )
    for name in ("width", "resolution", "params", "x ref", "MACs", "x ref", "weights only",
                 "torchinfo mult-adds", "match"):  # fmt: skip
        table.add_column(name, justify="left" if name == "match" else "right")
    for report in reports:
        totals = report.figures.totals
        width, resolution = _point(report)
        measured = report.measured
        table.add_row(
            f"{width:g}",
            str(resolution),
            units.count(totals.params, exact),
            units.ratio(totals.params, ref.params),
            units.count(totals.macs, exact),
            units.ratio(totals.macs, ref.macs),
            units.count(totals.weights, exact),
            "-" if measured is None else units.count(measured.torchinfo_mult_adds, exact),
            MARKS[report.match],
        )
    return table


def _rows(reports: Sequence[Report], reference: NetworkFigures) -> list[list[Any]]:
    ref = reference.totals
    rows = []
    for report in reports:
        totals = report.figures.totals
        width, resolution = _point(report)
        rows.append([
            f"{width:g}", resolution, totals.params, f"{totals.params / ref.params:.4f}",
            totals.macs, f"{totals.macs / ref.macs:.4f}", totals.weights, totals.biases,
            totals.batchnorm, "" if report.match is None else report.match,
        ])  # fmt: skip
    return rows


_HEADER = ["width", "resolution", "params", "params_ratio", "macs", "macs_ratio", "weights",
           "biases", "batchnorm", "match"]  # fmt: skip


def sweep_csv(reports: Sequence[Report], reference: NetworkFigures) -> str:
    """One CSV row per point, exact integers."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(_HEADER)
    writer.writerows(_rows(reports, reference))
    return buffer.getvalue()


def sweep_markdown(
    reports: Sequence[Report], reference: NetworkFigures, exact: bool = False
) -> str:
    """One Markdown row per point."""
    lines = ["| " + " | ".join(_HEADER) + " |", "|" + " --- |" * len(_HEADER)]
    for row in _rows(reports, reference):
        cells = [
            units.count(v, exact) if isinstance(v, int) and not isinstance(v, bool) else str(v)
            for v in row
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
