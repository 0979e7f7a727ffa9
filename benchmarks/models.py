"""Models from outside the torchvision classification zoo, for the benchmark's model cases.

One definition serves both sides: convcalc loads a factory by path
(``convcalc model benchmarks/models.py:bert --input-shape 1x128:long``) and
``benchmarks/peers.py`` builds the same model and feeds each peer the same
inputs. Nothing here downloads: every model is built from a configuration or a
yaml file its package ships, with random weights.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import torch
from torch import nn

TOKENS = 128  # token ids per sequence (BERT, GPT-2)
LSTM_TOKENS = 64  # token ids per sequence (the LSTM classifier)
LSTM_VOCAB = 10_000
YOLO_SIZE = 640  # ultralytics trains and exports its detect models at 640


def bert() -> nn.Module:
    """Hugging Face ``BertModel`` from ``BertConfig()``: BERT-base, 12 layers, 110M params."""
    import transformers

    return transformers.BertModel(transformers.BertConfig())


def gpt2() -> nn.Module:
    """Hugging Face ``GPT2LMHeadModel``, 2 layers (``GPT2Config(n_layer=2)``), tied lm_head."""
    import transformers

    return transformers.GPT2LMHeadModel(transformers.GPT2Config(n_layer=2))


def yolov8n() -> nn.Module:
    """ultralytics YOLOv8n detect from the yaml the package ships (its layer table off stdout)."""
    from ultralytics.nn.tasks import DetectionModel

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        model: nn.Module = DetectionModel("yolov8n.yaml", verbose=False)  # type: ignore[no-untyped-call]
    return model


class LSTMClassifier(nn.Module):
    """Token ids -> embedding -> 2-layer LSTM -> the last step's state -> class logits."""

    def __init__(
        self, vocab: int = LSTM_VOCAB, embed: int = 128, hidden: int = 256, classes: int = 10
    ) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=2, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.embed(ids))
        logits: torch.Tensor = self.head(out[:, -1])
        return logits


def lstm_classifier() -> nn.Module:
    """The LSTM classifier with its defaults (10,000 words, 128 -> 256 x 2 layers -> 10)."""
    return LSTMClassifier()


# ---------------------------------------------------------------- example inputs
# Each returns the model's positional inputs (``convcalc model --inputs FILE:FUNCTION`` and
# every peer call the same function): token ids seeded below the vocabulary, images
# uniform in [0, 1).


def _ids(length: int, vocab: int) -> tuple[torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return (torch.randint(0, vocab, (1, length), generator=generator),)


def bert_inputs() -> tuple[torch.Tensor]:
    """One sequence of 128 token ids below BERT's 30,522-word vocabulary."""
    return _ids(TOKENS, 30_522)


def gpt2_inputs() -> tuple[torch.Tensor]:
    """One sequence of 128 token ids below GPT-2's 50,257-token vocabulary."""
    return _ids(TOKENS, 50_257)


def lstm_classifier_inputs() -> tuple[torch.Tensor]:
    """One sequence of 64 token ids below the classifier's 10,000 words."""
    return _ids(LSTM_TOKENS, LSTM_VOCAB)


def yolov8n_inputs() -> tuple[torch.Tensor]:
    """One 3x640x640 image."""
    return (torch.rand(1, 3, YOLO_SIZE, YOLO_SIZE, generator=torch.Generator().manual_seed(0)),)
