"""A verified ``convcalc model`` runs the model's forward pass once: convcalc's trace
records the pass that torchinfo's summary runs, and nothing torchinfo does in it (its
hooks, its own calls) is recorded as the model's work or read as the model's values;
where torchinfo itself fails, the trace runs alone and torchinfo's failure is said as
before."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torchinfo
from torch import nn
from torch.nn.utils import prune
from torch.overrides import TorchFunctionMode

import convcalc
from convcalc.errors import EnvironmentUnavailableError, InvalidSpecError
from convcalc.measure.profile import _ValueReads
from convcalc.measure.trace import Trace, trace, tracing


class Small(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.head = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn(self.conv(x))) + 1
        out: torch.Tensor = self.head(y.mean((2, 3)))
        return out


def _counted(model: nn.Module) -> list[int]:
    """A forward pre-hook on ``model`` (the test's own) counting its calls; copies made
    of the model carry it too."""
    calls: list[int] = []
    model.register_forward_pre_hook(lambda _module, _args: calls.append(1))
    return calls


@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_a_verified_profile_runs_the_forward_once(device: str) -> None:
    """The trace and torchinfo's check share one forward pass, on either device; the
    figures still verify."""
    model = Small()
    calls = _counted(model)
    report = convcalc.profile(model, input_shape=(2, 3, 16, 16), device=device)
    assert report.match
    assert len(calls) == 1


def test_no_verify_and_cross_check_passes() -> None:
    """--no-verify makes the trace's one pass (torchinfo never runs); --cross-check adds
    FlopCounterMode's own."""
    model = Small()
    calls = _counted(model)
    convcalc.profile(model, input_shape=(1, 3, 8, 8), device="cpu", verify=False)
    assert len(calls) == 1
    calls.clear()
    report = convcalc.profile(model, input_shape=(1, 3, 8, 8), device="cpu", cross_check=True)
    assert report.match
    assert len(calls) == 2


def _pruned() -> nn.Module:
    """A model whose conv weight is pruned: torchinfo's hooks sum the mask and read the
    sum's value (``int(torch.sum(mask))``) to count its parameters."""
    model = Small()
    prune.l1_unstructured(model.conv, "weight", amount=0.5)  # type: ignore[no-untyped-call]
    return model


def _events(recorded: Trace) -> list[tuple[Any, ...]]:
    return [(e.function, e.module, e.call, [o.shape for o in e.outputs]) for e in recorded.events]


def test_torchinfos_hooks_are_not_traced() -> None:
    """The trace of the pass torchinfo runs holds the model's ops and no others (the
    mask's sum in torchinfo's hooks is not the model's), and no value read of theirs is
    noted; torchinfo's figures are its own (the pruned weight counted by its mask)."""
    model = _pruned()
    x = torch.rand(1, 3, 8, 8)
    alone = trace(model, (x,), {})
    reads = _ValueReads()
    with reads, tracing(model, (x,), {}, observed=True) as recording:
        stats = torchinfo.summary(model, input_data=[x], verbose=0, mode="eval", depth=100)
    observed = recording.finish(recording.output)
    assert _events(observed) == _events(alone)
    assert [v.shape for v in observed.outputs] == [v.shape for v in alone.outputs]
    assert reads.seen == []
    plain = torchinfo.summary(model, input_data=[x], verbose=0, mode="eval", depth=100)
    assert stats.total_params == plain.total_params
    assert stats.total_mult_adds == plain.total_mult_adds
    assert stats.total_params < sum(p.numel() for p in model.parameters())  # by the mask


def test_a_pruned_model_verifies_without_a_value_notice() -> None:
    """torchinfo's read of the mask's sum is not the model's: no notice that the
    forward read tensor values."""
    said: list[str] = []
    convcalc.profile(_pruned(), input_shape=(1, 3, 8, 8), device="cpu", notify=said.append)
    assert not [s for s in said if "read tensor values" in s]


class _Count(nn.Module):
    """A leaf module returning an int: torchinfo cannot size its output."""

    def forward(self, x: torch.Tensor) -> int:
        return 3


class _Odd(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.count = _Count()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.conv(x) * self.count(x)
        return out


def test_torchinfos_own_failure_is_said_as_before() -> None:
    """torchinfo failing in its hooks on a model that runs is torchinfo's failure (exit
    3), not the model's forward failing (exit 2)."""
    with pytest.raises(EnvironmentUnavailableError, match="torchinfo could not summarise"):
        convcalc.profile(_Odd(), input_shape=(1, 3, 8, 8), device="cpu")
    report = convcalc.profile(_Odd(), input_shape=(1, 3, 8, 8), device="cpu", verify=False)
    assert report.measured is None


class _Keyed(nn.Module):
    """A forward with a keyword input that shares a name with one of summary()'s options."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor, mode: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.linear(x + mode)
        return out


def test_a_keyword_input_named_as_torchinfos_option_is_said_after_the_trace() -> None:
    """torchinfo cannot take a keyword input named ``mode``: the trace runs alone and the
    run says so (exit 2); --no-verify traces it."""
    with pytest.raises(
        InvalidSpecError, match="torchinfo cannot pass a keyword input named 'mode'"
    ):
        convcalc.profile(_Keyed(), torch.rand(1, 4), mode=torch.rand(1, 4), device="cpu")
    report = convcalc.profile(
        _Keyed(), torch.rand(1, 4), mode=torch.rand(1, 4), device="cpu", verify=False
    )
    assert report.macs == 8


class _Seen(TorchFunctionMode):
    """A mode beneath the trace's that notes every call it is handed."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def __torch_function__(
        self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None
    ) -> Any:
        self.calls.append(getattr(func, "__name__", str(func)))
        return func(*args, **(kwargs or {}))


def _mode_stack() -> list[Any]:
    return list(torch.overrides._get_current_function_mode_stack())  # type: ignore[no-untyped-call]


def test_an_observed_forwards_modes_are_on_for_the_models_call_alone() -> None:
    """torchinfo's work before and after the forward (it sizes every parameter: thousands
    of ``size``/``numel`` calls on a real model) runs with no mode of the trace's on; the
    model's own call runs with all of them, beneath the recorder's included."""
    model = Small()
    x = torch.rand(1, 3, 8, 8)
    seen, outside = _Seen(), _Seen()
    with outside, tracing(model, (x,), {}, observed=True, beneath=(seen,)) as recording:
        torchinfo.summary(model, input_data=[x], verbose=0, mode="eval", depth=100)
    observed = recording.finish(recording.output)
    assert _events(observed) == _events(trace(model, (x,), {}))
    assert {"conv2d", "relu", "linear"} <= set(seen.calls)  # the model's own ops
    # torchinfo sized the parameters after the forward: the outer mode saw it, ours did not
    assert outside.calls.count("numel") > seen.calls.count("numel")
    assert _mode_stack() == []


class _Raises(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise ValueError("no")


@pytest.mark.parametrize("observed", [True, False])
def test_a_forward_that_raises_leaves_no_mode_on(observed: bool) -> None:
    """The modes pushed at the root's call end with the block when the forward raises."""
    model = _Raises()
    x = torch.rand(1, 3, 8, 8)
    with (
        pytest.raises(Exception, match=r"^no$|Failed to run torchinfo"),
        tracing(model, (x,), {}, observed=observed, beneath=(_Seen(),)),
    ):
        _run(model, x, observed)
    assert _mode_stack() == []


def _run(model: nn.Module, x: torch.Tensor, observed: bool) -> None:
    """The model called by torchinfo's summary (``observed``) or by itself."""
    if observed:
        torchinfo.summary(model, input_data=[x], verbose=0, mode="eval")
    else:
        model(x)


class _LeavesAMode(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.mode = _Seen()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.mode.__enter__()  # type: ignore[no-untyped-call]
        out: torch.Tensor = self.conv(x)
        return out


def test_a_mode_the_model_leaves_on_is_an_error_and_the_stack_is_restored() -> None:
    """A forward that pushes a mode and never pops it: the forward fails for it, torch's
    mode stack is left as the call found it, and the model keeps no hook of ours."""
    model = _LeavesAMode()
    x = torch.rand(1, 3, 8, 8)
    try:
        with (
            pytest.raises(Exception, match="torchinfo") as caught,  # (its wrapper of the hook's)
            tracing(model, (x,), {}, observed=True),
        ):
            torchinfo.summary(model, input_data=[x], verbose=0, mode="eval")
        assert "left a torch function mode" in str(caught.value.__cause__)
        assert _mode_stack() == []
        assert not model._forward_hooks
    finally:
        while _mode_stack():  # (only if the test fails: not to leak into the next ones)
            torch.overrides._pop_mode()  # type: ignore[no-untyped-call]


def test_a_profile_of_a_model_that_leaves_a_mode_on_fails_cleanly() -> None:
    """Through the pipeline (torchinfo's pass, then the trace alone): one error naming the
    mode, and torch's mode stack empty after."""
    try:
        with pytest.raises(InvalidSpecError, match="left a torch function mode"):
            convcalc.profile(_LeavesAMode(), input_shape=(1, 3, 8, 8), device="cpu")
        assert _mode_stack() == []
    finally:
        while _mode_stack():  # (only if the test fails: not to leak into the next ones)
            torch.overrides._pop_mode()  # type: ignore[no-untyped-call]
