"""ResNet, ResNeXt, Wide ResNet and SE-/CBAM-ResNet: one data table over the blocks.

- Depths 18 and 34 use basic blocks, 50, 101 and 152 bottlenecks (the ResNet
  paper's Table 1): a 7x7 stride-2 stem + BN + ReLU, a 3x3 stride-2 max pool,
  four stages at 64, 128, 256, 512 planes (x4 out of a bottleneck), the first
  block of stages 2-4 at stride 2, a 1x1 convolution + BN shortcut where the
  shape changes (option B), global average pooling and a Linear classifier.
- ``variant``: v1.5 (torchvision's, the default) strides the bottleneck's 3x3;
  v1 (the paper's Caffe models) its first 1x1. Basic blocks are the same in both.
- ResNeXt / Wide ResNet as torchvision builds them: the bottleneck's width is
  ``int(planes x width_per_group / 64) x groups`` (32x4d, 32x8d, 64x4d;
  Wide ResNet-50-2 is 1 group of 128).
- ``attention``: SE or CBAM after the last BN of each residual branch, before
  the addition (the SE paper's SE-ResNet module, the CBAM paper's placement).
- ``width`` scales every stage's planes (and the stem) by truncation,
  ``int(c x width)``; a width that leaves a layer 0 channels is refused.
"""

from __future__ import annotations

from convcalc.core.nets.blocks import attention_block, basic_block, bottleneck, conv_bn_act
from convcalc.core.nets.graph import INPUT, GraphBuilder, Network
from convcalc.core.nets.registry import check_scaling, register_network
from convcalc.core.ops.pooling import Pool2d
from convcalc.core.ops.primitives import GlobalPool, Linear
from convcalc.core.values.record import Record
from convcalc.errors import InvalidSpecError

# depth -> (block kind, blocks per stage): the ResNet paper's Table 1.
RESNET_LAYERS: dict[int, tuple[str, tuple[int, int, int, int]]] = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}
RESNET_STEM = 64
RESNET_PLANES = (64, 128, 256, 512)
BOTTLENECK_EXPANSION = 4
VARIANTS = ("v1", "v1.5")
ATTENTIONS = ("se", "cbam")


class ResNetSpec(Record):
    """A ResNet as the user asked for it."""

    depth: int = 50
    variant: str = "v1.5"
    groups: int = 1
    width_per_group: int = 64
    attention: str | None = None
    reduction: int = 16
    attention_bias: bool = True
    width: float = 1.0
    resolution: int = 224
    classes: int = 1000
    batch: int = 1

    def __post_init__(self) -> None:
        if self.depth not in RESNET_LAYERS:
            depths = ", ".join(str(d) for d in RESNET_LAYERS)
            raise InvalidSpecError(f"depth={self.depth} is not a ResNet depth (use {depths})")
        if self.variant not in VARIANTS:
            raise InvalidSpecError(f"variant={self.variant!r} is not one of v1, v1.5")
        if self.attention is not None and self.attention not in ATTENTIONS:
            raise InvalidSpecError(f"attention={self.attention!r} is not one of se, cbam")
        check_scaling(
            self.width,
            (
                ("groups", self.groups),
                ("width-per-group", self.width_per_group),
                ("reduction", self.reduction),
                ("resolution", self.resolution),
                ("classes", self.classes),
                ("batch", self.batch),
            ),
        )
        if self.block == "basic" and (self.groups, self.width_per_group) != (1, 64):
            raise InvalidSpecError(
                f"depth={self.depth} uses basic blocks, which have no groups or group width "
                f"(groups={self.groups}, width-per-group={self.width_per_group}): "
                "use depth 50, 101 or 152"
            )

    @property
    def block(self) -> str:
        """``basic`` or ``bottleneck``."""
        return RESNET_LAYERS[self.depth][0]

    def to_dict(self) -> dict[str, object]:
        """Every input, after defaults, as used."""
        return {
            "depth": self.depth,
            "variant": self.variant,
            "block": self.block,
            "groups": self.groups,
            "width_per_group": self.width_per_group,
            "attention": self.attention,
            "reduction": self.reduction,
            "attention_bias": self.attention_bias,
            "width": self.width,
            "resolution": self.resolution,
            "classes": self.classes,
            "batch": self.batch,
        }


def _scaled(channels: int, width: float, what: str) -> int:
    value = int(channels * width)
    if value <= 0:
        raise InvalidSpecError(
            f"width={width:g} leaves {what} with {channels} x {width:g} -> 0 channels"
        )
    return value


@register_network(
    "resnet", "resnet", "ResNet", ResNetSpec, {"width": 1.0, "resolution": 224}, {"depth": 50}
)
def resnet(spec: ResNetSpec) -> Network:
    """The ResNet of ``spec`` (see the module docstring for every rule)."""
    b = GraphBuilder()
    kind, counts = RESNET_LAYERS[spec.depth]
    if kind == "bottleneck":
        stride_at = "the first 1x1" if spec.variant == "v1" else "the 3x3"
        b.note(f"ResNet {spec.variant}: each downsampling bottleneck strides {stride_at}")
    stem = _scaled(RESNET_STEM, spec.width, "the stem")
    changed = [] if stem == RESNET_STEM * spec.width else [f"{RESNET_STEM} -> {stem}"]
    attention = None
    if spec.attention is not None:
        attention = attention_block(spec.attention, spec.reduction, spec.attention_bias)
    x = conv_bn_act(b, INPUT, "conv1", 3, stem, 7, 2, act="relu")
    x = b.add("maxpool", Pool2d("max", (3, 3), (2, 2), (1, 1)))
    cin = stem
    for stage, (planes, blocks) in enumerate(zip(RESNET_PLANES, counts, strict=True), start=1):
        scaled = _scaled(planes, spec.width, f"layer{stage}")
        if scaled != planes * spec.width:
            changed.append(f"{planes} -> {scaled}")
        for index in range(blocks):
            stride = 2 if stage > 1 and index == 0 else 1
            with b.scope(f"layer{stage}.{index}"):
                if kind == "basic":
                    x = basic_block(b, x, cin, scaled, stride, attention)
                    cin = scaled
                    continue
                inner = int(scaled * spec.width_per_group / 64)
                if inner <= 0:
                    raise InvalidSpecError(
                        f"width-per-group={spec.width_per_group} leaves layer{stage}'s "
                        f"groups with {scaled} x {spec.width_per_group}/64 -> 0 channels"
                    )
                cout = scaled * BOTTLENECK_EXPANSION
                x = bottleneck(b, x, cin, inner * spec.groups, cout, stride, groups=spec.groups,
                               stride_on_1x1=spec.variant == "v1", attention=attention)  # fmt: skip
                cin = cout
    if changed:
        b.note(f"channels truncated by int(c x width {spec.width:g}): " + ", ".join(changed))
    b.add("avgpool", GlobalPool("avg", flatten=True))
    b.add("fc", Linear(cin, spec.classes, bias=True))
    return b.build("resnet", (spec.batch, 3, spec.resolution, spec.resolution))
