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

import dataclasses
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from convcalc.core.nets.graph import INPUT, Network, Node
from convcalc.core.ops import primitives as P  # noqa: N812
from convcalc.core.ops import traced as O  # noqa: N812 - short alias for the table
from convcalc.core.ops.vision import Packed
from convcalc.core.ops.weight_norm import WeightNorm
from convcalc.errors import InvalidSpecError
from convcalc.measure.read_vision import VISION_READERS, Reading
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
        # creation, one-hot codes, index grids, copies of patches, dropout in eval
        "meshgrid", "eye", "one_hot", "unfold", "dropout1d", "dropout2d", "dropout3d",
        "feature_dropout", "alpha_dropout", "feature_alpha_dropout", "linspace", "full_like",
        "empty_like", "new_full", "new_tensor", "half", "double", "bfloat16", "type", "unfold_",
        "_pack_padded_sequence", "_pad_packed_sequence", "pack_padded_sequence",
        "pad_packed_sequence", "pack_sequence", "pad_sequence", "sort", "argsort",
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
    "__rpow__": "pow", "pow_": "pow", "square": "pow", "float_power": "pow",
    "addcmul": "addcmul", "addcmul_": "addcmul", "addcdiv": "addcdiv", "addcdiv_": "addcdiv",
    "lerp": "lerp", "lerp_": "lerp", "cumsum": "cumsum", "cumprod": "cumprod",
    "__invert__": "not", "bitwise_not": "not", "logical_not": "not", "__and__": "and",
    "__or__": "or", "__xor__": "xor", "bitwise_and": "and", "bitwise_or": "or",
    "logical_and": "and", "logical_or": "or", "maximum": "maximum", "minimum": "minimum",
    "lt": "compare", "gt": "compare", "le": "compare", "ge": "compare", "__lt__": "compare",
    "__gt__": "compare", "__le__": "compare", "__ge__": "compare", "reciprocal": "div",
    "sign": "sign", "floor": "round", "ceil": "round", "round": "round", "log1p": "log",
    "log2": "log", "expm1": "exp", "exp_": "exp", "sqrt_": "sqrt",
    "neg_": "neg", "tan": "tan", "atan2": "atan2", "remainder": "remainder",
    "__mod__": "remainder", "floor_divide": "div", "__floordiv__": "div",
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
    # The call's first output is the op's; the others (an LSTM's h_n and c_n, max's
    # indices) come with it, free.
    side: bool = False


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
    """F.batch_norm(input, running_mean, running_var, weight, bias, ...): gamma and beta
    are parameters only when the model's own (NFNet's ScaledStdConv2d standardises its
    weight with none, or with a computed gain)."""
    x, weight, bias = call.arg(0, "input"), call.arg(3, "weight"), call.arg(4, "bias")
    owns = [v for v in (weight, bias) if _parameter(v)]
    learned = (_parameter(weight), _parameter(bias))
    op = P.BatchNorm2d(x.shape[1], affine=weight is not None or bias is not None, learned=learned)
    return _Read(op, [x], owns)


def _rms_norm(call: _Call) -> _Read:
    """F.rms_norm(input, normalized_shape, weight, eps)."""
    x, shape, weight = call.arg(0, "input"), call.arg(1, "normalized_shape"), call.arg(2, "weight")
    normalized = tuple(shape) if isinstance(shape, list | tuple) else (int(shape),)
    op = O.Norm("rms_norm", normalized, weight is not None, False)
    return _Read(op, [x], [weight] if _parameter(weight) else [])


def _addmm(call: _Call) -> _Read | None:
    """torch.addmm(bias, x, weight): x @ weight + bias (GPT-2's Conv1D, whose weight is
    (in, out)): a linear map when the weight is a parameter; else a product of two
    activations, the bias added after. ``addmv`` alike."""
    bias, x, weight = call.arg(0, "input"), call.arg(1, "mat1"), call.arg(2, "mat2")
    if not (isinstance(x, Value) and isinstance(weight, Value)):
        return None
    scaled = call.event.kwargs.get("beta", 1) != 1 or call.event.kwargs.get("alpha", 1) != 1
    if _parameter(weight) and len(weight.shape) == 2 and not scaled:
        own_bias = _parameter(bias) and len(bias.shape) == 1
        op = P.Linear(weight.shape[0], weight.shape[1], own_bias)
        return _Read(op, [x], [weight, bias] if own_bias else [weight],
                     then_add=None if own_bias else bias)  # fmt: skip
    return _Read(O.MatMul(call.event.function), [x, weight], then_add=bias)


def _baddbmm(call: _Call) -> _Read | None:
    """torch.baddbmm(input, b1, b2): input + b1 @ b2 per batch; torch.addbmm the same
    products summed over the batch (an einsum)."""
    bias, a, b = call.arg(0, "input"), call.arg(1, "batch1"), call.arg(2, "batch2")
    if not (isinstance(a, Value) and isinstance(b, Value)):
        return None
    op: P.Primitive = O.MatMul("baddbmm")
    if call.event.function.startswith("addbmm"):
        op = O.Einsum("bnm,bmp->np")
    return _Read(op, [a, b], then_add=bias if isinstance(bias, Value) else None)


def _recurrent(call: _Call) -> _Read | None:
    """torch's fused lstm/gru/rnn_tanh/rnn_relu (nn.LSTM, nn.GRU, nn.RNN): (input, hx,
    weights, has_biases, num_layers, dropout, train, bidirectional, batch_first), or for
    a packed sequence (data, batch_sizes, hx, weights, has_biases, num_layers, dropout,
    train, bidirectional). Its weights come per layer and direction: w_ih, w_hh, then
    b_ih, b_hh with biases, then w_hr with a projection."""
    inputs, mode = call.event.inputs, call.event.function
    packed = isinstance(inputs[1], Value) and len(inputs[1].shape) == 1
    at = 3 if packed else 2
    if len(inputs) < at + 6 or not isinstance(inputs[at], list | tuple):
        return None
    x, state, weights = inputs[0], inputs[at - 1], list(inputs[at])
    biases, layers, _, _, bidirectional = inputs[at + 1 : at + 6]
    batch_first = not packed and len(inputs) > at + 6 and bool(inputs[at + 6])
    directions = 2 if bidirectional else 1
    if not weights or not all(_parameter(w) for w in weights) or len(weights) % (
            int(layers) * directions):  # fmt: skip
        return None
    per = len(weights) // (int(layers) * directions)
    proj = int(weights[per - 1].shape[0]) if mode == "lstm" and per % 2 else 0
    hidden = int(weights[0].shape[0]) // O.RECURRENT_GATES[mode]
    op = O.Recurrent(mode, int(weights[0].shape[1]), hidden, int(layers), bool(biases),  # type: ignore[arg-type]
                     bool(bidirectional), proj, batch_first, packed=packed)  # fmt: skip
    return _recurrent_read(op, x, state, weights)


def _recurrent_cell(call: _Call) -> _Read | None:
    """torch's lstm_cell/gru_cell/rnn_tanh_cell/rnn_relu_cell(input, hx, w_ih, w_hh,
    b_ih, b_hh) (nn.LSTMCell, nn.GRUCell, nn.RNNCell): one step."""
    inputs, mode = call.event.inputs, call.event.function.removesuffix("_cell")
    x, state = call.arg(0, "input"), call.arg(1, "hx")
    weights = [v for v in inputs[2:6] if v is not None]
    if len(weights) not in (2, 4) or not all(_parameter(w) for w in weights):
        return None
    hidden = int(weights[0].shape[0]) // O.RECURRENT_GATES[mode]
    op = O.Recurrent(mode, int(weights[0].shape[1]), hidden, bias=len(weights) == 4,  # type: ignore[arg-type]
                     cell=True)  # fmt: skip
    return _recurrent_read(op, x, state, weights)


def _recurrent_read(op: O.Recurrent, x: Value, state: Any, weights: list[Value]) -> _Read | None:
    if op.params != sum(math.prod(w.shape) for w in weights):
        return None  # a layout this reader does not know: listed as not counted
    states = [v for v in (state if isinstance(state, list | tuple) else [state])
              if isinstance(v, Value)]  # fmt: skip
    return _Read(op, [x, *states], weights, side=True)


def _deform_conv(call: _Call) -> _Read | None:
    """torchvision.ops.deform_conv2d, as torch.ops.torchvision.deform_conv2d(input, weight,
    offset, mask, bias, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, weight_groups,
    offset_groups, use_mask)."""
    inputs = call.event.inputs
    if len(inputs) < 14:
        return None
    x, weight, offset, mask, bias = inputs[:5]
    sh, sw, ph, pw, dh, dw, groups, _, use_mask = inputs[5:14]
    if not _parameter(weight):
        return None
    own_bias = _parameter(bias)
    op = O.DeformConv(x.shape[1], weight.shape[0], tuple(weight.shape[2:]), (sh, sw), (ph, pw),
                      (dh, dw), int(groups), own_bias, bool(use_mask))  # fmt: skip
    reads = [x, offset, *([mask] if use_mask else [])]
    return _Read(op, reads, [weight, *([bias] if own_bias else [])])


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
    """A mean or max over H and W of a 4-D map is a global pool; over other dims (all of
    them when none is named), a reduction."""

    def read(call: _Call) -> _Read | None:
        x, dims = call.arg(0, "input"), call.arg(1, "dim")
        keep = bool(call.arg(2, "keepdim", False))
        if not isinstance(x, Value) or not x.shape:
            return None
        if dims is None and call.event.outputs[0].shape in ((), (1,) * len(x.shape)):
            dims = tuple(range(len(x.shape)))
        if isinstance(dims, int):
            dims = (dims,)
        if not isinstance(dims, list | tuple) or not all(isinstance(d, int) for d in dims):
            return None
        if len(x.shape) == 4 and sorted(d % 4 for d in dims) == [2, 3]:
            return _Read(P.GlobalPool(mode, flatten=not keep), [x])  # type: ignore[arg-type]
        return _Read(O.Reduce(call.event.function, tuple(dims), keep), [x])

    return read


def _reduction(call: _Call) -> _Read | None:
    """var, std (and their _mean pairs), norm, logsumexp, argmax, and max or min over a
    dim (values and indices) or all of them; keepdim is what torch's output shape says.
    max(a, b) of two tensors is element-wise."""
    function = call.event.function.removeprefix("linalg_").rstrip("_")
    x = call.arg(0, "input")
    other = call.event.inputs[1] if len(call.event.inputs) > 1 else None
    if not isinstance(x, Value) or not x.shape:
        return None
    if function in ("max", "min") and isinstance(other, Value):
        return _Read(O.Pointwise(f"{function}imum"), [x, other])
    at = 2 if function in ("norm", "vector_norm") else 1
    dims = call.event.kwargs.get("dim", call.event.inputs[at] if len(call.event.inputs) > at
                                 else None)  # fmt: skip
    if isinstance(dims, int):
        dims = (dims,)
    if dims is None or dims == ():
        dims = tuple(range(len(x.shape)))
    if not isinstance(dims, list | tuple) or not all(isinstance(d, int) for d in dims):
        return None
    want = call.event.outputs[0].shape
    for keep in (False, True):
        op = O.Reduce(function, tuple(dims), keep)
        if op.out_shape((x.shape,)) == want:
            return _Read(op, [x], side=len(call.event.outputs) > 1)
    return None


def _fold(call: _Call) -> _Read:
    """F.fold (col2im): overlapping patches summed into a map."""
    return _Read(O.Fold(call.event.outputs[0].shape), [call.arg(0, "input")])


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


REDUCTIONS = ("var", "std", "var_mean", "std_mean", "norm", "linalg_vector_norm", "logsumexp",
              "max", "min", "argmax", "argmin", "prod")  # fmt: skip


def _weight_norm(call: _Call) -> _Read | None:
    """torch._weight_norm(v, g, dim): the weight that weight_norm (its parametrization, or
    the older weight_g/weight_v hook) computes before each forward pass."""
    v, g, dim = call.arg(0, "v"), call.arg(1, "g"), call.arg(2, "dim", 0)
    if not (isinstance(v, Value) and isinstance(g, Value)):
        return None
    return _Read(WeightNorm(int(dim)), [v, g])


# One row per traced function: how to read it (None: not this call; fall back).
READERS: dict[str, Callable[[_Call], _Read | None]] = {
    "_weight_norm": _weight_norm,
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
    "amin": _reduce("min"),
    "sum": _reduce("sum"),
    **dict.fromkeys(REDUCTIONS, _reduction),
    "rms_norm": _rms_norm,
    "addmm": _addmm,
    "addmv": _addmm,
    "baddbmm": _baddbmm,
    "addbmm": _baddbmm,
    **dict.fromkeys(("lstm", "gru", "rnn_tanh", "rnn_relu"), _recurrent),
    **dict.fromkeys(("lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell"), _recurrent_cell),
    "deform_conv2d": _deform_conv,
    "fold": _fold,
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


def _vision_first(
    reader: Callable[[Event], Reading | None], then: Callable[[_Call], _Read | None] | None
) -> Callable[[_Call], _Read | None]:
    """A detection, optical-flow or int8 reader (``read_vision``), then this table's own."""

    def read(call: _Call) -> _Read | None:
        found = reader(call.event)
        if found is not None:
            return _Read(found.op, found.inputs, found.owns, side=found.side)
        return then(call) if then is not None else None

    return read


READERS.update({name: _vision_first(reader, READERS.get(name))
                for name, reader in VISION_READERS.items()})  # fmt: skip


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
        # parameter -> every name it has (a tied one's aliases too)
        self.names_of: dict[str, list[str]] = {name: [name] for name in trace.parameters}
        for alias, name in trace.aliases.items():
            self.names_of.setdefault(name, [name]).append(alias)
        self.unit_of: dict[str, str | None] = {}  # node -> its leaf call
        self.read_again: dict[tuple[str, str], str] = {}  # (parameter, call) -> its node
        # leaf module call -> (its torch.nn class, whether it is of that class exactly)
        self.classes = {call: (kind, exact) for call, kind, exact in trace.leaf_calls}
        self.call_output: dict[str, tuple[int, ...]] = {}  # leaf call -> its last output

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
        self.unit_of[name] = unit
        return name

    def holds(self, call: str, parameter: str) -> bool:
        """Whether the module of a leaf call holds the parameter, by its name or by the
        name it is tied under there (T5's encoder.embed_tokens.weight is shared.weight)."""
        module = call.partition("@")[0]
        return any(name.rpartition(".")[0] == module for name in self.names_of.get(
            parameter, (parameter,)))  # fmt: skip

    def source(self, value: Value, call: str | None = None) -> str:
        """The node that produced a value: a parameter read as data gets its own node
        (in ``call``, the leaf module call reading it, when the parameter is that module's).
        Read again in another call of a module that holds it (a module called twice, a
        weight tied to two modules), it gets a node there that shares the first's weights:
        torchinfo sizes each such call as one with parameters."""
        parameter = value.parameter
        if parameter is not None and call is not None and parameter in self.owner:
            first = self.owner[parameter]
            if self.unit_of[first] != call and self.holds(call, parameter):
                again = self.read_again.get((parameter, call))
                if again is None:
                    again = self.add(parameter, O.Parameter(value.shape), (INPUT,),
                                     group=call.partition("@")[0], unit=call,
                                     weights_of=first)  # fmt: skip
                    self.read_again[(parameter, call)] = again
                return again
        known = self.producer.get(value.id)
        if known is not None:
            return known
        if value.id in self.later_inputs:
            name = self.add(self.later_inputs[value.id], O.Opaque(INPUT, value.shape), (INPUT,))
            self.producer[value.id] = name
            return name
        if value.parameter is not None:
            node = self.owner.get(value.parameter)
            if node is None:
                module = value.parameter.rpartition(".")[0]
                own = call is not None and self.holds(call, value.parameter)
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
        if event.call and event.outputs:
            graph.call_output[event.call] = event.outputs[0].shape
    # what each module returned, where the trace saw it (an LSTM's sequence, not h_n)
    graph.call_output.update({call: v.shape for call, v in trace.call_outputs.items()})
    _conv_named_linears(graph)
    _module_inputs(graph)
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
    # int8 packed weights are no parameters: never trained
    frozen += sum(node.op.params for node in graph.nodes if isinstance(node.op, Packed))
    returned = tuple((call, graph.producer[v.id]) for call, v in trace.call_outputs.items()
                     if v.id in graph.producer)  # fmt: skip
    return Network("model", shape, tuple(graph.nodes), outputs=outputs, torch_calls=calls,
                   frozen_params=frozen, call_outputs=returned)  # fmt: skip


def _conv_named_linears(graph: _Graph) -> None:
    """A linear map run in a leaf module whose class name holds "Conv" (GPT-2's Conv1D:
    addmm on its weight) is counted by torchinfo's convolution rule, on the module's
    output: its weight and bias x prod(out[:1] + out[2:])."""
    for index, node in enumerate(graph.nodes):
        op = node.op
        if type(op) is not P.Linear or not node.unit:
            continue
        qualified = graph.trace.qualified.get(node.unit.partition("@")[0], "")
        out = graph.call_output.get(node.unit)
        if "Conv" not in qualified.rpartition(".")[2] or not out:
            continue
        positions = math.prod(out[:1] + out[2:])
        named = O.ConvNamedLinear(op.in_features, op.out_features, op.bias, positions)
        graph.nodes[index] = dataclasses.replace(node, op=named)


def _module_inputs(graph: _Graph) -> None:
    """A recurrent module's own input (``module_input`` in Node.given): a hook-based peer
    reads its shape, which torch changes before the op runs (an unbatched (T, I) runs as
    (T, 1, I))."""
    for index, node in enumerate(graph.nodes):
        given = graph.trace.call_inputs.get(node.unit or "")
        if isinstance(node.op, O.Recurrent) and given is not None:
            extra = (("module_input", tuple(given.shape)),)
            graph.nodes[index] = dataclasses.replace(node, given=node.given + extra)


# Arguments kept as given (Node.given), by function: (position, name, default).
GIVEN = {
    **{f"{mode}_pool{d}d": ((1, "kernel_size", None),) for mode in ("max", "avg")
       for d in (1, 2, 3)},
    "dropout": ((1, "p", 0.5),),
    **{f"conv{d}d": ((4, "padding", 0),) for d in (1, 2, 3)},
    **dict.fromkeys(("softmax", "log_softmax", "softmin"), ((1, "dim", None),)),
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
    if weights_of is not None:
        # The node that made the weight counts the weight's parameters, never this one's
        # own bias (NFNet's ScaledStdConv2d): a parameter node of its own counts that.
        for parameter in read.owns:
            graph.source(parameter, event.call)
        read.owns = []
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
    graph.producer[event.outputs[0].id] = node
    for index, output in enumerate(event.outputs[1:], 2):  # side results: free, in no call
        side = graph.add(f"{base}:{index}", O.Opaque(f"{event.function} result", output.shape),
                         (node,), group=group)  # fmt: skip
        graph.producer[output.id] = side


def _fits(read: _Read, event: Event) -> bool:
    """The primitive's own shape rule gives the shape torch produced."""
    try:
        shape = read.op.out_shape(tuple(v.shape for v in read.inputs))
    except (InvalidSpecError, IndexError, ValueError):
        return False
    return (len(event.outputs) == 1 or read.side) and shape == event.outputs[0].shape


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
