"""SE, CBAM and MobileNet V1/V2, each described as primitives from small data tables.

Channel rounding (said on stderr whenever it changes a width):

- MobileNet V1: TensorFlow-slim's ``depth(d) = max(int(d * alpha), 8)``
  (``mobilenet_v1.py``), the reference implementation of the paper.
- MobileNet V2: ``_make_divisible(c * alpha, 8)`` of TF-slim and torchvision
  (round to the nearest multiple of 8, at least 8, never more than 10% down);
  the last 1x1 convolution keeps 1280 channels for alpha < 1 and grows to
  ``_make_divisible(1280 * alpha, 8)`` above it; the expansion is ``in * t``.
"""

from __future__ import annotations

from dataclasses import dataclass

from convcalc.core.graph import INPUT, Network, Node, validate_input
from convcalc.core.primitives import (
    Activation,
    Add,
    BatchNorm2d,
    ChannelPool,
    Conv2d,
    GateMultiply,
    GlobalPool,
    Linear,
)
from convcalc.errors import InvalidSpecError

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


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """TF-slim's and torchvision's ``_make_divisible``: nearest multiple, never 10% down."""
    floor = divisor if min_value is None else min_value
    rounded = max(floor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def slim_depth(channels: int, alpha: float) -> int:
    """TF-slim MobileNet V1's ``depth``: ``max(int(channels * alpha), 8)``."""
    return max(int(channels * alpha), MOBILENET_V1_MIN_DEPTH)


@dataclass(frozen=True)
class MobileNetSpec:
    """A MobileNet as the user asked for it."""

    version: int = 1
    width: float = 1.0
    resolution: int = 224
    classes: int = 1000
    batch: int = 1

    def __post_init__(self) -> None:
        if self.version not in (1, 2):
            raise InvalidSpecError(
                f"version={self.version} is not a MobileNet version (use 1 or 2)"
            )
        if not self.width > 0:
            raise InvalidSpecError(f"width={self.width} must be greater than 0")
        for option, value in (
            ("resolution", self.resolution),
            ("classes", self.classes),
            ("batch", self.batch),
        ):
            if value <= 0:
                raise InvalidSpecError(f"{option}={value} must be a positive integer")

    def to_dict(self) -> dict[str, object]:
        """Every input, after defaults, as used."""
        return {
            "version": self.version,
            "width": self.width,
            "resolution": self.resolution,
            "classes": self.classes,
            "batch": self.batch,
        }


class _Builder:
    """Appends nodes and remembers the rounding decisions to report."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.notes: list[str] = []

    def add(self, name: str, op: object, *, inputs: tuple[str, ...] = (), group: str = "") -> str:
        assert isinstance(op, Conv2d | Linear | BatchNorm2d | Activation | GlobalPool | Add)
        self.nodes.append(Node(name, op, inputs, group=group))
        return name

    def conv_bn(
        self, name: str, cin: int, cout: int, kernel: int, stride: int, groups: int, act: str | None
    ) -> str:
        padding = (kernel - 1) // 2
        conv = Conv2d(cin, cout, (kernel, kernel), (stride, stride), (padding, padding),
                      groups=groups, bias=False)  # fmt: skip
        self.add(name, conv, group=name)
        last = self.add(f"{name}.bn", BatchNorm2d(cout), group=name)
        if act is not None:
            last = self.add(f"{name}.{act}", Activation(act), group=name)  # type: ignore[arg-type]
        return last

    def rounded(self, channels: int, alpha: float, value: int) -> int:
        exact = channels * alpha
        if value != exact:
            self.notes.append(f"{channels} x {alpha:g} = {exact:g} -> {value}")
        return value

    def network(self, name: str, input_shape: tuple[int, ...], rule: str) -> Network:
        notes: tuple[str, ...] = ()
        if self.notes:
            unique = list(dict.fromkeys(self.notes))
            notes = (f"channels rounded by {rule}: " + ", ".join(unique),)
        return Network(name, input_shape, tuple(self.nodes), notes)


def mobilenet_v1(spec: MobileNetSpec) -> Network:
    """MobileNet V1 (paper Table 1): conv 3x3 s2, 13 depthwise-separable blocks, pool, FC.

    BN + ReLU after every convolution, no convolution biases, FC with bias,
    global average pooling so every resolution works.
    """
    b = _Builder()
    rule = "TF-slim's depth() = max(int(c x width), 8)"
    cin = b.rounded(MOBILENET_V1_STEM, spec.width, slim_depth(MOBILENET_V1_STEM, spec.width))
    b.conv_bn("conv0", 3, cin, 3, 2, 1, "relu")
    for index, (channels, stride) in enumerate(MOBILENET_V1_BLOCKS, start=1):
        cout = b.rounded(channels, spec.width, slim_depth(channels, spec.width))
        b.conv_bn(f"dw{index}", cin, cin, 3, stride, cin, "relu")
        b.conv_bn(f"pw{index}", cin, cout, 1, 1, 1, "relu")
        cin = cout
    b.add("pool", GlobalPool("avg", flatten=True))
    b.add("fc", Linear(cin, spec.classes, bias=True))
    shape = (spec.batch, 3, spec.resolution, spec.resolution)
    validate_input(shape)
    return b.network("mobilenet_v1", shape, rule)


def mobilenet_v2(spec: MobileNetSpec) -> Network:
    """MobileNet V2 (paper Table 2): inverted residuals with linear bottlenecks, ReLU6.

    Each block: 1x1 expansion (absent when t = 1) + BN + ReLU6, 3x3 depthwise
    + BN + ReLU6, 1x1 projection + BN (linear); a residual add when stride is
    1 and channels match. Then 1x1 to 1280 + BN + ReLU6, pool, FC with bias.
    """
    b = _Builder()
    rule = "_make_divisible(c x width, 8)"
    cin = b.rounded(MOBILENET_V2_STEM, spec.width, make_divisible(MOBILENET_V2_STEM * spec.width))
    last = b.conv_bn("conv0", 3, cin, 3, 2, 1, "relu6")
    index = 0
    for t, channels, repeats, first_stride in MOBILENET_V2_BLOCKS:
        cout = b.rounded(channels, spec.width, make_divisible(channels * spec.width))
        for repeat in range(repeats):
            index += 1
            stride = first_stride if repeat == 0 else 1
            block_input = last
            hidden = cin * t
            if t != 1:
                b.conv_bn(f"b{index}.expand", cin, hidden, 1, 1, 1, "relu6")
            b.conv_bn(f"b{index}.dw", hidden, hidden, 3, stride, hidden, "relu6")
            last = b.conv_bn(f"b{index}.project", hidden, cout, 1, 1, 1, None)
            if stride == 1 and cin == cout:
                last = b.add(f"b{index}.residual", Add("residual_add"),
                             inputs=(block_input, last), group=f"b{index}.project")  # fmt: skip
            cin = cout
    last_channels = make_divisible(MOBILENET_V2_LAST * max(1.0, spec.width))
    if spec.width < 1:
        b.notes.append(f"the last conv keeps {MOBILENET_V2_LAST} (not scaled below width 1)")
    else:
        b.rounded(MOBILENET_V2_LAST, spec.width, last_channels)
    b.conv_bn("conv_last", cin, last_channels, 1, 1, 1, "relu6")
    b.add("pool", GlobalPool("avg", flatten=True))
    b.add("fc", Linear(last_channels, spec.classes, bias=True))
    shape = (spec.batch, 3, spec.resolution, spec.resolution)
    validate_input(shape)
    return b.network("mobilenet_v2", shape, rule)


def mobilenet(spec: MobileNetSpec) -> Network:
    """The MobileNet of ``spec.version``."""
    return mobilenet_v1(spec) if spec.version == 1 else mobilenet_v2(spec)


def _reduced(channels: int, reduction: int) -> tuple[int, tuple[str, ...]]:
    if channels <= 0 or reduction <= 0:
        raise InvalidSpecError(
            f"channels={channels} and reduction={reduction} must be positive integers"
        )
    if reduction > channels:
        raise InvalidSpecError(
            f"channels={channels} must be at least reduction={reduction} (C/r would be 0)"
        )
    hidden = channels // reduction
    notes: tuple[str, ...] = ()
    if channels % reduction:
        notes = (f"channels={channels} is not a multiple of reduction={reduction}: "
                 f"the hidden width is {channels} // {reduction} = {hidden}",)  # fmt: skip
    return hidden, notes


def se_block(
    channels: int, reduction: int, size: tuple[int, int], batch: int, bias: bool
) -> Network:
    """Squeeze-and-Excitation (DOMAIN.md 8): pool, FC C->C/r, ReLU, FC C/r->C, sigmoid, x*gate."""
    hidden, notes = _reduced(channels, reduction)
    shape = (batch, channels, *size)
    validate_input(shape)
    nodes = (
        Node("squeeze", GlobalPool("avg", flatten=True)),
        Node("fc1", Linear(channels, hidden, bias)),
        Node("relu", Activation("relu")),
        Node("fc2", Linear(hidden, channels, bias)),
        Node("sigmoid", Activation("sigmoid")),
        Node("scale", GateMultiply(), inputs=(INPUT, "sigmoid")),
    )
    return Network("se", shape, nodes, notes)


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
    """CBAM as its authors' reference code builds it (DOMAIN.md 9).

    Channel gate: average- and max-pooled descriptors through one shared MLP
    (C -> C/r -> C, with biases), summed, sigmoid, x * gate. Spatial gate: max
    and mean over channels, a k x k conv 2 -> 1 without bias, BN, sigmoid,
    x * gate. The shared MLP's parameters count once, its MACs twice.
    """
    hidden, notes = _reduced(channels, reduction)
    if spatial_kernel <= 0 or spatial_kernel % 2 == 0:
        raise InvalidSpecError(
            f"spatial-kernel={spatial_kernel} must be a positive odd integer "
            "(padding (k-1)/2 keeps H x W)"
        )
    shape = (batch, channels, *size)
    validate_input(shape)
    pad = (spatial_kernel - 1) // 2
    nodes = [
        Node("avg_pool", GlobalPool("avg", flatten=True), group="channel: avg branch"),
        Node("mlp.fc1", Linear(channels, hidden, mlp_bias), group="channel: avg branch"),
        Node("mlp.relu", Activation("relu"), group="channel: avg branch"),
        Node("mlp.fc2", Linear(hidden, channels, mlp_bias), group="channel: avg branch"),
        Node(
            "max_pool",
            GlobalPool("max", flatten=True),
            inputs=(INPUT,),
            group="channel: max branch",
        ),
        Node(
            "mlp.fc1@max",
            Linear(channels, hidden, mlp_bias),
            weights_of="mlp.fc1",
            group="channel: max branch",
        ),
        Node("mlp.relu@max", Activation("relu"), group="channel: max branch"),
        Node(
            "mlp.fc2@max",
            Linear(hidden, channels, mlp_bias),
            weights_of="mlp.fc2",
            group="channel: max branch",
        ),
        Node(
            "channel.sum",
            Add("branch_add"),
            inputs=("mlp.fc2", "mlp.fc2@max"),
            group="channel: gate",
        ),
        Node("channel.sigmoid", Activation("sigmoid"), group="channel: gate"),
        Node(
            "channel.scale",
            GateMultiply(),
            inputs=(INPUT, "channel.sigmoid"),
            group="channel: gate",
        ),
        Node("spatial.pool", ChannelPool(), group="spatial: gate"),
        Node(
            "spatial.conv",
            Conv2d(2, 1, (spatial_kernel, spatial_kernel), padding=(pad, pad), bias=False),
            group="spatial: gate",
        ),
    ]
    if spatial_bn:
        nodes.append(Node("spatial.bn", BatchNorm2d(1), group="spatial: gate"))
    nodes += [
        Node("spatial.sigmoid", Activation("sigmoid"), group="spatial: gate"),
        Node(
            "spatial.scale",
            GateMultiply(),
            inputs=("channel.scale", "spatial.sigmoid"),
            group="spatial: gate",
        ),
    ]
    return Network("cbam", shape, tuple(nodes), notes)
