"""Measure this machine: its peak FLOP/s and its bandwidth by working-set size, with torch.

The peak is the best rate of a few large matrix products and convolutions in
the chosen dtype, at the thread count the timing will run with (a peak measured
on more threads than a layer runs on is no bound for it, and one measured on
fewer is too low a bound). The bandwidth is measured by streams (copies, in-place updates and
reads: the best of them at each number of bytes moved, the roofline's working
set) from inside the second-level cache to far past the last level, best of
repeats at each size; a cache level's bandwidth is the best measured at working
sets that fit it but not the level below, and the memory's the best measured past every cache. Cache
sizes come from the OS (``/sys/devices/system/cpu/cpu0/cache``; a CUDA
device's L2 from torch); a level shared by fewer CPUs than the threads counts
once per instance the threads use.

Each measurement runs for a bounded time: the whole probe takes ``seconds``
(about 15 s by default), and says what it measured to ``notify``.
"""

from __future__ import annotations

import functools
import math
import platform
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812 - the usual torch alias

from convcalc.core.count.roofline import CacheLevel as RoofCache
from convcalc.core.count.roofline import Hardware
from convcalc.core.values.record import Record
from convcalc.errors import EnvironmentUnavailableError, InvalidSpecError

Notify = Callable[[str], None]
CACHE_ROOT = Path("/sys/devices/system/cpu/cpu0/cache")
TORCH_DTYPES = ("float32", "float16", "bfloat16", "float64")


class CacheLevel(Record):
    """One cache level as the threads see it: ``size`` bytes in all (each instance's
    size times the instances the threads use)."""

    name: str  # "L2", "L3"
    size: int
    instance_size: int
    instances: int


class BandwidthPoint(Record):
    """The best copy rate measured at one working set (source and destination)."""

    working_set: int  # bytes: 2 x the copied size
    bytes_per_second: float


class PeakCandidate(Record):
    """One kernel tried for the peak, and its best rate."""

    kernel: str  # "matmul 2048x2048x2048", "conv2d 16x128x28x28 k3 -> 128"
    flops_per_second: float


class Probe(Record):
    """What ``measure_machine`` measured.

    ``levels``: (cache level, its bandwidth in bytes/s), innermost first, only the
    levels a measured working set fell in; ``bandwidth`` the memory's (past every
    cache). ``peak`` the best of ``candidates``.
    """

    device: str  # "cpu", "cuda"
    device_name: str
    dtype: str
    threads: int | None  # the CPU's intra-op threads; None on a GPU
    peak: float
    bandwidth: float
    candidates: tuple[PeakCandidate, ...]
    curve: tuple[BandwidthPoint, ...]
    caches: tuple[CacheLevel, ...]
    levels: tuple[tuple[CacheLevel, float], ...] = ()
    seconds: float = 0.0
    date: str = field(default_factory=lambda: time.strftime("%Y-%m-%d"))

    @property
    def ridge(self) -> float:
        """FLOPs per byte where the memory roof meets the peak."""
        return self.peak / self.bandwidth

    def source(self) -> str:
        """Where the figures come from, in words, for the spec's ``source``."""
        on = f"{self.threads} thread{'s' if self.threads != 1 else ''}" if self.threads else ""
        best = max(self.candidates, key=lambda c: c.flops_per_second).kernel
        return (
            f"measured by convcalc hardware measure on {self.date}"
            f"{' (' + on + ')' if on else ''}: peak from {best}, bandwidth from streams "
            f"of {_bytes(self.curve[0].working_set)} to {_bytes(self.curve[-1].working_set)}"
        )


# Cache size files as the kernel writes them: "32K", "1024K", "32M".
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30}


def parse_cache_size(text: str) -> int:
    """``32K`` -> 32768 (the kernel's cache size format)."""
    text = text.strip().upper()
    unit = text[-1:] if text[-1:] in _UNITS and not text[-1:].isdigit() else ""
    number = text[: len(text) - len(unit)]
    if not number.isdigit():
        raise ValueError(f"cache size {text!r}")
    return int(number) * _UNITS[unit]


def _cpu_count(cpu_list: str) -> int:
    """``0-1,4`` -> 3 CPUs."""
    count = 0
    for part in cpu_list.strip().split(","):
        if not part:
            continue
        first, _, last = part.partition("-")
        count += int(last or first) - int(first) + 1
    return count


def cpu_caches(threads: int, root: Path = CACHE_ROOT) -> tuple[CacheLevel, ...]:
    """The data and unified caches from level 2 out, as ``threads`` threads see them
    (none where the OS does not say: then only the memory's bandwidth is measured)."""
    levels: dict[int, CacheLevel] = {}
    for index in sorted(root.glob("index*")):
        try:
            level = int((index / "level").read_text())
            kind = (index / "type").read_text().strip()
            size = parse_cache_size((index / "size").read_text())
            sharing = _cpu_count((index / "shared_cpu_list").read_text())
        except (OSError, ValueError):
            continue
        if kind == "Instruction" or level < 2:
            continue
        instances = max(1, math.ceil(threads / max(sharing, 1)))
        levels[level] = CacheLevel(f"L{level}", size * instances, size, instances)
    return tuple(levels[key] for key in sorted(levels))


def cuda_caches(device: torch.device) -> tuple[CacheLevel, ...]:
    """A CUDA device's L2, as torch reports it."""
    size = int(getattr(torch.cuda.get_device_properties(device), "L2_cache_size", 0) or 0)
    return (CacheLevel("L2", size, size, 1),) if size else ()


class Clock:
    """Times a callable on a device: wall time on the CPU, CUDA events on a GPU (with
    synchronisation), so a GPU kernel's time is its own and not its launch's."""

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == "cuda"

    def time(self, work: Callable[[], Any], count: int = 1) -> float:
        """Seconds for one call of ``work``: ``count`` calls run back to back, divided."""
        if self.cuda:
            start = torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call]
            end = torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call]
            torch.cuda.synchronize()
            start.record()
            for _ in range(count):
                work()
            end.record()
            torch.cuda.synchronize()
            return float(start.elapsed_time(end)) / 1e3 / count
        begin = time.perf_counter()
        for _ in range(count):
            work()
        return (time.perf_counter() - begin) / count


def best_time(work: Callable[[], Any], clock: Clock, seconds: float, least: int = 3) -> float:
    """The shortest time of one call of ``work``, warmed up (twice), over about ``seconds``
    of repeats (at least ``least``): the machine at its best is what a bound needs."""
    work()
    first = clock.time(work)  # the second call: warm
    per_sample = max(1, min(1000, int(1e-3 / max(first, 1e-9))))  # samples of >= ~1 ms
    best = first
    deadline = time.perf_counter() + seconds
    done = 0
    while done < least or time.perf_counter() < deadline:
        best = min(best, clock.time(work, per_sample))
        done += 1
    return best


@contextmanager
def threads_of(count: int | None) -> Iterator[None]:
    """torch's intra-op threads set to ``count`` for the duration (None: as they are)."""
    before = torch.get_num_threads()
    if count is not None:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _matmul(n: int, dtype: torch.dtype, device: torch.device) -> tuple[str, int, Callable[[], Any]]:
    a = torch.rand(n, n, dtype=dtype, device=device)
    b = torch.rand(n, n, dtype=dtype, device=device)
    return f"matmul {n}x{n}x{n}", 2 * n**3, lambda: torch.mm(a, b)


def _conv(
    shape: tuple[int, int, int, int], cout: int, k: int, dtype: torch.dtype, device: torch.device
) -> tuple[str, int, Callable[[], Any]]:
    n, cin, h, w = shape
    x = torch.rand(shape, dtype=dtype, device=device)
    weight = torch.rand(cout, cin, k, k, dtype=dtype, device=device)
    flops = 2 * n * cout * cin * k * k * h * w  # stride 1, same padding
    name = f"conv2d {n}x{cin}x{h}x{w} k{k} -> {cout}"
    return name, flops, lambda: F.conv2d(x, weight, padding=k // 2)


def peak_kernels(
    device: torch.device, dtype: torch.dtype
) -> list[Callable[[], tuple[str, int, Callable[[], Any]]]]:
    """The kernels tried for the peak: large products and the convolutions CNNs run
    most (3x3 and 1x1, batch 1 and 16: a batch reuses each weight more, and ran
    ResNet-50's 14x14 3x3 convolutions 7% past the batch-1 best), each made only when
    it is tried."""
    large = device.type == "cuda"
    sizes = (4096, 8192) if large else (1024, 2048)
    batch = 64 if large else 16
    convs = (
        ((1, 64, 56, 56), 64, 3),
        ((1, 256, 14, 14), 256, 3),
        ((batch, 128, 28, 28), 128, 3),
        ((batch, 256, 14, 14), 256, 3),
        ((batch, 512, 7, 7), 512, 3),
        ((1, 1024, 14, 14), 256, 1),
        ((batch, 256, 56, 56), 64, 1),
        ((batch, 512, 7, 7), 2048, 1),
    )
    kernels: list[Callable[[], tuple[str, int, Callable[[], Any]]]] = [
        functools.partial(_matmul, n, dtype, device) for n in sizes
    ]
    kernels += [functools.partial(_conv, shape, cout, k, dtype, device) for shape, cout, k in convs]
    return kernels


def measure_peak(
    device: torch.device, dtype: torch.dtype, seconds: float, notify: Notify, rounds: int = 3
) -> tuple[PeakCandidate, ...]:
    """Each peak kernel's best FLOP/s, ``seconds`` shared between them, tried in turn
    ``rounds`` times: a burst of other work on a shared machine spoils one turn, not a
    kernel's every sample."""
    clock = Clock(device)
    kernels = []
    for make in peak_kernels(device, dtype):
        name, flops, work = make()
        try:
            with torch.no_grad():
                work()
        except RuntimeError as exc:  # no kernel for this dtype here (float16 on some CPUs)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            notify(f"notice: {name} did not run in {str(dtype).removeprefix('torch.')}: {first}")
            continue
        kernels.append((name, flops, work))
    if not kernels:
        raise EnvironmentUnavailableError(
            f"no matrix product or convolution ran in {str(dtype).removeprefix('torch.')} on "
            f"{device.type}: no peak to measure"
        )
    best = [math.inf] * len(kernels)
    share = seconds / len(kernels) / rounds
    with torch.no_grad():
        for _ in range(rounds):
            for index, (_name, _flops, work) in enumerate(kernels):
                best[index] = min(best[index], best_time(work, clock, share))
    return tuple(PeakCandidate(name, flops / t)
                 for (name, flops, _), t in zip(kernels, best, strict=True))  # fmt: skip


def copy_sizes(caches: Sequence[CacheLevel], largest: int | None = None) -> list[int]:
    """The copied sizes (bytes, powers of two): from a quarter of the second level's size,
    or 128 KiB, to 8 x the last level's (at least 256 MiB), so that the largest
    working sets are far past every cache."""
    smallest = 2 ** max(17, int(math.log2(caches[0].size)) - 2) if caches else 2**17
    last = max((c.size for c in caches), default=0)
    top = largest or max(8 * last, 2**28)
    sizes = []
    size = smallest
    while size <= top:
        sizes.append(size)
        size *= 2
    return sizes


# The streams a layer's bytes can move at, each as (name, bytes moved per byte of the
# buffer, the work on source and target): a copy (read one buffer, write another: the
# CPU reads the target's lines before writing them), an in-place update (read and write
# one buffer, as ReLU(inplace=True) does: no second buffer to fetch, so it moves its
# counted bytes faster than a copy), and a reduction (read only, as a global pool).
STREAMS: tuple[tuple[str, int, Callable[[torch.Tensor, torch.Tensor], Any]], ...] = (
    ("copy", 2, lambda source, target: target.copy_(source)),
    ("in-place", 2, lambda source, target: target.mul_(1.0)),
    ("read", 1, lambda source, target: source.sum()),
)


def measure_bandwidth(
    device: torch.device, sizes: Sequence[int], seconds: float, rounds: int = 5
) -> tuple[BandwidthPoint, ...]:
    """The best rate of bytes moved at each number of bytes moved, over the STREAMS run on
    buffers of each size (a copy and an in-place update of S bytes move 2 S; a read, S),
    the sizes tried in turn ``rounds`` times. Bytes moved are the roofline's (core.count.roofline:
    each input read once, the output written once), so the best of the streams bounds a
    layer whatever its pattern."""
    clock = Clock(device)
    best: dict[int, float] = {}
    share = seconds / len(sizes) / rounds / len(STREAMS)
    for _ in range(rounds):
        for size in sizes:
            count = max(1, size // 4)
            source = torch.ones(count, dtype=torch.float32, device=device)
            target = torch.ones(count, dtype=torch.float32, device=device)  # pages touched
            for _name, per_byte, stream in STREAMS:
                work = functools.partial(stream, source, target)
                moved = per_byte * count * 4
                rate = moved / best_time(work, clock, share)
                best[moved] = max(best.get(moved, 0.0), rate)
            del source, target
    return tuple(BandwidthPoint(moved, best[moved]) for moved in sorted(best))


def cache_bandwidths(
    caches: Sequence[CacheLevel], curve: Sequence[BandwidthPoint]
) -> tuple[tuple[tuple[CacheLevel, float], ...], float]:
    """Each level's bandwidth (the best at working sets that fit it but not the level
    inside it), one more level of twice the last one (a layer that reads and writes one
    buffer in place moves twice its footprint: up to 2 x the last level, the footprint
    may still be in it), and the memory's (the best past those; the largest working
    set's when none was measured past them)."""
    if caches:
        last = caches[-1]
        twice = CacheLevel(f"{last.name} x2 (in place)", 2 * last.size, 2 * last.instance_size,
                           last.instances)  # fmt: skip
        caches = (*caches, twice)
    levels = []
    inner = 0
    for cache in caches:
        fits = [p.bytes_per_second for p in curve if inner < p.working_set <= cache.size]
        if fits:
            levels.append((cache, max(fits)))
        inner = cache.size
    outside = [p.bytes_per_second for p in curve if p.working_set > inner]
    memory = max(outside) if outside else curve[-1].bytes_per_second
    return tuple(levels), memory


def resolve(device: str) -> str:
    """``auto``: CUDA when present, else the CPU; others as given."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def measure_machine(
    device: str = "cpu",
    dtype: str = "float32",
    *,
    threads: int | None = None,
    seconds: float = 15.0,
    notify: Notify | None = None,
) -> Probe:
    """Measure the peak (about 60% of ``seconds``) and the bandwidth curve (the rest) of
    the CPU at ``threads`` intra-op threads (default: as torch runs now) or of a CUDA
    device."""
    say = notify or (lambda _message: None)
    if dtype not in TORCH_DTYPES:
        raise InvalidSpecError(f"dtype={dtype!r} is not one of {', '.join(TORCH_DTYPES)}")
    if device not in ("cpu", "cuda"):
        raise InvalidSpecError(f"device={device!r}: a machine is measured on cpu or cuda")
    if device == "cuda" and not torch.cuda.is_available():
        raise EnvironmentUnavailableError("--device cuda was asked for, but CUDA is not available")
    if threads is not None and threads <= 0:
        raise InvalidSpecError(f"threads={threads} must be a positive integer")
    if seconds <= 0:
        raise InvalidSpecError(f"seconds={seconds} must be positive")
    target = torch.device(device)
    begin = time.perf_counter()
    with threads_of(threads if device == "cpu" else None):
        used = torch.get_num_threads() if device == "cpu" else None
        if device == "cuda":
            caches = cuda_caches(target)
            name = torch.cuda.get_device_name(target)
        else:
            caches = cpu_caches(used or 1)
            name = platform.processor() or platform.machine() or "cpu"
            name = _cpu_name() or name
        on = f"{name}, {used} thread{'s' if used != 1 else ''}" if used else name
        say(f"notice: measuring {on}: the peak in {dtype} (large matmuls and convolutions)")
        candidates = measure_peak(target, getattr(torch, dtype), 0.6 * seconds, say)
        best = max(candidates, key=lambda c: c.flops_per_second)
        say(f"notice: peak {_rate(best.flops_per_second, 'FLOP/s')} ({best.kernel})")
        sizes = copy_sizes(caches)
        cached = ", ".join(f"{c.name} {_bytes(c.size)}" for c in caches) or "none read"
        say(
            f"notice: bandwidth by copies, in-place updates and reads of {_bytes(sizes[0])} "
            f"to {_bytes(sizes[-1])} buffers (caches: {cached})"
        )
        curve = measure_bandwidth(target, sizes, 0.4 * seconds)
    levels, memory = cache_bandwidths(caches, curve)
    for cache, rate in levels:
        say(f"notice: {cache.name} ({_bytes(cache.size)}): {_rate(rate, 'B/s')}")
    say(f"notice: memory: {_rate(memory, 'B/s')}")
    return Probe(
        device=device,
        device_name=name,
        dtype=dtype,
        threads=used,
        peak=best.flops_per_second,
        bandwidth=memory,
        candidates=candidates,
        curve=curve,
        caches=caches,
        levels=levels,
        seconds=time.perf_counter() - begin,
    )


def _cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo, where there is one."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return ""


def _bytes(size: float) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{size / scale:g} {unit}"
    return f"{size:g} B"


def _rate(value: float, unit: str) -> str:
    for prefix, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6)):
        if value >= scale:
            return f"{value / scale:.1f} {prefix}{unit}"
    return f"{value:.0f} {unit}"


def peak_kind(device: str, dtype: str) -> str:
    """The spec's peak a measurement in ``dtype`` is (core.count.roofline.PEAK_KINDS): float32 on a
    GPU that runs it in TF32 (torch's default for convolutions) is tf32."""
    if dtype == "float32" and device == "cuda":
        tf32 = torch.backends.cudnn.allow_tf32 or torch.backends.cuda.matmul.allow_tf32
        return "tf32" if tf32 else "fp32"
    return {"float64": "fp64", "float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}[dtype]


def to_hardware(probe: Probe, name: str, earlier: Hardware | None = None) -> Hardware:
    """The measurement as a named spec (core.count.roofline's format), its cache levels the
    measured ones; the peaks of other dtypes an ``earlier`` spec of this device measured
    are kept (measure float32, then bfloat16, into one spec)."""
    kind = peak_kind(probe.device, probe.dtype)
    peaks = {}
    if earlier is not None:
        peaks = {k: v for k, v in earlier.peaks.items() if k != kind}
    peaks[kind] = probe.peak
    measured: dict[str, Any] = {
        "device": probe.device,
        "threads": probe.threads,
        "dtype": probe.dtype,
        "seconds": round(probe.seconds, 1),
        "peak_kernels": {c.kernel: c.flops_per_second for c in probe.candidates},
        "bandwidth_by_working_set": [[p.working_set, p.bytes_per_second] for p in probe.curve],
    }
    if earlier is not None and earlier.measured:
        kept = earlier.measured.get("peaks_measured", {})
        measured["peaks_measured"] = {**kept, kind: probe.date}
    else:
        measured["peaks_measured"] = {kind: probe.date}
    on = f", {probe.threads} thread{'s' if probe.threads != 1 else ''}" if probe.threads else ""
    return Hardware(
        name=name,
        peaks=peaks,
        bandwidth=probe.bandwidth,
        title=f"{probe.device_name} ({probe.device}{on}, measured)",
        caches=tuple(RoofCache(c.name, c.size, rate) for c, rate in probe.levels),
        source={"document": probe.source(), "date": probe.date},
        notes="Measured on this machine: a bound, not a datasheet; re-measure after a change "
        "of machine, threads or load.",
        measured=measured,
    )
