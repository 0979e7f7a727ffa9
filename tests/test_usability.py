"""Issue 10, section 7: what a new user tripped on, each fixed (or answered) and held here."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner, Result

import convcalc
from convcalc.cli import app
from convcalc.cli.help import EXAMPLES
from convcalc.cli.options import words
from convcalc.core.documents.config import _toml
from convcalc.errors import EnvironmentUnavailableError, InvalidSpecError
from tests.model.nets import USER_FILE

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


def test_version_belongs_to_the_program_and_mobilenet_has_generations() -> None:
    """``convcalc --version`` is the program's; on a command it says where it belongs;
    ``mobilenet --generation 2`` picks MobileNet V2, and ``--version 2``, its first
    spelling, still does, with a notice saying to use ``--generation``."""
    assert invoke("--version").stdout.startswith("convcalc ")
    line = error(invoke("conv", "--cin", "4", "--cout", "8", "--version"))
    assert "No such option: --version" in line
    assert "convcalc --version, before any command" in line
    assert "mobilenet --generation 1|2|3" in line
    v2 = invoke("mobilenet", "--generation", "2", "--no-verify", "--value", "params")
    assert (v2.stdout, v2.stderr) == ("3504872\n", "")
    old = invoke("mobilenet", "--version", "2", "--no-verify", "--value", "params")
    assert old.stdout == "3504872\n"
    assert old.stderr == "notice: mobilenet --version N is deprecated: use --generation N\n"
    help_text = invoke("mobilenet", "--help").stdout
    assert "--generation" in help_text
    assert "--version" not in help_text


# ---------------------------------------------------------------- 80 columns

NARROW = [
    ["mobilenet", "--generation", "1"],
    ["mobilenet", "--generation", "2"],
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
    result = invoke("mobilenet", "--generation", "2", "--no-verify")
    assert "conv + bn + residual" in result.stdout
    assert "+ +" not in result.stdout


def test_sum_of_layers_says_which_layers() -> None:
    """The MACs formula says it sums the layers with MACs (53), above a 54-row table."""
    result = invoke("mobilenet", "--generation", "2", "--no-verify", "--format", "csv")
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


@pytest.mark.parametrize("command", [*COMMANDS, "model", "check", "diff", "batch", None])
def test_help_has_an_example_and_the_cost_of_verification(command: str | None) -> None:
    """Every --help ends with examples; those of commands that verify say what it costs."""
    result = invoke(*([command] if command else []), "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "Examples: convcalc " in text
    verifies = command not in ("check", "diff", "batch")
    assert ("about 650 MB of memory" in text) is verifies


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


# ---------------------------------------------------------------- issue 17: words, help, names

CLICK = typer.main.get_command(app)
ALL_COMMANDS: dict[str, Any] = CLICK.commands  # type: ignore[attr-defined]
# A valid command line of each command (its required parameters), run in ``files``.
BASES: dict[str, list[str]] = {
    "conv": ["--cin", "4", "--cout", "8", "-i", "8"],
    "separable": ["--cin", "4", "--cout", "8", "-i", "8"],
    "spatial": ["--cin", "4", "--cout", "8", "-i", "8"],
    "compare": ["--cin", "4", "--cout", "8", "-i", "8"],
    "se": ["--channels", "16", "-i", "8"],
    "cbam": ["--channels", "16", "-i", "8"],
    "pool": ["--channels", "4", "-i", "8"],
    "mobilenet": ["--generation", "3", "--width", "0.25", "--resolution", "32"],
    "resnet": ["--depth", "18", "--resolution", "32"],
    "model": ["tiny.py:build", "-i", "8"],
    "conventions": [],
    "hardware": [],
    "check": ["--config", "convcalc.toml"],
    "diff": ["a.json", "b.json"],
    "batch": ["specs.txt"],
}
BUDGETS = '[tool.convcalc.budgets.tiny]\ncommand = "conv --cin 4 --cout 8 -i 8 --no-verify"\n'


def option_names(command: Any) -> set[str]:
    """Every spelling of every option a click command takes (hidden ones too)."""
    return {o for p in command.params for o in [*p.opts, *p.secondary_opts] if o.startswith("-")}


def fast(name: str, argv: list[str]) -> list[str]:
    """``argv`` of command ``name``, with --no-verify where the command takes it."""
    return [name, *argv, *(["--no-verify"] if "--no-verify" in option_names(ALL_COMMANDS[name])
                           else [])]  # fmt: skip


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with what the command lines name: a model file, two documents, budgets."""
    root = tmp_path_factory.mktemp("usability")
    (root / "tiny.py").write_text(USER_FILE, encoding="utf-8")
    (root / "mypkg").mkdir()
    (root / "mypkg" / "net.py").write_text(USER_FILE, encoding="utf-8")
    document = invoke("conv", "--cin", "4", "--cout", "8", "-i", "8", "--no-verify",
                      "--format", "json").stdout  # fmt: skip
    (root / "a.json").write_text(document, encoding="utf-8")
    (root / "b.json").write_text(document, encoding="utf-8")
    (root / "pyproject.toml").write_text(BUDGETS, encoding="utf-8")
    (root / "convcalc.toml").write_text(BUDGETS.replace("tool.convcalc.", ""), encoding="utf-8")
    (root / "specs.txt").write_text("conv --cin 4 --cout 8 --no-verify\n", encoding="utf-8")
    return root


def invoke_in(directory: Path, argv: list[str], stdin: str | None = None) -> Result:
    with contextlib.chdir(directory):
        return runner.invoke(app, argv, input=stdin)


def test_every_command_has_a_base_line() -> None:
    """A new command gets a base command line here, so the walks below reach it."""
    assert set(ALL_COMMANDS) <= set(BASES)


WORD_OPTIONS = [
    (name, param.opts[-1])
    for name, command in ALL_COMMANDS.items()
    for param in command.params
    if words(param) is not None
]


def _first_commands() -> dict[tuple[str, tuple[str, ...]], str]:
    """The first command with each word option (an option shared by many, such as
    --convention, has every word tried there, and its first and last elsewhere)."""
    first: dict[tuple[str, tuple[str, ...]], str] = {}
    for name, option in WORD_OPTIONS:
        (param,) = [p for p in ALL_COMMANDS[name].params if option in p.opts]
        first.setdefault((option, words(param) or ()), name)
    return first


FIRST = _first_commands()


def test_every_word_valued_option_is_a_word() -> None:
    """No option reads words some other way (click's Choice, a bare string with its own
    .lower()): each is a Word, read by core.values.parse.word; there are such options on the
    commands issue 17 named."""
    for command in ALL_COMMANDS.values():
        for param in command.params:
            assert type(param.type).__name__ != "Choice", (command.name, param.name)
    assert {("resnet", "--variant"), ("resnet", "--attention"), ("mobilenet", "--size"),
            ("pool", "--mode"), ("conv", "--convention"), ("model", "--input-dtype"),
            ("check", "--format"), ("diff", "--format"), ("conventions", "--format")} <= set(
        WORD_OPTIONS)  # fmt: skip


@pytest.mark.parametrize(
    ("name", "option"), WORD_OPTIONS, ids=[f"{n} {o}" for n, o in WORD_OPTIONS]
)
def test_case_and_spaces_never_matter(name: str, option: str, files: Path) -> None:
    """Each word of each word-valued option, walked from the app: accepted, and
    `` WORD `` in capitals reads exactly as ``word`` (same exit, same output)."""
    (param,) = [p for p in ALL_COMMANDS[name].params if option in p.opts]
    choices = words(param)
    assert choices
    if FIRST[(option, choices)] != name:
        choices = (choices[0], choices[-1])
    flag: list[str] = [option]
    if param.param_type_name == "argument":  # a positional word (hardware list|measure):
        for choice in choices:  # each read alike; run only the first (measure takes seconds)
            assert param.type.convert(f"  {choice.upper()} ", param, None) == choice
        flag, choices = [], choices[:1]
    for choice in choices:
        plain = invoke_in(files, fast(name, [*BASES[name], *flag, choice]))
        shouted = invoke_in(files, fast(name, [*BASES[name], *flag, f"  {choice.upper()} "]))
        assert "is not one of" not in plain.stderr, (choice, plain.stderr)
        assert "Traceback" not in plain.stderr
        assert (shouted.exit_code, shouted.stdout) == (plain.exit_code, plain.stdout), choice


def test_the_words_issue_17_found_refused() -> None:
    """``resnet --variant V1``, ``--attention SE`` and ``mobilenet --size LARGE`` exited 2."""
    for argv in (["resnet", "--variant", "V1"], ["resnet", "--attention", " SE "],
                 ["mobilenet", "--generation", "3", "--size", "LARGE"]):  # fmt: skip
        result = invoke(*argv, "--no-verify", "--value", "params")
        assert result.exit_code == 0, (argv, result.stderr)


def test_an_empty_input_dtype_is_refused(files: Path) -> None:
    """``model --input-dtype ''`` fell back to --dtype; it is an error naming the dtypes."""
    result = invoke_in(files, ["model", "tiny.py:build", "--input-dtype", "", "--no-verify"])
    assert "input-dtype='' is not one of float32" in error(result)


WARNING_MODEL = (
    USER_FILE
    + """

def warned(width=1.0):
    import warnings
    warnings.warn("width below 1 is experimental", UserWarning)
    warnings.warn("width below 1 is experimental", UserWarning)
    warnings.warn("another thing", DeprecationWarning)
    return Net(width)
"""
)


def test_a_models_warnings_are_one_notice_or_none(files: Path) -> None:
    """A model whose building warns: one notice line (not the raw warnings); one whose
    forward then fails: the error line alone (three stderr lines before)."""
    (files / "warned.py").write_text(WARNING_MODEL, encoding="utf-8")
    ran = invoke_in(files, ["model", "warned.py:warned", "-i", "8", "--no-verify",
                            "--value", "params"])  # fmt: skip
    assert ran.exit_code == 0, ran.stderr
    assert ran.stderr == (
        "notice: the model warned: UserWarning: width below 1 is experimental "
        "(and 1 other warning)\n"
    )
    failed = invoke_in(files, ["model", "tiny.py:build", "--arg", "width=0", "-i", "8"])
    assert error(failed).startswith("error: the model's forward pass failed")


def test_convention_help_lists_every_convention() -> None:
    """--convention's help lists the registry's names, all of them (it listed 6 of 10)."""
    from convcalc.core.count.conventions import CONVENTIONS

    help_text = "".join(invoke("conv", "--help").stdout.split())
    assert f"--convention[{'|'.join(CONVENTIONS)}]" in help_text
    assert len(CONVENTIONS) >= 10


def test_a_plain_run_does_not_import_the_conventions() -> None:
    """The --convention help is written from the registry only when help is shown."""
    code = ("import sys; from convcalc.cli.app import main; sys.argv = ['convcalc', 'conv', "
            "'--cin', '4', '--cout', '8', '--no-verify', '--format', 'json']\n"
            "import atexit; atexit.register(lambda: print('convcalc.core.count.conventions' in "
            "sys.modules, file=sys.stderr))\nmain()")  # fmt: skip
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             cwd=ROOT, timeout=60, check=False)  # fmt: skip
    assert process.returncode == 0, process.stderr
    assert process.stderr.strip().endswith("False")


def test_model_no_verify_says_it_imports_torch() -> None:
    """model --no-verify still imports torch (the model is torch code): its help says so,
    and never that it does not."""
    help_text = " ".join(invoke("model", "--help").stdout.split())
    assert "never imports torch" not in help_text
    assert "Still imports torch" in help_text
    assert "never imports torch" in " ".join(invoke("conv", "--help").stdout.split())


def test_every_advertised_format_is_accepted(files: Path) -> None:
    """check --format advertised csv and markdown, then refused them: each command's
    --format help lists its Word's formats, and each one runs."""
    for name, command in ALL_COMMANDS.items():
        formats = [words(p) for p in command.params if "--format" in p.opts]
        if not formats:
            continue
        help_text = "".join(invoke(name, "--help").stdout.split())
        assert f"--format[{'|'.join(formats[0] or ())}]" in help_text, name
        for output in formats[0] or ():
            result = invoke_in(files, fast(name, [*BASES[name], "--format", output]))
            assert result.exit_code in (0, 1), (name, output, result.stderr)


def test_footers_name_only_options_their_command_has() -> None:
    """No --help footer shows an option its command refuses (check, diff, batch and
    conventions showed --no-verify and --cross-check); examples of another command are
    checked against that command."""
    for name, command in ALL_COMMANDS.items():
        footer = command.epilog or ""
        commands = [line.split("#")[0] for line in footer.splitlines()]
        for line in [part for text in commands for part in text.split("|")]:
            if line.split()[:1] == ["printf"]:  # batch's own lines, each a command line
                lines_fed = shlex.split(line)[1].encode().decode("unicode_escape")
                pairs = [(fed.split()[0], fed) for fed in lines_fed.splitlines()]
            elif "convcalc" in line.split()[:1] and len(line.split()) > 1:
                pairs = [(line.split()[1], line)]
            else:  # prose: said of this command
                pairs = [(name, line)]
            for owner, text in pairs:
                for token in re.findall(r"(?<![\w-])--?[a-z][\w-]*", text):
                    assert token in option_names(ALL_COMMANDS[owner]), (name, token, text)


def test_mobilenet_generation_4_names_all_three() -> None:
    """mobilenet --generation 4 (and the library's version=4) say 1, 2 or 3."""
    assert error(invoke("mobilenet", "--generation", "4")).endswith("use 1, 2 or 3")
    assert error(invoke("mobilenet", "--version", "4")).endswith("use 1, 2 or 3")
    with pytest.raises(InvalidSpecError, match="use 1, 2 or 3"):
        convcalc.mobilenet(4)


def test_plot_hint_names_no_package_index(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without matplotlib, --plot says to install matplotlib (convcalc is on no index)."""
    from convcalc.render.plot import require_matplotlib

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(EnvironmentUnavailableError) as caught:
        require_matplotlib()
    assert "pip install matplotlib" in str(caught.value)
    assert "convcalc[plot]" not in str(caught.value).replace("'.[plot]'", "")


@pytest.mark.parametrize("name", ["model", "mobilenet"])
def test_depth_is_a_deprecated_spelling_of_fold(name: str, files: Path) -> None:
    """Folding is --fold everywhere: --depth N still folds model and mobilenet, with a
    notice; resnet's --depth is the network's depth; --fold and --depth disagreeing is
    an error; help shows --fold alone."""
    base = [*BASES[name], "--no-verify", "--format", "csv"]
    folded = invoke_in(files, [name, *base, "--fold", "1"])
    old = invoke_in(files, [name, *base, "--depth", "1"])
    assert folded.exit_code == old.exit_code == 0, old.stderr
    assert old.stdout == folded.stdout
    assert f"notice: {name} --depth N is deprecated: use --fold N" in old.stderr.splitlines()
    assert "deprecated" not in folded.stderr
    assert "disagree" in error(invoke_in(files, [name, *base, "--fold", "1", "--depth", "2"]))
    help_text = invoke(name, "--help").stdout
    assert "--fold" in help_text
    assert "--depth" not in help_text
    assert "--depth" in invoke("resnet", "--help").stdout


# Examples whose verification is slow (a network, a model) run with --no-verify; each
# example's documented exit code is in its comment ("# exit 1 over budget").
SLOW = ("mobilenet", "resnet", "model")
EXAMPLES_RUN = [(name, line) for name, lines in EXAMPLES.items() for line in lines]


@pytest.mark.parametrize(("name", "line"), EXAMPLES_RUN, ids=[line for _, line in EXAMPLES_RUN])
def test_every_help_example_runs(name: str, line: str, files: Path) -> None:
    """Every example of every --help runs: its documented exit code (0 unless its comment
    says otherwise), no traceback. Redirections write files, a pipe feeds stdin."""
    command, _, comment = line.partition("#")
    expected = int(m.group(1)) if (m := re.search(r"exit (\d)", comment)) else 0
    stdin = None
    if "|" in command:  # printf '...' | convcalc batch -
        producer, command = command.split("|")
        stdin = shlex.split(producer)[1].encode().decode("unicode_escape")
    argv = shlex.split(command)
    target = None
    if ">" in argv:
        argv, target = argv[: argv.index(">")], argv[argv.index(">") + 1]
    assert argv[0] == "convcalc"
    argv = argv[1:]
    if "timm:" in command:
        pytest.importorskip("timm", reason="the timm example needs timm")
    if argv[0] in SLOW:
        argv.append("--no-verify")
    if argv[0] == "check":
        invoke_in(files, ["check", "--config", "convcalc.toml", "--update-baseline"])
    result = invoke_in(files, argv, stdin)
    assert "Traceback" not in result.stderr
    assert result.exit_code == expected, (argv, result.stderr)
    if target is not None:
        (files / target).write_text(result.stdout, encoding="utf-8")
