"""Measured time beside the roofline's lower bound (pure: ``convcalc.measure.timing`` measures).

``--measure-time`` runs the network on a real device: each module call (each
node of a built-in network, each leaf module call of a read model) is timed in
the forward pass it belongs to, warmed up, and its median over the repeats
kept; the whole forward pass is timed on its own, without the per-call clocks.
A ``Timing`` holds those medians. Beside a device's roofline (``--hardware``),
each call gets:

- **measured time**: the median, in seconds;
- **time ratio** = measured time / the lower bound (the sum of the bounds of the
  call's nodes, core.count.roofline): 1 is the roof, 3 is a third of it;
- **achieved FLOP/s** = FLOPs / measured time, **achieved bytes/s** = bytes moved /
  measured time.

A call measured *faster* than its lower bound is impossible if the spec and the
count are right, so it is a failure (``BelowBoundError``, exit 1) naming the call:
the device's peak or bandwidth is too low for this machine, or convcalc counts
work or bytes the call does not do. Functional code outside any leaf module
(a model's ``x + y``) is in the whole pass's time, not in any call's.
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from convcalc.core.values.record import Record
from convcalc.errors import CheckFailedError, InvalidSpecError

if TYPE_CHECKING:
    from convcalc.core.count.figures import NetworkFigures


class BelowBoundError(CheckFailedError):
    """A module call (or the whole pass) ran faster than its roofline lower bound (exit 1):
    the device spec or the count is wrong."""


class TimingOptions(Record):
    """How ``--measure-time`` times: ``threads`` CPU intra-op threads (None: as torch runs;
    a measured spec names the threads it was measured at), ``warmup`` forward passes
    first, then at least ``repeats`` (more, up to ``most``, while they take under
    ``seconds``), the median of each call kept."""

    threads: int | None = None
    warmup: int = 3
    repeats: int = 5
    most: int = 200
    seconds: float = 1.0

    def __post_init__(self) -> None:
        for name in ("warmup", "repeats", "most"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidSpecError(f"timing {name}={value!r} must be a non-negative integer")
        if self.repeats < 1 or self.most < self.repeats:
            raise InvalidSpecError(
                f"timing repeats={self.repeats} must be at least 1 and at most most={self.most}"
            )
        if self.threads is not None and (
            isinstance(self.threads, bool) or not isinstance(self.threads, int) or self.threads < 1
        ):
            raise InvalidSpecError(f"timing threads={self.threads!r} must be a positive integer")
        if not self.seconds > 0:
            raise InvalidSpecError(f"timing seconds={self.seconds!r} must be positive")

    def rounds(self, first: float) -> int:
        """How many timed passes, given the first warm pass took ``first`` seconds."""
        if first <= 0:
            return self.most
        return max(self.repeats, min(self.most, int(self.seconds / first)))


class Timing(Record):
    """The medians one ``--measure-time`` run measured, in seconds."""

    device: str  # "cpu", "cuda"
    clock: str  # "wall clock", "CUDA events"
    threads: int | None  # the CPU's intra-op threads while timed; None on a GPU
    warmup: int
    repeats: int  # timed passes, each call's median taken over them
    total: float  # the whole forward pass, without per-call clocks
    calls: tuple[tuple[str, float], ...]  # (module call, median seconds), in the order run

    def by_call(self) -> dict[str, float]:
        """Median seconds by module call."""
        return dict(self.calls)

    def to_dict(self) -> dict[str, Any]:
        """How it was timed (the figures are ``timed``'s)."""
        return {
            "device": self.device,
            "clock": self.clock,
            "threads": self.threads,
            "warmup": self.warmup,
            "repeats": self.repeats,
        }


def spec_threads(roof: Any) -> int | None:
    """The CPU threads a measured spec (``convcalc hardware measure``) was measured at, so
    timing runs at the same; None for any other device (a ``core.count.roofline.Roof``, or None)."""
    hardware = getattr(roof, "hardware", None)
    measured = getattr(hardware, "measured", None)
    if not isinstance(measured, Mapping) or measured.get("device") != "cpu":
        return None
    threads = measured.get("threads")
    return threads if isinstance(threads, int) and not isinstance(threads, bool) else None


def median(samples: Iterable[float]) -> float:
    """The median of the samples (the one statistic of timing: robust to a stray pass)."""
    return float(statistics.median(list(samples)))


class TimedCall(Record):
    """One module call's measured time beside its roofline."""

    call: str
    nodes: tuple[int, ...]  # the indices of the nodes it ran
    measured: float  # seconds
    bound: float | None  # seconds, on a device
    flops: int
    bytes_moved: int

    @property
    def ratio(self) -> float | None:
        """measured / bound (None off a device, or for a bound of 0)."""
        return self.measured / self.bound if self.bound else None

    @property
    def achieved_flops(self) -> float | None:
        """FLOPs per second achieved."""
        return self.flops / self.measured if self.measured > 0 else None

    @property
    def achieved_bandwidth(self) -> float | None:
        """Bytes moved per second achieved."""
        return self.bytes_moved / self.measured if self.measured > 0 else None

    @property
    def below_bound(self) -> bool:
        """Measured faster than the lower bound: impossible with a right spec and count."""
        return self.bound is not None and self.measured < self.bound

    def figures(self) -> dict[str, Any]:
        """The catalogue's measured figures of this call (those it has: no ratio off a
        device)."""
        found = {
            "measured_time": self.measured,
            "time_ratio": self.ratio,
            "achieved_flops": self.achieved_flops,
            "achieved_bandwidth": self.achieved_bandwidth,
        }
        return {key: value for key, value in found.items() if value is not None}


class Timed(Record):
    """A run's timing beside its roofline: per module call and for the whole pass."""

    timing: Timing
    calls: tuple[TimedCall, ...]
    whole: TimedCall  # the whole forward pass: every node, the sum of the bounds

    @functools.cached_property
    def starts(self) -> dict[int, TimedCall]:
        """Each call by the index of its first node (where the per-layer figures sit)."""
        return {call.nodes[0]: call for call in self.calls}

    @property
    def below_bound(self) -> tuple[TimedCall, ...]:
        """The calls (and the whole pass, last) measured faster than their bound."""
        found = tuple(call for call in self.calls if call.below_bound)
        return (*found, self.whole) if self.whole.below_bound else found

    def failure(self, label: str = "") -> BelowBoundError | None:
        """BelowBoundError naming each call measured faster than its bound, else None."""
        fast = self.below_bound
        if not fast:
            return None
        named = "; ".join(
            f"{label}{call.call} measured {seconds_text(call.measured)}, bound "
            f"{seconds_text(call.bound)}"
            for call in fast[:4]
        )
        more = f" (and {len(fast) - 4} more)" if len(fast) > 4 else ""
        return BelowBoundError(
            f"faster than the roofline's lower bound: {named}{more}: the device spec's peak "
            "or bandwidth is too low for this machine (convcalc hardware measure), or the "
            "count of FLOPs or bytes is wrong"
        )

    def to_dict(self) -> dict[str, Any]:
        """The point's ``timing`` object: how it was timed, the whole pass's figures, and
        the calls measured faster than their bound."""
        bound = {} if self.whole.bound is None else {"time_bound": self.whole.bound}
        return {
            **self.timing.to_dict(),
            **self.whole.figures(),
            **bound,
            "calls_timed": len(self.calls),
            "below_bound": [call.call for call in self.below_bound],
        }


def timed(figures: NetworkFigures, timing: Timing) -> Timed:
    """The timing beside the figures' roofline (its device, if any): each timed call's
    bound is the sum of its nodes' bounds, its FLOPs and bytes theirs (under --fused, a
    kernel's on its first node)."""
    from convcalc.core.count.traffic import roofline_of

    roofline = roofline_of(figures)
    measured = timing.by_call()
    calls = []
    for call, members in figures.torch_calls().items():
        if call not in measured:
            continue
        indices = tuple(x.index for x in members)
        calls.append(_timed_call(call, indices, measured[call], roofline))
    whole = _timed_call("the whole forward pass", tuple(range(len(figures.layers))),
                        timing.total, roofline)  # fmt: skip
    return Timed(timing, tuple(calls), whole)


def _timed_call(call: str, indices: Sequence[int], measured: float, roofline: Any) -> TimedCall:
    bounds = [roofline.layer(i) for i in indices]
    times = [b.time for b in bounds]
    bound = None if any(t is None for t in times) else float(sum(times))
    return TimedCall(
        call,
        tuple(indices),
        measured,
        bound,
        sum(b.flops for b in bounds),
        sum(b.bytes_moved for b in bounds),
    )


def row_figures(timed_: Timed | None, indices: Iterable[int]) -> dict[str, Any]:
    """A table row's measured figures over its nodes: the times, bounds, FLOPs and bytes
    of the calls that start at them summed (empty when none was timed)."""
    if timed_ is None:
        return {}
    starts = timed_.starts
    calls = [starts[i] for i in indices if i in starts]
    if not calls:
        return {}
    bounds = [c.bound for c in calls]
    merged = TimedCall(
        calls[0].call,
        tuple(i for c in calls for i in c.nodes),
        sum(c.measured for c in calls),
        None if any(b is None for b in bounds) else float(sum(b or 0.0 for b in bounds)),
        sum(c.flops for c in calls),
        sum(c.bytes_moved for c in calls),
    )
    return merged.figures()


def layer_figures(timed_: Timed | None, index: int) -> Mapping[str, Any]:
    """Node ``index``'s measured figures in a ``layers`` entry: its call's, on the call's
    first node (empty elsewhere)."""
    if timed_ is None:
        return {}
    call = timed_.starts.get(index)
    return {} if call is None else call.figures()


def seconds_text(value: float | None) -> str:
    """``14.3 ns``, ``1.2 ms``, ``3.4 s``."""
    if value is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return "0 s" if value == 0 else f"{value / 1e-9:.3g} ns"
