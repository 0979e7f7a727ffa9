"""The outside check on Hugging Face ``transformers``: models built from their default
configurations (never ``from_pretrained``: nothing downloads), fed the inputs they take
(token ids, pixels, a waveform, log-mel features, decoder ids as keywords), read by
``convcalc.profile`` complete and exact: parameters == ``sum(numel)`` over unique
parameters (tied weights once), MACs == FlopCounterMode's FLOPs / 2, every torchinfo
figure compared or not compared with its reason.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any

import pytest

if os.environ.get("CONVCALC_REQUIRE_ZOO"):
    import transformers
else:
    transformers = pytest.importorskip("transformers")

import torch

import convcalc

TOKENS = (1, 32)


def _ids(*shape: int) -> torch.Tensor:
    return torch.zeros(shape, dtype=torch.long)


# name -> (model factory, positional inputs, keyword inputs)
CASES: dict[str, tuple[Callable[[], Any], tuple[Any, ...], dict[str, Any]]] = {
    "bert": (lambda: transformers.BertModel(transformers.BertConfig()), (_ids(*TOKENS),), {}),
    "gpt2": (
        lambda: transformers.GPT2LMHeadModel(transformers.GPT2Config(n_layer=2)),
        (_ids(*TOKENS),),
        {},
    ),
    "t5": (
        lambda: transformers.T5Model(transformers.T5Config()),
        (_ids(*TOKENS),),
        {"decoder_input_ids": _ids(1, 8)},
    ),
    "vit": (
        lambda: transformers.ViTModel(transformers.ViTConfig()),
        (torch.zeros(1, 3, 224, 224),),
        {},
    ),
    "wav2vec2": (
        lambda: transformers.Wav2Vec2Model(transformers.Wav2Vec2Config()),
        (torch.zeros(1, 16000),),
        {},
    ),
    "whisper": (
        lambda: transformers.WhisperModel(transformers.WhisperConfig()),
        (torch.zeros(1, 80, 3000),),
        {"decoder_input_ids": _ids(1, 4)},
    ),
}


def _unique_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())  # parameters() yields a tied one once


@pytest.mark.parametrize("name", sorted(CASES))
def test_transformers_model_is_complete_and_exact(name: str) -> None:
    """Analytic == torchinfo == FlopCounterMode / 2, nothing uncounted, params once each."""
    factory, args, kwargs = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = factory().eval()
        report = convcalc.profile(model, *args, cross_check=True, **kwargs)
    assert not report.totals.partial, report.totals.not_counted
    assert report.match is not False, [
        (c.figure, c.analytic, c.measured) for c in report.failed_checks
    ]
    assert report.params == _unique_params(model)
    assert report.measured is not None
    assert report.measured.flop_counter_flops == 2 * report.macs
