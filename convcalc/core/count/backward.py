"""The backward pass's multiply-accumulates, as FlopCounterMode counts them (pure).

Training costs the forward pass plus the gradients. For a convolution or linear
layer the weight gradient is one product as large as the forward one, and the
input gradient another, computed only when the layer's input needs a gradient:
never for the network's input (``requires_grad`` is off), so the first layer
pays 1x its forward MACs and every later one 2x. A product of two activations
(``a @ b``, einsum) pays one forward-sized product per operand that needs a
gradient; attention written as products (the math path) pays one per operand of
each of its two products. Element-wise ops, norms, pools and bias gradients (a
sum) are not multiply-accumulates: FlopCounterMode counts them as 0, and so does
this. A value needs a gradient when a parameter is upstream of it.
"""

from __future__ import annotations

from typing import Any

from convcalc.core.count.figures import LayerFigures, NetworkFigures, flops
from convcalc.core.nets.graph import INPUT, Node
from convcalc.core.values.record import Record


class LayerBackward(Record):
    """One node's backward MACs and what they are; ``flop_counter_macs`` is what
    FlopCounterMode counts, which differs for grouped convolutions."""

    name: str
    macs: int
    note: str
    flop_counter_macs: int


class Backward(Record):
    """The backward pass of one network."""

    layers: tuple[LayerBackward, ...]
    forward_macs: int

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def flops(self) -> int:
        return flops(self.macs)

    @property
    def training_flops(self) -> int:
        """Forward + backward FLOPs: 2 x every multiply-accumulate of a training step."""
        return flops(self.forward_macs + self.macs)

    @property
    def flop_counter_training_flops(self) -> int:
        """What FlopCounterMode counts around ``loss.backward()``: the same, except that
        it counts a grouped convolution's weight gradient g times (torch's
        ``conv_backward_flop`` drops the groups from that product)."""
        return flops(self.forward_macs + sum(x.flop_counter_macs for x in self.layers))

    def to_dict(self) -> dict[str, Any]:
        return {
            "macs": self.macs,
            "flops": self.flops,
            "training_flops": self.training_flops,
            "flop_counter_training_flops": self.flop_counter_training_flops,
            "layers": [
                {"name": x.name, "macs": x.macs, "note": x.note} for x in self.layers if x.macs
            ],
        }


def _needs_grad(network_nodes: tuple[Node, ...], sources: list[tuple[str, ...]]) -> dict[str, bool]:
    needs = {INPUT: False}
    for node, inputs in zip(network_nodes, sources, strict=True):
        owns = node.op.params > 0 or node.weights_of is not None
        needs[node.name] = owns or any(needs.get(s, False) for s in inputs)
    return needs


def _layer(layer: LayerFigures, node: Node, operands: list[bool]) -> tuple[int, str, int]:
    kind = layer.type
    if kind.startswith("Conv") or kind == "Linear":
        groups = int(getattr(node.op, "groups", 1))
        weight, counted = layer.macs, layer.macs * groups
        extra = f"; FlopCounterMode: weight gradient x {groups} (groups)" if groups > 1 else ""
        if operands and operands[0]:
            return (2 * layer.macs, "grad input + grad weight: 2 x forward MACs" + extra,
                    layer.macs + counted)  # fmt: skip
        return (weight, "grad weight only (its input needs no gradient): 1 x forward MACs"
                + extra, counted)  # fmt: skip
    if kind in ("MatMul", "Einsum", "Attention"):
        wanted = sum(operands)
        if kind == "Attention":
            # q k^T and attn v: each operand's gradient is one product of its pair's size;
            # q, k, v given: 2 products per forward product when all need gradients.
            wanted = 2 if any(operands) else 0
        macs = wanted * layer.macs
        return macs, f"{wanted} x forward MACs (one per operand needing it)", macs
    return 0, "", 0


def backward(figures: NetworkFigures) -> Backward:
    """Every node's backward MACs."""
    network = figures.network
    sources = [network.sources(i) for i in range(len(network.nodes))]
    needs = _needs_grad(network.nodes, sources)
    layers = []
    for layer in figures.layers:
        node = network.nodes[layer.index]
        operands = [needs.get(s, False) for s in sources[layer.index]]
        layers.append(LayerBackward(layer.name, *_layer(layer, node, operands)))
    return Backward(tuple(layers), figures.totals.macs)
