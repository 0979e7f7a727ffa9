"""The roofline's figures against hand-derived values (core/count/roofline.py states
the rules).

Every byte count below is written out by hand from the rule "weights and each input
read once, the output written once, at the dtype's size" (float32: 4 bytes), never
computed by the code under test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import convcalc
from convcalc.core.count.figures import analyze
from convcalc.core.count.roofline import (
    DTYPE_PEAKS,
    PEAK_KINDS,
    Hardware,
    Options,
    Roof,
    load_hardware,
    parse_hardware,
    parse_rate,
    roofline,
    save_hardware,
    table,
)
from convcalc.core.designs import Design
from convcalc.core.nets.graph import INPUT, Network, Node
from convcalc.core.ops import traced as O  # noqa: N812 - as core/ops is aliased elsewhere
from convcalc.core.ops.primitives import Linear
from convcalc.errors import InvalidSpecError
from convcalc.pipeline import Request, run


def bytes_and_flops(design: Design, dtype: str = "float32", fused: bool = False) -> tuple[
    list[int], int, int
]:  # fmt: skip
    """Each node's bytes moved, the total bytes and the total FLOPs of a design."""
    report = convcalc.analyze(design, dtype)
    drawn = roofline(report.figures, Options(fused=fused))
    return [x.bytes_moved for x in drawn.layers], drawn.bytes_moved, drawn.flops


# (name, design, bytes per node by hand, FLOPs by hand); float32, batch 1, 4x8x8 input.
CONVOLUTIONS = [
    # weights 8x4x3x3 = 288, input 4x8x8 = 256, output 8x8x8 = 512 elements
    ("standard", convcalc.conv(4, 8, padding=1, bias=False, input=8),
     [(288 + 256 + 512) * 4], 2 * 8 * 8 * 8 * 4 * 9),
    # weights 8x2x3x3 = 144
    ("grouped", convcalc.conv(4, 8, groups=2, padding=1, bias=False, input=8),
     [(144 + 256 + 512) * 4], 2 * 8 * 8 * 8 * 2 * 9),
    # depthwise, multiplier 2: weights 8x1x3x3 = 72
    ("depthwise x2", convcalc.conv(4, 8, groups=4, padding=1, bias=False, input=8),
     [(72 + 256 + 512) * 4], 2 * 8 * 8 * 8 * 1 * 9),
    # global depthwise: weights 4x1x8x8 = 256, output 4x1x1
    ("global depthwise", convcalc.conv(4, 4, kernel="global", groups=4, bias=False, input=8),
     [(256 + 256 + 4) * 4], 2 * 4 * 64),
    # shared kernel: one 2x1x3x3 kernel (18 params) for every channel
    ("shared kernel", convcalc.conv(4, 8, groups=4, padding=1, bias=False, input=8,
                                    share_kernel=True),
     [(18 + 256 + 512) * 4], 2 * 8 * 8 * 8 * 1 * 9),
    # depthwise 4x1x3x3 = 36 (4x8x8 -> 4x8x8), then pointwise 8x4 = 32 (-> 8x8x8)
    ("depthwise-separable", convcalc.separable(4, 8, padding=1, bias=False, input=8),
     [(36 + 256 + 256) * 4, (32 + 256 + 512) * 4], 2 * (64 * 4 * 9 + 64 * 8 * 4)),
    # 3x1 (4 -> 4, 48 weights) then 1x3 (4 -> 8, 96 weights), padding kept per axis
    ("spatially separable", convcalc.spatial(4, 8, 3, padding=1, bias=False, input=8),
     [(48 + 256 + 256) * 4, (96 + 256 + 512) * 4], 2 * (64 * 4 * 4 * 3 + 64 * 8 * 4 * 3)),
    # dilation 2, padding 2: same weights and sizes as standard
    ("dilated", convcalc.conv(4, 8, padding=2, dilation=2, bias=False, input=8),
     [(288 + 256 + 512) * 4], 2 * 8 * 8 * 8 * 4 * 9),
    # a bias is read as a weight: 8 more
    ("standard with bias", convcalc.conv(4, 8, padding=1, input=8),
     [(296 + 256 + 512) * 4], 2 * 8 * 8 * 8 * 4 * 9),
]  # fmt: skip


@pytest.mark.parametrize(("name", "design", "per_node", "flops"), CONVOLUTIONS,
                         ids=[c[0] for c in CONVOLUTIONS])  # fmt: skip
def test_every_convolution_kind_by_hand(
    name: str, design: Design, per_node: list[int], flops: int
) -> None:
    """Bytes moved and intensity of each convolution kind of the domain notes."""
    nodes, total, work = bytes_and_flops(design)
    assert nodes == per_node
    assert total == sum(per_node)
    assert work == flops
    report = convcalc.analyze(design)
    analytic = report.to_dict()["analytic"]["roofline"]
    assert analytic["bytes_moved"] == sum(per_node)
    assert analytic["arithmetic_intensity"] == pytest.approx(flops / sum(per_node), rel=1e-12)


def test_se_by_hand() -> None:
    """SE on 64x8x8, r = 16, no biases: pool, two Linear layers, the gate."""
    nodes, total, work = bytes_and_flops(convcalc.se(64, reduction=16, input=8))
    x = 64 * 64  # the input's elements
    assert nodes == [
        (x + 64) * 4,  # squeeze: reads x, writes 64
        (256 + 64 + 4) * 4,  # fc1: 64x4 weights
        (4 + 4) * 4,  # relu
        (256 + 4 + 64) * 4,  # fc2: 4x64 weights
        (64 + 64) * 4,  # sigmoid
        (x + 64 + x) * 4,  # scale: reads x and the gate, writes x
    ]
    assert total == sum(nodes)
    assert work == 2 * (256 + 256)


def test_cbam_by_hand() -> None:
    """CBAM on 8x4x4, r = 2 (MLP with biases, shared by both branches: its weights are
    read at each call), spatial 7x7 conv with BN."""
    nodes, total, work = bytes_and_flops(convcalc.cbam(8, reduction=2, input=4))
    x = 8 * 16
    assert nodes == [
        (x + 8) * 4,  # avg pool
        (36 + 8 + 4) * 4,  # fc1: 8x4 + 4
        (4 + 4) * 4,  # relu
        (40 + 4 + 8) * 4,  # fc2: 4x8 + 8
        (x + 8) * 4,  # max pool
        (36 + 8 + 4) * 4,  # fc1 again: its weights read again
        (4 + 4) * 4,
        (40 + 4 + 8) * 4,
        (8 + 8 + 8) * 4,  # sum of the two branches
        (8 + 8) * 4,  # sigmoid
        (x + 8 + x) * 4,  # channel scale
        (x + 2 * 16) * 4,  # channel pool: mean and max maps
        (98 + 32 + 16) * 4,  # 7x7 conv 2 -> 1
        (2 + 16 + 16) * 4,  # bn
        (16 + 16) * 4,  # sigmoid
        (x + 16 + x) * 4,  # spatial scale
    ]
    assert total == 5744
    assert work == 2 * (32 + 32 + 32 + 32 + 2 * 49 * 16)


def test_linear_attention_and_pooling_by_hand() -> None:
    """A Linear on 2 rows, attention of 10 queries over 12 keys, a 3x3 max pool."""
    linear = Network("fc", (2, 16), (Node("fc", Linear(16, 32)),))
    drawn = roofline(analyze(linear))
    assert drawn.bytes_moved == (16 * 32 + 32 + 2 * 16 + 2 * 32) * 4
    assert drawn.intensity == pytest.approx(2 * 2 * 16 * 32 / ((512 + 32 + 32 + 64) * 4))

    q, k, v = (1, 2, 10, 8), (1, 2, 12, 8), (1, 2, 12, 8)
    attention = Network("attention", (1, 1), (
        Node("q", O.Parameter(q), (INPUT,)), Node("k", O.Parameter(k), (INPUT,)),
        Node("v", O.Parameter(v), (INPUT,)), Node("attn", O.Attention(), ("q", "k", "v")),
    ))  # fmt: skip
    drawn = roofline(analyze(attention))
    # q k^T and attn v: 2 heads x 10 x 12 x (8 + 8) MACs; reads q, k, v, writes 2x10x8
    assert [x.bytes_moved for x in drawn.layers] == [0, 0, 0, (160 + 192 + 192 + 160) * 4]
    assert drawn.flops == 2 * 2 * 10 * 12 * 16
    assert drawn.intensity == pytest.approx(7680 / 2816)

    pool = convcalc.analyze(convcalc.pool(4, kernel=3, stride=2, padding=1, input=8))
    drawn = roofline(pool.figures)
    assert drawn.bytes_moved == (4 * 64 + 4 * 16) * 4  # reads 4x8x8, writes 4x4x4
    assert drawn.intensity == 0.0  # no MACs: bounded by its bytes


def test_views_move_nothing_and_a_tensor_given_twice_is_read_once() -> None:
    """A reshape is a view; x * x reads x once."""
    network = Network("n", (1, 4, 2, 2), (
        Node("flat", O.Opaque("flatten", (1, 16)), (INPUT,)),
        Node("square", O.Pointwise("mul"), ("flat", "flat")),
    ))  # fmt: skip
    drawn = roofline(analyze(network))
    assert [x.bytes_moved for x in drawn.layers] == [0, (16 + 16) * 4]


def test_dtype_sets_the_element_size() -> None:
    """bfloat16 halves every tensor's bytes."""
    design = convcalc.conv(4, 8, padding=1, bias=False, input=8)
    _, total, _ = bytes_and_flops(design, "bfloat16")
    assert total == (288 + 256 + 512) * 2


def test_the_issues_depthwise_figure() -> None:
    """A depthwise 3x3 conv at batch 1 does about 4.5 FLOPs per byte in a 16-bit dtype:
    18 FLOPs per output element (9 MACs) over 4 bytes (2 read, 2 written), the weights
    negligible; in float32 half that. Here 32 channels at 112x112."""
    design = convcalc.conv(32, 32, groups=32, padding=1, bias=False, input=112)
    elements = 32 * 112 * 112
    _, total, work = bytes_and_flops(design, "bfloat16")
    assert total == (288 + 2 * elements) * 2
    assert work == 18 * elements
    assert work / total == pytest.approx(4.5, abs=0.002)
    _, total32, _ = bytes_and_flops(design, "float32")
    assert work / total32 == pytest.approx(2.25, abs=0.001)


def test_fused_conv_bn_relu_is_one_kernel() -> None:
    """MobileNet's first layer fused: the conv reads its input and weights, BN its
    parameters, ReLU writes the output; the kernel's figures sit on the conv's node."""
    report = convcalc.analyze(convcalc.mobilenet(width=0.25, resolution=32))
    figures = report.figures
    plain = roofline(figures)
    fused = roofline(figures, Options(fused=True))
    conv, bn, relu = figures.layers[:3]
    assert (conv.type, bn.type, relu.type) == ("Conv2d", "BatchNorm2d", "Activation")
    x, out = 3 * 32 * 32, 8 * 16 * 16  # 3x32x32 in, 8x16x16 out (width 0.25: 8 channels)
    assert [y.bytes_moved for y in plain.layers[:3]] == [
        (216 + x + out) * 4, (16 + 2 * out) * 4, 2 * out * 4,
    ]  # fmt: skip
    assert [y.bytes_moved for y in fused.layers[:3]] == [(216 + x + 16 + out) * 4, 0, 0]
    assert fused.layers[1].fused_into == fused.layers[2].fused_into == conv.name
    assert fused.bytes_moved < plain.bytes_moved
    assert fused.flops == plain.flops


def test_fused_residual_add_still_reads_the_skip() -> None:
    """A residual add fused into the BN before it still reads the other branch."""
    report = convcalc.analyze(convcalc.resnet(18, resolution=32))
    drawn = roofline(report.figures, Options(fused=True))
    adds = [x for x in report.figures.layers if x.type == "Add"]
    assert adds
    for add in adds:
        own = drawn.layers[add.index].traffic
        skip = add.input_shapes[1]
        size = 1
        for s in skip:
            size *= s
        assert own.inputs == size * 4  # the skip, not the fused branch
        assert drawn.layers[add.index].bytes_moved == 0  # its kernel's figures are upstream


def test_device_bound_and_time() -> None:
    """On an H100 SXM in bfloat16 the depthwise conv is memory-bound: its bound is its
    bytes over 3.35 TB/s; a large 3x3 conv at batch 32 is compute-bound."""
    h100 = parse_hardware("h100-sxm", "bfloat16")
    assert (h100.peak_kind, h100.peak, h100.bandwidth) == ("bf16", 989.5e12, 3.35e12)
    assert h100.ridge == pytest.approx(295.37, abs=0.01)
    depthwise = convcalc.analyze(convcalc.conv(32, 32, groups=32, padding=1, bias=False,
                                               input=112), "bfloat16")  # fmt: skip
    drawn = roofline(depthwise.figures, Options(h100))
    layer = drawn.layers[0]
    assert layer.bound == "memory"
    assert layer.time == pytest.approx(drawn.bytes_moved / 3.35e12)
    assert drawn.memory_share == 1.0
    big = convcalc.analyze(convcalc.conv(256, 256, padding=1, bias=False, input=56, batch=32),
                           "bfloat16")  # fmt: skip
    drawn = roofline(big.figures, Options(h100))
    assert drawn.layers[0].bound == "compute"
    assert drawn.time == pytest.approx(drawn.flops / 989.5e12)
    assert drawn.memory_share == 0.0


def test_the_dtype_picks_the_peak() -> None:
    """float32 takes tf32 where there is one, else fp32; a 16-bit dtype its dense peak;
    a device with no peak for the dtype is an error naming how to choose one."""
    assert parse_hardware("a100-80gb", "float32").peak == 156e12
    assert parse_hardware("a100-80gb,peak=fp32", "float32").peak == 19.5e12
    assert parse_hardware("t4", "float32").peak_kind == "fp32"
    assert parse_hardware("t4", "float16").peak == 65e12
    with pytest.raises(InvalidSpecError, match="has no a peak for bfloat16"):
        parse_hardware("t4", "bfloat16")
    assert set(DTYPE_PEAKS) == {"float64", "float32", "bfloat16", "float16"}


def test_any_device_by_its_rates() -> None:
    """peak=RATE,bandwidth=RATE as budgets write numbers; a device with overrides."""
    custom = parse_hardware("peak=989T,bandwidth=3.35T")
    assert (custom.peak, custom.bandwidth, custom.name) == (989e12, 3.35e12, "custom")
    assert parse_hardware("h100-sxm,bandwidth=2T", "bfloat16").bandwidth == 2e12
    assert parse_rate("1.5e12", "peak") == 1.5e12
    for bad in ("peak=989T", "bandwidth=1T", "peak=x,bandwidth=1T", "h100-sxm,speed=1",
                "peak=0,bandwidth=1T", "peak=1T,peak=2T,bandwidth=1T", "", "a,,b",
                "peak=fp32,bandwidth=1T", "nonesuch"):  # fmt: skip
        with pytest.raises(InvalidSpecError):
            parse_hardware(bad)


def test_a_layer_that_fits_a_cache_is_bounded_by_its_bandwidth() -> None:
    """A hierarchical roofline: a 4 KB working set fits L1 and is bounded there."""
    spec = Hardware.from_dict({
        "name": "box", "peaks": {"fp32": 1e12}, "bandwidth": 100e9,
        "caches": [{"name": "L2", "bytes": 1 << 20, "bandwidth": 500e9},
                   {"name": "L1", "bytes": 8192, "bandwidth": 2e12}],
    })  # fmt: skip
    roof = spec.roof("float32")
    small = convcalc.analyze(convcalc.conv(4, 8, padding=1, bias=False, input=8))
    layer = roofline(small.figures, Options(roof)).layers[0]
    assert (layer.level, layer.bandwidth) == ("L1", 2e12)  # 4,224 B
    large = convcalc.analyze(convcalc.conv(64, 64, padding=1, bias=False, input=64))
    layer = roofline(large.figures, Options(roof)).layers[0]
    assert (layer.level, layer.bandwidth) == ("memory", 100e9)


def test_specs_load_from_the_table_a_saved_folder_and_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """load_hardware looks in the table, then the saved specs, then a file path."""
    monkeypatch.setenv("CONVCALC_HARDWARE_DIR", str(tmp_path / "saved"))
    assert load_hardware("H100-SXM").name == "h100-sxm"
    mine = Hardware("my-box", {"fp32": 2e11}, 3e10, caches=())
    path = save_hardware(mine)
    assert path == tmp_path / "saved" / "my-box.json"
    assert load_hardware("my-box") == mine
    other = tmp_path / "spec.json"
    other.write_text(json.dumps(mine.to_dict() | {"name": "other"}))
    assert load_hardware(str(other)).name == "other"
    assert parse_hardware(f"{other},peak=3e11", "float32").peak == 3e11
    with pytest.raises(InvalidSpecError, match="not known"):
        load_hardware("no-such-device")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(InvalidSpecError, match="not JSON"):
        load_hardware(str(tmp_path / "bad.json"))
    with pytest.raises(InvalidSpecError, match="peak 'fp8'"):
        Hardware.from_dict({"name": "x", "peaks": {"fp8": 1e15}, "bandwidth": 1e12})
    with pytest.raises(InvalidSpecError, match="bandwidth"):
        Hardware.from_dict({"name": "x", "peaks": {"fp32": 1e12}, "bandwidth": -1})


def test_every_row_of_the_table_has_its_source_and_dense_peaks() -> None:
    """Each shipped device names its datasheet (document, URL, date), has an fp32 peak
    and a 16-bit one, and its peaks rise fp32 <= tf32 <= 16-bit <= int8 (dense)."""
    rows = {row.name: row for row in table()}
    for name in ("h100-sxm", "h100-pcie", "h200", "a100-40gb", "a100-80gb", "l4", "l40s",
                 "rtx-4090", "t4", "v100"):  # fmt: skip
        assert name in rows
    for row in rows.values():
        assert row.source.get("url", "").startswith("https://"), row.name
        assert row.source.get("date"), row.name
        assert row.source.get("document"), row.name
        assert set(row.peaks) <= set(PEAK_KINDS)
        ladder = [row.peaks[k] for k in ("fp32", "tf32", "bf16", "int8") if k in row.peaks]
        assert ladder == sorted(ladder), row.name
        assert "fp16" in row.peaks or "bf16" in row.peaks
        assert 1e11 < row.bandwidth < 1e13


def test_the_pipeline_draws_every_point() -> None:
    """A sweep's points and a comparison's variants each carry the device's figures."""
    sweep = run(Request(convcalc.sweep("mobilenet_v1", [0.25, 0.5], [32]),
                        verify=False, hardware="l4")).report  # fmt: skip
    points: Any = sweep.to_dict()
    for point in points:
        assert point["analytic"]["roofline"]["hardware"]["name"] == "l4"
        assert all("time_bound" in layer for layer in point["layers"] if layer["bytes_moved"])
    compare = run(Request(convcalc.compare(4, 8, input=8), verify=False,
                          hardware=Roof("mine", 1e12, 1e11))).report  # fmt: skip
    document: Any = compare.to_dict()
    for variant in document["variants"]:
        assert variant["analytic"]["roofline"]["ridge_point"] == 10.0
    with pytest.raises(InvalidSpecError):
        run(Request(convcalc.conv(4, 8), verify=False, hardware=3.5))


def test_the_roofline_records_are_frozen() -> None:
    """Options, Roofline, LayerBound and Traffic are plain slotted classes (start-up), and
    as frozen as the dataclasses they were: no field is assigned, deleted or added."""
    from dataclasses import FrozenInstanceError

    design = convcalc.conv(4, 8, input=8)
    drawn = roofline(analyze(design.network), Options(fused=True))
    layer = drawn.layer(0)
    for record, name in ((drawn, "flops"), (drawn.options, "fused"), (layer, "bytes_moved"),
                         (layer.traffic, "weights")):  # fmt: skip
        before = getattr(record, name)
        with pytest.raises(FrozenInstanceError):
            setattr(record, name, 0)
        with pytest.raises(FrozenInstanceError):
            delattr(record, name)
        with pytest.raises(FrozenInstanceError):
            record.extra = 1
        assert getattr(record, name) == before
    assert layer.traffic.total == layer.bytes_moved > 0
