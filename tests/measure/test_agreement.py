"""Analytic figures equal what torch, torchinfo and FlopCounterMode measure on the real module."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from convcalc.core.count.figures import analyze
from convcalc.core.documents.checks import build_checks
from convcalc.core.nets.graph import Network
from convcalc.core.nets.layers import COMPARE_VARIANTS, ConvSpec, compare_variant, conv_network
from convcalc.core.ops import traced as O  # noqa: N812 - as in the build table
from convcalc.core.ops import vision as V  # noqa: N812
from convcalc.errors import InvalidSpecError
from convcalc.measure.probe import measure
from tests.measure.built import INT8_DEPRECATED, build_case, one_node
from tests.seeds import SEED_CASES, SeedCase, seed_network
from tests.strategies import (
    TRACEABLE,
    Traced,
    conv_specs,
    depthwise_specs,
    family_specs,
    measured_examples,
)


def assert_agrees(network: Network, dtype: str = "float32", device: str = "cpu") -> None:
    """Measure (on the CPU) with the FlopCounterMode cross-check; every check must agree."""
    figures = analyze(network, dtype)
    measured = measure(figures, device, cross_check=True)
    checks = build_checks(figures, measured)
    failed = [c.to_dict() for c in checks if not c.ok]
    assert not failed, failed
    # The figures the checks compare, stated outright so a dropped check is noticed.
    totals = figures.totals
    assert measured.params == totals.params
    assert measured.output_shape == totals.output_shape
    assert measured.flop_counter_flops == 2 * totals.macs
    assert measured.torchinfo_mult_adds == totals.torchinfo_mult_adds
    assert len(measured.layers) == len(figures.layers)
    assert measured.device == device


# Specs every variant is measured on: strided, rectangular, dilated, same, valid, batched, global.
VARIANT_SPECS = {
    "plain": ConvSpec(4, 8, groups=2, input=(16, 16)),
    "strided-rect": ConvSpec(4, 8, kernel=(3, 1), stride=(2, 1), padding=(1, 0), input=(9, 7)),
    "dilated": ConvSpec(2, 6, kernel=(3, 3), dilation=(2, 3), groups=2, input=(11, 12), batch=2),
    "same-even": ConvSpec(3, 6, kernel=(2, 4), padding="same", bias=False, input=(6, 5)),
    "valid": ConvSpec(
        6, 12, kernel=(5, 5), stride=(3, 3), padding="valid", groups=3, input=(13, 13)
    ),
    "global": ConvSpec(4, 8, kernel="global", groups=4, input=(5, 6), batch=3),
}


@pytest.mark.parametrize("name", list(COMPARE_VARIANTS))
@pytest.mark.parametrize("spec_id", list(VARIANT_SPECS))
def test_every_registered_variant_agrees(name: str, spec_id: str) -> None:
    """Each entry of COMPARE_VARIANTS measures exactly as analysed, on specs of every shape."""
    network = compare_variant(name, VARIANT_SPECS[spec_id])
    assert_agrees(network)


def test_variant_params_by_hand_are_measured() -> None:
    """The hand-computed params of each variant (4 -> 8, 3x3, bias, g=2) are what torch counts."""
    expected = {
        "standard": 296,
        "grouped": 152,
        "depthwise": 80,
        "depthwise-separable": 80,
        "spatially-separable": 156,
        "shared-kernel": 20,
    }
    spec = VARIANT_SPECS["plain"]
    for name, params in expected.items():
        measured = measure(analyze(compare_variant(name, spec)), "cpu")
        assert measured.params == measured.torchinfo_params == params, name


@pytest.mark.parametrize("case", SEED_CASES, ids=lambda case: case.id)
def test_seed_case_measures_as_expected(case: SeedCase) -> None:
    """Each worked example's expected params and shape are what torch itself counts."""
    figures = analyze(seed_network(case))
    measured = measure(figures, "cpu", cross_check=True)
    assert all(check.ok for check in build_checks(figures, measured))
    assert measured.params == case.expect["params"]
    if "output_shape" in case.expect:
        assert list(measured.output_shape) == case.expect["output_shape"]
    if "macs" in case.expect:
        assert measured.flop_counter_flops == 2 * case.expect["macs"]


@pytest.mark.parametrize("dtype", ["float64", "float16", "bfloat16"])
def test_other_dtypes_agree(dtype: str) -> None:
    """Parameter and input bytes follow the dtype, and torch agrees in each."""
    network = conv_network(ConvSpec(4, 8, groups=2, input=(8, 8)))
    assert_agrees(network, dtype)
    measured = measure(analyze(network, dtype), "cpu")
    size = {"float64": 8, "float16": 2, "bfloat16": 2}[dtype]
    assert measured.param_bytes == 152 * size
    assert measured.input_bytes == 4 * 8 * 8 * size


@settings(max_examples=measured_examples())
@given(conv_specs())
def test_random_convs_agree(spec: ConvSpec) -> None:
    """Analytic shapes, params and counts equal the real forward pass for random valid specs."""
    assert_agrees(conv_network(spec))


@settings(max_examples=measured_examples())
@given(st.sampled_from(list(COMPARE_VARIANTS)), st.one_of(conv_specs(), depthwise_specs()))
def test_random_variants_agree(name: str, spec: ConvSpec) -> None:
    """Every registered variant agrees with torch on random valid specs."""
    try:
        network = compare_variant(name, spec)
    except InvalidSpecError:
        return  # a depthwise variant of a spec whose cout is not a multiple of cin
    assert_agrees(network)


@settings(max_examples=measured_examples())
@given(depthwise_specs(share_kernel=True))
def test_random_shared_kernel_convs_agree(spec: ConvSpec) -> None:
    """The shared-kernel depthwise module measures as analysed: m x kh x kw (+ m) parameters."""
    assert_agrees(conv_network(spec))


@settings(max_examples=measured_examples())
@given(family_specs())
def test_random_family_convolutions_agree(spec: ConvSpec) -> None:
    """1-D to 3-D, transposed or not (groups, dilation, output padding): torch's output
    shape, torchinfo's rule and FlopCounterMode's count agree with the analytic ones."""
    assert_agrees(conv_network(spec))


@settings(max_examples=measured_examples())
@given(family_specs(transposed=True))
def test_transposed_upsampling_variants_agree(spec: ConvSpec) -> None:
    """compare --transposed: resampling to the transposed conv's output and a stride-1
    conv give that output size, and measure as analysed."""
    from convcalc.core.nets.layers import upsample_networks

    networks = upsample_networks(spec)
    shapes = {analyze(n).totals.output_shape for n in networks}
    assert len(shapes) == 1
    for network in networks:
        assert_agrees(network)


@settings(max_examples=measured_examples())
@given(
    st.one_of(
        TRACEABLE[O.Recurrent].filter(lambda case: not case.op.packed),
        TRACEABLE[O.ConvNamedLinear],
    )
)
def test_random_recurrent_layers_and_conv1d_agree(case: Traced) -> None:
    """nn.LSTM/GRU/RNN and their cells, and GPT-2's Conv1D, built from their primitive:
    params, output shape, torchinfo's rule (weight_ih & co.; "Conv" in a class name) and
    FlopCounterMode's FLOPs (2 x the MACs) agree. Recurrent layers measure on meta, where
    torch runs them step by step: on the CPU its fused LSTM kernel (mkldnn) is one op
    FlopCounterMode has no formula for (0). A packed one is measured in tests/model."""
    assert_agrees(one_node(case), device="meta" if isinstance(case.op, O.Recurrent) else "cpu")


# Ops FlopCounterMode has no formula for, and what their MACs are: none but a deformable
# conv's and an int8 conv's or linear map's, which are their float op's.
UNCOUNTED = (O.Fold, O.DeformConv, V.Select, V.NMS, V.RoIAlign, V.InstanceNorm, V.GridSample,
             V.Quantize, V.Packed, V.FusedPointwise)  # fmt: skip
WEIGHTED = (O.DeformConv, V.Packed)


@INT8_DEPRECATED
@settings(max_examples=measured_examples())
@given(st.one_of(*(TRACEABLE[kind] for kind in UNCOUNTED)))
def test_flop_counter_counts_zero_on_the_ops_it_has_no_formula_for(case: Traced) -> None:
    """F.fold, deform_conv2d and the detection, optical-flow and int8 ops, built and run:
    FlopCounterMode counts 0 FLOPs on each (as their docstrings say), and their analytic
    MACs are 0 too, but for a deformable conv's and an int8 conv's or linear map's."""
    module, inputs = build_case(case)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(*inputs)
    assert counter.get_total_flops() == 0
    read = tuple(case.shapes[i] for i in case.reads)
    macs = case.op.macs(read, case.op.out_shape(read))
    assert (macs > 0) == isinstance(case.op, WEIGHTED)
