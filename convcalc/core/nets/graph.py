"""A layer, block or network as a small graph of primitives.

Each node names its inputs (the previous node when it names none; ``"input"``
is the network's input) and may reuse the weights of an earlier node, as
CBAM's shared MLP does: reused weights count once in params, and their MACs
count every time they run.

Blocks compose through ``GraphBuilder``: a block is a function that adds named
nodes reading given input nodes and returns its output node, so an SE block
can sit inside a MobileNet V3 or a ResNet block as well as stand alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from convcalc.core.ops.primitives import Primitive, Shape
from convcalc.core.values.record import Record
from convcalc.errors import InvalidSpecError

INPUT = "input"


class Node(Record):
    """One call of a primitive."""

    name: str
    op: Primitive
    inputs: tuple[str, ...] = ()
    weights_of: str | None = None
    group: str = ""  # the table row this node is shown in (conv + BN + ReLU); default its name
    # The torch module call torchinfo reports this node under: "" is the node's own
    # (a built-in graph has one module per node); None is none (functional code).
    unit: str | None = ""
    # The torch function a read model ran for it ("adaptive_avg_pool2d", "mean"); ""
    # for a built network, whose module runs it as measure/build.py says.
    call: str = ""
    # The torch.nn class of the leaf module a read model ran it in ("Conv2d"; "" when it
    # ran in none); None for a built network (its module is measure/build.py's).
    module: str | None = None
    # Whether that module is of the torch.nn class exactly (not a subclass of it).
    module_exact: bool = True
    # How the torch function was called (measure/trace.ORIGINS: "F", "torch", "method",
    # "Tensor"); "" for a built network.
    origin: str = ""
    # Arguments of the call as the model gave them, where a peer's rule reads them and
    # the primitive normalises them away: a pool's kernel_size as an int or a tuple,
    # a dropout's p. Empty for a built network.
    given: tuple[tuple[str, Any], ...] = ()
    # The class (module.QualName) of the innermost module with children that a read
    # model ran the call in: the module itself for functional code, a leaf module's
    # parent ("timm.layers.attention.Attention" for its sdpa and its qkv Linear). A
    # hook-based peer hooks some such modules. "" for a built network.
    scope: str = ""

    @property
    def row(self) -> str:
        """The name of the displayed row this node belongs to."""
        return self.group or self.name

    @property
    def torch_call(self) -> str | None:
        """The module call torchinfo measures this node in, if any."""
        return self.name if self.unit == "" else self.unit


class Network(Record):
    """A graph of nodes in execution order; the last node is the output."""

    name: str
    input_shape: Shape
    nodes: tuple[Node, ...]
    notes: tuple[str, ...] = ()  # what the builder decided for the user (channel rounding)
    outputs: tuple[str, ...] = ()  # the nodes returned; default the last one
    # Every module call torchinfo reports, in order, when not one per node (a read
    # model: leaf module calls, those that ran no op included).
    torch_calls: tuple[str, ...] = ()
    # Parameter elements the model does not train (``requires_grad`` off: a frozen
    # backbone); every parameter convcalc builds is trained.
    frozen_params: int = 0
    # A read model's tensor inputs, each (shape, dtype name) by its own dtype (token ids:
    # int64, 8 bytes each, whatever the model's dtype); empty: one input of the run's dtype.
    inputs: tuple[tuple[Shape, str], ...] = ()
    # A read model's leaf module calls, each with the node whose value the module returned
    # (the tensor torchinfo sizes: a tuple's first, as an LSTM's sequence before its h_n),
    # which need not be the call's last node; empty: each call's last node.
    call_outputs: tuple[tuple[str, str], ...] = ()

    @property
    def output_nodes(self) -> tuple[str, ...]:
        """The names of the nodes the network returns."""
        return self.outputs or (self.nodes[-1].name,)

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
    def single_op(self) -> Primitive | None:
        """The primitive, when the network is one node (the conv commands)."""
        return self.nodes[0].op if len(self.nodes) == 1 else None

    def classify(self) -> str:
        """What the network is called: its one op's classification, else its name."""
        op = self.single_op
        return self.name if op is None else op.classify(self.input_shape)

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


class GraphBuilder:
    """Adds nodes in execution order; blocks call it with their input node names.

    ``add`` reads the last added node unless told otherwise and returns the new
    node's name; ``scope`` prefixes every name added inside it (``b3.se.fc1``),
    so one block can be placed many times in one network. (A plain class: a mutable
    dataclass compiles its ``__init__`` when its module loads, start-up.)
    """

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.notes: list[str] = []  # decisions said once on stderr
        self.prefix = ""  # the current scope's, "b3.se." inside scope("b3.se")

    @property
    def last(self) -> str:
        """The most recently added node (the input before any)."""
        return self.nodes[-1].name if self.nodes else INPUT

    def name(self, local: str) -> str:
        """The full name of ``local`` in the current scope."""
        return f"{self.prefix}{local}"

    def add(
        self,
        name: str,
        op: Primitive,
        inputs: tuple[str, ...] = (),
        *,
        group: str = "",
        weights_of: str | None = None,
    ) -> str:
        """Append one call of ``op`` reading ``inputs`` (default: the last node).

        ``group`` (scoped like the name) is the table row the node is shown in;
        ``weights_of`` (a full name) is the node whose weights it reuses.
        """
        full = self.name(name)
        row = self.name(group) if group else ""
        self.nodes.append(Node(full, op, inputs or (self.last,), weights_of, row))
        return full

    @contextmanager
    def scope(self, prefix: str) -> Iterator[GraphBuilder]:
        """Names added inside are ``prefix.name``."""
        outer = self.prefix
        self.prefix = f"{outer}{prefix}." if prefix else outer
        try:
            yield self
        finally:
            self.prefix = outer

    def note(self, text: str) -> None:
        """Record a decision the builder made for the user (said once on stderr)."""
        if text not in self.notes:
            self.notes.append(text)

    def build(self, name: str, input_shape: Shape) -> Network:
        """The finished network."""
        validate_input(input_shape)
        return Network(name, input_shape, tuple(self.nodes), tuple(self.notes))
