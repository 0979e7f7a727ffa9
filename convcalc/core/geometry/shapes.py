"""Output sizes, effective kernels and receptive fields, per axis (DOMAIN.md 1, 7)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Union

from convcalc.core.geometry import reads
from convcalc.core.geometry.reads import Reads
from convcalc.core.values.record import Record
from convcalc.errors import InvalidSpecError

if TYPE_CHECKING:
    from fractions import Fraction

Pair = tuple[int, int]
Sizes = tuple[int, ...]  # one value per spatial axis
# A jump is a whole number of input pixels, or a fraction of one after a transposed
# (upsampling) convolution: output units 1/2 pixel apart.
# (fractions is imported where a Fraction is made: a run without upsampling never loads it)
Jump = Union[int, "Fraction"]  # the string names a class imported for typing only
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
    """Input positions between the first and the last that the widest output unit of a
    transposed convolution reads (its window, in input units): the recurrence's step,
    used where the exact read pattern is not tracked (core/geometry/reads.py).

    Output o reads input i when ``o + p = i s + t d`` for a tap t: the taps that land
    on whole inputs for one o are ``s / gcd(s, d)`` apart and their inputs
    ``d / gcd(s, d)``; the output whose first tap is tap 0 has the most.
    """
    g = math.gcd(stride, dilation)
    return (kernel - 1) // (stride // g) * (dilation // g)


def _whole(value: Jump) -> Jump:
    """A fraction that is a whole number is an int (jumps stay ints in 2-D nets)."""
    return int(value) if value.denominator == 1 else value  # an int's denominator is 1 too


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


class Field(Record):
    """The receptive field of one tensor's units, per spatial axis (L; H, W; or D, H, W),
    in input pixels.

    ``size`` is the recurrence's ``r``, never more than ``padded`` (the input plus
    every padding met on the way, in input pixels); ``jump`` is the distance
    between neighbouring units. ``whole`` marks a unit that has seen the whole
    input (through a global pool or a gate built from one): its ``size`` is the
    input's extent, and later windows cannot widen it.

    ``reads`` is the exact pattern of pixels each unit reads, per axis (None once a
    pattern grows past ``reads.LIMIT`` or the field is whole). Once units are a
    fraction of a pixel apart (``exact``: after a transposed conv or an upsampling)
    ``size`` is the pattern's widest unit, where the recurrence would be wrong.
    """

    size: Sizes
    jump: Jumps
    padded: Sizes
    extent: Sizes  # the network input's spatial size
    whole: bool = False
    reads: tuple[Reads, ...] | None = dataclasses.field(default=None, compare=False, repr=False)
    exact: bool = dataclasses.field(default=False, compare=False)
    # The positions are folded into one feature axis (a flatten of (N, C, H, W) to
    # (N, C x H x W)): the next linear map mixes them all.
    folded: bool = dataclasses.field(default=False, compare=False)
    # A parameter's field: it reads no pixel (a class token, a position embedding).
    empty: bool = dataclasses.field(default=False, compare=False)


def _each(patterns: tuple[Reads, ...] | None, step: Callable[[int, Reads], Reads | None]
          ) -> tuple[Reads, ...] | None:  # fmt: skip
    """``step`` on each axis's pattern; None when any axis is not tracked."""
    if patterns is None:
        return None
    out = tuple(step(a, r) for a, r in enumerate(patterns))
    return None if any(r is None for r in out) else out  # type: ignore[return-value]


def _after(field: Field, patterns: tuple[Reads, ...] | None, exact: bool, jump: Jumps,
           padded: Sizes, recurrence: Callable[[int], int]) -> Field:  # fmt: skip
    """The next field: exact sizes from the patterns once ``exact``, else the recurrence's
    (its fallback when a pattern is no longer tracked)."""
    axes = range(len(jump))
    if exact and patterns is not None:
        size = tuple(min(patterns[a].size, padded[a]) for a in axes)
    else:
        size, exact = tuple(min(recurrence(a), padded[a]) for a in axes), False
    return Field(size, jump, padded, field.extent, reads=patterns, exact=exact)


def input_field(extent: Sizes) -> Field:
    """The network's input: each pixel sees itself."""
    ones = (1,) * len(extent)
    return Field(ones, ones, extent, extent, reads=tuple(reads.pixels(1, 1) for _ in extent))


def local_field(
    field: Field, kernel: Sizes, stride: Sizes, dilation: Sizes, padding_total: Sizes
) -> Field:
    """A sliding window: ``r += (k_eff - 1) x j`` (at most the padded input), ``j *= s``.

    Its padding before is half the total (torch's ``same`` puts the odd pixel after).
    A window over other axes than the input's spatial ones (a 1-D convolution over
    the channels of a 2-D map, as ECA does) leaves the field as it is.
    """
    if len(kernel) != len(field.jump) or _reads_its_own_unit(field, kernel, stride, padding_total):
        return field
    axes = range(len(kernel))
    jump = tuple(_whole(field.jump[a] * stride[a]) for a in axes)
    padded = tuple(math.ceil(field.padded[a] + padding_total[a] * field.jump[a]) for a in axes)
    if field.whole:
        return Field(field.size, jump, padded, field.extent, whole=True)
    patterns = _each(field.reads, lambda a, r: reads.window(
        r, kernel[a], stride[a], dilation[a], padding_total[a] // 2))  # fmt: skip
    return _after(field, patterns, field.exact, jump, padded, lambda a: receptive_field_step(
        field.size[a], field.jump[a], kernel[a], stride[a], dilation[a])[0])  # fmt: skip


def _reads_its_own_unit(field: Field, kernel: Sizes, stride: Sizes, padding_total: Sizes) -> bool:
    """A 1 x 1 window at stride 1 with no padding (a pointwise convolution): each unit
    reads the one unit below it, so the field is the input's, as the general rule finds
    it (a whole, folded or empty field is left to that rule)."""
    return (
        all(k == 1 for k in kernel)
        and all(s == 1 for s in stride)
        and not any(padding_total)
        and not (field.whole or field.folded or field.empty)
    )


def transposed_field(
    field: Field, kernel: Sizes, stride: Sizes, dilation: Sizes, padding: Sizes
) -> Field:
    """A transposed convolution: its units are ``j / s`` apart, a fraction of a pixel
    when it upsamples the input (kept exact, written ``1/2``), and read different
    numbers of inputs: the field is the widest, from the exact read pattern.

    Its padding crops the output rather than padding the input: ``padded`` is kept.
    """
    if len(kernel) != len(field.jump):
        return field
    axes = range(len(kernel))
    from fractions import Fraction  # upsampling only (start-up)

    jump = tuple(_whole(Fraction(field.jump[a]) / stride[a]) for a in axes)
    if field.whole:
        return Field(field.size, jump, field.padded, field.extent, whole=True)
    patterns = _each(field.reads, lambda a, r: reads.transposed(
        r, kernel[a], stride[a], dilation[a], padding[a]))  # fmt: skip
    reach = tuple(map(transposed_reach, kernel, stride, dilation))
    return _after(field, patterns, True, jump, field.padded,
                  lambda a: math.ceil(field.size[a] + reach[a] * field.jump[a]))  # fmt: skip


# Input units blended per output unit's window, for the recurrence (nearest 0, linear 1).
RESAMPLE_REACH = {"linear": 1, "bilinear": 1, "trilinear": 1, "bicubic": 3}


def _ratio(size: int, out: int, align_corners: bool) -> Fraction:
    """Input units between neighbouring output units: ``in / out``, or with align_corners
    ``(in - 1) / (out - 1)`` (the corners' centres meet)."""
    from fractions import Fraction  # resampling only (start-up)

    if align_corners:
        return Fraction(size - 1, out - 1) if out > 1 else Fraction(0)
    return Fraction(size, out)


def resampled_field(
    field: Field, sizes: Sizes, out: Sizes, mode: str, align_corners: bool = False
) -> Field:
    """Resampling ``sizes`` to ``out`` per axis: units ``j x in / out`` apart (a fraction of
    a pixel when it upsamples; ``(in - 1) / (out - 1)`` with align_corners); each reads
    the inputs torch's source index picks."""
    if len(sizes) != len(field.jump):
        return field
    axes = range(len(sizes))
    corners = align_corners and mode in RESAMPLE_REACH  # nearest modes ignore it
    from fractions import Fraction  # resampling only (start-up)

    jump = tuple(_whole(Fraction(field.jump[a]) * _ratio(sizes[a], out[a], corners)) for a in axes)
    if field.whole:
        return Field(field.size, jump, field.padded, field.extent, whole=True)
    patterns = _each(field.reads, lambda a, r: reads.resampled(
        r, sizes[a], out[a], mode, align_corners))  # fmt: skip
    reach = RESAMPLE_REACH.get(mode, 0)
    return _after(field, patterns, True, jump, field.padded,
                  lambda a: math.ceil(field.size[a] + reach * field.jump[a]))  # fmt: skip


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
    """Operands read at the same positions (a residual add): the widest field; once
    exact, each unit reads what any operand's unit there reads. A parameter's (empty)
    field adds nothing; positions folded into features stay folded."""
    live = tuple(f for f in fields if not f.empty)
    if not live:
        return fields[0]
    merged = _merged(live)
    if any(f.folded for f in live) and not merged.whole:
        return dataclasses.replace(merged, folded=True)
    return merged


def _merged(fields: tuple[Field, ...]) -> Field:
    whole = any(f.whole for f in fields)
    first = fields[0]
    axes = range(len(first.jump))
    padded = tuple(max(f.padded[a] for f in fields) for a in axes)
    if whole:
        return Field(first.extent, first.jump, padded, first.extent, whole=True)
    patterns: tuple[Reads, ...] | None = None
    if all(f.reads is not None and len(f.reads) == len(axes) for f in fields):
        patterns = _each(first.reads, lambda a, _: reads.merged(
            tuple(f.reads[a] for f in fields if f.reads is not None)))  # fmt: skip
    exact = any(f.exact for f in fields)
    return _after(first, patterns, exact, first.jump, padded,
                  lambda a: max(f.size[a] for f in fields))  # fmt: skip


def whole_field(field: Field) -> Field:
    """Every unit has seen the whole input (after an op that mixes all positions)."""
    return Field(field.extent, field.jump, field.padded, field.extent, whole=True)


def empty_field(field: Field) -> Field:
    """A parameter read as data: it sees no pixel of the input."""
    zeros = (0,) * len(field.jump)
    return Field(zeros, field.jump, field.padded, field.extent, empty=True)


def map_positions(field: Field) -> int:
    """About how many units a map of this field holds: the input's extent over the jump,
    per axis (a lower bound where padding widened the map)."""
    return math.prod(max(1, math.floor(e / j)) for e, j in zip(field.extent, field.jump,
                                                                  strict=True))  # fmt: skip


def token_field(field: Field, count: int) -> Field:
    """An op that combines ``count`` units along one axis (attention's keys, the axis a
    product of two activations sums over): global when that is more than half the
    map's positions, as attention over all tokens is (window attention is not)."""
    positions = map_positions(field)
    if field.whole or (positions > 1 and 2 * count > positions):
        return whole_field(field)
    return field


def mixed_field(field: Field, shape: tuple[int, ...], axes: set[int]) -> Field:
    """A reduction over ``axes`` of a tensor of ``shape``: global when the axes are the
    positions (every spatial axis of (N, C, *spatial) or (N, *spatial, C); a token axis
    of (N, L, C)) and hold more than half the map's positions; channels are not."""
    dims, rank = len(field.jump), len(shape)
    reduced = axes - {0}
    if field.whole or not reduced or field.empty:
        return field
    if rank == 2 + dims:
        covers = reduced >= set(range(2, rank)) or reduced >= set(range(1, rank - 1))
    else:
        covers = rank >= 3 and rank - 1 not in reduced
    count = math.prod(shape[a] for a in reduced)
    positions = map_positions(field)
    if covers and positions > 1 and 2 * count > positions:
        return whole_field(field)
    return field
