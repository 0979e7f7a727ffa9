"""convcalc's hardware FLOPs: 2 x MACs + bias adds + every element-wise op."""

from __future__ import annotations

from convcalc.core.count.conventions.base import (
    Convention,
    aspects,
)
from convcalc.core.count.figures import LayerFigures
from convcalc.core.nets.graph import Node


def _hardware(_node: Node, layer: LayerFigures, _batch: int) -> tuple[int, str]:
    total = 2 * layer.macs + layer.bias_adds + layer.elementwise_ops
    parts = [
        text
        for value, text in (
            (layer.macs, "2 x MACs"),
            (layer.bias_adds, "bias adds"),
            (layer.elementwise_ops, "element-wise"),
        )
        if value
    ]
    return total, " + ".join(parts)


CONVENTIONS = (
    Convention(
        "hardware", "convcalc", "FLOPs", _hardware,
        aspects(
            "FLOPs", "2 per MAC", "1 per output element", "2 per MAC on the input",
            "2 per MAC", "2 per MAC + scale and softmax",
            "2 per MAC + bias adds + gates' element-wise", "2 per element",
            "6 per element", "1 per element", "1 per window element",
            "4 per output (bilinear)", "1 per element", "every torch call",
        ),
        "convcalc's own figures: 2 x MACs + bias adds + element-wise ops",
    ),
)  # fmt: skip
