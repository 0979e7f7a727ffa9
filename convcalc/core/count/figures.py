"""Every analytic figure of a network, derived from its primitives.

``analyze`` walks the graph once, propagating shapes, and returns per-layer
figures and totals. Nothing here is looked up: each number is a formula applied
to the description.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import field, replace
from typing import Any

from convcalc.core.geometry.shapes import Field, Jumps, Sizes, input_field
from convcalc.core.nets.graph import INPUT, Network
from convcalc.core.ops.primitives import Shape, numel
from convcalc.core.values.record import Record

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8}
# Any input's bytes per element: a read model's token ids, masks and indices too.
ELEMENT_BYTES = DTYPE_BYTES | {"int64": 8, "int32": 4, "int16": 2, "int8": 1, "uint8": 1,
                               "bool": 1}  # fmt: skip
FLOPS_PER_MAC = 2  # FlopCounterMode's convention: a multiply and an add


def flops(macs: int) -> int:
    """FLOPs = 2 x MACs, the one place that rule is written."""
    return FLOPS_PER_MAC * macs


class Counts(Record):
    """What a node and a whole network both have: parameters, work, and the output's field."""

    output_shape: Shape
    params: int  # a node: 0 where it reuses another node's weights
    weights: int
    biases: int
    batchnorm: int
    macs: int
    bias_adds: int
    elementwise: dict[str, int]
    torchinfo_mult_adds: int
    field: Field

    @property
    def elementwise_ops(self) -> int:
        """All element-wise work."""
        return sum(self.elementwise.values())

    @property
    def flops(self) -> int:
        """FLOPs = 2 x MACs (FlopCounterMode's convention)."""
        return flops(self.macs)

    @property
    def receptive_field(self) -> Sizes:
        """The output's receptive field per axis, in input pixels (the input when global)."""
        return self.field.size

    @property
    def jump(self) -> Jumps:
        """Distance between neighbouring output units per axis, in input pixels."""
        return self.field.jump


class LayerFigures(Counts):
    """The analytic figures of one node."""

    index: int
    name: str
    type: str
    description: str
    input_shapes: tuple[Shape, ...]
    params_formula: str
    macs_formula: str
    label: str = ""
    shares_weights_of: str | None = None
    group: str = ""
    counted: bool = True  # False: convcalc has no formula for this op's work
    torch_call: str | None = None  # the module call torchinfo reports it in

    @property
    def description_of_work(self) -> str:
        """The op's name for the "not counted" list."""
        return self.label.removesuffix(" (not counted)")


class Totals(Counts):
    """Whole-network figures, for the whole batch."""

    input_shape: Shape
    activation_elements: int
    torchinfo_output_elements: int
    output_shapes: tuple[Shape, ...] = ()  # every output (a model may return several)
    not_counted: dict[str, int] = field(default_factory=dict)  # op -> calls with no formula
    frozen_params: int = 0  # parameters a read model does not train (requires_grad off)

    @property
    def partial(self) -> bool:
        """True when some op had no formula: the counts are lower bounds."""
        return bool(self.not_counted)

    @property
    def trainable_params(self) -> int:
        """Every parameter convcalc builds is trainable; a read model's frozen ones not."""
        return self.params - self.frozen_params

    @property
    def batch(self) -> int:
        """N, the batch size."""
        return self.input_shape[0]


class NetworkFigures(Record):
    """Per-layer figures and totals of one network."""

    network: Network
    layers: tuple[LayerFigures, ...]
    totals: Totals
    dtype: str = "float32"
    # core.count.roofline.Options: the device and fusion the roofline is drawn for (None: no
    # device, unfused). Set by the pipeline; core.count.roofline.roofline_of draws it once.
    roofline_options: Any = None

    def torch_calls(self) -> dict[str, list[LayerFigures]]:
        """The nodes of each module call torchinfo reports, in order (functional ops outside
        any leaf module are in none)."""
        calls: dict[str, list[LayerFigures]] = {}
        for layer in self.layers:
            if layer.torch_call is not None:
                calls.setdefault(layer.torch_call, []).append(layer)
        return calls

    @property
    def dtype_bytes(self) -> int:
        """Bytes per element of the chosen dtype."""
        return DTYPE_BYTES[self.dtype]

    @property
    def param_bytes(self) -> int:
        """Parameter memory for the dtype."""
        return self.totals.params * self.dtype_bytes

    @property
    def torchinfo_param_bytes(self) -> int:
        """torchinfo's "params size": parameters of the module calls it reports (a
        parameter used outside any leaf module, or never, is not in it)."""
        owned = sum(x.params for x in self.layers if x.torch_call is not None)
        return owned * self.dtype_bytes

    @property
    def input_bytes(self) -> int:
        """Input tensor memory: every input, each by its own dtype (a read model's)."""
        if self.network.inputs:
            return sum(numel(shape) * ELEMENT_BYTES[dtype] for shape, dtype in self.network.inputs)
        return numel(self.totals.input_shape) * self.dtype_bytes

    @property
    def activation_bytes(self) -> int:
        """Every node's output held once (the forward pass's activations)."""
        return self.totals.activation_elements * self.dtype_bytes

    @property
    def torchinfo_forward_backward_bytes(self) -> int:
        """torchinfo's "forward/backward pass size": 2 x outputs of layers with params."""
        return 2 * self.totals.torchinfo_output_elements * self.dtype_bytes


def analyze(network: Network, dtype: str = "float32") -> NetworkFigures:
    """Propagate shapes through the network and count everything."""
    shapes: dict[str, Shape] = {INPUT: network.input_shape}
    # The spatial axes (L; H, W; D, H, W) after batch and channels; none: one pixel.
    extent = network.input_shape[2:] if len(network.input_shape) >= 3 else (1, 1)
    fields: dict[str, Field] = {INPUT: input_field(extent)}
    layers: list[LayerFigures] = []
    for index, node in enumerate(network.nodes):
        sources = network.sources(index)
        inputs = tuple(shapes[s] for s in sources)
        out = node.op.out_shape(inputs)
        shapes[node.name] = out
        fields[node.name] = node.op.field(tuple(fields[s] for s in sources), inputs)
        owner = network.owner(node)
        counted = owner is node
        op = node.op
        # (a primitive's params are its weights, biases and batch-norm parameters: each
        # read once)
        weights, biases, batchnorm = (
            (op.weight_params, op.bias_params, op.batchnorm_params) if counted else (0, 0, 0)
        )
        layers.append(
            LayerFigures(  # (every field, in the order declared: the quickest binding)
                output_shape=out,
                params=weights + biases + batchnorm,
                weights=weights,
                biases=biases,
                batchnorm=batchnorm,
                macs=op.macs(inputs, out),
                bias_adds=op.bias_adds(out),
                elementwise=op.elementwise(inputs, out),
                # torchinfo sees an op only inside a module call it reports.
                torchinfo_mult_adds=op.torchinfo_mult_adds(out) if node.torch_call else 0,
                field=fields[node.name],
                index=index,
                name=node.name,
                type=op.kind,
                description=op.describe(),
                input_shapes=inputs,
                params_formula=op.params_formula() if counted else f"shared with {owner.name}",
                macs_formula=op.macs_formula(inputs, out),
                label=op.label,
                shares_weights_of=None if counted else owner.name,
                group=node.row,
                counted=op.counted,
                torch_call=node.torch_call,
            )
        )
    # torchinfo applies a module's rule to what the module returned, which need not be its
    # last node's output (an unbatched LSTM returns its sequence squeezed: T x H, where
    # its op wrote T x 1 x H, and h_n is squeezed last)
    returned = {call: shapes[node] for call, node in network.call_outputs}
    if returned:
        layers = [_on_returned(network, layer, returned) for layer in layers]
    elementwise: Counter[str] = Counter()
    not_counted: Counter[str] = Counter()
    for layer in layers:
        elementwise.update(layer.elementwise)
        if not layer.counted:
            not_counted[layer.description_of_work] += 1
    outputs = network.output_nodes
    totals = Totals(
        input_shape=network.input_shape,
        output_shape=shapes[outputs[0]],
        params=sum(x.params for x in layers),
        weights=sum(x.weights for x in layers),
        biases=sum(x.biases for x in layers),
        batchnorm=sum(x.batchnorm for x in layers),
        macs=sum(x.macs for x in layers),
        bias_adds=sum(x.bias_adds for x in layers),
        elementwise=dict(elementwise),
        torchinfo_mult_adds=sum(x.torchinfo_mult_adds for x in layers),
        activation_elements=sum(numel(x.output_shape) for x in layers),
        torchinfo_output_elements=_torchinfo_output_elements(network, layers, returned),
        field=fields[outputs[0]],
        output_shapes=tuple(shapes[name] for name in outputs),
        not_counted=dict(not_counted),
        frozen_params=network.frozen_params,
    )
    return NetworkFigures(network=network, layers=tuple(layers), totals=totals, dtype=dtype)


def _on_returned(network: Network, layer: LayerFigures, returned: dict[str, Shape]) -> LayerFigures:
    """The node's torchinfo mult-adds by its module's rule on what the module returned."""
    out = returned.get(layer.torch_call) if layer.torch_call is not None else None
    if not out or out == layer.output_shape:
        return layer
    op = network.nodes[layer.index].op
    return replace(layer, torchinfo_mult_adds=op.torchinfo_mult_adds(out))


def _torchinfo_output_elements(
    network: Network, layers: list[LayerFigures], returned: dict[str, Shape]
) -> int:
    """Outputs of the module calls torchinfo reports that hold parameters (it doubles
    them for gradients): what the call returned, else its last node's output."""
    last: dict[str, LayerFigures] = {}
    with_params: set[str] = set()
    for layer in layers:
        call = layer.torch_call
        if call is None:
            continue
        last[call] = layer
        if network.owner(network.nodes[layer.index]).op.params:
            with_params.add(call)
    return sum(numel(returned.get(call, last[call].output_shape)) for call in with_params)


def per_sample(total: int, batch: int) -> int:
    """A batch-linear count for one sample (exact: every count is N x something)."""
    quotient, remainder = divmod(total, batch)
    assert remainder == 0, "batch-linear counts divide exactly"
    return quotient
