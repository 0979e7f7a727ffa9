"""Receptive fields through stacks, global pools and gates, against hand-derived oracles.

Rule (DOMAIN.md, SPEC.md): ``r_out = r_in + (k_eff - 1) x j_in``, ``j_out = j_in x s``,
never more than the padded input; a global pool's unit sees the whole input
(a global field); a gate broadcast over x keeps x's jump, and a product with a
gate that saw the whole input has seen it too.
"""

from __future__ import annotations

import convcalc
from convcalc.core.count.figures import LayerFigures
from convcalc.core.geometry.shapes import Jump, Jumps


def _fields(design: convcalc.Design) -> dict[str, tuple[tuple[int, ...], Jumps, bool]]:
    return {
        x.name: (x.receptive_field, x.jump, x.field.whole) for x in convcalc.analyze(design).layers
    }


def _square(layer: LayerFigures) -> tuple[int, Jump]:
    rf_h, rf_w = layer.receptive_field
    assert rf_h == rf_w
    return rf_h, layer.jump[0]


def test_se_block_at_56() -> None:
    """SE on 56 x 56: the squeeze sees all 56 x 56 (one unit per axis, jump 56); the MLP
    keeps that; the product has x's positions (jump 1) and a global field of 56."""
    fields = _fields(convcalc.se(64, 16, input=56))
    assert fields["squeeze"] == ((56, 56), (56, 56), True)
    assert fields["fc1"] == fields["fc2"] == fields["sigmoid"] == ((56, 56), (56, 56), True)
    assert fields["scale"] == ((56, 56), (1, 1), True)


def test_cbam_at_32_never_exceeds_the_input() -> None:
    """CBAM on 32 x 32 (the issue's case): no field over 32 x 32, and every layer on the
    32 x 32 map (the gates' products, the spatial branch) has jump 1."""
    report = convcalc.analyze(convcalc.cbam(64, 16, input=32))
    for layer in report.layers:
        assert max(layer.receptive_field) <= 32, layer.name
        if layer.output_shape[2:] == (32, 32):
            assert layer.jump == (1, 1), layer.name
    fields = _fields(convcalc.cbam(64, 16, input=32))
    assert fields["avg_pool"] == fields["max_pool"] == ((32, 32), (32, 32), True)
    assert fields["channel.scale"] == ((32, 32), (1, 1), True)
    # The 7x7 spatial conv reads a map that has seen everything: it stays global.
    assert fields["spatial.conv"] == ((32, 32), (1, 1), True)
    assert fields["spatial.scale"] == ((32, 32), (1, 1), True)


def test_cbam_at_56_and_rectangular() -> None:
    """The issue's second case (56, once 392 x 392) and a 40 x 24 input."""
    assert _fields(convcalc.cbam(64, 16, input=56))["spatial.scale"] == ((56, 56), (1, 1), True)
    fields = _fields(convcalc.cbam(64, 16, input=(40, 24)))
    assert fields["spatial.scale"] == ((40, 24), (1, 1), True)
    assert fields["avg_pool"] == ((40, 24), (40, 24), True)


# MobileNet V1 at 224, by hand: conv0 3x3 s2 gives r 3, j 2; each 3x3 depthwise adds
# 2 x j and multiplies j by its stride; pointwise 1x1 convs add nothing.
#   dw1 s1: 3 + 2x2 = 7      dw2 s2: 7 + 2x2 = 11, j 4    dw3: 11 + 2x4 = 19
#   dw4 s2: 19 + 8 = 27, j 8  dw5: 27 + 16 = 43           dw6 s2: 43 + 16 = 59, j 16
#   dw7..dw11: 59 + 32 x (1..5) = 91, 123, 155, 187, 219
#   dw12 s2: 219 + 32 = 251, j 32                         dw13: 251 + 64 = 315
# The padded input grows by 2 x p x j at each 3x3 (538 by dw13), so no cap applies.
MOBILENET_V1_224 = {
    "conv0": (3, 2), "dw1": (7, 2), "pw1": (7, 2), "dw2": (11, 4), "dw3": (19, 4),
    "dw4": (27, 8), "dw5": (43, 8), "dw6": (59, 16), "dw7": (91, 16), "dw8": (123, 16),
    "dw9": (155, 16), "dw10": (187, 16), "dw11": (219, 16), "dw12": (251, 32),
    "dw13": (315, 32), "pw13": (315, 32),
}  # fmt: skip


def test_mobilenet_v1_by_hand() -> None:
    """Every convolution row of MobileNet V1 at 224, then the global pool: the whole input."""
    layers = {x.name: x for x in convcalc.analyze(convcalc.mobilenet(1)).layers}
    for name, expected in MOBILENET_V1_224.items():
        assert _square(layers[name]) == expected, name
    assert layers["pool"].receptive_field == (224, 224)
    assert layers["pool"].field.whole
    assert layers["pool"].jump == (224, 224)  # 32 x the 7 x 7 map
    assert layers["fc"].field.whole


# MobileNet V2 at 224, by hand: conv0 r 3, j 2; in each block only the 3x3 depthwise
# widens (2 x j) and strides; the residual add reads two maps at the same positions.
#   b1 s1: 7   b2 s2: 11, j 4   b3: 19   b4 s2: 27, j 8   b5: 43   b6: 59
#   b7 s2: 75, j 16   b8..b10: 107, 139, 171   b11..b13: 203, 235, 267
#   b14 s2: 299, j 32   b15: 363   b16: 427   b17: 491   conv_last: 491
MOBILENET_V2_224 = {
    "conv0": (3, 2), "b1.dw": (7, 2), "b2.dw": (11, 4), "b3.dw": (19, 4), "b3.residual": (19, 4),
    "b4.dw": (27, 8), "b5.dw": (43, 8), "b6.dw": (59, 8), "b7.dw": (75, 16),
    "b8.dw": (107, 16), "b9.dw": (139, 16), "b10.dw": (171, 16), "b11.dw": (203, 16),
    "b12.dw": (235, 16), "b13.dw": (267, 16), "b14.dw": (299, 32), "b15.dw": (363, 32),
    "b16.dw": (427, 32), "b17.dw": (491, 32), "conv_last": (491, 32),
}  # fmt: skip


def test_mobilenet_v2_by_hand() -> None:
    """Every depthwise row (and a residual add) of MobileNet V2 at 224, then the pool."""
    layers = {x.name: x for x in convcalc.analyze(convcalc.mobilenet(2)).layers}
    for name, expected in MOBILENET_V2_224.items():
        assert _square(layers[name]) == expected, name
    assert layers["pool"].receptive_field == (224, 224)
    assert layers["pool"].field.whole


def test_kernel_as_large_as_the_padded_input() -> None:
    """A 5x5 kernel with padding 2 on 3 x 3 sees 5 x 5 of the padded 7 x 7 (not global:
    it is a window); a 7x7 kernel, padding 1, on 5 x 5 spans the whole padded input."""
    report = convcalc.analyze(convcalc.conv(1, 1, kernel=5, padding=2, input=3))
    assert report.totals.receptive_field == (5, 5)
    assert not report.totals.field.whole
    report = convcalc.analyze(convcalc.conv(1, 1, kernel=7, padding=1, input=5))
    assert report.totals.receptive_field == (7, 7)


def test_local_ops_after_a_global_one_stay_global() -> None:
    """A global field cannot widen: a conv after the SE gate still shows the input's extent."""
    from convcalc.core.count.figures import analyze
    from convcalc.core.nets.blocks import squeeze_excitation
    from convcalc.core.nets.graph import INPUT, GraphBuilder
    from convcalc.core.ops.primitives import Conv2d

    b = GraphBuilder()
    with b.scope("se"):
        gated = squeeze_excitation(b, INPUT, 8, 4, bias=False)
    b.add("conv", Conv2d(8, 8, (3, 3), padding=(1, 1)), (gated,))
    figures = analyze(b.build("se+conv", (1, 8, 12, 12)))
    last = figures.layers[-1]
    assert (last.name, last.receptive_field, last.jump, last.field.whole) == (
        "conv",
        (12, 12),
        (1, 1),
        True,
    )
    assert figures.layers[0].name == "se.squeeze"


def test_fields_have_one_axis_per_spatial_axis() -> None:
    """The recurrence runs per axis on any number of them: a 3x3x3 stride-2 window on
    16x112x112 gives r 3, j 2 on each; two of them r 3 + 2 x 2 = 7, j 4. A window over
    other axes (a 1-D conv over a 2-D map's channels) leaves the field as it is."""
    from convcalc.core.geometry.shapes import global_field, input_field, local_field

    start = input_field((16, 112, 112))
    once = local_field(start, (3, 3, 3), (2, 2, 2), (1, 1, 1), (2, 2, 2))
    twice = local_field(once, (3, 3, 3), (2, 2, 2), (1, 1, 1), (2, 2, 2))
    assert (once.size, once.jump) == ((3, 3, 3), (2, 2, 2))
    assert (twice.size, twice.jump) == ((7, 7, 7), (4, 4, 4))
    line = local_field(input_field((100,)), (5,), (1,), (3,), (0,))
    assert (line.size, line.jump) == ((13,), (1,))  # d x (k - 1) + 1 = 13
    flat = input_field((8, 8))
    assert local_field(flat, (3,), (1,), (1,), (0,)) == flat
    pooled = global_field(twice, (4, 28, 28))
    assert pooled.whole
    assert (pooled.size, pooled.jump) == ((16, 112, 112), (16, 112, 112))
