"""Rendered tables and JSON compared with reviewed golden files (``pytest --update-golden``).

Reports are built through the library and verified on the CPU, so the files do
not depend on the machine's devices or terminal.
"""

from __future__ import annotations

import io

import pytest
from rich.console import Console

import convcalc
from convcalc import Design, Report
from convcalc.render import text
from convcalc.render.conventions import conventions_table
from convcalc.render.table import report_table
from tests.conftest import Golden
from tests.test_render import Tokens, Twice, profiled


def verified_report(design: Design) -> Report:
    """Analyse, measure on the CPU and compare, as the CLI does (without --cross-check)."""
    return convcalc.verify(design, "cpu")


def render(report: Report, exact: bool = False, width: int = 160, **fold: int) -> str:
    """The table as a colourless terminal (160 columns unless told) would show it."""
    return shown(report_table(report, exact, **fold), width)


def shown(renderable: object, width: int) -> str:
    """Any renderable as a colourless terminal of ``width`` columns would show it."""
    console = Console(width=width, file=io.StringIO(), color_system=None)
    console.print(renderable)
    output = console.file
    assert isinstance(output, io.StringIO)
    return output.getvalue()


def grouped_report() -> Report:
    """``convcalc conv --cin 4 --cout 8 --groups 2`` (SPEC.md's example), verified on the CPU."""
    return verified_report(convcalc.conv(4, 8, groups=2))


def test_grouped_conv_table(golden: Golden) -> None:
    """The grouped conv's table shows each figure, the match marks and the filled-in formulas."""
    rendered = render(grouped_report())
    # What a reader must see, whatever the layout: SPEC's formula and the hand-checked figures.
    assert "8 x (4/2) x 3 x 3 + 8 = 152" in rendered
    assert "1 x 222 x 222 x 8 x (4/2) x 3 x 3 = 7,096,896" in rendered
    assert "measured (cpu)" in rendered
    assert "✗" not in rendered
    golden.check("conv_grouped_4_8_g2.txt", rendered)


def test_grouped_conv_exact_table(golden: Golden) -> None:
    """--exact shows exact integers instead of K/M units."""
    rendered = render(grouped_report(), exact=True)
    assert "7,096,896" in rendered
    assert "7.1 M" not in rendered
    golden.check("conv_grouped_4_8_g2_exact.txt", rendered)


def test_grouped_conv_json(golden: Golden) -> None:
    """The grouped conv's JSON document (the contract) is stable."""
    document = text.to_json(grouped_report().to_dict())
    assert '"params": 152' in document
    golden.check("conv_grouped_4_8_g2.json", document)


def test_separable_table(golden: Golden) -> None:
    """The separable block's table shows a row per layer, their shares and the totals."""
    report = verified_report(convcalc.separable(16, 32, padding=1, input=64))
    rendered = render(report)
    assert "160 + 544 = 704" in rendered
    assert "✗" not in rendered
    golden.check("separable_16_32.txt", rendered)


def test_separable_markdown(golden: Golden) -> None:
    """The separable block as Markdown (per-layer table, then totals) is stable."""
    report = verified_report(convcalc.separable(4, 8, padding=1, bias=False, input=64))
    golden.check("separable_4_8.md", text.to_markdown(report))


def test_layers_table_total_row_lines_up() -> None:
    """The per-layer table's total row puts each total under its own column header."""
    from convcalc.render.table import layers_table

    report = verified_report(convcalc.separable(16, 32, padding=1, input=64))
    table = layers_table(report)
    total = {str(column.header): list(column.cells)[-1] for column in table.columns}
    assert total["layer"] == "total"
    assert total["params"] == "704"  # 160 + 544
    assert total["MACs"] == "2.7 M"  # 589,824 + 2,097,152
    # torchinfo: (144 + 16) x 4,096 + (512 + 32) x 4,096 = 2,883,584
    assert total["torchinfo mult-adds"] == "2.9 M"
    assert str(total["match"]) == "✓"
    assert total["RF"] == ""


def test_grouped_conv_table_at_80_columns(golden: Golden) -> None:
    """At 80 columns each quantity is one line with its formula on the line under it."""
    rendered = render(grouped_report(), width=80)
    assert "    8 x (4/2) x 3 x 3 + 8 = 152" in rendered.splitlines()
    assert max(len(line) for line in rendered.splitlines()) <= 80
    golden.check("conv_grouped_4_8_g2_80.txt", rendered)


@pytest.mark.parametrize("width", [80, 120, 200])
def test_conventions_table(golden: Golden, width: int) -> None:
    """What each --convention counts: one table where every word fits (200), two tables
    (120), one block per convention (80)."""
    rendered = shown(conventions_table(), width)
    assert "…" not in rendered
    assert max(len(line) for line in rendered.splitlines()) <= width
    golden.check(f"conventions_{width}.txt", rendered)


@pytest.mark.parametrize("width", [80, 160])
def test_module_called_twice_folded(golden: Golden, width: int) -> None:
    """``--fold 1`` of ``body(body(stem(x)))``: body and body@2, the second one shared."""
    rendered = render(profiled(Twice(), (1, 3, 16, 16)), width=width, depth=1)
    assert "body@2" in rendered
    golden.check(f"model_twice_fold1_{width}.txt", rendered)


def test_sequence_model_table(golden: Golden) -> None:
    """A sequence model's rows show token x feature shapes in ``in -> out``."""
    rendered = render(profiled(Tokens(), (1, 77, 512)))
    assert "77x512 -> 77x256" in rendered
    golden.check("model_tokens_77x512.txt", rendered)
