"""The command line: documents, exit codes and one-line errors, in process and as a real process.

In-process runs use ``typer.testing.CliRunner`` on ``convcalc.cli.app`` (torch
is imported once, so they are cheap); a few runs start ``python -m convcalc``
for real, to check what a shell script sees: exit status, streams, no traceback.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import given
from typer.testing import CliRunner, Result

from convcalc import __version__
from convcalc.cli import app
from convcalc.core.count.figures import analyze
from convcalc.core.documents.checks import Measurement
from convcalc.core.nets.layers import ConvSpec, conv_network
from convcalc.measure import probe
from tests.seeds import SEED_CASES, SeedCase, seed_argv
from tests.strategies import InvalidCase, conv_argv, conv_specs, invalid_cases

ROOT = Path(__file__).resolve().parents[1]
HAS_CUDA = torch.cuda.is_available()
ANSI = re.compile(r"\x1b\[")
GROUPED = ["conv", "--cin", "4", "--cout", "8", "--groups", "2"]  # SPEC.md's example

runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run the app in process (stdout and stderr apart)."""
    return runner.invoke(app, list(args), env=env)


def error_line(result: Result, code: int) -> str:
    """Assert an exit code with exactly one ``error:`` line on stderr and nothing on stdout."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    return lines[0]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m convcalc`` as a real process with piped (non-terminal) streams."""
    return subprocess.run(
        [sys.executable, "-m", "convcalc", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env=clean_env(env),
        timeout=120,
        check=False,
    )


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment without variables that would force colour or change the width."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS")
    }
    return env | (extra or {})


def process_error_line(process: subprocess.CompletedProcess[str], code: int) -> str:
    """Like error_line, for a real process."""
    assert process.returncode == code, (process.returncode, process.stdout, process.stderr)
    assert process.stdout == ""
    assert "Traceback" not in process.stderr
    lines = process.stderr.splitlines()
    assert len(lines) == 1, process.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def json_document(result: Result) -> Any:
    """The one JSON document on stdout."""
    return json.loads(result.stdout)


# ---------------------------------------------------------------- seed cases


@pytest.mark.parametrize("case", SEED_CASES, ids=lambda case: case.id)
def test_seed_case_through_the_cli(case: SeedCase) -> None:
    """Every worked example on the command line gives its figures, analytic and measured."""
    result = invoke(*seed_argv(case), "--format", "json", "--cross-check")
    assert result.exit_code == 0, result.stderr
    document = json_document(result)
    assert document["command"] == case.command
    assert document["match"] is True
    analytic, measured = document["analytic"], document["measured"]
    expect = case.expect
    assert analytic["params"] == measured["params"] == expect["params"]
    if "output_shape" in expect:
        assert analytic["output_shape"] == measured["output_shape"] == expect["output_shape"]
    if "macs" in expect:
        assert analytic["macs"] == expect["macs"]
        assert measured["flop_counter_flops"] == 2 * expect["macs"]
    layers = {layer["name"]: layer for layer in document["layers"]}
    for layer in expect.get("layers", []):
        got = layers[layer["name"]]
        for figure in ("params", "macs", "output_shape"):
            if figure in layer:
                assert got[figure] == layer[figure], (layer["name"], figure)
        if "output_shape" in layer:
            assert got["measured"]["output_shape"] == layer["output_shape"]
    if "standard_macs" in expect:
        assert document["standard"]["macs"] == expect["standard_macs"]
        assert document["standard"]["params"] == expect["standard_params"]


# ---------------------------------------------------------------- exit 0 and the JSON contract


def test_exit_0_spec_example_as_a_process() -> None:
    """``convcalc conv --cin 4 --cout 8 --groups 2`` as typed gives SPEC.md's figures, exit 0."""
    process = run(*GROUPED, "--format", "json", "--device", "cpu")
    assert process.returncode == 0, process.stderr
    assert process.stderr == ""
    document = json.loads(process.stdout)
    analytic = document["analytic"]
    assert analytic["params"] == 152  # 8 x (4/2) x 3 x 3 + 8
    assert analytic["output_shape"] == [1, 8, 222, 222]
    assert analytic["macs"] == 7_096_896  # 222 x 222 x 8 x 2 x 9
    assert analytic["flops"] == 14_193_792
    assert analytic["bias_adds"] == 394_272
    assert document["measured"]["device"] == "cpu"
    assert document["measured"]["params"] == 152
    assert document["measured"]["torchinfo_mult_adds"] == 7_491_168  # 152 x 222 x 222
    assert document["match"] is True


def test_json_contract_keys() -> None:
    """The JSON object has the contract's keys, per-sample values and a verified measurement."""
    result = invoke(*GROUPED, "--batch", "2", "--format", "json", "--cross-check")
    assert result.exit_code == 0, result.stderr
    document = json_document(result)
    assert {"schema", "command", "spec", "analytic", "measured", "match", "layers"} <= set(document)
    assert document["schema"] == 1
    assert document["command"] == "conv"
    spec = document["spec"]
    assert (spec["cin"], spec["cout"], spec["groups"], spec["batch"]) == (4, 8, 2, 2)
    assert spec["kernel"] == [3, 3]
    assert spec["padding"] == [0, 0]
    assert spec["bias"] is True
    analytic = document["analytic"]
    for key in ("params", "trainable_params", "output_shape", "macs", "flops", "bias_adds"):
        assert key in analytic
    assert analytic["macs"] == 2 * 7_096_896
    assert analytic["per_sample"]["macs"] == 7_096_896
    assert analytic["per_sample"]["flops"] == 14_193_792
    measured = document["measured"]
    for key in ("device", "params", "output_shape", "torchinfo_mult_adds", "flop_counter_flops"):
        assert key in measured
    assert measured["flop_counter_flops"] == 2 * 2 * 7_096_896
    assert document["match"] is True
    (layer,) = document["layers"]
    assert {"name", "type", "params", "macs", "output_shape"} <= set(layer)
    assert (layer["type"], layer["params"], layer["output_shape"]) == (
        "Conv2d",
        152,
        [2, 8, 222, 222],
    )


def test_no_verify_has_no_measurement() -> None:
    """With --no-verify, measured and match are null and the analytic figures are unchanged."""
    result = invoke(*GROUPED, "--format", "json", "--no-verify")
    assert result.exit_code == 0
    document = json_document(result)
    assert document["measured"] is None
    assert document["match"] is None
    assert document["analytic"]["params"] == 152


def test_compare_document_has_every_variant_with_its_ratio() -> None:
    """compare has one object per variant; separable's MACs ratio is 1/cout + 1/k^2 (no bias)."""
    result = invoke(
        "compare", "--cin", "4", "--cout", "8", "-p", "same", "--no-bias", "-i", "16",
        "--format", "json", "--cross-check",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    document = json_document(result)
    assert document["command"] == "compare"
    assert document["match"] is True
    variants = {v["variant"]: v for v in document["variants"]}
    assert list(variants) == [
        "standard",
        "grouped",
        "depthwise",
        "depthwise-separable",
        "spatially-separable",
        "shared-kernel",
    ]
    for variant in variants.values():
        assert {"schema", "analytic", "measured", "match", "ratio_to_standard"} <= set(variant)
        assert variant["match"] is True
    # Params by hand, no bias: 8x4x9, 8x2x9, 8x9, 4x9 + 4x8, 4x4x3 + 8x4x3, 2x9.
    params = {name: v["analytic"]["params"] for name, v in variants.items()}
    assert params == {
        "standard": 288,
        "grouped": 144,
        "depthwise": 72,
        "depthwise-separable": 68,
        "spatially-separable": 144,
        "shared-kernel": 18,
    }
    separable = variants["depthwise-separable"]["ratio_to_standard"]
    assert separable["macs"] == pytest.approx(float(Fraction(1, 8) + Fraction(1, 9)))
    assert separable["params"] == pytest.approx(68 / 288)
    assert variants["shared-kernel"]["ratio_to_standard"]["params"] == pytest.approx(18 / 288)


def test_compare_skips_depthwise_when_the_multiplier_is_not_integral() -> None:
    """compare 4 -> 6 skips depthwise and shared-kernel with a notice each on stderr, exit 0."""
    result = invoke("compare", "--cin", "4", "--cout", "6", "--no-verify", "--format", "json")
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "notice: skipped depthwise (cout=6 is not a multiple of cin=4)",
        "notice: skipped shared-kernel (cout=6 is not a multiple of cin=4)",
    ]
    names = [v["variant"] for v in json_document(result)["variants"]]
    assert "depthwise" not in names
    assert "shared-kernel" not in names
    assert names[0] == "standard"


def test_separable_shows_the_standard_it_replaces() -> None:
    """separable's JSON holds the standard conv's figures and the 1/cout + 1/k^2 theory."""
    result = invoke(
        "separable", "--cin", "4", "--cout", "8", "--no-bias", "--no-verify", "--format", "json"
    )
    assert result.exit_code == 0
    document = json_document(result)
    assert document["analytic"]["params"] == 36 + 32
    assert document["standard"]["params"] == 288
    assert document["ratio_theory"]["value"] == pytest.approx(1 / 8 + 1 / 9)


def test_big_conv_notice_goes_to_stderr_and_the_document_to_stdout() -> None:
    """The 64 x 256 x 1024 x 1024 conv verifies on meta: notice on stderr, only JSON on stdout."""
    result = invoke(
        "conv", "--cin", "256", "--cout", "256", "-p", "1", "-i", "1024", "-b", "64",
        "--device", "cpu", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    (notice,) = result.stderr.splitlines()
    assert notice.startswith("notice:")
    assert "meta" in notice
    document = json_document(result)
    assert document["measured"]["device"] == "meta"
    assert document["match"] is True
    assert document["analytic"]["macs"] == 64 * 1024 * 1024 * 256 * 256 * 9


def test_csv_format() -> None:
    """CSV has a header and one row per figure with analytic, measured and match."""
    result = invoke(*GROUPED, "--format", "csv", "--device", "cpu")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["scope", "figure", "analytic", "measured", "match", "formula", "note"]
    by_figure = {row["figure"]: row for row in rows if row["scope"] == "total"}
    assert by_figure["params"]["analytic"] == by_figure["params"]["measured"] == "152"
    assert by_figure["params"]["match"] == "true"
    assert by_figure["params"]["formula"] == "8 x (4/2) x 3 x 3 + 8 = 152"
    assert by_figure["output_shape"]["analytic"] == "1x8x222x222"
    assert by_figure["macs"]["analytic"] == "7096896"


def test_markdown_format() -> None:
    """Markdown is a pipe table with the params row filled in and no ANSI codes."""
    result = invoke(*GROUPED, "--format", "markdown", "--device", "cpu")
    assert result.exit_code == 0
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("| quantity | analytic |")
    assert lines[1].startswith("| --- |")
    assert all(line.startswith("|") and line.endswith("|") for line in lines)
    assert "| params | 152 | 152 | ✓ | 8 x (4/2) x 3 x 3 + 8 = 152 |" in lines
    assert not ANSI.search(result.stdout)


def test_format_is_case_insensitive() -> None:
    """--format JSON is the same as --format json."""
    result = invoke(*GROUPED, "--format", "JSON", "--no-verify")
    assert result.exit_code == 0
    assert json_document(result)["analytic"]["params"] == 152


def test_version() -> None:
    """--version prints the package version and exits 0."""
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout == f"convcalc {__version__}\n"
    process = run("--version")
    assert (process.returncode, process.stdout) == (0, f"convcalc {__version__}\n")


def test_bare_command_prints_the_help() -> None:
    """``convcalc`` alone prints the help (usage and every command) on stdout and exits 0."""
    result = invoke()
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage:")
    for command in ("conv", "separable", "spatial", "compare", "se", "cbam", "mobilenet"):
        assert re.search(rf"^\s+{command}\s", result.stdout, re.MULTILINE), command
    assert result.stderr == ""


def test_help_mentions_the_costs() -> None:
    """conv --help offers --no-verify and --cross-check and says what they cost."""
    result = invoke("conv", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "--no-verify" in text
    assert "never imports torch" in text
    assert "--cross-check" in text


def test_table_is_plain_when_not_a_terminal() -> None:
    """The default table, piped, has no ANSI escape codes and shows the formula."""
    result = invoke(*GROUPED, "--device", "cpu")
    assert result.exit_code == 0
    assert not ANSI.search(result.stdout)
    assert "8 x (4/2) x 3 x 3 + 8 = 152" in result.stdout
    process = run(*GROUPED, "--no-verify")
    assert process.returncode == 0
    assert not ANSI.search(process.stdout)
    assert "8 x (4/2) x 3 x 3 + 8 = 152" in process.stdout


def _run_on_a_terminal(*args: str, env: dict[str, str]) -> str:
    """Run convcalc with stdout on a pseudo-terminal and return what it wrote there."""
    pty = pytest.importorskip("pty")
    try:
        leader, follower = pty.openpty()
    except OSError as exc:  # containers without /dev/ptmx
        pytest.skip(f"no pseudo-terminal here: {exc}")
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "convcalc", *args],
            stdout=follower,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env=clean_env(env),
        )
    finally:
        os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the terminal closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=120) == 0
    assert process.stderr is not None
    process.stderr.close()
    return b"".join(chunks).decode("utf-8")


COLOUR = re.compile(r"\x1b\[[0-9;]*(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_no_color_on_a_terminal_has_no_colour() -> None:
    """With NO_COLOR set, a terminal gets no colour codes (a control run without it does)."""
    coloured = _run_on_a_terminal(*GROUPED, "-i", "16", "--device", "cpu", env={"TERM": "xterm"})
    assert COLOUR.search(coloured), "control: a terminal without NO_COLOR should get colour"
    plain = _run_on_a_terminal(
        *GROUPED, "-i", "16", "--device", "cpu", env={"TERM": "xterm", "NO_COLOR": "1"}
    )
    assert not COLOUR.search(plain)


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_no_color_on_a_terminal_is_plain() -> None:
    """With NO_COLOR set, a terminal gets no ANSI escape codes at all."""
    plain = _run_on_a_terminal(*GROUPED, "--no-verify", env={"TERM": "xterm", "NO_COLOR": "1"})
    assert not ANSI.search(plain), sorted(set(re.findall(r"\x1b\[[0-9;]*m", plain)))


# ---------------------------------------------------------------- exit 1: checks and budgets


@pytest.mark.parametrize(
    ("option", "limit", "message"),
    [
        # 152 - 100 = 52 over, 52% of 100.
        ("--max-params", "100", "params 152 > --max-params 100 (over by 52, 52.0%)"),
        ("--max-params", "151", "params 152 > --max-params 151 (over by 1, 0.7%)"),
        # 7,096,896 - 7,000,000 = 96,896 over, 1.38% of 7M.
        ("--max-macs", "7M", "macs 7,096,896 > --max-macs 7,000,000 (over by 96,896, 1.4%)"),
        # 14,193,792 - 14,000,000 = 193,792 over.
        ("--max-flops", "14M", "flops 14,193,792 > --max-flops 14,000,000 (over by 193,792, 1.4%)"),
    ],
)
def test_exit_1_budget_exceeded_names_the_figure_and_the_excess(
    option: str, limit: str, message: str
) -> None:
    """A budget exceeded exits 1 with one error line naming the figure and by how much."""
    result = invoke(*GROUPED, "--no-verify", "--format", "json", option, limit)
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line == f"error: budget exceeded: {message}"
    assert json_document(result)["analytic"]["params"] == 152  # the document is still out


@pytest.mark.parametrize(
    "budgets",
    [
        ["--max-params", "152"],  # equal is within
        ["--max-params", "1.5M", "--max-macs", "600M", "--max-flops", "2G"],
        ["--max-macs", "7096896", "--max-flops", "14193792"],
        ["--max-macs", "1e7"],
    ],
)
def test_budgets_met_exit_0(budgets: list[str]) -> None:
    """Figures at or under their budgets exit 0."""
    result = invoke(*GROUPED, "--no-verify", *budgets)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""


def test_exit_1_budget_as_a_process() -> None:
    """A real process over budget exits 1 with the document on stdout and one error line."""
    process = run(*GROUPED, "--no-verify", "--format", "json", "--max-params", "100")
    assert process.returncode == 1
    assert json.loads(process.stdout)["analytic"]["params"] == 152
    assert process.stderr.splitlines() == [
        "error: budget exceeded: params 152 > --max-params 100 (over by 52, 52.0%)"
    ]


def test_exit_1_when_analytic_and_measured_disagree(monkeypatch: pytest.MonkeyPatch) -> None:
    """A measurement that disagrees exits 1 and names the figure with both values."""
    real = probe.measure

    def one_too_many(*args: Any, **kwargs: Any) -> Measurement:
        measured = real(*args, **kwargs)
        return dataclasses.replace(measured, params=measured.params + 1)

    monkeypatch.setattr(probe, "measure", one_too_many)
    result = invoke(*GROUPED, "-i", "16", "--format", "json")
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: analytic and measured figures disagree")
    assert "params analytic 152, measured 153" in line
    assert json_document(result)["match"] is False


# ---------------------------------------------------------------- exit 2: invalid specs

INVALID = [
    # non-positive or non-integer sizes
    (["conv", "--cin", "0", "--cout", "8"], "cin=0 must be a positive integer"),
    (["conv", "--cin", "-3", "--cout", "8"], "cin=-3 must be a positive integer"),
    (["conv", "--cin", "4", "--cout", "0"], "cout=0 must be a positive integer"),
    (["conv", "--cin", "1.5", "--cout", "8"], "cin='1.5' is not an integer"),
    (["conv", "--cin", "4", "--cout", "eight"], "cout='eight' is not an integer"),
    (["conv", "--cin", "4", "--cout", "8", "-b", "0"], "batch=0 must be a positive integer"),
    (["conv", "--cin", "4", "--cout", "8", "-b", "2.5"], "batch='2.5' is not an integer"),
    (["conv", "--cin", "4", "--cout", "8", "-i", "0"], "input=0 must be a positive integer"),
    (["conv", "--cin", "4", "--cout", "8", "-i", "64x0"], "input=0 must be a positive integer"),
    (["conv", "--cin", "4", "--cout", "8", "-i", "64.5"], "input='64.5' is not an integer"),
    (["conv", "--cin", "4", "--cout", "8", "-k", "0"], "kernel=0 must be a positive integer"),
    (["conv", "--cin", "4", "--cout", "8", "-s", "0"], "stride=0 must be a positive integer"),
    (["conv", "--cin", "4", "--cout", "8", "-d", "0"], "dilation=0 must be a positive integer"),
    (["conv", "--cin", "4", "--cout", "8", "-g", "0"], "groups=0 must be a positive integer"),
    # groups not dividing (SPEC's own example line)
    (["conv", "--cin", "4", "--cout", "8", "-g", "3"], "groups=3 must divide cin=4 and cout=8"),
    (["conv", "--cin", "4", "--cout", "6", "-g", "4"], "groups=4 must divide cin=4 and cout=6"),
    (["separable", "--cin", "4", "--cout", "6", "-g", "4"], "groups=4 must divide"),
    # depthwise multiplier not integral / shared kernel needs depthwise
    (["conv", "--cin", "4", "--cout", "8", "-g", "2", "--share-kernel"], "needs groups=cin=4"),
    (["conv", "--cin", "4", "--cout", "6", "-g", "2", "--share-kernel"], "needs groups=cin=4"),
    # kernel (effective, with dilation) larger than the padded input
    (["conv", "--cin", "4", "--cout", "8", "-k", "7", "-i", "5"], "effective kernel 7"),
    (["conv", "--cin", "4", "--cout", "8", "-k", "3", "-d", "4", "-i", "8"], "effective kernel 9"),
    (["conv", "--cin", "4", "--cout", "8", "-k", "9", "-p", "1", "-i", "6"], "padded input 8"),
    (["conv", "--cin", "4", "--cout", "8", "-k", "3x9", "-i", "8"], "effective kernel 9"),
    (
        ["conv", "--cin", "4", "--cout", "8", "-k", "global", "-d", "2", "-i", "5"],
        "effective kernel 9",
    ),
    (["spatial", "--cin", "1", "--cout", "1", "-k", "7", "-i", "5"], "effective kernel 7"),
    (["compare", "--cin", "4", "--cout", "8", "-k", "9", "-i", "5"], "effective kernel 9"),
    # same padding with stride > 1
    (["conv", "--cin", "4", "--cout", "8", "-p", "same", "-s", "2"], "padding=same needs stride 1"),
    (["separable", "--cin", "4", "--cout", "8", "-p", "same", "-s", "1x2"], "needs stride 1"),
    (["conv", "--cin", "4", "--cout", "8", "-k", "global", "-p", "1"], "takes no padding"),
    # unknown formats, devices, dtypes
    (["conv", "--cin", "4", "--cout", "8", "--format", "xml"], "format='xml'"),
    (["conv", "--cin", "4", "--cout", "8", "--device", "gpu"], "device='gpu'"),
    (["conv", "--cin", "4", "--cout", "8", "--dtype", "int8"], "dtype='int8'"),
    # malformed budgets
    (["conv", "--cin", "4", "--cout", "8", "--max-params", "1.5X"], "max-params='1.5X'"),
    (["conv", "--cin", "4", "--cout", "8", "--max-params", "1.5"], "not a whole number"),
    (["conv", "--cin", "4", "--cout", "8", "--max-macs", "-5"], "max-macs='-5'"),
    (["conv", "--cin", "4", "--cout", "8", "--max-flops", "lots"], "max-flops='lots'"),
    # bad kernel and padding strings
    (["conv", "--cin", "4", "--cout", "8", "-k", "3x3x3"], "kernel='3x3x3'"),
    (["conv", "--cin", "4", "--cout", "8", "-k", "x3"], "kernel='x3'"),
    (["conv", "--cin", "4", "--cout", "8", "-k", "globl"], "kernel='globl'"),
    (["conv", "--cin", "4", "--cout", "8", "-p", "foo"], "padding='foo'"),
    (["conv", "--cin", "4", "--cout", "8", "-p", "-1"], "padding=-1 must be zero or more"),
    (["conv", "--cin", "4", "--cout", "8", "-p", "1x"], "padding='1x'"),
    # the command line itself
    (["conv", "--cin", "4", "--cout", "8", "--no-verify", "--cross-check"], "--cross-check"),
    (["conv", "--cin", "4"], "Missing option '--cout'"),
    (["conv", "--cin", "4", "--cout", "8", "--bogus"], "No such option: --bogus"),
    (["frobnicate"], "No such command"),
]


@pytest.mark.parametrize(("argv", "message"), INVALID, ids=[" ".join(a) for a, _ in INVALID])
def test_exit_2_invalid_spec_is_one_error_line(argv: list[str], message: str) -> None:
    """Each invalid spec or command line exits 2 with one clear error line and no traceback."""
    line = error_line(invoke(*argv), 2)
    assert message in line


def test_exit_2_spec_example_message_exactly() -> None:
    """SPEC.md's example error is printed exactly as written there."""
    result = invoke("conv", "--cin", "4", "--cout", "8", "--groups", "3")
    assert error_line(result, 2) == "error: groups=3 must divide cin=4 and cout=8"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["conv", "--cin", "4", "--cout", "8", "--groups", "3"],
            "groups=3 must divide cin=4 and cout=8",
        ),
        (["conv", "--cin", "4", "--cout", "8", "--format", "xml"], "format='xml'"),
        (["conv", "--cin", "4", "--cout", "8", "--max-params", "1.5X"], "max-params='1.5X'"),
        (["conv", "--cin", "abc", "--cout", "8"], "cin='abc' is not an integer"),
        (
            ["conv", "--cin", "4", "--cout", "8", "-k", "3", "-d", "4", "-i", "8"],
            "effective kernel 9",
        ),
        (["conv", "--cin", "4", "--cout", "8", "-p", "same", "-s", "2"], "needs stride 1"),
    ],
)
def test_exit_2_as_a_process(argv: list[str], message: str) -> None:
    """A real process with an invalid spec exits 2: one stderr line, empty stdout, no traceback."""
    assert message in process_error_line(run(*argv), 2)


@given(invalid_cases())
def test_random_invalid_specs_exit_2(case: InvalidCase) -> None:
    """Any single invalid option exits 2 with one error line that names the option at fault."""
    line = error_line(invoke(*case.argv, "--no-verify"), 2)
    assert case.keyword in line.lower(), (case.reason, line)


@given(conv_specs())
def test_random_valid_specs_exit_0_with_the_core_figures(spec: ConvSpec) -> None:
    """Any valid spec exits 0 and its JSON carries the core's analytic figures."""
    result = invoke(*conv_argv(spec), "--no-verify", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    totals = analyze(conv_network(spec)).totals
    analytic = json_document(result)["analytic"]
    assert analytic["params"] == totals.params
    assert analytic["macs"] == totals.macs
    assert analytic["output_shape"] == list(totals.output_shape)


# ---------------------------------------------------------------- exit 3: environment


@pytest.mark.skipif(HAS_CUDA, reason="CUDA is present here")
def test_exit_3_cuda_without_cuda() -> None:
    """--device cuda without CUDA exits 3 with one error line, in process and as a process."""
    line = error_line(invoke(*GROUPED, "--device", "cuda"), 3)
    assert "CUDA is not available" in line
    assert "CUDA" in process_error_line(run(*GROUPED, "--device", "cuda"), 3)


def test_exit_3_when_torch_is_missing() -> None:
    """A verified run without torch exits 3 with one line pointing to --no-verify; no traceback."""
    code = (
        "import sys\n"
        "sys.modules['torch'] = None  # make 'import torch' fail as if it were not installed\n"
        "from convcalc.cli import main\n"
        "sys.argv = ['convcalc', 'conv', '--cin', '4', '--cout', '8', '-i', '8']\n"
        "main()\n"
    )
    process = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=clean_env(),
        timeout=120,
        check=False,
    )
    line = process_error_line(process, 3)
    assert "torch" in line
    assert "--no-verify" in line


def test_even_kernel_same_padding_prints_nothing_but_the_document() -> None:
    """padding=same with an even kernel verifies silently: torch's padding warning is not shown."""
    process = run(
        "conv", "--cin", "2", "--cout", "2", "-k", "2x4", "-p", "same", "-i", "5",
        "--device", "cpu", "--format", "json",
    )  # fmt: skip
    assert process.returncode == 0, process.stderr
    assert process.stderr == ""
    document = json.loads(process.stdout)
    assert document["match"] is True
    assert document["measured"]["output_shape"] == [1, 2, 5, 5]


HUGE = str(10**20)  # beyond torch's int64 sizes


@pytest.mark.parametrize(
    "argv",
    [
        ["conv", "--cin", str(10**10), "--cout", str(10**10), "-i", "8"],
        ["conv", "--cin", "4", "--cout", "8", "-b", HUGE, "-i", "8"],
        ["conv", "--cin", "4", "--cout", "8", "-k", HUGE, "-p", "same", "-i", "8"],
        ["conv", "--cin", "4", "--cout", "8", "-s", HUGE, "-i", "8"],
        ["conv", "--cin", "4", "--cout", "8", "-d", HUGE, "-p", "same", "-i", "8"],
        ["conv", "--cin", "4", "--cout", "8", "-i", str(2**40)],
    ],
    ids=["channels", "batch", "kernel", "stride", "dilation", "input"],
)
def test_exit_3_sizes_torch_cannot_hold(argv: list[str]) -> None:
    """Sizes past torch's 64-bit limits exit 3 in one line pointing to --no-verify, which works."""
    line = error_line(invoke(*argv, "--device", "cpu"), 3)
    assert "64-bit" in line
    assert "--no-verify" in line
    result = invoke(*argv, "--no-verify", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json_document(result)["analytic"]["params"] > 0


def test_the_command_line_builds_only_the_command_it_names() -> None:
    """Typer builds a click command per registered command: a line naming one builds
    only it (17 ms of a --no-verify run saved); help and unknown names get the whole
    group, and the app's own registry is never changed (a copy of the group is built)."""
    from convcalc.cli.app import _click_command, app

    every = list(app.registered_commands)
    assert list(_click_command(["conv", "--cin", "4"]).commands) == ["conv"]
    assert app.registered_commands == every
    for argv in (["--help"], ["cnov"], []):
        assert len(_click_command(argv).commands) == len(every)
