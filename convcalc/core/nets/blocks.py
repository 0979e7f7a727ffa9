"""Blocks: functions that add named nodes to a graph from given input nodes.

Each takes a ``GraphBuilder`` and the name of the node it reads, adds its
nodes (inside the builder's current scope) and returns the name of its output
node. A network is a data table walked through these; the same SE block is a
whole network for ``convcalc se`` and one step of a larger block elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from convcalc.core.nets.graph import GraphBuilder
from convcalc.core.ops.primitives import (
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

ActivationName = Literal["relu", "relu6", "sigmoid", "hardswish", "hardsigmoid"]


def conv_bn_act(
    b: GraphBuilder,
    x: str,
    name: str,
    cin: int,
    cout: int,
    kernel: int,
    stride: int = 1,
    groups: int = 1,
    act: ActivationName | None = None,
) -> str:
    """A k x k conv without bias (padding (k-1)/2), BN, then an activation: one table row."""
    padding = (kernel - 1) // 2
    conv = Conv2d(cin, cout, (kernel, kernel), (stride, stride), (padding, padding),
                  groups=groups, bias=False)  # fmt: skip
    b.add(name, conv, (x,), group=name)
    last = b.add(f"{name}.bn", BatchNorm2d(cout), group=name)
    if act is not None:
        last = b.add(f"{name}.{act}", Activation(act), group=name)
    return last


def residual(b: GraphBuilder, shortcut: str, branch: str, name: str, group: str = "") -> str:
    """``shortcut + branch``, shown in the row of ``group`` (the branch's last conv)."""
    return b.add(name, Add("residual_add"), (shortcut, branch), group=group)


def reduced_channels(channels: int, reduction: int) -> tuple[int, str | None]:
    """``C // r`` for an attention MLP, and a note when r does not divide C.

    Raises InvalidSpecError when either is not positive or C/r would be 0.
    """
    if channels <= 0 or reduction <= 0:
        raise InvalidSpecError(
            f"channels={channels} and reduction={reduction} must be positive integers"
        )
    if reduction > channels:
        raise InvalidSpecError(
            f"channels={channels} must be at least reduction={reduction} (C/r would be 0)"
        )
    hidden = channels // reduction
    note = None
    if channels % reduction:
        note = (f"channels={channels} is not a multiple of reduction={reduction}: "
                f"the hidden width is {channels} // {reduction} = {hidden}")  # fmt: skip
    return hidden, note


def squeeze_excitation(b: GraphBuilder, x: str, channels: int, reduction: int, bias: bool) -> str:
    """SE (DOMAIN.md 8): pool, FC C -> C/r, ReLU, FC C/r -> C, sigmoid, x * gate."""
    hidden, note = reduced_channels(channels, reduction)
    if note:
        b.note(note)
    return excitation(b, x, channels, hidden, bias=bias)


def excitation(
    b: GraphBuilder,
    x: str,
    channels: int,
    hidden: int,
    *,
    bias: bool,
    pointwise: bool = False,
    gate: ActivationName = "sigmoid",
) -> str:
    """An SE block of any hidden width: pool, C -> hidden, ReLU, hidden -> C, gate, x * gate.

    ``pointwise``: the two FCs are 1x1 convolutions on the (N, C, 1, 1) pooled map
    (torchvision's ``SqueezeExcitation``, MobileNet V3's SE with a hard-sigmoid gate),
    else Linear layers on the flattened (N, C) vector.
    """
    if hidden <= 0:
        raise InvalidSpecError(f"the SE hidden width {hidden} must be a positive integer")
    b.add("squeeze", GlobalPool("avg", flatten=not pointwise), (x,))
    if pointwise:
        b.add("fc1", Conv2d(channels, hidden, (1, 1), bias=bias))
        b.add("relu", Activation("relu"))
        b.add("fc2", Conv2d(hidden, channels, (1, 1), bias=bias))
    else:
        b.add("fc1", Linear(channels, hidden, bias))
        b.add("relu", Activation("relu"))
        b.add("fc2", Linear(hidden, channels, bias))
    weights = b.add(gate, Activation(gate))
    return b.add("scale", GateMultiply(), (x, weights))


def cbam(
    b: GraphBuilder,
    x: str,
    channels: int,
    reduction: int,
    *,
    spatial_kernel: int = 7,
    mlp_bias: bool = True,
    spatial_bn: bool = True,
) -> str:
    """CBAM as its authors' reference code builds it (DOMAIN.md 9).

    Channel gate: average- and max-pooled descriptors through one shared MLP
    (C -> C/r -> C, with biases), summed, sigmoid, x * gate. Spatial gate: max
    and mean over channels, a k x k conv 2 -> 1 without bias, BN, sigmoid,
    x * gate. The shared MLP's parameters count once, its MACs twice.
    """
    hidden, note = reduced_channels(channels, reduction)
    if note:
        b.note(note)
    if spatial_kernel <= 0 or spatial_kernel % 2 == 0:
        raise InvalidSpecError(
            f"spatial-kernel={spatial_kernel} must be a positive odd integer "
            "(padding (k-1)/2 keeps H x W)"
        )
    avg, mx, gate = "channel: avg branch", "channel: max branch", "channel: gate"
    b.add("avg_pool", GlobalPool("avg", flatten=True), (x,), group=avg)
    fc1 = b.add("mlp.fc1", Linear(channels, hidden, mlp_bias), group=avg)
    b.add("mlp.relu", Activation("relu"), group=avg)
    fc2 = b.add("mlp.fc2", Linear(hidden, channels, mlp_bias), group=avg)
    b.add("max_pool", GlobalPool("max", flatten=True), (x,), group=mx)
    b.add("mlp.fc1@max", Linear(channels, hidden, mlp_bias), group=mx, weights_of=fc1)
    b.add("mlp.relu@max", Activation("relu"), group=mx)
    fc2_max = b.add("mlp.fc2@max", Linear(hidden, channels, mlp_bias), group=mx, weights_of=fc2)
    b.add("channel.sum", Add("branch_add"), (fc2, fc2_max), group=gate)
    channel_gate = b.add("channel.sigmoid", Activation("sigmoid"), group=gate)
    scaled = b.add("channel.scale", GateMultiply(), (x, channel_gate), group=gate)
    spatial = "spatial: gate"
    pad = (spatial_kernel - 1) // 2
    b.add("spatial.pool", ChannelPool(), group=spatial)
    kernel = (spatial_kernel, spatial_kernel)
    b.add("spatial.conv", Conv2d(2, 1, kernel, padding=(pad, pad), bias=False), group=spatial)
    if spatial_bn:
        b.add("spatial.bn", BatchNorm2d(1), group=spatial)
    spatial_gate = b.add("spatial.sigmoid", Activation("sigmoid"), group=spatial)
    return b.add("spatial.scale", GateMultiply(), (scaled, spatial_gate), group=spatial)


def depthwise_separable(
    b: GraphBuilder,
    x: str,
    names: tuple[str, str],
    cin: int,
    cout: int,
    stride: int,
    act: ActivationName,
) -> str:
    """MobileNet V1's block: depthwise 3x3 + BN + act, then pointwise 1x1 + BN + act."""
    depthwise, pointwise = names
    x = conv_bn_act(b, x, depthwise, cin, cin, 3, stride, cin, act)
    return conv_bn_act(b, x, pointwise, cin, cout, 1, 1, 1, act)


def inverted_residual(
    b: GraphBuilder, x: str, cin: int, cout: int, expansion: int, stride: int
) -> str:
    """MobileNet V2's block: 1x1 expansion (absent when t = 1) + BN + ReLU6, 3x3 depthwise
    + BN + ReLU6, 1x1 linear projection + BN; a residual add when stride is 1 and
    channels match (shown in the projection's row)."""
    hidden = cin * expansion
    last = x
    if expansion != 1:
        last = conv_bn_act(b, last, "expand", cin, hidden, 1, 1, 1, "relu6")
    last = conv_bn_act(b, last, "dw", hidden, hidden, 3, stride, hidden, "relu6")
    last = conv_bn_act(b, last, "project", hidden, cout, 1, 1, 1, None)
    if stride == 1 and cin == cout:
        last = residual(b, x, last, "residual", group="project")
    return last


# An attention block placed inside a residual block: (builder, input node, channels) -> output.
Attention = Callable[[GraphBuilder, str, int], str]


def attention_block(kind: str, reduction: int, bias: bool) -> Attention:
    """SE or CBAM as a residual block's attention step (``se`` / ``cbam`` scope).

    SE: pool, FC C -> C/r, ReLU, FC C/r -> C, sigmoid, x * gate (the SE paper's
    SE-ResNet module). CBAM: the reference code's channel then spatial gate (7x7
    conv and BN), its MLP's biases as ``bias``.
    """
    if kind not in ("se", "cbam"):
        raise InvalidSpecError(f"attention={kind!r} is not one of se, cbam")

    def place(b: GraphBuilder, x: str, channels: int) -> str:
        with b.scope(kind):
            if kind == "se":
                return squeeze_excitation(b, x, channels, reduction, bias)
            return cbam(b, x, channels, reduction, mlp_bias=bias)

    return place


def _shortcut(b: GraphBuilder, x: str, cin: int, cout: int, stride: int) -> str:
    """The identity, or a 1x1 convolution + BN where the shape changes (ResNet's option B)."""
    if stride == 1 and cin == cout:
        return x
    return conv_bn_act(b, x, "downsample", cin, cout, 1, stride)


def _add_relu(b: GraphBuilder, shortcut: str, branch: str) -> str:
    """The residual addition, then ReLU: one row, ``add``."""
    residual(b, shortcut, branch, "add", group="add")
    return b.add("relu", Activation("relu"), group="add")


def basic_block(
    b: GraphBuilder,
    x: str,
    cin: int,
    cout: int,
    stride: int,
    attention: Attention | None = None,
) -> str:
    """ResNet-18/34's block: 3x3 (stride) + BN + ReLU, 3x3 + BN, [attention], + shortcut, ReLU."""
    y = conv_bn_act(b, x, "conv1", cin, cout, 3, stride, act="relu")
    y = conv_bn_act(b, y, "conv2", cout, cout, 3)
    if attention is not None:
        y = attention(b, y, cout)
    return _add_relu(b, _shortcut(b, x, cin, cout, stride), y)


def bottleneck(
    b: GraphBuilder,
    x: str,
    cin: int,
    width: int,
    cout: int,
    stride: int,
    *,
    groups: int = 1,
    stride_on_1x1: bool = False,
    attention: Attention | None = None,
) -> str:
    """ResNet-50+'s block: 1x1 to ``width``, 3x3 (``groups``), 1x1 to ``cout``, each + BN
    (ReLU after the first two), [attention after the last BN], + shortcut, ReLU.

    The stride is on the 3x3 (v1.5, torchvision) or on the first 1x1
    (``stride_on_1x1``: v1, the paper's Caffe models).
    """
    first, second = (stride, 1) if stride_on_1x1 else (1, stride)
    y = conv_bn_act(b, x, "conv1", cin, width, 1, first, act="relu")
    y = conv_bn_act(b, y, "conv2", width, width, 3, second, groups, act="relu")
    y = conv_bn_act(b, y, "conv3", width, cout, 1)
    if attention is not None:
        y = attention(b, y, cout)
    return _add_relu(b, _shortcut(b, x, cin, cout, stride), y)


def mobilenet_v3_block(
    b: GraphBuilder,
    x: str,
    cin: int,
    kernel: int,
    expanded: int,
    cout: int,
    stride: int,
    act: ActivationName,
    se_channels: int | None,
) -> str:
    """MobileNet V3's bneck: 1x1 expansion (absent when it would keep cin) + BN + act,
    k x k depthwise + BN + act, [SE: 1x1 convs with bias, ReLU, hard-sigmoid], 1x1
    projection + BN (linear); a residual add when stride is 1 and channels match."""
    last = x
    if expanded != cin:
        last = conv_bn_act(b, last, "expand", cin, expanded, 1, act=act)
    last = conv_bn_act(b, last, "dw", expanded, expanded, kernel, stride, expanded, act)
    if se_channels is not None:
        with b.scope("se"):
            last = excitation(
                b, last, expanded, se_channels, bias=True, pointwise=True, gate="hardsigmoid"
            )
    last = conv_bn_act(b, last, "project", expanded, cout, 1)
    if stride == 1 and cin == cout:
        last = residual(b, x, last, "residual", group="project")
    return last
