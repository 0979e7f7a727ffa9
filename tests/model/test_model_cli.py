"""``convcalc model``: a user's file and the zoos, every bad target one line and its code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.model.nets import USER_FILE, user_net_macs, user_net_params
from tests.test_cli import error_line, invoke, process_error_line, run


@pytest.fixture
def user_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``mypkg/net.py`` in a project directory, which is the current directory."""
    package = tmp_path / "mypkg"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "net.py").write_text(USER_FILE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return package / "net.py"


def test_file_target_json(user_file: Path) -> None:
    """``convcalc model mypkg/net.py:build --arg width=0.5 -i 160``: the contract, checked."""
    result = invoke("model", "mypkg/net.py:build", "--arg", "width=0.5", "-i", "160",
                    "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["command"] == "model"
    assert document["match"] is True
    assert document["analytic"]["params"] == user_net_params(0.5)
    assert document["analytic"]["macs"] == user_net_macs(0.5, 160)
    assert document["analytic"]["not_counted"] == {}
    assert document["spec"]["args"] == {"width": 0.5}
    assert document["spec"]["input_shape"] == [1, 3, 160, 160]
    assert document["measured"]["device"] == "meta"


def test_module_target_from_the_current_directory(user_file: Path) -> None:
    """``pkg.module:factory`` imports with the current directory on the path, as pytest does."""
    result = invoke("model", "mypkg.net:build", "-i", "32", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["analytic"]["params"] == user_net_params()


def test_table_folds_and_tops(user_file: Path) -> None:
    """--fold folds rows into modules; --top keeps the costliest (the stem first)."""
    result = invoke("model", "mypkg/net.py:build", "-i", "32", "--top", "2")
    assert result.exit_code == 0, result.stderr
    assert "the 2 layers with the most MACs" in result.stdout
    lines = [line for line in result.stdout.splitlines() if "│ stem" in line]
    assert lines


def test_budget_on_a_model(user_file: Path) -> None:
    """Budgets work on a model as on every command: exit 1 naming the figure."""
    result = invoke("model", "mypkg/net.py:build", "-i", "32", "--max-params", "100",
                    "--format", "json")  # fmt: skip
    assert result.exit_code == 1
    assert f"params {user_net_params():,} > --max-params 100" in result.stderr


@pytest.mark.parametrize(
    ("target", "args", "message"),
    [
        ("nowhere/net.py:build", [], "does not exist"),
        ("mypkg.missing:build", [], "cannot import 'mypkg.missing'"),
        ("mypkg/net.py:nothing", [], "has no attribute 'nothing'"),
        ("mypkg/net.py:SIZE", [], "is a int, not a callable"),
        ("mypkg/net.py:broken", ["--arg", "width=2"], "ValueError: width 2 is not supported"),
        ("mypkg/net.py:not_a_model", [], "returned a int, not an nn.Module"),
        ("mypkg/net.py:two_inputs", [], "takes other inputs than the 1 positional input given"),
        ("mypkg/net.py:build", ["--arg", "width"], "must be name=value"),
        ("mypkg/net.py:build", ["--arg", "width=wide"], "is not a Python literal"),
        ("mypkg/net.py:build", ["--cin", "4"], "forward pass failed on a 1x4x224x224 input"),
        ("mypkg/net.py:build", ["--input-shape", "1x3x0x8"], "must have positive sizes"),
        ("net", [], "must be module:factory"),
        ("torchvision:resnet5", [], "has no model 'resnet5' (did you mean"),
    ],
)
def test_bad_targets_exit_2_with_one_line(
    user_file: Path, target: str, args: list[str], message: str
) -> None:
    """Every bad target or input: one error line naming the cause, exit 2."""
    assert message in error_line(invoke("model", target, *args), 2)


def test_missing_zoo_exits_3_naming_the_extra() -> None:
    """timm not installed: exit 3, and which extra installs it (a real process)."""
    process = run("model", "timm:resnet18", env={"PYTHONPATH": str(_blocker())})
    line = process_error_line(process, 3)
    assert "convcalc[zoo]" in line


def _blocker() -> Path:
    """A path entry whose ``timm`` cannot be imported (as when it is not installed)."""
    return Path(__file__).parent / "blocked"


def test_torchvision_target_per_layer() -> None:
    """``convcalc model torchvision:resnet18``: every figure checked, JSON per layer."""
    result = invoke("model", "torchvision:resnet18", "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["match"] is True
    assert document["analytic"]["params"] == 11_689_512
    assert document["analytic"]["macs"] == 1_814_073_344
    assert len(document["layers"]) > 60


def test_long_tables_fold_to_a_screen_and_say_so() -> None:
    """A model with more than 60 layers is folded into modules by default, with a notice;
    --fold 99 shows every layer; JSON always keeps every node."""
    folded = invoke("model", "torchvision:resnet18")
    assert folded.exit_code == 0, folded.stderr
    notice = folded.stderr.strip()
    assert notice.startswith("notice: 69 layers folded into modules 2 levels deep")
    rows = int(folded.stdout.split("levels deep (")[1].split(" rows")[0])
    assert 11 < rows <= 60  # deeper than depth 1's 11 rows, within a screen
    # The deepest that fits: at depth 3 each block's ReLU, called twice, is two rows.
    deeper = invoke("model", "torchvision:resnet18", "--fold", "3")
    assert int(deeper.stdout.split("levels deep (")[1].split(" rows")[0]) > 60
    every = invoke("model", "torchvision:resnet18", "--fold", "99")
    assert "folded" not in every.stderr
    assert "per module, 99 levels deep" in every.stdout


@pytest.mark.parametrize(
    ("command", "alias"),
    [
        (["model", "mypkg/net.py:build", "-i", "32"], True),
        (["mobilenet", "--generation", "2"], True),
        (["resnet", "--depth", "18"], False),  # its --depth is the network's depth
    ],
)
def test_fold_is_one_spelling_everywhere(user_file: Path, command: list[str], alias: bool) -> None:
    """--fold N folds every network command's table; --depth N, its first spelling on
    model and mobilenet, is the same option there."""
    folded = invoke(*command, "--fold", "1")
    assert folded.exit_code == 0, folded.stderr
    assert "per module, 1 level deep" in folded.stdout
    if alias:
        assert invoke(*command, "--depth", "1").stdout == folded.stdout
    bad = invoke(*command, "--fold", "0")
    assert bad.exit_code == 2
    assert bad.stderr.strip() == "error: --fold=0 must be a positive integer"
