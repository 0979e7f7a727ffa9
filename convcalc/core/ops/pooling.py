"""Pooling over sliding windows and adaptive pooling (``nn.MaxPool``, ``nn.AvgPool``,
``nn.AdaptiveMaxPool``, ``nn.AdaptiveAvgPool``, 1-D to 3-D).

Their own module, beside ``traced.py`` (which re-exports them), so that ``pool``
and ResNet's stem load two primitives, not the op table a read model needs
(start-up, SPEC "Performance"). The counting convention is ``traced.py``'s:
one op per window element read.
"""

from __future__ import annotations

import math
from typing import Literal

from convcalc.core.geometry.shapes import Field, Sizes, conv_output_size, global_field, local_field
from convcalc.core.ops.primitives import Primitive, Shape, numel, per_axis
from convcalc.errors import InvalidSpecError

POOL_MODES = ("max", "avg")  # a pool's mode: its op per window element


def _pool_size(size: int, kernel: int, stride: int, padding: int, dilation: int,
               ceil_mode: bool) -> int:  # fmt: skip
    """torch's pooling output size (aten's ``pooling_output_shape``); with ceil_mode the
    last window must start inside the input or its left padding.

    torch refuses an output below 1, and so does this (InvalidSpecError). With ceil_mode
    it accepts a window larger than the padded input while one still starts inside it
    (input 5, kernel 6, stride 2: one output).
    """
    if not ceil_mode:
        return conv_output_size(size, kernel, stride, padding, dilation)
    k_eff = dilation * (kernel - 1) + 1
    out = -(-(size + 2 * padding - k_eff) // stride) + 1
    if (out - 1) * stride >= size + padding:
        out -= 1
    if out < 1:
        raise InvalidSpecError(
            f"pooling window {k_eff} (kernel={kernel}, dilation={dilation}) leaves no output "
            f"on input {size} (padding={padding}, stride={stride}, ceil_mode): "
            f"ceil(({size} + 2x{padding} - {k_eff}) / {stride}) + 1 = {out}, and torch "
            "needs at least 1"
        )
    return out


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
