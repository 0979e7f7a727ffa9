"""Exact receptive fields after upsampling (core/geometry/reads.py), against what torch reads.

Every op here is linear with positive weights, so running a chain on the identity
(a batch of one-hot inputs) gives, for each output unit, exactly the input pixels
it reads: no cancellation can hide one. Random 1-D chains of convolutions, average
pools, transposed convolutions and resizes by whole factors are compared unit by
unit; the recurrence the field used before was wrong on about 1 in 5 of them.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import convcalc
from convcalc.core.geometry.shapes import (
    Field,
    input_field,
    local_field,
    merged_field,
    resampled_field,
    transposed_field,
    transposed_output_size,
)
from convcalc.errors import InvalidSpecError

LENGTH = 240  # input pixels: fields kept under a third of it are far from both edges

Op = tuple[Any, ...]


@st.composite
def _op(draw: st.DrawFn) -> Op:
    kind = draw(st.sampled_from(["conv", "pool", "transposed", "resize"]))
    if kind == "conv":
        k, d = draw(st.integers(1, 5)), draw(st.integers(1, 3))
        return kind, k, draw(st.integers(1, 3)), draw(st.integers(0, d * (k - 1) // 2)), d
    if kind == "pool":
        k = draw(st.integers(1, 4))
        return kind, k, draw(st.integers(1, 3)), draw(st.integers(0, k // 2))
    if kind == "transposed":
        s, d = draw(st.integers(1, 3)), draw(st.integers(1, 3))
        return (kind, draw(st.integers(1, 5)), s, draw(st.integers(0, 2)), d,
                draw(st.integers(0, max(s, d) - 1)))  # fmt: skip
    mode = draw(st.sampled_from(["nearest", "nearest-exact", "linear"]))
    return kind, mode, draw(st.integers(2, 3)), draw(st.booleans())


def _require(condition: bool) -> None:
    assert condition


def _run(ops: list[Op], assume: Callable[[bool], object] = assume) -> tuple[torch.Tensor, Field]:
    """The chain on every one-hot input at once (row b: input pixel b), and its field;
    ``assume`` rejects an op torch would refuse."""
    y = torch.eye(LENGTH, dtype=torch.float64).unsqueeze(1)
    field = input_field((LENGTH,))
    for op in ops:
        n = y.shape[-1]
        if op[0] == "conv":
            _, k, s, p, d = op
            assume(d * (k - 1) + 1 <= n + 2 * p)
            y = F.conv1d(y, torch.ones(1, 1, k, dtype=y.dtype), None, s, p, d)
            field = local_field(field, (k,), (s,), (d,), (2 * p,))
        elif op[0] == "pool":
            _, k, s, p = op
            assume(k <= n + 2 * p)
            y = F.avg_pool1d(y, k, s, p)
            field = local_field(field, (k,), (s,), (1,), (2 * p,))
        elif op[0] == "transposed":
            _, k, s, p, d, extra = op
            assume(transposed_output_size_or_none(n, k, s, p, d, extra) is not None)
            y = F.conv_transpose1d(y, torch.ones(1, 1, k, dtype=y.dtype), None, s, p, extra,
                                   1, d)  # fmt: skip
            field = transposed_field(field, (k,), (s,), (d,), (p,))
        else:
            _, mode, factor, up = op
            assume(up or n % factor == 0)  # whole ratios: the pattern is the tensor's
            out = n * factor if up else n // factor
            assume(1 <= out <= 2000)
            y = F.interpolate(y, size=out, mode=mode)
            field = resampled_field(field, (n,), (out,), mode)
    return y, field


def transposed_output_size_or_none(n: int, k: int, s: int, p: int, d: int, extra: int
                                   ) -> int | None:  # fmt: skip
    try:
        return transposed_output_size(n, k, s, p, d, extra)
    except InvalidSpecError:
        return None


def _widest(y: torch.Tensor) -> int:
    """The widest run of input pixels, first to last, one output unit reads."""
    read = y[:, 0, :] != 0  # (input pixel, output unit)
    pixels = torch.arange(read.shape[0]).unsqueeze(1)
    any_read = read.any(0)
    first = torch.where(read, pixels, read.shape[0]).min(0).values
    last = torch.where(read, pixels, -1).max(0).values
    return int((last - first + 1)[any_read].max()) if any_read.any() else 0  # reads none


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(st.lists(_op(), min_size=1, max_size=4))
def test_field_is_the_widest_unit_torch_runs(ops: list[Op]) -> None:
    y, field = _run(ops)
    assume(field.size[0] * 3 <= LENGTH)
    assert field.reads is not None  # no chain this short reaches the limit
    assume(y.shape[-1] >= 4 * field.reads[0].period + 2)  # every phase, away from the edges
    assert field.size[0] == _widest(y)
    assert field.reads[0].jump == field.jump[0]


def test_a_narrow_kernel_after_an_upsampling_reads_what_the_recurrence_misses() -> None:
    """A 3-tap, stride-2 transposed conv: even outputs read 2 inputs, odd ones 1. A
    2-tap conv after it pairs an even unit with an odd one: 2 inputs, where the
    rounded recurrence said ceil(2 + 1 x 1/2) = 3."""
    y, field = _run([("transposed", 3, 2, 0, 1, 0), ("conv", 2, 1, 0, 1)], _require)
    assert field.size == (2,) == (_widest(y),)
    assert field.exact
    recurrence = dataclasses.replace(input_field((LENGTH,)), reads=None)
    recurrence = transposed_field(recurrence, (3,), (2,), (1,), (0,))
    assert local_field(recurrence, (2,), (1,), (1,), (0,)).size == (3,)


def test_upsampling_then_a_stride_undoing_it_repeats_every_unit() -> None:
    """Nearest x2 then a 2-tap, stride-2 conv: each unit reads 1 input pixel again, 1
    apart; the pattern's period falls back to one unit."""
    y, field = _run([("resize", "nearest", 2, True), ("conv", 2, 2, 0, 1)], _require)
    assert field.size == (1,) == (_widest(y),)
    assert field.jump == (1,)
    assert field.reads is not None
    assert field.reads[0].period == 1


@pytest.mark.parametrize("mode", ["linear", "bicubic"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_resampling_reads_what_torch_source_index_picks(mode: str, align_corners: bool) -> None:
    """One resize of 2-D maps, per axis; with align_corners the ratio is (in-1)/(out-1).
    Bicubic's weights have both signs, so reads are found by gradient per unit."""
    size, out = (9, 12), (25, 17)
    x = torch.rand(1, 1, *size, dtype=torch.float64, requires_grad=True)
    y = F.interpolate(x, size=out, mode="bi" + mode.removeprefix("bi"),
                      align_corners=align_corners)  # fmt: skip
    widest = [0, 0]
    for i in range(out[0]):
        for j in range(out[1]):
            (grad,) = torch.autograd.grad(y[0, 0, i, j], x, retain_graph=True)
            rows, cols = grad[0, 0].nonzero(as_tuple=True)
            widest[0] = max(widest[0], int(rows.max() - rows.min() + 1))
            widest[1] = max(widest[1], int(cols.max() - cols.min() + 1))
    mode = "bicubic" if mode == "bicubic" else "bilinear"
    field = resampled_field(input_field(size), size, out, mode, align_corners)
    assert list(field.size) == widest


def _branches() -> list[tuple[torch.Tensor, Field]]:
    """Ways to upsample 32 pixels by 2 (transposed convs, resizes), each alone and
    followed by a stride-1 convolution: (output on the one-hot inputs, field)."""
    x = torch.eye(32, dtype=torch.float64).unsqueeze(1)
    base = input_field((32,))
    ups = [(F.conv_transpose1d(x, torch.ones(1, 1, k, dtype=x.dtype), None, 2, p),
            transposed_field(base, (k,), (2,), (1,), (p,)))
           for k in range(1, 6) for p in range(3) if 2 * p < k + 31]  # fmt: skip
    ups += [(F.interpolate(x, size=64, mode=mode), resampled_field(base, (32,), (64,), mode))
            for mode in ("nearest", "nearest-exact", "linear")]  # fmt: skip
    convs = [(F.conv1d(y, torch.ones(1, 1, k, dtype=x.dtype), None, 1, p),
              local_field(field, (k,), (1,), (1,), (2 * p,)))
             for y, field in ups for k in range(1, 4) for p in range(2)]  # fmt: skip
    return ups + convs


def test_branches_that_meet_read_what_either_reads() -> None:
    """Two ways to upsample, added (a decoder's skip connection): each unit reads what
    its operands' units read, aligned pixel for pixel, for every pair of the same size."""
    branches = _branches()
    pairs = 0
    for i, (ya, fa) in enumerate(branches):
        for yb, fb in branches[i + 1 :]:
            if ya.shape == yb.shape:
                pairs += 1
                assert merged_field((fa, fb)).size == (_widest(ya + yb),)
    assert pairs > 100


@pytest.mark.parametrize(
    ("kernel", "stride", "dilation"),
    [(10**12, 3, 2), (3, 10**12, 1), (10**9, 10**9 + 1, 7), (10**12, 2, 10**6)],
)
def test_huge_kernels_and_strides_cost_no_loop_over_their_taps(
    kernel: int, stride: int, dilation: int
) -> None:
    """A kernel or stride of a trillion used to loop over every tap (a hang on the
    command line); the read pattern only looks at the first and last cycle of taps."""
    start = time.perf_counter()
    field = transposed_field(input_field((4,)), (kernel,), (stride,), (dilation,), (0,))
    conv = local_field(input_field((10**13,)), (kernel,), (1,), (dilation,), (0,))
    assert time.perf_counter() - start < 5
    assert field.size[0] >= 1
    assert conv.size == (min(dilation * (kernel - 1) + 1, 10**13),)


def test_the_command_line_answers_a_huge_transposed_kernel_at_once() -> None:
    report = convcalc.analyze(convcalc.conv(1, 1, 9_999_999_999, stride=3, dilation=2,
                                            transposed=True, input=4))  # fmt: skip
    assert report.totals.receptive_field == (4, 4)  # every output reads the 4 inputs at most


def test_patterns_longer_than_the_limit_fall_back_to_the_recurrence() -> None:
    """Resizes by odd ratios multiply periods: past LIMIT units the field is the
    recurrence's again, not tracked."""
    field = input_field((5000,))
    for size, out in ((5000, 4999), (4999, 4993)):
        field = resampled_field(field, (size,), (out,), "linear")
    assert field.reads is None
    assert not field.exact
    assert field.size[0] >= 1


def test_pattern_jumps_match_the_field_jumps() -> None:
    """The read pattern moves ``step`` pixels every ``period`` units: the field's jump."""
    field = input_field((64,))
    field = transposed_field(field, (3,), (3,), (1,), (0,))
    field = local_field(field, (3,), (2,), (1,), (2,))
    assert field.reads is not None
    assert field.reads[0].jump == field.jump[0] == Fraction(2, 3)


def test_a_read_model_gets_the_exact_field() -> None:
    """Through ``convcalc.profile``: a stride-2 transposed conv then a 2-tap conv reads
    2 x 2 pixels (the recurrence said 3 x 3); an align_corners resize is read with its
    own source index (torch's align_corners argument reaches the primitive)."""
    from torch import nn

    model = nn.Sequential(nn.ConvTranspose2d(1, 1, 3, 2), nn.Conv2d(1, 1, 2))
    report = convcalc.profile(model, (1, 1, 16, 16), verify=False)
    assert report.totals.receptive_field == (2, 2)
    upsample = nn.Upsample(size=(25, 17), mode="bilinear", align_corners=True)
    report = convcalc.profile(upsample, (1, 1, 9, 12), verify=False)
    expected = resampled_field(input_field((9, 12)), (9, 12), (25, 17), "bilinear", True)
    assert report.totals.receptive_field == expected.size == (2, 2)
    assert report.totals.jump == expected.jump == (Fraction(8, 24), Fraction(11, 16))
    assert expected.reads is not None
    assert [r.jump for r in expected.reads] == list(expected.jump)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(st.lists(_op(), min_size=0, max_size=4))
def test_a_pointwise_window_keeps_the_field_as_the_general_rule_finds_it(ops: list[Op]) -> None:
    """A 1 x 1 window at stride 1 without padding returns its input's field as it is (a
    shortcut: start-up); the general rule, on every chain, finds the same field."""
    from convcalc.core.geometry import shapes

    _, field = _run(ops)
    shortcut = local_field(field, (1,), (1,), (1,), (0,))
    real = shapes._reads_its_own_unit
    try:
        shapes._reads_its_own_unit = lambda *_args: False
        general = local_field(field, (1,), (1,), (2,), (0,))
    finally:
        shapes._reads_its_own_unit = real
    assert shortcut == general
    assert (shortcut.reads, shortcut.exact, shortcut.whole) == (
        general.reads,
        general.exact,
        general.whole,
    )


@given(
    st.integers(1, 4), st.integers(-5, 5), st.integers(0, 6), st.booleans(),
    st.integers(1, 7), st.integers(1, 4), st.integers(1, 3), st.integers(0, 6),
)  # fmt: skip
def test_a_whole_pixel_pattern_takes_the_general_rule_s_answer_directly(
    step: int, first: int, width: int, reads_none: bool,
    kernel: int, stride: int, dilation: int, before: int,
) -> None:  # fmt: skip
    """Units a whole number of pixels apart (period 1, every net before an upsampling):
    a window and a merge answer from the one span, exactly as the general rule over
    the taps and phases does (``_mapped``, ``_union``)."""
    from convcalc.core.geometry import reads

    pattern = reads.Reads(1, step, (None if reads_none else (first, first + width),))
    general = reads._mapped(pattern, 1, stride, lambda o: reads._ends(
        o * stride - before, dilation, kernel, 1))  # fmt: skip
    assert reads.window(pattern, kernel, stride, dilation, before) == general
    other = reads.Reads(1, step, ((first - 1, first + width + 2),))
    spans = tuple(reads._union(p.at(o) for p in (pattern, other)) for o in range(1))
    assert reads.merged((pattern, other)) == reads.Reads(1, step, spans)
