"""ultralytics-thop 2.2.3 (thop.profile): module hooks by torch.nn class, and the
products no counting module runs.
"""

from __future__ import annotations

from typing import Any

from convcalc.core.count.conventions.base import (
    RECURRENT_CLASSES,
    Convention,
    aspects,
    is_conv,
    module_class,
)
from convcalc.core.count.figures import LayerFigures
from convcalc.core.nets.graph import Node
from convcalc.core.ops.primitives import numel


def _avg_pool_reads(op: Any, shape: tuple[int, ...], out: tuple[int, ...]) -> int:
    """Elements the windows of an average pool really cover (padding counted only with
    count_include_pad), per sample and channel: thop's exact window count."""
    dims = len(op.kernel)
    reads = 1
    for size, n_out, k, s, p in zip(shape[-dims:], out[-dims:], op.kernel, op.stride,
                                    op.padding, strict=True):  # fmt: skip
        lower, upper = (-p, size + p) if op.count_include_pad else (0, size)
        reads *= sum(max(min(i * s - p + k, upper) - max(i * s - p, lower), 0)
                     for i in range(n_out))  # fmt: skip
    return reads


UPSAMPLE_OPS = {"nearest": 0, "nearest-exact": 0, "linear": 5, "bilinear": 11, "bicubic": 259,
                "trilinear": 31}  # fmt: skip

# ultralytics-thop 2.2.3's register_hooks, as the torch.nn class each rule is keyed on (it
# walks the module's MRO: a subclass counts by its base's rule). Modules whose rule counts
# something, or, as nn.Embedding's, marks the module as counting its own work: a product
# run inside one of them is that module's, never counted again as a functional call.
PARAMETRIZED = "torch.nn.utils.parametrize."
THOP_NORMS = ("BatchNorm", "SyncBatchNorm", "InstanceNorm", "LayerNorm", "GroupNorm", "RMSNorm")
THOP_SOFTMAX = frozenset({"Softmax", "LogSoftmax", "Softmin", "Softmax2d"})
THOP_RECURRENT = RECURRENT_CLASSES
THOP_PREFIXES = ("Conv", *THOP_NORMS, "AvgPool", "AdaptiveAvgPool", "Upsampl")
THOP_CLASSES = frozenset({"Linear", "Bilinear", "PReLU", "Embedding", "MultiheadAttention",
                          *THOP_SOFTMAX, *THOP_RECURRENT})  # fmt: skip
THOP_NORM_CALLS = frozenset({"batch_norm", "instance_norm", "layer_norm", "group_norm",
                             "rms_norm"})  # fmt: skip
# The products it counts where no such module runs them (its functional_hooks, by the
# torch function's name): matmul (also ``@`` and ``x.matmul``), bmm, einsum, F.linear,
# sdpa and functional multi-head attention. Not mm, addmm, baddbmm.
THOP_FUNCTIONS = frozenset({"matmul", "bmm", "einsum", "linear", "scaled_dot_product_attention",
                            "multi_head_attention_forward"})  # fmt: skip


def _thop_class(node: Node) -> str:
    """The torch.nn class whose rule thop applies to the node's module ("" for none): a
    Lazy or Parametrized class by its base (a parametrized module holds its
    parametrizations, so it is the scope of the call, not a leaf),
    NonDynamicallyQuantizableLinear as Linear."""
    module = module_class(node)
    if not module and node.scope.startswith(PARAMETRIZED):
        module = node.scope.removeprefix(PARAMETRIZED)
    module = module.removeprefix("Lazy").removeprefix("Parametrized")
    return "Linear" if module == "NonDynamicallyQuantizableLinear" else module


def _thop_counting(module: str) -> bool:
    """Whether thop hooks the module with a rule that counts (or, nn.Embedding's, holds
    its own work): what it runs is never counted again as a functional call."""
    return module.startswith(THOP_PREFIXES) or module in THOP_CLASSES


def _thop_softmax(node: Node, module: str, shape: tuple[int, ...]) -> int:
    """count_softmax: per row of the softmax's axis, n exponentials, n - 1 adds and n
    divides; LogSoftmax one log per row more, Softmin one negation per element."""
    default = -3 if module == "Softmax2d" else None
    dim = dict(node.given).get("dim", default)
    if dim is None:  # torch's deprecated implicit axis
        dim = 0 if len(shape) in (0, 1, 3) else 1
    features = shape[int(dim)] if shape else 1
    rows = numel(shape) // features if features else 0
    work = rows * (features + max(features - 1, 0) + features)
    if module == "Softmin":
        work += numel(shape)
    elif module == "LogSoftmax":
        work += rows
    return work


def _thop_cell(mode: str, inputs: int, hidden: int, bias: bool, proj: int = 0) -> int:
    """rnn_hooks' per-step count of one cell (mode: lstm, gru, rnn_tanh, rnn_relu)."""
    if mode == "lstm":
        state = (inputs + (proj or hidden)) * hidden + hidden + (2 * hidden if bias else 0)
        return 4 * state + 3 * hidden + hidden + hidden * proj
    if mode == "gru":
        state = (hidden + inputs) * hidden + hidden + (2 * hidden if bias else 0)
        return 3 * state + hidden + 3 * hidden
    return hidden * (inputs + hidden) + hidden + (2 * hidden if bias else 0)


def _thop_recurrent(op: Any, shape: tuple[int, ...]) -> int:
    """count_rnn/gru/lstm and their cells: a cell's count per step, for each layer and
    direction (a layer after the first reads 2 x H when bidirectional, as it writes it:
    its proj_size for an LSTM, H otherwise), times the cell evaluations (T x N, the rows
    of a packed sequence; a cell's batch)."""
    if op.cell:
        return _thop_cell(op.mode, op.input_size, op.hidden_size, op.bias) * (
            shape[0] if len(shape) == 2 else 1)  # fmt: skip
    evaluations = shape[0] if op.packed or len(shape) == 2 else shape[0] * shape[1]
    proj = op.proj_size if op.mode == "lstm" else 0
    stacked = (proj or op.hidden_size) if op.mode == "lstm" else op.hidden_size
    directions = 2 if op.bidirectional else 1
    per_step = _thop_cell(op.mode, op.input_size, op.hidden_size, op.bias, proj) * directions
    for _ in range(op.num_layers - 1):
        width = stacked * 2 if op.bidirectional else stacked
        per_step += _thop_cell(op.mode, width, op.hidden_size, op.bias, proj) * directions
    return per_step * evaluations


def _thop_einsum(equation: str, shapes: tuple[tuple[int, ...], ...]) -> int:
    """_count_einsum: two operands; the product of the sizes of the indices both hold or
    the output keeps (an index one operand sums away alone is not a product's)."""
    if len(shapes) != 2:
        return 0
    lhs, arrow, out = equation.replace(" ", "").partition("->")
    terms = lhs.split(",")
    if not arrow:
        out = "".join(c for c in lhs if lhs.count(c) == 1)
    sizes = [{k: d for k, d in zip(term, shape, strict=False) if d != 1}
             for term, shape in zip(terms, shapes, strict=True)]  # fmt: skip
    total = 1
    for index in sizes[0].keys() | sizes[1].keys():
        if (index in sizes[0] and index in sizes[1]) or index in out:
            total *= sizes[0].get(index, sizes[1].get(index, 1))
    return total


def _thop_attention(layer: LayerFigures) -> int:
    """count_multihead_attention's attention products and softmax, on the attention part
    of a multi-head attention (its projections are the Linear parts' MACs)."""
    batch, heads, length, head = layer.input_shapes[0]
    source = layer.input_shapes[1][-2]
    rows = batch * heads * length
    return 2 * rows * source * head + rows * (3 * source - 1)


def _thop_function(node: Node, layer: LayerFigures) -> tuple[int, str]:
    """A product run where no counting module runs: its functional_hooks' count."""
    call, shapes, out = node.call, layer.input_shapes, layer.output_shape
    if call in ("matmul", "bmm", "linear") and shapes:
        return numel(out) * (shapes[0][-1] if shapes[0] else 1), f"{call}: out x k"
    if call == "einsum":
        return _thop_einsum(str(getattr(node.op, "equation", "")), shapes), "einsum products"
    if call == "scaled_dot_product_attention" and len(shapes) >= 3:
        q, k, v = shapes[:3]
        return numel(out) // v[-1] * k[-2] * (q[-1] + v[-1]), "sdpa: q k^T and the weighted v"
    if call == "multi_head_attention_forward":
        if layer.type == "Attention":
            return _thop_attention(layer), "attention products + softmax"
        return layer.macs, "projection MACs"
    return 0, ""


def _thop(node: Node, layer: LayerFigures, _batch: int) -> tuple[int, str]:
    """ultralytics-thop 2.2.3 (thop.profile): forward hooks on modules, by their torch.nn
    class (walking the MRO), on every module call: conv and linear count MACs (no bias);
    batch, instance, layer, group and RMS norm 2 per element, 4 with affine; average
    pooling the elements its windows cover plus one divide per output; adaptive average
    pooling likewise; upsampling per output element by mode; softmax modules 3n - 1 per
    row of n; PReLU 1 per element; recurrent layers per cell step; multi-head attention
    its projections, products and softmax. And, through a TorchFunctionMode, the
    products no counting module runs: matmul, bmm, einsum, F.linear, sdpa. ReLU, SiLU,
    max pooling, additions and a model's own modules: 0."""
    module = _thop_class(node)
    work = layer.macs or layer.elementwise_ops
    if not _thop_counting(module):
        if node.call in THOP_FUNCTIONS:
            return _thop_function(node, layer)
        if not module:
            return 0, "not in a module: no hook sees it" if work else ""
        return 0, f"{module}: 0 (no rule, or zero_ops)" if work else ""
    op: Any = node.op
    kind = layer.type
    shape, out = (layer.input_shapes[0] if layer.input_shapes else ()), layer.output_shape
    if module == "MultiheadAttention":
        if node.call != "multi_head_attention_forward":
            return 0, ""
        return _thop_function(node, layer)
    if module.startswith("Conv") or module == "Linear":
        if not (is_conv(layer) or kind in ("Linear", "MatMul")):
            return 0, ""  # the module's own rule counts its product, once
        return layer.macs, f"{module}: MACs, bias not counted" if layer.bias_adds else "MACs"
    if module.startswith(THOP_NORMS):
        if kind not in ("BatchNorm2d", "Norm") and node.call not in THOP_NORM_CALLS:
            return 0, ""
        affine = bool(getattr(op, "affine", getattr(op, "weight", False)))
        return numel(shape) * (4 if affine else 2), f"{module}: 2 per element, x2 affine"
    if module.startswith("AvgPool"):
        reads = _avg_pool_reads(op, shape, out) * numel(shape[: -len(op.kernel)])
        return reads + numel(out), "window elements + 1 divide per output"
    if module.startswith("AdaptiveAvgPool"):
        # convcalc's own work for it is one op per window element read: the same reads
        return layer.elementwise_ops + numel(out), "window elements + 1 divide"
    if module.startswith("Upsampl"):
        return UPSAMPLE_OPS.get(str(getattr(op, "mode", "")), 0) * numel(out), "upsample"
    if module in THOP_SOFTMAX and (kind == "Activation" or "softm" in node.call):
        return _thop_softmax(node, module, shape), "exp, sum and divide per row element"
    if module == "PReLU" and (kind == "Activation" or node.call == "prelu"):
        return numel(shape), "PReLU: 1 per element"
    if module == "Bilinear" and len(layer.input_shapes) >= 2:
        return (shape[-1] + 1) * layer.input_shapes[1][-1] * numel(out), "(in1 + 1) x in2 per out"
    if module in THOP_RECURRENT and kind == "Recurrent":
        return _thop_recurrent(op, shape), "per cell step"
    return 0, f"{module}: 0 (its rule counts nothing here)" if work else ""


CONVENTIONS = (
    Convention(
        "thop", "ultralytics-thop 2.2.3 (thop.profile)", "MACs", _thop,
        aspects(
            "MACs (it calls them ops)", "1 per MAC (nn.Conv*, nn.Linear modules)",
            "not counted", "1 per MAC on the input",
            "1 per MAC where no counted module runs it (not mm)",
            "2 products as MACs; nn.MultiheadAttention + softmax",
            "per step and gate H x (in + H) + H, 2 H per bias, + the gates' products",
            "4 per element (2 without affine)", "4 per element (2 without affine)",
            "softmax modules 3n - 1 per row of n; PReLU 1; others 0",
            "avg: window elements + 1 per output; max 0",
            "nn.Upsample: 0 nearest, 11 bilinear per output", "0 (functional)",
            "module calls by torch.nn class, and functional products",
        ),
        "the real tool on torchvision models and built-in networks (tests)",
    ),
)  # fmt: skip
