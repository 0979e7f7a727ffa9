"""What the outside zoos (tests/zoo: timm, transformers, ultralytics) found, each as a small
hand-made model that shows the one thing the real model does: it verifies exactly (or says
"not compared", with the reason), where it failed before.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import convcalc
from convcalc.core.report import Report


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
