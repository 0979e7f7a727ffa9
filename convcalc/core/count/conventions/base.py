"""The machinery every convention shares: a rule's signature, the Convention record, the
aspects of the conventions table, and what a rule may ask of a node (its torch call, its
module's torch.nn class).

A rule sees one node: its primitive, its figures, and the torch function that
ran it (``Node.call``: "adaptive_avg_pool2d" or "mean" in a model read from a
trace; "" in a built network, whose modules run as ``BUILT_CALLS`` says).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from convcalc.core.count.figures import LayerFigures
from convcalc.core.nets.graph import Node
from convcalc.core.ops.primitives import ACTIVATION_CLASSES
from convcalc.core.values.record import Record

# A rule counts one node (its primitive, its figures) for a batch of N samples.
Rule = Callable[[Node, LayerFigures, int], tuple[int, str]]

# The torch function a built network's module runs for a primitive, where a
# rule depends on it (measure/build.py: GlobalPool2d runs x.mean / x.amax).
BUILT_CALLS = {"GlobalPool": {"avg": "mean", "max": "amax"}}
# torch.nn's recurrent modules, which hook-based tools key their rules on
RECURRENT_CLASSES = frozenset({"RNN", "GRU", "LSTM", "RNNCell", "GRUCell", "LSTMCell"})


def torch_call(node: Node) -> str:
    """The torch function that ran the node: the trace's, else the one a built network's
    module runs for it ("" where no rule depends on it)."""
    if node.call:
        return node.call
    op: Any = node.op
    if type(op).__name__ == "AdaptivePool2d":  # nn.AdaptiveAvgPool2d and its kin
        return f"adaptive_{op.mode}_pool{len(op.output)}d"
    modes = BUILT_CALLS.get(type(op).__name__, {})
    return modes.get(str(getattr(op, "mode", "")), "")


def is_conv(layer: LayerFigures) -> bool:
    """Whether the layer is a convolution of any kind (transposed, grouped, ...)."""
    return layer.type.startswith("Conv")


def _built_module(op: Any) -> str:
    """The torch.nn class measure/build.py makes for a primitive (convcalc's own modules,
    a pool over the whole map, gates and functional ops, are "Module": no tool hooks them)."""
    kind = type(op).__name__
    if kind == "Conv":
        return "Module" if op.shared_kernel else str(op.kind)
    if kind in ("Linear", "BatchNorm2d"):
        return kind
    if kind == "Activation":
        return ACTIVATION_CLASSES.get(op.function, "Module")
    if kind == "Pool2d":
        return f"{op.mode.capitalize()}Pool{len(op.kernel)}d"
    if kind == "AdaptivePool2d":
        return f"Adaptive{op.mode.capitalize()}Pool{len(op.output)}d"
    if kind == "Norm":
        return "GroupNorm" if op.function == "group_norm" else "LayerNorm"
    if kind == "Recurrent" and not op.packed:  # nn.LSTM, nn.GRUCell...; packed: a wrapper
        name = {"lstm": "LSTM", "gru": "GRU"}.get(op.mode, "RNN")
        return f"{name}Cell" if op.cell else name
    return "Module"


def module_class(node: Node) -> str:
    """The torch.nn class of the leaf module the node ran in ("" for none)."""
    return _built_module(node.op) if node.module is None else node.module


class Convention(Record):
    """One tool's way of counting: its unit, what it counts, and the per-node rule."""

    name: str
    tool: str
    unit: str  # "MACs" or "FLOPs": the figure whose total the tool prints
    rule: Rule
    counts: dict[str, str]  # aspect -> what the tool does with it (the conventions table)
    checked: str  # how this convention is checked against the tool
    other_unit: str = ""  # the convention with the tool's figure in the other unit


ASPECTS = (
    "unit",
    "conv and linear weights",
    "conv and linear bias",
    "transposed conv",
    "matmul / einsum",
    "attention (sdpa)",
    "recurrent layers",  # nn.LSTM, nn.GRU, nn.RNN and their cells
    "batch norm",
    "layer / group norm",
    "activations",
    "pooling",
    "upsampling",
    "add / multiply",
    "sees",
)


def aspects(*counts: str) -> dict[str, str]:
    """What a tool does with each aspect, given in ``ASPECTS``' order (one each, no more)."""
    return dict(zip(ASPECTS, counts, strict=True))
