"""How reports read: folded rows, shapes a reader can follow, tables at 80 columns.

Rendered as a pipe sees them (a colourless console of a fixed width); the golden
files of both widths are in tests/test_golden.py.
"""

from __future__ import annotations

import csv
import io

import pytest
import torch
from rich.console import Console
from torch import nn

import convcalc
from convcalc import Report
from convcalc.core.count.conventions import ASPECTS, CONVENTIONS
from convcalc.core.documents.catalogue import CATALOGUE, Figure
from convcalc.render import rows as render_rows
from convcalc.render import text, units
from convcalc.render.conventions import conventions_table
from convcalc.render.rows import layer_rows, summary_rows
from convcalc.render.table import report_table


def shown(renderable: object, width: int) -> str:
    """What a pipe of ``width`` columns gets."""
    console = Console(width=width, file=io.StringIO(), color_system=None)
    console.print(renderable)
    output = console.file
    assert isinstance(output, io.StringIO)
    return output.getvalue()


class Twice(nn.Module):
    """A conv block called at two places: ``body(body(stem(x)))``."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.body = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.ReLU())
        self.head = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.body(self.body(self.stem(x)))
        logits: torch.Tensor = self.head(x.mean((2, 3)))
        return logits


class Tokens(nn.Module):
    """A sequence model: 77 tokens of 512 features, projected to 256, normalised, to 10."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(512, 256)
        self.norm = nn.LayerNorm(256)
        self.out = nn.Linear(256, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.out(self.norm(self.proj(x)))
        return logits


def profiled(model: nn.Module, shape: tuple[int, ...]) -> Report:
    return convcalc.profile(model, input_shape=shape, verify=False)


@pytest.fixture(scope="module")
def twice() -> Report:
    return profiled(Twice(), (1, 3, 16, 16))


def test_a_module_called_twice_folds_into_one_row_per_call(twice: Report) -> None:
    """``--fold 1``: the two calls of ``body`` stay two rows, the second one's weights
    shared, and the folded rows still sum to the totals."""
    rows = layer_rows(twice, depth=1)
    names = [row["name"] for row in rows]
    assert names.count("body") == 1, names
    assert names.count("body@2") == 1, names
    body, again = (next(r for r in rows if r["name"] == n) for n in ("body", "body@2"))
    assert body["macs"] == again["macs"] > 0
    assert body["params"] > 0
    assert again["shared"]
    totals = twice.figures.totals
    for figure in ("params", "macs", "elementwise_ops", "torchinfo_mult_adds"):
        assert sum(row[figure] for row in rows) == getattr(totals, figure), figure


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_folded_rows_sum_to_the_totals_at_every_depth(twice: Report, depth: int) -> None:
    """Every node sits in exactly one folded row."""
    rows = layer_rows(twice, depth=depth)
    assert sum(row["macs"] for row in rows) == twice.figures.totals.macs
    assert sum(row["params"] for row in rows) == twice.figures.totals.params
    assert len({row["name"] for row in rows}) == len(rows)


def test_a_sequence_model_shows_its_shapes_not_the_token_count() -> None:
    """A Linear on 1 x 77 x 512 reads ``77x512 -> 77x256`` (it read ``77 -> 77``)."""
    rows = {row["name"]: row for row in layer_rows(profiled(Tokens(), (1, 77, 512)))}
    assert rows["proj"]["channels"] == "77x512 -> 77x256"
    assert rows["norm"]["channels"] == "77x256 -> 77x256"
    assert rows["out"]["channels"] == "77x256 -> 77x10"


def test_images_show_their_channels_and_a_pool_to_a_vector_its_shapes(twice: Report) -> None:
    """Images keep ``Cin -> Cout`` (their sizes are in the output column); a global pool
    to a vector shows both shapes."""
    rows = {row["name"]: row for row in layer_rows(twice)}
    assert rows["stem"]["channels"] == "3 -> 8"
    assert rows["stem"]["output"] == "16x16"
    assert rows["mean"]["channels"] == "8x16x16 -> 8"
    assert rows["head"]["channels"] == "8 -> 4"


def seed_conv() -> Report:
    """``convcalc conv --cin 4 --cout 8 --groups 2``, analytic."""
    return convcalc.analyze(convcalc.conv(4, 8, groups=2))


@pytest.mark.parametrize("width", [80, 120, 160, 200])
def test_no_line_ends_with_a_space(width: int) -> None:
    """Titles, captions and wrapped lines carry no trailing blanks at any width."""
    report = profiled(Tokens(), (1, 77, 512))
    for renderable in (report_table(seed_conv()), report_table(report), conventions_table()):
        lines = shown(renderable, width).splitlines()
        assert [line for line in lines if line != line.rstrip()] == []


def test_the_seed_conv_reads_at_80_columns() -> None:
    """At 80 columns each quantity is one line, its formula whole on the line under it."""
    text = shown(report_table(seed_conv()), 80)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert len(lines) <= 32, text  # it took 47 lines, formulas broken across 3-5 of them
    assert "    8 x (4/2) x 3 x 3 + 8 = 152" in lines
    assert "    1 x 222 x 222 x 8 x (4/2) x 3 x 3 = 7,096,896" in lines
    assert any(line.startswith("params ") and line.split()[1] == "152" for line in lines)


def test_the_seed_conv_keeps_its_boxed_table_when_wide() -> None:
    """A wide terminal keeps the full table, formula column included."""
    text = shown(report_table(seed_conv()), 160)
    assert "┃ quantity" in text
    assert "formula" in text
    assert any("│ 8 x (4/2) x 3 x 3 + 8 = 152" in line for line in text.splitlines())


def test_the_conventions_read_at_80_columns() -> None:
    """At 80 columns the conventions come one block each, every word whole (no ``…``)."""
    text = shown(conventions_table(), 80)
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    flat = " ".join(text.split())
    for convention in CONVENTIONS.values():
        assert f"{convention.name}: {convention.counts[ASPECTS[0]]}" in flat
        for aspect in ASPECTS[1:]:
            assert " ".join(convention.counts[aspect].split()) in flat, (convention.name, aspect)


def test_the_conventions_keep_their_table_where_it_fits() -> None:
    """A terminal wide enough for every word keeps the table, one column per convention."""
    text = shown(conventions_table(), 400)
    header = next(line for line in text.splitlines() if "┃ counts" in line)
    assert all(name in header for name in CONVENTIONS)


def drawn_mobilenet() -> Report:
    """A small MobileNet with its roofline drawn on a device, fused (every figure shown)."""
    from convcalc.pipeline import Request, run

    request = Request(convcalc.mobilenet(width=0.25, resolution=32), verify=False,
                      hardware="h100-sxm", fused=True)  # fmt: skip
    report = run(request).report
    assert isinstance(report, Report)
    return report


def test_summary_rows_follow_the_catalogue() -> None:
    """The summary shows each figure of the catalogue once, in its order (elementwise
    ops too where there are any; the roofline's where a device or --fused was asked
    for), before what only a table shows."""
    report = drawn_mobilenet()
    names = [row.figure for row in summary_rows(report)]
    figures = [name for name in names if name in CATALOGUE]
    # a measurement's rows come with --measure-time (tests/measure/test_timing.py)
    assert figures == [name for name in CATALOGUE.names if not CATALOGUE[name].measured]
    assert names[: len(figures)] == figures
    plain = [row.figure for row in summary_rows(convcalc.analyze(convcalc.mobilenet()))]
    assert "bytes_moved" not in plain
    assert "time_bound" not in plain


def test_a_new_figure_needs_no_change_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """A figure added to the catalogue is a row of the table, CSV and Markdown, its value
    read from the document, with no rule of its own in render.rows."""
    added = Figure("macs_per_sample", "MACs", "MACs of one sample.", ("per_sample", "macs"))
    monkeypatch.setattr(render_rows, "CATALOGUE", CATALOGUE.with_figure(added))
    report = convcalc.analyze(convcalc.conv(4, 8, batch=3, input=8))
    row = next(row for row in summary_rows(report) if row.figure == "macs_per_sample")
    assert row.analytic * 3 == report.macs
    assert row.label == "MACs"
    assert f"total,macs_per_sample,{report.macs // 3}," in text.to_csv(report)
    assert f"| MACs | {units.count(report.macs // 3)} |" in text.to_markdown(report)


def test_csv_has_each_per_layer_figure_and_its_layers_sum_to_the_total() -> None:
    """Each per-layer figure of the catalogue is a CSV row per layer; the counts of the
    layers sum to the total row."""
    report = drawn_mobilenet()
    lines = list(csv.DictReader(io.StringIO(text.to_csv(report))))
    total = {line["figure"]: line["analytic"] for line in lines if line["scope"] == "total"}
    for figure in CATALOGUE:
        if not figure.layer or figure.measured:  # --measure-time's: tests/measure
            continue
        values = [line["analytic"] for line in lines
                  if line["scope"] != "total" and line["figure"] == figure.name]  # fmt: skip
        assert len(values) == len(layer_rows(report)), figure.name
        if figure.kind == "count":
            assert sum(int(v) for v in values) == int(total[figure.name]), figure.name
