"""Issue 10, section 7: what a new user tripped on, each fixed (or answered) and held here."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from convcalc.cli import app
from convcalc.core.config import _toml

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
runner = CliRunner()
COMMANDS = ("conv", "separable", "spatial", "compare", "se", "cbam", "mobilenet")


def invoke(*args: str) -> Result:
    """Run the app in process."""
    return runner.invoke(app, list(args))


def error(result: Result, code: int = 2) -> str:
    """The one error line of a failed run."""
    assert result.exit_code == code, (result.stdout, result.stderr)
    (line,) = result.stderr.splitlines()
    return line


# ---------------------------------------------------------------- parse errors list the forms


@pytest.mark.parametrize(
    ("option", "value", "forms"),
    [
        ("-p", "foo", "padding='foo' is not an integer, HxW (1x0), same or valid"),
        ("-i", "64x", "input='64x' is not an integer or HxW (64x48)"),
        ("-k", "big", "kernel='big' is not an integer, HxW (3x1) or global"),
        ("-s", "2y", "stride='2y' is not an integer or HxW (2x1)"),
        ("-d", "x", "dilation='x' is not an integer or HxW (2x1)"),
    ],
)
def test_parse_errors_list_the_accepted_forms(option: str, value: str, forms: str) -> None:
    """Each error says what the option accepts (``-p foo`` said only 'not an integer')."""
    line = error(invoke("conv", "--cin", "4", "--cout", "8", option, value))
    assert line == f"error: {forms}"


# ---------------------------------------------------------------- --version


def test_version_belongs_to_the_program_and_mobilenet_keeps_its_own() -> None:
    """``convcalc --version`` is the program's; on a command it says where it belongs;
    ``mobilenet --version 2`` still picks MobileNet V2."""
    assert invoke("--version").stdout.startswith("convcalc ")
    line = error(invoke("conv", "--cin", "4", "--cout", "8", "--version"))
    assert "No such option: --version" in line
    assert "convcalc --version, before any command" in line
    v2 = invoke("mobilenet", "--version", "2", "--no-verify", "--value", "params")
    assert v2.stdout == "3504872\n"


# ---------------------------------------------------------------- 80 columns

NARROW = [
    ["mobilenet", "--version", "1"],
    ["mobilenet", "--version", "2"],
    ["mobilenet", "--width", "0.25,0.5,0.75,1.0", "--resolution", "128,224"],
    ["compare", "--cin", "32", "--cout", "64"],
    ["compare", "--cin", "3", "--cout", "5"],
    ["conv", "--cin", "4", "--cout", "8", "--groups", "2"],
    ["separable", "--cin", "32", "--cout", "64", "-p", "1"],
    ["cbam", "--channels", "64", "-i", "56"],
]


@pytest.mark.parametrize("argv", NARROW, ids=[" ".join(a) for a in NARROW])
@pytest.mark.parametrize("columns", ["80", "40"])
def test_tables_never_cut_a_number(argv: list[str], columns: str) -> None:
    """At 80 (and 40) columns no cell is cut (no ``…``); every number of the document shows."""
    result = runner.invoke(app, [*argv, "--no-verify"], env={"COLUMNS": columns})
    assert result.exit_code == 0, result.stderr
    assert "…" not in result.stdout
    if columns == "80":
        assert max(len(line) for line in result.stdout.splitlines()) <= 80
    text = result.stdout
    document = json.loads(invoke(*argv, "--no-verify", "--format", "json").stdout)
    items = document if isinstance(document, list) else document.get("variants", [document])
    from convcalc.render import units

    for item in items:
        assert units.count(item["analytic"]["macs"]) in text


def test_compare_kinds_stay_apart_when_narrow() -> None:
    """Two variants whose kinds start alike are never both cut to ``depth…``."""
    result = runner.invoke(app, ["compare", "--cin", "32", "--cout", "64", "--no-verify"],
                           env={"COLUMNS": "100"})  # fmt: skip
    assert "…" not in result.stdout
    for name in ("depthwise", "depthwise-separable", "shared-kernel"):
        assert name in result.stdout


# ---------------------------------------------------------------- titles and type texts


def test_compare_title_counts_the_rows_shown() -> None:
    """compare 3 -> 5 skips three variants and titles its three rows "built 3 ways"."""
    result = invoke("compare", "--cin", "3", "--cout", "5", "--no-verify")
    assert result.exit_code == 0
    assert "built 3 ways" in result.stdout
    assert len(result.stderr.splitlines()) == 3  # one notice per skipped variant


def test_v2_layer_type_reads_cleanly() -> None:
    """The V2 projection with its residual reads ``conv + bn + residual``."""
    result = invoke("mobilenet", "--version", "2", "--no-verify")
    assert "conv + bn + residual" in result.stdout
    assert "+ +" not in result.stdout


def test_sum_of_layers_says_which_layers() -> None:
    """The MACs formula says it sums the layers with MACs (53), above a 54-row table."""
    result = invoke("mobilenet", "--version", "2", "--no-verify", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    (macs,) = [r for r in rows if r["scope"] == "total" and r["figure"] == "macs"]
    assert macs["formula"] == "sum of the 53 layers with MACs (per-layer table) = 300,774,272"


# ---------------------------------------------------------------- CSV and Markdown


def test_csv_numeric_columns_hold_only_numbers() -> None:
    """``measured`` holds numbers, shapes or nothing; prose goes to ``note``; match is true."""
    result = invoke("separable", "--cin", "4", "--cout", "8", "-i", "8", "--device", "cpu",
                    "--format", "csv")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    number = re.compile(r"^(-?[0-9]+(x[0-9]+)*)?$")
    for row in rows:
        assert number.match(row["measured"]), row
        assert row["match"] in ("true", "false", ""), row
    notes = {row["figure"]: row["note"] for row in rows if row["scope"] == "total"}
    assert notes["bias_adds"] == "not counted by torchinfo"
    assert notes["flops"] == "measured with --cross-check"


def test_sweep_csv_header_is_the_documented_one() -> None:
    """The sweep CSV's header is the one the formats reference documents."""
    result = invoke("mobilenet", "--width", "0.5,1", "--no-verify", "--format", "csv")
    header = result.stdout.splitlines()[0]
    formats = (ROOT / "docs" / "reference" / "json.md").read_text(encoding="utf-8")
    assert f"`{header.replace(',', ', ')}`" in " ".join(formats.split())


def test_markdown_has_the_table_columns() -> None:
    """Markdown's per-layer table has every column of the terminal table but the bar."""
    markdown = invoke("separable", "--cin", "4", "--cout", "8", "-i", "8", "--device", "cpu",
                      "--format", "markdown").stdout  # fmt: skip
    header = markdown.splitlines()[0]
    for column in ("element-wise", "RF", "torchinfo mult-adds", "match", "MACs", "params"):
        assert f"| {column} |" in header
    compare = invoke("compare", "--cin", "4", "--cout", "8", "--no-verify", "--format", "markdown")
    assert "| torchinfo mult-adds |" in compare.stdout.splitlines()[0]


# ---------------------------------------------------------------- JSON


def test_json_says_the_device_used_and_the_budgets() -> None:
    """spec.device is what was asked, spec.device_used where it ran; budgets are in the document."""
    result = invoke("conv", "--cin", "4", "--cout", "8", "-g", "2", "-i", "8", "--format", "json",
                    "--max-params", "100", "--max-macs", "1G")  # fmt: skip
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["spec"]["device"] == "auto"
    assert document["spec"]["device_used"] == document["measured"]["device"]
    assert document["budgets"] == [
        {"figure": "params", "value": 152, "limit": 100, "headroom": -52, "ok": False},
        # 6 x 6 x 8 x (4/2) x 3 x 3 = 5,184
        {"figure": "macs", "value": 5184, "limit": 10**9, "headroom": 10**9 - 5184, "ok": True},
    ]
    unverified = json.loads(invoke("conv", "--cin", "4", "--cout", "8", "--no-verify",
                                   "--format", "json").stdout)  # fmt: skip
    assert unverified["spec"]["device_used"] is None
    assert "budgets" not in unverified
    sweep = json.loads(invoke("mobilenet", "--width", "0.5,1", "--no-verify", "--format", "json",
                              "--max-params", "2M").stdout)  # fmt: skip
    assert [point["budgets"][0]["ok"] for point in sweep] == [True, False]


# ---------------------------------------------------------------- the rest


def test_readme_says_how_to_get_the_cpu_build() -> None:
    """The README no longer promises the CPU build from any index; it says how to get it."""
    assert "--index-url https://download.pytorch.org/whl/cpu" in README


def test_share_kernel_without_groups_is_depthwise() -> None:
    """--share-kernel alone means groups=cin (it was an error); a contrary -g still is one."""
    result = invoke("conv", "--cin", "4", "--cout", "8", "--share-kernel", "-i", "8", "--format",
                    "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["spec"]["groups"] == 4
    assert document["match"] is True
    assert "needs groups=cin=4" in error(
        invoke("conv", "--cin", "4", "--cout", "8", "-g", "2", "--share-kernel")
    )


def test_license_file_and_spdx_license() -> None:
    """An MIT LICENSE file, and project.license as an SPDX string (the table is deprecated)."""
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    project = _toml().loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]


@pytest.mark.parametrize("command", [*COMMANDS, "check", "diff", "batch", None])
def test_help_has_an_example_and_the_cost_of_verification(command: str | None) -> None:
    """Every --help ends with examples and says what verification costs."""
    result = invoke(*([command] if command else []), "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "Examples: convcalc " in text
    assert "about a second and 250 MB" in text


def test_shell_completion_is_offered() -> None:
    """--show-completion prints a completion script (it was rejected)."""
    env = os.environ | {"SHELL": "/bin/bash", "PYTHONPATH": str(ROOT)}
    process = subprocess.run(
        [sys.executable, "-m", "convcalc", "--show-completion", "bash"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr
    assert "_CONVCALC_COMPLETE" in process.stdout
    completion = subprocess.run(
        [sys.executable, "-m", "convcalc"],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=False,
        env=env | {"_CONVCALC_COMPLETE": "complete_bash", "COMP_WORDS": "convcalc mob",
                   "COMP_CWORD": "1"},
    )  # fmt: skip
    assert completion.stdout.split() == ["mobilenet"]
