"""Output sizes, effective kernels and receptive fields, per axis (DOMAIN.md 1, 7)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from convcalc.errors import InvalidSpecError

Pair = tuple[int, int]
Sizes = tuple[int, ...]  # one value per spatial axis
# A jump is a whole number of input pixels, or a fraction of one after a transposed
# (upsampling) convolution: output units 1/2 pixel apart.
Jump = int | Fraction
Jumps = tuple[Jump, ...]


def effective_kernel(kernel: int, dilation: int) -> int:
    """Span of a dilated kernel: ``d * (k - 1) + 1`` (k=3, d=2 covers 5)."""
    return dilation * (kernel - 1) + 1


def conv_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """``floor((size + 2p - d(k - 1) - 1) / s + 1)``, as ``nn.Conv2d`` documents it.

    Raises InvalidSpecError when the effective kernel is larger than the padded input.
    """
    k_eff = effective_kernel(kernel, dilation)
    padded = size + 2 * padding
    if k_eff > padded:
        raise InvalidSpecError(
            f"effective kernel {k_eff} (kernel={kernel}, dilation={dilation}) is larger "
            f"than the padded input {padded} (input={size}, padding={padding})"
        )
    return (padded - k_eff) // stride + 1


def transposed_output_size(
    size: int, kernel: int, stride: int, padding: int, dilation: int, output_padding: int
) -> int:
    """``(size - 1) s - 2p + d(k - 1) + output_padding + 1``, as ``nn.ConvTranspose2d``
    documents it (the inverse of the convolution's rule, DOMAIN.md; Dumoulin and Visin).

    Raises InvalidSpecError when the padding crops everything away.
    """
    out = (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    if out <= 0:
        raise InvalidSpecError(
            f"padding={padding} crops the transposed convolution's output to {out} "
            f"(input={size}, kernel={kernel}, stride={stride}, dilation={dilation})"
        )
    return out


def transposed_reach(kernel: int, stride: int, dilation: int) -> int:
    """Input positions between the first and the last an output unit of a transposed
    convolution reads (its window, in input units).

    Output o reads input i when ``o + p = i s + t d`` for a tap t: the taps that land
    on whole inputs for one o are spaced ``s / gcd(s, d)`` apart, so a window of
    ``k`` taps reaches over about ``d (k - 1) / s`` inputs; the widest o decides.
    """
    reach = 0
    for residue in range(stride):
        taps = [t for t in range(kernel) if (t * dilation - residue) % stride == 0]
        if taps:
            reach = max(reach, (taps[-1] - taps[0]) * dilation // stride)
    return reach


def _whole(value: Jump) -> Jump:
    """A fraction that is a whole number is an int (jumps stay ints in 2-D nets)."""
    return int(value) if isinstance(value, Fraction) and value.denominator == 1 else value


def jumps_json(jumps: Jumps) -> list[int | str]:
    """Jumps for JSON: whole pixels as numbers, fractions of one as text (``"1/2"``)."""
    return [j if isinstance(j, int) else str(j) for j in jumps]


def same_padding(kernel: int, dilation: int) -> Pair:
    """PyTorch's ``padding='same'`` split: (before, after); the odd pixel goes after."""
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2


def receptive_field_step(
    rf: int, jump: Jump, kernel: int, stride: int, dilation: int
) -> tuple[int, Jump]:
    """One layer of the receptive-field recurrence: ``r += (k_eff - 1) * j``, ``j *= s``.

    With a fractional jump (after upsampling) the field is the whole pixels it touches.
    """
    rf_out = math.ceil(rf + (effective_kernel(kernel, dilation) - 1) * jump)
    return rf_out, _whole(jump * stride)


@dataclass(frozen=True)
class Field:
    """The receptive field of one tensor's units, per spatial axis (L; H, W; or D, H, W),
    in input pixels.

    ``size`` is the recurrence's ``r``, never more than ``padded`` (the input plus
    every padding met on the way, in input pixels); ``jump`` is the distance
    between neighbouring units. ``whole`` marks a unit that has seen the whole
    input (through a global pool or a gate built from one): its ``size`` is the
    input's extent, and later windows cannot widen it.
    """

    size: Sizes
    jump: Jumps
    padded: Sizes
    extent: Sizes  # the network input's spatial size
    whole: bool = False


def input_field(extent: Sizes) -> Field:
    """The network's input: each pixel sees itself."""
    ones = (1,) * len(extent)
    return Field(ones, ones, extent, extent)


def local_field(
    field: Field, kernel: Sizes, stride: Sizes, dilation: Sizes, padding_total: Sizes
) -> Field:
    """A sliding window: ``r += (k_eff - 1) x j`` (at most the padded input), ``j *= s``.

    A window over other axes than the input's spatial ones (a 1-D convolution over
    the channels of a 2-D map, as ECA does) leaves the field as it is.
    """
    if len(kernel) != len(field.jump):
        return field
    axes = range(len(kernel))
    jump = tuple(_whole(field.jump[a] * stride[a]) for a in axes)
    padded = tuple(math.ceil(field.padded[a] + padding_total[a] * field.jump[a]) for a in axes)
    if field.whole:
        return Field(field.size, jump, padded, field.extent, whole=True)
    size = tuple(
        min(receptive_field_step(field.size[a], field.jump[a], kernel[a], stride[a],
                                 dilation[a])[0], padded[a])
        for a in axes
    )  # fmt: skip
    return Field(size, jump, padded, field.extent)


def transposed_field(field: Field, kernel: Sizes, stride: Sizes, dilation: Sizes) -> Field:
    """A transposed convolution: each output unit reads ``transposed_reach`` input units
    more than one (``r += reach x j``), and its units are ``j / s`` apart, a fraction of
    a pixel when it upsamples the input (kept exact, written ``1/2``).

    Its padding crops the output rather than padding the input: ``padded`` is kept.
    """
    if len(kernel) != len(field.jump):
        return field
    axes = range(len(kernel))
    jump = tuple(_whole(Fraction(field.jump[a]) / stride[a]) for a in axes)
    if field.whole:
        return Field(field.size, jump, field.padded, field.extent, whole=True)
    size = tuple(
        min(math.ceil(field.size[a] + transposed_reach(kernel[a], stride[a], dilation[a])
                      * field.jump[a]), field.padded[a])
        for a in axes
    )  # fmt: skip
    return Field(size, jump, field.padded, field.extent)


def resampled_field(field: Field, sizes: Sizes, out: Sizes, reach: int) -> Field:
    """Resampling ``sizes`` to ``out`` per axis: units ``j x in / out`` apart (a fraction of
    a pixel when it upsamples), each blending inputs ``reach`` units apart (nearest 0,
    linear 1, cubic 3): ``r += reach x j``."""
    if len(sizes) != len(field.jump):
        return field
    axes = range(len(sizes))
    jump = tuple(_whole(Fraction(field.jump[a]) * sizes[a] / out[a]) for a in axes)
    if field.whole:
        return Field(field.size, jump, field.padded, field.extent, whole=True)
    size = tuple(
        min(math.ceil(field.size[a] + reach * field.jump[a]), field.padded[a]) for a in axes
    )
    return Field(size, jump, field.padded, field.extent)


def global_field(field: Field, map_size: Sizes) -> Field:
    """An op over the whole map (global pooling): its unit sees the whole input.

    Its one output per axis steps over the whole map (``j x map size``).
    """
    if len(map_size) != len(field.jump):
        return Field(field.extent, field.jump, field.padded, field.extent, whole=True)
    jump = tuple(_whole(field.jump[a] * map_size[a]) for a in range(len(map_size)))
    return Field(field.extent, jump, field.padded, field.extent, whole=True)


def broadcast_field(x: Field, gate: Field) -> Field:
    """``x * gate`` with the gate broadcast over x: x's positions and jump.

    A gate that saw the whole input makes every unit of the product see it too.
    """
    if gate.whole or x.whole:
        return Field(x.extent, x.jump, x.padded, x.extent, whole=True)
    return merged_field((x, gate))


def merged_field(fields: tuple[Field, ...]) -> Field:
    """Operands read at the same positions (a residual add): the widest field."""
    whole = any(f.whole for f in fields)
    first = fields[0]
    axes = range(len(first.jump))
    size = tuple(max(f.size[a] for f in fields) for a in axes)
    return Field(
        first.extent if whole else size,
        first.jump,
        tuple(max(f.padded[a] for f in fields) for a in axes),
        first.extent,
        whole=whole,
    )
