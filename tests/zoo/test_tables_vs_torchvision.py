"""The independent check: convcalc's table networks, written here from the papers, agree
layer by layer with torchvision's own models read by ``convcalc.profile`` (an
implementation nobody here wrote), and reproduce the params and GFLOPS torchvision
publishes in its weights' metadata (read from the metadata, never copied here).

Per layer: every op that has work or parameters, in execution order, with its
output shape, parameters, MACs and element-wise ops; ops with parameters also by
type. Free ops (flatten, dropout in eval) are left out of both sides.

CI installs torchvision (see README); CONVCALC_REQUIRE_ZOO=1 makes its absence fail.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import pytest

if os.environ.get("CONVCALC_REQUIRE_ZOO"):
    import torchvision
else:
    torchvision = pytest.importorskip("torchvision")

import convcalc
from convcalc.core.count.figures import NetworkFigures, analyze

# torchvision name -> the convcalc constructor call that builds the same network.
TABLES: dict[str, convcalc.Design] = {
    "resnet18": convcalc.resnet(18),
    "resnet34": convcalc.resnet(34),
    "resnet50": convcalc.resnet(50),
    "resnet101": convcalc.resnet(101),
    "resnet152": convcalc.resnet(152),
    "resnext50_32x4d": convcalc.resnet(50, groups=32, width_per_group=4),
    "resnext101_32x8d": convcalc.resnet(101, groups=32, width_per_group=8),
    "resnext101_64x4d": convcalc.resnet(101, groups=64, width_per_group=4),
    "wide_resnet50_2": convcalc.resnet(50, width_per_group=128),
    "wide_resnet101_2": convcalc.resnet(101, width_per_group=128),
    "mobilenet_v3_large": convcalc.mobilenet(3, size="large"),
    "mobilenet_v3_small": convcalc.mobilenet(3, size="small"),
}


def _rows(figures: NetworkFigures) -> list[tuple[str, tuple[Any, ...]]]:
    """(name, what is compared) of every op with work or parameters."""
    rows = []
    for layer in figures.layers:
        work = sum(layer.elementwise.values())
        if not (layer.params or layer.macs or work):
            continue  # free: flatten, dropout in eval
        kind = layer.type if layer.params else ""  # x + y reads as Pointwise there, Add here
        shape = layer.output_shape
        while len(shape) > 2 and shape[-1] == 1:  # torchvision pools to (N, C, 1, 1), then flattens
            shape = shape[:-1]
        rows.append((layer.name, (kind, shape, layer.params, layer.macs, work)))
    return rows


@pytest.mark.parametrize("name", sorted(TABLES))
def test_table_network_reproduces_torchvision_meta(name: str) -> None:
    """Params exactly, GFLOPS (MACs / 1e9) to the three decimals torchvision prints."""
    meta = torchvision.models.get_model_weights(name).DEFAULT.meta
    report = convcalc.analyze(TABLES[name])
    assert report.params == meta["num_params"]
    assert round(report.macs / 1e9, 3) == meta["_ops"], (report.macs, meta["_ops"])


@pytest.mark.parametrize("name", sorted(TABLES))
def test_table_network_agrees_layer_by_layer_with_torchvision(name: str) -> None:
    """Two implementations, one written here and torchvision's, give the same layers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = convcalc.profile(f"torchvision:{name}", (1, 3, 224, 224), verify=False)
    ours = analyze(TABLES[name].network)
    mine, reference = _rows(ours), _rows(theirs.figures)
    assert len(mine) == len(reference)
    for (here, a), (there, b) in zip(mine, reference, strict=True):
        assert a == b, (here, there, a, b)
    assert ours.totals.params == theirs.params
    assert ours.totals.macs == theirs.macs
    # The same element-wise work, named by role here (residual_add) and by op there (add).
    assert sum(ours.totals.elementwise.values()) == sum(theirs.figures.totals.elementwise.values())
