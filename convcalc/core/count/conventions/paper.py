"""convcalc's own figure, the default: MACs as the papers count them, one per weight
multiply-accumulate, bias adds and element-wise work apart (their own figures).
"""

from __future__ import annotations

from convcalc.core.count.conventions.base import (
    Convention,
    aspects,
)
from convcalc.core.count.figures import LayerFigures
from convcalc.core.nets.graph import Node


def _paper(_node: Node, layer: LayerFigures, _batch: int) -> tuple[int, str]:
    return layer.macs, ""


CONVENTIONS = (
    Convention(
        "paper", "convcalc", "MACs", _paper,
        aspects(
            "MACs", "1 per MAC", "not counted (own figure)", "MACs on the input",
            "1 per MAC", "2 products as MACs",
            "per step and gate: H x (in + H) MACs", "not counted (element-wise figure)",
            "not counted (element-wise figure)", "not counted (element-wise figure)",
            "not counted (element-wise figure)", "not counted (element-wise figure)",
            "not counted (element-wise figure)", "every torch call",
        ),
        "the default; every figure is checked against torch and torchinfo",
    ),
)  # fmt: skip
