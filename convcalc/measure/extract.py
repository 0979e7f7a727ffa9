"""``nn.Module`` -> primitive: the other direction of ``build.BUILDERS``.

``EXTRACTORS`` maps each module type convcalc reads to the primitive that
describes it, so that a graph read off a torch module is made of the same
primitives as the built-in networks. ``extract(build_module(p)) == p`` for
every primitive (a property test), and ``extract_network`` reads a whole
module's call graph back, so built-in networks round-trip too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch.fx
from torch import nn

from convcalc.core.nets.graph import INPUT, Network, Node
from convcalc.core.ops import primitives as P  # noqa: N812
from convcalc.core.ops import traced as O  # noqa: N812 - short alias for the table
from convcalc.measure import build


def _sizes(value: Any) -> tuple[int, ...]:
    return (value,) if isinstance(value, int) else tuple(int(v) for v in value)


def _conv(module: nn.modules.conv._ConvNd) -> P.Conv | None:
    """Any nn.ConvNd or nn.ConvTransposeNd with zero padding."""
    if module.padding_mode != "zeros":
        return None  # reflect/replicate padding: not the primitive's zero padding
    dims = len(module.kernel_size)
    padding: P.Padding
    if module.padding == "same":
        padding = "same"
    elif module.padding == "valid":
        padding = (0,) * dims
    else:
        padding = _sizes(module.padding)
    return P.Conv(
        module.in_channels,
        module.out_channels,
        _sizes(module.kernel_size),
        _sizes(module.stride),
        padding,
        _sizes(module.dilation),
        module.groups,
        module.bias is not None,
        transposed=module.transposed,
        output_padding=_sizes(module.output_padding),
    )


def _shared(module: build.SharedKernelDepthwiseConv2d) -> P.Conv2d:
    multiplier, _, *kernel = module.weight.shape
    return P.Conv(
        module.cin,
        module.cin * multiplier,
        tuple(kernel),
        _sizes(module.stride),
        module.padding if module.padding == "same" else _sizes(module.padding),
        _sizes(module.dilation),
        module.cin,
        module.bias is not None,
        shared_kernel=True,
    )


def _batchnorm(module: nn.BatchNorm2d) -> P.BatchNorm2d:
    return P.BatchNorm2d(module.num_features, module.affine)


def _adaptive(mode: str, dims: int) -> Callable[[Any], P.Primitive | None]:
    def read(module: Any) -> P.Primitive | None:
        size = module.output_size
        if isinstance(size, tuple) and None in size:
            return None  # "keep this axis": the size depends on the input
        sizes = _sizes(size) if not isinstance(size, int) else (size,) * dims
        if sizes == (1, 1):
            return P.GlobalPool(mode, flatten=False)  # type: ignore[arg-type]
        return O.AdaptivePool2d(mode, sizes)  # type: ignore[arg-type]

    return read


def _pool(mode: str, dims: int) -> Callable[[Any], P.Primitive]:
    def read(m: Any) -> P.Primitive:
        def sizes(value: Any) -> tuple[int, ...]:
            return (value,) * dims if isinstance(value, int) else _sizes(value)

        if mode == "max":
            return O.Pool2d("max", sizes(m.kernel_size), sizes(m.stride), sizes(m.padding),
                            sizes(m.dilation), m.ceil_mode)  # fmt: skip
        return O.Pool2d("avg", sizes(m.kernel_size), sizes(m.stride), sizes(m.padding),
                        (1,) * dims, m.ceil_mode, m.count_include_pad)  # fmt: skip

    return read


def _activation(name: str) -> Callable[[Any], P.Primitive]:
    return lambda module: P.Activation(name)


# One row per module type: the primitive it is (None: this instance is not one).
EXTRACTORS: dict[type[nn.Module], Callable[[Any], P.Primitive | None]] = {
    **dict.fromkeys(build.CONV_MODULES.values(), _conv),
    build.SharedKernelDepthwiseConv2d: _shared,
    nn.Linear: lambda m: P.Linear(m.in_features, m.out_features, m.bias is not None),
    nn.BatchNorm1d: _batchnorm,
    nn.BatchNorm2d: _batchnorm,
    nn.BatchNorm3d: _batchnorm,
    **{type(make()): _activation(name) for name, make in build.ACTIVATION_MODULES.items()},
    **{
        cls: (_adaptive if key.startswith("adaptive") else _pool)(key.split()[-1], dims)
        for key, classes in build.POOL_MODULES.items()
        for dims, cls in enumerate(classes, start=1)
    },
    nn.LayerNorm: lambda m: O.Norm(
        "layer_norm", tuple(m.normalized_shape), m.weight is not None, m.bias is not None
    ),
    nn.GroupNorm: lambda m: O.Norm(
        "group_norm", (m.num_channels,), m.affine, m.affine, m.num_groups
    ),
    build.GlobalPool2d: lambda m: P.GlobalPool(m.mode, m.flatten),
    build.ChannelPool: lambda m: P.ChannelPool(),
    build.GateMultiply: lambda m: P.GateMultiply(),
    build.Add: lambda m: P.Add(m.work),
}


def extract(module: nn.Module) -> P.Primitive | None:
    """The primitive a module is, or None when convcalc has no primitive for it."""
    reader = EXTRACTORS.get(type(module))
    return None if reader is None else reader(module)


class _LeafTracer(torch.fx.Tracer):
    """Stops at every module convcalc can read, so each becomes one call node."""

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return type(m) in EXTRACTORS or super().is_leaf_module(m, module_qualified_name)


def extract_network(
    module: nn.Module, input_shape: tuple[int, ...], name: str = "extracted"
) -> Network:
    """Read a module's call graph into a Network of primitives (names: module paths).

    A module called a second time becomes a node that shares the first call's
    weights. Raises ValueError on a module with no primitive, or on a call
    that is not a module (those need the dispatch-level trace).
    """
    graph = _LeafTracer().trace(module)
    modules = dict(module.named_modules())
    nodes: list[Node] = []
    names: dict[str, str] = {}
    calls: dict[str, int] = {}
    for fx_node in graph.nodes:
        if fx_node.op == "placeholder":
            names[fx_node.name] = INPUT
        elif fx_node.op == "call_module":
            target = str(fx_node.target)
            op = extract(modules[target])
            if op is None:
                raise ValueError(
                    f"module {target} ({type(modules[target]).__name__}) has no primitive"
                )
            count = calls.get(target, 0)
            calls[target] = count + 1
            node_name = target if count == 0 else f"{target}@{count}"
            sources = tuple(names[str(arg)] for arg in fx_node.args)
            nodes.append(Node(node_name, op, sources, target if count else None))
            names[fx_node.name] = node_name
        elif fx_node.op == "output":
            continue
        else:
            raise ValueError(f"{fx_node.op} {fx_node.target} is not a module call")
    return Network(name, input_shape, tuple(nodes))
