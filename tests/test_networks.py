"""SE, CBAM and MobileNet: analytic figures agree with the built torch modules and torchinfo."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from convcalc.cli import app
from convcalc.core.count.figures import analyze
from convcalc.core.documents.checks import build_checks
from convcalc.core.nets.mobilenet import (
    MobileNetSpec,
    cbam_block,
    make_divisible,
    mobilenet,
    se_block,
    slim_depth,
)
from convcalc.measure.probe import measure

runner = CliRunner()


def test_make_divisible_matches_the_reference_rule() -> None:
    """Nearest multiple of 8, at least 8, bumped when rounding would lose more than 10%."""
    assert make_divisible(32 * 0.35) == 16  # 11.2 -> 8 is < 0.9 x 11.2, so 16
    assert make_divisible(24 * 0.5) == 16  # 12 + 4 = 16 -> 16
    assert make_divisible(16 * 0.35) == 8  # 5.6 -> at least 8
    assert make_divisible(1280 * 1.4) == 1792


def test_slim_depth_truncates_with_a_floor_of_eight() -> None:
    """TF-slim V1's depth(): max(int(d x alpha), 8)."""
    assert slim_depth(32, 0.25) == 8
    assert slim_depth(64, 0.3) == 19
    assert slim_depth(1024, 0.75) == 768


def test_se_counts_each_parameter_once() -> None:
    """The notes' SE (C=512, r=16, no bias) has two Linear layers of 16,384: 32,768 in all."""
    figures = analyze(se_block(512, 16, (64, 64), 2, bias=False))
    assert figures.totals.params == 32_768
    assert figures.totals.output_shape == (2, 512, 64, 64)
    assert figures.totals.macs == 2 * 2 * 512 * 32
    pieces = {layer.name: layer.elementwise for layer in figures.layers}
    assert pieces["squeeze"] == {"avg_pool": 2 * 512 * 64 * 64}
    assert pieces["scale"] == {"gate_multiply": 2 * 512 * 64 * 64}
    assert pieces["sigmoid"] == {"sigmoid": 2 * 512}


def test_cbam_shared_mlp_counts_params_once_and_macs_twice() -> None:
    """CBAM's MLP runs on both pooled descriptors: params once, MACs twice."""
    c, r, k = 64, 16, 7
    figures = analyze(cbam_block(c, r, (32, 32), 1, spatial_kernel=k))
    mlp = (c * (c // r) + c // r) + ((c // r) * c + c)
    assert figures.totals.params == mlp + 2 * k * k + 2  # + spatial conv (no bias) + BN(1)
    assert figures.totals.macs == 2 * 2 * c * (c // r) + 32 * 32 * 2 * k * k
    shared = [x for x in figures.layers if x.shares_weights_of]
    assert [x.shares_weights_of for x in shared] == ["mlp.fc1", "mlp.fc2"]
    assert all(x.params == 0 and x.macs > 0 for x in shared)


def test_cbam_variants_drop_pieces() -> None:
    """--no-mlp-bias and --no-spatial-bn remove exactly those parameters."""
    full = analyze(cbam_block(64, 16, (8, 8), 1)).totals.params
    no_bias = analyze(cbam_block(64, 16, (8, 8), 1, mlp_bias=False)).totals.params
    no_bn = analyze(cbam_block(64, 16, (8, 8), 1, spatial_bn=False)).totals.params
    assert full - no_bias == 4 + 64
    assert full - no_bn == 2


NETWORKS = [
    pytest.param(lambda: se_block(32, 4, (9, 7), 2, bias=True), id="se"),
    pytest.param(lambda: cbam_block(32, 8, (10, 12), 2), id="cbam"),
    pytest.param(lambda: cbam_block(16, 4, (5, 5), 1, spatial_kernel=1), id="cbam-k1"),
    pytest.param(lambda: mobilenet(MobileNetSpec(1, 0.25, 64)), id="v1-0.25-64"),
    pytest.param(lambda: mobilenet(MobileNetSpec(1, 0.5, 97, 10)), id="v1-0.5-97"),
    pytest.param(lambda: mobilenet(MobileNetSpec(2, 0.35, 96)), id="v2-0.35-96"),
    pytest.param(lambda: mobilenet(MobileNetSpec(2, 1.0, 224)), id="v2-1.0-224"),
    pytest.param(lambda: mobilenet(MobileNetSpec(2, 1.4, 33, 5, batch=2)), id="v2-1.4-33"),
]


@pytest.mark.parametrize("build", NETWORKS)
def test_networks_agree_with_torch_and_torchinfo(build: object) -> None:
    """Params, every layer's output shape, torchinfo's per-call mult-adds and FLOPs all agree."""
    network = build()  # type: ignore[operator]
    figures = analyze(network)
    measured = measure(figures, "cpu", cross_check=True)
    failed = [c for c in build_checks(figures, measured) if not c.ok]
    assert failed == []
    assert len(measured.layers) == len(network.nodes)


def test_mobilenet_v1_layer_shapes_follow_table_1() -> None:
    """224 -> 112 -> 56 -> 28 -> 14 -> 7, with the last depthwise at stride 1."""
    figures = analyze(mobilenet(MobileNetSpec(1)))
    sizes = {x.name: x.output_shape[2] for x in figures.layers if x.type == "Conv2d"}
    assert (sizes["conv0"], sizes["dw2"], sizes["dw4"], sizes["dw6"], sizes["dw12"]) == (
        112, 56, 28, 14, 7,
    )  # fmt: skip
    assert sizes["dw13"] == 7
    assert figures.totals.output_shape == (1, 1000)


def test_mobilenet_v2_residuals_only_where_shapes_match() -> None:
    """Residual adds sit on stride-1 blocks whose channels match: 10 of the 17 blocks."""
    figures = analyze(mobilenet(MobileNetSpec(2)))
    residuals = [x for x in figures.layers if x.type == "Add"]
    assert len(residuals) == 10


def test_se_cli_shows_every_piece() -> None:
    """The issue's SE example: 32,768 params and a row for each piece of the block."""
    result = runner.invoke(
        app, ["se", "--channels", "512", "--reduction", "16", "-i", "64", "-b", "2", "--no-bias",
              "--exact"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    for piece in ("squeeze", "fc1", "relu", "fc2", "sigmoid", "scale", "32,768", "not counted"):
        assert piece in result.stdout


def test_sweep_json_has_one_object_per_point() -> None:
    """A 2 x 2 sweep prints a JSON list of four verified reports with ratios to 1.0 at 224."""
    result = runner.invoke(
        app, ["mobilenet", "--width", "0.25,1.0", "--resolution", "96,224", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    points = json.loads(result.stdout)
    assert [(p["spec"]["width"], p["spec"]["resolution"]) for p in points] == [
        (0.25, 96), (0.25, 224), (1.0, 96), (1.0, 224),
    ]  # fmt: skip
    assert all(p["match"] is True for p in points)
    assert points[3]["ratio_to_reference"]["macs"] == 1.0
    breakdown = points[3]["analytic"]["params_breakdown"]
    assert sum(breakdown.values()) == points[3]["analytic"]["params"]


@pytest.mark.parametrize(
    "args",
    [
        ["mobilenet", "--width", "0"],
        ["mobilenet", "--width", "-0.5"],
        ["mobilenet", "--width", "abc"],
        ["mobilenet", "--width", "0.5,,1"],
        ["mobilenet", "--width", "nan"],
        ["mobilenet", "--resolution", "0"],
        ["mobilenet", "--resolution", "12.5"],
        ["mobilenet", "--generation", "4"],
        ["mobilenet", "--classes", "0"],
        ["mobilenet", "--width", "0.5,1", "--plot", "out.pdf"],
        ["se", "--channels", "8", "--reduction", "16"],
        ["se", "--channels", "0"],
        ["cbam", "--channels", "4", "--reduction", "8"],
        ["cbam", "--channels", "64", "--spatial-kernel", "4"],
    ],
)
def test_invalid_network_inputs_exit_2_with_one_line(args: list[str]) -> None:
    """Each bad input gives one 'error:' line on stderr, nothing on stdout, exit 2."""
    result = subprocess.run(
        [sys.executable, "-m", "convcalc", *args, "--no-verify"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
