"""Recurrent layers read from the trace: nn.LSTM, nn.GRU, nn.RNN and their cells, per gate
and per time step, against FlopCounterMode and the parameters torch holds."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

import convcalc
from convcalc.core.documents.report import Report


class First(nn.Module):
    """A recurrent module's first output (its sequence, or a cell's h), as a classifier
    reads it."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x: torch.Tensor) -> Any:
        out = self.layer(x)
        return out[0] if isinstance(out, tuple) else out


class Packed(nn.Module):
    """An LSTM over a padded batch packed by length, unpacked after."""

    def __init__(self, lengths: list[int]) -> None:
        super().__init__()
        self.lengths = lengths
        self.lstm = nn.LSTM(6, 5, batch_first=True, bidirectional=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(x, torch.tensor(self.lengths), batch_first=True)
        out, _ = self.lstm(packed)
        return pad_packed_sequence(out, batch_first=True)[0]


def _flop_counter_macs(model: nn.Module, shape: tuple[int, ...]) -> int:
    """FlopCounterMode's FLOPs / 2 of the model run on meta."""
    meta = model.to("meta").eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        meta(torch.zeros(shape, device="meta"))
    return int(counter.get_total_flops()) // 2


def _layer(report: Report) -> Any:
    (layer,) = [x for x in report.layers if x.type == "Recurrent"]
    return layer


@st.composite
def _recurrent(draw: st.DrawFn) -> tuple[nn.Module, tuple[int, ...]]:
    """A random nn.LSTM / GRU / RNN and an input for it (unbatched, or batch first or
    not)."""
    kind = draw(st.sampled_from(["LSTM", "GRU", "RNN"]))
    size, hidden = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    options: dict[str, Any] = {
        "num_layers": draw(st.integers(1, 3)),
        "bidirectional": draw(st.booleans()),
        "bias": draw(st.booleans()),
        "batch_first": draw(st.booleans()),
    }
    if kind == "LSTM" and hidden > 1 and draw(st.booleans()):
        options["proj_size"] = draw(st.integers(1, hidden - 1))
    if kind == "RNN":
        options["nonlinearity"] = draw(st.sampled_from(["tanh", "relu"]))
    steps, batch = draw(st.integers(1, 6)), draw(st.none() | st.integers(1, 4))
    if batch is None:  # unbatched: torch adds the batch itself
        return getattr(nn, kind)(size, hidden, **options), (steps, size)
    shape = (batch, steps, size) if options["batch_first"] else (steps, batch, size)
    return getattr(nn, kind)(size, hidden, **options), shape


@st.composite
def _cell(draw: st.DrawFn) -> tuple[nn.Module, tuple[int, ...]]:
    """A random nn.LSTMCell / GRUCell / RNNCell and a batch for it."""
    kind = draw(st.sampled_from(["LSTMCell", "GRUCell", "RNNCell"]))
    size, hidden = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    cell = getattr(nn, kind)(size, hidden, bias=draw(st.booleans()))
    return cell, (draw(st.integers(1, 4)), size)


@settings(max_examples=40, deadline=None)
@given(case=st.one_of(_recurrent(), _cell()))
def test_recurrent_macs_and_params_on_random_configs(
    case: tuple[nn.Module, tuple[int, ...]],
) -> None:
    """Every config (layers, directions, projection, bias, batch first, cells): MACs are
    FlopCounterMode's FLOPs / 2, params are the module's own, nothing is left uncounted."""
    layer, shape = case
    params = sum(p.numel() for p in layer.parameters())
    report = convcalc.profile(First(layer), shape, verify=False)
    assert report.totals.not_counted == {}
    assert report.params == params
    assert report.macs == _flop_counter_macs(First(layer), shape)


def test_lstm_per_gate_and_per_step_by_hand() -> None:
    """A 2-layer bidirectional LSTM, batch first, 7 steps of 3 samples: per step and
    direction 4 gates x H x (in + H) for each layer, the formula shown with its numbers."""
    lstm = nn.LSTM(10, 20, num_layers=2, bidirectional=True, batch_first=True)
    report = convcalc.profile(First(lstm), (3, 7, 10), cross_check=True)
    per_step = 4 * 20 * (10 + 20) + 4 * 20 * (2 * 20 + 20)
    assert report.macs == 7 * 3 * 2 * per_step == 302_400
    assert report.params == 2 * per_step + 2 * 2 * 2 * 4 * 20
    assert report.match is True, report.failed_checks
    layer = _layer(report)
    assert layer.output_shape == (3, 7, 40)
    assert layer.macs_formula == (
        "7 steps x 3 samples x 2 directions x (4 x 20 x (10 + 20) + 4 x 20 x (40 + 20)) "
        "[4 gates x H x (in + H)] = 302,400"
    )
    assert layer.bias_adds == 7 * 3 * 2 * 2 * (2 * 4 * 20)
    # per step and direction: 4 H sums of the two products + 1 H cell add; 3 H products;
    # 3 H sigmoids (i, f, o); 2 H tanh (g, c)
    steps = 7 * 3 * 2 * 2
    assert layer.elementwise == {"add": steps * 5 * 20, "mul": steps * 3 * 20,
                                 "sigmoid": steps * 3 * 20, "tanh": steps * 2 * 20}  # fmt: skip


def test_lstm_projection_reads_its_projected_state() -> None:
    """proj_size: each step reads back Hr = proj_size, and projects H to Hr (H x Hr MACs)."""
    lstm = nn.LSTM(10, 20, proj_size=5)
    report = convcalc.profile(First(lstm), (7, 3, 10), cross_check=True)
    assert report.macs == 7 * 3 * (4 * 20 * (10 + 5) + 20 * 5)
    assert report.output_shape == (7, 3, 5)
    assert report.match is True, report.failed_checks
    assert "4 gates x H x (in + Hr) + H x Hr" in _layer(report).macs_formula


@pytest.mark.parametrize(
    ("layer", "gates"), [(nn.GRU(8, 16, bias=False), 3), (nn.RNN(8, 16), 1)], ids=["gru", "rnn"]
)
def test_gru_and_rnn_gates_verify_against_torchinfo(layer: nn.Module, gates: int) -> None:
    """GRU (3 gates) and RNN (1): MACs by hand; torchinfo's own rule for weight_ih_l0 & co.
    (params x the output's first two sizes) agrees."""
    report = convcalc.profile(First(layer), (5, 2, 8), cross_check=True)
    assert report.macs == 5 * 2 * gates * 16 * (8 + 16)
    assert report.match is True, report.failed_checks


def test_cells_are_one_step() -> None:
    """nn.LSTMCell: one step of 4 gates; its h is the output, its c a free side result."""
    report = convcalc.profile(First(nn.LSTMCell(10, 20)), (3, 10), cross_check=True)
    assert report.macs == 3 * 4 * 20 * (10 + 20)
    assert report.output_shape == (3, 20)
    assert report.match is True, report.failed_checks
    assert _layer(report).macs_formula.startswith("3 samples x 4 x 20 x (10 + 20)")


def test_packed_sequences_count_the_steps_they_hold() -> None:
    """A packed batch of lengths 7, 5 and 3 runs 15 steps, not 3 x 7."""
    report = convcalc.profile(Packed([7, 5, 3]), (3, 7, 6), cross_check=True)
    assert report.totals.not_counted == {}
    assert report.macs == 15 * 2 * 4 * 5 * (6 + 5) == _flop_counter_macs(Packed([7, 5, 3]),
                                                                          (3, 7, 6))  # fmt: skip
    assert "15 packed steps" in _layer(report).macs_formula
    assert report.match is True, report.failed_checks


def test_a_module_called_twice_counts_its_weights_once() -> None:
    """One LSTM run on two sequences: its work twice, its parameters once."""

    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(4, 6)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            first: torch.Tensor = self.lstm(x)[0]
            second: torch.Tensor = self.lstm(x)[0]
            return first + second

    report = convcalc.profile(Twice(), (5, 2, 4), verify=False)
    assert report.params == sum(p.numel() for p in nn.LSTM(4, 6).parameters())
    assert report.macs == 2 * 5 * 2 * 4 * 6 * (4 + 6)


class _Ops(TorchDispatchMode):
    """Counts the ops torch dispatches."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.count = 0

    def __torch_dispatch__(
        self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None
    ) -> Any:
        self.count += 1
        return func(*args, **(kwargs or {}))


def _ops_and_report(layer: nn.Module, steps: int, **options: Any) -> tuple[int, Report]:
    batch_first = getattr(layer, "batch_first", False)
    shape = (2, steps, 6) if batch_first else (steps, 2, 6)
    with _Ops() as ops:
        report = convcalc.profile(First(layer), shape, **options)
    assert report.match is True, report.failed_checks
    assert report.totals.not_counted == {}
    run = First(copy.deepcopy(layer).to("meta"))(torch.zeros(shape, device="meta"))
    assert report.output_shape == tuple(run.shape)  # as torch runs it, step by step
    assert report.macs == _flop_counter_macs(First(copy.deepcopy(layer)), shape)  # (to meta)
    return ops.count, report


@pytest.mark.parametrize(
    "layer",
    [
        nn.LSTM(6, 5, num_layers=2, bidirectional=True, batch_first=True),
        nn.LSTM(6, 5, proj_size=3),
        nn.GRU(6, 5, num_layers=2),
        nn.RNN(6, 5, nonlinearity="relu", bidirectional=True),
    ],
    ids=["lstm", "lstm-proj", "gru", "rnn-relu"],
)
def test_a_fused_recurrent_layer_on_meta_is_read_not_run_step_by_step(layer: nn.Module) -> None:
    """On meta torch has no kernel for a fused LSTM/GRU/RNN and ran its gates step by step
    in Python references (a second per pass at 64 steps, and torch._dynamo's import): the
    trace and torchinfo now take its results' shapes, so the ops torch runs do not grow
    with the steps, with exact figures and every check passing; FlopCounterMode (which
    counts the gates) still runs them."""
    short, report = _ops_and_report(layer, 4)
    long, _ = _ops_and_report(layer, 40)
    assert long == short
    crossed_short, crossed = _ops_and_report(layer, 4, cross_check=True)
    crossed_long, _ = _ops_and_report(layer, 40, cross_check=True)
    assert crossed_long > crossed_short
    assert crossed.macs == report.macs
