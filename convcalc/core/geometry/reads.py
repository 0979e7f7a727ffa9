"""Exactly which input pixels each unit along one axis reads, once units are a fraction
of a pixel apart (DOMAIN.md 7).

The recurrence ``r += (k_eff - 1) j`` is exact while jumps are whole pixels. After a
transposed convolution or an upsampling, neighbouring units read different numbers of
inputs (a stride-2 transposed conv with a 3-tap kernel: even outputs read 2 inputs,
odd ones 1), and rounding the recurrence up to whole pixels is wrong both ways, in
about 1 in 5 random 1-D chains of convolutions, pools, transposed convolutions and
resizes (a 2-tap conv after a 3-tap, stride-2 transposed conv reads 2 pixels, not 3).

So units are tracked as a periodic pattern: unit ``period x m + c`` reads pixels
``step x m + first[c]`` to ``step x m + last[c]`` of the input (None: it reads none,
as the odd outputs of a stride-2 transposed conv with an even dilation). Every op is
a map from a unit to the units it reads, periodic too, so the pattern of its output
is computed from one period of it. Only the first and last few taps of a kernel can
hold a unit's first and last pixel (a phase's pixels move right by ``step`` a period),
so a kernel of any size costs at most two cycles of taps: no op loops over its kernel.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from convcalc.core.values.record import Record

if TYPE_CHECKING:  # a Fraction is made on upsampling and strided merges only (start-up)
    from fractions import Fraction

# Patterns longer than this many units are not tracked (the field falls back to the
# recurrence); upsampling chains in real networks stay far below it.
LIMIT = 1024

Span = tuple[int, int] | None


class Reads(Record):
    """One axis's read pattern, in network-input pixels (see the module's docstring)."""

    period: int
    step: int
    spans: tuple[Span, ...]  # per phase c: (first, last) pixel read, or None

    def at(self, unit: int) -> Span:
        """(first, last) pixel that ``unit`` reads, or None."""
        m, c = divmod(unit, self.period)
        return _moved(self.spans[c], self.step * m)

    @property
    def size(self) -> int:
        """The receptive field: the widest run of pixels one unit reads, first to last."""
        return max((last - first + 1 for first, last in filter(None, self.spans)), default=0)

    @property
    def jump(self) -> Fraction:
        """Pixels between neighbouring units."""
        from fractions import Fraction

        return Fraction(self.step, self.period)


def pixels(jump: int, size: int, first: int = 0) -> Reads:
    """Units ``jump`` pixels apart, each reading ``size`` pixels from ``first`` on: the
    network input is ``pixels(1, 1)``."""
    return Reads(1, jump, ((first, first + size - 1),))


def _ends(start: int, stride: int, count: int, cycle: int) -> Iterator[int]:
    """The first and last ``cycle`` terms of ``start + stride x n`` for n < count: the only
    ones that can hold the first or last pixel, since phases repeat every ``cycle``."""
    if count <= 2 * cycle:
        yield from (start + stride * n for n in range(count))
        return
    yield from (start + stride * n for n in range(cycle))
    yield from (start + stride * n for n in range(count - cycle, count))


def _union(spans: Iterator[Span]) -> Span:
    read = [s for s in spans if s is not None]
    if not read:
        return None
    return min(s[0] for s in read), max(s[1] for s in read)


def _mapped(reads: Reads, period: int, shift: int, taps: Callable[[int], Iterator[int]]
            ) -> Reads | None:  # fmt: skip
    """Units that each read the units ``taps(o)`` of ``reads``, where unit ``o + period``
    reads the units of ``o`` moved ``shift`` on. None past LIMIT."""
    repeats = reads.period // math.gcd(shift, reads.period)  # shifts that are whole periods
    new_period = period * repeats
    if new_period > LIMIT:
        return None
    step = reads.step * shift * repeats // reads.period
    spans = tuple(_union(reads.at(u) for u in taps(o)) for o in range(new_period))
    return _shortest(Reads(new_period, step, spans))


def _moved(span: Span, step: int) -> Span:
    return None if span is None else (span[0] + step, span[1] + step)


def _shortest(reads: Reads) -> Reads:
    """The same pattern with its shortest period (an upsampling followed by a stride that
    undoes it repeats every unit again)."""
    n = reads.period
    for period in range(1, n):
        if n % period or (reads.step * period) % n:
            continue
        step = reads.step * period // n
        if all(reads.spans[c + period] == _moved(reads.spans[c], step) for c in range(n - period)):
            return Reads(period, step, reads.spans[:period])
    return reads


def window(reads: Reads, kernel: int, stride: int, dilation: int, before: int
           ) -> Reads | None:  # fmt: skip
    """A sliding window (convolution, pooling): unit u reads units
    ``u s - before + t d`` for taps t < k (``before``: the padding on the left)."""
    if reads.period == 1:  # units whole pixels apart (the usual net): the span, moved out
        span, step = reads.spans[0], reads.step
        if span is not None:
            span = (span[0] - step * before, span[1] + step * ((kernel - 1) * dilation - before))
        return Reads(1, step * stride, (span,))
    cycle = reads.period // math.gcd(reads.period, dilation)
    return _mapped(reads, 1, stride,
                   lambda o: _ends(o * stride - before, dilation, kernel, cycle))  # fmt: skip


def transposed(reads: Reads, kernel: int, stride: int, dilation: int, padding: int
               ) -> Reads | None:  # fmt: skip
    """A transposed convolution: output o reads input i where ``o + p = i s + t d``.

    The taps that land on a whole input for one o are ``s / gcd(s, d)`` apart, and their
    inputs ``d / gcd(s, d)`` apart, going left.
    """
    g = math.gcd(stride, dilation)
    tap_gap, unit_gap = stride // g, dilation // g
    cycle = reads.period // math.gcd(reads.period, unit_gap)

    def taps(o: int) -> Iterator[int]:
        first = next((t for t in range(min(kernel, tap_gap))
                      if (o + padding - t * dilation) % stride == 0), None)  # fmt: skip
        if first is None:
            return iter(())
        count = (kernel - 1 - first) // tap_gap + 1
        return _ends((o + padding - first * dilation) // stride, -unit_gap, count, cycle)

    return _mapped(reads, stride, 1, taps)


def resampled(reads: Reads, size: int, out: int, mode: str, align_corners: bool
              ) -> Reads | None:  # fmt: skip
    """Resampling ``size`` units to ``out`` with torch's source index for ``mode``, for a
    unit away from the edges (where no index is clamped); units given zero weight (a
    source that falls on a whole unit) are not read. None for a mode it doesn't know."""
    reach = {"linear": 1, "bilinear": 1, "trilinear": 1, "bicubic": 3}.get(mode)
    if reach is None and mode not in ("nearest", "nearest-exact"):
        return None
    from fractions import Fraction

    if align_corners and reach is not None:
        scale = Fraction(size - 1, out - 1) if out > 1 else Fraction(0)
        half = Fraction(0)
    else:
        scale, half = Fraction(size, out), Fraction(1, 2)
    if scale == 0:  # one output unit: it reads the first input
        return _mapped(reads, 1, 0, lambda o: iter((0,)))
    period, shift = scale.denominator, scale.numerator
    inside = period * (8 + math.ceil(8 / scale))  # this many units in, no index is clamped

    def taps(o: int) -> Iterator[int]:
        o += inside
        moved = shift * (inside // period)
        if reach is None:  # nearest: floor(o s); nearest-exact: floor((o + 1/2) s)
            source = (o + (half if mode == "nearest-exact" else 0)) * scale
            return iter((math.floor(source) - moved,))
        source = (o + half) * scale - half
        base = math.floor(source)
        if source == base:
            return iter((base - moved,))
        low = base - (1 if reach == 3 else 0)
        return iter(range(low - moved, low + reach + 1 - moved))

    return _mapped(reads, period, shift, taps)


def merged(patterns: tuple[Reads, ...]) -> Reads | None:
    """Operands read at the same positions: each unit reads what any of them reads."""
    first = patterns[0]  # equal jumps (step / period), compared without fractions (start-up)
    if all(p.period == 1 and p.step == first.step for p in patterns):  # whole-pixel units
        return Reads(1, first.step, (_union(p.spans[0] for p in patterns),))
    period = math.lcm(*(p.period for p in patterns))
    if period > LIMIT or any(p.step * first.period != first.step * p.period for p in patterns):
        return None
    step = first.step * (period // first.period)  # the shared jump x period
    spans = tuple(_union(p.at(o) for p in patterns) for o in range(period))
    return _shortest(Reads(period, step, spans))
