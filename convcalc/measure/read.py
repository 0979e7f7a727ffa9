"""A trace of any model -> a Network of convcalc's primitives (the op table).

``READERS`` maps each traced function to the primitive that describes it, the
way ``extract.EXTRACTORS`` maps modules: a user's model becomes the same kind
of graph as a built-in network, so every figure, formula, check and format
works on it unchanged. A function with no reader becomes an ``Opaque`` op
"not counted" (listed by name, never 0); a parameter read as data (a class
token, a position embedding, a layer scale) becomes a ``Parameter`` node; a
parameter no op read (an auxiliary head in eval) is listed as not run.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from convcalc.core import ops as O  # noqa: N812 - short alias for the table
from convcalc.core import primitives as P  # noqa: N812
from convcalc.core.graph import INPUT, Network, Node
from convcalc.errors import InvalidSpecError
from convcalc.measure.trace import Event, Trace, Value

# Pure data movement and bookkeeping: free by convention.
FREE = frozenset(
    {
        "flatten", "reshape", "view", "permute", "transpose", "contiguous", "unsqueeze",
        "squeeze", "expand", "expand_as", "__getitem__", "cat", "concat", "stack", "chunk",
        "split", "unbind", "narrow", "select", "dropout", "dropout_", "clone", "roll", "pad",
        "flip", "repeat", "tile", "movedim", "unflatten", "to", "float", "type_as", "t",
        "detach", "view_as", "reshape_as", "zeros", "ones", "zeros_like", "ones_like",
        "arange", "full", "empty", "tensor", "new_zeros", "new_ones", "new_empty",
        "index_select", "gather", "stochastic_depth", "channel_shuffle", "pixel_shuffle",
        "split_with_sizes", "swapaxes", "mT", "__setitem__", "masked_fill", "masked_fill_",
        "copy_", "fill_", "zero_", "embedding", "tensor_split", "repeat_interleave", "long",
        "int", "bool",
    }
)  # fmt: skip

ACTIVATION_NAMES = {
    "relu": "relu", "relu_": "relu", "relu6": "relu6", "sigmoid": "sigmoid",
    "sigmoid_": "sigmoid", "hardswish": "hardswish", "hardswish_": "hardswish",
    "hardsigmoid": "hardsigmoid", "silu": "silu", "silu_": "silu", "gelu": "gelu",
    "tanh": "tanh", "leaky_relu": "leaky_relu", "elu": "elu", "mish": "mish",
    "softplus": "softplus", "softmax": "softmax", "log_softmax": "log_softmax",
}  # fmt: skip

ARITHMETIC = {
    "add": "add", "add_": "add", "__add__": "add", "__iadd__": "add", "__radd__": "add",
    "sub": "sub", "sub_": "sub", "__sub__": "sub", "__rsub__": "sub", "__isub__": "sub",
    "mul": "mul", "mul_": "mul", "__mul__": "mul", "__imul__": "mul", "__rmul__": "mul",
    "div": "div", "div_": "div", "__truediv__": "div", "__itruediv__": "div",
    "__rtruediv__": "div", "neg": "neg", "exp": "exp", "sqrt": "sqrt", "rsqrt": "rsqrt",
    "pow": "pow", "__pow__": "pow", "abs": "abs", "clamp": "clamp", "clamp_": "clamp",
    "clamp_min": "clamp", "clamp_max": "clamp", "erf": "erf", "where": "where",
    "normalize": "normalize", "ne": "compare", "eq": "compare", "__eq__": "compare",
    "__ne__": "compare",
    "hardtanh": "hardtanh", "hardtanh_": "hardtanh", "log": "log", "sin": "sin", "cos": "cos",
}  # fmt: skip


@dataclass
class _Call:
    """One event's arguments, positional or named, as the reader asks for them."""

    event: Event

    def arg(self, index: int, name: str, default: Any = None) -> Any:
        if index < len(self.event.inputs):
            return self.event.inputs[index]
        return self.event.kwargs.get(name, default)


@dataclass
class _Read:
    """What a reader says of one event: the primitive, the values it reads as
    inputs, and the parameters it owns (counted in its params)."""

    op: P.Primitive
    inputs: list[Value]
    owns: list[Value] = field(default_factory=list)
    then_add: Value | None = None  # a computed bias, added to the output as its own node
    reuses: Value | None = None  # a computed weight: the node that made it owns the params


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, int):
        return (value, value)
    items = list(value)
    return (int(items[0]), int(items[-1])) if items else (1, 1)


def _parameter(value: Any) -> bool:
    return isinstance(value, Value) and value.parameter is not None


def _sizes(value: Any, dims: int) -> tuple[int, ...]:
    """A conv argument (an int, or one per axis) as one value per axis."""
    if isinstance(value, int):
        return (value,) * dims
    items = [int(v) for v in value]
    return tuple(items) if len(items) == dims else (items[0],) * dims


def _conv(call: _Call) -> _Read | None:
    """F.conv1d/2d/3d(input, weight, bias, stride, padding, dilation, groups) and
    F.conv_transpose1d/2d/3d(input, weight, bias, stride, padding, output_padding,
    groups, dilation): the weight is (cout, cin/g, *k), transposed (cin, cout/g, *k)."""
    x, weight, bias = call.arg(0, "input"), call.arg(1, "weight"), call.arg(2, "bias")
    if bias is not None and not _parameter(bias):
        return None
    transposed = call.event.function.startswith("conv_transpose")
    kernel = tuple(int(k) for k in weight.shape[2:])
    dims = len(kernel)
    padding = call.arg(4, "padding", 0)
    if transposed:
        groups = int(call.arg(6, "groups", 1))
        cout = int(weight.shape[1]) * groups
        extra = _sizes(call.arg(5, "output_padding", 0), dims)
        dilation = _sizes(call.arg(7, "dilation", 1), dims)
    else:
        groups = int(call.arg(6, "groups", 1))
        cout = int(weight.shape[0])
        extra = (0,) * dims
        dilation = _sizes(call.arg(5, "dilation", 1), dims)
    op = P.Conv(
        x.shape[1],
        cout,
        kernel,
        _sizes(call.arg(3, "stride", 1), dims),
        padding
        if padding == "same"
        else (0,) * dims
        if padding == "valid"
        else _sizes(padding, dims),
        dilation,
        groups,
        bias is not None,
        transposed=transposed,
        output_padding=extra,
    )
    if not _parameter(weight):
        # A computed weight (a shared kernel repeated, a standardised weight): its
        # parameters were counted where they were read; this conv reuses them.
        return _Read(op, [x], [b for b in (bias,) if b is not None], reuses=weight)
    return _Read(op, [x], [v for v in (weight, bias) if v is not None])


def _linear(call: _Call) -> _Read | None:
    x, weight, bias = call.arg(0, "input"), call.arg(1, "weight"), call.arg(2, "bias")
    if _parameter(weight) and (bias is None or _parameter(bias)):
        op = P.Linear(weight.shape[1], weight.shape[0], bias is not None)
        return _Read(op, [x], [v for v in (weight, bias) if v is not None])
    if _parameter(weight):  # a computed bias (Swin V2's q/v bias): added after
        op = P.Linear(weight.shape[1], weight.shape[0], False)
        return _Read(op, [x], [weight], then_add=bias)
    # A computed weight: a product of two activations (and a bias added after).
    return _Read(O.MatMul("linear", transpose_b=True), [x, weight], then_add=bias)


def _batch_norm(call: _Call) -> _Read:
    x, weight, bias = call.arg(0, "input"), call.arg(3, "weight"), call.arg(4, "bias")
    owns = [v for v in (weight, bias) if _parameter(v)]
    return _Read(P.BatchNorm2d(x.shape[1], affine=weight is not None), [x], owns)


def _layer_norm(call: _Call) -> _Read:
    x, shape = call.arg(0, "input"), call.arg(1, "normalized_shape")
    weight, bias = call.arg(2, "weight"), call.arg(3, "bias")
    normalized = tuple(shape) if isinstance(shape, list | tuple) else (int(shape),)
    op = O.Norm("layer_norm", normalized, weight is not None, bias is not None)
    return _Read(op, [x], [v for v in (weight, bias) if _parameter(v)])


def _group_norm(call: _Call) -> _Read:
    x, groups = call.arg(0, "input"), int(call.arg(1, "num_groups"))
    weight, bias = call.arg(2, "weight"), call.arg(3, "bias")
    op = O.Norm("group_norm", (x.shape[1],), weight is not None, bias is not None, groups)
    return _Read(op, [x], [v for v in (weight, bias) if _parameter(v)])


def _pool(mode: str, dims: int) -> Callable[[_Call], _Read]:
    """F.max_pool1d..3d(input, kernel, stride, padding, dilation, ceil_mode) and
    F.avg_pool1d..3d(input, kernel, stride, padding, ceil_mode, count_include_pad)."""

    def read(call: _Call) -> _Read:
        x, kernel = call.arg(0, "input"), _sizes(call.arg(1, "kernel_size"), dims)
        stride = call.arg(2, "stride") or kernel
        if mode == "max":
            dilation = _sizes(call.arg(4, "dilation", 1), dims)
            ceil, include = bool(call.arg(5, "ceil_mode", False)), True
        else:
            dilation = (1,) * dims
            ceil = bool(call.arg(4, "ceil_mode", False))
            include = bool(call.arg(5, "count_include_pad", True))
        padding = _sizes(call.arg(3, "padding", 0), dims)
        op = O.Pool2d(mode, kernel, _sizes(stride, dims), padding, dilation, ceil, include)  # type: ignore[arg-type]
        return _Read(op, [x])

    return read


def _adaptive(mode: str, dims: int) -> Callable[[_Call], _Read]:
    def read(call: _Call) -> _Read:
        x = call.arg(0, "input")
        out = tuple(call.event.outputs[0].shape[-dims:])
        if out == (1, 1) and len(x.shape) == 4:
            return _Read(P.GlobalPool(mode, flatten=False), [x])  # type: ignore[arg-type]
        return _Read(O.AdaptivePool2d(mode, out), [x])  # type: ignore[arg-type]

    return read


def _reduce(mode: str) -> Callable[[_Call], _Read | None]:
    """A mean or max over H and W of a 4-D map is a global pool; over other dims, a
    reduction."""

    def read(call: _Call) -> _Read | None:
        x, dims = call.arg(0, "input"), call.arg(1, "dim")
        keep = bool(call.arg(2, "keepdim", False))
        if isinstance(dims, int):
            dims = (dims,)
        if not isinstance(dims, list | tuple) or not x.shape:
            return None
        if len(x.shape) == 4 and sorted(d % 4 for d in dims) == [2, 3]:
            return _Read(P.GlobalPool(mode, flatten=not keep), [x])  # type: ignore[arg-type]
        return _Read(O.Reduce(call.event.function, tuple(dims), keep), [x])

    return read


def _matmul(call: _Call) -> _Read:
    return _Read(O.MatMul(call.event.function.strip("_")), [call.arg(0, "input"),
                                                           call.arg(1, "other")])  # fmt: skip


def _einsum(call: _Call) -> _Read | None:
    equation = call.arg(0, "equation")
    operands = [v for v in call.event.inputs[1:] if isinstance(v, Value)]
    if len(operands) == 1 and isinstance(call.event.inputs[1], list | tuple):
        operands = list(call.event.inputs[1])
    if len(operands) != 2 or not isinstance(equation, str):
        return None
    return _Read(O.Einsum(equation), operands)


def _attention(call: _Call) -> _Read:
    return _Read(O.Attention(), [call.arg(0, "query"), call.arg(1, "key"), call.arg(2, "value")])


def _interpolate(call: _Call) -> _Read:
    out = call.event.outputs[0].shape
    mode = str(call.arg(3, "mode", "nearest"))
    x = call.arg(0, "input")
    align = bool(call.arg(4, "align_corners", False))
    return _Read(O.Interpolate(mode, tuple(out[2:]), align), [x])  # every axis after N, C


def _hardtanh(call: _Call) -> _Read | None:
    """nn.ReLU6 runs F.hardtanh(x, 0, 6): that one is ReLU6; other bounds are arithmetic."""
    low, high = call.arg(1, "min_val", -1.0), call.arg(2, "max_val", 1.0)
    if (low, high) == (0.0, 6.0):
        return _Read(P.Activation("relu6"), [call.arg(0, "input")])
    return None


def _activation(call: _Call) -> _Read:
    name = ACTIVATION_NAMES[call.event.function]
    return _Read(P.Activation(name), [_values(call.event)[0]])


# One row per traced function: how to read it (None: not this call; fall back).
READERS: dict[str, Callable[[_Call], _Read | None]] = {
    **dict.fromkeys(
        ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"),
        _conv,
    ),
    "linear": _linear,
    "batch_norm": _batch_norm,
    "layer_norm": _layer_norm,
    "group_norm": _group_norm,
    **{f"{mode}_pool{d}d": _pool(mode, d) for mode in ("max", "avg") for d in (1, 2, 3)},
    **{
        f"adaptive_{mode}_pool{d}d": _adaptive(mode, d)
        for mode in ("max", "avg")
        for d in (1, 2, 3)
    },
    "mean": _reduce("avg"),
    "amax": _reduce("max"),
    "sum": _reduce("sum"),
    "matmul": _matmul,
    "mm": _matmul,
    "bmm": _matmul,
    "__matmul__": _matmul,
    "einsum": _einsum,
    "scaled_dot_product_attention": _attention,
    "interpolate": _interpolate,
    "hardtanh": _hardtanh,
    "hardtanh_": _hardtanh,
    **dict.fromkeys(ACTIVATION_NAMES, _activation),
}


def _values(event: Event) -> list[Value]:
    """Every tensor argument of an event, in order (lists flattened: ``cat([a, b])``)."""
    found: list[Value] = []

    def walk(item: Any) -> None:
        if isinstance(item, Value):
            found.append(item)
        elif isinstance(item, list | tuple):
            for x in item:
                walk(x)

    for item in [*event.inputs, *event.kwargs.values()]:
        walk(item)
    return found


class _Graph:
    """Nodes being added: unique names, value -> node, parameter -> owner."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.nodes: list[Node] = []
        self.names: Counter[str] = Counter()
        # The first tensor input is the network's input; each further one (a second frame,
        # an attention mask) is a node of its own shape, ``input#2`` on, where first read.
        self.producer: dict[int, str] = {trace.inputs[0].id: INPUT} if trace.inputs else {}
        self.later_inputs = {v.id: f"{INPUT}#{i}" for i, v in enumerate(trace.inputs, 1) if i > 1}
        self.owner: dict[str, str] = {}  # parameter -> the node that counts it
        # leaf module call -> (its torch.nn class, whether it is of that class exactly)
        self.classes = {call: (kind, exact) for call, kind, exact in trace.leaf_calls}

    def unique(self, base: str) -> str:
        self.names[base] += 1
        count = self.names[base]
        return base if count == 1 else f"{base}#{count}"

    def add(
        self,
        base: str,
        op: P.Primitive,
        inputs: tuple[str, ...],
        *,
        group: str = "",
        unit: str | None = None,
        weights_of: str | None = None,
        call: str = "",
        origin: str = "",
        module_class: tuple[str, bool] | None = None,
        given: tuple[tuple[str, Any], ...] = (),
        scope: str = "",
    ) -> str:
        name = self.unique(base)
        module, exact = self.classes.get(unit, ("", True)) if unit else ("", True)
        if module_class is not None:  # a module that is not a leaf (nn.MultiheadAttention)
            module, exact = module_class
        node = Node(name, op, inputs or (INPUT,), weights_of, group, unit, call, module, exact,
                    origin, given, scope)  # fmt: skip
        self.nodes.append(node)
        return name

    def source(self, value: Value, call: str | None = None) -> str:
        """The node that produced a value: a parameter read as data gets its own node
        (in ``call``, the leaf module call reading it, when the parameter is that module's)."""
        known = self.producer.get(value.id)
        if known is not None:
            return known
        if value.parameter is not None:
            node = self.owner.get(value.parameter)
            if node is None:
                module = value.parameter.rpartition(".")[0]
                own = call is not None and call.partition("@")[0] == module
                node = self.add(value.parameter, O.Parameter(value.shape), (INPUT,),
                                group=module or value.parameter,
                                unit=call if own else None)  # fmt: skip
                self.owner[value.parameter] = node
        else:
            kind = "buffer" if value.buffer else "constant"
            node = self.add(value.buffer or kind, O.Opaque(kind, value.shape), (INPUT,))
        self.producer[value.id] = node
        return node


def read_trace(trace: Trace) -> Network:
    """Every event of a trace as nodes of primitives (raises InvalidSpecError on no ops).

    Each node's primitive gives the very shape torch produced (``_fits``), or the
    call is read as an op with no formula, so the analysis propagates torch's shapes.
    """
    graph = _Graph(trace)
    for event in trace.events:
        _read_event(graph, event)
    for name in [name for name in trace.parameters if name not in graph.owner]:
        module = name.rpartition(".")[0]
        graph.add(name, O.Parameter(trace.parameters[name]), (INPUT,),
                  group=f"{module or name} (not run)")  # fmt: skip
    if not graph.nodes:
        raise InvalidSpecError("the model ran no operation on its input")
    outputs = tuple(graph.producer.get(v.id, INPUT) for v in trace.outputs)
    shape = tuple(trace.inputs[0].shape)
    calls = tuple(call for call, _, _ in trace.leaf_calls)
    frozen = sum(math.prod(trace.parameters[name]) for name in trace.frozen)
    return Network("model", shape, tuple(graph.nodes), outputs=outputs, torch_calls=calls,
                   frozen_params=frozen)  # fmt: skip


# Arguments kept as given (Node.given), by function: (position, name, default).
GIVEN = {
    **{f"{mode}_pool{d}d": ((1, "kernel_size", None),) for mode in ("max", "avg")
       for d in (1, 2, 3)},
    "dropout": ((1, "p", 0.5),),
}  # fmt: skip


def _given(event: Event) -> tuple[tuple[str, Any], ...]:
    call = _Call(event)
    given = ((name, call.arg(index, name, default))
             for index, name, default in GIVEN.get(event.function, ()))  # fmt: skip
    return tuple((name, tuple(v) if isinstance(v, list) else v) for name, v in given)


def _read_event(graph: _Graph, event: Event) -> None:
    reader = READERS.get(event.function)
    read = reader(_Call(event)) if reader is not None else None
    if read is None and event.function in ARITHMETIC:
        read = _Read(O.Pointwise(ARITHMETIC[event.function]), _values(event))
    if read is None and event.function == "multi_head_attention_forward":
        _read_attention_module(graph, event)
        return
    base = event.call or f"{event.module}:{event.function}".lstrip(":")
    group = event.call or ""
    if read is None or not _fits(read, event):
        free = event.function in FREE
        inputs = tuple(graph.source(v, event.call) for v in _values(event))
        for output in event.outputs:
            node = graph.add(base, O.Opaque(event.function, output.shape, free), inputs,
                             group=group, unit=event.call, call=event.function,
                             origin=event.origin, given=_given(event))  # fmt: skip
            graph.producer[output.id] = node
        return
    weights_of = None if read.reuses is None else graph.source(read.reuses, event.call)
    for parameter in read.owns:
        assert parameter.parameter is not None
        weights_of = weights_of or graph.owner.get(parameter.parameter)
    inputs = tuple(graph.source(v, event.call) for v in read.inputs)
    # the innermost module with children that the call ran in (a leaf's parent)
    around = event.module.rpartition(".")[0] if event.call else event.module
    scope = graph.trace.qualified.get(around, "")
    node = graph.add(base, read.op, inputs, group=group, unit=event.call,
                     weights_of=weights_of, call=event.function, origin=event.origin,
                     given=_given(event), scope=scope)  # fmt: skip
    if read.then_add is not None:
        bias = graph.source(read.then_add, event.call)
        node = graph.add(f"{base}:bias", O.Pointwise("add"), (node, bias), group=group,
                         unit=event.call)  # fmt: skip
    for parameter in read.owns:
        assert parameter.parameter is not None
        graph.owner.setdefault(parameter.parameter, node)
    for output in event.outputs:
        graph.producer[output.id] = node


def _fits(read: _Read, event: Event) -> bool:
    """The primitive's own shape rule gives the shape torch produced."""
    try:
        shape = read.op.out_shape(tuple(v.shape for v in read.inputs))
    except (InvalidSpecError, IndexError, ValueError):
        return False
    return len(event.outputs) == 1 and shape == event.outputs[0].shape


def _read_attention_module(graph: _Graph, event: Event) -> None:
    """``F.multi_head_attention_forward`` (nn.MultiheadAttention) as its parts: the packed
    q/k/v projection, attention per head, the output projection."""
    call = _Call(event)
    query, key, value = call.arg(0, "query"), call.arg(1, "key"), call.arg(2, "value")
    heads = int(call.arg(4, "num_heads"))
    in_weight, in_bias = call.arg(5, "in_proj_weight"), call.arg(6, "in_proj_bias")
    out_weight, out_bias = call.arg(11, "out_proj_weight"), call.arg(12, "out_proj_bias")
    base = f"{event.module}:attention".lstrip(":")
    output = event.outputs[0]
    packed = query is key is value or (query.id == key.id == value.id)
    if not (packed and _parameter(in_weight) and _parameter(out_weight)):
        inputs = tuple(graph.source(v) for v in _values(event))
        node = graph.add(base, O.Opaque(event.function, output.shape, False), inputs)  # fmt: skip
        graph.producer[output.id] = node
        return
    length, batch, embed = query.shape  # (L, N, E): nn.MultiheadAttention transposes first
    head = embed // heads
    x = graph.source(query)
    # Its parts ran in the attention module, through this function (module-hook tools
    # count the module's own formula on them).
    module_class = graph.trace.torch_classes.get(event.module)

    def ran(name: str, op: P.Primitive, inputs: tuple[str, ...], group: str) -> str:
        return graph.add(name, op, inputs, group=group, call=event.function,
                         origin=event.origin, module_class=module_class)  # fmt: skip

    projected = ran(f"{base}.in_proj", P.Linear(embed, 3 * embed, in_bias is not None), (x,),
                    f"{event.module}.in_proj")  # fmt: skip
    for parameter in (in_weight, in_bias):
        if _parameter(parameter):
            graph.owner.setdefault(parameter.parameter, projected)
    per_head = (batch, heads, length, head)
    parts = [
        graph.add(f"{base}.{name}", O.Opaque("split heads", per_head), (projected,), group=base)
        for name in ("q", "k", "v")
    ]
    weights = bool(call.arg(15, "need_weights", True))
    attended = ran(f"{base}.sdpa", O.Attention(weights), tuple(parts), base)
    merged = graph.add(f"{base}.merge", O.Opaque("merge heads", (length, batch, embed)),
                       (attended,), group=base)  # fmt: skip
    node = ran(f"{base}.out_proj", P.Linear(embed, embed, out_bias is not None), (merged,),
               f"{event.module}.out_proj")  # fmt: skip
    for parameter in (out_weight, out_bias):
        if _parameter(parameter):
            graph.owner.setdefault(parameter.parameter, node)
    graph.producer[output.id] = node
        if value.id in self.later_inputs:
            name = self.add(self.later_inputs[value.id], O.Opaque(INPUT, value.shape), (INPUT,))
            self.producer[value.id] = name
            return name
