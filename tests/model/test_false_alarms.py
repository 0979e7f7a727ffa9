"""No false alarm: a figure torchinfo reports by a rule of its own is "not compared", with
the reason, never a mismatch; the rest of each total is still compared, and a real
disagreement still fails.

Each hand-made model shows one thing a real model does (named beside it); the real models
run too (transformers and ultralytics behind the ``slow`` marker: their imports).
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F  # noqa: N812 - the usual torch alias
from torch import nn

import convcalc
from convcalc.core.documents.checks import build_checks
from convcalc.core.documents.report import Report


def _compared_and_clean(report: Report) -> None:
    assert report.match is True, [(c.figure, c.analytic, c.measured) for c in report.failed_checks]


def _skipped(report: Report) -> dict[str, str]:
    return {check.figure: check.reason for check in report.checks if not check.is_compared}


class SharedActivation(nn.Module):
    """One SiLU registered in every conv block (ultralytics' ``Conv.default_act``)."""

    def __init__(self) -> None:
        super().__init__()
        act = nn.SiLU()
        self.a = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), act)
        self.b = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(self.a(x))  # type: ignore[no-any-return]


def test_a_module_registered_in_several_places_verifies() -> None:
    """Each call of the shared SiLU is paired with torchinfo's (by the path its calling
    parent holds it by, as the trace names it); torchinfo's parameter total, which counts
    it again under each parent, is not compared, and says why."""
    report = convcalc.profile(SharedActivation(), (1, 3, 8, 8), cross_check=True)
    _compared_and_clean(report)
    assert report.params == 3 * 4 * 9 + 4 + 4 * 4 * 9 + 4
    for call in ("a.1", "b.1"):
        check = report.check(f"{call}.output_shape")
        assert check is not None
        assert check.verdict is True
    skipped = _skipped(report)
    assert set(skipped) <= {"torchinfo_params"}
    assert "b.1 is a.1" in skipped.get("torchinfo_params", "b.1 is a.1")


class TiedHead(nn.Module):
    """An embedding and an output layer sharing one matrix (GPT-2's ``lm_head``/``wte``)."""

    def __init__(self, vocab: int = 50, dim: int = 8) -> None:
        super().__init__()
        self.wte = nn.Embedding(vocab, dim)
        self.lm_head = nn.Linear(dim, vocab, bias=False)
        self.lm_head.weight = self.wte.weight

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.lm_head(torch.tanh(self.wte(ids)))  # type: ignore[no-any-return]


def test_tied_weights_are_counted_once_and_torchinfos_double_count_is_not_compared() -> None:
    """The tied matrix counts once; torchinfo's parameter total and bytes (twice) are not
    compared, each naming the tied parameter."""
    report = convcalc.profile(TiedHead(), (2, 5), input_dtype="long")
    assert report.params == 50 * 8
    skipped = _skipped(report)
    assert {"torchinfo_params", "torchinfo_param_bytes"} <= set(skipped)
    assert "lm_head.weight is wte.weight" in skipped["torchinfo_params"]
    assert not any(c.figure == "params" for c in report.failed_checks)


class DictHead(nn.Module):
    """A result as a dict whose first entry is not its last (a ``ModelOutput``)."""

    def __init__(self, ordered: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3)
        self.head = nn.Linear(6, 4)
        self.ordered = ordered

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.conv(x)
        result = {"logits": self.head(features.mean((2, 3))), "features": features}
        return OrderedDict(result) if self.ordered else result


@pytest.mark.parametrize("ordered", [False, True])
def test_a_dict_result_is_compared_by_its_first_tensor_on_both_sides(ordered: bool) -> None:
    """The measured output shape is the model's own first tensor, as the analytic side
    reads it, not torchinfo's size of the dict (its last tensor)."""
    report = convcalc.profile(DictHead(ordered), (2, 3, 8, 8), cross_check=True)
    _compared_and_clean(report)
    assert report.output_shape == (2, 4)
    assert report.measured is not None
    assert report.measured.output_shape == (2, 4)


class ScalarAffine(nn.Module):
    """``scale * x + bias`` with one-element parameters (timm hgnetv2's LearnableAffineBlock)."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * x + self.bias


class BiasTable(nn.Module):
    """A relative position bias table read by indexing (timm gcvit's RelPosBias)."""

    relative_position_index: torch.Tensor

    def __init__(self, window: int = 4, heads: int = 2) -> None:
        super().__init__()
        self.relative_position_bias_table = nn.Parameter(torch.zeros(2 * window - 1, heads))
        index = torch.arange(window)[:, None] - torch.arange(window)[None, :] + window - 1
        self.register_buffer("relative_position_index", index.reshape(-1))
        self.window, self.heads = window, heads

    def forward(self, scores: torch.Tensor) -> torch.Tensor:
        bias = self.relative_position_bias_table[self.relative_position_index]
        return scores + bias.reshape(self.window, self.window, self.heads).permute(2, 0, 1)


class Blur(nn.Module):
    """A fixed depthwise filter held as a buffer (timm tresnet's BlurPool2d)."""

    filt: torch.Tensor

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.register_buffer("filt", torch.ones(channels, 1, 3, 3) / 9)
        self.channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.filt, stride=2, padding=1, groups=self.channels)


class Quirks(nn.Module):
    """Every case above in one network, around ordinary layers torchinfo counts."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
        self.lab = ScalarAffine()
        self.blur = Blur(4)
        self.rel_pos = BiasTable()
        self.head = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.blur(self.lab(self.conv(x)))  # (N, 4, 4, 4): 2 heads of 4 x 4 scores
        y = self.rel_pos(y.reshape(-1, 2, 4, 4)).reshape(y.shape)
        return self.head(y.mean((2, 3)))  # type: ignore[no-any-return]


def test_parameters_read_as_data_and_buffer_filters_are_not_compared() -> None:
    """The three leaf calls torchinfo counts by parameter names alone are not compared,
    each with its reason; torchinfo's total is compared without them, and agrees."""
    report = convcalc.profile(Quirks(), (2, 2, 8, 8), cross_check=True)
    _compared_and_clean(report)
    skipped = _skipped(report)
    assert set(skipped) == {
        "lab.torchinfo_mult_adds",
        "blur.torchinfo_mult_adds",
        "rel_pos.torchinfo_mult_adds",
    }
    assert "'bias'" in skipped["lab.torchinfo_mult_adds"]
    assert "'relative_position_bias_table'" in skipped["rel_pos.torchinfo_mult_adds"]
    assert "buffer" in skipped["blur.torchinfo_mult_adds"]
    total = report.check("torchinfo_mult_adds")
    assert total is not None
    assert total.compared is not None
    assert total.verdict is True
    assert "3 module calls" in total.note
    # the blur is real work: counted in the MACs and by FlopCounterMode
    assert report.check("flop_counter_flops") is not None
    assert report.macs > 2 * 4 * 8 * 8 * 2 * 9


def test_a_real_disagreement_still_fails_beside_calls_not_compared() -> None:
    """Leaving calls out of a total compares the rest: one mult-add more elsewhere fails."""
    report = convcalc.profile(Quirks(), (2, 2, 8, 8))
    assert report.measured is not None
    wrong = dataclasses.replace(
        report.measured, torchinfo_mult_adds=report.measured.torchinfo_mult_adds + 1
    )
    failed = [c.figure for c in build_checks(report.figures, wrong) if not c.ok]
    assert failed == ["torchinfo_mult_adds"]


def test_reasons_show_in_every_format() -> None:
    """The JSON gives each check its reason (match null); the tables show it under the totals."""
    from convcalc.render.text import to_markdown

    report = convcalc.profile(Quirks(), (2, 2, 8, 8))
    checks = report.to_dict()["measured"]["checks"]
    entry = next(c for c in checks if c["figure"] == "lab.torchinfo_mult_adds")
    assert entry["match"] is None
    assert entry["compared"] is False
    assert "'bias'" in entry["reason"]
    assert report.to_dict()["match"] is True
    markdown = to_markdown(report)
    assert "not compared: " in markdown
    assert "'bias'" in markdown


@pytest.mark.parametrize("name", ["hgnetv2_b0", "gcvit_xxtiny", "tresnet_m", "coat_lite_tiny"])
def test_timm_models_with_those_quirks_verify(name: str) -> None:
    """The real models: each verifies, with what it cannot compare said."""
    pytest.importorskip("timm")
    report = convcalc.profile(f"timm:{name}", (1, 3, 224, 224))
    _compared_and_clean(report)
    assert _skipped(report)


@pytest.mark.slow
def test_gpt2_tied_head_verifies() -> None:
    """transformers' GPT2LMHeadModel (2 layers, from its config): the tied lm_head counts
    once, and the ModelOutput's first tensor (the logits) is compared."""
    transformers = pytest.importorskip("transformers")
    config = transformers.GPT2Config(n_layer=2, n_embd=64, n_head=2, vocab_size=1000,
                                     n_positions=64, bos_token_id=0, eos_token_id=0)  # fmt: skip
    model = transformers.GPT2LMHeadModel(config)
    report = convcalc.profile(model, (1, 16), input_dtype="long")
    assert report.params == sum(p.numel() for p in model.parameters())
    assert report.output_shape == (1, 16, 1000)
    failed = {c.figure for c in report.failed_checks}
    assert not failed & {"params", "torchinfo_params", "output_shape", "torchinfo_param_bytes"}


@pytest.mark.slow
def test_ultralytics_shared_activation_verifies() -> None:
    """An ultralytics YOLOv8n classifier from its yaml: one SiLU in every conv."""
    tasks = pytest.importorskip("ultralytics.nn.tasks")
    model = tasks.ClassificationModel("yolov8n-cls.yaml", verbose=False)
    report = convcalc.profile(model, (1, 3, 224, 224))
    _compared_and_clean(report)
    assert report.params == sum(p.numel() for p in model.parameters())
    assert "torchinfo_params" in _skipped(report)


# A partial total never passes silently ------------------------------------------------

PARTIAL_FILE = '''
import torch
import torch.nn.functional as F
from torch import nn


class Mixer(nn.Module):
    """A conv, then a bilinear form (an op with no formula)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 1)
        self.weight = nn.Parameter(torch.zeros(2, 32, 32))

    def forward(self, x):
        y = self.conv(x).flatten(1)
        return F.bilinear(y, y, self.weight)


def build():
    return Mixer()
'''


def _convcalc(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "convcalc", *argv], capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip


@pytest.fixture(scope="module")
def partial_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A user's file whose MACs are partial."""
    path = tmp_path_factory.mktemp("partial") / "mixer.py"
    path.write_text(PARTIAL_FILE, encoding="utf-8")
    return f"{path}:build"


@pytest.mark.parametrize(
    ("options", "refusal"),
    [
        (("--value", "macs"), "macs is a partial total: no formula for bilinear (1 call)"),
        (("--max-macs", "1G"), "--max-macs 1,000,000,000 cannot pass"),
        (("--max-flops", "1G", "--format", "json"), "no formula for bilinear (1 call)"),
    ],
)
def test_a_partial_total_is_refused_with_what_was_not_counted(
    partial_model: str, options: tuple[str, ...], refusal: str
) -> None:
    """--value and budgets on a total of work some op left out: exit 1, one error line
    naming the op; no number printed as if it were whole."""
    run = _convcalc("model", partial_model, "--input-shape", "1x3x4x4", *options)
    assert run.returncode == 1, run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1
    assert refusal in errors[0]
    assert "--allow-partial" in errors[0]
    if "--value" in options:
        assert run.stdout == ""


def test_allow_partial_judges_and_prints_the_counted_part(partial_model: str) -> None:
    """--allow-partial: the counted part, as before; a budget on params (whole) is judged
    without it."""
    run = _convcalc("model", partial_model, "--input-shape", "1x3x4x4", "--value", "macs",
                    "--allow-partial", "--max-macs", "1G")  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert int(run.stdout) == 4 * 4 * 3 * 2  # the 1 x 1 conv alone
    whole = _convcalc("model", partial_model, "--input-shape", "1x3x4x4", "--value", "params",
                      "--max-params", "1G")  # fmt: skip
    assert whole.returncode == 0, whole.stderr


def test_budget_verdicts_on_a_partial_document() -> None:
    """core.documents.budgets.judge: a work figure of a partial point fails with what it leaves out;
    params (whole) and an allowed partial total are judged on their values."""
    from convcalc.core.documents.budgets import judge

    document = {"analytic": {"params": 10, "macs": 5, "flops": 10, "partial": True,
                             "not_counted": {"bilinear": 2}}}  # fmt: skip
    verdicts = {v.figure: v for v in judge(document, {"params": 100, "macs": 100})}
    assert verdicts["params"].ok
    assert not verdicts["macs"].ok
    assert verdicts["macs"].partial == "bilinear (2 calls)"
    assert "partial" in verdicts["macs"].to_dict()
    allowed = judge(document, {"macs": 100}, allow_partial=True)
    assert [v.ok for v in allowed] == [True]
