"""One model of figures: the catalogue, and the views derived from it (budgets, --value, config,
diff, the published JSON Schema), checked against real documents of every command."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner, Result

from convcalc.cli import app
from convcalc.cli.options import COMMON_OPTIONS, Common
from convcalc.core.count.conventions import CONVENTIONS
from convcalc.core.documents import config as core_config
from convcalc.core.documents import diff as core_diff
from convcalc.core.documents.budgets import judge
from convcalc.core.documents.catalogue import CATALOGUE, Catalogue, Figure
from convcalc.core.documents.contract import (
    BUDGET_FIGURES,
    FIGURES,
    SCHEMA_FILE,
    check_document,
    figure_name,
    json_schema,
    problem,
    schema_text,
)
from convcalc.errors import InvalidSpecError
from convcalc.render import OutputFormat

runner = CliRunner()

# Commands that print something other than a report document.
NOT_REPORTS = {"conventions", "check", "diff", "batch", "hardware"}  # hardware: the devices

# A small run of every report command (model: a file written by the test).
RUNS: dict[str, list[list[str]]] = {
    "conv": [["conv", "--cin", "4", "--cout", "8", "-i", "8", "-g", "2"]],
    "separable": [["separable", "--cin", "8", "--cout", "16", "-i", "8", "-p", "same"]],
    "spatial": [["spatial", "--cin", "8", "--cout", "16", "-i", "8"]],
    "compare": [["compare", "--cin", "8", "--cout", "16", "-i", "8"]],
    "se": [["se", "--channels", "16", "-i", "7"]],
    "cbam": [["cbam", "--channels", "16", "-i", "7"]],
    "mobilenet": [
        ["mobilenet", "--resolution", "32", "--classes", "10"],
        ["mobilenet", "--generation", "2", "--width", "0.5,1", "--resolution", "32,64"],
        ["mobilenet", "--generation", "3", "--resolution", "32"],
    ],
    "pool": [["pool", "--channels", "4", "-k", "2", "-s", "2", "-i", "8"]],
    "resnet": [["resnet", "--resolution", "32", "--classes", "10"]],
    "model": [["model", "MODEL", "-i", "8"]],
}

MODEL = """
from torch import nn


def build():
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                         nn.Linear(4 * 6 * 6, 2))
"""


def invoke(*args: str) -> Result:
    """The app in process."""
    return runner.invoke(app, list(args))


def strict(text: str) -> Any:
    """JSON as the standard has it: NaN and Infinity are no JSON."""

    def refuse(token: str) -> Any:
        raise ValueError(f"{token} is not JSON")

    return json.loads(text, parse_constant=refuse)


def valid(document: Any, catalogue: Catalogue = CATALOGUE) -> str | None:
    """The first place ``document`` breaks the schema, as text, or None."""
    schema = json_schema(catalogue)
    found = problem(document, schema, schema)
    return None if found is None else f"{'.'.join(found[0])}: {found[1]}"


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Any]]:
    """Real documents of every report command, analytic and (a few) verified."""
    model = tmp_path_factory.mktemp("model") / "tiny.py"
    model.write_text(MODEL, encoding="utf-8")
    found: dict[str, list[Any]] = {}
    for command, runs in RUNS.items():
        for argv in runs:
            args = [str(model) + ":build" if a == "MODEL" else a for a in argv]
            extra = [] if command == "model" else ["--no-verify"]
            result = invoke(*args, *extra, "--format", "json")
            assert result.exit_code == 0, (args, result.stderr)
            found.setdefault(command, []).append(strict(result.stdout))
    verified = [
        ["conv", "--cin", "4", "--cout", "8", "-i", "8", "--convention", "fvcore", "--backward"],
        ["se", "--channels", "16", "-i", "4", "--max-params", "1", "--max-macs", "1G"],
    ]
    for args in verified:
        result = invoke(*args, "--format", "json")
        assert result.exit_code in (0, 1), (args, result.stderr)
        found[args[0]].append(strict(result.stdout))
    return found


# ---------------------------------------------------------------- the catalogue


def test_every_view_reads_the_catalogue() -> None:
    """Budget options, config keys, --value names, budgets and diff figures are the catalogue's."""
    budget_options = {p.name for p in COMMON_OPTIONS if p.name.startswith("max_")}
    assert budget_options == {f.parameter for f in CATALOGUE.budgets}
    assert {f.option: f.name for f in CATALOGUE if f.budget} == core_config.BUDGET_KEYS
    assert tuple(f.name for f in CATALOGUE if f.budget) == BUDGET_FIGURES
    assert tuple(f.name for f in CATALOGUE if f.growth) == core_diff.GROWTH_FIGURES
    assert {f.name: f.path for f in CATALOGUE} == FIGURES
    for f in CATALOGUE:
        assert figure_name(f.name.upper().replace("_", "-")) == f.name
    budgets: dict[str, Any] = {f.parameter: "2K" for f in CATALOGUE.budgets}
    limits = Common.parse(
        "float32", "auto", OutputFormat.table, False, False, False, **budgets
    ).limits
    assert limits == {f.name: 2000 for f in CATALOGUE.budgets}


def test_each_figure_conventions_name_real_conventions_whose_total_they_make() -> None:
    """A convention named by figures totals exactly those figures (networks with every kind of
    work: MobileNet V3's gates and hard-swish, CBAM's pools, ResNet's residual adds)."""
    import convcalc
    from convcalc.core.count.conventions import count

    named = {c for f in CATALOGUE for c in f.conventions}
    assert named >= {"paper", "flopcounter", "hardware", "torchinfo"}
    assert named <= set(CONVENTIONS)
    for design in (
        convcalc.mobilenet(version=3, resolution=32),
        convcalc.cbam(16, input=7),
        convcalc.resnet(18, resolution=32),
    ):
        report = convcalc.analyze(design)
        analytic = report.to_dict()["analytic"]
        for name in named:
            made_of = [f for f in CATALOGUE if name in f.conventions]
            assert count(report.figures, name).total == sum(f.read(analytic) for f in made_of)


def test_catalogue_refuses_what_cannot_be() -> None:
    """Two figures of one name, a budget on a shape, a layer diff of a whole-model figure."""
    with pytest.raises(ValueError, match="share a name"):
        Catalogue([CATALOGUE["macs"], CATALOGUE["macs"]])
    with pytest.raises(ValueError, match="budget"):
        CATALOGUE.with_figure(Figure("shape2", "", "", ("x",), kind="shape", budget=True))
    with pytest.raises(ValueError, match="per-layer"):
        CATALOGUE.with_figure(Figure("y", "ops", "", ("y",), layer_diff=True))


BYTES_MOVED = Figure(
    "dram_bytes", "bytes", "Bytes read and written by every layer.", ("memory", "dram_bytes"),
    label="DRAM bytes", layer=True, per_sample=True, budget=True, growth=True, layer_diff=True,
)  # fmt: skip
INTENSITY = Figure(
    "dram_intensity", "FLOPs per byte", "FLOPs / bytes moved.", ("dram_intensity",),
    kind="number",
)  # fmt: skip


def with_new_figures(document: dict[str, Any], moved: int, intensity: float) -> dict[str, Any]:
    """A copy of a report with the two new figures written where the catalogue places them."""
    new = copy.deepcopy(document)
    new["analytic"]["memory"]["dram_bytes"] = moved
    new["analytic"]["per_sample"]["dram_bytes"] = moved
    new["analytic"]["dram_intensity"] = intensity
    for layer in new["layers"]:
        layer["dram_bytes"] = moved
    return new


def test_a_new_figure_is_one_entry(tmp_path: Path) -> None:
    """Registering two new figures (DRAM bytes, their intensity) in a copy of the catalogue puts
    them in the schema, --value names, budgets, the config's keys and diff, nothing else."""
    grown = CATALOGUE.with_figure(BYTES_MOVED).with_figure(INTENSITY)
    assert "dram_bytes" not in CATALOGUE  # a copy: the real one is untouched
    # the schema types them where they sit
    schema = json_schema(grown)["$defs"]
    memory = schema["analytic"]["properties"]["memory"]["properties"]
    assert memory["dram_bytes"]["type"] == "integer"
    assert schema["analytic"]["properties"]["dram_intensity"]["type"] == "number"
    assert schema["layer"]["properties"]["dram_bytes"]["type"] == "integer"
    assert "dram_bytes" in schema["analytic"]["properties"]["per_sample"]["properties"]
    assert schema["verdict"]["properties"]["figure"]["enum"][-1] == "dram_bytes"
    # --value
    assert figure_name("Dram-Bytes", catalogue=grown) == "dram_bytes"
    assert figure_name("dram_intensity", catalogue=grown) == "dram_intensity"
    with pytest.raises(InvalidSpecError, match="not a figure"):
        figure_name("dram_bytes")
    # budgets and the config's keys
    document = json.loads(invoke("conv", "--cin", "4", "--cout", "8", "-i", "8", "--no-verify",
                                 "--format", "json").stdout)  # fmt: skip
    old = with_new_figures(document, 1000, 1.5)
    assert valid(old, grown) is None
    assert valid(with_new_figures(document, -1, 1.5), grown) is not None
    assert valid(with_new_figures(document, 1000, math.nan), grown) is not None
    assert valid(with_new_figures(document, -1, math.nan)) is None  # not figures without them
    (verdict,) = judge(old, {"dram_bytes": 999}, grown)
    assert (verdict.option, verdict.ok, verdict.headroom) == ("max-dram-bytes", False, -1)
    config = tmp_path / "convcalc.toml"
    config.write_text('[budgets.a]\ncommand = "conv --cin 4 --cout 8"\nmax-dram-bytes = "1K"\n')
    assert core_config.load(config, grown).entries[0].limits == {"dram_bytes": 1000}
    with pytest.raises(InvalidSpecError, match="unknown key 'max-dram-bytes'"):
        core_config.load(config)
    # diff: the whole-model figure grows (exit 1 material), each layer shows its change
    new = with_new_figures(document, 1200, 2.0)
    changes = core_diff.compare(old, new, grown)
    model = {c.figure: c for c in changes if not c.layer}
    assert model["dram_bytes"].grew(core_diff.parse_tolerance("10%"), grown)
    assert not model["dram_bytes"].grew(core_diff.parse_tolerance("30%"), grown)
    assert model["dram_intensity"].new == 2.0
    assert any(c.layer and c.figure == "dram_bytes" for c in changes)
    assert core_diff.compare(old, new) == []  # the real catalogue knows neither


# ---------------------------------------------------------------- the published schema


def test_shipped_schema_is_the_generated_one(request: pytest.FixtureRequest) -> None:
    """convcalc/schema/report.schema.json equals json_schema() (--update-golden rewrites it)."""
    text = schema_text()
    if request.config.getoption("--update-golden"):
        SCHEMA_FILE.write_text(text, encoding="utf-8")
    assert SCHEMA_FILE.read_text(encoding="utf-8") == text, "run pytest --update-golden"
    schema = json.loads(text)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_every_report_command_is_covered() -> None:
    """The schema test runs every command of the app that prints a report."""
    commands = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    assert commands - NOT_REPORTS == set(RUNS), "add the new command to RUNS"


def test_real_documents_of_every_command_validate(documents: dict[str, list[Any]]) -> None:
    """Every command's --format json (sweeps, compare, verified, conventions, budgets) is valid."""
    for command, found in documents.items():
        for document in found:
            assert valid(document) is None, (command, valid(document))
    baseline = {"schema": 1, "command": "check", "baseline": {"a": documents["conv"][0]}}
    assert valid(baseline) is None


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("analytic", "macs"), "x"),
        (("analytic", "macs"), -1),
        (("analytic", "macs"), 1.0),
        (("analytic", "params"), True),
        (("analytic", "memory", "activation_bytes"), math.inf),
        (("analytic", "output_shape"), [1, "8"]),
        (("analytic", "memory"), None),
        (("analytic",), None),
        (("layers",), 5),
        (("layers",), [[1]]),
        (("spec", "width"), "x"),
        (("schema",), 2),
        (("budgets",), [{"figure": "bytes", "value": 1, "limit": 1, "headroom": 0, "ok": True}]),
    ],
)
def test_the_schema_refuses_broken_documents(
    documents: dict[str, list[Any]], path: tuple[str, ...], value: Any
) -> None:
    """A figure of the wrong type, a broken layer list, a wrong version: each named."""
    document = copy.deepcopy(documents["mobilenet"][1][0])  # a sweep point
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    problem_text = valid(document)
    assert problem_text is not None
    with pytest.raises(InvalidSpecError, match=path[-1]):
        check_document([document])
