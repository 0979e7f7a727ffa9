"""diff, check's configuration and budgets on what users really hand them: unrelated documents,
files that are no documents, numbers past a float's range; and fuzzed JSON and TOML."""

from __future__ import annotations

import copy
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from convcalc.cli import app
from convcalc.core.documents import config as core_config
from convcalc.core.documents.budgets import Verdict
from convcalc.core.documents.diff import strict_json
from convcalc.errors import InvalidSpecError

runner = CliRunner()
CONV = ["conv", "--cin", "4", "--cout", "8", "-i", "8"]


def invoke(*args: str, cwd: Path | None = None) -> Result:
    """The app in process."""
    if cwd is None:
        return runner.invoke(app, list(args))
    import os

    old = Path.cwd()
    os.chdir(cwd)
    try:
        return runner.invoke(app, list(args))
    finally:
        os.chdir(old)


def no_traceback(result: Result) -> None:
    """The run ended by its own exit, not by an exception."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stderr


def one_error(result: Result, code: int) -> str:
    """Exit ``code`` with exactly one ``error:`` line on stderr."""
    no_traceback(result)
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def strict(text: str) -> Any:
    """JSON as the standard has it: NaN and Infinity are no JSON."""

    def refuse(token: str) -> Any:
        raise ValueError(f"{token} is not JSON")

    return json.loads(text, parse_constant=refuse)


def document(*args: str) -> Any:
    """``convcalc ARGS --no-verify --format json``, parsed."""
    result = invoke(*args, "--no-verify", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def write(path: Path, content: Any) -> Path:
    """A JSON file (or text as it is)."""
    path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    return path


@pytest.fixture(scope="module")
def conv() -> Any:
    """A small conv document."""
    return document(*CONV)


@pytest.fixture(scope="module")
def sweep() -> Any:
    """A two-point MobileNet sweep, small."""
    return document("mobilenet", "--width", "0.5,1", "--resolution", "32", "--classes", "10")


# ---------------------------------------------------------------- unrelated documents


def test_diff_of_two_commands_reports_is_not_a_pass(tmp_path: Path, conv: Any) -> None:
    """A conv document against a MobileNet one exits 2 saying they are not comparable, both ways
    (it exited 0 one way and 1 the other, as if one had grown into the other)."""
    mobilenet = write(tmp_path / "m.json", document("mobilenet", "--resolution", "32"))
    layer = write(tmp_path / "a.json", conv)
    for old, new in ((layer, mobilenet), (mobilenet, layer)):
        line = one_error(invoke("diff", str(old), str(new)), 2)
        assert "not comparable" in line
        assert (
            "a conv report and a mobilenet report" in line
            or "a mobilenet report and a conv" in line
        )


def test_diff_with_no_point_in_common_is_not_a_pass(tmp_path: Path, conv: Any, sweep: Any) -> None:
    """A compare document against a conv one, or one report against a sweep: nothing pairs, so
    nothing was compared: exit 2 naming what each side holds."""
    compare = write(
        tmp_path / "c.json", document("compare", "--cin", "4", "--cout", "8", "-i", "8")
    )
    layer = write(tmp_path / "a.json", conv)
    line = one_error(invoke("diff", str(compare), str(layer)), 2)
    assert "nothing to compare" in line
    assert "depthwise" in line
    assert "one report" in line
    single = write(tmp_path / "s.json", sweep[0])
    many = write(tmp_path / "w.json", sweep)
    assert "width 0.5 at 32" in one_error(invoke("diff", str(single), str(many)), 2)


def test_diff_same_command_other_spec_still_compares(tmp_path: Path, sweep: Any) -> None:
    """Growing a sweep by a point is a comparison (the shared points pair), not an error."""
    old = write(tmp_path / "a.json", sweep[:1])
    new = write(tmp_path / "b.json", sweep)
    result = invoke("diff", str(old), str(new), "--format", "json")
    assert result.exit_code == 0, result.stderr
    changes = strict(result.stdout)["changes"]
    assert [c["figure"] for c in changes] == ["point"]


# ---------------------------------------------------------------- files that are no documents


def _layers(value: Any) -> Any:
    def edit(doc: Any) -> Any:
        doc["layers"] = value
        return doc

    return edit


def _width(value: Any) -> Any:
    def edit(doc: Any) -> Any:
        doc[1]["spec"]["width"] = value
        return doc

    return edit


@pytest.mark.parametrize(
    ("which", "edit", "message"),
    [
        ("conv", lambda doc: "[" * 100_000, "nested too deeply"),
        ("conv", lambda doc: [1, 2], "point 0: 1 is not an object"),
        ("conv", lambda doc: "[" * 500 + "]" * 500, "point 0"),
        ("conv", _layers(5), "layers: 5 is not a list"),
        ("conv", _layers([[1]]), "layers[0]: a list is not an object"),
        ("conv", _layers(["conv"]), "layers[0]"),
        (
            "conv",
            lambda doc: {**doc, "layers": [{**doc["layers"][0], "name": ["a"]}]},
            "layers[0].name",
        ),
        ("conv", _layers([{"name": "conv"}]), "layers[0]: has no 'params'"),
        ("conv", _layers({"conv": {}}), "layers"),
        ("sweep", _width("x"), "spec.width: 'x' is not a number"),
        ("sweep", _width(None), "spec.width"),
        ("conv", lambda doc: {**doc, "analytic": {**doc["analytic"], "macs": math.nan}}, "macs"),
        ("conv", lambda doc: {**doc, "analytic": {**doc["analytic"], "macs": "1"}}, "macs"),
        ("conv", lambda doc: {"schema": 1, "command": "check", "baseline": {"a": 5}}, "entry"),
        (
            "conv",
            lambda doc: {"schema": 1, "command": "compare", "variants": [doc, 7]},
            "variant 1",
        ),
    ],
)
def test_diff_of_a_file_that_is_no_document_is_one_error_line(
    tmp_path: Path, conv: Any, sweep: Any, which: str, edit: Any, message: str
) -> None:
    """Deep nesting (RecursionError), a list of numbers (AttributeError), layers that are no list
    of objects, a sweep width that is no number (ValueError), NaN: one line, exit 2."""
    good = conv if which == "conv" else sweep
    bad = edit(copy.deepcopy(good))
    old, new = write(tmp_path / "old.json", good), write(tmp_path / "new.json", bad)
    line = one_error(invoke("diff", str(old), str(new)), 2)
    assert "new.json" in line
    assert message in line
    line = one_error(invoke("diff", str(new), str(old), "--format", "json"), 2)
    assert message in line


def test_diff_json_is_strict_json(tmp_path: Path, conv: Any) -> None:
    """--format json writes no NaN or Infinity token: a non-finite number becomes its name as a
    string (null means absent in a change), so any JSON reader takes the document."""
    assert strict_json({"a": [math.nan, math.inf, -math.inf, 1.5, 2]}) == {
        "a": ["NaN", "Infinity", "-Infinity", 1.5, 2]
    }
    grown = copy.deepcopy(conv)
    grown["analytic"]["macs"] = 10**400  # a count past a float's range
    old, new = write(tmp_path / "a.json", conv), write(tmp_path / "b.json", grown)
    result = invoke("diff", str(old), str(new), "--format", "json")
    assert result.exit_code == 1
    changes = strict(result.stdout)["changes"]
    assert next(c for c in changes if c["figure"] == "macs")["change"] is None


def test_diff_is_one_library_call(tmp_path: Path, conv: Any) -> None:
    """core.documents.diff.diff_files reads both files, compares them and judges the growth
    in one call: the Diff it returns is what the command prints (its JSON document) and its
    failure is the command's exit-1 line; the command only renders it."""
    import convcalc
    from convcalc.core.documents.diff import Diff, diff_files
    from convcalc.errors import BudgetExceededError

    assert convcalc.diff_files is diff_files  # the public library's
    wider = document("conv", "--cin", "4", "--cout", "9", "-i", "8")
    old, new = write(tmp_path / "a.json", conv), write(tmp_path / "b.json", wider)
    found = diff_files(old, new, "1%")
    assert isinstance(found, Diff)
    assert {c.figure for c in found.grown} >= {"params", "macs"}
    failure = found.failure()
    assert isinstance(failure, BudgetExceededError)
    result = invoke("diff", str(old), str(new), "--tolerance", "1%", "--format", "json")
    assert one_error(result, 1) == f"error: {failure}"
    assert strict(result.stdout) == found.to_dict()
    assert any(c.layer for c in found.changes)
    whole = diff_files(old, new, "1%", layers=False)
    assert whole.changes == tuple(c for c in found.changes if not c.layer)
    assert diff_files(old, new, "50%").failure() is None  # 9/8: 12.5% growth


def test_diff_files_of_unrelated_documents_names_both_files(
    tmp_path: Path, conv: Any, sweep: Any
) -> None:
    """The library call refuses two documents of different things, naming both files."""
    from convcalc.core.documents.diff import NotComparableError, diff_files

    old, new = write(tmp_path / "a.json", conv), write(tmp_path / "b.json", sweep)
    with pytest.raises(NotComparableError, match=r"a\.json and .*b\.json are not comparable"):
        diff_files(old, new)


# ---------------------------------------------------------------- check's configuration, budgets


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tool = 5\n", "tool must be a table"),
        ("[tool]\nconvcalc = 5\n", "tool.convcalc must be a table"),
        ('[tool]\nconvcalc = "x"\n', "tool.convcalc must be a table"),
        ("[tool.convcalc]\nbaseline = \"a\\u0000b\"\n[tool.convcalc.budgets.a]\n"
         'command = "conv --cin 4 --cout 8"\n', "baseline"),
    ],
)  # fmt: skip
def test_check_config_that_is_no_table_is_one_error_line(
    tmp_path: Path, text: str, message: str
) -> None:
    """``tool = 5`` in pyproject.toml raised AttributeError; now one line naming the file."""
    path = tmp_path / "pyproject.toml"
    path.write_text(text, encoding="utf-8")
    line = one_error(invoke("check", "--config", str(path)), 2)
    assert message in line
    assert "pyproject.toml" in line
    found = one_error(invoke("check", cwd=tmp_path), 2)  # discovery skips or names it
    assert "pyproject.toml" in found or "no budgets found" in found


def test_budget_share_past_a_floats_range() -> None:
    """``mobilenet --width 1e200 --max-macs 1M``: MACs of 400 digits; the share of the excess is
    exact in decimal (it raised OverflowError), one line, exit 1."""
    line = one_error(invoke("mobilenet", "--width", "1e200", "--no-verify", "--max-macs", "1M"), 1)
    assert line.startswith("error: budget exceeded: macs ")
    assert line.endswith("e+404%)")
    assert Verdict("macs", 1_520, 1_000).share() == "52.0%"
    assert Verdict("macs", 10**400 + 10**6, 10**6).share() == "1.0e+396%"
    assert Verdict("macs", 5, 0).share() == ""


# ---------------------------------------------------------------- fuzz

NUMBERS = (
    st.integers(min_value=-(10**20), max_value=10**20)
    | st.sampled_from([0, -1, 2**63, 10**400, True, False])
    | st.floats(allow_nan=True, allow_infinity=True)
)
JSON = st.recursive(
    st.none() | NUMBERS | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a document (keys and indexes), the first few items of long lists only."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):
            found += _paths(item, (*prefix, index))
    return found


@st.composite
def fuzzed(draw: st.DrawFn, base: Any) -> str:
    """Random JSON text: a real document with one place replaced or dropped, random JSON, or
    deep nesting."""
    kind = draw(st.sampled_from(["mutate", "mutate", "mutate", "json", "deep"]))
    if kind == "deep":
        depth = draw(st.integers(min_value=1, max_value=200_000))
        opener = draw(st.sampled_from(["[", '{"a":', '[{"analytic":']))
        return opener * depth
    if kind == "json":
        return json.dumps(draw(JSON))
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(_paths(doc)))
        if not path:
            doc = draw(JSON)
            continue
        parent = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            if draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = draw(JSON)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed the place
    return json.dumps(doc)


BASES: dict[str, Any] = {}


def _bases() -> dict[str, Any]:
    if not BASES:
        conv = document(*CONV)
        BASES["conv"] = conv
        point = copy.deepcopy(conv)
        point["spec"] |= {"width": 0.5, "resolution": 8}
        other = copy.deepcopy(point)
        other["spec"]["width"] = 1.0
        BASES["sweep"] = [point, other]
        compare = document("compare", "--cin", "4", "--cout", "8", "-i", "8")
        compare["variants"] = compare["variants"][:2]
        for variant in compare["variants"]:
            variant["layers"] = variant["layers"][:2]
        BASES["compare"] = compare
        BASES["baseline"] = {"schema": 1, "command": "check", "baseline": {"a": conv}}
    return BASES


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), output=st.sampled_from(["table", "json", "csv", "markdown"]))
def test_fuzz_diff_never_tracebacks(data: st.DataObject, output: str) -> None:
    """Random JSON against a real document (of each shape), both ways round: exit 0, 1 or 2,
    one error line when not 0, strict JSON with --format json, never a traceback."""
    bases = _bases()
    name = data.draw(st.sampled_from(sorted(bases)))
    base = bases[name]
    text = data.draw(fuzzed(base))
    with tempfile.TemporaryDirectory() as folder:
        good = write(Path(folder) / "good.json", base)
        bad = write(Path(folder) / "bad.json", text)
        for old, new in ((good, bad), (bad, good)):
            result = invoke("diff", str(old), str(new), "--format", output, "--tolerance", "1%")
            no_traceback(result)
            assert result.exit_code in (0, 1, 2), result.exit_code
            if result.exit_code:
                one_error(result, result.exit_code)
            elif output == "json":
                strict(result.stdout)


def _toml(value: Any) -> str:
    """A value as a TOML literal (inline tables and arrays; JSON string escapes)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"


TOML_VALUE = st.recursive(
    st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats()
    | st.text(max_size=10)
    | st.sampled_from(["1.5M", "3M", "2G", "1e6", "0", "-1", "x", "", "1%", "0.5%", "%"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
ENTRY = st.dictionaries(
    st.sampled_from(["command", *core_config.BUDGET_KEYS, "max-bytes", "Command"]),
    TOML_VALUE | st.sampled_from(["conv --cin 4 --cout 8", "mobilenet", "  "]),
    max_size=4,
)
SETTINGS = st.fixed_dictionaries(
    {},
    optional={
        "budgets": st.dictionaries(st.text(min_size=1, max_size=6), ENTRY | TOML_VALUE, max_size=3)
        | TOML_VALUE,
        "baseline": TOML_VALUE,
        "tolerance": TOML_VALUE,
        "other": TOML_VALUE,
    },
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    settings_=SETTINGS | TOML_VALUE,
    tool=st.booleans(),
    name=st.sampled_from(["pyproject.toml", "convcalc.toml"]),
)
def test_fuzz_config_is_a_config_or_one_error(settings_: Any, tool: bool, name: str) -> None:
    """Random configurations: load returns a Config or raises InvalidSpecError (naming the file),
    discovery never raises, and check says a refused one in one line, exit 2."""
    if name == "pyproject.toml":
        root: Any = {"tool": {"convcalc": settings_} if tool else settings_}
    else:
        root = settings_ if isinstance(settings_, dict) else {"budgets": settings_}
    text = "\n".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in root.items()) + "\n"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_text(text, encoding="utf-8")
        core_config.find(Path(folder))
        refused = ""
        try:
            config = core_config.load(path)
        except InvalidSpecError as exc:
            refused = str(exc)
        if refused:
            assert str(path) in refused
            one_error(invoke("check", "--config", str(path)), 2)
        else:
            assert config.entries
            for entry in config.entries:
                assert entry.command.strip()
                assert set(entry.limits) <= set(core_config.BUDGET_KEYS.values())
                assert all(isinstance(v, int) and v >= 0 for v in entry.limits.values())


def test_a_ratio_reads_in_four_digits() -> None:
    """A float figure (arithmetic intensity) shows as four significant digits in a change,
    not seventeen; integers stay exact."""
    from convcalc.core.documents.diff import show

    assert show(8.208902570545078) == "8.209"
    assert show(1_234_567) == "1,234,567"


def test_a_ratio_changes_by_a_share_too() -> None:
    """arithmetic intensity 8.209 -> 8.359 reads +1.83%, as a count's change does."""
    from convcalc.core.documents.diff import Change, change_text

    change = Change("", "arithmetic_intensity", 8.208902570545078, 8.35893375675455)
    assert change_text(change) == "+1.83%"
