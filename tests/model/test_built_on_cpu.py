"""A factory whose constructor runs a forward pass of its own that fails on meta, or
after which the constructor fails on meta (as ultralytics runs one to find its strides,
then reads them), is built on the CPU and traced there at once, with no meta attempt of
the forward; a constructor that fails on meta with no forward pass run (as torchvision's
RegNets do) is built on the CPU and still traced on meta."""

from __future__ import annotations

import torch
from torch import nn

import convcalc

DEVICES: list[str] = []  # the device of every forward pass the models below run


class Probed(nn.Module):
    """Its constructor runs its own forward on a probe image, which reads a value."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.stride = 16 // int(self(torch.zeros(1, 3, 16, 16)).shape[-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        DEVICES.append(x.device.type)
        y: torch.Tensor = self.conv(x)
        if float(y.detach().abs().amax()) > 1e30:  # a value read: no meta kernel for it
            return y * 0
        return y


class Strided(nn.Module):
    """Its constructor runs its forward on a probe image (which meta runs), then reads a
    value of the result outside it."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        probe = self(torch.zeros(1, 3, 16, 16))
        self.stride = torch.tensor(16.0) / probe.shape[-1]
        self.bias_shift = float(self.stride.log())  # meta has no value for it

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        DEVICES.append(x.device.type)
        y: torch.Tensor = self.conv(x)
        return y


class Counted(nn.Module):
    """Its constructor reads a value outside any forward pass."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.depth = int(torch.tensor(2.0).item())  # meta has no value for it

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        DEVICES.append(x.device.type)
        y: torch.Tensor = self.conv(x)
        return y


def test_a_constructors_failed_forward_runs_the_forward_on_the_cpu_at_once() -> None:
    """Built on the CPU (meta failed in its probe's forward): after the builds, the only
    forward pass is one on the CPU; the notices say why, the figures verify."""
    DEVICES.clear()
    said: list[str] = []
    report = convcalc.profile(Probed, input_shape=(1, 3, 32, 32), notify=said.append)
    built = DEVICES.index("cpu") + 1  # the meta build's probe failed, the CPU's ran
    assert DEVICES[:built] == ["meta", "cpu"]
    assert DEVICES[built:] == ["cpu"]  # no meta attempt; one pass for trace and torchinfo
    assert report.match
    assert report.measured is not None
    assert report.measured.device == "cpu"
    assert any("cannot be built on the meta device" in s for s in said), said
    assert any(
        "the forward pass cannot run on the meta device (Tensor.item)" in s
        and "ran it on the CPU instead" in s
        for s in said
    ), said
    assert any("read tensor values" in s for s in said), said


def test_a_constructors_own_failure_still_runs_the_forward_on_meta() -> None:
    """Built on the CPU for a value its constructor read outside any forward pass: the
    forward runs on meta as before (on a copy), nothing said about the forward."""
    DEVICES.clear()
    said: list[str] = []
    report = convcalc.profile(Counted, input_shape=(1, 3, 8, 8), notify=said.append)
    assert DEVICES == ["meta"]
    assert report.match
    assert report.measured is not None
    assert report.measured.device == "meta"
    assert any("cannot be built on the meta device" in s for s in said), said
    assert not any("forward pass cannot run" in s for s in said), said


def test_a_constructor_that_failed_after_its_forward_runs_the_forward_on_the_cpu() -> None:
    """Built on the CPU for a value its constructor read after running its forward on
    meta: the forward runs on the CPU at once (no meta attempt), and a notice says why."""
    DEVICES.clear()
    said: list[str] = []
    report = convcalc.profile(Strided, input_shape=(1, 3, 8, 8), notify=said.append)
    assert DEVICES == ["meta", "cpu", "cpu"]  # the two builds' probes, then one pass
    assert report.match
    assert report.measured is not None
    assert report.measured.device == "cpu"
    assert any("cannot be built on the meta device" in s for s in said), said
    assert any("constructor ran a forward pass on the meta device" in s for s in said), said
