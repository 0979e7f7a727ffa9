"""No false alarm on what a module returns, nor on where a shared module ran: each module
call's output is the value the module returned (the tensor torchinfo sizes), never simply
its last op's (an unbatched LSTM squeezes h_n last); a module registered under several
parents is named, and folded, where its calling parent holds it."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812 - the usual torch alias
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import convcalc
from convcalc.core.documents.report import Report
from convcalc.measure.trace import reported_tensor, trace
from convcalc.render.rows import layer_rows
from tests.model.test_recurrent import First


def _clean(report: Report) -> None:
    assert report.match is True, [(c.figure, c.analytic, c.measured) for c in report.failed_checks]


@st.composite
def _unbatched(draw: st.DrawFn) -> tuple[nn.Module, tuple[int, ...]]:
    """A random nn.LSTM / GRU / RNN on an unbatched (T, I) sequence."""
    kind = draw(st.sampled_from(["LSTM", "GRU", "RNN"]))
    size, hidden = draw(st.integers(1, 8)), draw(st.integers(2, 8))
    options: dict[str, Any] = {"num_layers": draw(st.integers(1, 2)),
                               "bidirectional": draw(st.booleans()),
                               "bias": draw(st.booleans())}  # fmt: skip
    if kind == "LSTM" and draw(st.booleans()):
        options["proj_size"] = draw(st.integers(1, hidden - 1))
    return getattr(nn, kind)(size, hidden, **options), (draw(st.integers(2, 6)), size)


@settings(max_examples=6, deadline=None)
@given(case=_unbatched())
def test_an_unbatched_sequence_verifies_against_torchinfo(
    case: tuple[nn.Module, tuple[int, ...]],
) -> None:
    """(T, I) into nn.LSTM/GRU/RNN: torch runs it as (T, 1, I) and squeezes the sequence,
    then h_n; the call's output is the sequence (T, D x Hr), and torchinfo's rule for
    weight_ih_l0 & co. (params x prod(out[:2])) applies to it: every check agrees."""
    layer, shape = case
    report = convcalc.profile(First(layer), shape)
    _clean(report)
    check = report.check("layer.output_shape")
    assert check is not None
    assert check.analytic == report.output_shape == check.measured
    assert report.params == sum(p.numel() for p in layer.parameters())


class TwoResults(nn.Module):
    """A leaf module that returns its product and, made after it, the product's row sums
    (the call's last op is the sum; the module's first result, the product)."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(4, 3))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = F.linear(x, self.weight)
        return y, y.sum(-1)


class Named(nn.Module):
    """A leaf module that returns a dict, its last value made first: torchinfo sizes a
    dict by its last value."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(4, 3))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        total = x.sum(-1)
        return {"y": F.linear(x, self.weight), "total": total}


class Head(nn.Module):
    def __init__(self, leaf: nn.Module) -> None:
        super().__init__()
        self.leaf = leaf

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.leaf(x)
        first: torch.Tensor = out["y"] if isinstance(out, dict) else out[0]
        return first


def test_every_module_is_paired_by_what_it_returned() -> None:
    """Any module (not only recurrent ones): a tuple's first result and a dict's last
    value are the call's output, as torchinfo sizes them, whatever op ran last."""
    for leaf, expected in ((TwoResults(), (2, 5, 4)), (Named(), (2, 5))):
        report = convcalc.profile(Head(leaf), (2, 5, 3))
        _clean(report)
        check = report.check("leaf.output_shape")
        assert check is not None
        assert check.analytic == expected == check.measured


def test_the_reported_tensor_is_torchinfo_s() -> None:
    """The rule that picks a result's tensor, case by case."""
    a, b = torch.zeros(1), torch.zeros(2)
    assert reported_tensor(a) is a
    assert reported_tensor((a, (b, b))) is a
    assert reported_tensor([[b, a], a]) is b
    assert reported_tensor({"x": a, "y": (b, a)}) is b
    assert reported_tensor({}) is None
    assert reported_tensor(3) is None


class SharedActivation(nn.Module):
    """One SiLU registered in two blocks (ultralytics' ``Conv.default_act``), each block
    calling it."""

    def __init__(self) -> None:
        super().__init__()
        act = nn.SiLU()
        self.a = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), act)
        self.b = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(self.a(x))  # type: ignore[no-any-return]


def test_a_shared_module_is_attributed_to_the_parent_that_called_it() -> None:
    """The SiLU called by b is b.1 (the path b holds it by; the trace remembers it is
    a.1's module), verified against torchinfo's call under that name; folded by block,
    its work is in b's row, and no row is a.1's second call."""
    model = SharedActivation()
    recorded = trace(model, (torch.zeros(1, 3, 8, 8),))
    assert [call for call, _, _ in recorded.leaf_calls] == ["a.0", "a.1", "b.0", "b.1"]
    assert recorded.module_aliases == {"b.1": "a.1"}
    assert [e.call for e in recorded.events if e.function == "silu"] == ["a.1", "b.1"]
    report = convcalc.profile(model, (1, 3, 8, 8), cross_check=True)
    _clean(report)
    assert [x.name for x in report.layers] == ["a.0", "a.1", "b.0", "b.1"]
    rows = {row["name"]: row for row in layer_rows(report, depth=1)}
    assert list(rows) == ["a", "b"]
    silu = 4 * 8 * 8
    assert sum(x.elementwise_ops for x in report.layers if x.name.startswith("b.")) == silu
    assert rows["b"]["macs"] == sum(x.macs for x in report.layers if x.name.startswith("b."))


class Outer(nn.Module):
    """A block shared by two parents, holding its own activation: the block's children
    follow the block's path too."""

    def __init__(self) -> None:
        super().__init__()
        block = nn.Sequential(nn.Conv2d(4, 4, 1), nn.ReLU())
        self.first = nn.Sequential(nn.Conv2d(3, 4, 1), block)
        self.second = nn.Sequential(block)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.second(self.first(x))  # type: ignore[no-any-return]


def test_a_shared_block_s_children_follow_its_caller() -> None:
    """first.1 and second.0 are one block: its conv and ReLU run as first.1.* when
    first calls it and second.0.* when second does, and verify so."""
    model = Outer()
    recorded = trace(model, (torch.zeros(1, 3, 4, 4),))
    assert [call for call, _, _ in recorded.leaf_calls] == [
        "first.0", "first.1.0", "first.1.1", "second.0.0", "second.0.1"]  # fmt: skip
    report = convcalc.profile(model, (1, 3, 4, 4), cross_check=True)
    _clean(report)


def test_a_fused_lstm_on_the_cpu_is_not_compared_with_flop_counter() -> None:
    """On the CPU torch runs nn.LSTM as one fused kernel FlopCounterMode counts 0 for:
    --cross-check there says "not compared" with the reason, never a mismatch (exit 1);
    on meta it counts the gates and is compared."""
    model = First(nn.LSTM(3, 4))
    on_cpu = convcalc.profile(model, (5, 2, 3), cross_check=True, device="cpu")
    _clean(on_cpu)
    skipped = {c.figure: c.reason for c in on_cpu.checks if c.figure == "flop_counter_flops"}
    assert "fused kernel" in skipped["flop_counter_flops"]
    on_meta = convcalc.profile(model, (5, 2, 3), cross_check=True)
    _clean(on_meta)
    (compared,) = [c for c in on_meta.checks if c.figure == "flop_counter_flops"]
    assert compared.reason == ""
    assert compared.measured == 2 * on_meta.macs
