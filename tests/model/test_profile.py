"""convcalc.profile on models written here: hand-computed figures, and torch left as found."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

import convcalc
from convcalc.measure.trace import MARKED_METHODS, trace
from tests.model.nets import USER_FILE, Attention, Unknown, user_net_macs, user_net_params


@pytest.fixture
def user_file(tmp_path: Path) -> Path:
    """The user's own model file."""
    path = tmp_path / "net.py"
    path.write_text(USER_FILE, encoding="utf-8")
    return path


# The Tensor methods a trace wraps while it runs (measure/trace.MARKED_METHODS), as found.
_METHODS = {name: torch.Tensor.__dict__.get(name) for name in MARKED_METHODS}


def _hooks_left() -> int:
    """Global module hooks left, plus Tensor methods not as they were found."""
    module = nn.modules.module
    changed = sum(torch.Tensor.__dict__.get(name) is not was for name, was in _METHODS.items())
    return len(module._global_forward_hooks) + len(module._global_forward_pre_hooks) + changed


def test_file_target_with_args_by_hand(user_file: Path) -> None:
    """A file:factory target with arguments gives the hand-computed params and MACs, and
    every figure agrees with torchinfo and FlopCounterMode."""
    report = convcalc.profile(
        f"{user_file}:build", (1, 3, 160, 160), args={"width": 0.5}, cross_check=True
    )
    assert report.params == user_net_params(0.5) == 383
    assert report.macs == user_net_macs(0.5, 160)
    assert report.match is True, report.failed_checks
    assert report.output_shape == (1, 10)
    rows = {layer.group for layer in report.layers}
    assert "aux (not run)" in rows  # counted in params, shown as never run
    assert report.totals.not_counted == {}
    assert report.to_dict()["command"] == "model"


def test_functional_ops_are_attributed_to_their_module(user_file: Path) -> None:
    """x + y, x * gate and the class token are read as ops of the root module."""
    report = convcalc.profile(f"{user_file}:build", (2, 3, 8, 8))
    names = [layer.name for layer in report.layers]
    assert "stem" in names
    assert "head" in names
    assert "token" in names  # a parameter read as data
    elementwise = report.totals.elementwise
    assert elementwise["mul"] == 2 * 16 * 8 * 8
    assert elementwise["add"] == 2 * 16 * 8 * 8 + 2 * 16


def test_uncounted_ops_are_listed_never_zero() -> None:
    """An op with no formula is listed with how often it ran; the totals say partial."""
    report = convcalc.profile(Unknown(), (1, 3, 4, 4))
    assert report.totals.not_counted == {"logcumsumexp": 1}
    assert report.totals.partial
    assert report.to_dict()["analytic"]["partial"] is True
    assert report.macs == 4 * 4 * 4 * 3  # the conv is still counted


def test_attention_module_reads_as_projections_and_attention() -> None:
    """nn.MultiheadAttention: packed q/k/v projection, attention per head, output
    projection; MACs = L x 3E x E + 2 x L x L x E + L x E x E per sample."""
    length, embed = 10, 16
    report = convcalc.profile(Attention(embed, 4), (2, length, embed), cross_check=True)
    per_sample = length * 3 * embed * embed + 2 * length * length * embed + length * embed**2
    assert report.macs == 2 * per_sample
    assert report.params == 3 * embed * embed + 3 * embed + embed * embed + embed
    assert report.match is True, report.failed_checks


def test_the_users_model_is_left_as_it_was() -> None:
    """A CPU model is profiled on meta through a structural copy: its weights, device,
    training flag and the global hook tables are unchanged."""
    model = Unknown()
    model.train()
    before = model.conv.weight.detach().clone()
    convcalc.profile(model, (1, 3, 4, 4))
    assert model.training
    assert model.conv.weight.device.type == "cpu"
    assert torch.equal(model.conv.weight, before)
    assert _hooks_left() == 0


def test_the_trace_tells_how_each_call_was_made() -> None:
    """x.add(y), x + y, torch.add and F.relu: ptflops' default backend counts some of
    them and not others; the trace records which was which, and restores the Tensor
    methods it wraps to tell them apart."""

    class Calls(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = x.add(x) + x
            y = torch.add(y, 1).matmul(y) @ y
            return torch.nn.functional.relu(y.mul(2))

    recorded = trace(Calls(), (torch.ones(4, 4),))
    assert [(e.function, e.origin) for e in recorded.events] == [
        ("add", "method"), ("add", "Tensor"), ("add", "torch"), ("matmul", "method"),
        ("matmul", "Tensor"), ("mul", "method"), ("relu", "F"),
    ]  # fmt: skip
    assert _hooks_left() == 0


def test_nothing_is_left_behind_when_the_forward_fails() -> None:
    """A forward pass that raises is the user's error (exit 2), with no hook left."""

    class Broken(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise RuntimeError("this model is unfinished")

    model = Broken()
    model.train()
    with pytest.raises(convcalc.InvalidSpecError, match="RuntimeError: this model is unfinished"):
        convcalc.profile(model, (1, 3, 8, 8))
    assert _hooks_left() == 0
    assert model.training


def test_wrong_input_shape_names_the_users_error() -> None:
    """A shape the model cannot take: the user's exception type and message."""
    with pytest.raises(convcalc.InvalidSpecError, match="forward pass failed on a 1x5x8x8 input"):
        convcalc.profile(Unknown(), (1, 5, 8, 8))


def test_factories_classes_and_devices() -> None:
    """A module class is a factory; --device cpu builds and runs for real; float16 on meta
    converts the model convcalc built; anything else is refused with one message."""
    on_cpu = convcalc.profile(Unknown, (1, 3, 4, 4), device="cpu")
    assert on_cpu.measured is not None
    assert on_cpu.measured.device == "cpu"
    half = convcalc.profile(Unknown, (1, 3, 4, 4), input_dtype="float16")
    assert half.match is True, half.failed_checks
    assert half.figures.param_bytes == (4 * 3 + 4) * 2
    with pytest.raises(convcalc.InvalidSpecError, match="not a int"):
        convcalc.profile(42, (1, 3, 4, 4))


class _Bilinear(nn.Module):
    """x^T A y per output: an op convcalc has no formula for."""

    def __init__(self) -> None:
        super().__init__()
        self.mix = nn.Bilinear(6, 6, 4)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.mix(x, x))  # type: ignore[no-any-return]


def test_uncounted_work_is_not_compared_as_if_it_were_zero() -> None:
    """A bilinear layer (no formula): its params count, its work is listed, and no total
    of work is compared with torchinfo or FlopCounterMode (either could count it)."""
    report = convcalc.profile(_Bilinear(), (2, 6), cross_check=True)
    assert report.totals.not_counted == {"bilinear": 1}
    assert report.params == 6 * 6 * 4 + 4
    assert report.match is True, report.failed_checks
    skipped = {check.figure: check.reason for check in report.checks if not check.is_compared}
    assert set(skipped) == {"torchinfo_mult_adds", "flop_counter_flops", "mix.torchinfo_mult_adds"}
    assert all("bilinear" in reason for reason in skipped.values())
    act = report.check("act.torchinfo_mult_adds")
    assert act is not None
    assert act.verdict is True


@pytest.mark.parametrize(
    ("module", "shape"),
    [
        (nn.Conv3d(3, 4, 3, stride=(1, 2, 2), padding=1), (1, 3, 4, 6, 6)),
        (nn.Conv1d(3, 6, 5, dilation=2, groups=3), (2, 3, 20)),
        (nn.ConvTranspose2d(4, 8, 3, stride=2, padding=1, output_padding=1), (1, 4, 8, 8)),
        (nn.ConvTranspose3d(2, 4, 2, stride=2, groups=2, bias=False), (1, 2, 3, 4, 5)),
    ],
)
def test_every_convolution_is_read_and_counted(module: nn.Module, shape: tuple[int, ...]) -> None:
    """1-D, 3-D and transposed convolutions in a user's model are read and counted: every
    total agrees with torchinfo's rule and with FlopCounterMode."""
    report = convcalc.profile(nn.Sequential(module), shape, cross_check=True)
    assert not report.totals.partial
    assert report.match is True, [(c.figure, c.analytic, c.measured) for c in report.failed_checks]
    figures = {check.figure for check in report.checks}
    assert {"flop_counter_flops", "torchinfo_mult_adds"} <= figures
    assert report.layers[0].type == type(module).__name__
