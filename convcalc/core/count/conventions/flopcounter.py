"""torch.utils.flop_counter.FlopCounterMode: 2 FLOPs per MAC of the ops it has a formula
for (convolution, linear maps, matmul, attention), nothing else.
"""

from __future__ import annotations

from convcalc.core.count.conventions.base import (
    Convention,
    aspects,
)
from convcalc.core.count.figures import LayerFigures
from convcalc.core.nets.graph import Node


def _flopcounter(_node: Node, layer: LayerFigures, _batch: int) -> tuple[int, str]:
    return 2 * layer.macs, "2 x MACs" if layer.macs else ""


CONVENTIONS = (
    Convention(
        "flopcounter", "torch.utils.flop_counter.FlopCounterMode", "FLOPs", _flopcounter,
        aspects(
            "FLOPs", "2 per MAC", "0", "2 per MAC on the input", "2 per MAC",
            "2 per MAC of its 2 products",
            "2 per MAC (0 for a fused nn.LSTM on the CPU)", "0", "0", "0", "0", "0", "0",
            "every aten op",
        ),
        "run on every model checked with --cross-check (all tests)",
    ),
)  # fmt: skip
