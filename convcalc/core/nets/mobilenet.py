"""SE, CBAM and MobileNet V1/V2, each a small data table walked through the blocks.

Channel rounding (said on stderr whenever it changes a width):

- MobileNet V1: TensorFlow-slim's ``depth(d) = max(int(d * alpha), 8)``
  (``mobilenet_v1.py``), the reference implementation of the paper.
- MobileNet V2: ``_make_divisible(c * alpha, 8)`` of TF-slim and torchvision
  (round to the nearest multiple of 8, at least 8, never more than 10% down);
  the last 1x1 convolution keeps 1280 channels for alpha < 1 and grows to
  ``_make_divisible(1280 * alpha, 8)`` above it; the expansion is ``in * t``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from convcalc.core.nets.blocks import (
    cbam,
    conv_bn_act,
    depthwise_separable,
    inverted_residual,
    squeeze_excitation,
)
from convcalc.core.nets.graph import INPUT, GraphBuilder, Network
from convcalc.core.nets.registry import check_scaling, network_entry, register_network
from convcalc.core.ops.primitives import GlobalPool, Linear
from convcalc.core.values.record import Record
from convcalc.errors import InvalidSpecError

if TYPE_CHECKING:
    from fractions import Fraction

# MobileNet V1, the paper's Table 1 after the first conv: (output channels, stride)
# of each depthwise-separable block. The paper prints the second-to-last
# depthwise with stride 2; its output stays 7x7, so it is stride 1 (as in TF-slim).
MOBILENET_V1_BLOCKS: tuple[tuple[int, int], ...] = (
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1),
    (1024, 2), (1024, 1),
)  # fmt: skip
MOBILENET_V1_STEM = 32
MOBILENET_V1_MIN_DEPTH = 8

# MobileNet V2, the paper's Table 2: expansion t, output channels c, repeats n, first stride s.
MOBILENET_V2_BLOCKS: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
    (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
)  # fmt: skip
MOBILENET_V2_STEM = 32
MOBILENET_V2_LAST = 1280


def scale(channels: int, alpha: float) -> float | Fraction:
    """``channels * alpha`` as the references compute it (a float), exact where a float overflows.

    A width near the float maximum (``1e306``) makes the product infinite; the
    exact product keeps every rule below defined (and the counts exact).
    """
    product = channels * alpha
    if math.isfinite(product):
        return product
    from fractions import Fraction

    return Fraction(alpha) * channels


def make_divisible(value: float | Fraction, divisor: int = 8, min_value: int | None = None) -> int:
    """TF-slim's and torchvision's ``_make_divisible``: nearest multiple, never 10% down."""
    floor = divisor if min_value is None else min_value
    if isinstance(value, float):
        half: float | Fraction = divisor / 2
        most: float | Fraction = 0.9
    else:  # exact (scale() past a float's range)
        from fractions import Fraction

        half, most = Fraction(divisor, 2), Fraction(9, 10)
    rounded = max(floor, int(value + half) // divisor * divisor)
    if rounded < most * value:
        rounded += divisor
    return rounded


def slim_depth(channels: int, alpha: float) -> int:
    """TF-slim MobileNet V1's ``depth``: ``max(int(channels * alpha), 8)``."""
    return max(int(scale(channels, alpha)), MOBILENET_V1_MIN_DEPTH)


class MobileNetSpec(Record):
    """A MobileNet as the user asked for it."""

    version: int = 1
    width: float = 1.0
    resolution: int = 224
    classes: int = 1000
    batch: int = 1

    def __post_init__(self) -> None:
        if self.version not in (1, 2):
            raise InvalidSpecError(
                f"version={self.version} is not a MobileNet version (use 1, 2 or 3)"
            )
        check_scaling(
            self.width,
            (("resolution", self.resolution), ("classes", self.classes), ("batch", self.batch)),
        )

    def to_dict(self) -> dict[str, object]:
        """Every input, after defaults, as used."""
        return {
            "version": self.version,
            "width": self.width,
            "resolution": self.resolution,
            "classes": self.classes,
            "batch": self.batch,
        }


class _Rounding:
    """Collects every channel count a width multiplier changed, for one notice."""

    def __init__(self, rule: str) -> None:
        self.rule = rule
        self.changes: list[str] = []

    def __call__(self, channels: int, alpha: float, value: int) -> int:
        exact = scale(channels, alpha)
        if value != exact:
            from decimal import Decimal  # a width's rounding only (start-up)

            shown = (
                exact if isinstance(exact, float) else Decimal(exact.numerator) / exact.denominator
            )
            text = f"{channels} x {alpha:g} = {shown:g} -> {value}"
            if text not in self.changes:
                self.changes.append(text)
        return value

    def note(self, b: GraphBuilder, *more: str) -> None:
        """Say what was rounded (and any further decision) as one notice."""
        changes = [*self.changes, *more]
        if changes:
            b.note(f"channels rounded by {self.rule}: " + ", ".join(changes))


def _input_shape(spec: MobileNetSpec) -> tuple[int, int, int, int]:
    return (spec.batch, 3, spec.resolution, spec.resolution)


def _classifier(b: GraphBuilder, channels: int, classes: int) -> None:
    b.add("pool", GlobalPool("avg", flatten=True))
    b.add("fc", Linear(channels, classes, bias=True))


SWEEP_REFERENCE = {"width": 1.0, "resolution": 224}


@register_network(
    "mobilenet_v1", "mobilenet", "MobileNet V1", MobileNetSpec, SWEEP_REFERENCE, {"version": 1}
)
def mobilenet_v1(spec: MobileNetSpec) -> Network:
    """MobileNet V1 (paper Table 1): conv 3x3 s2, 13 depthwise-separable blocks, pool, FC.

    BN + ReLU after every convolution, no convolution biases, FC with bias,
    global average pooling so every resolution works.
    """
    b = GraphBuilder()
    rounded = _Rounding("TF-slim's depth() = max(int(c x width), 8)")
    cin = rounded(MOBILENET_V1_STEM, spec.width, slim_depth(MOBILENET_V1_STEM, spec.width))
    x = conv_bn_act(b, INPUT, "conv0", 3, cin, 3, 2, 1, "relu")
    for index, (channels, stride) in enumerate(MOBILENET_V1_BLOCKS, start=1):
        cout = rounded(channels, spec.width, slim_depth(channels, spec.width))
        x = depthwise_separable(b, x, (f"dw{index}", f"pw{index}"), cin, cout, stride, "relu")
        cin = cout
    _classifier(b, cin, spec.classes)
    rounded.note(b)
    return b.build("mobilenet_v1", _input_shape(spec))


@register_network(
    "mobilenet_v2", "mobilenet", "MobileNet V2", MobileNetSpec, SWEEP_REFERENCE, {"version": 2}
)
def mobilenet_v2(spec: MobileNetSpec) -> Network:
    """MobileNet V2 (paper Table 2): inverted residuals with linear bottlenecks, ReLU6.

    Each block: 1x1 expansion (absent when t = 1) + BN + ReLU6, 3x3 depthwise
    + BN + ReLU6, 1x1 projection + BN (linear); a residual add when stride is
    1 and channels match. Then 1x1 to 1280 + BN + ReLU6, pool, FC with bias.
    """
    b = GraphBuilder()
    rounded = _Rounding("_make_divisible(c x width, 8)")
    cin = rounded(
        MOBILENET_V2_STEM, spec.width, make_divisible(scale(MOBILENET_V2_STEM, spec.width))
    )
    x = conv_bn_act(b, INPUT, "conv0", 3, cin, 3, 2, 1, "relu6")
    index = 0
    for t, channels, repeats, first_stride in MOBILENET_V2_BLOCKS:
        cout = rounded(channels, spec.width, make_divisible(scale(channels, spec.width)))
        for repeat in range(repeats):
            index += 1
            with b.scope(f"b{index}"):
                x = inverted_residual(b, x, cin, cout, t, first_stride if repeat == 0 else 1)
            cin = cout
    last_channels = make_divisible(scale(MOBILENET_V2_LAST, max(1.0, spec.width)))
    more = []
    if spec.width < 1:
        more.append(f"the last conv keeps {MOBILENET_V2_LAST} (not scaled below width 1)")
    else:
        rounded(MOBILENET_V2_LAST, spec.width, last_channels)
    conv_bn_act(b, x, "conv_last", cin, last_channels, 1, 1, 1, "relu6")
    _classifier(b, last_channels, spec.classes)
    rounded.note(b, *more)
    return b.build("mobilenet_v2", _input_shape(spec))


def mobilenet(spec: MobileNetSpec) -> Network:
    """The MobileNet of ``spec.version``, from the registry."""
    return network_entry(f"mobilenet_v{spec.version}").build(spec)


def se_block(
    channels: int, reduction: int, size: tuple[int, int], batch: int, bias: bool
) -> Network:
    """The SE block alone, reading the network's input."""
    b = GraphBuilder()
    squeeze_excitation(b, INPUT, channels, reduction, bias)
    return b.build("se", (batch, channels, *size))


def cbam_block(
    channels: int,
    reduction: int,
    size: tuple[int, int],
    batch: int,
    *,
    spatial_kernel: int = 7,
    mlp_bias: bool = True,
    spatial_bn: bool = True,
) -> Network:
    """The CBAM block alone, reading the network's input."""
    b = GraphBuilder()
    cbam(b, INPUT, channels, reduction, spatial_kernel=spatial_kernel, mlp_bias=mlp_bias,
         spatial_bn=spatial_bn)  # fmt: skip
    return b.build("cbam", (batch, channels, *size))
