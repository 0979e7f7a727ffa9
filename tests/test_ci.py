"""The CI workflow: ``check`` (budgets and baselines), ``diff``, ``batch`` and ``--value``.

Most runs are in process (CliRunner on the app, torch imported once); a few
start ``python -m convcalc`` to check what a CI job sees, and the batch
identity test runs each sampled line alone, as a real process, to compare.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import convcalc
from convcalc.cli import app
from convcalc.core.documents import config as core_config
from convcalc.core.documents.diff import parse_tolerance
from convcalc.errors import InvalidSpecError

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()

# Three entries, as a new user writes them from the README (widths 0.75 in budget).
PYPROJECT = """\
[project]
name = "demo"

[tool.convcalc.budgets.mobilenet]
command = "mobilenet --width 0.75"
max-params = "3M"
max-macs = 350_000_000

[tool.convcalc.budgets.stem]
command = "conv --cin 3 --cout 32 -k 3 -s 2 -p 1 -i 64"
max-params = 1000
max-flops = "2.5M"

[tool.convcalc.budgets.block]
command = "separable --cin 32 --cout 64 -p 1 -i 28"
max-activation-bytes = "1M"
"""


def invoke(*args: str, cwd: Path | None = None, stdin: str | None = None) -> Result:
    """Run the app in process, in ``cwd`` when given."""
    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return runner.invoke(app, list(args), input=stdin)
    finally:
        os.chdir(old)


def error_lines(result: Result) -> list[str]:
    """The ``error:`` lines on stderr (no traceback allowed)."""
    assert "Traceback" not in result.stderr
    return [line for line in result.stderr.splitlines() if line.startswith("error: ")]


def project(tmp_path: Path, text: str = PYPROJECT, name: str = "pyproject.toml") -> Path:
    """A project directory with that configuration file."""
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


# ---------------------------------------------------------------- check


def test_check_passes_then_fails_naming_the_entry(tmp_path: Path) -> None:
    """Three entries within budget exit 0 with one table; a wider MobileNet exits 1 naming it."""
    root = project(tmp_path)
    result = invoke("check", cwd=root)
    assert result.exit_code == 0, result.stderr
    for header in ("entry", "figure", "value", "budget", "headroom"):
        assert header in result.stdout
    for entry in ("mobilenet", "stem", "block"):
        assert entry in result.stdout
    assert "2,585,560" in result.stdout  # MobileNet V1 0.75-224 params, exact
    project(tmp_path, PYPROJECT.replace("--width 0.75", "--width 0.8"))
    result = invoke("check", cwd=root)
    assert result.exit_code == 1
    (line,) = error_lines(result)
    assert line.startswith("error: budget exceeded: mobilenet: macs 366,538,928 > max-macs")
    assert "stem" not in line
    assert "block" not in line
    assert "OVER" in result.stdout


def test_check_names_each_excess(tmp_path: Path) -> None:
    """Every excess of every entry is in the one error line."""
    text = PYPROJECT.replace("max-params = 1000", "max-params = 800").replace('"1M"', '"100K"')
    result = invoke("check", cwd=project(tmp_path, text))
    assert result.exit_code == 1
    (line,) = error_lines(result)
    assert "stem: params 896 > max-params 800 (over by 96, 12.0%)" in line
    assert "block: activation_bytes" in line
    assert "mobilenet" not in line


def test_check_reads_convcalc_toml_without_the_tool_prefix(tmp_path: Path) -> None:
    """convcalc.toml holds the same tables without ``tool.convcalc.``, and wins over pyproject."""
    own = '[budgets.tiny]\ncommand = "conv --cin 4 --cout 8 -g 2 -i 8"\nmax-params = 152\n'
    project(tmp_path, own, "convcalc.toml")
    project(tmp_path, PYPROJECT.replace("3M", "1"))  # would fail if it were read
    (tmp_path / "sub").mkdir()
    result = invoke("check", cwd=tmp_path / "sub")  # found from a subdirectory upwards
    assert result.exit_code == 0, result.stderr
    assert "tiny" in result.stdout
    assert "mobilenet" not in result.stdout


def test_check_json_document(tmp_path: Path) -> None:
    """--format json gives each entry's verdicts with headroom, and ok."""
    result = invoke("check", "--format", "json", cwd=project(tmp_path))
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["command"] == "check"
    assert document["ok"] is True
    entries = {e["name"]: e for e in document["entries"]}
    (params, macs) = entries["mobilenet"]["budgets"]
    assert params == {
        "figure": "params",
        "value": 2_585_560,
        "limit": 3_000_000,
        "headroom": 414_440,
        "ok": True,
        "point": "",
    }
    assert macs["figure"] == "macs"


MALFORMED = [
    (
        '[tool.convcalc.budgets.a]\ncommand = "conv --cin 4 --cout 8"\nmax-param = 5\n',
        "[tool.convcalc.budgets.a]: unknown key 'max-param'",
    ),
    (
        "[tool.convcalc.budgets.a]\nmax-params = 5\n",
        "[tool.convcalc.budgets.a]: command: must be a command line",
    ),
    (
        '[tool.convcalc.budgets.a]\ncommand = "conv --cin 4 --cout 8"\nmax-params = "lots"\n',
        "[tool.convcalc.budgets.a]: max-params: budget='lots' is not a count",
    ),
    (
        '[tool.convcalc.budgets.a]\ncommand = "conv --cin 4 --cout 8"\nmax-macs = -1\n',
        "[tool.convcalc.budgets.a]: max-macs: -1 must be zero or more",
    ),
    (
        '[tool.convcalc.budgets.a]\ncommand = "conv --cin 4 --cout 8"\nmax-macs = true\n',
        "[tool.convcalc.budgets.a]: max-macs: True is not a count",
    ),
    (
        '[tool.convcalc.budgets.a]\ncommand = "conv --cin 4 --cout 8 -g 3"\n',
        "[tool.convcalc.budgets.a]: command: groups=3 must divide cin=4 and cout=8",
    ),
    (
        '[tool.convcalc.budgets.a]\ncommand = "conv --cin 4 --cout 8 --format csv"\n',
        "[tool.convcalc.budgets.a]: command: drop --format",
    ),
    (
        '[tool.convcalc.budgets.a]\ncommand = "check"\n',
        "[tool.convcalc.budgets.a]: command: 'check' runs command lines itself",
    ),
    (
        '[tool.convcalc.budgets.a]\ncommand = "frobnicate"\n',
        "[tool.convcalc.budgets.a]: command: No such command 'frobnicate'",
    ),
    ("[tool.convcalc]\nbudget = 1\n", "[tool.convcalc]: unknown key 'budget'"),
    (
        '[tool.convcalc]\ntolerance = "1"\n'
        '[tool.convcalc.budgets.a]\ncommand = "se --channels 32"\n',
        "[tool.convcalc]: tolerance: tolerance='1' is not a percentage",
    ),
    ("[tool.convcalc.budgets]\n", "[tool.convcalc.budgets]: no budget entries"),
    ("[tool.convcalc.budgets.a\n", "invalid TOML"),
    ("[tool.convcalc.budgets]\na = 3\n", "[tool.convcalc.budgets.a]: must be a table"),
]


@pytest.mark.parametrize(("text", "message"), MALFORMED, ids=[m for _, m in MALFORMED])
def test_check_malformed_config_exits_2_naming_file_entry_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    """A malformed configuration is one error line naming the file, the entry and the key."""
    result = invoke("check", "--config", str(project(tmp_path, text) / "pyproject.toml"))
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    (line,) = error_lines(result)
    assert "pyproject.toml" in line
    assert message in line


def test_check_without_a_config_exits_2(tmp_path: Path) -> None:
    """No configuration anywhere up the tree: exit 2 saying what to add."""
    result = invoke("check", cwd=tmp_path)
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert "[tool.convcalc.budgets.NAME]" in line


def test_config_budget_forms() -> None:
    """Budgets are integers, integral floats or strings with K/M/G; tolerances need %."""
    assert core_config._limit(350_000_000, "x") == 350_000_000
    assert core_config._limit(3e6, "x") == 3_000_000
    assert core_config._limit("1.5M", "x") == 1_500_000
    with pytest.raises(InvalidSpecError, match="not a whole count"):
        core_config._limit(1.5, "x")
    assert parse_tolerance("1%") == pytest.approx(0.01)
    assert parse_tolerance("0") == 0
    with pytest.raises(InvalidSpecError):
        parse_tolerance("1")


def test_check_baseline_update_then_growth(tmp_path: Path) -> None:
    """--update-baseline writes the documents; a 1%-tolerant check then fails on growth only."""
    text = PYPROJECT.replace("[tool.convcalc.budgets.mobilenet]",
                             '[tool.convcalc]\nbaseline = "base.json"\ntolerance = "1%"\n\n'
                             "[tool.convcalc.budgets.mobilenet]")  # fmt: skip
    text = text.replace("max-macs = 350_000_000", "max-macs = 400_000_000")
    root = project(tmp_path, text)
    result = invoke("check", "--update-baseline", cwd=root)
    assert result.exit_code == 0, result.stderr
    baseline = json.loads((root / "base.json").read_text())
    assert set(baseline["baseline"]) == {"mobilenet", "stem", "block"}
    assert invoke("check", cwd=root).exit_code == 0  # unchanged: within the baseline
    project(tmp_path, text.replace("--width 0.75", "--width 0.76"))  # +1.5% params
    result = invoke("check", cwd=root)
    assert result.exit_code == 1
    (line,) = error_lines(result)
    assert "grew past the 1.00% tolerance: mobilenet: params 2,585,560 ->" in line
    assert "budget exceeded" not in line  # still within every budget
    grown = invoke("check", "--tolerance", "5%", cwd=root)
    assert grown.exit_code == 0, grown.stderr


# A small project for the baseline tests: one quick entry (no verification).
SMALL = """\
[tool.convcalc.budgets.block]
command = "separable --cin 32 --cout 64 -p 1 -i 28 --no-verify"
"""


def test_check_compares_with_the_default_baseline_file(tmp_path: Path) -> None:
    """--update-baseline writes convcalc-baseline.json beside the config; a plain check then
    compares with it (it ignored it, so a model that grew passed)."""
    root = project(tmp_path, SMALL)
    written = invoke("check", "--update-baseline", cwd=root)
    assert written.exit_code == 0, written.stderr
    assert (root / "convcalc-baseline.json").is_file()
    same = invoke("check", cwd=root)
    assert same.exit_code == 0, same.stderr
    assert "vs baseline" in same.stdout
    project(tmp_path, SMALL.replace("--cout 64", "--cout 66"))  # +3% params and MACs
    grown = invoke("check", cwd=root)
    assert grown.exit_code == 1
    (line,) = error_lines(grown)
    assert "grew past the 0.00% tolerance: block: params" in line


def test_check_baseline_of_another_command_names_the_entry(tmp_path: Path) -> None:
    """An entry whose baseline document is of another command (its command line changed)
    is one error line naming the entry and --update-baseline, exit 2, nothing on stdout
    (it said only what core.documents.diff says of two documents, with no entry and no way out)."""
    root = project(tmp_path, SMALL)
    assert invoke("check", "--update-baseline", cwd=root).exit_code == 0
    project(tmp_path, SMALL.replace("separable --cin 32", "spatial --cin 32"))
    result = invoke("check", cwd=root)
    assert result.exit_code == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: baseline ")
    assert "entry 'block' is not comparable" in line
    assert "a separable report and a spatial report" in line
    assert "--update-baseline" in line
    rewritten = invoke("check", "--update-baseline", cwd=root)  # the way out it names
    assert rewritten.exit_code == 0, rewritten.stderr
    assert invoke("check", cwd=root).exit_code == 0


@pytest.mark.parametrize("output", ["csv", "markdown"])
def test_check_writes_the_formats_it_advertises(tmp_path: Path, output: str) -> None:
    """check --format csv and markdown give the table's rows (they were advertised, then
    refused with exit 2)."""
    result = invoke("check", "--format", output, cwd=project(tmp_path, SMALL))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    if output == "csv":
        assert lines[0] == "entry,figure,value,budget,headroom,status"
        params = convcalc.analyze(convcalc.separable(32, 64, padding=1, input=28)).params
        assert lines[1] == f"block,params,{params},-,-,-"  # a bare integer, for a spreadsheet
    else:
        assert lines[0] == "| entry | figure | value | budget | headroom | status |"
        assert lines[2].startswith("| block | params | ")
    # params and macs (no budget set: the two headline figures), after the header lines
    assert len(lines) == (3 if output == "csv" else 4)


@pytest.mark.parametrize("where", [".", "missing/base.json"])
def test_check_update_baseline_to_an_unwritable_path_is_one_error(
    tmp_path: Path, where: str
) -> None:
    """--update-baseline --baseline . is refused before any entry runs: one error line,
    nothing on stdout (it printed the whole table, then exited 3)."""
    root = project(tmp_path, SMALL)
    result = invoke("check", "--update-baseline", "--baseline", where, cwd=root)
    assert result.exit_code == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: baseline ")


def test_check_explicit_missing_baseline_exits_2(tmp_path: Path) -> None:
    """--baseline naming a file that is not there is an error, not an empty comparison."""
    result = invoke("check", "--baseline", str(tmp_path / "nope.json"), cwd=project(tmp_path))
    assert result.exit_code == 2
    assert "nope.json" in error_lines(result)[0]


def test_check_as_a_process(tmp_path: Path) -> None:
    """A real ``convcalc check`` in a project directory: exit 0, the table on stdout."""
    root = project(tmp_path)
    process = subprocess.run(
        [sys.executable, "-m", "convcalc", "check"],
        capture_output=True, text=True, cwd=root, timeout=300, check=False,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert process.returncode == 0, process.stderr
    assert "mobilenet" in process.stdout


# ---------------------------------------------------------------- diff


def write_document(path: Path, *args: str) -> Path:
    """``convcalc ARGS --format json --no-verify`` into path."""
    result = invoke(*args, "--format", "json", "--no-verify")
    assert result.exit_code == 0, result.stderr
    path.write_text(result.stdout, encoding="utf-8")
    return path


def test_diff_two_mobilenet_widths(tmp_path: Path) -> None:
    """Width 1.0 -> 1.02 grows MACs by more than 1% (exit 1); -> 1.005 by less (exit 0)."""
    old = write_document(tmp_path / "old.json", "mobilenet")
    over = write_document(tmp_path / "over.json", "mobilenet", "--width", "1.02")
    under = write_document(tmp_path / "under.json", "mobilenet", "--width", "1.005")
    result = invoke("diff", str(old), str(over), "--tolerance", "1%")
    assert result.exit_code == 1
    (line,) = error_lines(result)
    assert line.startswith("error: grew past the 1.00% tolerance: params 4,231,976 ->")
    assert "macs 568,740,352 ->" in line
    assert "pw13" in result.stdout  # layer by layer, by name
    result = invoke("diff", str(old), str(under), "--tolerance", "1%")
    assert result.exit_code == 0, result.stderr
    assert "macs" in result.stdout  # still printed: it changed, within the tolerance


def test_diff_same_document_and_shrinking(tmp_path: Path) -> None:
    """No change: says so, exit 0. A smaller model never fails."""
    old = write_document(tmp_path / "old.json", "mobilenet", "--generation", "2")
    small = write_document(
        tmp_path / "small.json", "mobilenet", "--generation", "2", "--width", ".5"
    )
    same = invoke("diff", str(old), str(old))
    assert same.exit_code == 0
    assert "no figure changed" in same.stdout
    shrunk = invoke("diff", str(old), str(small), "--format", "json")
    assert shrunk.exit_code == 0
    document = json.loads(shrunk.stdout)
    assert document["grew"] is False
    params = next(c for c in document["changes"] if c["figure"] == "params" and not c["layer"])
    assert params["old"] == 3_504_872


def test_diff_sweeps_pair_by_point_and_compare_by_variant(tmp_path: Path) -> None:
    """Sweep points pair by (width, resolution); compare variants by name; new points listed."""
    old = write_document(tmp_path / "a.json", "mobilenet", "--width", "0.5,1")
    new = write_document(tmp_path / "b.json", "mobilenet", "--width", "0.5,1,1.25")
    result = invoke("diff", str(old), str(new), "--no-layers")
    assert result.exit_code == 0, result.stderr
    assert "width 1.25 at 224" in result.stdout
    assert "new" in result.stdout
    a = write_document(tmp_path / "c.json", "compare", "--cin", "8", "--cout", "16")
    b = write_document(tmp_path / "d.json", "compare", "--cin", "8", "--cout", "32")
    result = invoke("diff", str(a), str(b), "--no-layers", "--tolerance", "200%")
    assert result.exit_code == 0, result.stderr
    assert "depthwise-separable" in result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [("not json", "is not a JSON document"), ('{"a": 1}', "is not a convcalc document")],
)
def test_diff_rejects_what_is_not_a_document(tmp_path: Path, content: str, message: str) -> None:
    """A file that is not a convcalc document exits 2 in one line."""
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    good = write_document(tmp_path / "good.json", "se", "--channels", "16")
    result = invoke("diff", str(good), str(bad))
    assert result.exit_code == 2
    assert message in error_lines(result)[0]
    missing = invoke("diff", str(good), str(tmp_path / "missing.json"))
    assert missing.exit_code == 2


# ---------------------------------------------------------------- batch

BATCH_SAMPLE = [
    "conv --cin 4 --cout 8 -g 2",
    "convcalc conv --cin 3 --cout 16 -k 3x1 -s 2 -p 1x0 -i 33x17 --no-bias",
    "separable --cin 8 --cout 16 -p same -i 12",
    "compare --cin 6 --cout 10 -i 9",
    "se --channels 32 -i 7 --bias",
    "cbam --channels 16 --reduction 4 -i 9",
    "mobilenet --generation 2 --width 0.35 --resolution 96",
    "mobilenet --width 0.5,1 --resolution 128 --no-verify",
    "conv --cin 4 --cout 8 -g 3",
    "conv --cin 4 --cout 8 --max-params 100 -i 8",
    "conv --cin 4 --cout 8 -i 8 --value macs",
    "conv --cin 256 --cout 256 -p 1 -i 1024 -b 64",
]


def test_batch_lines_match_the_same_command_run_alone() -> None:
    """Each line's exit, error, notices and document equal ``convcalc LINE --format json`` alone."""
    text = "# sample\n\n" + "\n".join(BATCH_SAMPLE) + "\n"
    result = invoke("batch", "-", stdin=text)
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["line"] for o in objects] == list(range(3, 3 + len(BATCH_SAMPLE)))
    assert result.exit_code == 2  # the worst line: an invalid spec
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR")}

    def alone(line: str) -> subprocess.CompletedProcess[str]:
        argv = line.split()
        argv = argv[1:] if argv[0] == "convcalc" else argv
        return subprocess.run(
            [sys.executable, "-m", "convcalc", *argv, "--format", "json"],
            capture_output=True, text=True, cwd=ROOT, env=env, timeout=300, check=False,
        )  # fmt: skip

    with ThreadPoolExecutor(max_workers=4) as pool:  # each process is mostly the torch import
        processes = list(pool.map(alone, BATCH_SAMPLE))
    for line, entry, process in zip(BATCH_SAMPLE, objects, processes, strict=True):
        assert entry["command"] == line
        assert entry["exit"] == process.returncode, line
        errors = [e for e in process.stderr.splitlines() if e.startswith("error: ")]
        assert entry["error"] == (errors[-1].removeprefix("error: ") if errors else None), line
        notices = [e for e in process.stderr.splitlines() if not e.startswith("error: ")]
        assert entry["notices"] == notices, line
        if process.stdout.lstrip().startswith(("{", "[")):
            assert entry["document"] == json.loads(process.stdout), line
            assert entry["text"] is None
        else:
            assert entry["document"] is None
            assert entry["text"] == (process.stdout or None), line


def test_batch_reports_bad_lines_and_keeps_going(tmp_path: Path) -> None:
    """Unsplittable lines, nested runners and unknown commands are exit-2 objects; the rest run."""
    specs = tmp_path / "specs.txt"
    specs.write_text('conv --cin 4 "x\nbatch -\nfrobnicate\nse --channels 32 --no-verify\n')
    result = invoke("batch", str(specs))
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["exit"] for o in objects] == [2, 2, 2, 0]
    assert "No closing quotation" in objects[0]["error"]
    assert objects[3]["document"]["command"] == "se"
    assert result.exit_code == 2


def test_batch_skips_a_byte_order_mark(tmp_path: Path) -> None:
    """A UTF-8 byte-order mark (as Windows editors write) is not part of the first command,
    in a file or on stdin (the first line was an unknown command)."""
    line = "se --channels 32 --no-verify\n"
    specs = tmp_path / "specs.txt"
    specs.write_bytes(b"\xef\xbb\xbf" + line.encode())
    for result in (invoke("batch", str(specs)), invoke("batch", "-", stdin="\ufeff" + line)):
        assert result.exit_code == 0, result.stdout
        (entry,) = [json.loads(text) for text in result.stdout.splitlines()]
        assert entry["command"] == line.strip()
        assert entry["document"]["command"] == "se"


def test_batch_line_notices_are_its_own() -> None:
    """A notice said while a line is parsed (a deprecated spelling) is in that line's
    notices, not on batch's stderr."""
    result = invoke("batch", "-", stdin="mobilenet --depth 1 --no-verify --value params\n")
    (entry,) = [json.loads(text) for text in result.stdout.splitlines()]
    assert entry["exit"] == 0, entry
    assert any("--depth" in notice for notice in entry["notices"])
    assert "--depth" not in result.stderr


def test_batch_line_refused_while_rendering_is_its_own_outcome(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An error raised while a line's result is rendered (a --value the result refuses)
    is that line's exit and error; the batch goes on (it was a traceback)."""
    from convcalc.errors import CheckFailedError
    from convcalc.pipeline import Result as PipelineResult

    def refuse(self: PipelineResult, name: str) -> list[str]:
        raise CheckFailedError(f"{name} refused")

    monkeypatch.setattr(PipelineResult, "values", refuse)
    text = "se --channels 32 --no-verify --value macs\nse --channels 32 --no-verify\n"
    result = invoke("batch", "-", stdin=text)
    first, second = [json.loads(line) for line in result.stdout.splitlines()]
    assert (first["exit"], first["error"], first["text"]) == (1, "macs refused", None)
    assert second["exit"] == 0
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr


def test_batch_missing_file_exits_2(tmp_path: Path) -> None:
    """A batch file that cannot be read is one error line, exit 2."""
    result = invoke("batch", str(tmp_path / "nope.txt"))
    assert result.exit_code == 2
    assert "cannot read" in error_lines(result)[0]


def test_batch_all_ok_exits_0_and_budget_line_exits_1() -> None:
    """batch's status is its worst line's."""
    ok = invoke("batch", "-", stdin="se --channels 32 --no-verify\n")
    assert ok.exit_code == 0
    over = invoke("batch", "-", stdin="se --channels 32 --no-verify --max-params 1\n")
    assert over.exit_code == 1
    (entry,) = [json.loads(line) for line in over.stdout.splitlines()]
    assert entry["document"]["budgets"][0]["ok"] is False


# ---------------------------------------------------------------- --value


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["conv", "--cin", "4", "--cout", "8", "--groups", "2", "--value", "macs"], "7096896\n"),
        (["conv", "--cin", "4", "--cout", "8", "--groups", "2", "--value", "params"], "152\n"),
        (
            ["conv", "--cin", "4", "--cout", "8", "-g", "2", "--value", "output-shape"],
            "1x8x222x222\n",
        ),
        (["conv", "--cin", "4", "--cout", "8", "-g", "2", "--value", "FLOPS"], "14193792\n"),
        (["mobilenet", "--width", "0.5,1", "--value", "params"], "1331592\n4231976\n"),
        (["se", "--channels", "64", "--value", "activation_bytes"], None),
    ],
)
def test_value_prints_the_bare_number(argv: list[str], expected: str | None) -> None:
    """--value FIGURE prints only the number (a line per sweep point), verified or not."""
    for extra in ([], ["--no-verify"]):
        result = invoke(*argv, *extra)
        assert result.exit_code == 0, result.stderr
        if expected is not None:
            assert result.stdout == expected
        else:
            assert result.stdout.strip().isdigit()


def test_value_unknown_figure_exits_2() -> None:
    """An unknown figure lists the known ones."""
    result = invoke("conv", "--cin", "4", "--cout", "8", "--value", "speed")
    assert result.exit_code == 2
    (line,) = error_lines(result)
    assert "value='speed' is not a figure; use one of params" in line


def test_value_keeps_the_verdict() -> None:
    """Over budget, --value still prints the number, then exits 1."""
    result = invoke("conv", "--cin", "4", "--cout", "8", "-g", "2", "--no-verify",
                    "--value", "params", "--max-params", "100")  # fmt: skip
    assert result.exit_code == 1
    assert result.stdout == "152\n"
