"""convcalc's performance benchmark: whole-process wall time and peak RSS, beside floors and peers.

Run from the repository root, with the project's virtual environment (peers need
``pip install -e '.[bench]'``)::

    .venv/bin/python benchmarks/run.py            # full run: 5 runs, peers as the budget allows
    .venv/bin/python benchmarks/run.py --quick    # smoke test: 3 runs, peers once
    .venv/bin/python benchmarks/run.py --only startup   # start-up alone: 21 rounds, ~40 s
    .venv/bin/python benchmarks/run.py --only models --runs 3   # `model` vs peers: ~35 min

It prints a table and writes ``benchmarks/results/latest.json``. Every command
runs in a fresh process, so import cost counts. Rounds interleave the commands
(round-robin: every command once per round, in a fixed order); a case's figure
is the median over rounds. Peak RSS is the child's own ``ru_maxrss`` from
``os.wait4``. Every command runs with a wall-clock timeout and an address-space
cap (``RLIMIT_AS``); a command that fails, times out or runs out of memory is
reported as such and is not run again.

Warm-up: one run of every floor and every convcalc command, and one run of every
peer tool on the seed conv, before the measured rounds; they warm the page
cache and the bytecode caches. (A full peer warm-up round costs about two
minutes on the 2-core machine this was written on, more than the budget holds.)

Peers run in the same rounds as convcalc but, when ``--budget`` cannot hold
``--runs`` peer rounds, in fewer (at least ``min(3, runs)``, spread evenly over
the rounds); the table shows each row's run count.

Start-up: every command that computes figures without torch is also timed as
``--no-verify --format json`` against ``import typer, rich`` (``STARTUP``), each
with its median, quartiles and range; ``--only startup`` times those and the
two light floors alone, in more rounds (start-up differences are milliseconds,
and a shared machine's noise is tens of them).

Standard library only: the peers run in subprocesses (``benchmarks/peers.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHON = sys.executable

# Targets (SPEC.md, "Performance"); each is checked and printed PASS/FAIL.
ANALYTIC_VS_TYPER_RICH = 1.25  # --no-verify --format json within 1.25x of `import typer, rich`
VERIFIED_VS_TORCH = 1.25  # a verified single layer within 1.25x of `import torch, torchinfo`
BIG_VS_SMALL = 2.0  # the 64x256x1024x1024 conv within 2x of the small verified conv
BIG_RSS_BYTES = 600 * 10**6  # ... and under 600 MB peak RSS (written for the CPU torch build)
BIG_RSS_VS_TORCH = 1.2  # ... and within 1.2x of the torch floor's peak RSS (any torch build)
VIT_RSS_VS_TORCHVISION = 1.2  # vit_h_14 at 518 within 1.2x of `import torch, torchvision`
SWEEP_VS_TORCH = 4.0  # the verified 16-point sweep within 4x of the torch import floor
BATCH_VS_TORCH = 3.0  # 1,000 verified single-layer specs through `batch` within 3x of it
BATCH_SIZE = 1000
OURS_VS_FASTEST_PEER = 1.0  # `convcalc model` (verified) no slower than the fastest peer...
COUNTS_SHARE = 0.5  # ... that counts the model: at least half its analytic MACs

PEER_TOOLS = (
    "torchinfo", "torchinfo-meta", "ptflops", "thop", "torchscan", "torchscan-meta", "fvcore",
    "flopcounter", "flopcounter-meta",
)  # fmt: skip
PEER_LABELS = {
    "torchinfo": "torchinfo summary(input_size=)",
    "torchinfo-meta": "torchinfo on meta (input_data=)",
    "ptflops": "ptflops get_model_complexity_info",
    "thop": "thop profile",
    "torchscan": "torchscan crawl_module",
    "torchscan-meta": "torchscan crawl_module on meta",
    "fvcore": "fvcore FlopCountAnalysis",
    "flopcounter": "torch FlopCounterMode",
    "flopcounter-meta": "torch FlopCounterMode on meta",
}
# The start-up runs: each command that computes figures without torch, analytic, as JSON
# (model builds its model with torch even with --no-verify). The seed conv is the target's.
STARTUP: dict[str, list[str]] = {
    "conv": ["conv", "--cin", "4", "--cout", "8", "--groups", "2"],
    "separable": ["separable", "--cin", "32", "--cout", "64", "-p", "1", "-i", "112"],
    "spatial": ["spatial", "--cin", "64", "--cout", "64", "-k", "7", "-p", "3", "-i", "56"],
    "compare": ["compare", "--cin", "32", "--cout", "64", "-p", "same", "-i", "56"],
    "pool": ["pool", "--channels", "64", "-k", "3", "-s", "2", "-p", "1", "-i", "112"],
    "se": ["se", "--channels", "64", "-i", "56"],
    "cbam": ["cbam", "--channels", "64", "-i", "56"],
    "mobilenet": ["mobilenet"],
    "resnet": ["resnet", "--depth", "50"],
}
STARTUP_FLAGS = ["--no-verify", "--format", "json"]
STARTUP_RUNS = 21  # rounds of --only startup (unless --runs says otherwise)

MEMORY_WORDS = ("can't allocate memory", "cannot allocate memory", "memoryerror", "out of memory")


# ---------------------------------------------------------------- commands


@dataclass
class Command:
    """One command line to time, and what it stands for."""

    key: str
    label: str
    argv: list[str]
    role: str  # floor | ours | peer
    floor: str = ""  # key of the floor it is compared with
    samples: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    failure: str = ""
    output: str = ""  # stdout of the last successful run

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples and not self.failure else None

    @property
    def peak_bytes(self) -> int | None:
        return max(self.rss_kib) * 1024 if self.rss_kib and not self.failure else None


@dataclass
class Case:
    """A benchmark case: convcalc's command(s), the peers' workload, the analytic reference."""

    key: str
    title: str
    args: list[str]  # convcalc's arguments (verified)
    workload: str  # peers.py workload ("" for none: no peer runs it)
    analytic_too: bool = False  # also time --no-verify
    reference_args: list[str] | None = None  # the untimed analytic run, if not args
    ours: list[Command] = field(default_factory=list)
    peers: list[Command] = field(default_factory=list)
    reference: dict[str, int] = field(default_factory=dict)
    reference_error: str = ""


def convcalc_argv() -> list[str]:
    """The console script next to this interpreter, else ``python -m convcalc``."""
    script = Path(PYTHON).parent / "convcalc"
    return [str(script)] if script.exists() else [PYTHON, "-m", "convcalc"]


FLOORS = {
    "pass": ("python -c pass", "pass"),
    "typer_rich": ('python -c "import typer, rich"', "import typer, rich"),
    "torch": ('python -c "import torch, torchinfo"', "import torch, torchinfo"),
    "torchvision": ('python -c "import torch, torchvision"', "import torch, torchvision"),
}

# torchvision models `convcalc model` is timed on against every peer (issue 8).
MODEL_CASES = ("resnet50", "mobilenet_v3_large", "efficientnet_b0", "convnext_tiny", "vit_b_16")

# Models from the outside zoos (issue 16): (key, title, convcalc's arguments, peers' workload).
# The models of benchmarks/models.py are read with the inputs function every peer gets too.
OUTSIDE = "benchmarks/models.py"
OUTSIDE_MODEL_CASES: tuple[tuple[str, str, list[str], str], ...] = (
    ("timm-resnet50", "timm resnet50", ["model", "timm:resnet50"], "timm:resnet50"),
    (
        "timm-vit_base_patch16_224",
        "timm vit_base_patch16_224",
        ["model", "timm:vit_base_patch16_224"],
        "timm:vit_base_patch16_224",
    ),
    (
        "timm-inception_v3",
        "timm inception_v3 at 299 (its default)",
        ["model", "timm:inception_v3"],
        "timm:inception_v3",
    ),
    *(
        (
            key,
            title,
            ["model", f"{OUTSIDE}:{name}", "--inputs", f"{OUTSIDE}:{name}_inputs"],
            f"py:{name}",
        )
        for key, title, name in (
            ("hf-bert", "Hugging Face BERT-base, 128 token ids", "bert"),
            ("hf-gpt2", "Hugging Face GPT-2, 2 layers, 128 token ids", "gpt2"),
            ("yolov8n", "ultralytics YOLOv8n detect at 640", "yolov8n"),
            ("lstm", "LSTM classifier, 64 token ids", "lstm_classifier"),
        )
    ),
    (
        "tv-fasterrcnn_mobilenet_v3_large_320_fpn",
        "torchvision fasterrcnn_mobilenet_v3_large_320_fpn, one 224x224 image",
        ["model", "torchvision:fasterrcnn_mobilenet_v3_large_320_fpn"],
        "tv:fasterrcnn_mobilenet_v3_large_320_fpn",
    ),
)

SWEEP_ARGS = ["--width", "0.25,0.5,0.75,1.0", "--resolution", "128,160,192,224"]


def batch_specs(count: int = BATCH_SIZE) -> tuple[Path, Path]:
    """``count`` verified single-layer command lines for ``batch`` (and their analytic twins).

    Small convolutions of every kind (standard, depthwise, 1x1 to 5x5, 8 to 32
    pixels), so each verifies with a real CPU forward pass, as most CI specs would.
    """
    lines = []
    for i in range(count):
        cin = (1, 2, 3, 4, 8, 16)[i % 6]
        cout = (4, 8, 16, 32)[(i // 6) % 4]
        k = (1, 3, 5)[(i // 24) % 3]
        size = (8, 16, 32)[(i // 72) % 3]
        groups = cin if i % 2 and cout % cin == 0 else 1
        lines.append(f"conv --cin {cin} --cout {cout} -k {k} -g {groups} -i {size} -p {k // 2}")
    folder = HERE / "results"
    folder.mkdir(parents=True, exist_ok=True)
    verified, analytic = folder / "batch_specs.txt", folder / "batch_specs_analytic.txt"
    verified.write_text("\n".join(lines) + "\n")
    analytic.write_text("".join(f"{line} --no-verify\n" for line in lines))
    return verified, analytic


def make_cases() -> list[Case]:
    """The cases of the issue, in table order."""
    return [
        Case(
            "seed",
            "seed conv",
            ["conv", "--cin", "4", "--cout", "8", "--groups", "2"],
            "seed",
            analytic_too=True,
        ),
        Case(
            "big",
            "64 x 256 x 1024 x 1024 conv",
            [
                "conv",
                "--cin",
                "256",
                "--cout",
                "256",
                "-k",
                "3",
                "-p",
                "1",
                "-i",
                "1024",
                "-b",
                "64",
            ],
            "big",
        ),
        Case("v1", "MobileNet V1 at 224", ["mobilenet", "--version", "1"], "v1"),
        Case("v2", "MobileNet V2 at 224", ["mobilenet", "--version", "2"], "v2"),
        Case(
            "sweep",
            "MobileNet V1 sweep, 16 points",
            ["mobilenet", *SWEEP_ARGS, "--format", "json"],
            "sweep",
        ),
        *(
            Case(
                f"tv-{name}", f"torchvision {name}", ["model", f"torchvision:{name}"], f"tv:{name}"
            )
            for name in MODEL_CASES
        ),
        *(Case(key, title, args, workload) for key, title, args, workload in OUTSIDE_MODEL_CASES),
        Case(
            "vit-h",
            "torchvision vit_h_14 at 518 (memory)",
            ["model", "torchvision:vit_h_14", "--arg", "image_size=518", "-i", "518"],
            "",  # no peers: the target is convcalc's peak memory against the floor
        ),
        _batch_case(),
    ]


def model_case_keys() -> list[str]:
    """The cases that time `convcalc model` against the peers (``--only models``)."""
    return [case.key for case in make_cases() if case.args[0] == "model" and case.workload]


def _batch_case() -> Case:
    verified, analytic = batch_specs()
    return Case(
        "batch",
        f"{BATCH_SIZE:,} verified single-layer specs, one batch process",
        ["batch", str(verified.relative_to(ROOT))],
        "",
        reference_args=["batch", str(analytic.relative_to(ROOT))],
    )


# ---------------------------------------------------------------- running one process


@dataclass
class Outcome:
    """What one run of a command gave."""

    wall: float
    rss_kib: int
    cpu: float  # user + system seconds of the command (and its wrapper)
    returncode: int | None  # None when it was killed by a signal
    signal: int | None
    timed_out: bool
    stdout: str
    stderr: str


def child_env() -> dict[str, str]:
    """The environment of every child: ours, but with bytecode caching on (users have it)."""
    env = dict(os.environ)
    # This sandbox sets PYTHONDONTWRITEBYTECODE=1, which would make every run
    # recompile convcalc's sources; an installed convcalc has its .pyc files.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["NO_COLOR"] = "1"
    return env


def _limit_memory(cap_bytes: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap_bytes, cap_bytes))

    return apply


def _wait(pid: int, timeout: float) -> tuple[int, resource.struct_rusage, bool]:
    """Wait for ``pid`` at most ``timeout`` seconds (then kill its group); its status and usage."""
    deadline = time.monotonic() + timeout
    timed_out = False
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = -1
    if fd >= 0:
        try:
            ready, _, _ = select.select([fd], [], [], timeout)
            timed_out = not ready
        finally:
            os.close(fd)
    else:  # no pidfd: poll
        while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            if time.monotonic() > deadline:
                timed_out = True
                break
            time.sleep(0.002)
    if timed_out:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    _, status, usage = os.wait4(pid, 0)
    return status, usage, timed_out


GNU_TIME = Path("/usr/bin/time")
CHILD_CPU: list[float] = []  # CPU seconds of every command run, for the foreign-load figure


def busy_seconds() -> float | None:
    """CPU seconds this machine has been busy (all processes), from /proc/stat."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _probe_gnu_time() -> bool:
    """Whether /usr/bin/time is GNU time (``-f %M -o FILE``)."""
    if not GNU_TIME.exists():
        return False
    with tempfile.NamedTemporaryFile("r") as report:
        done = subprocess.run(
            [str(GNU_TIME), "-f", "%M", "-o", report.name, "true"], capture_output=True, check=False
        )
        return done.returncode == 0 and report.read().strip().isdigit()


USE_GNU_TIME = _probe_gnu_time()
RSS_METHOD = (
    "ru_maxrss of the command, reported by /usr/bin/time -f %M (a small fork parent)"
    if USE_GNU_TIME
    else "ru_maxrss from os.wait4 (counts the driver's pre-exec image: small commands read high)"
)


def run_once(argv: Sequence[str], timeout: float, mem_cap: int) -> Outcome:
    """Run ``argv`` in a fresh process: wall time, the child's peak RSS, its output.

    With GNU time as the wrapper, the peak RSS is the command's own: a child
    forked from this driver would count the driver's image before its exec.
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as report,
    ):
        wrapper = [str(GNU_TIME), "-f", "%M", "-o", report.name] if USE_GNU_TIME else []
        start = time.perf_counter()
        proc = subprocess.Popen(
            [*wrapper, *argv],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=ROOT,
            env=child_env(),
            preexec_fn=_limit_memory(mem_cap),  # noqa: PLW1509 - no threads in this driver
            start_new_session=True,
        )
        status, usage, timed_out = _wait(proc.pid, timeout)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4, not by Popen
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
        lines = report.read().splitlines() if USE_GNU_TIME else []
    CHILD_CPU.append(usage.ru_utime + usage.ru_stime)
    code = proc.returncode
    rss_kib, signal_number = usage.ru_maxrss, -code if code < 0 else None
    if USE_GNU_TIME:
        rss_kib = next((int(line) for line in reversed(lines) if line.strip().isdigit()), 0)
        for line in lines:
            if line.startswith("Command terminated by signal"):
                signal_number = int(line.split()[-1])
    return Outcome(
        wall=wall,
        rss_kib=rss_kib,
        cpu=usage.ru_utime + usage.ru_stime,
        returncode=None if signal_number is not None else code,
        signal=signal_number,
        timed_out=timed_out,
        stdout=stdout,
        stderr=stderr,
    )


def describe_failure(outcome: Outcome, timeout: float, mem_cap: int) -> str:
    """'' for a success, else one line: why it failed (timeout, memory cap, crash, exit code)."""
    if outcome.timed_out:
        return f"timed out (limit {timeout:g} s)"
    if outcome.returncode == 0:
        return ""
    lines = [line.strip() for line in outcome.stderr.splitlines() if line.strip()]
    last = lines[-1] if lines else "(no stderr)"
    cap = f"address-space cap {mem_cap / 2**30:g} GiB"
    memory = [line for line in lines if any(w in line.lower() for w in MEMORY_WORDS)]
    if memory:
        line = memory[-1]
        if "DefaultCPUAllocator" in line:  # drop torch's "[enforce fail at ...] err == 0." prefix
            line = line[line.index("DefaultCPUAllocator") :]
        return f"out of memory ({cap}): {shorten(line)}"
    if outcome.signal is not None:
        name = signal.Signals(outcome.signal).name
        return f"killed by {name} ({cap}, timeout {timeout:g} s): {shorten(last)}"
    return f"failed (exit {outcome.returncode}): {shorten(last)}"


def shorten(text: str, limit: int = 150) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------- reference figures


def analytic_reference(case: Case, timeout: float, mem_cap: int) -> None:
    """convcalc's analytic params and MACs for the case (``--no-verify --format json``), untimed.

    A batch's reference is the batch of the same lines with ``--no-verify``: JSON Lines.
    """
    if case.reference_args is not None:
        argv = [*convcalc_argv(), *case.reference_args]
    else:
        args = [a for a in case.args if a not in ("--format", "json")]
        argv = [*convcalc_argv(), *args, "--no-verify", "--format", "json"]
    outcome = run_once(argv, timeout, mem_cap)
    failure = describe_failure(outcome, timeout, mem_cap)
    if failure:
        case.reference_error = failure
        return
    try:
        if case.reference_args is not None:  # JSON Lines: one object per command line
            lines = [json.loads(line) for line in outcome.stdout.splitlines() if line.strip()]
            documents = [line["document"] for line in lines]
        else:
            document = json.loads(outcome.stdout)
            documents = document if isinstance(document, list) else [document]
        totals = {"params": 0, "macs": 0, "torchinfo_mult_adds": 0, "points": len(documents)}
        for item in documents:
            for name in ("params", "macs", "torchinfo_mult_adds"):
                totals[name] += int(item["analytic"][name])
    except (ValueError, KeyError, TypeError) as exc:
        case.reference_error = f"unreadable JSON: {exc}"
        return
    case.reference = totals


# ---------------------------------------------------------------- plan and rounds


def startup_commands() -> list[Command]:
    """The start-up runs (``STARTUP``), each against ``import typer, rich``."""
    cc = convcalc_argv()
    return [
        Command(f"startup/{name}", f"{name} --no-verify --format json",
                [*cc, *args, *STARTUP_FLAGS], "ours", "typer_rich")
        for name, args in STARTUP.items()
    ]  # fmt: skip


def build(
    cases: list[Case],
    peer_tools: Sequence[str],
    startup: Sequence[Command] = (),
    floors: Sequence[str] = tuple(FLOORS),
) -> list[Command]:
    """Every command, in round order: floors, the start-up runs, then each case's convcalc
    and peer commands."""
    commands = [
        Command(key, label, [PYTHON, "-c", code], "floor")
        for key, (label, code) in FLOORS.items()
        if key in floors
    ]
    commands += startup
    cc = convcalc_argv()
    for case in cases:
        if case.analytic_too:
            case.ours.append(
                Command(
                    f"{case.key}/ours-analytic",
                    "convcalc --no-verify (table)",
                    [*cc, *case.args, "--no-verify"],
                    "ours",
                    "typer_rich",
                )
            )
        case.ours.append(
            Command(f"{case.key}/ours", "convcalc (verified)", [*cc, *case.args], "ours", "torch")
        )
        for tool in peer_tools if case.workload else ():
            case.peers.append(
                Command(
                    f"{case.key}/{tool}",
                    PEER_LABELS[tool],
                    [PYTHON, str(HERE / "peers.py"), tool, case.workload],
                    "peer",
                    "torch",
                )
            )
        commands += case.ours + case.peers
    return commands


@dataclass
class Settings:
    runs: int
    peer_runs: int | None
    budget: float
    timeout: float
    mem_cap: int
    verbose: bool
    peer_margin: float | None = None


def execute(command: Command, settings: Settings, record: bool) -> float:
    """Run one command once; record its sample (unless warm-up) or its failure. Its wall time."""
    outcome = run_once(command.argv, settings.timeout, settings.mem_cap)
    failure = describe_failure(outcome, settings.timeout, settings.mem_cap)
    if failure:
        command.failure = failure
    elif record:
        command.samples.append(outcome.wall)
        command.rss_kib.append(outcome.rss_kib)
        command.cpu.append(outcome.cpu)
        command.output = outcome.stdout
    if settings.verbose:
        state = failure or f"{outcome.wall:.2f} s, {outcome.rss_kib / 1024:.0f} MiB"
        print(f"  {'' if record else '(warm-up) '}{command.key}: {state}", file=sys.stderr)
    return outcome.wall


def spread(count: int, rounds: int) -> set[int]:
    """``count`` round indices out of ``rounds``, evenly spread, first and last included."""
    if count >= rounds:
        return set(range(rounds))
    if count <= 1:
        return {0}
    return {round(i * (rounds - 1) / (count - 1)) for i in range(count)}


def measure(commands: list[Command], cases: list[Case], settings: Settings) -> dict[str, Any]:
    """Warm-up, then the interleaved rounds; returns what was decided on the way."""
    started = time.monotonic()
    busy_start, own_start, children_start = busy_seconds(), own_cpu(), sum(CHILD_CPU)
    print("warm-up ...", file=sys.stderr)
    for case in cases:
        analytic_reference(case, settings.timeout, settings.mem_cap)
    for command in commands:
        if command.role != "peer" or command.key.startswith("seed/"):
            execute(command, settings, record=False)
    warmup = time.monotonic() - started

    alive = [c for c in commands if not c.failure]
    base = [c for c in alive if c.role != "peer"]
    peers = [c for c in alive if c.role == "peer"]
    # Round 0: everything (peers first seen here, failures found here).
    print(f"round 1/{settings.runs} ...", file=sys.stderr)
    base_cost = sum(execute(c, settings, True) for c in base)
    peer_cost = sum(execute(c, settings, True) for c in peers if not c.failure)
    peer_rounds = settings.peer_runs if settings.peer_runs is not None else settings.runs
    peer_rounds = min(peer_rounds, settings.runs)
    if settings.peer_runs is None and peer_cost > 0:
        # As many peer rounds as the budget holds, never fewer than min(3, runs).
        left = settings.budget - (time.monotonic() - started) - (settings.runs - 1) * base_cost
        fit = 1 + int(max(0.0, left) // peer_cost)
        peer_rounds = max(min(3, settings.runs), min(peer_rounds, fit))
    chosen = spread(peer_rounds, settings.runs)
    dropped = out_of_contention(cases, settings.peer_margin)
    for index in range(1, settings.runs):
        print(f"round {index + 1}/{settings.runs} ...", file=sys.stderr)
        for command in commands:
            if command.failure or (
                command.role == "peer" and (index not in chosen or command.key in dropped)
            ):
                continue
            execute(command, settings, record=True)
    elapsed = time.monotonic() - started
    busy_end = busy_seconds()
    foreign = None
    if busy_start is not None and busy_end is not None:
        ours = own_cpu() - own_start + sum(CHILD_CPU) - children_start
        foreign = max(0.0, busy_end - busy_start - ours)
    return {
        "foreign_cpu_s": None if foreign is None else round(foreign, 1),
        "foreign_cpu_share": None if foreign is None else round(foreign / elapsed, 3),
        "rss_method": RSS_METHOD,
        "warmup_s": round(warmup, 1),
        "total_s": round(time.monotonic() - started, 1),
        "runs": settings.runs,
        "peer_runs": len(chosen),
        "peer_rounds": sorted(i + 1 for i in chosen),
        "peer_margin": settings.peer_margin,
        "peers_timed_once": sorted(dropped),
    }


def out_of_contention(cases: Sequence[Case], margin: float | None) -> set[str]:
    """The peers not run after round 1 under ``--peer-margin``: those that do not count their
    case's model, and those slower than ``margin`` x the fastest peer that counts it."""
    if margin is None:
        return set()
    dropped: set[str] = set()
    for case in cases:
        counting, _ = counting_peers(case)
        times = [p.samples[0] for p in counting if p.samples]
        fastest = min(times, default=None)
        for peer in case.peers:
            slow = fastest is not None and bool(peer.samples) and peer.samples[0] > margin * fastest
            if peer not in counting or slow:
                dropped.add(peer.key)
    return dropped


# ---------------------------------------------------------------- report


def machine() -> dict[str, Any]:
    """nproc, CPU model, RAM, Python and package versions."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    ram = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = int(line.split()[1]) * 1024
    versions: dict[str, str | None] = {}
    for name in (
        "convcalc",
        "torch",
        "torchinfo",
        "typer",
        "rich",
        "ptflops",
        "thop",
        "torchscan",
        "fvcore",
    ):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "nproc": os.cpu_count(),
        "cpu": model or platform.processor(),
        "ram_bytes": ram,
        "python": platform.python_version(),
        "versions": versions,
    }


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def fmt(value: float | None, spec: str, suffix: str = "") -> str:
    return "-" if value is None else f"{value:{spec}}{suffix}"


def peer_figures(command: Command) -> dict[str, Any] | None:
    """The JSON line a peer printed (its params and count)."""
    for line in reversed(command.output.splitlines()):
        with contextlib.suppress(ValueError):
            value = json.loads(line)
            if isinstance(value, dict):
                return value
    return None


def in_macs(count: float, unit: str) -> float:
    """A peer's count in MACs: its FLOPs (FlopCounterMode's, torchscan's) are 2 per MAC."""
    return count / 2 if "FLOPs" in unit else count


def versus(count: int | None, unit: str, reference: dict[str, int]) -> str:
    """How a count compares with the analytic MACs (and our torchinfo-convention figure)."""
    if count is None or not reference:
        return "-"
    macs = in_macs(count, unit)
    if macs == reference["macs"]:
        return "= MACs"
    if macs == reference["torchinfo_mult_adds"]:
        return "= MACs + bias/BN (torchinfo conv.)"
    return f"{(macs / reference['macs'] - 1) * 100:+.2f}% vs MACs"


def table(rows: list[list[str]], indent: str = "  ") -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            c.rjust(w) if i not in (0, len(row) - 1, 7) else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append(indent + "  ".join(cells).rstrip())
    return "\n".join(lines)


def report(
    commands: list[Command], cases: list[Case], info: dict[str, Any], plan: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """The printed table and the JSON document."""
    floors = {c.key: c for c in commands if c.role == "floor"}
    out: list[str] = []
    m = info
    out.append(
        f"convcalc benchmark: {m['nproc']} x {m['cpu']}, {m['ram_bytes'] / 2**30:.1f} GiB RAM, "
        f"Python {m['python']}, torch {m['versions']['torch']}"
    )
    out.append(
        f"runs: {plan['runs']} (peers {plan['peer_runs']}, rounds {plan['peer_rounds']}), "
        "interleaved round-robin, after a warm-up; median wall time; "
        f"limits {plan['timeout_s']:g} s and {plan['mem_cap_gib']:g} GiB address space per process"
    )
    if plan.get("peers_timed_once"):
        out.append(
            f"{len(plan['peers_timed_once'])} peers timed in round 1 only (--peer-margin "
            f"{plan['peer_margin']:g}): they do not count their model, or ran over "
            f"{plan['peer_margin']:g}x the fastest peer that does"
        )
    foreign = plan.get("foreign_cpu_s")
    if foreign is not None:
        share = plan["foreign_cpu_share"]
        warn = "  WARNING: other work ran during the benchmark" if share > 0.05 else ""
        out.append(
            f"other processes used {foreign:.0f} CPU-s during the run "
            f"({share:.0%} of one core on average){warn}"
        )
    out.append(f"peak RSS: {plan['rss_method']}")
    out.append("")
    rows = [["floor", "median s", "min-max s", "peak RSS MB", "runs"]]
    for c in floors.values():
        rows.append(
            [c.label, fmt(c.median, ".3f"), spread_text(c), mb(c.peak_bytes), str(len(c.samples))]
            if not c.failure
            else [c.label, c.failure, "", "", ""]
        )
    out.append(table(rows, ""))
    startup = [c for c in commands if c.key.startswith("startup/")]
    if startup:
        out.append("")
        out.extend(startup_table(startup, floors["typer_rich"]))
    doc_cases = []
    for case in cases:
        ref = case.reference
        out.append("")
        head = f"{case.title}: convcalc {' '.join(case.args)}"
        out.append(head)
        if ref:
            points = f" summed over {ref['points']} points" if ref["points"] > 1 else ""
            out.append(
                f"  analytic{points}: params {ref['params']:,}, MACs {ref['macs']:,}, "
                f"torchinfo-convention mult-adds {ref['torchinfo_mult_adds']:,}"
            )
        else:
            out.append(f"  analytic reference: {case.reference_error}")
        verified = case.ours[-1]
        rows = [
            [
                "command",
                "median s",
                "min-max s",
                "x floor",
                "x ours",
                "peak MB",
                "x floor",
                "params",
                "count (unit)",
                "vs analytic",
            ]
        ]
        doc_rows = []
        for c in [*case.ours, *case.peers]:
            floor = floors[c.floor]
            figures = peer_figures(c) if c.role == "peer" else None
            if c.role == "ours" and ref:
                params, count, unit = ref["params"], ref["macs"], "MACs"
            elif figures is not None:
                params, count, unit = figures["params"], figures["count"], figures["unit"]
            else:
                params, count, unit = None, None, ""
            label = c.label if c.role == "ours" else f"{c.label}"
            if c.failure:
                reason = c.failure.split(" (", 1)[0].split(":", 1)[0]
                rows.append([label, reason.upper(), "", "", "", "", "", "", "", "see below"])
            else:
                rows.append(
                    [
                        f"{label} [{len(c.samples)}]",
                        fmt(c.median, ".3f"),
                        spread_text(c),
                        fmt(ratio(c.median, floor.median), ".2f", "x"),
                        "" if c is verified else fmt(ratio(c.median, verified.median), ".2f", "x"),
                        mb(c.peak_bytes),
                        fmt(ratio(c.peak_bytes, floor.peak_bytes), ".2f", "x"),
                        "-" if params is None else f"{params:,}",
                        "-" if count is None else f"{count:,} {unit}",
                        "analytic" if c.role == "ours" else versus(count, unit, ref),
                    ]
                )
            doc_rows.append(
                {
                    "key": c.key,
                    "label": c.label,
                    "role": c.role,
                    "argv": c.argv,
                    "floor": c.floor,
                    "samples_s": c.samples,
                    "cpu_s": c.cpu,
                    "rss_kib": c.rss_kib,
                    "median_s": c.median,
                    "peak_rss_bytes": c.peak_bytes,
                    "failure": c.failure or None,
                    "ratio_to_floor": ratio(c.median, floor.median),
                    "ratio_to_ours": ratio(c.median, verified.median),
                    "rss_ratio_to_floor": ratio(c.peak_bytes, floor.peak_bytes),
                    "params": params,
                    "count": count,
                    "unit": unit,
                    "note": (figures or {}).get("note"),
                }
            )
        out.append(table(rows))
        notes = sorted(
            {str(f["note"]) for f in (peer_figures(c) for c in case.peers) if f and f.get("note")}
        )
        out.extend(f"  note: {n}" for n in notes)
        out.extend(f"  {c.label}: {c.failure}" for c in [*case.ours, *case.peers] if c.failure)
        counting, left_out = counting_peers(case)
        fastest = min(counting, key=lambda p: p.median or 0.0, default=None)
        doc_cases.append(
            {
                "key": case.key,
                "title": case.title,
                "args": case.args,
                "analytic": ref or None,
                "analytic_error": case.reference_error or None,
                "rows": doc_rows,
                "counting_peers": [p.key for p in counting],
                "peers_left_out": left_out,
                "fastest_counting_peer": None if fastest is None else fastest.key,
                "ratio_to_fastest_counting_peer": None
                if fastest is None
                else ratio(verified.median, fastest.median),
            }
        )
    verdicts = targets(floors, cases, startup)
    out.append("")
    out.append("targets")
    for v in verdicts:
        out.append(f"  {v['verdict']:4}  {v['target']}: {v['detail']}")
    document = {
        "schema": 1,
        "machine": info,
        "plan": plan,
        "floors": {
            k: {
                "label": c.label,
                "samples_s": c.samples,
                "median_s": c.median,
                "peak_rss_bytes": c.peak_bytes,
                "failure": c.failure or None,
            }
            for k, c in floors.items()
        },
        "startup": [
            {
                "key": c.key,
                "argv": c.argv,
                "samples_s": c.samples,
                "median_s": c.median,
                "quartiles_s": quartiles(c),
                "peak_rss_bytes": c.peak_bytes,
                "failure": c.failure or None,
                "ratio_to_floor": ratio(c.median, floors["typer_rich"].median),
            }
            for c in startup
        ],
        "cases": doc_cases,
        "targets": verdicts,
    }
    return "\n".join(out), document


def quartiles(c: Command) -> list[float] | None:
    """The first and third quartiles of a command's samples (None under 2 samples)."""
    if len(c.samples) < 2 or c.failure:
        return None
    q = statistics.quantiles(c.samples, n=4)
    return [q[0], q[2]]


def startup_table(startup: list[Command], floor: Command) -> list[str]:
    """The start-up runs beside ``import typer, rich``: median, quartiles, range, ratio."""
    lines = [f"start-up: --no-verify --format json, against {floor.label} (target "
             f"{ANALYTIC_VS_TYPER_RICH:g}x)"]  # fmt: skip
    rows = [["command", "median s", "p25-p75 s", "min-max s", "x floor", "peak MB", "runs"]]
    for c in [floor, *startup]:
        if c.failure:
            rows.append([c.label, c.failure, "", "", "", "", ""])
            continue
        q = quartiles(c)
        rows.append(
            [
                c.label,
                fmt(c.median, ".3f"),
                "-" if q is None else f"{q[0]:.3f}-{q[1]:.3f}",
                spread_text(c),
                fmt(ratio(c.median, floor.median), ".2f", "x"),
                mb(c.peak_bytes),
                str(len(c.samples)),
            ]
        )
    lines.append(table(rows))
    return lines


def spread_text(c: Command) -> str:
    return f"{min(c.samples):.2f}-{max(c.samples):.2f}" if c.samples else "-"


def mb(size: int | None) -> str:
    return "-" if size is None else f"{size / 1e6:.0f}"


def targets(
    floors: dict[str, Command], cases: list[Case], startup: Sequence[Command] = ()
) -> list[dict[str, str]]:
    """Every target of SPEC.md's Performance section, PASS or FAIL, with its numbers."""
    by = {case.key: case for case in cases}
    verdicts: list[dict[str, str]] = []

    def check(name: str, value: float | None, limit: float, detail: str) -> None:
        if value is None:
            verdicts.append(
                {"target": name, "verdict": "FAIL", "detail": f"not measured: {detail}"}
            )
            return
        verdict = "PASS" if value <= limit else "FAIL"
        verdicts.append({"target": name, "verdict": verdict, "detail": detail})

    def why(*commands: Command) -> str:
        return "; ".join(f"{c.key} {c.failure}" for c in commands if c.failure) or "no samples"

    for command in startup:  # the analytic path: every command's --no-verify JSON run
        tr = floors["typer_rich"]
        r = ratio(command.median, tr.median)
        check(
            f"{command.label} within {ANALYTIC_VS_TYPER_RICH:g}x of import typer, rich",
            r,
            ANALYTIC_VS_TYPER_RICH,
            f"{fmt(command.median, '.3f')} s / {fmt(tr.median, '.3f')} s = {fmt(r, '.2f')}x"
            if r
            else why(command, tr),
        )
    if "seed" in by:
        verified = by["seed"].ours[-1]
        torch_floor = floors["torch"]
        r = ratio(verified.median, torch_floor.median)
        check(
            f"verified single layer within {VERIFIED_VS_TORCH:g}x of import torch, torchinfo",
            r,
            VERIFIED_VS_TORCH,
            f"{fmt(verified.median, '.3f')} s / {fmt(torch_floor.median, '.3f')} s = "
            f"{fmt(r, '.2f')}x"
            if r
            else why(verified, torch_floor),
        )
        if "big" in by:
            big = by["big"].ours[-1]
            r = ratio(big.median, verified.median)
            check(
                f"64x256x1024x1024 conv within {BIG_VS_SMALL:g}x of the small verified conv",
                r,
                BIG_VS_SMALL,
                f"{fmt(big.median, '.3f')} s / {fmt(verified.median, '.3f')} s = {fmt(r, '.2f')}x"
                if r
                else why(big, verified),
            )
            peak = big.peak_bytes
            check(
                f"64x256x1024x1024 conv under {BIG_RSS_BYTES / 1e6:.0f} MB peak RSS",
                None if peak is None else float(peak),
                float(BIG_RSS_BYTES),
                f"{mb(peak)} MB" if peak else why(big),
            )
            r = ratio(peak, floors["torch"].peak_bytes)
            check(
                f"64x256x1024x1024 conv peak RSS within {BIG_RSS_VS_TORCH:g}x of the torch floor's",
                r,
                BIG_RSS_VS_TORCH,
                f"{mb(peak)} MB / {mb(floors['torch'].peak_bytes)} MB = {fmt(r, '.2f')}x"
                if r
                else why(big, floors["torch"]),
            )
    if "vit-h" in by:
        vit, floor = by["vit-h"].ours[-1], floors["torchvision"]
        r = ratio(vit.peak_bytes, floor.peak_bytes)
        check(
            f"vit_h_14 at 518 peak RSS within {VIT_RSS_VS_TORCHVISION:g}x of import torch, "
            "torchvision",
            r,
            VIT_RSS_VS_TORCHVISION,
            f"{mb(vit.peak_bytes)} MB / {mb(floor.peak_bytes)} MB = {fmt(r, '.2f')}x"
            if r
            else why(vit, floor),
        )
    if "batch" in by:
        batch, torch_floor = by["batch"].ours[-1], floors["torch"]
        r = ratio(batch.median, torch_floor.median)
        check(
            f"{BATCH_SIZE:,} verified specs in one batch within {BATCH_VS_TORCH:g}x of the torch "
            "import floor",
            r,
            BATCH_VS_TORCH,
            f"{fmt(batch.median, '.3f')} s / {fmt(torch_floor.median, '.3f')} s = {fmt(r, '.2f')}x"
            if r
            else why(batch, torch_floor),
        )
    if "sweep" in by:
        sweep, torch_floor = by["sweep"].ours[-1], floors["torch"]
        r = ratio(sweep.median, torch_floor.median)
        check(
            f"16-point verified sweep within {SWEEP_VS_TORCH:g}x of the torch import floor",
            r,
            SWEEP_VS_TORCH,
            f"{fmt(sweep.median, '.3f')} s / {fmt(torch_floor.median, '.3f')} s = {fmt(r, '.2f')}x"
            if r
            else why(sweep, torch_floor),
        )
    for case in cases:
        if not case.peers:
            continue
        name = f"convcalc no slower than the fastest peer that counts it: {case.title}"
        ours = case.ours[-1]
        if ours.median is None:
            check(name, None, OURS_VS_FASTEST_PEER, why(ours))
            continue
        counting, left_out = counting_peers(case)
        fastest = min(counting, key=lambda p: p.median or 0.0, default=None)
        aside = f"; not counted: {'; '.join(left_out)}" if left_out else ""
        if fastest is None or fastest.median is None:
            verdicts.append(
                {"target": name, "verdict": "N/A", "detail": f"no peer counts it{aside}"}
            )
            continue
        r = ours.median / fastest.median
        detail = f"ours {ours.median:.3f} s / {fastest.label} {fastest.median:.3f} s = {r:.2f}x"
        check(name, r, OURS_VS_FASTEST_PEER, detail + aside)
    return verdicts


def counting_peers(case: Case) -> tuple[list[Command], list[str]]:
    """The peers that timed the case and counted it (at least ``COUNTS_SHARE`` of convcalc's
    analytic MACs, FLOPs halved; any count where the analytic run failed), and a line for
    each other peer: why it is left out of the target."""
    counting: list[Command] = []
    left_out: list[str] = []
    for peer in case.peers:
        figures = peer_figures(peer) if peer.median is not None else None
        if figures is None:
            reason = peer.failure.split(" (", 1)[0].split(":", 1)[0] if peer.failure else "no count"
            left_out.append(f"{peer.label} {reason}")
            continue
        macs = in_macs(float(figures["count"]), str(figures["unit"]))
        floor = COUNTS_SHARE * case.reference["macs"] if case.reference else 0.0
        if macs > floor:
            counting.append(peer)
        else:
            share = f"{macs / case.reference['macs']:.2%}" if case.reference else "0"
            left_out.append(f"{peer.label} counts {share} of the MACs")
    return counting, left_out


# ---------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time convcalc against its import floors and its peers (see the docstring)."
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=None,
        help=f"measured rounds (default 5; {STARTUP_RUNS} with --only startup)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: 3 rounds, peers measured once"
    )
    parser.add_argument(
        "--peer-runs",
        type=int,
        default=None,
        help="rounds that include the peers (default: as many as --budget holds, "
        "at least min(3, runs))",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=540.0,
        help="seconds the whole run should take; sets the peers' rounds (default 540)",
    )
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="wall-clock limit per process, s (default 120)"
    )
    parser.add_argument(
        "--mem-cap-gib", type=float, default=8.0, help="RLIMIT_AS per process, GiB (default 8)"
    )
    parser.add_argument(
        "--cases",
        default=",".join(case.key for case in make_cases()),
        help="comma list of cases (default: all)",
    )
    parser.add_argument(
        "--peers",
        default=",".join(PEER_TOOLS),
        help="comma list of peers, or 'none' (default: all)",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=HERE / "results" / "latest.json",
        help="where to write the JSON (default benchmarks/results/latest.json)",
    )
    parser.add_argument(
        "--only",
        choices=("startup", "models"),
        default=None,
        help="startup: only the start-up runs (every analytic command's --no-verify JSON run) "
        "and the python and typer/rich floors; no cases, no peers. models: only the "
        "`convcalc model` cases against their peers (those of --cases, if given) and the "
        "torch and torchvision floors",
    )
    parser.add_argument(
        "--peer-margin",
        type=float,
        default=None,
        help="after round 1, time again only the peers that count their case's model and "
        "ran within this factor of the fastest that does (default: every peer; 1.5 with "
        "--only models)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="each run on stderr")
    args = parser.parse_args(argv)
    if args.runs is None:
        args.runs = STARTUP_RUNS if args.only == "startup" else 5
    if args.only == "models" and args.peer_margin is None:
        args.peer_margin = 1.5
    if args.quick:
        args.runs = 3
        args.peer_runs = 1 if args.peer_runs is None else args.peer_runs
    if args.runs < 1 or (args.peer_runs is not None and args.peer_runs < 1):
        parser.error("--runs and --peer-runs must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    wanted = [c.strip() for c in args.cases.split(",") if c.strip()]
    if args.only == "startup":
        wanted, args.peers = [], "none"
    elif args.only == "models":
        wanted = [key for key in wanted if key in model_case_keys()]
    cases = [c for c in make_cases() if c.key in wanted]
    unknown = set(wanted) - {c.key for c in cases}
    tools = [] if args.peers == "none" else [t.strip() for t in args.peers.split(",") if t.strip()]
    unknown |= set(tools) - set(PEER_TOOLS)
    if unknown:
        print(f"error: unknown case or peer: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    settings = Settings(
        args.runs,
        args.peer_runs,
        args.budget,
        args.timeout,
        int(args.mem_cap_gib * 2**30),
        args.verbose,
        args.peer_margin,
    )
    floors = ("pass", "typer_rich") if args.only == "startup" else tuple(FLOORS)
    startup = startup_commands()
    if args.only == "models":
        floors, startup = ("torch", "torchvision"), []
    commands = build(cases, tools, startup, floors)
    plan = measure(commands, cases, settings)
    plan |= {"timeout_s": args.timeout, "mem_cap_gib": args.mem_cap_gib, "budget_s": args.budget}
    text, document = report(commands, cases, machine(), plan)
    print(text)
    print(f"\n(wall time of this benchmark: {plan['total_s']:.0f} s; JSON: {args.json})")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
