"""The outside check on ultralytics YOLO (a test dependency only: AGPL-3.0, never imported by
the package): v8 and 11 detect, segment and classify models built from the yaml files the
package ships (no weights, no download), read by ``convcalc.profile`` complete and exact,
and reproducing ultralytics' own figures: ``model_info``'s parameter count, and
``get_flops``'s GFLOPs (thop's MACs x 2 at the image size) under ``--convention thop``.

Detect and segment heads call ``Tensor.item`` while building anchors: they cannot run on
the meta device, so convcalc runs them on the CPU on its own (and says so).
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings

import pytest

if os.environ.get("CONVCALC_REQUIRE_ZOO"):
    import ultralytics
else:
    ultralytics = pytest.importorskip("ultralytics")

from ultralytics.nn import tasks
from ultralytics.utils import torch_utils

import convcalc
from convcalc.core.count.conventions import count

# yaml -> (model class, image size): classify models are trained at 224, the rest at 640.
CASES = {
    "yolov8n.yaml": (tasks.DetectionModel, 640),
    "yolov8n-seg.yaml": (tasks.SegmentationModel, 640),
    "yolov8n-cls.yaml": (tasks.ClassificationModel, 224),
    "yolo11n.yaml": (tasks.DetectionModel, 640),
    "yolo11n-seg.yaml": (tasks.SegmentationModel, 640),
    "yolo11n-cls.yaml": (tasks.ClassificationModel, 224),
}


@pytest.mark.parametrize("config", sorted(CASES))
def test_yolo_model_reproduces_ultralytics(config: str) -> None:
    """Analytic == torchinfo == FlopCounterMode / 2, nothing uncounted; params as
    model_info counts them; thop's convention x 2 == get_flops."""
    cls, size = CASES[config]
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        model = cls(config, verbose=False).eval()  # type: ignore[no-untyped-call]
        info = torch_utils.model_info(  # type: ignore[no-untyped-call]  # prints via its logger
            model, verbose=True, imgsz=size
        )
        assert info is not None
        _, params, _, gflops = info
        notices: list[str] = []
        report = convcalc.profile(
            model, (1, 3, size, size), cross_check=True, notify=notices.append
        )
    assert not report.totals.partial, report.totals.not_counted
    assert report.match is not False, [
        (c.figure, c.analytic, c.measured) for c in report.failed_checks
    ]
    assert report.params == params
    assert report.measured is not None
    assert report.measured.flop_counter_flops == 2 * report.macs
    thop_macs = count(report.figures, "thop").value("macs")
    assert gflops > 0
    assert 2 * thop_macs / 1e9 == pytest.approx(gflops, rel=1e-12)
