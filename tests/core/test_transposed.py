"""Transposed convolutions: Dumoulin and Visin's relationships, the counts, the field.

V. Dumoulin and F. Visin, "A guide to convolution arithmetic for deep learning"
(2016), section 4: the transpose of a convolution with kernel k, stride s and
padding p on an input i (output o) is a convolution whose output is i again.
Their relationships, as convcalc computes them and as torch runs them.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from hypothesis import given
from hypothesis import strategies as st

import convcalc
from convcalc.core.geometry.shapes import (
    conv_output_size,
    input_field,
    transposed_field,
    transposed_output_size,
    transposed_reach,
)
from convcalc.core.ops.primitives import Conv
from convcalc.errors import InvalidSpecError


@st.composite
def _convolutions(draw: st.DrawFn) -> tuple[int, int, int, int]:
    """(i, k, s, p) of a convolution the transpose can undo: p <= k - 1."""
    k = draw(st.integers(1, 7))
    p = draw(st.integers(0, k - 1))
    s = draw(st.integers(1, 4))
    i = draw(st.integers(max(1, k - 2 * p), 20))
    return i, k, s, p


def test_no_padding_unit_strides() -> None:
    """Relationship 8: k=3, s=1, p=0 on i=4 gives o=2; its transpose is a full-padding
    conv (p' = k - 1 = 2) on o: o' = o + (k - 1) = 4 = i."""
    o = conv_output_size(4, 3, 1, 0, 1)
    assert o == 2
    assert transposed_output_size(o, 3, 1, 0, 1, 0) == 4
    assert conv_output_size(o, 3, 1, 3 - 1, 1) == 4


def test_zero_padding_unit_strides() -> None:
    """Relationship 9: k=4, s=1, p=2 on i=5 gives o=6; transpose: p' = k - p - 1 = 1,
    o' = o + (k - 1) - 2p = 5."""
    o = conv_output_size(5, 4, 1, 2, 1)
    assert o == 6
    assert transposed_output_size(o, 4, 1, 2, 1, 0) == 5 == o + (4 - 1) - 2 * 2
    assert conv_output_size(o, 4, 1, 4 - 2 - 1, 1) == 5


def test_half_and_full_padding() -> None:
    """Relationship 10 (half padding, k = 2n + 1, p = n): o' = o = i; relationship 11
    (full padding, p = k - 1): o = i + (k - 1) and its transpose gives i back."""
    assert conv_output_size(5, 3, 1, 1, 1) == 5 == transposed_output_size(5, 3, 1, 1, 1, 0)
    o = conv_output_size(5, 3, 1, 2, 1)
    assert o == 7
    assert transposed_output_size(o, 3, 1, 2, 1, 0) == 5


def test_non_unit_strides() -> None:
    """Relationship 12 (p = 0, s divides i - k): k=3, s=2 on i=5 gives o=2; the transpose
    is a conv on the stretched input (s - 1 zeros between units): o' = s(o - 1) + k = 5.
    Relationship 14 (padding, a = (i + 2p - k) mod s): k=3, s=2, p=1 on i=6 gives o=3 and
    a = 1, so o' = s(o - 1) + a + k - 2p = 6: torch's output_padding is that a."""
    assert conv_output_size(5, 3, 2, 0, 1) == 2
    assert transposed_output_size(2, 3, 2, 0, 1, 0) == 2 * (2 - 1) + 3 == 5
    assert conv_output_size(6, 3, 2, 1, 1) == 3
    a = (6 + 2 * 1 - 3) % 2
    assert a == 1
    assert transposed_output_size(3, 3, 2, 1, 1, a) == 2 * (3 - 1) + a + 3 - 2 * 1 == 6


@given(_convolutions())
def test_the_transpose_restores_the_input_size(case: tuple[int, int, int, int]) -> None:
    """For every convolution (i, k, s, p): with a = (i + 2p - k) mod s as the output
    padding, the transposed convolution of its output has size i, as relationship 14
    says, and torch agrees."""
    i, k, s, p = case
    o = conv_output_size(i, k, s, p, 1)
    a = (i + 2 * p - k) % s
    assert transposed_output_size(o, k, s, p, 1, a) == i == s * (o - 1) + a + k - 2 * p
    if a < s:  # torch's own bound (a < max(s, d)); a = (...) mod s always satisfies it
        out = F.conv_transpose1d(torch.zeros(1, 1, o), torch.zeros(1, 1, k), None, s, p, a)
        assert out.shape[-1] == i


@given(_convolutions())
def test_a_transposed_conv_is_a_direct_conv_on_the_stretched_input(
    case: tuple[int, int, int, int],
) -> None:
    """The equivalence itself, run in torch: s - 1 zeros between input units, k - p - 1
    zeros each side (a more after), a stride-1 conv with the flipped kernel: the same
    values as conv_transpose1d."""
    i, k, s, p = case
    o = conv_output_size(i, k, s, p, 1)
    a = (i + 2 * p - k) % s
    generator = torch.Generator().manual_seed(i * 1000 + k * 100 + s * 10 + p)
    x = torch.randn(1, 1, o, generator=generator, dtype=torch.float64)
    w = torch.randn(1, 1, k, generator=generator, dtype=torch.float64)
    transposed = F.conv_transpose1d(x, w, None, s, p, a)
    stretched = torch.zeros(1, 1, (o - 1) * s + 1, dtype=torch.float64)
    stretched[..., ::s] = x
    border = k - p - 1
    padded = F.pad(stretched, (border, border + a))
    direct = F.conv1d(padded, w.flip(-1))
    assert torch.allclose(transposed, direct)


def test_the_issue_example_counts_on_the_input() -> None:
    """4 -> 8, k3 s2 p1, output padding 1 on 32 x 32: output 64 x 64; 294,912 MACs
    (32 x 32 inputs x 4 channels x 8 outputs x 9 taps), 32,768 bias adds; torchinfo's rule
    counts every weight at every output: 296 x 64 x 64 = 1,212,416."""
    design = convcalc.conv(4, 8, 3, stride=2, padding=1, transposed=True, output_padding=1,
                           input=32)  # fmt: skip
    report = convcalc.analyze(design)
    assert report.output_shape == (1, 8, 64, 64)
    assert report.macs == 1 * 32 * 32 * 4 * 8 * 9 == 294_912
    assert report.totals.bias_adds == 8 * 64 * 64
    assert report.totals.torchinfo_mult_adds == 296 * 64 * 64 == 1_212_416
    measured = convcalc.verify(design, "cpu", cross_check=True)
    assert measured.match is True, measured.failed_checks
    assert measured.measured is not None
    assert measured.measured.flop_counter_flops == 2 * 294_912


def test_params_are_the_same_count_either_way() -> None:
    """A transposed weight is (cin, cout/g, *k): the same count of weights as the
    convolution it transposes (cout x cin/g); its bias is its own cout."""
    forward = Conv(6, 4, (3, 3), (2, 2), (1, 1), groups=2)
    backward = Conv(4, 6, (3, 3), (2, 2), (1, 1), groups=2, transposed=True)
    assert forward.weight_params == backward.weight_params == 4 * 3 * 9 == 108
    assert (forward.bias_params, backward.bias_params) == (4, 6)
    assert backward.params_formula() == "4 x (6/2) x 3 x 3 + 6 = 114"


@pytest.mark.parametrize(
    ("kernel", "stride", "dilation"), [(3, 2, 1), (4, 2, 1), (5, 3, 2), (2, 2, 1), (7, 2, 3)]
)
def test_transposed_field_is_what_an_output_unit_reads(
    kernel: int, stride: int, dilation: int
) -> None:
    """The field of a transposed conv's output units is the widest span of inputs one of
    them reads, found by back-propagating from every output in torch; units are 1/s apart."""
    size = 12
    x = torch.ones(1, 1, size, dtype=torch.float64, requires_grad=True)
    w = torch.ones(1, 1, kernel, dtype=torch.float64)
    y = F.conv_transpose1d(x, w, None, stride, 0, 0, 1, dilation)
    widest = 0
    for o in range(y.shape[-1]):
        (grad,) = torch.autograd.grad(y[0, 0, o], x, retain_graph=True)
        read = grad[0, 0].nonzero().flatten().tolist()
        if read:
            widest = max(widest, read[-1] - read[0] + 1)
    field = transposed_field(input_field((size,)), (kernel,), (stride,), (dilation,), (0,))
    assert field.size == (widest,) == (1 + transposed_reach(kernel, stride, dilation),)
    assert str(field.jump[0]) == f"1/{stride}"


def test_fractional_jumps_are_written_as_fractions() -> None:
    """After an upsampling by 2, units are 1/2 pixel apart: JSON writes "1/2"; a stride-2
    conv after it brings the jump back to a whole 1."""
    report = convcalc.analyze(convcalc.conv(2, 2, 4, stride=2, padding=1, transposed=True,
                                            input=8))  # fmt: skip
    assert report.to_dict()["analytic"]["jump"] == ["1/2", "1/2"]
    assert convcalc.analyze(convcalc.conv(2, 2, 3, input=8)).to_dict()["analytic"]["jump"] == [1, 1]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"stride": 2, "output_padding": 2}, "must be smaller than the stride or the dilation"),
        ({"padding": "same"}, "padding=same is not defined for a transposed"),
        ({"padding": 9, "input": 4}, "crops the transposed convolution's output"),
        ({"share_kernel": True, "groups": 4}, "no --transposed"),
    ],
)
def test_invalid_transposed_specs_say_why(changes: dict[str, object], message: str) -> None:
    """As torch refuses them, with the values given."""
    with pytest.raises(InvalidSpecError, match=message):
        convcalc.analyze(convcalc.conv(4, 8, 3, transposed=True, **changes))  # type: ignore[arg-type]
