"""The outside check: every torchvision classification, segmentation and video model, read by
``convcalc.profile``, agrees with torchinfo and FlopCounterMode in every figure, and
reproduces the params and GFLOPS torchvision publishes in its weights' metadata.

torchvision's GFLOPS (``meta["_ops"]``) are multiply-accumulates (conv, linear,
matmul and attention) in billions, at each weights' own input size, to three
decimals: convcalc's ``macs`` under its stated convention. Computed, never looked
up: the expected figures come from torchvision's metadata, the counts from the model.

CI installs torchvision (see README); set CONVCALC_REQUIRE_ZOO=1 to make its
absence a failure rather than a skip.
"""

from __future__ import annotations

import inspect
import os
import warnings
from typing import Any

import pytest

if os.environ.get("CONVCALC_REQUIRE_ZOO"):
    import torchvision
else:
    torchvision = pytest.importorskip("torchvision")

import convcalc

CLASSIFICATION = torchvision.models.list_models(module=torchvision.models)
SEGMENTATION = torchvision.models.list_models(module=torchvision.models.segmentation)

# googlenet's weights builder drops the two auxiliary heads it trains with; its
# published count is without them (with them: 13,004,888, their 6.4 M never run in eval).
ARGS: dict[str, dict[str, Any]] = {"googlenet": {"aux_logits": False}}


def _cases() -> list[tuple[str, str]]:
    """Every (model, weights) pair: a model's weights differ in input size and classes."""
    return [
        (name, weights.name)
        for name in CLASSIFICATION + SEGMENTATION
        for weights in torchvision.models.get_model_weights(name)
    ]


def _case(name: str, weights_name: str) -> tuple[dict[str, Any], int, Any]:
    weights = torchvision.models.get_model_weights(name)[weights_name]
    transforms = weights.transforms()
    size = getattr(transforms, "crop_size", None) or transforms.resize_size
    side = size[0] if isinstance(size, list | tuple) else size
    args = dict(ARGS.get(name, {}))
    if "aux_loss" in inspect.signature(torchvision.models.get_model_builder(name)).parameters:
        args["aux_loss"] = True  # the segmentation heads published with their aux classifier
    categories = weights.meta.get("categories")
    if categories and len(categories) != 1000:
        args["num_classes"] = len(categories)  # e.g. segmentation's 21 classes
    if side != 224 and name.startswith("vit_"):
        # A ViT's position embedding is sized for its input (VisionTransformer's
        # image_size, default 224): the SWAG weights are published at 384 to 518.
        args["image_size"] = side
    return args, side, weights.meta


@pytest.mark.parametrize(("name", "weights"), _cases())
def test_zoo_model_reproduces_torchvision(name: str, weights: str) -> None:
    """Analytic == torchinfo == FlopCounterMode; params and GFLOPS as published."""
    args, side, meta = _case(name, weights)
    notices: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchvision's own init warnings
        report = convcalc.profile(
            f"torchvision:{name}", (1, 3, side, side), args=args, cross_check=True,
            notify=notices.append,
        )  # fmt: skip
    assert report.match is True, [(c.figure, c.analytic, c.measured) for c in report.failed_checks]
    assert not report.totals.partial, report.totals.not_counted
    assert report.params == meta["num_params"]
    assert round(report.macs / 1e9, 3) == meta["_ops"], (report.macs, meta["_ops"])
    if name.startswith("regnet"):  # its constructor cannot run on meta: said, and built on CPU
        assert any("cannot be built on the meta device" in n for n in notices), notices


VIDEO = torchvision.models.list_models(module=torchvision.models.video)
# torchvision's video reference trains and evaluates 16-frame clips (its --clip-len):
# the published GFLOPS are at 16 frames of each weights' crop size.
CLIP_FRAMES = 16


@pytest.mark.parametrize(
    ("name", "weights"),
    [(name, w.name) for name in VIDEO for w in torchvision.models.get_model_weights(name)],
)
def test_video_model_reproduces_torchvision(name: str, weights: str) -> None:
    """3-D convolutions, 3-D pooling, windowed 3-D attention (R3D, MC3, R(2+1)D, S3D,
    MViT, Swin3D): every layer read and counted, analytic == torchinfo ==
    FlopCounterMode, and params and GFLOPS as published."""
    entry = torchvision.models.get_model_weights(name)[weights]
    side = entry.transforms().crop_size[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = convcalc.profile(
            f"torchvision:{name}", (1, 3, CLIP_FRAMES, side, side), cross_check=True
        )
    assert report.match is True, [(c.figure, c.analytic, c.measured) for c in report.failed_checks]
    assert not report.totals.partial, report.totals.not_counted
    assert report.params == entry.meta["num_params"]
    assert round(report.macs / 1e9, 3) == entry.meta["_ops"], (report.macs, entry.meta["_ops"])
