"""Random command lines never end in a traceback, a hang, or an exit code outside the contract.

A bounded fuzzer in the spirit of the one issue 10 reports (12,273 command
lines): any command, any of its options (and some it lacks), values drawn
from what breaks parsers (huge and negative numbers, other scripts' digits,
underscores, floats near their limits, words in any case, lists, empty
strings). Every run must exit 0, 1, 2 or 3 with no traceback, within seconds.
Most runs are ``--no-verify`` (arithmetic, so hundreds fit in a test run); a
smaller set verifies small specs through torch.
"""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from convcalc.cli import app

runner = CliRunner()
CONTRACT = {0, 1, 2, 3}
SECONDS = 20  # a hang is a run far past this (the ran for ever)

COMMON = ["--dtype", "--device", "--format", "--exact", "--cross-check", "--max-params",
          "--max-macs", "--max-flops", "--max-activation-bytes", "--value", "--help"]  # fmt: skip
SHAPE = ["--cin", "--cout", "-k", "--kernel", "-s", "-p", "-d", "-g", "--bias", "--no-bias",
         "-i", "-b"]  # fmt: skip
OPTIONS = {
    "conv": [*SHAPE, "--share-kernel", *COMMON],
    "separable": [*SHAPE, *COMMON],
    "spatial": [*SHAPE, *COMMON],
    "compare": [*SHAPE, *COMMON],
    "se": ["--channels", "--reduction", "--bias", "-i", "-b", *COMMON],
    "cbam": [
        "--channels",
        "--reduction",
        "--spatial-kernel",
        "--no-mlp-bias",
        "--no-spatial-bn",
        "-i",
        "-b",
        *COMMON,
    ],
    "mobilenet": ["--version", "--width", "--resolution", "--classes", "-b", *COMMON],
}
FLAGS = {"--bias", "--no-bias", "--share-kernel", "--exact", "--cross-check", "--help",
         "--no-mlp-bias", "--no-spatial-bn"}  # fmt: skip

WORDS = ["same", "valid", "global", "SAME", "Global", "json", "JSON", "csv", "markdown", "table",
         "xml", "cpu", "CPU", "meta", "cuda", "auto", "float16", "FLOAT64", "int8", "macs",
         "params", "output_shape", "activation-bytes", "foo", "", " ", "x", "3x", "x3", "3x1x2",
         "1.5M", "2G", "1e6", "1e999999999", "1_000", "inf", "-inf", "nan", "1e306", "1e-400",
         "0.5,1", "0.25,,1", "128,160", "\u0664", "\uff13", "\u00b2", "4_0", "-0", "00", "+0",
         "0x10", "7" * 4301, "1" * 30]  # fmt: skip

values = st.one_of(
    st.integers(-3, 40).map(str),
    st.integers(-(10**25), 10**25).map(str),
    st.sampled_from(WORDS),
    st.tuples(st.integers(0, 12), st.integers(0, 12)).map(lambda p: f"{p[0]}x{p[1]}"),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=6),
)


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    """A command and a few of its options (now and then one it lacks), with drawn values."""
    command = draw(st.sampled_from([*OPTIONS, "frobnicate"]))
    known = OPTIONS.get(command, COMMON)
    argv = [command]
    for _ in range(draw(st.integers(0, 7))):
        option = draw(st.sampled_from([*known, "--bogus", "--version"]))
        argv.append(option)
        if option not in FLAGS:
            argv.append(draw(values))
    return argv


def run_within_contract(argv: list[str]) -> None:
    """Run in process; assert the exit code, the absence of a traceback, and the time."""
    start = time.perf_counter()
    result = runner.invoke(app, argv)
    elapsed = time.perf_counter() - start
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        argv,
        repr(result.exception),
    )
    assert result.exit_code in CONTRACT, (argv, result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr, (argv, result.stderr)
    if result.exit_code == 2:  # an invalid command line: one line, nothing else
        assert result.stdout == "", argv
        assert len(result.stderr.splitlines()) == 1, (argv, result.stderr)
    assert elapsed < SECONDS, (argv, elapsed)


@settings(max_examples=300, deadline=None)
@given(command_lines())
def test_random_command_lines_stay_within_the_contract(argv: list[str]) -> None:
    """Any command line, analytic only: exit 0-3, no traceback, no hang."""
    run_within_contract([*argv, "--no-verify"])


small = st.integers(1, 12).map(str)


@st.composite
def small_verified_lines(draw: st.DrawFn) -> list[str]:
    """A verified command with small sizes and drawn words (verification imports torch)."""
    command = draw(st.sampled_from(["conv", "separable", "spatial", "compare"]))
    argv = [command, "--cin", draw(small), "--cout", draw(small), "-i", draw(small)]
    for option in ("-k", "-p", "-g", "-s", "-d", "--device", "--dtype"):
        if draw(st.booleans()):
            argv += [option, draw(st.one_of(small, st.sampled_from(WORDS[:20])))]
    return argv


@settings(max_examples=25, deadline=None)
@given(small_verified_lines())
def test_random_verified_command_lines_stay_within_the_contract(argv: list[str]) -> None:
    """Small verified runs (torch): exit 0-3, no traceback."""
    run_within_contract(argv)
