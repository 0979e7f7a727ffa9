"""MobileNet V3 Large and Small (Howard et al. 2019), as torchvision builds them.

Each bneck row of the paper's Tables 1 and 2: kernel, expanded channels, output
channels, SE, activation (ReLU or hard-swish), stride. Every channel count is
``_make_divisible(c x width, 8)``; the SE's squeeze width is
``_make_divisible(expanded // 4, 8)``, its two FCs 1x1 convolutions with bias,
ReLU then hard-sigmoid. Stem: 3x3 stride-2 conv to 16 + BN + hard-swish; last:
1x1 conv to 6 x the last block's output + BN + hard-swish, global average pool,
Linear to 1280 (Large) / 1024 (Small) x width (rounded the same way),
hard-swish, (dropout), Linear to the classes.
"""

from __future__ import annotations

from convcalc.core.nets.blocks import ActivationName, conv_bn_act, mobilenet_v3_block
from convcalc.core.nets.graph import INPUT, GraphBuilder, Network
from convcalc.core.nets.mobilenet import _Rounding, make_divisible
from convcalc.core.nets.registry import check_scaling, register_network
from convcalc.core.ops.primitives import Activation, GlobalPool, Linear
from convcalc.core.values.record import Record
from convcalc.errors import InvalidSpecError

# (kernel, expanded, out, SE, activation, stride): the paper's Table 1 (Large), 2 (Small).
Bneck = tuple[int, int, int, bool, ActivationName, int]
MOBILENET_V3_LARGE: tuple[Bneck, ...] = (
    (3, 16, 16, False, "relu", 1), (3, 64, 24, False, "relu", 2),
    (3, 72, 24, False, "relu", 1), (5, 72, 40, True, "relu", 2),
    (5, 120, 40, True, "relu", 1), (5, 120, 40, True, "relu", 1),
    (3, 240, 80, False, "hardswish", 2), (3, 200, 80, False, "hardswish", 1),
    (3, 184, 80, False, "hardswish", 1), (3, 184, 80, False, "hardswish", 1),
    (3, 480, 112, True, "hardswish", 1), (3, 672, 112, True, "hardswish", 1),
    (5, 672, 160, True, "hardswish", 2), (5, 960, 160, True, "hardswish", 1),
    (5, 960, 160, True, "hardswish", 1),
)  # fmt: skip
MOBILENET_V3_SMALL: tuple[Bneck, ...] = (
    (3, 16, 16, True, "relu", 2), (3, 72, 24, False, "relu", 2),
    (3, 88, 24, False, "relu", 1), (5, 96, 40, True, "hardswish", 2),
    (5, 240, 40, True, "hardswish", 1), (5, 240, 40, True, "hardswish", 1),
    (5, 120, 48, True, "hardswish", 1), (5, 144, 48, True, "hardswish", 1),
    (5, 288, 96, True, "hardswish", 2), (5, 576, 96, True, "hardswish", 1),
    (5, 576, 96, True, "hardswish", 1),
)  # fmt: skip
MOBILENET_V3: dict[str, tuple[tuple[Bneck, ...], int]] = {
    "large": (MOBILENET_V3_LARGE, 1280),
    "small": (MOBILENET_V3_SMALL, 1024),
}
MOBILENET_V3_STEM = 16
LAST_EXPANSION = 6


class MobileNetV3Spec(Record):
    """A MobileNet V3 as the user asked for it."""

    size: str = "large"
    width: float = 1.0
    resolution: int = 224
    classes: int = 1000
    batch: int = 1

    def __post_init__(self) -> None:
        if self.size not in MOBILENET_V3:
            raise InvalidSpecError(f"size={self.size!r} is not one of large, small")
        check_scaling(
            self.width,
            (("resolution", self.resolution), ("classes", self.classes), ("batch", self.batch)),
        )

    def to_dict(self) -> dict[str, object]:
        """Every input, after defaults, as used."""
        return {
            "version": 3,
            "size": self.size,
            "width": self.width,
            "resolution": self.resolution,
            "classes": self.classes,
            "batch": self.batch,
        }


def _mobilenet_v3(spec: MobileNetV3Spec, size: str) -> Network:
    table, last = MOBILENET_V3[size]
    b = GraphBuilder()
    rounded = _Rounding("_make_divisible(c x width, 8)")

    def adjust(channels: int) -> int:
        return rounded(channels, spec.width, make_divisible(channels * spec.width))

    cin = adjust(MOBILENET_V3_STEM)
    x = conv_bn_act(b, INPUT, "conv0", 3, cin, 3, 2, act="hardswish")
    for index, (kernel, expanded, out, se, act, stride) in enumerate(table, start=1):
        hidden, cout = adjust(expanded), adjust(out)
        squeeze = make_divisible(hidden // 4) if se else None
        with b.scope(f"b{index}"):
            x = mobilenet_v3_block(b, x, cin, kernel, hidden, cout, stride, act, squeeze)
        cin = cout
    last_conv = LAST_EXPANSION * cin
    conv_bn_act(b, x, "conv_last", cin, last_conv, 1, act="hardswish")
    b.add("pool", GlobalPool("avg", flatten=True))
    hidden = adjust(last)
    with b.scope("classifier"):
        b.add("fc1", Linear(last_conv, hidden, bias=True))
        b.add("hardswish", Activation("hardswish"))
        b.add("fc2", Linear(hidden, spec.classes, bias=True))
    rounded.note(b)
    return b.build(f"mobilenet_v3_{size}", (spec.batch, 3, spec.resolution, spec.resolution))


SWEEP_REFERENCE = {"width": 1.0, "resolution": 224}


@register_network(
    "mobilenet_v3_large", "mobilenet", "MobileNet V3 Large", MobileNetV3Spec, SWEEP_REFERENCE,
    {"size": "large"},
)  # fmt: skip
def mobilenet_v3_large(spec: MobileNetV3Spec) -> Network:
    """MobileNet V3 Large (paper Table 1; torchvision's ``mobilenet_v3_large``)."""
    return _mobilenet_v3(spec, "large")


@register_network(
    "mobilenet_v3_small", "mobilenet", "MobileNet V3 Small", MobileNetV3Spec, SWEEP_REFERENCE,
    {"size": "small"},
)  # fmt: skip
def mobilenet_v3_small(spec: MobileNetV3Spec) -> Network:
    """MobileNet V3 Small (paper Table 2; torchvision's ``mobilenet_v3_small``)."""
    return _mobilenet_v3(spec, "small")
