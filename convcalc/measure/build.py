"""Primitive -> ``nn.Module``, one table; a network -> one module that runs its graph.

The modules are built from the same description as the analytic figures, so
what is measured is exactly what was counted.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

import torch
import torch.nn.functional as F  # noqa: N812 - the usual torch alias
from torch import nn

from convcalc.core.nets.graph import INPUT, Network
from convcalc.core.ops import primitives as P  # noqa: N812
from convcalc.core.ops import traced as O  # noqa: N812 - short alias for the table
from convcalc.core.ops import vision as V  # noqa: N812
from convcalc.core.ops.weight_norm import WeightNorm


class SharedKernelDepthwiseConv2d(nn.Module):
    """Depthwise conv whose one ``(m, 1, *k)`` kernel is reused by every input channel.

    DOMAIN.md 4: parameters ``m * kh * kw (+ m)``; the kernel is repeated
    ``cin`` times in ``forward``, so input channel i gives outputs ``m*i .. m*i+m-1``.
    """

    def __init__(self, conv: P.Conv) -> None:
        super().__init__()
        self.cin = conv.cin
        self.stride = conv.stride
        self.padding: Any = conv.padding
        self.dilation = conv.dilation
        self.convolve = (F.conv1d, F.conv2d, F.conv3d)[conv.dims - 1]
        self.weight = nn.Parameter(torch.empty(conv.multiplier, 1, *conv.kernel))
        self.bias = nn.Parameter(torch.empty(conv.multiplier)) if conv.bias else None
        nn.init.kaiming_uniform_(self.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight.repeat(self.cin, *(1,) * (self.weight.dim() - 1))
        bias = None if self.bias is None else self.bias.repeat(self.cin)
        out: torch.Tensor = self.convolve(
            x, weight, bias, self.stride, self.padding, self.dilation, self.cin
        )
        return out


class GlobalPool2d(nn.Module):
    """Global average or max pooling, optionally flattened to (N, C)."""

    def __init__(self, mode: str, flatten: bool) -> None:
        super().__init__()
        self.mode = mode
        self.flatten = flatten

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # One call, as a model writes it: x.mean((2, 3)) is (N, C), keepdim (N, C, 1, 1).
        keep = not self.flatten
        return x.mean((2, 3), keepdim=keep) if self.mode == "avg" else x.amax((2, 3), keepdim=keep)


class ChannelPool(nn.Module):
    """CBAM's mean and max over channels, stacked to (N, 2, H, W)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], dim=1)


class GateMultiply(nn.Module):
    """``x * gate`` with the gate broadcast over x (an SE or CBAM reweighting)."""

    def forward(self, x: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
        return x * gate.reshape(*gate.shape, *([1] * (x.dim() - gate.dim())))


class Add(nn.Module):
    """Element-wise sum (residual add, branch sum), tallied under ``work``."""

    def __init__(self, work: str = "add") -> None:
        super().__init__()
        self.work = work

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a + b


class Functional(nn.Module):
    """Calls one torch function on its inputs, as a model's own forward code does
    (``x + y``, ``a @ b``, attention): the ops a trace reads back."""

    def __init__(self, function: Callable[..., torch.Tensor], **settings: Any) -> None:
        super().__init__()
        self.function = function
        self.settings = settings

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.function(*inputs, **self.settings)


# Pointwise functions a module can run (the others come only from reading a trace).
POINTWISE_FUNCTIONS: dict[str, Callable[..., torch.Tensor]] = {
    name: getattr(torch, name)
    for name in ("add", "sub", "mul", "div", "neg", "exp", "sqrt", "rsqrt", "abs", "erf")
}
MATMUL_FUNCTIONS: dict[str, Callable[..., torch.Tensor]] = {
    "matmul": torch.matmul, "mm": torch.mm, "bmm": torch.bmm, "linear": F.linear,
}  # fmt: skip
REDUCE_FUNCTIONS: dict[str, Callable[..., torch.Tensor]] = {
    "mean": torch.mean, "amax": torch.amax, "sum": torch.sum,
}  # fmt: skip


def _norm(op: O.Norm) -> nn.Module:
    if op.function == "group_norm":
        return nn.GroupNorm(op.groups, op.normalized[0], affine=op.weight)
    return nn.LayerNorm(op.normalized, elementwise_affine=op.weight, bias=op.bias)


POOL_MODULES: dict[str, tuple[Any, ...]] = {
    "max": (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d),
    "avg": (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d),
    "adaptive max": (nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d),
    "adaptive avg": (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d),
}


def _pool(op: O.Pool2d) -> nn.Module:
    module = POOL_MODULES[op.mode][len(op.kernel) - 1]
    if op.mode == "max":
        return module(op.kernel, op.stride, op.padding, op.dilation, ceil_mode=op.ceil_mode)  # type: ignore[no-any-return]
    return module(op.kernel, op.stride, op.padding, op.ceil_mode, op.count_include_pad)  # type: ignore[no-any-return]


def _adaptive(op: O.AdaptivePool2d) -> nn.Module:
    return POOL_MODULES[f"adaptive {op.mode}"][len(op.output) - 1](op.output)  # type: ignore[no-any-return]


CONV_MODULES: dict[str, type[nn.Module]] = {
    cls.__name__: cls
    for cls in (nn.Conv1d, nn.Conv2d, nn.Conv3d,
                nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
}  # fmt: skip


def _conv(op: P.Conv) -> nn.Module:
    if op.shared_kernel:
        return SharedKernelDepthwiseConv2d(op)
    module = CONV_MODULES[op.kind]
    if op.transposed:
        return module(
            op.cin, op.cout, op.kernel, op.stride, cast(Any, op.padding),
            op.output_padding, op.groups, op.bias, op.dilation,
        )  # fmt: skip
    return module(
        op.cin, op.cout, op.kernel, op.stride, cast(Any, op.padding), op.dilation, op.groups,
        op.bias,
    )  # fmt: skip


def _recurrent(op: O.Recurrent) -> nn.Module:
    """nn.LSTM, nn.GRU, nn.RNN (or their cells), as the op describes them; a packed one
    runs on the packed data (``PackedRecurrent``)."""
    name = O.RECURRENT_CLASSES[op.mode]
    options: dict[str, Any] = {"bias": op.bias}
    if name == "RNN":
        options["nonlinearity"] = op.mode.removeprefix("rnn_")
    if op.cell:
        return cast(nn.Module, getattr(nn, f"{name}Cell")(op.input_size, op.hidden_size,
                                                          **options))  # fmt: skip
    if op.proj_size:
        options["proj_size"] = op.proj_size
    layer = getattr(nn, name)(op.input_size, op.hidden_size, num_layers=op.num_layers,
                              batch_first=op.batch_first, bidirectional=op.bidirectional,
                              **options)  # fmt: skip
    return PackedRecurrent(layer) if op.packed else cast(nn.Module, layer)


class PackedRecurrent(nn.Module):
    """A recurrent layer over a packed sequence whose data is the input: its rows as that
    many one-step sequences (``batch_sizes = [rows]``); returns the output's data."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, data: torch.Tensor) -> torch.Tensor:
        # batch_sizes live on the CPU whatever the data's device (torch's rule)
        sizes = torch.tensor([data.shape[0]], dtype=torch.int64, device="cpu")
        out, _ = self.layer(nn.utils.rnn.PackedSequence(data, sizes))
        return cast(torch.Tensor, out.data)


class Conv1D(nn.Module):
    """GPT-2's ``Conv1D`` (transformers.pytorch_utils): a linear map whose weight is stored
    ``(in, out)`` and run as ``addmm(bias, x, weight)`` on the rows of x; its class name
    holds "Conv", which torchinfo's rule keys on. Without a bias, a "Conv" module running
    ``F.linear`` on an ``(out, in)`` weight (the other way such a module reads)."""

    def __init__(self, op: O.ConvNamedLinear) -> None:
        super().__init__()
        self.out_features = op.out_features
        shape = (op.in_features, op.out_features) if op.bias else (op.out_features,
                                                                   op.in_features)  # fmt: skip
        self.weight = nn.Parameter(torch.empty(shape))
        self.bias = nn.Parameter(torch.zeros(op.out_features)) if op.bias else None
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.bias is None:
            return F.linear(x, self.weight)
        rows = x if x.dim() == 2 else x.reshape(-1, x.shape[-1])
        out = torch.addmm(self.bias, rows, self.weight)
        return out if x.dim() == 2 else out.reshape(*x.shape[:-1], self.out_features)


class FoldPatches(nn.Module):
    """``F.fold`` (col2im) into the op's ``(N, C, H, W)``: the input's ``(N, C x kh x kw,
    L)`` columns are stride-1 patches of the first ``kh x kw`` (rows first) whose
    ``(H - kh + 1)(W - kw + 1)`` positions are its L (the op's figures do not depend on
    which fits)."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.channels, self.size = shape[1], (shape[2], shape[3])

    def patch(self, columns: int, positions: int) -> tuple[int, int]:
        """The patch whose stride-1 positions fill the map, read from the columns' sizes."""
        h, w = self.size
        per = columns // self.channels
        for kh in range(1, h + 1):
            kw = per // kh
            if kh * kw == per and kw <= w and (h - kh + 1) * (w - kw + 1) == positions:
                return kh, kw
        raise ValueError(f"no stride-1 patch folds {columns} x {positions} columns into "
                         f"{self.channels} x {h} x {w}")  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.fold(x, self.size, self.patch(x.shape[-2], x.shape[-1]))


def _deform_conv(op: O.DeformConv) -> nn.Module:
    """torchvision's DeformConv2d: called with (input, offset) or (input, offset, mask)."""
    from torchvision.ops import DeformConv2d  # torchvision loads only when one is built

    return cast(nn.Module, DeformConv2d(op.cin, op.cout, op.kernel, op.stride, op.padding,
                                        op.dilation, op.groups, op.bias))  # fmt: skip


class InstanceNorm(nn.Module):
    """``F.instance_norm`` over any rank (nn.InstanceNorm1d..3d's call), with the affine
    weight and bias, and either each sample's statistics or the running ones (eval with
    ``track_running_stats``), as the op says, whatever the training flag."""

    def __init__(self, op: V.InstanceNorm) -> None:
        super().__init__()
        self.input_stats = op.input_stats
        self.weight = nn.Parameter(torch.ones(op.channels)) if op.affine else None
        self.bias = nn.Parameter(torch.zeros(op.channels)) if op.affine else None
        running = not op.input_stats
        self.register_buffer("running_mean", torch.zeros(op.channels) if running else None)
        self.register_buffer("running_var", torch.ones(op.channels) if running else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = cast(torch.Tensor | None, self.running_mean)
        var = cast(torch.Tensor | None, self.running_var)
        return F.instance_norm(x, mean, var, self.weight, self.bias, self.input_stats)


def _select(op: V.Select) -> nn.Module:
    """topk of the op's last size along the last axis; the others as torch names them."""
    if op.function == "topk":
        return Functional(cast(Callable[..., torch.Tensor], torch.topk), k=op.shape[-1])
    return Functional(getattr(torch, op.function))


def _nms(_op: V.NMS) -> nn.Module:
    """torchvision's nms(boxes, scores) at IoU 0.5 (the count does not depend on it)."""
    from torchvision.ops import nms

    return Functional(nms, iou_threshold=0.5)


def _roi_align(op: V.RoIAlign) -> nn.Module:
    from torchvision.ops import roi_align

    return Functional(roi_align, output_size=op.output_size, sampling_ratio=op.sampling_ratio)


# int8 ops run on quantized tensors of this scale and zero point.
QUANTIZED_SCALE, QUANTIZED_ZERO_POINT = 0.1, 0


def _quantize(op: V.Quantize) -> nn.Module:
    """quantize_per_tensor, quantize_per_channel (one scale per channel, axis 1) or
    dequantize, as torch.ao's QuantStub and DeQuantStub run them."""
    if op.function == "dequantize":
        return Functional(torch.dequantize)
    if op.function == "quantize_per_tensor":
        return Functional(torch.quantize_per_tensor, scale=QUANTIZED_SCALE,
                          zero_point=QUANTIZED_ZERO_POINT, dtype=torch.quint8)  # fmt: skip
    return QuantizePerChannel()


class QuantizePerChannel(nn.Module):
    """``torch.quantize_per_channel`` over the channels (axis 1), each of one scale."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scales = torch.full((x.shape[1],), QUANTIZED_SCALE, dtype=torch.float64)
        zero_points = torch.zeros(x.shape[1], dtype=torch.int64)
        return torch.quantize_per_channel(x, scales, zero_points, 1, torch.quint8)


def _packed(op: V.Packed) -> nn.Module:
    """torch.ao's int8 Conv1d..3d, ConvTranspose1d..3d and Linear (ConvReLU and LinearReLU
    fused), built on the CPU: their weights are packed for its int8 kernels."""
    from torch.ao.nn import intrinsic, quantized

    inner = op.op
    fused = intrinsic.quantized if op.relu else quantized
    with torch.device("cpu"):
        if isinstance(inner, P.Conv):
            suffix = f"{inner.dims}d"
            if inner.transposed:
                return cast(nn.Module, getattr(quantized, f"ConvTranspose{suffix}")(
                    inner.cin, inner.cout, inner.kernel, inner.stride, inner.padding,
                    inner.output_padding, inner.groups, inner.bias, inner.dilation))  # fmt: skip
            name = f"ConvReLU{suffix}" if op.relu else f"Conv{suffix}"
            return cast(nn.Module, getattr(fused, name)(
                inner.cin, inner.cout, inner.kernel, inner.stride, inner.padding,
                inner.dilation, inner.groups, inner.bias))  # fmt: skip
        if op.relu:
            return cast(nn.Module, fused.LinearReLU(inner.in_features, inner.out_features,
                                                    inner.bias))  # fmt: skip
        linear: Any = quantized.Linear  # untyped in torch
        return cast(nn.Module, linear(inner.in_features, inner.out_features, bias_=inner.bias))


def _fused_pointwise(op: V.FusedPointwise) -> nn.Module:
    """torch.ops.quantized.add_relu(a, b, scale, zero_point) (FloatFunctional's add_relu
    once converted)."""
    function = getattr(torch.ops.quantized, op.function)
    return Functional(function, scale=QUANTIZED_SCALE, zero_point=QUANTIZED_ZERO_POINT)


# Every activation's module, by the class name core/primitives gives it; softmax over
# the channels (dim 1), as a network's head uses it.
ACTIVATION_MODULES: dict[str, Callable[[], nn.Module]] = {
    name: functools.partial(getattr(nn, cls), **({"dim": 1} if "Softmax" in cls else {}))
    for name, cls in P.ACTIVATION_CLASSES.items()
}

# One row per primitive type: how to build it in torch.
BUILDERS: dict[type[P.Primitive], Callable[[Any], nn.Module]] = {
    P.Conv2d: _conv,
    P.Linear: lambda op: nn.Linear(op.in_features, op.out_features, op.bias),
    P.BatchNorm2d: lambda op: nn.BatchNorm2d(op.channels, affine=op.affine),
    P.Activation: lambda op: ACTIVATION_MODULES[op.function](),
    P.GlobalPool: lambda op: GlobalPool2d(op.mode, op.flatten),
    P.ChannelPool: lambda op: ChannelPool(),
    P.GateMultiply: lambda op: GateMultiply(),
    P.Add: lambda op: Add(op.work),
    O.Pointwise: lambda op: Functional(POINTWISE_FUNCTIONS[op.function]),
    O.MatMul: lambda op: Functional(MATMUL_FUNCTIONS[op.function]),
    O.Einsum: lambda op: Functional(functools.partial(torch.einsum, op.equation)),
    O.Attention: lambda op: Functional(F.scaled_dot_product_attention),
    O.Norm: _norm,
    O.Pool2d: _pool,
    O.AdaptivePool2d: _adaptive,
    O.Interpolate: lambda op: Functional(F.interpolate, size=op.size, mode=op.mode),
    O.Reduce: lambda op: Functional(REDUCE_FUNCTIONS[op.function], dim=op.dims, keepdim=op.keepdim),
    WeightNorm: lambda op: Functional(torch._weight_norm, dim=op.dim),
    O.Recurrent: _recurrent,
    O.ConvNamedLinear: Conv1D,
    O.Fold: lambda op: FoldPatches(op.shape),
    O.DeformConv: _deform_conv,
    # detection, optical flow and int8 (core.ops.vision)
    V.Select: _select,
    V.NMS: _nms,
    V.RoIAlign: _roi_align,
    V.InstanceNorm: InstanceNorm,
    V.GridSample: lambda op: Functional(F.grid_sample, mode=op.mode, align_corners=False),
    V.Quantize: _quantize,
    V.Packed: _packed,
    V.FusedPointwise: _fused_pointwise,
}
# Parameter and Opaque have no builder: they come only from reading a model's trace (a
# parameter read as data; a call with no formula).


def build_module(op: P.Primitive) -> nn.Module:
    """The torch module for one primitive."""
    return BUILDERS[type(op)](op)


def module_key(node_name: str) -> str:
    """The ``nn.ModuleDict`` key of a node (dots are not allowed there)."""
    return node_name.replace(".", "_")


class GraphModule(nn.Module):
    """Runs a ``Network``'s nodes in order; nodes that share weights call the same module."""

    def __init__(self, network: Network) -> None:
        super().__init__()
        self.blocks = nn.ModuleDict()
        self.plan: list[tuple[str, str, tuple[str, ...]]] = []
        for index, node in enumerate(network.nodes):
            if node.weights_of is None:
                # nn.Module names cannot hold dots; node names may ("b3.dw").
                key = module_key(node.name)
                assert key not in self.blocks, f"two nodes map to module {key!r}"
                self.blocks[key] = build_module(node.op)
            owner = module_key(network.owner(node).name)
            self.plan.append((node.name, owner, network.sources(index)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values = {INPUT: x}
        for name, owner, sources in self.plan:
            out = self.blocks[owner](*(values[s] for s in sources))
            # a recurrent layer returns (output, state), topk (values, indices): the op's
            # result is the first, as a model's forward takes it
            values[name] = out[0] if isinstance(out, tuple) else out
        return values[self.plan[-1][0]]
