"""Every command x every output format x every cross-cutting option it accepts.

The walk reads the app's own registry: the commands of its click group, each
command's ``--format`` choices and its parameters. A small valid base command
line is derived from each command's required parameters (a tiny model file for
``model``, small documents for ``diff``, a budget file for ``check``, a file of
command lines for ``batch``), then every cross-cutting option the command takes
is added one at a time: ``--convention`` with each convention of the registry,
``--backward``, ``--value`` with each figure of the catalogue (a device's with ``--hardware``),
``--hardware`` (named, a T4 with no bf16, by rates, with a peak chosen) and ``--fused``,
``--fold``, ``--top``, each budget
with a generous limit (and a tight one, which must fail with exit 1),
``--exact``, and all of them together. Each run must exit 0 (1 for the tight
budget) with no traceback, parse as JSON where it is JSON, and end no line of
any format with a space.

The full cross product is analytic (``--no-verify``) and in process; a smaller
sample verifies through torch (``--cross-check`` included), and the table
format is also walked at 80 columns.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner, Result

from convcalc.cli import app
from convcalc.core.count.conventions import CONVENTIONS
from convcalc.core.documents.catalogue import CATALOGUE
from convcalc.core.documents.contract import figure, points

# The app's own registry: its click group, built once for every run of the walk.
GROUP: Any = typer.main.get_command(app)
COMMANDS = sorted(GROUP.commands)

# Values for required parameters, and smaller values for the parameters that only size
# the work (so a walk of thousands of lines stays fast). A command with a required
# parameter missing here fails the walk, naming it.
REQUIRED = {"cin": "4", "cout": "8", "channels": "32"}
SMALL = {"input_size": "8", "resolution": "32", "depth": "18", "classes": "10"}
GENEROUS = "1T"  # a budget no small spec reaches
TIGHT = "1"  # a budget every spec exceeds: exit 1 by design

MODEL = '''
import torch
from torch import nn


class Tiny(nn.Module):
    """A conv block called twice, a pool and a linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.block = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.head = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block(self.block(self.stem(x)))
        return self.head(x.mean((2, 3)))


def tiny() -> nn.Module:
    return Tiny()
'''


@dataclass(frozen=True)
class Line:
    """One command line of the walk and the exit code it must give (``tight``: the
    figure of a tight budget; exit 1 where the spec has more of it than the budget)."""

    argv: tuple[str, ...]
    exit_code: int = 0
    base: tuple[str, ...] = ()
    tight: str | None = None

    def __str__(self) -> str:
        return "convcalc " + " ".join(self.argv)


@dataclass(frozen=True)
class Files:
    """The small files the file-reading commands are given."""

    model: str
    old: str
    new: str
    config: str
    batch: str


def params(command: str) -> dict[str, Any]:
    """A command's click parameters by name."""
    return {p.name: p for p in GROUP.commands[command].params}


def formats(command: str) -> list[str]:
    """The ``--format`` choices the command offers (none: it has one output)."""
    output = params(command).get("output")
    return list(output.type.choices) if output is not None else []


def bases(command: str, files: Files, *, verify: bool) -> list[tuple[str, ...]]:
    """Small valid command lines from the command's required parameters; a sweep too
    where the command takes ``--width``."""
    argv: list[str] = [command]
    positional = {"target": files.model, "old": files.old, "new": files.new,
                  "source": files.batch, "action": "list"}  # fmt: skip
    for name, p in params(command).items():
        if p.param_type_name == "argument":
            assert name in positional, f"{command}: no value for the argument {name}"
            argv.append(positional[name])
        elif p.required:
            assert name in REQUIRED, f"{command}: no small value for the required {p.opts[0]}"
            argv += [p.opts[0], REQUIRED[name]]
        elif name in SMALL and not p.is_flag and not p.hidden:
            argv += [p.opts[0], SMALL[name]]
        elif name == "config_path":
            argv += [p.opts[0], files.config]
    if "no_verify" in params(command) and not verify:
        argv.append("--no-verify")
    lines = [tuple(argv)]
    if "width" in params(command):
        lines.append((*argv, "--width", "0.25,0.5"))
    return lines


def needed(needs: str) -> tuple[str, ...]:
    """The options a figure's ``needs`` names (``--hardware``: a device), as arguments."""
    found: list[str] = []
    for option in re.findall(r"--[a-z][a-z-]*", needs):
        found += [option, "h100-sxm"] if option == "--hardware" else [option]
    return tuple(found)


def variants(command: str) -> Iterator[tuple[tuple[str, ...], str | None]]:
    """(options, the figure of a tight budget) for every cross-cutting option the command
    accepts, one at a time, then all of them together."""
    taken = params(command)
    together: list[str] = []
    yield (), None
    if "convention" in taken:
        for name in CONVENTIONS:
            yield ("--convention", name), None
        together += ["--convention", next(n for n in CONVENTIONS if n != "paper")]
    if "backward" in taken:
        yield ("--backward",), None
        together.append("--backward")
    if "value" in taken:
        for name in CATALOGUE.values:
            # a figure that needs an option gets it (without: exit 2, test_roofline_cli)
            yield ("--value", name, *needed(CATALOGUE[name].needs)), None
    if "hardware" in taken:
        for device in ("h100-sxm", "t4", "peak=1T,bandwidth=100G"):
            yield ("--hardware", device), None
        yield ("--fused",), None
        yield ("--hardware", "a100-80gb,peak=fp32", "--fused"), None
        together += ["--hardware", "l4", "--fused"]
    if "fold" in taken:
        yield ("--fold", "1"), None
        yield ("--fold", "2"), None
        together += ["--fold", "1"]
    if "top" in taken:
        yield ("--top", "2"), None
        together += ["--top", "2"]
    for name, p in taken.items():
        if name.startswith("max_"):
            yield (p.opts[0], GENEROUS), None
            yield (p.opts[0], TIGHT), name.removeprefix("max_")
            together += [p.opts[0], GENEROUS]
    if "exact" in taken:
        yield ("--exact",), None
        together.append("--exact")
    if len(together) > 1:
        yield tuple(together), None


def walk(files: Files, *, verify: bool, sample: bool = False) -> Iterator[Line]:
    """Every line of the walk: command x base line x format x option variant.

    ``sample``: per command and format, the base line alone and with ``--convention``,
    ``--backward`` and ``--cross-check`` (what verification changes).
    """
    for command in COMMANDS:
        for base in bases(command, files, verify=verify):
            for output in formats(command) or [""]:
                chosen = ("--format", output) if output else ()
                for options, tight in variants(command):
                    if sample and options[:1] not in ((), ("--convention",), ("--backward",)):
                        continue
                    if sample and options[:1] == ("--convention",) and options[1] != "fvcore":
                        continue
                    yield Line((*base, *chosen, *options), base=base, tight=tight)
                if sample and "cross_check" in params(command):
                    yield Line((*base, *chosen, "--cross-check"))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    """A tiny model, two small documents, a budget file and a file of command lines."""
    root = tmp_path_factory.mktemp("combinations")
    model = root / "tiny.py"
    model.write_text(MODEL, encoding="utf-8")
    documents = []
    for cout in ("8", "4"):  # the later one is smaller: diff reports no growth
        result = invoke(("conv", "--cin", "4", "--cout", cout, "-i", "8", "--no-verify",
                         "--format", "json"))  # fmt: skip
        assert result.exit_code == 0, result.stderr
        path = root / f"conv_{cout}.json"
        path.write_text(result.stdout, encoding="utf-8")
        documents.append(str(path))
    config = root / "convcalc.toml"
    config.write_text(
        '[budgets.small]\ncommand = "conv --cin 4 --cout 8 -i 8"\nmax-params = "1M"\n'
        '[budgets.net]\ncommand = "mobilenet --resolution 32 --width 0.25 --no-verify"\n'
        'max-macs = "1G"\n',
        encoding="utf-8",
    )
    old, new = documents
    partial = Files(f"{model}:tiny", old, new, str(config), "")
    batch = root / "lines.txt"
    # Every computing command's base line, in each non-JSON format and with --convention
    # (the crash that took a whole batch down), --backward and --value.
    lines = [
        " ".join((*base, *extra))
        for command in COMMANDS
        if "convention" in params(command)
        for base in bases(command, partial, verify=False)[:1]
        for extra in (("--format", "table", "--convention", "fvcore"),
                      ("--format", "markdown", "--backward"), ("--format", "csv"),
                      ("--value", "macs"))
    ]  # fmt: skip
    batch.write_text("# every command, a few options\n" + "\n".join(lines) + "\n", "utf-8")
    return Files(partial.model, partial.old, partial.new, partial.config, str(batch))


@pytest.fixture(autouse=True)
def _built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner invokes the group built once, not a new one per line (13 ms each)."""
    monkeypatch.setattr("typer.testing._get_command", lambda _app: GROUP, raising=False)


@pytest.fixture(autouse=True)
def _slow_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """--measure-time reads a clock that ticks 1 s per reading: each timing runs its fewest
    passes, and nothing is timed for real (the walk checks figures, not the machine)."""
    from convcalc.measure import timing

    ticks = itertools.count()
    monkeypatch.setattr(timing, "stopwatch_for",
                        lambda _device: timing.WallClock(lambda: float(next(ticks))))  # fmt: skip


runner = CliRunner()
PLAIN = {"COLUMNS": None, "NO_COLOR": None, "FORCE_COLOR": None, "TTY_COMPATIBLE": None}


def invoke(argv: tuple[str, ...], columns: str | None = None) -> Result:
    """One line in process, streams apart, as a pipe would see it."""
    return runner.invoke(app, list(argv), env=PLAIN | {"COLUMNS": columns})


_POINTS: dict[tuple[str, ...], Any] = {}


def expected_exit(line: Line) -> int:
    """0, or 1 for a tight budget the spec exceeds (read from its JSON document)."""
    if line.tight is None:
        return line.exit_code
    if line.base not in _POINTS:
        result = invoke((*line.base, "--format", "json"))
        assert result.exit_code == 0, (line.base, result.stderr)
        _POINTS[line.base] = [item for _, item in points(json.loads(result.stdout))]
    exceeds = any((figure(item, line.tight) or 0) > int(TIGHT) for item in _POINTS[line.base])
    return 1 if exceeds else 0


def problems(line: Line, result: Result) -> list[str]:
    """What is wrong with one run (nothing, when it kept the contract)."""
    found = []
    code = expected_exit(line)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        found.append(f"raised {type(result.exception).__name__}: {result.exception}")
    elif result.exit_code != code:
        found.append(f"exit {result.exit_code}, expected {code}: {result.stderr!r}")
    if "Traceback" in result.stdout + result.stderr:
        found.append("printed a traceback")
    padded = [n for n, text in enumerate(result.stdout.splitlines(), 1) if text != text.rstrip()]
    if padded:
        found.append(f"line {padded[0]} of stdout ends with a space")
    if code == 1 and "error: " not in result.stderr:
        found.append("a failed budget said nothing on stderr")
    if "json" in line.argv and "--value" not in line.argv and result.exit_code == 0:
        try:
            json.loads(result.stdout)
        except ValueError as exc:
            found.append(f"--format json printed no JSON document: {exc}")
    return [f"{line}: {p}" for p in found]


def run_all(lines: list[Line], columns: str | None = None) -> None:
    """Run every line; fail once, listing the first problems and how many there were."""
    failures = [p for line in lines for p in problems(line, invoke(line.argv, columns))]
    shown = "\n".join(failures[:15])
    assert not failures, f"{len(failures)} problems in {len(lines)} lines:\n{shown}"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_format_and_option_analytic(command: str, files: Files) -> None:
    """Analytic (``--no-verify``): every format x every cross-cutting option of the command
    exits 0 (1 for a tight budget), with no traceback and no padded line."""
    lines = [line for line in walk(files, verify=False) if line.argv[0] == command]
    assert lines
    run_all(lines)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_format_verified_sample(command: str, files: Files) -> None:
    """Verified through torch: every format, alone and with ``--convention``,
    ``--backward`` and ``--cross-check``."""
    lines = [line for line in walk(files, verify=True, sample=True) if line.argv[0] == command]
    assert lines
    run_all(lines)


def test_every_table_at_80_columns(files: Files) -> None:
    """At 80 columns (not a terminal), every command's table, alone and with each option."""
    lines = [
        line
        for line in walk(files, verify=False)
        if "table" in line.argv or "--format" not in line.argv
    ]
    run_all(lines, columns="80")


def test_the_walk_reaches_every_command_and_option(files: Files) -> None:
    """The walk covers each command of the registry, each format it offers, each convention
    and each figure (a registry entry the walk misses fails here, not silently)."""
    lines = [" ".join(line.argv) for line in walk(files, verify=False)]
    for command in COMMANDS:
        assert any(line.split()[0] == command for line in lines), command
        for output in formats(command):
            assert any(line.startswith(command + " ") and f"--format {output}" in line
                       for line in lines), (command, output)  # fmt: skip
    for name in CONVENTIONS:
        assert any(f"--convention {name}" in line for line in lines), name
    for name in CATALOGUE.values:
        assert any(f"--value {name}" in line for line in lines), name
    for option in ("--hardware", "--fused"):  # the roofline on every figure command
        assert any(option in line for line in lines), option
    assert Path(files.batch).read_text(encoding="utf-8").count("\n") > len(COMMANDS)
