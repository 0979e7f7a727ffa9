"""A layer, block or network as a small graph of primitives.

Each node names its inputs (the previous node when it names none; ``"input"``
is the network's input) and may reuse the weights of an earlier node, as
CBAM's shared MLP does: reused weights count once in params, and their MACs
count every time they run.
"""

from __future__ import annotations

from dataclasses import dataclass

from convcalc.core.primitives import Conv2d, Primitive, Shape
from convcalc.errors import InvalidSpecError

INPUT = "input"


@dataclass(frozen=True)
class Node:
    """One call of a primitive."""

    name: str
    op: Primitive
    inputs: tuple[str, ...] = ()
    weights_of: str | None = None
    group: str = ""  # the table row this node is shown in (conv + BN + ReLU); default its name

    @property
    def row(self) -> str:
        """The name of the displayed row this node belongs to."""
        return self.group or self.name


@dataclass(frozen=True)
class Network:
    """A graph of nodes in execution order; the last node is the output."""

    name: str
    input_shape: Shape
    nodes: tuple[Node, ...]
    notes: tuple[str, ...] = ()  # what the builder decided for the user (channel rounding)

    def __post_init__(self) -> None:
        seen = {INPUT}
        for node in self.nodes:
            if node.name in seen:
                raise ValueError(f"duplicate node name {node.name!r}")
            for source in node.inputs:
                if source not in seen:
                    raise ValueError(f"node {node.name!r} reads {source!r} before it exists")
            if node.weights_of is not None and node.weights_of not in seen:
                raise ValueError(
                    f"node {node.name!r} shares weights of unknown {node.weights_of!r}"
                )
            seen.add(node.name)

    @property
    def single_conv(self) -> Conv2d | None:
        """The convolution, when the network is one convolution (the conv commands)."""
        if len(self.nodes) == 1 and isinstance(self.nodes[0].op, Conv2d):
            return self.nodes[0].op
        return None

    def sources(self, index: int) -> tuple[str, ...]:
        """The names a node reads: its own list, else the previous node (or the input)."""
        node = self.nodes[index]
        if node.inputs:
            return node.inputs
        return (self.nodes[index - 1].name,) if index else (INPUT,)

    def owner(self, node: Node) -> Node:
        """The node whose weights this node uses (itself unless it shares)."""
        if node.weights_of is None:
            return node
        return next(n for n in self.nodes if n.name == node.weights_of)


def validate_input(shape: Shape) -> None:
    """Every size of the input must be positive."""
    if any(size <= 0 for size in shape):
        raise InvalidSpecError(f"input shape {list(shape)} must have positive sizes")
