"""What a command line loads: only what the named command needs (issue 17, start-up).

These tests assert which modules a run imports, never how long it takes (the
timing target lives in ``benchmarks/run.py --only startup``): a ``--no-verify``
run imports no torch, a JSON, CSV or ``--value`` run no rich, and of the CLI's
command modules only the named command's own; a network's module loads when
that network is built, and help still sees every command and network.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from convcalc.cli.commands import COMMANDS, FIGURES

ROOT = Path(__file__).resolve().parent.parent

# Every command's module, from the app's own registry.
COMMAND_MODULES = {name: module for name, (module, _) in COMMANDS.items()}
NETWORK_MODULES = (
    "convcalc.core.nets.mobilenet",
    "convcalc.core.nets.mobilenet_v3",
    "convcalc.core.nets.resnet",
)

# A --no-verify JSON run of every command that computes figures without torch.
ANALYTIC_RUNS = {
    "conv": ["conv", "--cin", "4", "--cout", "8"],
    "separable": ["separable", "--cin", "4", "--cout", "8"],
    "spatial": ["spatial", "--cin", "4", "--cout", "8"],
    "compare": ["compare", "--cin", "4", "--cout", "8"],
    "pool": ["pool", "--channels", "4", "-k", "3"],
    "se": ["se", "--channels", "64"],
    "cbam": ["cbam", "--channels", "64"],
    "mobilenet": ["mobilenet"],
    "resnet": ["resnet", "--depth", "18"],
}

RUN = """
import sys
sys.argv = ["convcalc", *{argv!r}]
from convcalc.cli.app import main
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code or 0
sys.stdout.flush()
modules = sorted(sys.modules)  # before this script's own json
import json
import os
sys.stderr.write("\\n" + json.dumps({{"exit": code, "modules": modules}}) + "\\n")
"""


def loaded(argv: list[str]) -> tuple[int, set[str]]:
    """``convcalc ARGV`` run in a fresh interpreter: its exit status and every module it loaded."""
    process = subprocess.run(
        [sys.executable, "-c", RUN.format(argv=argv)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    report: dict[str, Any] = json.loads(process.stderr.strip().splitlines()[-1])
    return report["exit"], set(report["modules"])


def packages(modules: set[str], *names: str) -> set[str]:
    """The modules of ``modules`` that belong to any of the packages ``names``."""
    return {m for m in modules if m.split(".")[0] in names}


def command_modules(modules: set[str]) -> set[str]:
    """The CLI's command modules among ``modules``."""
    return modules & set(COMMAND_MODULES.values())


def test_every_analytic_command_is_walked() -> None:
    """Every figure command but model (which builds its model with torch) has a run here:
    a new command must say what its --no-verify run loads."""
    assert set(ANALYTIC_RUNS) == set(FIGURES) - {"model"}


@pytest.mark.parametrize("name", sorted(ANALYTIC_RUNS))
def test_a_no_verify_json_run_loads_only_its_command(name: str) -> None:
    """A --no-verify --format json run imports no torch and no rich, and of the command
    modules only its own (a lazy command registry)."""
    code, modules = loaded([*ANALYTIC_RUNS[name], "--no-verify", "--format", "json"])
    assert code == 0
    assert packages(modules, "torch", "torchinfo", "rich") == set()
    assert command_modules(modules) == {COMMAND_MODULES[name]}


# Modules only some paths use: none loads on a --no-verify JSON run of any figure command.
ONLY_SOME_PATHS = {
    "convcalc.core.count.roofline": "the device machinery: --hardware",
    "convcalc.core.count.backward": "--backward",
    "convcalc.core.count.timing": "--measure-time",
    "convcalc.core.documents.checks": "a verified run's measurement and checks",
    "convcalc.core.ops.traced": "the op table of a read model",
    "convcalc.render.rows": "tables, CSV and Markdown",
    "json": "a document over 200 kB compact, or a value render.jsontext leaves to json.dumps",
}


@pytest.mark.parametrize("name", sorted(ANALYTIC_RUNS))
def test_a_no_verify_json_run_loads_no_module_of_other_paths(name: str) -> None:
    """Each of ONLY_SOME_PATHS loads on its own path only; the JSON run still draws the
    roofline's bytes moved and intensity (core.count.traffic, the network half)."""
    code, modules = loaded([*ANALYTIC_RUNS[name], "--no-verify", "--format", "json"])
    assert code == 0
    assert modules.isdisjoint(ONLY_SOME_PATHS)
    assert "convcalc.core.count.traffic" in modules


@pytest.mark.parametrize("name", sorted(ANALYTIC_RUNS))
def test_exact_arithmetic_loads_where_it_is_used(name: str) -> None:
    """fractions (a jump after upsampling; not a merge of equal jumps, as ResNet's
    shortcuts are) and decimal (a budget's value and message, a width's rounding notice)
    load where they are used."""
    code, modules = loaded([*ANALYTIC_RUNS[name], "--no-verify", "--format", "json"])
    assert code == 0
    assert modules.isdisjoint({"fractions", "decimal"})
    _, budgeted = loaded([*ANALYTIC_RUNS[name], "--no-verify", "--format", "json",
                          "--max-params", "1.5K"])  # fmt: skip
    assert "decimal" in budgeted  # control: the budget is read exactly


def test_the_roofline_still_names_its_network_half() -> None:
    """core.count.roofline re-exports core.count.traffic: the same objects."""
    from convcalc.core.count import roofline, traffic

    for name in ("Options", "Roofline", "LayerBound", "Traffic", "roofline", "roofline_of",
                 "rate", "seconds", "MEMORY"):  # fmt: skip
        assert getattr(roofline, name) is getattr(traffic, name)


@pytest.mark.parametrize("output", [["--format", "csv"], ["--format", "markdown"],
                                    ["--value", "macs"]])  # fmt: skip
def test_the_other_plain_formats_load_no_rich(output: list[str]) -> None:
    """CSV, Markdown and --value are written as plain text: rich is never imported."""
    code, modules = loaded([*ANALYTIC_RUNS["conv"], "--no-verify", *output])
    assert code == 0
    assert packages(modules, "torch", "rich") == set()


def test_a_layer_loads_no_network_and_no_op_table() -> None:
    """conv loads no network module (registered lazily) and not core.ops.traced' op table."""
    _, modules = loaded([*ANALYTIC_RUNS["conv"], "--no-verify", "--format", "json"])
    assert modules.isdisjoint(NETWORK_MODULES)
    assert "convcalc.core.ops.traced" not in modules
    assert "convcalc.api" in modules  # control: the library did run


@pytest.mark.parametrize("name", ["pool", "resnet"])
def test_pools_load_without_the_op_table(name: str) -> None:
    """pool and ResNet's stem take their pools from core.ops.pooling, not the op table a
    read model needs (core.ops.traced, which re-exports them)."""
    code, modules = loaded([*ANALYTIC_RUNS[name], "--no-verify", "--format", "json"])
    assert code == 0
    assert "convcalc.core.ops.pooling" in modules
    assert "convcalc.core.ops.traced" not in modules


def test_the_op_table_still_names_the_pools() -> None:
    """core.ops.traced re-exports the pools: the same classes, for the code that reads a model."""
    from convcalc.core.ops import pooling, traced

    assert (traced.Pool2d, traced.AdaptivePool2d) == (pooling.Pool2d, pooling.AdaptivePool2d)
    assert traced.POOL_MODES == pooling.POOL_MODES


def test_a_network_loads_its_own_module_only() -> None:
    """resnet builds its network from the registry, which loads core.nets.resnet alone."""
    _, modules = loaded([*ANALYTIC_RUNS["resnet"], "--no-verify", "--format", "json"])
    assert set(NETWORK_MODULES) & modules == {"convcalc.core.nets.resnet"}


def test_a_table_does_load_rich() -> None:
    """Control for the tests above: the default table is drawn by rich."""
    code, modules = loaded([*ANALYTIC_RUNS["conv"], "--no-verify"])
    assert code == 0
    assert "rich.table" in modules
    assert "torch" not in modules


@pytest.mark.parametrize("name", sorted(ANALYTIC_RUNS))
def test_the_command_annotations_are_objects_not_text(name: str) -> None:
    """The figure commands' modules do not postpone annotations: typer reads each option
    from them, and a string annotation is compiled and evaluated again on every run (at
    the command's import, and by typer's get_type_hints while it builds the command)."""
    import inspect

    command = FIGURES[name]
    own = inspect.unwrap(command)
    assert command.__annotations__, name  # control: the options are annotations
    for function in (command, own):
        assert not any(isinstance(a, str) for a in function.__annotations__.values()), name


def test_help_loads_every_command() -> None:
    """convcalc --help lists every command: all their modules are loaded."""
    code, modules = loaded(["--help"])
    assert code == 0
    assert command_modules(modules) == set(COMMAND_MODULES.values())


def test_an_unknown_command_is_one_error_line() -> None:
    """An unknown name loads the whole group to say so, in one error line (exit 2)."""
    process = subprocess.run(
        [sys.executable, "-m", "convcalc", "cnov", "--cin", "4"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert process.returncode == 2
    assert process.stderr.count("\n") == 1
    assert process.stderr.startswith("error: ")


def test_the_registry_knows_every_network_without_importing_it() -> None:
    """core.nets.registry names each built-in network and its module (HOMES) before any loads;
    walking NETWORKS loads them all, and each is registered by the module HOMES names."""
    code = (
        "import json, sys\n"
        "from convcalc.core.nets import registry\n"
        "before = sorted(m for m in sys.modules if m in " + repr(NETWORK_MODULES) + ")\n"
        "known = 'resnet' in registry.NETWORKS\n"
        "entries = {n: e.build.__module__ for n, e in registry.NETWORKS.items()}\n"
        "print(json.dumps({'before': before, 'known': known, 'entries': entries,\n"
        "                  'homes': registry.HOMES}))\n"
    )
    process = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
        check=False,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr
    found = json.loads(process.stdout)
    assert found["before"] == []
    assert found["known"] is True
    assert found["entries"] == found["homes"]


def test_an_unknown_network_names_the_known_ones() -> None:
    """network_entry of a name no module registers: one error naming every network."""
    from convcalc.core.nets.registry import HOMES, network_entry
    from convcalc.errors import InvalidSpecError

    with pytest.raises(InvalidSpecError, match="unknown network 'lenet'") as caught:
        network_entry("lenet")
    assert all(name in str(caught.value) for name in HOMES)


def test_the_command_runs_with_the_collector_paused() -> None:
    """Start-up imports and the command itself run with the cyclic collector off (a batch
    collects each line's garbage: tests/test_collector.py), and it is on again at the end,
    as the console script starts it."""
    code = (
        "import atexit, gc, sys\n"
        "import convcalc.cli.run as run\n"
        "seen = []\n"
        "execute = run.execute\n"
        "def spy(job):\n"
        "    seen.append(gc.isenabled())\n"
        "    execute(job)\n"
        "run.execute = spy\n"
        "sys.argv = ['convcalc', 'conv', '--cin', '4', '--cout', '8', '--no-verify',\n"
        "            '--format', 'json']\n"
        "from convcalc.__main__ import main\n"
        "atexit.register(lambda: sys.stderr.write(f'\\n{seen} {gc.isenabled()}\\n'))\n"
        "main()\n"
    )
    process = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
        check=False,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr
    assert json.loads(process.stdout)["command"] == "conv"
    assert process.stderr.strip().splitlines()[-1] == "[False] True"


def test_typer_reads_no_annotation_string(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building any command's click command reads no postponed annotation: typer would
    compile and evaluate each one, twice, on every run (the CLI's modules do not
    postpone the annotations of what typer reads)."""
    import typer.utils

    from convcalc.cli.app import _click_command

    read: list[Any] = []
    hints = typer.utils.get_type_hints  # type: ignore[attr-defined]

    def spy(function: Any, *args: Any, **kwargs: Any) -> Any:
        read.append(function)
        return hints(function, *args, **kwargs)

    monkeypatch.setattr(typer.utils, "get_type_hints", spy)
    for name in COMMANDS:
        _click_command([name])
    assert len(read) > len(COMMANDS)  # control: every command, the root and its callbacks

    def strings(function: Any) -> bool:
        return any(isinstance(a, str) for a in getattr(function, "__annotations__", {}).values())

    postponed = [f"{f.__module__}.{f.__qualname__}" for f in read if strings(f)]
    assert postponed == []


# The console script's entry point, with a module-level object whose finaliser says
# when the interpreter tears the modules down, and an atexit function that says it ran.
_LEAVING = """
import atexit, sys
sys.argv = ["convcalc", *sys.argv[1:]]

class Torn:
    def __del__(self):
        sys.stderr.write("torn down\\n")

sys.modules["teardown_witness"] = type(sys)("teardown_witness")
sys.modules["teardown_witness"].witness = Torn()
atexit.register(lambda: sys.stderr.write("atexit ran\\n"))
{before}
from convcalc.__main__ import main
main()
"""


def _leave(*argv: str, before: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _LEAVING.format(before=before), *argv],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["resnet", "--depth", "18", "--no-verify", "--format", "json"], 0),
        (["conv", "--cin", "4", "--cout", "8", "--no-verify", "--max-params", "1"], 1),
        (["conv", "--cin", "0", "--cout", "8", "--no-verify"], 2),
    ],
)
def test_an_analytic_run_ends_without_the_teardown(argv: list[str], code: int) -> None:
    """No torch, one thread, no tracer: the process ends once its output is flushed and
    its atexit functions have run, with its own exit status; the modules are not torn
    down one by one (the witness's finaliser never runs)."""
    process = _leave(*argv)
    assert process.returncode == code, process.stderr
    assert "atexit ran" in process.stderr
    assert "torn down" not in process.stderr
    if code == 0:
        assert json.loads(process.stdout)["command"] == argv[0]  # the whole document
    else:
        assert process.stderr.count("error:") == 1


@pytest.mark.parametrize(
    "before",
    [
        "import torch",  # torch's own exit work
        "import threading, time; threading.Thread(target=time.sleep, args=(1,)).start()",
        "sys.settrace(lambda *args: None)",  # a tracer (coverage, a debugger)
    ],
)
def test_a_run_with_torch_a_thread_or_a_tracer_ends_as_usual(before: str) -> None:
    """Control, and the cases that keep the interpreter's exit: the teardown runs."""
    process = _leave("conv", "--cin", "4", "--cout", "8", "--no-verify", "--format", "json",
                     before=before)  # fmt: skip
    assert process.returncode == 0, process.stderr
    assert json.loads(process.stdout)["command"] == "conv"
    assert "atexit ran" in process.stderr
    assert "torn down" in process.stderr


def test_a_named_command_builds_no_completion_options_and_completion_still_works() -> None:
    """A line that names a command builds the group without its completion options (they
    go before a command's name); shell completion runs with no arguments and still
    completes a command's options."""
    from convcalc.cli.app import _click_command

    def group_options(argv: list[str]) -> set[str]:
        return {opt for p in _click_command(argv).params for opt in p.opts}

    assert "--install-completion" in group_options([])  # control: the whole group has them
    assert "--install-completion" not in group_options(["resnet", "--no-verify"])
    assert "--version" in group_options(["resnet"])  # the group's own option stays
    completed = subprocess.run(
        [sys.executable, "-m", "convcalc"], capture_output=True, text=True, cwd=ROOT,
        timeout=60, check=False,
        env={**os.environ, "_CONVCALC_COMPLETE": "complete_bash",
             "COMP_WORDS": "convcalc resnet --var", "COMP_CWORD": "2"},
    )  # fmt: skip
    assert completed.stdout.split() == ["--variant"], completed.stderr
