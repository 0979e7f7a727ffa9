"""Primitives met when reading any model: matmuls, attention, norms, pools, arithmetic.

The built-in layers need only ``primitives.py``; a user's model runs much more.
Each op here is a primitive like the others (shape rule, counts, formula,
label, torchinfo rule, receptive-field rule), so a model read from torch is
analysed by the same code as a built-in network.

Conventions, stated once (docs/explanation/counting.md):

- MACs: weight and activation multiply-accumulates of matrix products:
  ``a @ b`` with ``a (.., m, k)`` and ``b (.., k, n)`` costs ``batch x m x k x n``;
  attention's two products (``q k^T`` and ``attn v``) count as MACs.
- Element-wise work, one op per element per step: pooling reads each window
  element once per output; layer and group norm compute statistics and
  normalise (4 per element) and apply their affine parameters (1 per element
  for the weight, 1 for the bias); arithmetic (``x + y``, ``x * 0.5``) is 1
  per output element; softmax inside attention is 1 per score.
- Shape and data-movement ops (reshape, permute, cat, slicing, dropout in
  eval) are free; an op with no formula is listed as "not counted", never 0.
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar, Literal

from convcalc.core.geometry.shapes import (
    Field,
    Sizes,
    broadcast_field,
    empty_field,
    merged_field,
    mixed_field,
    resampled_field,
    token_field,
    whole_field,
)
from convcalc.core.ops import pooling
from convcalc.core.ops.primitives import Linear, Primitive, Shape, fmt_int, numel
from convcalc.errors import InvalidSpecError


def broadcast_shapes(*shapes: Shape) -> Shape:
    """NumPy/torch broadcasting of several shapes."""
    rank = max(len(s) for s in shapes)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
    out = []
    for sizes in zip(*padded, strict=True):
        wide = {s for s in sizes if s != 1}
        if len(wide) > 1:
            raise InvalidSpecError(f"shapes {[list(s) for s in shapes]} do not broadcast")
        out.append(wide.pop() if wide else 1)
    return tuple(out)


class Parameter(Primitive):
    """A learnable tensor used directly (class token, position embedding, layer scale).

    It reads nothing; its output is the parameter itself.
    """

    kind: ClassVar[str] = "Parameter"
    shape: Shape

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        return self.shape

    @property
    def weight_params(self) -> int:
        return numel(self.shape)

    def torchinfo_mult_adds(self, out: Shape) -> int:
        return 0  # torchinfo counts only parameters named weight or bias of a called module

    @property
    def label(self) -> str:
        return "parameter"

    def describe(self) -> str:
        return "x".join(map(str, self.shape))

    def params_formula(self) -> str:
        return f"{' x '.join(map(str, self.shape))} = {fmt_int(self.params)}"

    def field(self, sources: tuple[Field, ...], inputs: tuple[Shape, ...]) -> Field:
        return empty_field(sources[0])


# Data movement that can fold a map's positions into one feature axis.
FOLDS = frozenset({"flatten", "view", "reshape"})


class Opaque(Primitive):
    """An op whose output shape is known from the trace: free data movement (reshape,
    permute, cat, slicing), or work convcalc has no formula for (``counted`` False)."""

    kind: ClassVar[str] = "Opaque"
    function: str
    shape: Shape
    free: bool = True

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        return self.shape

    @property
    def counted(self) -> bool:
        return self.free

    @property
    def label(self) -> str:
        return self.function if self.free else f"{self.function} (not counted)"

    def describe(self) -> str:
        return "free" if self.free else "no formula"

    def field(self, sources: tuple[Field, ...], inputs: tuple[Shape, ...]) -> Field:
        field = merged_field(sources)
        if self.folds(inputs) and not field.whole:  # the next linear map mixes them all
            return dataclasses.replace(field, folded=True)
        return field

    def folds(self, inputs: tuple[Shape, ...]) -> bool:
        """A flatten (view, reshape) of (N, C, *positions) or (N, L, C) to (N, features):
        the positions become features."""
        if self.function not in FOLDS or not inputs or len(self.shape) != 2:
            return False
        shape = inputs[0]
        return len(shape) >= 3 and self.shape[-1] == numel(shape[1:]) > max(shape[1], shape[-1])


# Element-wise functions that take more than one op per output element.
POINTWISE_OPS = {"addcmul": 2, "addcdiv": 2, "lerp": 3}


class Pointwise(Primitive):
    """Element-wise arithmetic (``x + y``, ``x * gate``, ``x / 2``, ``exp``, ``~mask``): one
    op per output element (``addcmul``/``addcdiv``: a product and a sum, 2; ``lerp`` 3);
    tensor operands broadcast."""

    kind: ClassVar[str] = "Pointwise"
    function: str

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        return broadcast_shapes(*inputs)

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        return {self.function: POINTWISE_OPS.get(self.function, 1) * numel(out)}

    @property
    def label(self) -> str:
        return self.function

    def field(self, sources: tuple[Field, ...], inputs: tuple[Shape, ...]) -> Field:
        if len(sources) < 2:
            return sources[0]
        # The operand with the most elements carries the positions; others broadcast.
        main = max(range(len(inputs)), key=lambda i: numel(inputs[i]))
        others = [f for i, f in enumerate(sources) if i != main]
        field = sources[main]
        for other in others:
            field = broadcast_field(field, other)
        return field


def _matmul_shape(a: Shape, b: Shape) -> tuple[Shape, int]:
    """torch.matmul's output shape and its inner size k."""
    if len(a) == 0 or len(b) == 0:
        raise InvalidSpecError("matmul needs tensors of at least one dimension")
    a2 = (1, *a) if len(a) == 1 else a
    b2 = (*b, 1) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise InvalidSpecError(f"matmul of {list(a)} and {list(b)}: {a2[-1]} != {b2[-2]}")
    batch = broadcast_shapes(a2[:-2], b2[:-2])
    out = (*batch, a2[-2], b2[-1])
    if len(a) == 1:
        out = (*out[:-2], out[-1])
    if len(b) == 1:
        out = out[:-1]
    return out, a2[-1]


class MatMul(Primitive):
    """A product of two activations (``a @ b``, ``bmm``; ``linear`` with a computed weight):
    MACs ``numel(out) x k``."""

    kind: ClassVar[str] = "MatMul"
    function: str = "matmul"
    transpose_b: bool = False  # F.linear(x, w): x @ w^T

    def _operands(self, inputs: tuple[Shape, ...]) -> tuple[Shape, Shape]:
        a, b = inputs[0], inputs[1]
        if self.transpose_b:
            b = (*b[:-2], b[-1], b[-2]) if len(b) >= 2 else b
        return a, b

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        return _matmul_shape(*self._operands(inputs))[0]

    def macs(self, inputs: tuple[Shape, ...], out: Shape) -> int:
        return numel(out) * _matmul_shape(*self._operands(inputs))[1]

    def macs_formula(self, inputs: tuple[Shape, ...], out: Shape) -> str:
        k = _matmul_shape(*self._operands(inputs))[1]
        return f"{' x '.join(map(str, out))} x {k} = {fmt_int(numel(out) * k)}"

    @property
    def label(self) -> str:
        return self.function

    def describe(self) -> str:
        return "a @ b^T" if self.transpose_b else "a @ b"

    def field(self, sources: tuple[Field, ...], inputs: tuple[Shape, ...]) -> Field:
        """Summing over the positions (attention's ``attn @ v``) makes the field global; a
        linear map with a computed weight sums over features."""
        field = merged_field(sources[:2])
        if self.function == "linear" or any(f.empty for f in sources[:2]):
            return whole_field(field) if sources[0].folded else field
        return token_field(field, _matmul_shape(*self._operands(inputs))[1])


def _einsum_sizes(equation: str, inputs: tuple[Shape, ...]) -> tuple[dict[str, int], str]:
    lhs, _, rhs = equation.replace(" ", "").partition("->")
    terms = lhs.split(",")
    if len(terms) != len(inputs) or "." in equation:
        raise InvalidSpecError(f"einsum {equation!r}: only explicit indices are read")
    sizes: dict[str, int] = {}
    for term, shape in zip(terms, inputs, strict=True):
        if len(term) != len(shape):
            raise InvalidSpecError(f"einsum {equation!r} does not fit shape {list(shape)}")
        for index, size in zip(term, shape, strict=True):
            if sizes.setdefault(index, size) != size and 1 not in (size, sizes[index]):
                raise InvalidSpecError(f"einsum {equation!r}: index {index} sizes differ")
            sizes[index] = max(sizes[index], size)
    if not _:
        rhs = "".join(sorted(i for i in sizes if lhs.count(i) == 1))
    return sizes, rhs


class Einsum(Primitive):
    """``torch.einsum`` of two operands: MACs = the product of every index's size."""

    kind: ClassVar[str] = "Einsum"
    equation: str

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        sizes, rhs = _einsum_sizes(self.equation, inputs)
        return tuple(sizes[i] for i in rhs)

    def macs(self, inputs: tuple[Shape, ...], out: Shape) -> int:
        sizes, _ = _einsum_sizes(self.equation, inputs)
        return math.prod(sizes.values()) if len(inputs) == 2 else 0

    def macs_formula(self, inputs: tuple[Shape, ...], out: Shape) -> str:
        sizes, _ = _einsum_sizes(self.equation, inputs)
        product = " x ".join(f"{i}={s}" for i, s in sizes.items())
        return f"{product} = {fmt_int(self.macs(inputs, out))}"

    @property
    def label(self) -> str:
        return "einsum"

    def describe(self) -> str:
        return self.equation

    def field(self, sources: tuple[Field, ...], inputs: tuple[Shape, ...]) -> Field:
        return merged_field(sources)


class Attention(Primitive):
    """``F.scaled_dot_product_attention(q, k, v)``: q k^T and attn v are MACs
    (``batch x L x S x (E + Ev)``); scaling and softmax are 1 per score each."""

    kind: ClassVar[str] = "Attention"
    # The weights softmax(q k^T) are returned too (nn.MultiheadAttention's need_weights):
    # torch computes them with bmm and softmax rather than one fused kernel; same work.
    weights: bool = False

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        q, k, v = inputs[:3]
        if q[-1] != k[-1] or k[-2] != v[-2]:
            raise InvalidSpecError(f"attention of {list(q)}, {list(k)}, {list(v)} does not fit")
        return (*broadcast_shapes(q[:-2], k[:-2], v[:-2]), q[-2], v[-1])

    def _scores(self, inputs: tuple[Shape, ...], out: Shape) -> int:
        q, k = inputs[0], inputs[1]
        return numel(out[:-2]) * q[-2] * k[-2]

    def macs(self, inputs: tuple[Shape, ...], out: Shape) -> int:
        q, v = inputs[0], inputs[2]
        return self._scores(inputs, out) * (q[-1] + v[-1])

    def macs_formula(self, inputs: tuple[Shape, ...], out: Shape) -> str:
        q, k, v = inputs[:3]
        return (
            f"{numel(out[:-2])} x {q[-2]} x {k[-2]} x ({q[-1]} + {v[-1]})"
            f" = {fmt_int(self.macs(inputs, out))}"
        )

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        scores = self._scores(inputs, out)
        return {"attention_scale": scores, "softmax": scores}

    @property
    def label(self) -> str:
        return "attention"

    def describe(self) -> str:
        return "softmax(q k^T / sqrt(E)) v"

    def field(self, sources: tuple[Field, ...], inputs: tuple[Shape, ...]) -> Field:
        """Each query reads every key: global when the keys are the map's positions
        (not a window of them)."""
        return token_field(merged_field(sources[:3]), inputs[1][-2])


# Per element, before the affine weight and bias: layer and group norm's mean, variance
# and normalising 4; RMS norm's square, sum and scale 3.
NORM_OPS = {"layer_norm": 4, "group_norm": 4, "rms_norm": 3}


class Norm(Primitive):
    """``layer_norm`` (or ``rms_norm``) over the trailing ``normalized`` elements, or
    ``group_norm`` over channel groups: statistics and normalising 4 per element (RMS
    norm 3: no mean), affine 1 + 1."""

    kind: ClassVar[str] = "Norm"
    function: Literal["layer_norm", "group_norm", "rms_norm"]
    normalized: tuple[int, ...]  # layer_norm's normalized shape; group_norm's (channels,)
    weight: bool = True
    bias: bool = True
    groups: int = 0  # group_norm's groups

    @property
    def affine_size(self) -> int:
        """Elements of the weight (and of the bias)."""
        return numel(self.normalized)

    @property
    def batchnorm_params(self) -> int:
        return self.affine_size * (int(self.weight) + int(self.bias))

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        per = NORM_OPS[self.function] + int(self.weight) + int(self.bias)
        return {self.function: per * numel(out)}

    @property
    def label(self) -> str:
        return {"layer_norm": "ln", "group_norm": "gn", "rms_norm": "rms"}[self.function]

    def describe(self) -> str:
        return f"{self.groups} groups" if self.groups else f"over {self.affine_size}"

    def params_formula(self) -> str:
        terms = int(self.weight) + int(self.bias)
        return f"{terms} x {self.affine_size} = {fmt_int(self.params)}" if terms else "0"


# The pools: core.ops.pooling, so pool and ResNet's stem load them without this table.
POOL_MODES = pooling.POOL_MODES
Pool2d = pooling.Pool2d
AdaptivePool2d = pooling.AdaptivePool2d


# Taps blended per output element; nearest copies (free).
RESIZE_TAPS = {
    "nearest": 0,
    "nearest-exact": 0,
    "linear": 2,
    "bilinear": 4,
    "bicubic": 16,
    "trilinear": 8,
}


class Interpolate(Primitive):
    """Resampling to ``size``: nearest copies (free); bilinear blends 4 taps per output
    element (4 element-wise ops)."""

    kind: ClassVar[str] = "Interpolate"
    mode: str
    size: Sizes  # one per spatial axis: L; H, W; D, H, W
    align_corners: bool = False  # the linear modes' other source index (F.interpolate's)

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        return (*inputs[0][: -len(self.size)], *self.size)

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        count = RESIZE_TAPS.get(self.mode, 0) * numel(out)
        return {f"{self.mode}_resize": count} if count else {}

    @property
    def counted(self) -> bool:
        return self.mode in RESIZE_TAPS

    @property
    def label(self) -> str:
        return f"{self.mode} resize"

    def describe(self) -> str:
        return "to " + "x".join(str(v) for v in self.size)

    def field(self, sources: tuple[Field, ...], inputs: tuple[Shape, ...]) -> Field:
        """Units ``in / out`` input units apart; each reads the inputs it blends."""
        sizes = inputs[0][-len(self.size) :]
        return resampled_field(sources[0], sizes, self.size, self.mode, self.align_corners)


# Ops per input element of a reduction: a sum, mean or max reads each once; var and
# std sum for the mean, then subtract, square and sum (4); a 2-norm squares and sums (2).
REDUCE_OPS = {"var": 4, "std": 4, "var_mean": 4, "std_mean": 4, "norm": 2,
              "linalg_vector_norm": 2, "logsumexp": 3}  # fmt: skip


class Reduce(Primitive):
    """A mean, sum, max, var, std or norm over some dimensions (not a global spatial pool):
    reads each input element once (var and std 4 times, a norm twice: REDUCE_OPS).

    Over the positions (a token axis, or every spatial axis) each unit has seen the
    whole input (``shapes.mixed_field``)."""

    kind: ClassVar[str] = "Reduce"
    function: str
    dims: tuple[int, ...]
    keepdim: bool = False

    def _axes(self, shape: Shape) -> set[int]:
        return {d % len(shape) for d in self.dims} if shape else set()

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        shape = inputs[0]
        axes = self._axes(shape)
        if self.keepdim:
            return tuple(1 if i in axes else s for i, s in enumerate(shape))
        return tuple(s for i, s in enumerate(shape) if i not in axes)

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        return {self.function: REDUCE_OPS.get(self.function, 1) * numel(inputs[0])}

    @property
    def label(self) -> str:
        return self.function

    def describe(self) -> str:
        return f"over {', '.join(map(str, self.dims))}"

    def field(self, sources: tuple[Field, ...], inputs: tuple[Shape, ...]) -> Field:
        shape = inputs[0]
        return mixed_field(sources[0], shape, self._axes(shape))


# Gates per recurrent cell: each a linear map of the input and of the hidden state.
RECURRENT_GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}
RECURRENT_CLASSES = {"lstm": "LSTM", "gru": "GRU", "rnn_tanh": "RNN", "rnn_relu": "RNN"}


class Recurrent(Primitive):
    """``nn.LSTM``, ``nn.GRU``, ``nn.RNN`` (``num_layers``, ``bidirectional``, LSTM's
    ``proj_size``, bias on or off, batch first or not, packed or padded) and, with
    ``cell``, ``nn.LSTMCell``, ``nn.GRUCell``, ``nn.RNNCell``: one time step.

    Every (time step, sample) pair the input holds (``T x N``; a packed sequence's
    rows) runs each layer once per direction. Per step, a layer of G gates (LSTM 4,
    GRU 3, RNN 1) of hidden size H reading ``in`` features and its own state of ``Hr``
    (``proj_size`` or H) costs ``G x H x (in + Hr)`` MACs, plus ``H x Hr`` for LSTM's
    projection; ``in`` is ``input_size`` for the first layer and ``directions x Hr``
    after. Params ``G x H x (in + Hr)`` (+ ``2 x G x H`` biases, b_ih and b_hh; + the
    projection ``Hr x H``). Element-wise per step, H each: LSTM sums its two products
    per gate (4), 3 sigmoids, 2 tanh, ``c = f c + i g`` (2 mul, 1 add), ``h = o tanh(c)``
    (1 mul); GRU sums r and z (2), 2 sigmoids, ``r (W_hn h + b_hn)`` (1 mul, 1 add),
    1 tanh, ``h = n + z (h - n)`` (1 sub, 1 mul, 1 add); RNN 1 add, 1 tanh or relu.
    """

    kind: ClassVar[str] = "Recurrent"
    mode: Literal["lstm", "gru", "rnn_tanh", "rnn_relu"]
    input_size: int
    hidden_size: int
    num_layers: int = 1
    bias: bool = True
    bidirectional: bool = False
    proj_size: int = 0
    batch_first: bool = False
    cell: bool = False
    packed: bool = False

    @property
    def gates(self) -> int:
        """Gates per cell: LSTM 4 (i, f, g, o), GRU 3 (r, z, n), RNN 1."""
        return RECURRENT_GATES[self.mode]

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def state_size(self) -> int:
        """Hr: the hidden state each step reads back (LSTM's projection, else H)."""
        return self.proj_size or self.hidden_size

    def layer_inputs(self) -> list[int]:
        """Features each layer reads: the input's, then the previous layer's output."""
        after = self.directions * self.state_size
        return [self.input_size] + [after] * (self.num_layers - 1)

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        shape = inputs[0]
        if not shape or shape[-1] != self.input_size:
            raise InvalidSpecError(
                f"{self.label} expects {self.input_size} input features, got {list(shape)}"
            )
        return (*shape[:-1], self.directions * self.state_size)

    def rows(self, inputs: tuple[Shape, ...]) -> int:
        """(time step, sample) pairs: every position of the input but its features."""
        return numel(inputs[0][:-1])

    def _per_step_macs(self) -> list[int]:
        g, h, hr = self.gates, self.hidden_size, self.state_size
        projection = h * self.proj_size
        return [g * h * (width + hr) + projection for width in self.layer_inputs()]

    @property
    def weight_params(self) -> int:
        return self.directions * sum(self._per_step_macs())

    @property
    def bias_params(self) -> int:
        return self.directions * self.num_layers * 2 * self.gates * self.hidden_size * self.bias

    def macs(self, inputs: tuple[Shape, ...], out: Shape) -> int:
        return self.rows(inputs) * self.directions * sum(self._per_step_macs())

    def bias_adds(self, out: Shape) -> int:
        """b_ih and b_hh: 2 per gate unit per step and direction."""
        return numel(out[:-1]) * self.directions * self.num_layers * (
            2 * self.gates * self.hidden_size * self.bias)  # fmt: skip

    def _per_step_elementwise(self) -> dict[str, int]:
        h = self.hidden_size
        if self.mode == "lstm":
            return {"add": 5 * h, "mul": 3 * h, "sigmoid": 3 * h, "tanh": 2 * h}
        if self.mode == "gru":
            return {"add": 4 * h, "sub": h, "mul": 2 * h, "sigmoid": 2 * h, "tanh": h}
        return {"add": h, "tanh" if self.mode == "rnn_tanh" else "relu": h}

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        steps = self.rows(inputs) * self.directions * self.num_layers
        return {kind: steps * count for kind, count in self._per_step_elementwise().items()}

    @property
    def label(self) -> str:
        name = RECURRENT_CLASSES[self.mode]
        return f"{name.lower()} cell" if self.cell else name.lower()

    def describe(self) -> str:
        parts = [f"{self.input_size} -> {self.hidden_size}"]
        if self.mode == "rnn_relu":
            parts.append("relu")
        if self.num_layers > 1:
            parts.append(f"{self.num_layers} layers")
        if self.bidirectional:
            parts.append("bidirectional")
        if self.proj_size:
            parts.append(f"proj {self.proj_size}")
        if not self.bias:
            parts.append("no bias")
        if self.packed:
            parts.append("packed")
        elif self.batch_first:
            parts.append("batch first")
        return ", ".join(parts)

    def _layer_terms(self) -> list[str]:
        g, h, hr = self.gates, self.hidden_size, self.state_size
        projection = f" + {h} x {self.proj_size}" if self.proj_size else ""
        return [f"{g} x {h} x ({width} + {hr}){projection}" for width in self.layer_inputs()]

    def _layers_text(self) -> str:
        """The layers' terms: the first's, then the others' (all alike)."""
        terms = self._layer_terms()
        if len(terms) == 1:
            return terms[0]
        rest = terms[1] if len(terms) == 2 else f"{len(terms) - 1} x ({terms[1]})"
        return f"({terms[0]} + {rest})"

    def params_formula(self) -> str:
        text = self._layers_text()
        if self.directions > 1:
            text = f"2 directions x {text}"
        if self.bias:
            text += (f" + {self.directions * self.num_layers} x 2 x {self.gates} x "
                     f"{self.hidden_size}")  # fmt: skip
        return f"{text} = {fmt_int(self.params)}"

    def _steps_text(self, shape: Shape) -> str:
        """The (time step, sample) pairs as the input holds them."""
        lead = shape[:-1]
        if self.cell:
            return f"{numel(lead)} samples" if lead else "1 sample"
        if self.packed:
            return f"{lead[0]} packed steps"
        if len(lead) == 1:
            return f"{lead[0]} steps"
        steps, batch = (lead[1], lead[0]) if self.batch_first else lead
        return f"{steps} steps x {batch} samples"

    def macs_formula(self, inputs: tuple[Shape, ...], out: Shape) -> str:
        text = f"{self._steps_text(inputs[0])}"
        if self.directions > 1:
            text += " x 2 directions"
        rule = f"{self.gates} gate{'s' if self.gates > 1 else ''} x H x (in + H" + (
            "r) + H x Hr" if self.proj_size else ")")  # fmt: skip
        return f"{text} x {self._layers_text()} [{rule}] = {fmt_int(self.macs(inputs, out))}"

    def torchinfo_mult_adds(self, out: Shape) -> int:
        """torchinfo's rule for parameters named other than weight and bias (weight_ih_l0):
        params x prod(output.shape[:2])."""
        return self.params * numel(out[:2])

    def torchinfo_formula(self, out: Shape) -> str:
        rows = " x ".join(map(str, out[:2]))
        return f"{fmt_int(self.params)} x {rows} = {fmt_int(self.torchinfo_mult_adds(out))}"

    def field(self, sources: tuple[Field, ...], inputs: tuple[Shape, ...]) -> Field:
        """A sequence's last step has read every step before it: over the positions, the
        field is global; a cell reads one step."""
        lead = inputs[0][:-1]
        if self.cell or self.packed:
            return sources[0]
        steps = lead[1] if self.batch_first and len(lead) == 2 else lead[0]
        return token_field(sources[0], steps)


class DeformConv(Primitive):
    """``torchvision.ops.deform_conv2d``: a 2-D convolution whose every tap reads its input
    at a learned offset (and, with a mask, scaled by it; DCNv2).

    MACs are the convolution's, ``N x Hout x Wout x Cout x Cin/g x kh x kw``. Each of the
    ``N x Cin x kh x kw x Hout x Wout`` values it reads is sampled bilinearly (4 taps
    blended: 4 element-wise ops, as a bilinear resize counts) and, with a mask, scaled
    (1). torch's FlopCounterMode has no formula for it (counts 0).
    """

    kind: ClassVar[str] = "DeformConv2d"
    cin: int
    cout: int
    kernel: Sizes
    stride: Sizes = (1, 1)
    padding: Sizes = (0, 0)
    dilation: Sizes = (1, 1)
    groups: int = 1
    bias: bool = True
    mask: bool = False

    @property
    def conv(self) -> Primitive:
        from convcalc.core.ops.primitives import Conv

        return Conv(self.cin, self.cout, self.kernel, self.stride, self.padding, self.dilation,
                    self.groups, self.bias)  # fmt: skip

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        return self.conv.out_shape(inputs[:1])

    @property
    def weight_params(self) -> int:
        return self.conv.weight_params

    @property
    def bias_params(self) -> int:
        return self.conv.bias_params

    def macs(self, inputs: tuple[Shape, ...], out: Shape) -> int:
        return self.conv.macs(inputs[:1], out)

    def bias_adds(self, out: Shape) -> int:
        return self.conv.bias_adds(out)

    def samples(self, out: Shape) -> int:
        """Values read at fractional positions: ``N x Cin x kh x kw x Hout x Wout``."""
        return out[0] * self.cin * math.prod(self.kernel) * numel(out[2:])

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        work = {"bilinear_sample": 4 * self.samples(out)}
        return work | ({"mask": self.samples(out)} if self.mask else {})

    @property
    def label(self) -> str:
        return "deform conv"

    def describe(self) -> str:
        return self.conv.describe() + (" masked" if self.mask else "")

    def params_formula(self) -> str:
        return self.conv.params_formula()

    def macs_formula(self, inputs: tuple[Shape, ...], out: Shape) -> str:
        sampled = f"; bilinear sampling 4 x {fmt_int(self.samples(out))} element-wise"
        return self.conv.macs_formula(inputs[:1], out) + sampled

    def torchinfo_mult_adds(self, out: Shape) -> int:
        return self.conv.torchinfo_mult_adds(out)

    def field(self, sources: tuple[Field, ...], inputs: tuple[Shape, ...]) -> Field:
        """Its taps may land anywhere the offsets send them: the kernel's own field is a
        lower bound, widened by what the offsets saw."""
        return merged_field((self.conv.field(sources[:1], inputs[:1]), *sources[1:]))


class Fold(Primitive):
    """``F.fold`` (col2im): sums the columns of patches into a map; overlapping patches
    add, one op per column element. Its output shape is torch's."""

    kind: ClassVar[str] = "Fold"
    shape: Shape

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        return self.shape

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        return {"fold": numel(inputs[0])}

    @property
    def label(self) -> str:
        return "fold"

    def describe(self) -> str:
        return "to " + "x".join(map(str, self.shape[2:]))

    def field(self, sources: tuple[Field, ...], inputs: tuple[Shape, ...]) -> Field:
        return merged_field(sources)


class ConvNamedLinear(Linear):
    """A linear map run in a module whose class name holds "Conv" (GPT-2's Conv1D: addmm
    on a weight of (in, out)): the same figures; torchinfo counts it by its convolution
    rule on the module's output, ``params x prod(out[:1] + out[2:])``."""

    torchinfo_positions: int = 1  # prod(out[:1] + out[2:]) of the module's output

    def torchinfo_mult_adds(self, out: Shape) -> int:
        return self.params * self.torchinfo_positions

    def torchinfo_formula(self, out: Shape) -> str:
        return (
            f"{fmt_int(self.params)} x {self.torchinfo_positions} = "
            f'{fmt_int(self.torchinfo_mult_adds(out))}: a "Conv" class, by the module\'s '
            "output's N x prod(out[2:])"
        )
