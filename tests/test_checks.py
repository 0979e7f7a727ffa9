"""Checks between analytic and measured figures, and the optional plot."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcalc.cli import app
from convcalc.core.count.figures import analyze
from convcalc.core.documents.checks import build_checks
from convcalc.core.nets.layers import ConvSpec, conv_network
from convcalc.measure import probe

runner = CliRunner()


def test_build_checks_flags_each_disagreeing_figure() -> None:
    """A measurement that differs in params and shape fails exactly those checks."""
    figures = analyze(conv_network(ConvSpec(4, 8, groups=2, input=(16, 16))))
    measured = probe.measure(figures, "cpu")
    wrong = dataclasses.replace(measured, params=measured.params + 1, output_shape=(1, 8, 1, 1))
    failed = {c.figure for c in build_checks(figures, wrong) if not c.ok}
    assert failed == {"params", "output_shape"}


@pytest.mark.skipif(
    importlib.util.find_spec("matplotlib") is not None, reason="matplotlib is installed"
)
def test_plot_without_matplotlib_exits_3(tmp_path: Path) -> None:
    """--plot needs matplotlib: without matplotlib, one line with the hint, exit 3."""
    target = tmp_path / "sweep.png"
    result = runner.invoke(
        app, ["mobilenet", "--width", "0.5,1", "--no-verify", "--plot", str(target)]
    )
    assert result.exit_code == 3
    assert "pip install matplotlib" in result.stderr
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
