"""Where the meta device cannot run a model's forward, it runs on the CPU, said in a
notice that names the call; a forward whose path read values says its figures hold for
the input it ran on; where nothing can run on the CPU, the error names ``--device cpu``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import convcalc
from convcalc.errors import InvalidSpecError

MODEL_FILE = '''
import torch
from torch import nn


class Branchy(nn.Module):
    """A heavy branch when the input sums positive, a light one otherwise."""

    def __init__(self):
        super().__init__()
        self.light = nn.Conv2d(3, 8, 1)
        self.heavy = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.Conv2d(64, 8, 3, padding=1))

    def forward(self, x):
        if x.sum() > 0:
            return self.heavy(x)
        return self.light(x)


def build():
    return Branchy()
'''


class Branchy(nn.Module):
    """A heavy branch when the input sums positive, a light one otherwise (27x apart)."""

    def __init__(self) -> None:
        super().__init__()
        self.light = nn.Conv2d(3, 8, 1)
        self.heavy = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.Conv2d(64, 8, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return self.heavy(x)  # type: ignore[no-any-return]
        return self.light(x)  # type: ignore[no-any-return]


class Kept(nn.Module):
    """Keeps the positions above a threshold: a size that depends on the values."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        index = torch.nonzero(x[:, 0] > 0.5).squeeze(1)
        return self.proj(x.index_select(0, index))  # type: ignore[no-any-return]


SIDE = 16
HEAVY_MACS = SIDE * SIDE * (64 * 3 * 9 + 8 * 64 * 9)  # by hand: the two 3 x 3 convs


def test_an_if_on_a_value_runs_on_the_cpu_on_seeded_inputs() -> None:
    """The meta device cannot take the if: the CPU runs it on uniform [0, 1) values (never
    zeros, which would take the light branch), and both notices are said."""
    said: list[str] = []
    model = Branchy()
    report = convcalc.profile(model, (1, 3, SIDE, SIDE), notify=said.append)
    assert report.macs == HEAVY_MACS
    assert report.match is True, report.failed_checks
    assert report.measured is not None
    assert report.measured.device == "cpu"
    assert any("cannot run on the meta device (Tensor.__bool__" in s for s in said), said
    assert any("read tensor values" in s and "hold for the input" in s for s in said), said
    assert all(s.startswith("notice: ") for s in said)
    assert model.training  # left as found


def test_a_factory_built_on_meta_is_built_again_on_the_cpu() -> None:
    """A factory's model has no values on meta: the factory runs again on the CPU."""
    said: list[str] = []
    report = convcalc.profile(Branchy, (2, 3, SIDE, SIDE), notify=said.append)
    assert report.macs == 2 * HEAVY_MACS
    assert report.match is True, report.failed_checks
    assert any("ran it on the CPU" in s for s in said), said


def test_a_model_given_on_meta_names_device_cpu() -> None:
    """Nothing to run on the CPU: one error that says which call and --device cpu."""
    with torch.device("meta"):
        model = Branchy()
    with pytest.raises(InvalidSpecError, match=r"Tensor\.__bool__.*--device cpu"):
        convcalc.profile(model, (1, 3, SIDE, SIDE))


def test_a_value_dependent_size_is_said_on_a_real_device() -> None:
    """``nonzero`` on the CPU: the figures are the input's own, and a notice says so."""
    said: list[str] = []
    report = convcalc.profile(Kept(), (6, 4), device="cpu", notify=said.append)
    assert report.match is True, report.failed_checks
    assert any("read tensor values (nonzero)" in s for s in said), said


def test_a_forward_that_reads_no_value_gets_no_notice() -> None:
    """An ordinary model on the CPU: no notice at all."""
    said: list[str] = []
    convcalc.profile(nn.Sequential(nn.Conv2d(3, 4, 3)), (1, 3, 8, 8), device="cpu",
                     notify=said.append)  # fmt: skip
    assert said == []


def test_the_command_line_falls_back_and_exits_0(tmp_path: Path) -> None:
    """``convcalc model file.py:build`` on the data-dependent model: exit 0, the heavy
    branch's MACs on stdout, the notices on stderr."""
    path = tmp_path / "branchy.py"
    path.write_text(MODEL_FILE, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "convcalc", "model", f"{path}:build", "--input-shape",
         f"1x3x{SIDE}x{SIDE}", "--value", "macs"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(HEAVY_MACS)
    assert "cannot run on the meta device" in run.stderr
    assert "Traceback" not in run.stderr
