"""The published MobileNet tables, reproduced by computing the networks.

Each source counts in its own convention (docs/how-to/published-tables.md); the
figures below are the published ones, copied from the sources named, and the
test derives each from ``analyze(mobilenet(...))`` under that convention.
Where a source disagrees with itself, the test asserts the disagreement, so a
change in our counting that "fixes" it would be noticed.
"""

from __future__ import annotations

import math

import pytest

from convcalc.core.count.figures import Totals, analyze
from convcalc.core.nets.mobilenet import MobileNetSpec, mobilenet

# MobileNet V1 paper (arXiv 1704.04861), Tables 6 and 7:
# (width, resolution) -> (M mult-adds, M params).
PAPER_V1 = {
    (1.0, 224): (569, 4.2),
    (0.75, 224): (325, 2.6),
    (0.5, 224): (149, 1.3),
    (0.25, 224): (41, 0.5),
    (1.0, 192): (418, 4.2),
    (1.0, 160): (290, 4.2),
    (1.0, 128): (186, 4.2),
}

# TensorFlow-slim research/slim/nets/mobilenet_v1.md: (width, resolution) -> (M MACs, M params).
SLIM_V1 = {
    (1.0, 224): (569, 4.24), (1.0, 192): (418, 4.24),
    (1.0, 160): (291, 4.24), (1.0, 128): (186, 4.24),
    (0.75, 224): (317, 2.59), (0.75, 192): (233, 2.59),
    (0.75, 160): (162, 2.59), (0.75, 128): (104, 2.59),
    (0.5, 224): (150, 1.34), (0.5, 192): (110, 1.34),
    (0.5, 160): (77, 1.34), (0.5, 128): (49, 1.34),
    (0.25, 224): (41, 0.47), (0.25, 192): (34, 0.47),
    (0.25, 160): (21, 0.47), (0.25, 128): (14, 0.47),
}  # fmt: skip
# Rows whose MACs no counting reproduces: every 0.75 row is about 2.6% below the
# network's count (the paper's Table 6 prints 325 for 0.75/224), and 0.25/192 is
# printed 34 where the network gives 30.2.
SLIM_V1_MACS_DISAGREE = {(0.75, 224), (0.75, 192), (0.75, 160), (0.75, 128), (0.25, 192)}

# TensorFlow-slim research/slim/nets/mobilenet/README.md: (width, resolution) -> (M MACs, M params).
SLIM_V2 = {
    (1.4, 224): (582, 6.06), (1.3, 224): (509, 5.34),
    (1.0, 224): (300, 3.47), (1.0, 192): (221, 3.47), (1.0, 160): (154, 3.47),
    (1.0, 128): (99, 3.47), (1.0, 96): (56, 3.47),
    (0.75, 224): (209, 2.61), (0.75, 192): (153, 2.61), (0.75, 160): (107, 2.61),
    (0.75, 128): (69, 2.61), (0.75, 96): (39, 2.61),
    (0.5, 224): (97, 1.95), (0.5, 192): (71, 1.95), (0.5, 160): (50, 1.95),
    (0.5, 128): (32, 1.95), (0.5, 96): (18, 1.95),
    (0.35, 224): (59, 1.66), (0.35, 192): (43, 1.66), (0.35, 160): (30, 1.66),
    (0.35, 128): (20, 1.66), (0.35, 96): (11, 1.66),
}  # fmt: skip

# torchvision.models.mobilenet_v2: num_params in its weights' metadata.
TORCHVISION_V2_PARAMS = 3_504_872


def totals(version: int, width: float, resolution: int, classes: int) -> Totals:
    """Analytic totals of one MobileNet (batch 1)."""
    return analyze(mobilenet(MobileNetSpec(version, width, resolution, classes))).totals


@pytest.mark.parametrize(("point", "published"), sorted(PAPER_V1.items()))
def test_paper_v1_tables_6_and_7(point: tuple[float, int], published: tuple[int, float]) -> None:
    """Paper: mult-adds = MACs (1000 classes), params = weights only (no FC bias, no BN)."""
    width, resolution = point
    t = totals(1, width, resolution, 1000)
    macs_m = t.macs / 1e6
    # The paper rounds some figures to nearest (568.7 -> 569) and truncates others (290.7 -> 290).
    assert published[0] in (round(macs_m), math.floor(macs_m))
    assert round(t.weights / 1e6, 1) == published[1]


def test_paper_v1_rounding_disagrees_with_itself() -> None:
    """The paper prints 569 for 568.74 M (nearest) but 290 for 290.68 M (truncated)."""
    assert round(totals(1, 1.0, 224, 1000).macs / 1e6) == 569 != math.floor(568.74)
    assert math.floor(totals(1, 1.0, 160, 1000).macs / 1e6) == 290 != round(290.68)


def test_paper_v1_table_2_shares() -> None:
    """Table 2: 1x1 convs carry 94.86% of mult-adds and 74.59% of params; FC 24.33% of params."""
    figures = analyze(mobilenet(MobileNetSpec(1, 1.0, 224, 1000)))
    pointwise = [x for x in figures.layers if x.type == "Conv2d" and x.name.startswith("pw")]
    fc = next(x for x in figures.layers if x.name == "fc")
    t = figures.totals
    assert round(100 * sum(x.macs for x in pointwise) / t.macs, 2) == 94.86
    assert round(100 * sum(x.weights for x in pointwise) / t.weights, 2) == 74.59
    assert round(100 * fc.weights / t.weights, 2) == 24.33


@pytest.mark.parametrize(("point", "published"), sorted(SLIM_V1.items()))
def test_slim_v1_table(point: tuple[float, int], published: tuple[int, float]) -> None:
    """slim V1: MACs with 1001 classes; params = weights + biases + 3 per BN channel."""
    width, resolution = point
    t = totals(1, width, resolution, 1001)
    macs_m = t.macs / 1e6
    reproduced = published[0] in (round(macs_m), math.floor(macs_m), math.ceil(macs_m))
    assert reproduced == (point not in SLIM_V1_MACS_DISAGREE)
    # beta, moving mean and moving variance per BN channel (the checkpoint's variables).
    bn_channels = t.batchnorm // 2
    assert round((t.weights + t.biases + 3 * bn_channels) / 1e6, 2) == published[1]


@pytest.mark.parametrize(("point", "published"), sorted(SLIM_V2.items()))
def test_slim_v2_table(point: tuple[float, int], published: tuple[int, float]) -> None:
    """slim V2: MACs with 1001 classes truncated to millions; params = weights + biases, no BN."""
    width, resolution = point
    t = totals(2, width, resolution, 1001)
    assert math.floor(t.macs / 1e6) == published[0]
    assert round((t.weights + t.biases) / 1e6, 2) == published[1]


def test_torchvision_mobilenet_v2_params() -> None:
    """torchvision counts every parameter: weights, FC bias, BN gamma and beta (1000 classes)."""
    assert totals(2, 1.0, 224, 1000).params == TORCHVISION_V2_PARAMS
