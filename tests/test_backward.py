"""--backward: the gradients' multiply-accumulates, against FlopCounterMode running
``out.sum().backward()`` on the same modules (on the meta device: no memory, no data)."""

from __future__ import annotations

import json
import warnings

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import convcalc
from convcalc.core.count.backward import backward
from convcalc.measure.build import GraphModule
from tests.test_cli import invoke

torchvision = pytest.importorskip("torchvision")


def _flop_counter_training(model: nn.Module, shape: tuple[int, ...]) -> int:
    x = torch.zeros(shape, device="meta")
    with FlopCounterMode(display=False) as counter:
        model(x).sum().backward()
    return int(counter.get_total_flops())


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("resnet18", (1, 3, 224, 224)),
        ("mobilenet_v2", (2, 3, 96, 96)),
        ("convnext_tiny", (1, 3, 64, 64)),
        ("vit_b_16", (1, 3, 224, 224)),
        ("swin_t", (1, 3, 224, 224)),
    ],
)
def test_torchvision_training_step_is_flop_counter_s(name: str, shape: tuple[int, ...]) -> None:
    """Forward + backward as FlopCounterMode counts it, exactly (depthwise and grouped
    convs included: their weight gradient it counts g times)."""
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")
        model = torchvision.models.get_model(name, weights=None)
    report = convcalc.profile(model, shape, verify=False)
    passes = backward(report.figures)
    assert passes.flop_counter_training_flops == _flop_counter_training(model, shape)


@pytest.mark.parametrize(
    "design",
    [
        convcalc.se(64, 16, input=8),
        convcalc.cbam(64, 16, input=8),
        convcalc.conv(4, 8, 3, stride=2, padding=1, transposed=True, output_padding=1, input=16),
        convcalc.mobilenet(2, 1.0, 96),
        convcalc.resnet(50, resolution=64),
    ],
    ids=["se", "cbam", "transposed", "mobilenet_v2", "resnet50"],
)
def test_built_networks_training_step_is_flop_counter_s(design: convcalc.Design) -> None:
    report = convcalc.analyze(design)
    with torch.device("meta"):
        model = GraphModule(report.figures.network)
    passes = backward(report.figures)
    assert passes.flop_counter_training_flops == _flop_counter_training(
        model, report.figures.network.input_shape
    )


def test_gradients_by_hand() -> None:
    """Two 3x3 convs 4 -> 8 -> 8 on 8x8: the first has no input gradient (the input needs
    none), so 1 x its MACs; the second 2 x. Grouped (g=4): the true weight gradient is its
    forward MACs, FlopCounterMode counts 4 x that."""
    first = 8 * 8 * 8 * 4 * 9
    second = 8 * 8 * 8 * 8 * 9
    stack = nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.Conv2d(8, 8, 3, padding=1))
    passes = backward(convcalc.profile(stack, (1, 4, 8, 8), verify=False).figures)
    assert passes.macs == first + 2 * second
    assert passes.training_flops == 2 * (first + second) + 2 * (first + 2 * second)
    grouped = nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.Conv2d(8, 8, 3, padding=1, groups=4))
    passes = backward(convcalc.profile(grouped, (1, 4, 8, 8), verify=False).figures)
    forward = second // 4
    assert passes.macs == first + 2 * forward
    assert passes.flop_counter_training_flops - passes.training_flops == 2 * (4 - 1) * forward


def test_backward_on_the_command_line() -> None:
    result = invoke("se", "--channels", "64", "-i", "8", "--backward", "--format", "json",
                    "--no-verify")  # fmt: skip
    document = json.loads(result.stdout)["backward"]
    assert document["macs"] == 256 + 2 * 256  # fc1: weight only; fc2: input and weight
    assert document["training_flops"] == 2 * (512 + 768)
    table = invoke("conv", "--cin", "32", "--cout", "64", "-g", "32", "--backward",
                   "--no-verify").stdout  # fmt: skip
    assert "FlopCounterMode: weight gradient x 32 (groups)" in " ".join(table.split())


def test_cross_check_measures_the_training_step() -> None:
    """--cross-check --backward: FlopCounterMode around a training step of the same
    network is measured and checked against the analytic figure, for a built network
    and a read model; JSON carries it only when asked."""
    built = convcalc.verify(convcalc.mobilenet(2, 0.5, 96), "cpu", cross_check=True,
                            backward=True)  # fmt: skip
    checks = {c.figure: c for c in built.checks}
    assert checks["flop_counter_training_flops"].ok
    assert checks["flop_counter_training_flops"].measured == backward(
        built.figures).flop_counter_training_flops  # fmt: skip
    result = invoke("model", "torchvision:resnet18", "-i", "64", "--cross-check", "--backward",
                    "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    measured = json.loads(result.stdout)["measured"]
    found = [c for c in measured["checks"] if c["figure"] == "flop_counter_training_flops"]
    assert found == [{"figure": "flop_counter_training_flops", "match": True,
                      "analytic": measured["flop_counter_training_flops"],
                      "measured": measured["flop_counter_training_flops"]}]  # fmt: skip
    plain = json.loads(invoke("model", "torchvision:resnet18", "-i", "64", "--cross-check",
                              "--format", "json").stdout)  # fmt: skip
    assert "flop_counter_training_flops" not in plain["measured"]


def test_the_users_model_is_not_the_one_trained() -> None:
    """The training step runs on convcalc's meta copy, every parameter trained: the user's
    frozen layer stays frozen, and no gradient is left on any weight."""
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 8, 3))
    model[0].weight.requires_grad_(False)
    report = convcalc.profile(model, (1, 3, 16, 16), device="cpu", cross_check=True,
                              backward=True)  # fmt: skip
    assert report.match is True, report.failed_checks
    assert not model[0].weight.requires_grad
    assert all(p.grad is None for p in model.parameters())
    assert model.training
