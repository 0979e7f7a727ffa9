"""Properties of the analytic core over random specs (no torch: cheap, so many examples)."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcalc.core.count.figures import analyze
from convcalc.core.geometry.shapes import conv_output_size, effective_kernel
from convcalc.core.nets.layers import (
    COMPARE_VARIANTS,
    ConvSpec,
    compare_variant,
    conv_network,
    separable_network,
    standard_network,
)
from convcalc.core.ops.primitives import Conv2d
from convcalc.errors import InvalidSpecError
from tests.strategies import channels_and_groups, conv_specs


@given(
    channels_and_groups(),
    st.tuples(st.integers(1, 7), st.integers(1, 7)),
    st.tuples(st.integers(1, 3), st.integers(1, 3)),
)
def test_grouping_divides_params_by_g(
    channels: tuple[int, int, int], kernel: tuple[int, int], dilation: tuple[int, int]
) -> None:
    """Without bias, params(groups=g) * g == params(groups=1)."""
    cin, cout, g = channels
    grouped = Conv2d(cin, cout, kernel, dilation=dilation, groups=g, bias=False)
    standard = Conv2d(cin, cout, kernel, dilation=dilation, groups=1, bias=False)
    assert grouped.params * g == standard.params


@given(
    cin=st.integers(1, 64),
    cout=st.integers(1, 64),
    k=st.integers(1, 7),
    size=st.tuples(st.integers(1, 32), st.integers(1, 32)),
    batch=st.integers(1, 4),
)
def test_separable_to_standard_macs_ratio(
    cin: int, cout: int, k: int, size: tuple[int, int], batch: int
) -> None:
    """Depthwise-separable / standard MACs == 1/cout + 1/k^2 exactly (stride 1, same, no bias)."""
    spec = ConvSpec(cin, cout, kernel=(k, k), padding="same", bias=False, input=size, batch=batch)
    separable = analyze(separable_network(spec)).totals.macs
    standard = analyze(standard_network(spec)).totals.macs
    assert Fraction(separable, standard) == Fraction(1, cout) + Fraction(1, k * k)


@given(
    size=st.integers(1, 64),
    kernel=st.integers(1, 9),
    stride=st.integers(1, 5),
    padding=st.integers(0, 5),
    dilation=st.integers(1, 5),
)
def test_dilation_equals_its_effective_kernel(
    size: int, kernel: int, stride: int, padding: int, dilation: int
) -> None:
    """Output size with dilation d equals output size with the effective kernel and d = 1."""
    k_eff = effective_kernel(kernel, dilation)
    if k_eff > size + 2 * padding:
        for k, d in ((kernel, dilation), (k_eff, 1)):
            with pytest.raises(InvalidSpecError):
                conv_output_size(size, k, stride, padding, d)
        return
    dilated = conv_output_size(size, kernel, stride, padding, dilation)
    assert dilated == conv_output_size(size, k_eff, stride, padding, 1)
    # And it is the number of window positions along the padded axis, counted one by one.
    assert dilated == len(range(0, size + 2 * padding - k_eff + 1, stride))


@given(conv_specs(max_batch=1), st.integers(2, 9))
def test_counts_are_linear_in_batch(spec: ConvSpec, batch: int) -> None:
    """MACs, FLOPs, bias adds and torchinfo's mult-adds scale with N; params do not."""
    for name in COMPARE_VARIANTS:
        try:
            network = compare_variant(name, spec)
        except InvalidSpecError:
            continue  # depthwise variants need cout to be a multiple of cin
        one = analyze(network).totals
        many = analyze(compare_variant(name, replace(spec, batch=batch))).totals
        assert many.macs == batch * one.macs
        assert many.flops == batch * one.flops == 2 * many.macs
        assert many.bias_adds == batch * one.bias_adds
        assert many.torchinfo_mult_adds == batch * one.torchinfo_mult_adds
        assert many.params == one.params
        assert many.output_shape == (batch, *one.output_shape[1:])


@given(conv_specs())
def test_conv_figures_follow_the_closed_forms(spec: ConvSpec) -> None:
    """Every analysed conv obeys the DOMAIN.md closed forms for shape, params and MACs."""
    totals = analyze(conv_network(spec)).totals
    n, cout, h_out, w_out = totals.output_shape
    (kh, kw), (sh, sw), (dh, dw) = spec.resolved_kernel, spec.stride, spec.dilation
    if spec.padding == "same":
        assert (h_out, w_out) == spec.input
    else:
        padding = spec.resolved_padding
        assert not isinstance(padding, str)
        ph, pw = padding
        assert h_out == (spec.input[0] + 2 * ph - dh * (kh - 1) - 1) // sh + 1
        assert w_out == (spec.input[1] + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    assert (n, cout) == (spec.batch, spec.cout)
    assert totals.params == spec.cout * (spec.cin // spec.groups) * kh * kw + spec.cout * spec.bias
    assert totals.macs == n * h_out * w_out * cout * (spec.cin // spec.groups) * kh * kw
    assert totals.bias_adds == (n * cout * h_out * w_out if spec.bias else 0)


@given(cin=st.integers(1, 8), multiplier=st.integers(1, 4), spec=conv_specs())
def test_shared_kernel_divides_depthwise_params_by_cin(
    cin: int, multiplier: int, spec: ConvSpec
) -> None:
    """Shared-kernel depthwise has the MACs of depthwise and cin times fewer parameters."""
    base = replace(spec, cin=cin, cout=cin * multiplier, groups=cin)
    depthwise = analyze(conv_network(base)).totals
    shared = analyze(conv_network(replace(base, share_kernel=True))).totals
    assert shared.macs == depthwise.macs
    assert shared.params * cin == depthwise.params
    assert shared.output_shape == depthwise.output_shape


@given(st.data())
def test_a_layers_params_are_its_weights_biases_and_batchnorm(data: st.DataObject) -> None:
    """analyze reads each primitive's three kinds of parameters once and adds them: what
    every primitive's ``params`` is (no primitive counts its parameters otherwise)."""
    from convcalc.core.ops.primitives import Primitive
    from tests.strategies import PRIMITIVES

    def below(kind: type[Primitive]) -> set[type[Primitive]]:
        return {kind} | {c for sub in kind.__subclasses__() for c in below(sub)}

    assert all("params" not in vars(kind) for kind in below(Primitive) - {Primitive})
    op = data.draw(st.one_of(*PRIMITIVES.values()))
    assert op.params == op.weight_params + op.bias_params + op.batchnorm_params
