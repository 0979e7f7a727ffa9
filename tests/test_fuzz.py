"""Random command lines never end in a traceback, a hang, or an exit code outside the contract.

A bounded fuzzer in the spirit of the ones issues 10 and 17 report (12,273 and
12,296 command lines), over every command the app registers and every option
each declares (its click parameters, hidden ones included: nothing kept by
hand here), plus options a command lacks. Values are drawn by the option's type
(words: its own words, mangled in case and spacing, and others; integers:
small, huge, negative, other scripts' digits; paths: valid and broken files;
free text: what breaks parsers). Every run must exit 0, 1, 2 or 3 with no
traceback and at most one ``error:`` line, within seconds; an exit 2 writes
nothing on stdout. Most runs are ``--no-verify`` (arithmetic, so hundreds fit in
a test run); a smaller set verifies small specs through torch.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from convcalc.cli import app
from convcalc.cli.options import words
from tests.model.nets import USER_FILE

runner = CliRunner()
CONTRACT = {0, 1, 2, 3}
SECONDS = 20  # a hang is a run far past this (the issue's ran for ever)
COMMANDS = typer.main.get_command(app).commands  # type: ignore[attr-defined]

WORDS = ["same", "valid", "global", "SAME", "Global", "json", "JSON", "csv", "markdown", "table",
         "xml", "cpu", "CPU", "meta", "cuda", "auto", "float16", "FLOAT64", "int8", "macs",
         "params", "output_shape", "activation-bytes", "foo", "", " ", "x", "3x", "x3", "3x1x2",
         "1.5M", "2G", "1e6", "1e999999999", "1_000", "inf", "-inf", "nan", "1e306", "1e-400",
         "0.5,1", "0.25,,1", "128,160", "\u0664", "\uff13", "\u00b2", "4_0", "-0", "00", "+0",
         "0x10", "7" * 4301, "1" * 30, "fvcore", "THOP", "v1", "V1.5", "se", " CBAM ", "small",
         "LARGE", "max", " AVG ", "long", "1%", "0.5%", "-1%", "width=0", "width=0.5", "a=b",
         "out.png", "out.txt", "-", "\ufeffconv"]  # fmt: skip

# Free text, for options that take a number, a size, a list or a name.
values = st.one_of(
    st.integers(-3, 40).map(str),
    st.integers(-(10**25), 10**25).map(str),
    st.sampled_from(WORDS),
    st.tuples(st.integers(0, 12), st.integers(0, 12)).map(lambda p: f"{p[0]}x{p[1]}"),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=6),
)
small = st.integers(1, 12).map(str)


def mangled(word: str) -> st.SearchStrategy[str]:
    """A word as a user may type it: any case, spaces around it."""
    return st.tuples(st.sampled_from([str.lower, str.upper, str.title]),
                     st.sampled_from(["", " ", "  "]), st.sampled_from(["", " "])).map(
        lambda t: f"{t[1]}{t[0](word)}{t[2]}")  # fmt: skip


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of the files command lines name: a model file, JSON documents
    (good, unrelated, broken, deeply nested), a budgets file and a batch file."""
    root = tmp_path_factory.mktemp("fuzz")
    (root / "tiny.py").write_text(USER_FILE, encoding="utf-8")
    document = runner.invoke(app, ["conv", "--cin", "4", "--cout", "8", "-i", "8", "--no-verify",
                                   "--format", "json"]).stdout  # fmt: skip
    (root / "a.json").write_text(document, encoding="utf-8")
    (root / "b.json").write_text(document.replace('"cout": 8', '"cout": 9'), encoding="utf-8")
    (root / "list.json").write_text("[1, 2]", encoding="utf-8")
    (root / "deep.json").write_text("[" * 100_000, encoding="utf-8")
    (root / "nan.json").write_text('{"analytic": {"macs": NaN}}', encoding="utf-8")
    (root / "empty.json").write_text("", encoding="utf-8")
    (root / "convcalc.toml").write_text(
        '[budgets.small]\ncommand = "conv --cin 4 --cout 8 -i 8 --no-verify"\nmax-macs = "1M"\n',
        encoding="utf-8",
    )
    (root / "bad.toml").write_text("[budgets.x]\ntool = 5\n", encoding="utf-8")
    (root / "specs.txt").write_text(
        "conv --cin 4 --cout 8 -i 8 --no-verify\npool --channels 1 -k 3 --ceil-mode -i 2\n"
        "mobilenet --width 0.25 --resolution 32 --no-verify --convention fvcore\nfrobnicate\n",
        encoding="utf-8",
    )
    return root


FILES = ["a.json", "b.json", "list.json", "deep.json", "nan.json", "empty.json", "missing.json",
         ".", "convcalc.toml", "bad.toml", "specs.txt", "tiny.py", "-"]  # fmt: skip
TARGETS = ["tiny.py:build", "tiny.py:broken", "tiny.py:two_inputs", "tiny.py:nothing", "tiny.py",
           "missing.py:build", "os:getcwd", "nope", "", "timm", ":"]  # fmt: skip


def value_for(param: Any, valid: bool) -> st.SearchStrategy[str]:
    """A value for one click parameter, drawn by its type (mostly valid when ``valid``)."""
    choices = words(param)
    kind = type(param.type).__name__
    if choices is not None:
        own = st.sampled_from(choices).flatmap(mangled)
        return own if valid else st.one_of(own, values)
    if param.name == "target":
        return st.sampled_from(TARGETS)
    if kind == "Path" or param.name in ("source", "plot"):
        return st.sampled_from(FILES if param.name != "plot" else ["out.png", "out.txt", ""])
    if kind in ("FuncParamType", "IntParamType"):  # integers
        return small if valid else st.one_of(small, values)
    return st.one_of(small, values) if valid else values


def options_of(command: Any) -> list[Any]:
    return [p for p in command.params if p.param_type_name == "option"]


@st.composite
def command_lines(draw: st.DrawFn, *, verify: bool = False) -> list[str]:
    """A command with its required parameters and a few of its options (now and then
    one it lacks, or an unknown command), with drawn values."""
    name = draw(st.sampled_from([*COMMANDS, "frobnicate"]))
    command = COMMANDS.get(name)
    if command is None:
        return [name, *draw(st.lists(values, max_size=3))]
    valid = draw(st.booleans())
    argv = [name]
    for param in command.params:
        if param.required:
            text = draw(value_for(param, valid))
            argv += [text] if param.param_type_name == "argument" else [param.opts[-1], text]
    options = options_of(command)
    for _ in range(draw(st.integers(0, 6))):
        if not options or draw(st.integers(0, 9)) == 0:
            argv.append(draw(st.sampled_from(["--bogus", "--version", "--help", "-h"])))
            continue
        param = draw(st.sampled_from(options))
        if param.is_flag:
            argv.append(draw(st.sampled_from([*param.opts, *param.secondary_opts])))
        else:
            argv += [draw(st.sampled_from(param.opts)), draw(value_for(param, valid))]
    flags = {o for p in options for o in p.opts}
    if not verify and "--no-verify" in flags and "--cross-check" not in argv:
        argv.append("--no-verify")
    return argv


@contextlib.contextmanager
def inside(directory: Path) -> Iterator[None]:
    with contextlib.chdir(directory):
        yield


def run_within_contract(argv: list[str], directory: Path) -> Result:
    """Run in process in ``directory``; assert the exit code, no traceback, at most one
    error line, nothing on stdout for an invalid command line, and the time."""
    start = time.perf_counter()
    with inside(directory):
        result = runner.invoke(app, argv, input="conv --cin 4 --cout 8 --no-verify\n")
    elapsed = time.perf_counter() - start
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        argv,
        repr(result.exception),
    )
    assert result.exit_code in CONTRACT, (argv, result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr, (argv, result.stderr)
    lines = result.stderr.split("\n")  # not splitlines: a control character is no new line
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) <= 1, (argv, result.stderr)
    # An invalid command line: its error, nothing on stdout (batch exits with its worst
    # line's code, each line's result on stdout; its own command line is no different).
    if result.exit_code == 2 and (argv[0] != "batch" or errors):
        assert result.stdout == "", (argv, result.stdout)
        assert lines[-2].startswith("error: "), (argv, result.stderr)
    assert elapsed < SECONDS, (argv, elapsed)
    return result


QUIET = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]


def _examples(share: int) -> int:
    """A share (in tenths) of the active profile's examples (tests/conftest.py)."""
    active = settings.default
    assert active is not None
    return max(10, active.max_examples * share // 10)


@settings(max_examples=_examples(15), derandomize=True, suppress_health_check=QUIET)
@given(argv=command_lines())
def test_random_command_lines_stay_within_the_contract(argv: list[str], workdir: Path) -> None:
    """Any command line of any command, analytic where the command can be: exit 0-3,
    no traceback, one error line at most, no hang."""
    run_within_contract(argv, workdir)


def test_every_command_is_fuzzed() -> None:
    """The fuzzer walks the app itself: every registered command (all 14 or more)."""
    assert len(COMMANDS) >= 14
    assert {"conv", "pool", "model", "check", "diff", "batch", "conventions"} <= set(COMMANDS)


@st.composite
def small_verified_lines(draw: st.DrawFn) -> list[str]:
    """A verified layer or pool with small sizes and drawn words (verification imports torch)."""
    command = draw(st.sampled_from(["conv", "separable", "spatial", "compare", "pool"]))
    if command == "pool":
        argv = [command, "--channels", draw(small), "-i", draw(small)]
        extra: tuple[str, ...] = ("-k", "-s", "-p", "-d", "--mode", "--ceil-mode", "--dims")
    else:
        argv = [command, "--cin", draw(small), "--cout", draw(small), "-i", draw(small)]
        extra = ("-k", "-p", "-g", "-s", "-d", "--device", "--dtype")
    for option in extra:
        if draw(st.booleans()):
            if option == "--ceil-mode":
                argv.append(option)
            elif option == "--dims":
                argv += [option, draw(st.sampled_from(["1", "2", "3"]))]
            else:
                argv += [
                    option,
                    draw(st.one_of(small, st.sampled_from([*WORDS[:20], "max", "avg"]))),
                ]
    return argv


@settings(max_examples=_examples(3), derandomize=True, suppress_health_check=QUIET)
@given(argv=small_verified_lines())
def test_random_verified_command_lines_stay_within_the_contract(
    argv: list[str], workdir: Path
) -> None:
    """Small verified runs (torch), pools with ceil_mode among them: exit 0-3, no traceback."""
    run_within_contract(argv, workdir)


@pytest.mark.parametrize(
    "argv",
    [
        ["pool", "--channels", "1", "-k", "3", "-s", "1", "--ceil-mode", "-i", "2"],
        [
            "pool",
            "--channels",
            "1",
            "-k",
            "12",
            "-s",
            "2",
            "-p",
            "1",
            "--ceil-mode",
            "-i",
            "6",
            "--no-verify",
            "--value",
            "output_shape",
        ],
        ["diff", "a.json", "b.json"],
        ["diff", "deep.json", "a.json"],
        ["diff", "list.json", "a.json"],
        ["check", "--config", "bad.toml"],
        ["mobilenet", "--width", "1e200", "--no-verify", "--max-macs", "1M"],
        ["model", "tiny.py:build", "--arg", "width=0", "-i", "8"],
        ["model", "tiny.py:build", "--input-dtype", ""],
        ["pool", "--channels", "4", "--output", "1", "-k", "3"],
    ],
)
def test_the_issues_findings_stay_within_the_contract(argv: list[str], workdir: Path) -> None:
    """The command lines issue 17's fuzzer found, each within the contract."""
    run_within_contract(argv, workdir)
