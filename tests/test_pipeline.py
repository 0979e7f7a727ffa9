"""``convcalc.pipeline``: one request, one result; the command line is a view of it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import convcalc
from convcalc.cli import app
from convcalc.errors import BudgetExceededError, InvalidSpecError
from convcalc.pipeline import ModelTarget, Request, run

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def test_a_request_gives_the_document_the_command_line_prints() -> None:
    """The CLI's JSON document is the result's, convention and budgets included."""
    request = Request(convcalc.conv(4, 8, groups=2, input=8), verify=False,
                      convention="fvcore", limits={"params": 100})  # fmt: skip
    result = run(request)
    assert isinstance(result.report, convcalc.Report)
    assert result.report.params == 152
    assert [v.ok for v in result.verdicts] == [False]
    assert isinstance(result.failure(), BudgetExceededError)
    assert result.fold is None
    cli = runner.invoke(app, ["conv", "--cin", "4", "--cout", "8", "-g", "2", "-i", "8",
                              "--no-verify", "--convention", "fvcore", "--max-params", "100",
                              "--format", "json"])  # fmt: skip
    assert cli.exit_code == 1
    assert json.loads(cli.stdout) == json.loads(json.dumps(result.to_dict()))
    assert result.values("macs") == [str(result.conventions[0].value("macs"))]


def test_notices_are_returned_and_told() -> None:
    """A builder's notice is in the result and reaches ``notify`` as it is said."""
    heard: list[str] = []
    result = run(Request(convcalc.mobilenet(2, 0.35, 96), verify=False), notify=heard.append)
    assert result.notices == tuple(heard)
    assert any("channels rounded" in notice for notice in heard)
    assert result.failure() is None
    assert result.ok


@pytest.mark.parametrize(
    ("request_args", "message"),
    [
        ({"dtype": "float8"}, "dtype='float8'"),
        ({"device": "tpu"}, "device='tpu'"),
        ({"verify": False, "cross_check": True}, "--cross-check needs verification"),
        ({"fold": 0}, "--fold=0"),
        ({"limits": {"bytes": 1}}, "budget 'bytes'"),
        ({"convention": "nope"}, "unknown convention 'nope'"),
    ],
)
def test_a_bad_request_is_one_invalid_spec_error(
    request_args: dict[str, object], message: str
) -> None:
    """Every option of a request is checked by the library, not only by the CLI."""
    with pytest.raises(InvalidSpecError, match=message.replace("(", r"\(")):
        run(Request(convcalc.se(32), **request_args))  # type: ignore[arg-type]


def test_a_model_folds_to_a_readable_depth_in_the_library() -> None:
    """The fold default lives in the library: a notebook gets the CLI's table; a caller
    that shows no table (JSON, --value) turns it off and hears no notice."""
    target = ModelTarget("torchvision:resnet18")
    folded = run(Request(target, verify=False))
    assert folded.fold is not None
    assert folded.fold >= 1
    assert isinstance(folded.report, convcalc.Report)
    assert any("folded into modules" in notice for notice in folded.notices)
    assert folded.report.spec["device"] == "meta"  # device "auto" is meta for a model
    whole = run(Request(target, verify=False, readable=False))
    assert whole.fold is None
    assert whole.notices == ()
    chosen = run(Request(target, verify=False, fold=1))
    assert chosen.fold == 1
    assert chosen.notices == ()


@pytest.mark.parametrize("extra", [["--value", "macs"], ["--format", "json"]])
def test_no_fold_notice_without_a_table(extra: list[str]) -> None:
    """``model --value`` and ``--format json`` show no table: no fold notice on stderr."""
    result = runner.invoke(app, ["model", "torchvision:resnet18", "--no-verify", *extra])
    assert result.exit_code == 0, result.stderr
    assert "folded" not in result.stderr
    table = runner.invoke(app, ["model", "torchvision:resnet18", "--no-verify"])
    assert "folded into modules" in table.stderr


def test_importing_the_pipeline_imports_no_torch_rich_or_typer() -> None:
    """The pipeline is library code: importing it (and running a --no-verify request)
    loads none of torch, rich and typer."""
    code = (
        "import sys, convcalc\n"
        "result = convcalc.run(convcalc.Request(convcalc.conv(4, 8), verify=False))\n"
        "assert result.report.params == 296\n"
        "print(sorted(m for m in ('torch', 'rich', 'typer') if m in sys.modules))\n"
    )
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             cwd=ROOT, timeout=120, check=True)  # fmt: skip
    assert process.stdout.strip() == "[]"
