"""What the outside zoos (tests/zoo: timm, transformers, ultralytics) found, each as a small
hand-made model that shows the one thing the real model does: it verifies exactly (or says
"not compared", with the reason), where it failed before.
"""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import convcalc
from convcalc.core.documents.report import Report


def _clean(report: Report) -> None:
    assert report.match is True, [(c.figure, c.analytic, c.measured) for c in report.failed_checks]


def _skipped(report: Report) -> dict[str, str]:
    return {check.figure: check.reason for check in report.checks if not check.is_compared}


class TiedEmbeddings(nn.Module):
    """T5: an encoder's and a decoder's ``nn.Embedding`` each hold the ``shared`` weight,
    which is never called itself; each reads it as data under its own path."""

    def __init__(self) -> None:
        super().__init__()
        self.shared = nn.Embedding(50, 8)
        self.encoder = nn.Embedding(50, 8)
        self.decoder = nn.Embedding(50, 8)
        self.encoder.weight = self.shared.weight
        self.decoder.weight = self.shared.weight
        self.head = nn.Linear(8, 4)

    def forward(self, ids: torch.Tensor, decoder_ids: torch.Tensor) -> torch.Tensor:
        memory = self.head(self.encoder(ids)).mean(1, keepdim=True)
        out: torch.Tensor = self.head(self.decoder(decoder_ids)) + memory
        return out


def test_an_embedding_tied_to_another_module_s_weight_verifies() -> None:
    """torchinfo sizes both embeddings' calls as calls with parameters (forward/backward
    bytes: predicted) and counts each one's weight by its name (not compared, with the
    reason: the model reads it as data), where both were a mismatch."""
    model = TiedEmbeddings().eval()
    ids, decoder_ids = torch.zeros(1, 6, dtype=torch.long), torch.zeros(1, 3, dtype=torch.long)
    report = convcalc.profile(model, ids, decoder_ids=decoder_ids, cross_check=True)
    _clean(report)
    skipped = _skipped(report)
    for path in ("encoder", "decoder"):
        assert "by its name" in skipped[f"{path}.torchinfo_mult_adds"]
    checks = {c.figure: c for c in report.checks}
    assert checks["torchinfo_forward_backward_bytes"].is_compared
    assert checks["torchinfo_mult_adds"].is_compared  # the rest of the total
    assert report.params == sum(p.numel() for p in model.parameters())


class WeightNormConv(nn.Module):
    """wav2vec2's positional convolution: a grouped Conv1d whose weight is reparametrised
    by weight_norm (``parametrizations.weight_norm``, or the old ``nn.utils.weight_norm``
    with ``weight_g``/``weight_v``), over every axis but ``dim``."""

    def __init__(self, parametrization: bool, dim: int) -> None:
        super().__init__()
        conv = nn.Conv1d(8, 8, 5, padding=2, groups=2)
        if parametrization:
            self.conv = nn.utils.parametrizations.weight_norm(conv, dim=dim)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)  # torch's deprecation note
                self.conv = nn.utils.weight_norm(conv, dim=dim)
        self.head = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(torch.nn.functional.gelu(self.conv(x)).transpose(1, 2))
        return out


@pytest.mark.parametrize("dim", [0, 2])
@pytest.mark.parametrize("parametrization", [True, False], ids=["parametrization", "old"])
def test_weight_norm_is_counted_and_its_parameters_once(parametrization: bool, dim: int) -> None:
    """torch._weight_norm has a formula (3 per element of v, 1 per element of g; no MACs,
    as FlopCounterMode counts none), v and g count once each, and the whole model is
    exact: it was partial, and the old weight_norm's computed weight broke the meta copy
    of a model given on the CPU (a traceback)."""
    model = WeightNormConv(parametrization, dim).eval()
    report = convcalc.profile(model, (1, 8, 20), cross_check=True)
    assert not report.totals.partial, report.totals.not_counted
    _clean(report)
    assert report.params == sum(p.numel() for p in model.parameters())
    assert report.measured is not None
    assert report.measured.flop_counter_flops == 2 * report.macs
    v = 8 * 4 * 5
    g = 8 if dim == 0 else 5
    assert report.totals.elementwise["weight_norm"] == 3 * v + g
    with FlopCounterMode(display=False) as counter:
        torch._weight_norm(torch.zeros(8, 4, 5), torch.zeros(8, 1, 1), 0)
    assert counter.get_total_flops() == 0


class ClassTokenBlock(nn.Module):
    """timm's cait and pit: the class token, a parameter, expanded to the batch and handed
    to a module as its input (here with the patch tokens, in a tuple, as pit does)."""

    def __init__(self) -> None:
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, 8))
        self.mix = TokenMix()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x.flatten(2).transpose(1, 2)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        out: torch.Tensor = self.mix((tokens, cls))
        return out


class TokenMix(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(8, 8)

    def forward(self, pair: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        tokens, cls = pair
        out: torch.Tensor = self.proj(torch.cat([cls, tokens], dim=1))
        return out


def test_a_parameter_view_handed_to_a_module_is_cross_checked() -> None:
    """FlopCounterMode's module tracker could not hook a view of a parameter made without
    gradients (it requires grad and has no gradient function): --cross-check failed with
    exit 3 naming torchinfo; it counts now, and the whole model verifies."""
    report = convcalc.profile(ClassTokenBlock().eval(), (2, 8, 4, 4), cross_check=True)
    _clean(report)
    assert report.measured is not None
    assert report.measured.flop_counter_flops == 2 * report.macs > 0


class PositionSensitiveAttention(nn.Module):
    """YOLO11's C2PSA attention (ultralytics' block.Attention): q, k, v from one 1x1 conv,
    ``q^T k`` and ``v attn^T`` as functional matmuls, a softmax call, a depthwise
    positional conv; thop counts the matmuls, which no module of its runs."""

    def __init__(self, dim: int = 16, heads: int = 2) -> None:
        super().__init__()
        self.heads, self.key_dim, self.head_dim = heads, dim // heads // 2, dim // heads
        self.qkv = nn.Conv2d(dim, dim + 2 * self.key_dim * heads, 1)
        self.proj = nn.Conv2d(dim, dim, 1)
        self.pe = nn.Conv2d(dim, dim, 3, padding=1, groups=dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        qkv = self.qkv(x).view(b, self.heads, 2 * self.key_dim + self.head_dim, h * w)
        q, k, v = qkv.split([self.key_dim, self.key_dim, self.head_dim], dim=2)
        attn = ((q.transpose(-2, -1) @ k) * self.key_dim**-0.5).softmax(dim=-1)
        y = (v @ attn.transpose(-2, -1)).view(b, c, h, w) + self.pe(v.reshape(b, c, h, w))
        out: torch.Tensor = self.proj(y)
        return out


def test_thop_counts_yolo11_s_functional_attention() -> None:
    """--convention thop is the real thop's total on YOLO11's attention (its two matmuls
    were left out: get_flops was 0.23% over on yolo11n-cls), and exceeds the module-only
    count by exactly those products."""
    thop = pytest.importorskip("thop")
    from convcalc.core.count.conventions import count

    model, x = PositionSensitiveAttention().eval(), torch.zeros(1, 16, 5, 5)
    report = convcalc.profile(model, x, verify=False)
    printed, _ = thop.profile(model, inputs=(x,), verbose=False)
    counted = count(report.figures, "thop")
    assert counted.total == printed
    tokens, heads = 25, 2
    products = heads * tokens * tokens * (4 + 8)  # q^T k over key_dim 4, v attn^T over 25
    convs = sum(x.macs for x in report.layers if x.type.startswith("Conv"))
    assert counted.total == convs + products
