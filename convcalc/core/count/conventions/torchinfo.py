"""torchinfo 1.8's mult-adds: leaf modules only, a module's parameters times its output's
size (conv, and any class named "Conv*") or its batch (the rest).
"""

from __future__ import annotations

from convcalc.core.count.conventions.base import (
    Convention,
    aspects,
    is_conv,
)
from convcalc.core.count.figures import LayerFigures
from convcalc.core.nets.graph import Node


def _torchinfo(node: Node, layer: LayerFigures, _batch: int) -> tuple[int, str]:
    if layer.torch_call is None:
        return 0, "functional call: torchinfo sees leaf modules only"
    if is_conv(layer):
        return layer.torchinfo_mult_adds, "(weights + biases) x N x prod(out)"
    kind = type(node.op).__name__
    if kind == "ConvNamedLinear":  # GPT-2's Conv1D: its class name, not its op, picks the rule
        return layer.torchinfo_mult_adds, '"Conv" in its class name: params x N x prod(out[2:])'
    if kind == "Recurrent":  # weight_ih_l0 & co. are not named weight or bias
        return layer.torchinfo_mult_adds, "weight_ih & co.: params x prod(out.shape[:2])"
    if layer.torchinfo_mult_adds:  # a shared module's second call counts again
        return layer.torchinfo_mult_adds, "params x out.shape[0]"
    return 0, "no parameters: 0"


CONVENTIONS = (
    Convention(
        "torchinfo", "torchinfo 1.8", "MACs", _torchinfo,
        aspects(
            "mult-adds",
            'params x N x prod(out[2:]) (conv, any class named "Conv*"); '
            "params x out.shape[0] (other)",
            "in the same product", "params x N x prod(out): ~stride^2 too many",
            "0 (no parameters)", "0", "params x prod(out.shape[:2]) (weight_ih & co.)",
            "2C x N", "params x out.shape[0]", "0", "0", "0",
            "0", "leaf modules only",
        ),
        "compared per module call on every verified run",
    ),
)  # fmt: skip
