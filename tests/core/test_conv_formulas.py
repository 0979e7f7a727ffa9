"""Conv primitives and registered kinds: params, MACs, shapes, names and errors, by hand."""

from __future__ import annotations

import pytest

from convcalc.core.count.figures import analyze
from convcalc.core.nets.layers import (
    COMPARE_VARIANTS,
    ConvSpec,
    compare_variant,
    conv_network,
    separable_network,
    smallest_group,
    spatial_network,
    standard_network,
)
from convcalc.core.ops.primitives import (
    Activation,
    BatchNorm2d,
    Conv2d,
    GlobalPool,
    Linear,
    pair_text,
)
from convcalc.errors import InvalidSpecError


def test_spec_example_grouped_conv_figures() -> None:
    """SPEC.md's conv --cin 4 --cout 8 --groups 2 on 224x224: every figure of its JSON example."""
    figures = analyze(conv_network(ConvSpec(4, 8, groups=2)))
    totals = figures.totals
    # 222 x 222 = 49,284 output positions per channel; 8 channels: 394,272 outputs.
    assert totals.params == 8 * 2 * 9 + 8 == 152
    assert totals.output_shape == (1, 8, 222, 222)
    assert totals.macs == 394_272 * 2 * 9 == 7_096_896
    assert totals.flops == 14_193_792
    assert totals.bias_adds == 394_272
    assert totals.torchinfo_mult_adds == 152 * 49_284 == 7_491_168
    assert figures.param_bytes == 608
    assert figures.input_bytes == 4 * 224 * 224 * 4 == 802_816
    assert figures.activation_bytes == 394_272 * 4
    assert figures.torchinfo_forward_backward_bytes == 2 * 394_272 * 4


def test_formulas_fill_in_the_numbers() -> None:
    """The table's formulas show the numbers used (SPEC: 8 x (4/2) x 3 x 3 + 8 = 152)."""
    conv = Conv2d(4, 8, (3, 3), groups=2)
    assert conv.params_formula() == "8 x (4/2) x 3 x 3 + 8 = 152"
    assert conv.macs_formula(((1, 4, 224, 224),), (1, 8, 222, 222)) == (
        "1 x 222 x 222 x 8 x (4/2) x 3 x 3 = 7,096,896"
    )
    assert Conv2d(3, 4, (3, 3), bias=False).params_formula() == "4 x 3 x 3 x 3 = 108"
    shared = Conv2d(4, 8, (3, 3), groups=4, shared_kernel=True)
    assert shared.params_formula() == "2 x 3 x 3 + 2 = 20"


@pytest.mark.parametrize(
    ("conv", "weights", "biases"),
    [
        (Conv2d(3, 4, (3, 3), bias=False), 108, 0),
        (Conv2d(4, 8, (3, 3), groups=2, bias=False), 144, 0),  # half of 288
        (Conv2d(6, 6, (1, 1), groups=3), 12, 6),  # weight (6, 2, 1, 1)
        (Conv2d(10, 20, (3, 3), groups=10), 180, 20),  # weight (20, 1, 3, 3)
        (Conv2d(16, 32, (3, 3), groups=4), 1152, 32),
        (Conv2d(4, 8, (3, 1)), 96, 8),  # rectangular 3x1
        (Conv2d(4, 8, (3, 3), dilation=(2, 2)), 288, 8),  # dilation adds no parameters
        (Conv2d(4, 8, (3, 3), groups=4, shared_kernel=True), 18, 2),  # one (2, 1, 3, 3)
        (Conv2d(4, 4, (3, 3), groups=4, shared_kernel=True, bias=False), 9, 0),
    ],
)
def test_conv_params(conv: Conv2d, weights: int, biases: int) -> None:
    """Weights are cout x cin/g x kh x kw (shared kernel: m x kh x kw); one bias per output."""
    assert conv.weight_params == weights
    assert conv.bias_params == biases
    assert conv.params == weights + biases


def test_conv_macs_count_weight_multiply_accumulates_only() -> None:
    """MACs are N x Hout x Wout x cout x cin/g x kh x kw; bias adds are apart."""
    conv = Conv2d(4, 8, (3, 1), stride=(2, 1), groups=2)
    out = conv.out_shape(((3, 4, 9, 5),))
    assert out == (3, 8, 4, 5)  # H: floor(6 / 2) + 1 = 4; W: 5
    assert conv.macs(((3, 4, 9, 5),), out) == 3 * 4 * 5 * 8 * 2 * 3 * 1
    assert conv.bias_adds(out) == 3 * 8 * 4 * 5
    assert Conv2d(4, 8, (3, 1), bias=False).bias_adds(out) == 0


def test_same_padding_keeps_the_size_with_even_and_dilated_kernels() -> None:
    """padding='same' keeps H x W for any kernel and dilation (stride 1)."""
    for kernel, dilation in (
        ((3, 3), (1, 1)),
        ((2, 4), (1, 1)),
        ((3, 2), (2, 3)),
        ((9, 9), (1, 1)),
    ):
        conv = Conv2d(2, 3, kernel, padding="same", dilation=dilation)
        assert conv.out_shape(((2, 2, 5, 4),)) == (2, 3, 5, 4)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cin": 4, "cout": 8, "groups": 3}, "groups=3 must divide cin=4 and cout=8"),
        ({"cin": 4, "cout": 6, "groups": 4}, "groups=4 must divide cin=4 and cout=6"),
        ({"cin": 0, "cout": 8}, "cin=0 must be a positive integer"),
        ({"cin": 4, "cout": -1}, "cout=-1 must be a positive integer"),
        ({"cin": 4, "cout": 8, "groups": 0}, "groups=0 must be a positive integer"),
        ({"cin": 4, "cout": 8, "kernel": (0, 3)}, "kernel=0x3 must be positive"),
        ({"cin": 4, "cout": 8, "stride": (1, 0)}, "stride=1x0 must be positive"),
        ({"cin": 4, "cout": 8, "dilation": (0, 0)}, "dilation=0 must be positive"),
        ({"cin": 4, "cout": 8, "padding": (-1, 0)}, "padding=-1x0 must be zero or more"),
        ({"cin": 4, "cout": 8, "padding": "same", "stride": (2, 2)}, "padding=same needs stride 1"),
        ({"cin": 4, "cout": 8, "shared_kernel": True}, "needs groups=cin=4"),
    ],
)
def test_conv_rejects_invalid_settings(kwargs: dict[str, object], message: str) -> None:
    """Each invalid setting raises InvalidSpecError naming the value and the rule."""
    kwargs.setdefault("kernel", (3, 3))
    with pytest.raises(InvalidSpecError, match=message.replace("(", r"\(")):
        Conv2d(**kwargs)  # type: ignore[arg-type]


def test_conv_out_shape_rejects_wrong_channels() -> None:
    """A conv fed the wrong channel count is an invalid spec."""
    with pytest.raises(InvalidSpecError, match="expects 4 input channels, got 3"):
        Conv2d(4, 8, (3, 3)).out_shape(((1, 3, 8, 8),))


def test_invalid_conv_specs_raise() -> None:
    """ConvSpec and conv_network raise InvalidSpecError for each invalid spec."""
    with pytest.raises(InvalidSpecError, match="takes no padding"):
        ConvSpec(4, 8, kernel="global", padding=(1, 1))
    with pytest.raises(InvalidSpecError, match="input=0x5 must be positive"):
        ConvSpec(4, 8, input=(0, 5))
    with pytest.raises(InvalidSpecError, match="batch=0 must be a positive integer"):
        ConvSpec(4, 8, batch=0)
    with pytest.raises(InvalidSpecError, match="effective kernel 7"):
        analyze(conv_network(ConvSpec(4, 8, kernel=(7, 7), input=(5, 5))))
    with pytest.raises(InvalidSpecError, match=r"effective kernel 9 .* padded input 8"):
        analyze(conv_network(ConvSpec(4, 8, dilation=(1, 4), input=(9, 8))))


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        (ConvSpec(4, 8), "standard"),
        (ConvSpec(4, 8, kernel=(1, 1)), "pointwise"),
        (ConvSpec(4, 8, groups=2), "grouped (g=2)"),
        (ConvSpec(4, 4, groups=4), "depthwise"),
        (ConvSpec(10, 20, groups=10), "depthwise (multiplier 2)"),
        (ConvSpec(8, 8, kernel="global", groups=8, input=(7, 7)), "global depthwise"),
        (ConvSpec(1, 1, dilation=(2, 2)), "standard, dilated (effective kernel 5x5)"),
        (ConvSpec(4, 8, groups=4, share_kernel=True), "shared-kernel depthwise"),
    ],
)
def test_conv_kind_names_the_notes_classification(spec: ConvSpec, kind: str) -> None:
    """Kinds follow the notes: by groups, kernel = input size, and dilation."""
    op = conv_network(spec).nodes[0].op
    assert isinstance(op, Conv2d)
    assert op.classify(conv_network(spec).input_shape) == kind


def test_global_kernel_is_the_input_size() -> None:
    """kernel=global on 7x5 is a 7x5 kernel with output 1x1."""
    spec = ConvSpec(8, 8, kernel="global", groups=8, input=(7, 5), bias=False)
    assert spec.resolved_kernel == (7, 5)
    totals = analyze(conv_network(spec)).totals
    assert totals.output_shape == (1, 8, 1, 1)
    assert totals.params == totals.macs == 8 * 7 * 5


def test_separable_layers_by_hand() -> None:
    """Depthwise-separable 16 -> 32 with biases on 64x64: 160 + 544 = 704."""
    figures = analyze(separable_network(ConvSpec(16, 32, padding=(1, 1), input=(64, 64))))
    depthwise, pointwise = figures.layers
    assert (depthwise.name, depthwise.params) == ("depthwise", 16 * 9 + 16)
    assert (pointwise.name, pointwise.params) == ("pointwise", 16 * 32 + 32)
    assert depthwise.macs == 64 * 64 * 16 * 9
    assert pointwise.macs == 64 * 64 * 32 * 16
    assert figures.totals.params == 704


def test_spatial_steps_get_their_own_axis_of_stride_and_padding() -> None:
    """k x 1 takes the height's stride and padding, 1 x k the width's; the output equals k x k's."""
    spec = ConvSpec(1, 1, kernel=(3, 3), stride=(2, 2), padding=(1, 1), input=(9, 9), bias=False)
    spatial = analyze(spatial_network(spec))
    first, second = spatial.layers
    assert first.output_shape == (1, 1, 5, 9)  # H: floor((9 + 2 - 3) / 2) + 1; W untouched
    assert second.output_shape == (1, 1, 5, 5)
    assert spatial.totals.output_shape == analyze(standard_network(spec)).totals.output_shape
    assert first.macs == 5 * 9 * 3
    assert second.macs == 5 * 5 * 3


def test_receptive_field_through_networks() -> None:
    """The analysed receptive field and jump follow the recurrence layer by layer."""
    strided = analyze(conv_network(ConvSpec(2, 2, stride=(2, 2), input=(9, 9))))
    assert (strided.totals.receptive_field, strided.totals.jump) == ((3, 3), (2, 2))
    dilated = analyze(conv_network(ConvSpec(1, 1, dilation=(2, 3), input=(9, 9))))
    assert dilated.totals.receptive_field == (5, 7)
    spatial = analyze(spatial_network(ConvSpec(1, 1, kernel=(3, 5), input=(9, 9))))
    assert [x.receptive_field for x in spatial.layers] == [(3, 1), (3, 5)]
    separable = analyze(separable_network(ConvSpec(2, 4, stride=(2, 2), input=(9, 9))))
    assert [(x.receptive_field, x.jump) for x in separable.layers] == [
        ((3, 3), (2, 2)),
        ((3, 3), (2, 2)),
    ]


def test_memory_follows_the_dtype() -> None:
    """Parameter and input bytes are counts times the dtype's size."""
    network = conv_network(ConvSpec(4, 8, groups=2))
    half = analyze(network, "float16")
    assert half.param_bytes == 152 * 2
    assert half.input_bytes == 4 * 224 * 224 * 2
    assert analyze(network, "float64").param_bytes == 152 * 8


def test_torchinfo_convention() -> None:
    """torchinfo 1.8: conv (weights + biases) x N x Hout x Wout; others params x first dim."""
    assert Conv2d(4, 8, (3, 3), groups=2).torchinfo_mult_adds((1, 8, 222, 222)) == 7_491_168
    assert Conv2d(4, 8, (3, 3), groups=2).torchinfo_mult_adds((2, 8, 3, 3)) == 152 * 2 * 9
    assert Linear(512, 32, bias=False).torchinfo_mult_adds((2, 32)) == 16_384 * 2
    assert Linear(4, 3).torchinfo_mult_adds((5, 7, 3)) == 15 * 5  # issue #77: first dim only
    assert BatchNorm2d(16).torchinfo_mult_adds((2, 16, 8, 8)) == 32 * 2
    assert Activation("relu").torchinfo_mult_adds((2, 16, 8, 8)) == 0
    assert GlobalPool().torchinfo_mult_adds((2, 16, 1, 1)) == 0


def test_compare_variants_by_hand() -> None:
    """Every registered variant of 4 -> 8, 3x3, bias, g=2 on 16x16 has its hand-computed figures."""
    spec = ConvSpec(4, 8, groups=2, input=(16, 16))
    expected = {
        # name: (params, MACs); output 14 x 14 = 196 positions.
        "standard": (8 * 4 * 9 + 8, 196 * 8 * 4 * 9),
        "grouped": (8 * 2 * 9 + 8, 196 * 8 * 2 * 9),
        "depthwise": (8 * 9 + 8, 196 * 8 * 9),
        "depthwise-separable": ((4 * 9 + 4) + (4 * 8 + 8), 196 * 4 * 9 + 196 * 8 * 4),
        # k x 1 (4 -> 4) makes 14 x 16, then 1 x k (4 -> 8) makes 14 x 14.
        "spatially-separable": (
            (4 * 4 * 3 + 4) + (8 * 4 * 3 + 8),
            224 * 4 * 4 * 3 + 196 * 8 * 4 * 3,
        ),
        "shared-kernel": (2 * 9 + 2, 196 * 8 * 9),
    }
    assert list(COMPARE_VARIANTS) == list(expected)
    for name, (params, macs) in expected.items():
        network = compare_variant(name, spec)
        assert network.name == name
        totals = analyze(network).totals
        assert (totals.params, totals.macs) == (params, macs), name
        assert totals.output_shape == (1, 8, 14, 14), name


def test_depthwise_variant_needs_an_integral_multiplier() -> None:
    """Depthwise with cout not a multiple of cin is an invalid spec (multiplier not integral)."""
    with pytest.raises(InvalidSpecError, match="multiple of cin=4"):
        compare_variant("depthwise", ConvSpec(4, 6))
    with pytest.raises(InvalidSpecError, match="multiple of cin=4"):
        compare_variant("shared-kernel", ConvSpec(4, 6))


@pytest.mark.parametrize(
    ("cin", "cout", "expected"),
    [(4, 8, 2), (3, 9, 3), (4, 6, 2), (5, 7, None), (1, 8, None), (6, 9, 3), (8, 8, 2)],
)
def test_smallest_group(cin: int, cout: int, expected: int | None) -> None:
    """compare's default g is the smallest g > 1 dividing both channel counts."""
    assert smallest_group(cin, cout) == expected


def test_pair_text() -> None:
    """Square pairs print as one number, others as HxW, words as themselves."""
    assert pair_text((3, 3)) == "3"
    assert pair_text((3, 1)) == "3x1"
    assert pair_text("same") == "same"
