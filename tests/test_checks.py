"""Checks and budgets: a disagreement or an exceeded budget exits 1 and says which figure."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from convcalc.cli import app
from convcalc.core.figures import analyze
from convcalc.core.layers import ConvSpec, conv_network
from convcalc.core.report import Measurement, build_checks
from convcalc.measure import probe

runner = CliRunner()


def test_build_checks_flags_each_disagreeing_figure() -> None:
    """A measurement that differs in params and shape fails exactly those checks."""
    figures = analyze(conv_network(ConvSpec(4, 8, groups=2, input=(16, 16))))
    measured = probe.measure(figures, "cpu")
    wrong = dataclasses.replace(measured, params=measured.params + 1, output_shape=(1, 8, 1, 1))
    failed = {c.figure for c in build_checks(figures, wrong) if not c.ok}
    assert failed == {"params", "output_shape"}


@pytest.fixture
def lying_measure(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make measurement report one parameter too many."""
    real = probe.measure

    def fake(*args: Any, **kwargs: Any) -> Measurement:
        measured = real(*args, **kwargs)
        return dataclasses.replace(measured, params=measured.params + 1)

    monkeypatch.setattr(probe, "measure", fake)


@pytest.mark.usefixtures("lying_measure")
def test_mismatch_exits_1_naming_the_figure() -> None:
    """The document is printed, then one line names the figure and both values; exit 1."""
    result = runner.invoke(
        app, ["conv", "--cin", "4", "--cout", "8", "-g", "2", "-i", "16", "--format", "json"]
    )
    assert result.exit_code == 1
    assert '"match": false' in result.stdout
    assert result.stderr.strip() == (
        "error: analytic and measured figures disagree: params analytic 152, measured 153"
    )


@pytest.mark.parametrize(
    ("option", "limit", "message"),
    [
        ("--max-params", "151", "params 152 > --max-params 151 (over by 1, 0.7%)"),
        ("--max-macs", "1K", "macs 2,304 > --max-macs 1,000 (over by 1,304, 130.4%)"),
        ("--max-flops", "4e3", "flops 4,608 > --max-flops 4,000 (over by 608, 15.2%)"),
    ],
)
def test_budget_exceeded_exits_1_with_the_excess(option: str, limit: str, message: str) -> None:
    """conv 4 -> 8, g=2, 3x3 on 6x6 (out 4x4): 152 params, 4 x 4 x 8 x 2 x 9 = 2,304 MACs."""
    args = ["conv", "--cin", "4", "--cout", "8", "-g", "2", "-i", "6", "--no-verify"]
    result = runner.invoke(app, [*args, option, limit])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: budget exceeded: {message}"


def test_budget_met_exits_0() -> None:
    """At the budget exactly is within it."""
    args = ["conv", "--cin", "4", "--cout", "8", "-g", "2", "-i", "6", "--no-verify"]
    result = runner.invoke(app, [*args, "--max-params", "152", "--max-macs", "2304"])
    assert result.exit_code == 0


@pytest.mark.skipif(
    importlib.util.find_spec("matplotlib") is not None, reason="matplotlib is installed"
)
def test_plot_without_matplotlib_exits_3(tmp_path: Path) -> None:
    """--plot needs the plot extra: without matplotlib, one line with the hint, exit 3."""
    target = tmp_path / "sweep.png"
    result = runner.invoke(
        app, ["mobilenet", "--width", "0.5,1", "--no-verify", "--plot", str(target)]
    )
    assert result.exit_code == 3
    assert "pip install 'convcalc[plot]'" in result.stderr
    assert not target.exists()


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None, reason="needs matplotlib")
def test_plot_writes_the_file(tmp_path: Path) -> None:
    """With matplotlib, --plot writes a PNG of the sweep."""
    target = tmp_path / "sweep.png"
    result = runner.invoke(
        app, ["mobilenet", "--width", "0.5,1", "--no-verify", "--plot", str(target)]
    )
    assert result.exit_code == 0
    assert target.read_bytes().startswith(b"\x89PNG")
