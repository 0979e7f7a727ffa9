"""Primitives met when reading any model: matmuls, attention, norms, pools, arithmetic.

The built-in layers need only ``primitives.py``; a user's model runs much more.
Each op here is a primitive like the others (shape rule, counts, formula,
label, torchinfo rule, receptive-field rule), so a model read from torch is
analysed by the same code as a built-in network.

Conventions, stated once (README "Counting conventions"):

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

import math
from dataclasses import dataclass
from typing import ClassVar, Literal

from convcalc.core.primitives import Primitive, Shape, fmt_int, numel, per_axis
from convcalc.core.shapes import (
    Field,
    Sizes,
    broadcast_field,
    conv_output_size,
    global_field,
    local_field,
    merged_field,
    resampled_field,
)
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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
        return merged_field(sources)


@dataclass(frozen=True)
class Pointwise(Primitive):
    """Element-wise arithmetic (``x + y``, ``x * gate``, ``x / 2``, ``exp``): one op per
    output element; tensor operands broadcast."""

    kind: ClassVar[str] = "Pointwise"
    function: str

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        return broadcast_shapes(*inputs)

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        return {self.function: numel(out)}

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


@dataclass(frozen=True)
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
        return merged_field(sources[:2])


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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
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
        return merged_field(sources[:3])


@dataclass(frozen=True)
class Norm(Primitive):
    """``layer_norm`` over the trailing ``normalized`` elements, or ``group_norm`` over
    channel groups: statistics and normalising 4 per element, affine 1 + 1."""

    kind: ClassVar[str] = "Norm"
    function: Literal["layer_norm", "group_norm"]
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
        return {self.function: (4 + int(self.weight) + int(self.bias)) * numel(out)}

    @property
    def label(self) -> str:
        return "ln" if self.function == "layer_norm" else "gn"

    def describe(self) -> str:
        return f"{self.groups} groups" if self.groups else f"over {self.affine_size}"

    def params_formula(self) -> str:
        terms = int(self.weight) + int(self.bias)
        return f"{terms} x {self.affine_size} = {fmt_int(self.params)}" if terms else "0"


def _pool_size(size: int, kernel: int, stride: int, padding: int, dilation: int,
               ceil_mode: bool) -> int:  # fmt: skip
    """torch's pooling output size; with ceil_mode the last window must start inside the
    input or its left padding."""
    k_eff = dilation * (kernel - 1) + 1
    if ceil_mode:
        out = -(-(size + 2 * padding - k_eff) // stride) + 1
        if (out - 1) * stride >= size + padding:
            out -= 1
        return out
    return conv_output_size(size, kernel, stride, padding, dilation)


@dataclass(frozen=True)
class Pool2d(Primitive):
    """Max or average pooling over a sliding window (``nn.MaxPool1d``..``3d``,
    ``nn.AvgPool1d``..``3d``): each output reads its window of ``prod(k)`` elements.

    The number of spatial axes is the kernel's length. Work: one op per element of
    each window (max: compares, avg: adds), ``N x C x prod(out) x prod(k)``; windows cut
    by padding or ceil_mode are counted whole (the divide of avg is not counted).
    """

    mode: Literal["max", "avg"]
    kernel: Sizes
    stride: Sizes
    padding: Sizes = (0, 0)
    dilation: Sizes = (1, 1)
    ceil_mode: bool = False
    count_include_pad: bool = True

    def __post_init__(self) -> None:
        per_axis(self, ("stride", "padding", "dilation"), self.kernel)
        for axis, (k, p) in enumerate(zip(self.kernel, self.padding, strict=True)):
            if p > k // 2:  # torch's rule, on the kernel (not its dilated span)
                raise InvalidSpecError(
                    f"pooling padding={p} must be at most half the kernel ({k}) on axis "
                    f"{axis}, as torch requires"
                )

    @property
    def kind(self) -> str:  # type: ignore[override]
        """``Pool2d`` (and ``Pool1d``, ``Pool3d``): max or avg is the label."""
        return f"Pool{len(self.kernel)}d"

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        (shape,) = inputs
        dims = len(self.kernel)
        if len(shape) < dims + 1:
            raise InvalidSpecError(
                f"{self.mode} pooling over {dims} axes needs (C, *spatial), got {list(shape)}"
            )
        spatial = shape[-dims:]
        if (
            self.mode == "avg"
            and dims == 3
            and any(n < k for n, k in zip(spatial, self.kernel, strict=True))
        ):
            raise InvalidSpecError(
                f"3-D average pooling needs an input of at least the kernel on every axis, "
                f"padding aside, as torch's avg_pool3d requires: input {list(spatial)}, "
                f"kernel {list(self.kernel)}"
            )
        size = tuple(
            _pool_size(spatial[a], self.kernel[a], self.stride[a], self.padding[a],
                       self.dilation[a], self.ceil_mode)
            for a in range(dims)
        )  # fmt: skip
        return (*shape[:-dims], *size)

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        return {f"{self.mode}_pool": numel(out) * math.prod(self.kernel)}

    @property
    def label(self) -> str:
        return f"{self.mode} pool"

    def describe(self) -> str:
        text = f"{'x'.join(map(str, self.kernel))} s{self.stride[0]}"
        if set(self.stride) != {self.stride[0]}:
            text = f"{'x'.join(map(str, self.kernel))} s{'x'.join(map(str, self.stride))}"
        return text + (" ceil" if self.ceil_mode else "")

    def shape_formula(self, inputs: tuple[Shape, ...], out: Shape) -> str:
        dims = len(self.kernel)
        rounding = "ceil" if self.ceil_mode else "floor"
        parts = []
        for a, size in enumerate(inputs[0][-dims:]):
            k, s, p, d = self.kernel[a], self.stride[a], self.padding[a], self.dilation[a]
            text = f"{rounding}(({size} + 2x{p} - {d}x({k}-1) - 1) / {s}) + 1"
            rounded = -(-(size + 2 * p - d * (k - 1) - 1) // s) + 1
            if self.ceil_mode and rounded != out[-dims + a]:
                text += f" = {rounded}, less the last window (it would start in the padding)"
            parts.append(f"{text} = {out[-dims + a]}")
        return parts[0] if len(set(parts)) == 1 else "; ".join(parts)

    def field(self, sources: tuple[Field, ...], inputs: tuple[Shape, ...]) -> Field:
        total = tuple(2 * p for p in self.padding)
        return local_field(sources[0], self.kernel, self.stride, self.dilation, total)


def _adaptive_windows(size: int, out: int) -> int:
    """Elements read along one axis: window i spans floor(i x size / out) to
    ceil((i + 1) x size / out)."""
    return sum(-(-((i + 1) * size) // out) - (i * size) // out for i in range(out))


@dataclass(frozen=True)
class AdaptivePool2d(Primitive):
    """Adaptive max or average pooling to ``output`` (one size per spatial axis; all 1 is
    a global pool)."""

    mode: Literal["max", "avg"]
    output: Sizes

    @property
    def kind(self) -> str:  # type: ignore[override]
        return f"AdaptivePool{len(self.output)}d"

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        (shape,) = inputs
        return (*shape[: -len(self.output)], *self.output)

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        dims = len(self.output)
        spatial = inputs[0][-dims:]
        reads = math.prod(
            _adaptive_windows(n, o) for n, o in zip(spatial, self.output, strict=True)
        )
        return {f"{self.mode}_pool": numel(inputs[0][:-dims]) * reads}

    @property
    def label(self) -> str:
        return f"adaptive {self.mode} pool"

    def describe(self) -> str:
        return "to " + "x".join(map(str, self.output))

    def field(self, sources: tuple[Field, ...], inputs: tuple[Shape, ...]) -> Field:
        spatial = inputs[0][-len(self.output) :]
        if set(self.output) == {1}:
            return global_field(sources[0], spatial)
        kernel = tuple(-(-n // o) for n, o in zip(spatial, self.output, strict=True))
        stride = tuple(max(n // o, 1) for n, o in zip(spatial, self.output, strict=True))
        ones = (1,) * len(self.output)
        return local_field(sources[0], kernel, stride, ones, (0,) * len(self.output))


# Taps blended per output element; nearest copies (free).
RESIZE_TAPS = {
    "nearest": 0,
    "nearest-exact": 0,
    "linear": 2,
    "bilinear": 4,
    "bicubic": 16,
    "trilinear": 8,
}


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Reduce(Primitive):
    """A mean, sum or max over some dimensions (not a global spatial pool): reads each
    input element once."""

    kind: ClassVar[str] = "Reduce"
    function: str
    dims: tuple[int, ...]
    keepdim: bool = False

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        shape = inputs[0]
        axes = {d % len(shape) for d in self.dims} if shape else set()
        if self.keepdim:
            return tuple(1 if i in axes else s for i, s in enumerate(shape))
        return tuple(s for i, s in enumerate(shape) if i not in axes)

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        return {self.function: numel(inputs[0])}

    @property
    def label(self) -> str:
        return self.function

    def describe(self) -> str:
        return f"over {', '.join(map(str, self.dims))}"
