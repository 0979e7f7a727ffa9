"""Reports as Rich renderables (the default ``table`` format)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from convcalc.core.documents.report import CompareReport, Report
from convcalc.render import units
from convcalc.render.fit import Fit
from convcalc.render.rows import (
    COMPARE_HEADER,
    ROOFLINE_HEADER,
    TIMING_HEADER,
    compare_cells,
    layer_rows,
    roofline_cells,
    rows_title,
    summary_rows,
    timing_cells,
)

MARKS = {True: Text("✓", style="green"), False: Text("✗", style="bold red"), None: Text("")}
BAR_WIDTH = 12

# Columns left out first when a table is wider than the terminal (render.fit).
LAYER_DROPS = ("share of MACs", "element-wise", "torchinfo mult-adds", "RF", "type", "kernel",
               "output", "in -> out")  # fmt: skip
SUMMARY_DROPS = ("formula",)
COMPARE_DROPS = ("output", "torchinfo mult-adds", "kind")


def report_table(
    report: Report, exact: bool = False, *, depth: int | None = None, top: int | None = None
) -> RenderableType:
    """Totals with formulas; for several layers, a per-layer table first."""
    parts: list[RenderableType] = []
    if len(report.figures.layers) > 1:
        parts.append(
            Fit(
                layers_table(report, exact, depth=depth, top=top),
                LAYER_DROPS,
                whole=["share of MACs"],
            )
        )
    roofline = roofline_cells(report, exact, depth=depth, top=top)
    if roofline is not None:
        grid = Table(title=roofline[0], title_justify="default")
        for name in ROOFLINE_HEADER:
            grid.add_column(name, justify="left" if name in ("layer", "bound") else "right")
        for cells in roofline[1]:
            grid.add_row(*cells)
        parts.append(Fit(grid, ("share of time", "FLOPs")))
    timing = timing_cells(report, depth=depth, top=top)
    if timing is not None:  # --measure-time
        grid = Table(title=timing[0], title_justify="default")
        for name in TIMING_HEADER:
            grid.add_column(name, justify="left" if name == "layer" else "right")
        for cells in timing[1]:
            grid.add_row(*cells)
        parts.append(Fit(grid, ("bytes/s", "FLOP/s")))
    parts.append(Fit(summary_table(report, exact), SUMMARY_DROPS, below="formula"))
    return Group(*parts)


def title(report: Report) -> str:
    """``conv: grouped (g=2), 1 x 4 x 224 x 224 -> 1 x 8 x 222 x 222``."""
    totals = report.figures.totals
    kind = f": {report.kind}" if report.kind else ""
    return (
        f"convcalc {report.command}{kind}, "
        f"{units.shape(totals.input_shape)} -> {units.shape(totals.output_shape)}"
    )


def summary_table(report: Report, exact: bool = False) -> Table:
    """One row per quantity: analytic, measured, match, formula with the numbers filled in."""
    device = (
        "measured (not verified)"
        if report.measured is None
        else f"measured ({report.measured.device})"
    )
    caption = "\n".join(report.not_compared_lines()) or None  # each reason, visible
    table = Table(title=title(report), title_justify="default", caption=caption,
                  caption_justify="default")  # fmt: skip
    table.add_column("quantity")
    table.add_column("analytic", justify="right")
    table.add_column(device, justify="right")
    table.add_column("match", justify="center")
    table.add_column("formula", overflow="fold")
    for row in summary_rows(report):
        table.add_row(
            row.label,
            row.cell(row.analytic, exact),
            row.cell(row.measured, exact),
            MARKS[row.match],
            row.formula,
        )
    return table


def layers_table(
    report: Report, exact: bool = False, *, depth: int | None = None, top: int | None = None
) -> Table:
    """A row per layer: shapes, params, MACs with a bar of their share, receptive field."""
    rows = layer_rows(report, depth=depth, top=top)
    table = Table(title=f"{report.command}: {rows_title(rows, depth, top)}",
                  title_justify="default")  # fmt: skip
    for name, justify in (
        ("#", "right"),
        ("layer", "left"),
        ("type", "left"),
        ("in -> out", "right"),
        ("kernel", "left"),
        ("output", "right"),
        ("params", "right"),
        ("MACs", "right"),
        ("share of MACs", "left"),
        ("element-wise", "right"),
        ("RF", "right"),
        ("torchinfo mult-adds", "right"),
        ("match", "center"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in rows:
        params = "shared" if row["shared"] else units.count(row["params"], exact)
        measured = row["measured_mult_adds"]
        if measured == 0 and row["elementwise_ops"]:
            measured = "not counted"
        table.add_row(
            str(row["index"]),
            row["name"],
            row["type"],
            row["channels"],
            row["description"],
            row["output"],
            params,
            units.count(row["macs"], exact),
            bar(row["share"]),
            units.count(row["elementwise_ops"], exact),
            row["receptive_field"],
            measured
            if isinstance(measured, str)
            else "-"
            if measured is None
            else units.count(measured, exact),
            MARKS[row["match"]],
        )
    totals = report.figures.totals
    table.add_section()
    table.add_row(
        "",
        "total",
        "",
        "",
        "",
        "",
        units.count(totals.params, exact),
        units.count(totals.macs, exact),
        "",
        units.count(totals.elementwise_ops, exact),
        "",
        "-" if report.measured is None else units.count(report.measured.torchinfo_mult_adds, exact),
        MARKS[report.match],
    )
    return table


def bar(share: float, width: int = BAR_WIDTH) -> str:
    """A bar of ``width`` cells, eighths included, and the share in percent."""
    eighths = round(share * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (" ▏▎▍▌▋▊▉"[part] if part else "")
    return f"{text:<{width}} {share * 100:5.1f}%"


def compare_table(comparison: CompareReport, exact: bool = False) -> RenderableType:
    """One row per variant, with ratios to the standard convolution."""
    table = Table(
        title=f"convcalc compare: the same cin -> cout, built {len(comparison.reports)} ways",
        title_justify="default",
    )
    for name in (*COMPARE_HEADER, "torchinfo mult-adds", "match"):
        justify = "left" if name in ("variant", "kind") else "right"
        table.add_column(name, justify="center" if name == "match" else justify)  # type: ignore[arg-type]
    for report in comparison.reports:
        measured = report.measured
        table.add_row(
            *compare_cells(comparison, report, exact),
            "-" if measured is None else units.count(measured.torchinfo_mult_adds, exact),
            MARKS[report.match],
        )
    return Fit(table, COMPARE_DROPS)
