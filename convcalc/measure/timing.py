"""Time a network or a model on a real device: each module call in its forward pass, and the
whole pass (``--measure-time``; the figures beside the bound are core.count.timing's).

Each leaf module call is timed where it runs, inside the forward pass, by a
global forward pre-hook and hook that read a clock (removed in ``finally``:
nothing is left on the user's model), so it sees its inputs as the pass leaves
them in the caches. The whole pass is timed apart, with no hook installed. Both
are warmed up (``TimingOptions.warmup`` passes), then repeated (at least
``repeats``, more while they take under ``seconds``), and the median of each
call over the passes kept. On a GPU the clock is a pair of CUDA events around
each call, read after the pass is synchronised, so a call's time is its
kernels', not their launch's; on the CPU it is ``time.perf_counter``. A clock
can be injected (``stopwatch``): the tests time nothing.

A built-in network runs as ``measure.build.GraphModule`` (one module per node,
so each node is a call named by the node); a read model as the user's module,
each leaf call named as the trace names it (``layer1.0.relu``, ``...relu@2``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

import torch
from torch import nn
from torch.utils import hooks as torch_hooks

from convcalc.core.count.figures import NetworkFigures
from convcalc.core.count.timing import Timing, TimingOptions, median
from convcalc.errors import EnvironmentUnavailableError, InvalidSpecError
from convcalc.measure.hardware_probe import threads_of
from convcalc.measure.trace import evaluation, tensors


class Stopwatch(Protocol):
    """A clock for a device: ``mark`` now, ``sync`` after a pass, ``seconds`` between marks."""

    name: str

    def mark(self) -> Any:
        """A point in time (a float, or a recorded CUDA event)."""

    def sync(self) -> None:
        """Wait for the device to finish what was queued."""

    def seconds(self, start: Any, end: Any) -> float:
        """Seconds between two marks (after ``sync``)."""


class WallClock:
    """The CPU's clock (``time.perf_counter``, or an injected one)."""

    name = "wall clock"

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock

    def mark(self) -> float:
        """Now."""
        return self.clock()

    def sync(self) -> None:
        """Nothing to wait for on the CPU."""

    def seconds(self, start: Any, end: Any) -> float:
        """``end - start``."""
        return float(end - start)


class CudaEvents:
    """CUDA events: a call's kernels' time on the GPU, read after a synchronisation."""

    name = "CUDA events"

    def mark(self) -> Any:
        """A recorded event."""
        event = torch.cuda.Event(enable_timing=True)  # type: ignore[no-untyped-call]
        event.record()
        return event

    def sync(self) -> None:
        """Wait for the GPU."""
        torch.cuda.synchronize()

    def seconds(self, start: Any, end: Any) -> float:
        """The events' elapsed time, in seconds."""
        return float(start.elapsed_time(end)) / 1e3


def stopwatch_for(device: str) -> Stopwatch:
    """CUDA events on a GPU, the wall clock on the CPU."""
    return CudaEvents() if device == "cuda" else WallClock()


def real_device(device: str) -> str:
    """The device timing runs on: ``auto`` is CUDA when present, else the CPU; meta has no
    time (InvalidSpecError), CUDA asked for and absent is the environment's."""
    if device == "meta":
        raise InvalidSpecError(
            "--measure-time runs the layers for real: use --device cpu, cuda or auto, not meta"
        )
    if device == "cuda" and not torch.cuda.is_available():
        raise EnvironmentUnavailableError("--device cuda was asked for, but CUDA is not available")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def leaf_paths(model: nn.Module) -> dict[int, str]:
    """Each leaf module (no children) by id -> its first path, as the trace names it."""
    paths: dict[int, str] = {}
    for path, module in model.named_modules(remove_duplicate=False):
        if not any(True for _ in module.children()):
            paths.setdefault(id(module), path)
    return paths


@contextmanager
def _call_clocks(
    leaves: Mapping[int, str], stopwatch: Stopwatch, spans: list[tuple[str, int, Any, Any]]
) -> Iterator[dict[str, int]]:
    """Global forward hooks that mark a clock before and after each leaf call, appending
    (path, its call count, start, end) to ``spans``; removed whatever happens. Yields the
    per-pass call counts (clear it between passes)."""
    counts: dict[str, int] = {}
    stack: list[tuple[str, int, Any] | None] = []

    def before(module: nn.Module, _args: Any) -> None:
        path = leaves.get(id(module))
        if path is None:
            stack.append(None)
            return
        counts[path] = counts.get(path, 0) + 1
        stack.append((path, counts[path], stopwatch.mark()))

    def after(_module: nn.Module, _args: Any, _out: Any) -> None:
        if not stack:
            return
        entry = stack.pop()
        if entry is not None:
            spans.append((*entry, stopwatch.mark()))

    handles: list[torch_hooks.RemovableHandle] = []
    try:
        handles.append(nn.modules.module.register_module_forward_pre_hook(before))
        handles.append(nn.modules.module.register_module_forward_hook(after, always_call=True))
        yield counts
    finally:
        for handle in handles:
            handle.remove()


def time_forward(
    model: nn.Module,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any] | None = None,
    *,
    device: str,
    options: TimingOptions | None = None,
    stopwatch: Stopwatch | None = None,
    leaves: Mapping[int, str] | None = None,
    name: Callable[[str, int], str] | None = None,
) -> Timing:
    """Time ``model(*args, **kwargs)`` (already on ``device``): the whole pass, and each leaf
    call (``leaves``: id -> path, default every leaf module), named ``name(path, count)``
    (default ``path``, then ``path@2``...). Eval mode and no grad for the duration, every
    module's training flag restored after."""
    options = options or TimingOptions()
    stopwatch = stopwatch or stopwatch_for(device)
    leaves = leaf_paths(model) if leaves is None else leaves
    name = name or (lambda path, count: path if count == 1 else f"{path}@{count}")
    kwargs = dict(kwargs or {})
    on_cpu = device == "cpu"

    def whole() -> float:
        start = stopwatch.mark()
        model(*args, **kwargs)
        end = stopwatch.mark()
        stopwatch.sync()
        return stopwatch.seconds(start, end)

    with threads_of(options.threads if on_cpu else None), evaluation(model), torch.no_grad():
        threads = torch.get_num_threads() if on_cpu else None
        for _ in range(options.warmup):
            model(*args, **kwargs)
        stopwatch.sync()
        first = whole()
        rounds = options.rounds(first)
        totals = [whole() for _ in range(rounds)]
        samples: dict[str, list[float]] = {}
        order: list[str] = []
        for _ in range(rounds):
            spans: list[tuple[str, int, Any, Any]] = []
            with _call_clocks(leaves, stopwatch, spans) as counts:
                model(*args, **kwargs)
            stopwatch.sync()
            counts.clear()
            for path, count, start, end in spans:
                call = name(path, count)
                if call not in samples:
                    samples[call] = []
                    order.append(call)
                samples[call].append(stopwatch.seconds(start, end))
    return Timing(
        device=device,
        clock=stopwatch.name,
        threads=threads,
        warmup=options.warmup,
        repeats=rounds,
        total=median(totals),
        calls=tuple((call, median(samples[call])) for call in order),
    )


def time_network(
    figures: NetworkFigures,
    device: str,
    options: TimingOptions | None = None,
    *,
    stopwatch: Stopwatch | None = None,
) -> Timing:
    """Build a built-in network (``measure.build.GraphModule``) on ``device`` in the figures'
    dtype, with a seeded uniform [0, 1) input, and time it: each node is a call, named by
    the node (nodes that share weights call one module, once each, in order)."""
    from convcalc.measure.build import GraphModule, module_key

    device = real_device(device)
    network = figures.network
    dtype = getattr(torch, figures.dtype)
    target = torch.device(device)
    with torch.device(target):
        model = GraphModule(network).to(dtype=dtype)
    generator = torch.Generator(device=target).manual_seed(0)
    x = torch.rand(network.input_shape, generator=generator, device=target).to(dtype)
    waiting: dict[str, list[str]] = {}
    for node in network.nodes:
        waiting.setdefault(module_key(network.owner(node).name), []).append(node.name)
    leaves = {id(module): key for key, module in model.blocks.items()}

    def node_of(key: str, count: int) -> str:
        names = waiting.get(key, [])
        return names[count - 1] if count <= len(names) else f"{key}@{count}"

    try:
        return time_forward(model, (x,), device=device, options=options, stopwatch=stopwatch,
                            leaves=leaves, name=node_of)  # fmt: skip
    except RuntimeError as exc:  # no kernel for this dtype here, memory: the environment's
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EnvironmentUnavailableError(
            f"torch could not time the forward pass on {device} in {figures.dtype}: {first}"
        ) from exc


def time_model(
    model: nn.Module,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any] | None = None,
    *,
    options: TimingOptions | None = None,
    stopwatch: Stopwatch | None = None,
) -> Timing:
    """Time a model already on a real device with its inputs: each leaf call named as the
    trace names it. Nothing is left on the model (the hooks are global and removed)."""
    given = tensors([args, dict(kwargs or {})])
    device = given[0].device.type if given else "cpu"
    if device == "meta":
        raise InvalidSpecError(
            "--measure-time runs the model for real: use --device cpu, cuda or auto, not meta"
        )
    return time_forward(model, args, kwargs, device=device, options=options, stopwatch=stopwatch)
