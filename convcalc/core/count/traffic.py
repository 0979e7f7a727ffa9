"""The roofline of a network: bytes moved, arithmetic intensity, each layer's bound (pure).

The network half of ``core.count.roofline``, whose docstring states the rules
(and which re-exports everything here): what a layer reads and writes, the
element-wise ops ``--fused`` folds into the op before them, and each layer's
lower-bound time on a device (a ``core.count.roofline.Roof``) when one is given.
Its own module so that every report's bytes moved and intensity load none of
the device machinery (the shipped table, saved specs, ``--hardware`` parsing)
that only ``--hardware`` needs (start-up, SPEC "Performance").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import FrozenInstanceError
from typing import Any, Literal, Protocol

from convcalc.core.count.figures import ELEMENT_BYTES, FLOPS_PER_MAC, NetworkFigures
from convcalc.core.nets.graph import INPUT
from convcalc.core.ops.primitives import Primitive, fmt_int, numel

MEMORY = "memory"  # the level of a layer bounded by the device's main memory (DRAM, HBM)

Bound = Literal["memory", "compute"]


def ratio_text(value: float) -> str:
    """A ratio in four significant digits; an exact quotient past a float's range in full."""
    return fmt_int(value) if isinstance(value, int) else f"{value:,.4g}"


def quotient(a: float, b: float) -> float:
    """``a / b`` as a float, or, past a float's range (a spec of thousands of digits), the
    exact quotient rounded down: an integer JSON and the formulas still write."""
    try:
        return a / b
    except OverflowError:
        from fractions import Fraction  # past a float's range only (start-up)

        return int(Fraction(a) // Fraction(b))


class Device(Protocol):
    """What the roofline reads of a device (``core.count.roofline.Roof`` is one): the peak
    its dtype reaches, main memory's bandwidth, and the level bounding a working set."""

    @property
    def peak(self) -> float: ...  # FLOP/s

    @property
    def bandwidth(self) -> float: ...  # bytes/s, main memory

    @property
    def ridge(self) -> float: ...

    def level(self, working_set: int) -> tuple[str, float]: ...

    def peak_text(self) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


class _Record:
    """The records below: plain classes with ``__slots__``, frozen as a frozen dataclass is
    (every assignment and deletion refused), without its generated methods, which Python
    3.11 compiles one by one at import (start-up). Nothing compares or replaces them."""

    __slots__ = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")


_set = object.__setattr__


class Options(_Record):
    """How a report's roofline is drawn: on which device (none: bytes and intensity
    only), and whether element-wise ops are fused into the op before them."""

    __slots__ = ("fused", "roof")
    roof: Device | None
    fused: bool

    def __init__(self, roof: Device | None = None, fused: bool = False) -> None:
        _set(self, "roof", roof)
        _set(self, "fused", fused)

    @property
    def shown(self) -> bool:
        """Whether tables show the roofline (a device, or --fused, was asked for)."""
        return self.roof is not None or self.fused


# The primitives taken as element-wise (fused with --fused). Softmax reads a whole row,
# so it is no element-wise op here.
ELEMENTWISE_KINDS = frozenset({"BatchNorm2d", "Activation", "Add", "GateMultiply", "Pointwise"})
NOT_ELEMENTWISE = frozenset({"softmax", "log_softmax"})
# Ops that move no data: views of their input, or a parameter's own tensor.
VIEWS = frozenset(
    {
        "flatten", "reshape", "view", "permute", "transpose", "unsqueeze", "squeeze",
        "expand", "expand_as", "__getitem__", "chunk", "split", "unbind", "narrow", "select",
        "dropout", "dropout_", "dropout1d", "dropout2d", "dropout3d", "feature_dropout",
        "alpha_dropout", "feature_alpha_dropout", "stochastic_depth", "movedim", "unflatten",
        "t", "detach", "view_as", "reshape_as", "swapaxes", "mT", "split_with_sizes",
        "tensor_split", "split heads", "merge heads", "input", "buffer", "constant",
    }
)  # fmt: skip
# Ops that write a tensor without reading one (their listed source is a placeholder).
CREATIONS = frozenset(
    {
        "zeros", "ones", "arange", "full", "empty", "tensor", "new_zeros", "new_ones",
        "new_empty", "meshgrid", "eye", "linspace", "new_full", "new_tensor",
    }
)  # fmt: skip


def moves_nothing(op: Primitive) -> bool:
    """A view or a parameter's own tensor: no bytes of its own."""
    if op.kind == "Parameter" or type(op) is Primitive:
        return True
    return op.kind == "Opaque" and getattr(op, "function", "") in VIEWS


def elementwise(op: Primitive) -> bool:
    """An op that ``--fused`` fuses into the op before it."""
    return op.kind in ELEMENTWISE_KINDS and getattr(op, "function", "") not in NOT_ELEMENTWISE


class Traffic(_Record):
    """What one layer reads and writes, in bytes (before fusion is attributed)."""

    __slots__ = ("inputs", "output", "weights")
    weights: int
    inputs: int
    output: int

    def __init__(self, weights: int, inputs: int, output: int) -> None:
        _set(self, "weights", weights)
        _set(self, "inputs", inputs)
        _set(self, "output", output)

    @property
    def total(self) -> int:
        """Bytes moved."""
        return self.weights + self.inputs + self.output


class LayerBound(_Record):
    """One layer's roofline. Under ``--fused`` a fused layer (``fused_into`` set) shows
    nothing of its own: its kernel's figures are on the kernel's first layer."""

    __slots__ = (
        "bandwidth",
        "bytes_moved",
        "flops",
        "fused_into",
        "index",
        "level",
        "name",
        "peak",
        "traffic",
    )  # fmt: skip
    index: int
    name: str
    traffic: Traffic  # this layer's own reads and writes (after fusion)
    bytes_moved: int  # the kernel's bytes, on its first layer; 0 on a fused one
    flops: int  # likewise
    fused_into: str | None
    level: str
    bandwidth: float | None  # the level's, on a device
    peak: float | None

    def __init__(
        self,
        index: int,
        name: str,
        traffic: Traffic,
        bytes_moved: int,
        flops: int,
        fused_into: str | None = None,
        level: str = MEMORY,
        bandwidth: float | None = None,
        peak: float | None = None,
    ) -> None:
        _set(self, "index", index)
        _set(self, "name", name)
        _set(self, "traffic", traffic)
        _set(self, "bytes_moved", bytes_moved)
        _set(self, "flops", flops)
        _set(self, "fused_into", fused_into)
        _set(self, "level", level)
        _set(self, "bandwidth", bandwidth)
        _set(self, "peak", peak)

    @property
    def intensity(self) -> float | None:
        """FLOPs per byte moved (None when it moves nothing)."""
        return quotient(self.flops, self.bytes_moved) if self.bytes_moved else None

    @property
    def compute_time(self) -> float | None:
        """FLOPs / peak, on a device."""
        return None if self.peak is None else quotient(self.flops, self.peak)

    @property
    def memory_time(self) -> float | None:
        """Bytes / bandwidth, on a device."""
        return None if self.bandwidth is None else quotient(self.bytes_moved, self.bandwidth)

    @property
    def time(self) -> float | None:
        """The lower bound, max(FLOPs / peak, bytes / bandwidth), on a device."""
        if self.compute_time is None or self.memory_time is None:
            return None
        return max(self.compute_time, self.memory_time)

    @property
    def ridge(self) -> float | None:
        """Peak / the bandwidth of the level bounding it."""
        return None if self.peak is None or not self.bandwidth else self.peak / self.bandwidth

    @property
    def bound(self) -> Bound | None:
        """memory when bytes take at least as long as FLOPs, else compute (None off a
        device, or for a layer that does nothing)."""
        if self.compute_time is None or self.memory_time is None or self.fused_into:
            return None
        if not self.bytes_moved and not self.flops:
            return None
        return "memory" if self.memory_time >= self.compute_time else "compute"

    def to_dict(self) -> dict[str, Any]:
        """This layer's figures under their catalogue names (only those it has)."""
        result: dict[str, Any] = {"bytes_moved": self.bytes_moved}
        if self.intensity is not None:
            result["arithmetic_intensity"] = self.intensity
        if self.time is not None:
            result["time_bound"] = self.time
        if self.bound is not None:
            result["bound"] = self.bound
        if self.fused_into is not None:
            result["fused_into"] = self.fused_into
        return result


class Roofline(_Record):
    """A network's roofline: per layer (node) and in total."""

    __slots__ = ("dtype", "dtype_bytes", "flops", "layers", "options")
    options: Options
    layers: tuple[LayerBound, ...]
    flops: int
    dtype: str
    dtype_bytes: int

    def __init__(self, options: Options, layers: tuple[LayerBound, ...], flops: int, dtype: str,
                 dtype_bytes: int) -> None:  # fmt: skip
        _set(self, "options", options)
        _set(self, "layers", layers)
        _set(self, "flops", flops)
        _set(self, "dtype", dtype)
        _set(self, "dtype_bytes", dtype_bytes)

    @property
    def bytes_moved(self) -> int:
        """Every layer's bytes moved, summed."""
        return sum(x.bytes_moved for x in self.layers)

    @property
    def weight_bytes(self) -> int:
        """Weights read, summed over the layers."""
        return sum(x.traffic.weights for x in self.layers)

    @property
    def read_bytes(self) -> int:
        """Inputs read, summed over the layers."""
        return sum(x.traffic.inputs for x in self.layers)

    @property
    def written_bytes(self) -> int:
        """Outputs written, summed over the layers."""
        return sum(x.traffic.output for x in self.layers)

    @property
    def intensity(self) -> float | None:
        """The whole network's FLOPs per byte."""
        moved = self.bytes_moved
        return quotient(self.flops, moved) if moved else None

    @property
    def time(self) -> float | None:
        """The sum of the layers' lower bounds (None off a device)."""
        if self.options.roof is None:
            return None
        return sum(x.time or 0.0 for x in self.layers)

    @property
    def memory_time(self) -> float | None:
        """The part of ``time`` in memory-bound layers."""
        if self.options.roof is None:
            return None
        return sum(x.time or 0.0 for x in self.layers if x.bound == "memory")

    @property
    def memory_share(self) -> float | None:
        """memory_time / time (0 when the bound is 0)."""
        total, memory = self.time, self.memory_time
        if total is None or memory is None:
            return None
        return memory / total if total else 0.0

    @property
    def bound(self) -> Bound | None:
        """memory when memory-bound layers take at least half the time, else compute."""
        share = self.memory_share
        if share is None:
            return None
        return "memory" if share >= 0.5 else "compute"

    @property
    def ridge(self) -> float | None:
        """The device's ridge point (main memory)."""
        roof = self.options.roof
        return None if roof is None else roof.ridge

    def to_dict(self) -> dict[str, Any]:
        """The ``analytic.roofline`` object of the JSON document."""
        roof = self.options.roof
        result: dict[str, Any] = {
            "bytes_moved": self.bytes_moved,
            "weight_bytes": self.weight_bytes,
            "read_bytes": self.read_bytes,
            "written_bytes": self.written_bytes,
            "fused": self.options.fused,
        }
        if self.intensity is not None:
            result["arithmetic_intensity"] = self.intensity
        if roof is not None:
            result["hardware"] = roof.to_dict()
            result["ridge_point"] = roof.ridge
            result["time_bound"] = self.time
            result["memory_bound_share"] = self.memory_share
            result["bound"] = self.bound
        return result

    def layer(self, index: int) -> LayerBound:
        """The roofline of node ``index``."""
        return self.layers[index]

    def row(self, indices: Iterable[int]) -> dict[str, Any]:
        """A table row's figures over several nodes: bytes, FLOPs and time summed, the
        intensity of the sums, the bound of the larger part of its time."""
        members = [self.layers[i] for i in indices]
        moved = sum(x.bytes_moved for x in members)
        work = sum(x.flops for x in members)
        result: dict[str, Any] = {
            "bytes_moved": moved,
            "arithmetic_intensity": quotient(work, moved) if moved else None,
        }
        if self.options.roof is not None:
            times = [x for x in members if x.time is not None]
            memory = sum(x.time or 0.0 for x in times if x.bound == "memory")
            compute = sum(x.time or 0.0 for x in times if x.bound == "compute")
            result["time_bound"] = memory + compute
            bound = None
            if memory or compute:
                bound = "memory" if memory >= compute else "compute"
            elif any(x.fused_into for x in members):
                bound = "fused"
            result["bound"] = bound
        return result

    # ------------------------------------------------------------ formulas

    def bytes_formula(self, layer: LayerBound | None = None) -> str:
        """Bytes moved with the numbers in (a layer's, or the total's)."""
        traffic = (
            Traffic(self.weight_bytes, self.read_bytes, self.written_bytes)
            if layer is None
            else layer.traffic
        )
        per = " per layer" if layer is None else ""
        fused = "; element-wise ops fused into the op before them" if self.options.fused else ""
        return (
            f"weights {fmt_int(traffic.weights)} + inputs {fmt_int(traffic.inputs)} + outputs "
            f"{fmt_int(traffic.output)} = {fmt_int(traffic.total)} B: each read or written "
            f"once{per}, {self.dtype_bytes} B ({self.dtype}) each{fused}"
        )

    def intensity_formula(self, flops: int, moved: int) -> str:
        """``14,193,792 FLOPs / 3,328 B = 4,265``."""
        if not moved:
            return "no bytes moved"
        ratio = quotient(flops, moved)
        return f"{fmt_int(flops)} FLOPs (2 x MACs) / {fmt_int(moved)} B = {ratio_text(ratio)}"

    def ridge_formula(self) -> str:
        """``989.5 TFLOP/s (bf16) / 3.35 TB/s = 295.4 FLOPs/B``."""
        roof = self.options.roof
        if roof is None:
            return ""
        return f"{roof.peak_text()} / {rate(roof.bandwidth, 'B/s')} = {roof.ridge:,.4g} FLOPs/B"

    def time_formula(self, layer: LayerBound | None = None) -> str:
        """The lower bound with the numbers in."""
        roof = self.options.roof
        if roof is None:
            return ""
        if layer is None:
            kernels = sum(1 for x in self.layers if x.time)
            return f"sum over {kernels} kernels of max(FLOPs / peak, bytes / bandwidth)"
        if layer.time is None:
            return ""
        level = "" if layer.level == MEMORY else f" ({layer.level})"
        return (
            f"max({fmt_int(layer.flops)} / {roof.peak_text()}, {fmt_int(layer.bytes_moved)} B"
            f" / {rate(layer.bandwidth or 0.0, 'B/s')}{level}) = max({seconds(layer.compute_time)}"
            f", {seconds(layer.memory_time)}) = {seconds(layer.time)}"
        )

    def bound_formula(self, layer: LayerBound | None = None) -> str:
        """Why the verdict: intensity against the ridge."""
        if self.options.roof is None:
            return ""
        if layer is None:
            share = self.memory_share or 0.0
            return (
                f"memory-bound layers {seconds(self.memory_time)} of {seconds(self.time)}"
                f" = {share:.1%} of the bound"
            )
        if layer.intensity is None or layer.ridge is None:
            return ""
        sign = "<=" if layer.bound == "memory" else ">"
        shown = ratio_text(layer.intensity)
        return f"intensity {shown} {sign} ridge {layer.ridge:,.4g} FLOPs/B"

    def share_formula(self) -> str:
        """The memory-bound share with the numbers in."""
        return self.bound_formula(None)


def traffic(figures: NetworkFigures) -> list[Traffic]:
    """Each node's reads and writes, unfused: weights, distinct inputs, output."""
    network = figures.network
    size = figures.dtype_bytes
    by_name = {node.name: node for node in network.nodes}
    input_sizes = _input_sizes(figures)
    result = []
    for index, node in enumerate(network.nodes):
        layer = figures.layers[index]
        op = node.op
        if moves_nothing(op):
            result.append(Traffic(0, 0, 0))
            continue
        owner = by_name[node.weights_of] if node.weights_of else node
        weights = owner.op.params * size
        reads = 0
        if not (op.kind == "Opaque" and getattr(op, "function", "") in CREATIONS):
            seen: set[str] = set()
            for source, shape in zip(network.sources(index), layer.input_shapes, strict=False):
                if source not in seen:  # a tensor given twice (x * x) is read once
                    seen.add(source)
                    reads += numel(shape) * input_sizes.get(source, size)
        result.append(Traffic(weights, reads, numel(layer.output_shape) * size))
    return result


def _input_sizes(figures: NetworkFigures) -> dict[str, int]:
    """Bytes per element of the network's inputs: a read model's by their own dtype."""
    network = figures.network
    if not network.inputs:
        return {}
    sizes = {INPUT: ELEMENT_BYTES.get(network.inputs[0][1], figures.dtype_bytes)}
    later = [n.name for n in network.nodes
             if n.op.kind == "Opaque" and getattr(n.op, "function", "") == "input"]  # fmt: skip
    for name, (_, dtype) in zip(later, network.inputs[1:], strict=False):
        sizes[name] = ELEMENT_BYTES.get(dtype, figures.dtype_bytes)
    return sizes


def roofline(figures: NetworkFigures, options: Options | None = None) -> Roofline:
    """The roofline of a network's figures under ``options`` (default: the figures' own
    ``roofline_options``, else no device, unfused)."""
    if options is None:
        options = getattr(figures, "roofline_options", None) or Options()
    network = figures.network
    nodes = network.nodes
    own = traffic(figures)
    heads = list(range(len(nodes)))  # the kernel each node runs in
    if options.fused:
        own = _fuse(figures, own, heads)
    kernel_bytes = [0] * len(nodes)
    kernel_flops = [0] * len(nodes)
    for index, head in enumerate(heads):
        kernel_bytes[head] += own[index].total
        kernel_flops[head] += FLOPS_PER_MAC * figures.layers[index].macs
    roof = options.roof
    layers = []
    for index, node in enumerate(nodes):
        head = heads[index]
        fused = head != index
        moved = 0 if fused else kernel_bytes[index]
        level, bandwidth = MEMORY, None
        if roof is not None and not fused:
            level, bandwidth = roof.level(moved)
        layers.append(
            LayerBound(
                index=index,
                name=node.name,
                traffic=own[index],
                bytes_moved=moved,
                flops=0 if fused else kernel_flops[index],
                fused_into=nodes[head].name if fused else None,
                level=level,
                bandwidth=bandwidth,
                peak=None if roof is None or fused else roof.peak,
            )
        )
    return Roofline(options, tuple(layers), figures.totals.flops, figures.dtype,
                    figures.dtype_bytes)  # fmt: skip


def roofline_of(figures: NetworkFigures) -> Roofline:
    """The roofline of a network's figures under their own ``roofline_options``, drawn
    once and kept on the (frozen) figures object as a cache."""
    cached = figures.__dict__.get("_roofline")
    if not isinstance(cached, Roofline):
        cached = roofline(figures)
        object.__setattr__(figures, "_roofline", cached)  # a cache, not a field
    return cached


def _fuse(figures: NetworkFigures, own: list[Traffic], heads: list[int]) -> list[Traffic]:
    """Fold each element-wise node into the kernel of the node just before it, when it
    reads that node's output: it does not read it, and that node does not write it
    unless another node (or the network's output) reads it. ``heads`` is updated."""
    network = figures.network
    nodes = network.nodes
    consumers: dict[str, set[int]] = {}
    for index in range(len(nodes)):
        for source in network.sources(index):
            consumers.setdefault(source, set()).add(index)
    outputs = set(network.output_nodes)
    result = list(own)
    for index in range(1, len(nodes)):
        node, before = nodes[index], nodes[index - 1]
        sources = network.sources(index)
        if not elementwise(node.op) or before.name not in sources or moves_nothing(before.op):
            continue
        heads[index] = heads[index - 1]
        shape = figures.layers[index - 1].output_shape
        mine = result[index]
        result[index] = Traffic(mine.weights, max(mine.inputs - numel(shape) * figures.dtype_bytes,
                                                  0), mine.output)  # fmt: skip
        if consumers.get(before.name) == {index} and before.name not in outputs:
            theirs = result[index - 1]
            result[index - 1] = Traffic(theirs.weights, theirs.inputs, 0)
    return result


# ---------------------------------------------------------------- units in words


def rate(value: float, unit: str) -> str:
    """``989.5 TFLOP/s``, ``3.35 TB/s``: three significant figures and an SI prefix."""
    for prefix, scale in (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if value >= scale:
            return f"{value / scale:.4g} {prefix}{unit}"
    return f"{value:.4g} {unit}"


def seconds(value: float | None) -> str:
    """``14.3 ns``, ``1.2 ms``, ``3.4 s``."""
    if value is None:
        return "-"
    if isinstance(value, int) and value > 10**15:  # an exact quotient past a float's range
        return f"{fmt_int(value)} s"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return "0 s" if value == 0 else f"{value / 1e-9:.3g} ns"
