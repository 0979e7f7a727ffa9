"""The outside check on torchvision's detection, keypoint, instance-segmentation, optical-flow
and int8 quantized models: each read by ``convcalc.profile`` complete (every op has a
formula), with no false alarm against torchinfo and FlopCounterMode, and reproducing the
params and GFLOPS torchvision publishes in its weights' metadata, computed, never looked up.

What the published figures are (torchvision's ``meta["_ops"]``: multiply-accumulates in
billions, to three decimals; ``num_params``: the trained model's parameters):

- Detection models were counted on one 224x224 image, which each model resizes itself
  (to 800, 320 or 300). Their dense parts (backbone, FPN, RPN head, RetinaNet's, FCOS's
  and SSD's heads) do not depend on the boxes. The R-CNN box head runs once per
  proposal, and the mask and keypoint heads once per detection: those depend on the
  boxes a trained model finds. The published figures are the dense part plus the box
  head on 1,000 proposals for the ResNet-50 R-CNNs (their RPN keeps the top 1,000), and
  with no proposal for the MobileNet ones (their builders set rpn_score_thresh=0.05); the
  mask or keypoint head on the detections the trained model kept (by hand from the rows:
  none for maskrcnn_resnet50_fpn, 1 for keypointrcnn's COCO_V1 weights, 100, the most,
  for maskrcnn_resnet50_fpn_v2). The tests solve for the whole number of boxes that
  reproduces each figure to its three decimals (a box costs far more than the rounding).
- The trained detection backbones use FrozenBatchNorm2d (gamma and beta are buffers);
  built without weights, torchvision uses BatchNorm2d: the published count is convcalc's
  less the trunk's BatchNorm affine parameters (and exact when built the trained way).
- RAFT was counted at an input of 4,095 positions of 8x8 pixels (360x728 here), 12 flow
  updates: convcalc (== FlopCounterMode / 2) is 0.025% under the published figure, for
  both RAFTs (the stated tolerance: 0.05%).
- An int8 model folds each BatchNorm into the conv before it: its packed weights are
  the float model's less one bias per BatchNorm channel; its MACs are the float model's.

The ResNet-50 detectors run at their own 800x800 (several seconds each on a CPU) only in
the ``slow`` tests; every run checks each model at a small size and with fewer proposals,
which changes neither their params nor their completeness.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import warnings
from typing import Any

import pytest

if os.environ.get("CONVCALC_REQUIRE_ZOO"):
    import torchvision
else:
    torchvision = pytest.importorskip("torchvision")

import torch
from torch import nn

import convcalc
from convcalc.core.documents.report import Report

models = torchvision.models
DETECTION = models.list_models(module=models.detection)
OPTICAL_FLOW = models.list_models(module=models.optical_flow)
QUANTIZED = models.list_models(module=models.quantization)
SLOW_QUANTIZED = {"quantized_resnext101_32x8d", "quantized_resnext101_64x4d",
                  "quantized_inception_v3", "quantized_resnet50"}  # fmt: skip

# Smaller runs of the ResNet-50 detectors for every CI run: a smaller image and fewer
# proposals and detections (no parameter depends on them).
R_CNN_LIGHT = {"min_size": 224, "max_size": 224, "rpn_pre_nms_top_n_test": 100,
               "rpn_post_nms_top_n_test": 50, "box_detections_per_img": 10}  # fmt: skip
DENSE_LIGHT = {"min_size": 224, "max_size": 224, "topk_candidates": 100,
               "detections_per_img": 10}  # fmt: skip


def _light(name: str) -> dict[str, Any]:
    if "resnet50" not in name:
        return {}
    return DENSE_LIGHT if name.startswith(("retinanet", "fcos")) else R_CNN_LIGHT


def _meta(name: str) -> dict[str, Any]:
    return dict(models.get_model_weights(name).DEFAULT.meta)


def _profile(target: Any, *example: Any, said: list[str] | None = None, **options: Any) -> Report:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the models' own deprecation warnings
        return convcalc.profile(target, *example, cross_check=True,
                                notify=(said if said is not None else []).append,
                                **options)  # fmt: skip


def _complete_and_quiet(report: Report) -> None:
    assert not report.totals.partial, report.totals.not_counted
    assert report.failed_checks == (), [
        (c.figure, c.analytic, c.measured) for c in report.failed_checks
    ]
    assert report.match is True


def _frozen_norm_params(name: str) -> int:
    """The BatchNorm affine parameters a trained detector holds as FrozenBatchNorm2d
    buffers: the builders that name FrozenBatchNorm2d (read from their source: the v1
    R-CNN, RetinaNet and FCOS ones, not the v2 ones or SSD's) pass it to the trunk
    (``backbone.body``) when built with weights."""
    builder = models.get_model_builder(name)
    source = inspect.getsource(builder)
    helpers = [f for n, f in vars(sys.modules[builder.__module__]).items()
               if n.startswith("_") and inspect.isfunction(f) and f"{n}(" in source]  # fmt: skip
    if not any("FrozenBatchNorm2d" in inspect.getsource(f) for f in [builder, *helpers]):
        return 0
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = models.get_model(name, weights=None, weights_backbone=None)
    body = getattr(model.backbone, "body", None)
    if body is None:
        return 0
    return sum(p.numel() for m in body.modules() if isinstance(m, nn.BatchNorm2d)
               for p in m.parameters(recurse=False))  # fmt: skip


def _rows(report: Report, prefix: str) -> list[Any]:
    return [layer for layer in report.layers if layer.name.startswith(prefix)]


@pytest.mark.parametrize("name", DETECTION)
def test_every_detection_model_is_complete_exact_and_quiet(name: str) -> None:
    """Each detector (keypoint and instance segmentation too): nothing uncounted, every
    figure agrees with torchinfo and FlopCounterMode, params are the published count
    once the trunk's BatchNorms are frozen, and the table has backbone, neck and heads."""
    said: list[str] = []
    report = _profile(f"torchvision:{name}", args=_light(name), said=said)
    _complete_and_quiet(report)
    # built and run on the CPU at once (the zoo's rule), said once; no meta attempt
    assert report.spec["built_on"] == "cpu"
    assert [line for line in said if "meta device" in line] == [
        "notice: torchvision's detection models cannot run their forward pass on the meta "
        "device (their region proposals read tensor values: where(condition), NMS): built "
        "and ran it on the CPU"
    ]
    assert report.params - _frozen_norm_params(name) == _meta(name)["num_params"]
    groups = {layer.name.split(".")[0].split(":")[0] for layer in report.layers if layer.macs}
    assert "backbone" in groups
    assert groups & {"head", "rpn", "roi_heads"}, groups
    if name.startswith("ssd"):  # dense heads only: the published figure at its own size
        assert round(report.macs / 1e9, 3) == _meta(name)["_ops"]


@pytest.mark.parametrize("name", DETECTION)
def test_no_detection_model_runs_on_meta(name: str) -> None:
    """The zoo's rule that sends a detection model to the CPU at once still holds: each,
    built on meta and given so (no values to run on the CPU), fails its forward pass there
    at a value read, and the error names --device cpu."""
    from convcalc.errors import InvalidSpecError
    from convcalc.measure.target import find_factory

    factory, _ = find_factory(f"torchvision:{name}")
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")
        model = factory(**_light(name))
    image = torch.empty(3, 224, 224, device="meta")
    with pytest.raises(InvalidSpecError, match=r"cannot run on the meta device \(.*--device cpu"):
        _profile(model, [image], verify=False)


def _solved_boxes(fixed: int, per_box: int, published: float) -> int:
    """The number of boxes k for which fixed + k x per_box rounds to the published figure
    (unique: a box costs more than the rounding's width)."""
    assert per_box > 1_000_000
    boxes = round((published * 1e9 - fixed) / per_box)
    assert abs(fixed + boxes * per_box - published * 1e9) <= 0.5e6
    return boxes


def _box_split(report: Report) -> tuple[int, int, int]:
    """(MACs of the box-independent part, the box head's and predictor's MACs per
    proposal, the proposals they ran on), read from convcalc's own rows."""
    heads = _rows(report, "roi_heads.box_")
    proposals = max(layer.output_shape[0] for layer in heads if layer.type == "Linear")
    per_box, rest = divmod(sum(layer.macs for layer in heads), proposals)
    assert rest == 0  # every row of the box head is linear in the proposals
    dense = report.macs - sum(layer.macs for layer in _rows(report, "roi_heads"))
    return dense, per_box, proposals


def test_mobilenet_r_cnn_publishes_its_box_independent_part() -> None:
    """fasterrcnn_mobilenet_v3_large_320_fpn: the backbone, FPN and RPN's 0.719 G, as
    published; the box head's 14.4 M MACs per proposal ran on no proposal there."""
    name = "fasterrcnn_mobilenet_v3_large_320_fpn"
    report = _profile(f"torchvision:{name}")
    _complete_and_quiet(report)
    dense, per_box, proposals = _box_split(report)
    assert proposals > 0  # the untrained RPN keeps some here: that share is box-dependent
    assert per_box == 256 * 7 * 7 * 1024 + 1024 * 1024 + 1024 * 91 + 1024 * 91 * 4
    assert _solved_boxes(dense, per_box, _meta(name)["_ops"]) == 0


def test_r_cnn_built_the_trained_way_has_the_published_params() -> None:
    """Faster R-CNN built as torchvision builds the trained one (a ResNet-50 trunk with
    FrozenBatchNorm2d): convcalc's params are the published count exactly."""
    from torchvision.models.detection.backbone_utils import _resnet_fpn_extractor
    from torchvision.ops.misc import FrozenBatchNorm2d

    def trained_way() -> nn.Module:
        trunk = models.resnet50(weights=None, norm_layer=FrozenBatchNorm2d)
        model: nn.Module = models.detection.FasterRCNN(
            _resnet_fpn_extractor(trunk, 3), num_classes=91, **R_CNN_LIGHT
        )
        return model

    report = _profile(trained_way, inputs=([torch.rand(3, 64, 64)],), device="cpu")
    _complete_and_quiet(report)
    assert report.params == _meta("fasterrcnn_resnet50_fpn")["num_params"]


def _per_detection(report: Report) -> tuple[int, int]:
    """(the mask or keypoint head's MACs per detection, the detections it ran on)."""
    heads = [layer for layer in report.layers
             if layer.name.startswith(("roi_heads.mask_", "roi_heads.keypoint_"))]  # fmt: skip
    detections = max((layer.output_shape[0] for layer in heads if layer.macs), default=0)
    if not detections:
        return 0, 0
    per_detection, rest = divmod(sum(layer.macs for layer in heads), detections)
    assert rest == 0  # every row of the head is linear in the detections
    return per_detection, detections


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in DETECTION if "resnet50" in n])
def test_resnet50_detectors_reproduce_the_published_gflops(name: str) -> None:
    """At their own 800x800: RetinaNet and FCOS exactly; the R-CNNs with their box head
    on 1,000 proposals, and their mask or keypoint head on a whole number of detections
    (solved: the trained model's, at most box_detections_per_img), as published."""
    report = _profile(f"torchvision:{name}")
    _complete_and_quiet(report)
    published = _meta(name)["_ops"]
    if not name.startswith(("fasterrcnn", "maskrcnn", "keypointrcnn")):
        assert round(report.macs / 1e9, 3) == published
        return
    dense, per_box, proposals = _box_split(report)
    # the untrained RPN keeps at most its 1,000 proposals (fewer where NMS merges some:
    # random weights); the published figure is on 1,000, solved below from the per-box cost
    assert 0 < proposals <= 1000
    per_detection, detections = _per_detection(report)
    if not per_detection:
        assert _solved_boxes(dense, per_box, published) == 1000
        return
    assert detections > 0
    kept = _solved_boxes(dense + 1000 * per_box, per_detection, published)
    assert 0 <= kept <= 100  # box_detections_per_img


@pytest.mark.parametrize("name", OPTICAL_FLOW)
def test_raft_is_complete_and_reproduces_its_published_gflops(name: str) -> None:
    """RAFT's two frames on meta: complete and quiet at the default 224, and at 360x728
    (4,095 positions of 8x8) its MACs, equal to FlopCounterMode's / 2, are within 0.05%
    of the published figure."""
    _complete_and_quiet(_profile(f"torchvision:{name}"))
    frame = torch.empty(1, 3, 360, 728, device="meta")
    report = _profile(f"torchvision:{name}", frame, frame)
    _complete_and_quiet(report)
    published = _meta(name)["_ops"] * 1e9
    assert abs(report.macs - published) / published < 5e-4


def _folded_norm_channels(name: str, args: dict[str, Any]) -> tuple[int, int]:
    """(float params, BatchNorm channels) of the float quantizable model: fusing folds each
    BatchNorm's gamma and beta into its conv's new bias, one per channel."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = models.get_model(name, weights=None, quantize=False, **args)
    params = sum(p.numel() for p in model.parameters())
    norms = sum(m.num_features for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    return params, norms


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_QUANTIZED else n for n in QUANTIZED],
)
def test_every_int8_model_counts_its_packed_weights(name: str) -> None:
    """An int8 model (quantize=True, on the CPU: no meta kernels): complete, quiet, its
    packed weights counted (the float model's less the folded BatchNorms), MACs as
    published for the float model."""
    # The trained int8 googlenet and inception_v3 drop their auxiliary heads; the count
    # published with them is the float model's (googlenet's without its heads, inception's
    # with them)
    auxiliary = "inception" in name or "googlenet" in name
    args: dict[str, Any] = {"aux_logits": False} if auxiliary else {}
    report = _profile(f"torchvision:{name}", args={"quantize": True, **args})
    _complete_and_quiet(report)
    params, channels = _folded_norm_channels(name, args)
    published = _folded_norm_channels(name, {})[0] if "inception" in name else params
    assert published == _meta(name)["num_params"]
    assert report.params == params - channels
    assert report.totals.trainable_params == 0
    assert round(report.macs / 1e9, 3) == _meta(name)["_ops"]


def _convcalc(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "convcalc", *argv], capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip


@pytest.mark.parametrize(
    "argv",
    [
        ("torchvision:ssdlite320_mobilenet_v3_large",),
        ("torchvision:raft_small",),
        ("torchvision:quantized_mobilenet_v2", "--arg", "quantize=True", "--device", "cpu"),
    ],
)
def test_the_command_exits_0_with_one_of_each_family(argv: tuple[str, ...]) -> None:
    """`convcalc model torchvision:NAME --cross-check --format json`: exit 0, the JSON
    whole, nothing uncounted, no traceback (int8 on --device cpu crashed before)."""
    run = _convcalc("model", *argv, "--cross-check", "--format", "json")
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    document = json.loads(run.stdout)
    assert document["match"] is True
    assert document["analytic"]["params"] > 0


class _VisionOps(nn.Module):
    """A conv, then every op of the detection and flow models: instance norm, grid
    sampling, topk, where(condition), unique, NMS and RoI Align, on known sizes."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.norm = nn.InstanceNorm2d(4, affine=True)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        y = self.norm(self.conv(x))  # 1 x 4 x 8 x 8
        grid = torch.zeros(1, 5, 5, 2)
        sampled = nn.functional.grid_sample(y, grid, align_corners=False)  # 1 x 4 x 5 x 5
        top = torch.topk(y.flatten(), 10).values
        where = torch.where(y > 0)[0]
        unique = torch.unique(torch.as_tensor([1, 2, 2, 3]))
        boxes = torch.tensor([[0.0, 0, 4, 4], [1, 1, 5, 5], [0, 0, 2, 2], [3, 3, 7, 7],
                              [2, 0, 6, 4], [0, 2, 4, 6]])  # fmt: skip
        keep = torchvision.ops.nms(boxes, torch.arange(6.0), 0.5)
        rois = torch.tensor([[0.0, 0, 0, 4, 4], [0, 1, 1, 6, 6], [0, 2, 2, 7, 7]])
        pooled = torchvision.ops.roi_align(y, rois, (2, 2), sampling_ratio=2)  # 3 x 4 x 2 x 2
        return sampled, top, where, unique, keep, pooled


def test_each_vision_op_has_its_hand_derived_formula() -> None:
    """Every op counts what its formula says (hand-derived: FlopCounterMode counts none of
    them, and convcalc's MACs, the conv's alone, equal its FLOPs / 2): instance norm 4 + 2
    per element, bilinear grid sampling 4 per output, topk, where and unique 1 per element
    read, NMS 3 per box + 12 per pair, RoI Align 5 per sample of 2 x 2 per bin."""
    report = _profile(_VisionOps(), input_shape=(1, 3, 8, 8), device="cpu")
    _complete_and_quiet(report)
    assert report.macs == 4 * 3 * 8 * 8
    work = report.totals.elementwise
    assert work["instance_norm"] == (4 + 2) * 4 * 8 * 8
    assert work["grid_sample"] == 4 * 4 * 5 * 5
    assert work["topk"] == 4 * 8 * 8
    assert work["where"] == 4 * 8 * 8
    assert work["unique"] == 4
    assert work["nms"] == 3 * 6 + 12 * 6 * 5 // 2
    assert work["roi_align"] == 5 * 2 * 2 * (3 * 4 * 2 * 2)
    assert report.params == 4 * 3 + 4 + 2 * 4


def test_a_detector_states_the_share_that_depends_on_the_boxes() -> None:
    """An R-CNN's notice says what share of its MACs runs after RoI Align (once per box);
    a dense detector (SSD) has none to say."""
    said: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = convcalc.profile("torchvision:fasterrcnn_mobilenet_v3_large_320_fpn",
                                  verify=False, notify=said.append)  # fmt: skip
    heads = sum(layer.macs for layer in _rows(report, "roi_heads"))
    share = [line for line in said if "once per box" in line]
    assert len(share) == 1
    assert f"{heads:,} of the {report.macs:,} MACs" in share[0]
    dense: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        convcalc.profile("torchvision:ssdlite320_mobilenet_v3_large", verify=False,
                         notify=dense.append)  # fmt: skip
    assert not [line for line in dense if "once per box" in line]


def test_an_int8_models_weights_no_op_reads_are_counted_as_not_run() -> None:
    """quantized_googlenet built with its auxiliary heads, which do not run in eval: their
    packed weights are counted (as not run), where the measured count had them and the
    analytic one not (a false params mismatch)."""
    report = _profile("torchvision:quantized_googlenet", args={"quantize": True}, device="cpu")
    _complete_and_quiet(report)
    aux = [layer for layer in report.layers if layer.group.startswith("aux")]
    assert aux
    assert all(layer.group.endswith("(not run)") for layer in aux)
    assert report.params == report.totals.params - report.totals.trainable_params
