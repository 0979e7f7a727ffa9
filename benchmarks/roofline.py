"""The roofline study: is the lower bound a bound, and does it rank the layers?

For torchvision's resnet50, mobilenet_v2 and vit_b_16 (random weights, no
download) at batch 1 and 16, on this machine's CPU::

    .venv/bin/python benchmarks/roofline.py                 # the whole study
    .venv/bin/python benchmarks/roofline.py --models resnet50 --batches 1 --runs 1

1. Two specs of this machine: a **measured** one (``convcalc hardware measure``:
   the best of large matmuls and convolutions, copy bandwidth per cache level)
   and a **naive** one (a 2048^2 matmul for the peak, a 64 MB copy for the
   bandwidth, no caches).
2. Each model is profiled once (convcalc's per-layer figures), then timed
   ``--runs`` times (``measure.timing``: each leaf module call inside its
   forward pass, warmed up, median of repeats); a call's time is the median
   over the runs.
3. Beside each spec's bound: the calls measured faster than their bound (a
   failure: there should be none with the measured spec), the Spearman rank
   correlation between predicted (the bound) and measured per-call time, over
   every timed call that does work or moves bytes and over the conv and linear
   calls alone, the median measured / predicted ratio, and the whole pass.

Writes ``benchmarks/results/roofline.json``. Timing on a shared 2-core machine
is noisy: run it when the machine is quiet, and repeat (``--runs``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torchvision

import convcalc
from convcalc.core.count.roofline import Hardware, Options, Roof
from convcalc.core.count.timing import Timed, Timing, TimingOptions, timed
from convcalc.measure.hardware_probe import (
    Clock,
    best_time,
    measure_machine,
    threads_of,
    to_hardware,
)
from convcalc.measure.timing import time_model

RESULTS = Path(__file__).resolve().parent / "results" / "roofline.json"
MODELS = ("resnet50", "mobilenet_v2", "vit_b_16")
WORK = ("Conv2d", "Linear", "NonDynamicallyQuantizableLinear", "MultiheadAttention")


def ranks(values: Sequence[float]) -> list[float]:
    """Ranks from 1, ties sharing their mean rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    result = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for k in range(start, end + 1):
            result[order[k]] = (start + end) / 2 + 1
        start = end + 1
    return result


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation: Pearson's on the ranks."""
    x, y = ranks(a), ranks(b)
    mx, my = statistics.fmean(x), statistics.fmean(y)
    cov = sum((p - mx) * (q - my) for p, q in zip(x, y, strict=True))
    sx = sum((p - mx) ** 2 for p in x) ** 0.5
    sy = sum((q - my) ** 2 for q in y) ** 0.5
    return cov / (sx * sy) if sx and sy else float("nan")


def naive_spec(threads: int) -> Roof:
    """The issue's naive spec: a 2048^2 fp32 matmul for the peak, a 64 MB copy for the
    bandwidth, no cache levels."""
    clock = Clock(torch.device("cpu"))
    with threads_of(threads), torch.no_grad():
        a, b = torch.rand(2048, 2048), torch.rand(2048, 2048)
        peak = 2 * 2048**3 / best_time(lambda: torch.mm(a, b), clock, 3.0)
        source, target = torch.ones(2**24), torch.ones(2**24)
        bandwidth = 2 * 2**26 / best_time(lambda: target.copy_(source), clock, 3.0)
    return Roof("naive", peak, bandwidth, "fp32")


def median_timing(runs: Sequence[Timing]) -> Timing:
    """Each call's (and the whole pass's) median over the runs."""
    calls: dict[str, list[float]] = {}
    for run in runs:
        for call, seconds in run.calls:
            calls.setdefault(call, []).append(seconds)
    return dataclasses.replace(
        runs[0],
        total=statistics.median(r.total for r in runs),
        calls=tuple((call, statistics.median(values)) for call, values in calls.items()),
        repeats=sum(r.repeats for r in runs),
    )


def judge(report: convcalc.Report, timing: Timing, roof: Roof) -> dict[str, Any]:
    """The study's figures for one model, batch and spec."""
    figures = dataclasses.replace(report.figures, roofline_options=Options(roof))
    result: Timed = timed(figures, timing)
    modules = [node.module for node in figures.network.nodes]
    calls = [c for c in result.calls if c.bound and (c.flops or c.bytes_moved)]
    work = [c for c in calls if modules[c.nodes[0]] in WORK]
    ratios = [c.measured / c.bound for c in calls if c.bound]
    # ties: repeated blocks have equal bounds and differ only by noise; one point per
    # distinct bound (the median measured time of its calls) shows the ranking without them
    distinct: dict[float, list[float]] = {}
    for c in work:
        distinct.setdefault(round(c.bound or 0.0, 12), []).append(c.measured)
    shapes = sorted(distinct)
    below = [(c.call, c.measured, c.bound) for c in calls if c.below_bound]
    whole = result.whole
    return {
        "spec": {
            "name": roof.name,
            "peak": roof.peak,
            "bandwidth": roof.bandwidth,
            "caches": [c.to_dict() for c in roof.caches],
        },
        "calls": len(calls),
        "below_bound": len(below),
        "below_bound_calls": below[:10],
        "spearman": spearman([c.bound or 0.0 for c in calls], [c.measured for c in calls]),
        "spearman_work": spearman([c.bound or 0.0 for c in work], [c.measured for c in work]),
        "work_calls": len(work),
        "spearman_work_distinct": spearman(
            shapes, [statistics.median(distinct[b]) for b in shapes]
        ),
        "work_distinct": len(shapes),
        "per_call": [
            [c.call, modules[c.nodes[0]], c.bound, c.measured, c.flops, c.bytes_moved]
            for c in calls
        ],
        "median_ratio": statistics.median(ratios) if ratios else None,
        "whole_measured": whole.measured,
        "whole_bound": whole.bound,
        "whole_ratio": whole.ratio,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--batches", default="1,16")
    parser.add_argument("--runs", type=int, default=3, help="timings per model, medians taken")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--seconds", type=float, default=20.0, help="hardware measure's time")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    say = print if sys.stderr.isatty() else (lambda *a: print(*a, file=sys.stderr, flush=True))
    started = time.perf_counter()
    probe = measure_machine("cpu", "float32", threads=args.threads, seconds=args.seconds,
                            notify=say)  # fmt: skip
    measured: Hardware = to_hardware(probe, "measured")
    specs = [measured.roof("float32"), naive_spec(args.threads)]
    for roof in specs:
        say(f"spec {roof.name}: peak {roof.peak / 1e9:.1f} GFLOP/s, memory "
            f"{roof.bandwidth / 1e9:.1f} GB/s, caches "
            f"{[(c.name, c.bytes, round(c.bandwidth / 1e9, 1)) for c in roof.caches]}")  # fmt: skip
    rows = []
    for name in args.models.split(","):
        for batch in (int(b) for b in args.batches.split(",")):
            torch.manual_seed(0)
            model = getattr(torchvision.models, name)(weights=None).eval()
            x = torch.rand(batch, 3, 224, 224)
            report = convcalc.profile(model, x, device="cpu", verify=False)
            large = report.flops * batch > 2e10
            options = TimingOptions(threads=args.threads, warmup=1 if large else 3,
                                    repeats=3 if large else 5, most=3 if large else 30,
                                    seconds=2.0)  # fmt: skip
            runs = []
            for _ in range(args.runs):
                runs.append(time_model(model, (x,), options=options))
            timing = median_timing(runs)
            for roof in specs:
                row = {"model": name, "batch": batch, "threads": args.threads,
                       **judge(report, timing, roof)}  # fmt: skip
                rows.append(row)
                say(f"{name} b{batch} {roof.name}: {row['calls']} calls, "
                    f"{row['below_bound']} below bound, spearman {row['spearman']:.3f} "
                    f"(conv/linear {row['spearman_work']:.3f}, distinct shapes "
                    f"{row['spearman_work_distinct']:.3f}), median ratio "
                    f"{row['median_ratio']:.2f}, whole {row['whole_measured'] * 1e3:.1f} ms "
                    f"vs bound {row['whole_bound'] * 1e3:.1f} ms")  # fmt: skip
            del model, x, report
    document = {
        "machine": probe.device_name,
        "threads": args.threads,
        "runs": args.runs,
        "seconds": round(time.perf_counter() - started, 1),
        "measured_spec": measured.to_dict(),
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"{'model':<14}{'batch':>6}{'spec':>10}{'calls':>7}{'below':>7}{'rho':>8}"
          f"{'rho conv':>10}{'ratio':>8}{'whole':>10}{'bound':>10}")  # fmt: skip
    for row in rows:
        print(f"{row['model']:<14}{row['batch']:>6}{row['spec']['name']:>10}{row['calls']:>7}"
              f"{row['below_bound']:>7}{row['spearman']:>8.3f}{row['spearman_work']:>10.3f}"
              f"{row['median_ratio']:>8.2f}{row['whole_measured'] * 1e3:>9.1f}m"
              f"{row['whole_bound'] * 1e3:>9.1f}m")  # fmt: skip
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
