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

from convcalc.core import ops as O  # noqa: N812 - short alias for the table
from convcalc.core import primitives as P  # noqa: N812
from convcalc.core.graph import INPUT, Network
from convcalc.core.weight_norm import WeightNorm


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
}
# Parameter and Opaque have no builder: they come only from reading a model's trace.


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
            values[name] = self.blocks[owner](*(values[s] for s in sources))
        return values[self.plan[-1][0]]
