"""What each counting tool counts, as rules over convcalc's own primitives (pure).

Peers print different numbers for the same model because they count different
things: MACs or FLOPs, bias adds in or out, norms and pools or not, functional
calls or only modules. Each convention here is one tool's rule, read from its
source, applied to the nodes convcalc already has: so ``--convention fvcore``
says what fvcore would print, layer by layer, and why it differs from the paper
figure, without running fvcore. The tests run the real tools and compare.

A rule sees one node: its primitive, its figures, and the torch function that
ran it (``Node.call``: "adaptive_avg_pool2d" or "mean" in a model read from a
trace; "" in a built network, whose modules run as ``BUILT_CALLS`` says).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from convcalc.core.count.figures import LayerFigures, NetworkFigures
from convcalc.core.nets.graph import Node
from convcalc.core.ops.primitives import ACTIVATION_CLASSES, numel
from convcalc.errors import InvalidSpecError

# A rule counts one node (its primitive, its figures) for a batch of N samples.
Rule = Callable[[Node, LayerFigures, int], tuple[int, str]]

# The torch function a built network's module runs for a primitive, where a
# rule depends on it (measure/build.py: GlobalPool2d runs x.mean / x.amax).
BUILT_CALLS = {"GlobalPool": {"avg": "mean", "max": "amax"}}
# torch.nn's recurrent modules, which hook-based tools key their rules on
RECURRENT_CLASSES = frozenset({"RNN", "GRU", "LSTM", "RNNCell", "GRUCell", "LSTMCell"})


def _call(node: Node) -> str:
    if node.call:
        return node.call
    op: Any = node.op
    if type(op).__name__ == "AdaptivePool2d":  # nn.AdaptiveAvgPool2d and its kin
        return f"adaptive_{op.mode}_pool{len(op.output)}d"
    modes = BUILT_CALLS.get(type(op).__name__, {})
    return modes.get(str(getattr(op, "mode", "")), "")


def _is_conv(layer: LayerFigures) -> bool:
    return layer.type.startswith("Conv")


# ---------------------------------------------------------------- the rules


def _paper(_node: Node, layer: LayerFigures, _batch: int) -> tuple[int, str]:
    return layer.macs, ""


def _flopcounter(_node: Node, layer: LayerFigures, _batch: int) -> tuple[int, str]:
    return 2 * layer.macs, "2 x MACs" if layer.macs else ""


def _torchinfo(node: Node, layer: LayerFigures, _batch: int) -> tuple[int, str]:
    if layer.torch_call is None:
        return 0, "functional call: torchinfo sees leaf modules only"
    if _is_conv(layer):
        return layer.torchinfo_mult_adds, "(weights + biases) x N x prod(out)"
    kind = type(node.op).__name__
    if kind == "ConvNamedLinear":  # GPT-2's Conv1D: its class name, not its op, picks the rule
        return layer.torchinfo_mult_adds, '"Conv" in its class name: params x N x prod(out[2:])'
    if kind == "Recurrent":  # weight_ih_l0 & co. are not named weight or bias
        return layer.torchinfo_mult_adds, "weight_ih & co.: params x prod(out.shape[:2])"
    if layer.torchinfo_mult_adds:  # a shared module's second call counts again
        return layer.torchinfo_mult_adds, "params x out.shape[0]"
    return 0, "no parameters: 0"


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


def _fvcore(node: Node, layer: LayerFigures, _batch: int) -> tuple[int, str]:
    """fvcore 0.1.5, FlopCountAnalysis's default handles (jit_handles.py): one per MAC
    for conv (not one with padding='same' or 'valid', which torch runs as
    aten::_convolution_mode), linear, matmul, bmm, einsum; BN in eval 2 per element
    (1 without affine);
    layer/group norm 5 per element (4 without affine); nearest / bilinear 2-D upsampling
    1 / 4 per output element; adaptive_avg_pool2d 1 per input element. Everything else
    (activations, adds, max pooling, means, attention) has no handle: 0."""
    op, kind = node.op, layer.type
    padding = dict(node.given).get("padding", getattr(op, "padding", None))
    if _is_conv(layer) and isinstance(padding, str):
        # torch runs a conv with padding='same' or 'valid' as aten::_convolution_mode
        return 0, f"padding={padding!r}: aten::_convolution_mode has no handle"
    if _is_conv(layer):
        return layer.macs, "MACs, bias not counted" if layer.bias_adds else "MACs"
    if kind == "Norm" and getattr(op, "function", "") == "rms_norm":
        return 0, "no handle for rms_norm"
    if kind in ("Linear", "MatMul", "Einsum"):
        return layer.macs, "MACs, bias not counted" if layer.bias_adds else "MACs"
    if kind == "BatchNorm2d":
        affine = bool(getattr(op, "affine", True))
        return numel(layer.input_shapes[0]) * (2 if affine else 1), "BN in eval"
    if kind == "Norm":
        affine = bool(getattr(op, "weight", False))
        return numel(layer.input_shapes[0]) * (5 if affine else 4), "5 per element"
    if kind == "Interpolate" and len(layer.output_shape) == 4:
        taps = {"nearest": 1, "bilinear": 4}.get(str(getattr(op, "mode", "")), 0)
        note = "upsample" if taps else "no handle for this mode"
        return taps * numel(layer.output_shape), note
    if _call(node) == "adaptive_avg_pool2d":
        return numel(layer.input_shapes[0]), "1 per input element"
    if kind == "Attention":
        return 0, "no handle for scaled_dot_product_attention"
    if kind == "Recurrent":
        if getattr(op, "cell", False):  # the jit trace holds the cell's two aten::linear
            return layer.macs, "cell: its linear maps' MACs, bias not counted"
        return 0, f"no handle for aten::{_call(node) or getattr(op, 'mode', '')}"
    if layer.macs or layer.elementwise_ops:
        return 0, f"no handle for {_call(node) or layer.label}"
    return 0, ""


def _ptflops_aten(node: Node, layer: LayerFigures, _batch: int) -> tuple[int, str]:
    """ptflops 0.7.5, backend='aten' (aten_ops.py): aten.convolution counts MACs plus its
    bias adds; addmm (a linear with bias) MACs plus bias adds; mm, matmul and bmm MACs.
    Nothing else, and not the CPU's fused attention kernel."""
    kind = layer.type
    if _is_conv(layer) or kind == "Linear":
        note = "MACs + bias adds" if layer.bias_adds else "MACs"
        return layer.macs + layer.bias_adds, note
    if kind in ("MatMul", "Einsum"):
        return layer.macs, "MACs (mm / bmm)"
    if kind == "Attention":
        return 0, "fused attention kernel: no aten op it counts"
    if kind == "Recurrent":
        if _fused_lstm(node.op):
            return 0, "the CPU runs nn.LSTM as one mkldnn kernel: no aten op it counts"
        unseen = _unseen_input_bias(node.op, layer.input_shapes[0])
        note = "per step: addmm MACs + bias adds" if layer.bias_adds else "per step: mm MACs"
        if unseen:
            note += " (layer 1's b_ih add_ on a transposed input: not)"
        return layer.macs + layer.bias_adds - unseen, note
    if layer.macs or layer.elementwise_ops:
        return 0, "not an op it counts"
    return 0, ""


def _unseen_input_bias(op: Any, shape: tuple[int, ...]) -> int:
    """The first layer's b_ih adds that no aten op ptflops counts holds: on the CPU torch
    projects every step's input at once (F.linear on T x N x I), and batch first with N
    and T over 1 that input is a transpose, not contiguous, so linear runs matmul then
    ``add_`` (a contiguous one runs addmm, its bias counted)."""
    if op.cell or op.packed or not op.bias or not op.batch_first or len(shape) < 3:
        return 0
    batch, steps = shape[0], shape[1]
    return batch * steps * op.directions * op.gates * op.hidden_size if min(batch, steps) > 1 else 0


def _fused_lstm(op: Any) -> bool:
    """torch runs an nn.LSTM on a float CPU tensor as one mkldnn kernel (at::lstm's
    use_mkldnn), not step by step, unless it projects (proj_size) or reads a packed
    sequence; GRU, RNN and the cells run per step as linear maps (addmm, mm)."""
    return op.mode == "lstm" and not (op.cell or op.packed or op.proj_size)


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
        if not (_is_conv(layer) or kind in ("Linear", "MatMul")):
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


# ptflops 0.7.5's default backend ('pytorch': pytorch_engine.py, pytorch_ops.py).
# Forward hooks on modules of exactly these torch.nn classes (a subclass is not hooked),
# their counts divided by the batch:
PTFLOPS_ACTIVATIONS = frozenset({"ReLU", "PReLU", "ELU", "LeakyReLU", "ReLU6", "GELU"})
PTFLOPS_NORMS = ("BatchNorm", "InstanceNorm", "GroupNorm", "LayerNorm")
# ...and, for the run, torch.nn.functional's functions replaced by counting ones (the
# elements of their input; interpolate: of its output), as are torch.matmul, mm, bmm,
# addmm, baddbmm, mul, add and the Tensor methods of the same names (not baddbmm),
# counted over the whole batch. A module whose forward calls one (nn.ReLU calls
# F.relu, nn.MaxPool2d F.max_pool2d) is counted twice.
_POOLS = tuple(f"{kind}_pool{d}d" for kind in ("avg", "max", "adaptive_avg", "adaptive_max")
               for d in (1, 2, 3))  # fmt: skip
PTFLOPS_FUNCTIONS = frozenset({"relu", "prelu", "elu", "relu6", "gelu", "silu", "softmax",
                               "interpolate", "upsample", *_POOLS})  # fmt: skip
_METHODS = frozenset({"matmul", "mm", "bmm", "addmm", "mul", "add"})
PTFLOPS_TENSOR_OPS = {"torch": _METHODS | {"baddbmm"}, "method": _METHODS}
# timm's ViT attention, which ptflops hooks when timm is installed (its
# timm_attention_counter_hook: q's scaling, and per head L x L x (2 hd + 1)). A hooked
# module's total is its own count, not its children's: the qkv and proj Linear modules
# inside are left out of ptflops' total. Its class lives in timm.layers.attention
# since timm 1.0.
TIMM_ATTENTION = frozenset({"timm.layers.attention.Attention",
                            "timm.models.vision_transformer.Attention"})  # fmt: skip
# The torch.nn.functional function each torch.nn module's forward calls, for a built
# network (whose nodes record no call): an activation's, or its pool's snake-case name.
NN_FORWARD_CALLS = {"ReLU": "relu", "GELU": "gelu", "SiLU": "silu", "ELU": "elu",
                    "PReLU": "prelu", "Softmax": "softmax", "ReLU6": "hardtanh"}  # fmt: skip


def _forward_call(module: str) -> str:
    if "Pool" in module:  # MaxPool2d -> max_pool2d, AdaptiveAvgPool2d -> adaptive_avg_pool2d
        return re.sub(r"(?<!^)(?=[A-Z])", "_", module).lower()
    return NN_FORWARD_CALLS.get(module, "")


def _scores(layer: LayerFigures) -> int:
    """An attention's scores (the entries of q k^T): its own softmax count, one per score."""
    return layer.elementwise.get("softmax", 0)


def _ptflops_module(node: Node, layer: LayerFigures, batch: int) -> tuple[int, str]:
    """ptflops' forward hook on the node's module, per sample: (count, note)."""
    module, op = module_class(node), node.op
    kind = type(op).__name__
    if node.scope in TIMM_ATTENTION:
        if node.unit:  # its qkv and proj: ptflops sums a hooked module's own count only
            return 0, "in timm Attention, whose own count stands for its modules'"
        return _ptflops_timm_attention(node, layer, batch)
    if not module or not node.module_exact:
        return 0, ""
    shape = layer.input_shapes[0] if layer.input_shapes else ()
    if (module.startswith("Conv") and kind == "Conv") or (module, kind) == ("Linear", "Linear"):
        return (layer.macs + layer.bias_adds) // batch, f"{module}: MACs + bias adds"
    if module in PTFLOPS_ACTIVATIONS and kind == "Activation":
        return numel(layer.output_shape) // batch, f"{module}: 1 per output"
    if "Pool" in module and kind in ("Pool2d", "AdaptivePool2d", "GlobalPool"):
        return numel(shape) // batch, f"{module}: 1 per input"
    if module.startswith(PTFLOPS_NORMS) and kind in ("BatchNorm2d", "Norm"):
        affine = module != "LayerNorm" and bool(getattr(op, "affine", getattr(op, "weight", 0)))
        return numel(shape) * (2 if affine else 1) // batch, f"{module}: 1 per input, x2 affine"
    if module == "MultiheadAttention" and node.call == "multi_head_attention_forward":
        return _ptflops_attention(op, layer, batch)
    if module == "Upsample" and kind == "Interpolate":
        # its hook counts the first sample's output; the total is divided by N again
        return numel(layer.output_shape) // batch // batch, "Upsample: 1 per output"
    if module in RECURRENT_CLASSES and kind == "Recurrent":
        return _ptflops_recurrent(node, layer, batch)
    return 0, ""


# ptflops' rnn_flops: per layer, beside w_ih's and w_hh's sizes, the adds and products
# of the gates it names, in units of H
PTFLOPS_RNN_GATE_OPS = {"rnn_tanh": 1, "rnn_relu": 1, "gru": 7, "lstm": 10}


def _ptflops_recurrent(node: Node, layer: LayerFigures, batch: int) -> tuple[int, str]:
    """rnn_flops_counter_hook / rnn_cell_flops_counter_hook, per sample: per layer the
    sizes of w_ih and w_hh (its projection w_hr left out), the gates' adds and products,
    and b_ih + b_hh; times input[0].shape[0] x shape[1] (T x N or N x T; T x I for an
    unbatched (T, I)) and 2 directions, or a cell's batch. It fails on a PackedSequence
    (no .shape) and on an unbatched cell input (no shape[1]): ptflops prints no total."""
    op: Any = node.op
    given = dict(node.given).get("module_input")
    shape = tuple(given) if given is not None else (layer.input_shapes or [()])[0]
    if op.packed:
        return 0, "its rnn hook fails on a PackedSequence (no .shape): ptflops prints no total"
    if op.cell and len(shape) < 2:
        return 0, "its cell hook fails on an unbatched input (no shape[1]): no total printed"
    g, h, hr = op.gates, op.hidden_size, op.state_size
    widths = [shape[1]] if op.cell else op.layer_inputs()
    per_layer = [g * h * (width + hr) + PTFLOPS_RNN_GATE_OPS[op.mode] * h + 2 * g * h * op.bias
                 for width in widths]  # fmt: skip
    rows = shape[0] if op.cell else shape[0] * shape[1] * op.directions
    if op.cell:
        return sum(per_layer) * rows // batch, "cell: w_ih + w_hh + gates + biases"
    note = "per layer w_ih + w_hh + gates + biases, x input.shape[0] x shape[1] x directions"
    return sum(per_layer) * rows // batch, note


def _ptflops_timm_attention(node: Node, layer: LayerFigures, batch: int) -> tuple[int, str]:
    """timm_attention_counter_hook, per sample, on the parts timm's Attention runs: fused,
    one sdpa (q's scaling, its two products, the softmax); unfused, ``q * scale``,
    ``q @ k^T``, ``softmax``, ``attn @ v``, each its own share of the same formula."""
    op: Any = node.op
    kind = type(op).__name__
    if kind == "Attention":
        work = numel(layer.input_shapes[0]) + layer.macs + _scores(layer)
        return work // batch, "timm Attention: q scaling + per head L x L x (2 hd + 1)"
    if kind == "MatMul":
        return layer.macs // batch, "timm Attention: per head L x L x hd"
    if (kind, getattr(op, "function", "")) in (("Activation", "softmax"), ("Pointwise", "mul")):
        return numel(layer.output_shape) // batch, f"timm Attention: {op.function}"
    return 0, ""


def _ptflops_attention(op: Any, layer: LayerFigures, batch: int) -> tuple[int, str]:
    """nn.MultiheadAttention's hook, per sample, split over the parts convcalc reads:
    in-projection with its bias and q's scaling (L x E), per head L x S x (2 hd + 1)
    (products and softmax), out-projection L x E x (E + 1) ("bias is always enabled")."""
    kind = type(op).__name__
    if kind == "Attention":
        work = layer.macs + _scores(layer)
        return work // batch, "MultiheadAttention: per head L x S x (2 hd + 1)"
    if kind != "Linear":
        return 0, ""
    tokens = numel(layer.input_shapes[0]) // op.in_features  # L x N
    if op.out_features == 3 * op.in_features:  # the packed in-projection
        work = layer.macs + layer.bias_adds + tokens * op.in_features
        return work // batch, "MultiheadAttention: q, k, v projections + q scaling"
    work = layer.macs + tokens * op.out_features
    return work // batch, "MultiheadAttention: out-projection, bias always counted"


def _ptflops_call(node: Node, layer: LayerFigures) -> tuple[int, str]:
    """ptflops' replaced function, if the node's call is one: (count, note)."""
    built = node.module is None  # a built network's nodes record no call: its module's
    call = node.call or (_forward_call(module_class(node)) if built else "")
    origin = node.origin or ("F" if built and call else "")
    shapes = layer.input_shapes
    if origin == "F" and call in PTFLOPS_FUNCTIONS:
        if call in ("interpolate", "upsample"):  # F.upsample calls F.interpolate: twice
            return numel(layer.output_shape) * (2 if call == "upsample" else 1), f"F.{call}"
        return numel(shapes[0]) if shapes else 0, f"F.{call}: 1 per input"
    if call == "multi_head_attention_forward" and getattr(node.op, "weights", False):
        # need_weights: its weights come from torch.bmm, softmax and torch.bmm (replaced)
        return layer.macs + _scores(layer), "its torch.bmm x 2 + F.softmax (need_weights)"
    if call in PTFLOPS_TENSOR_OPS.get(origin, ()):
        where = "torch" if origin == "torch" else "Tensor"
        if call in ("matmul", "mm", "bmm") and len(shapes) >= 2 and shapes[1]:
            return numel(shapes[0]) * shapes[1][-1], f"{where}.{call}: MACs"
        if call in ("add", "mul"):
            return numel(layer.output_shape), f"{where}.{call}: 1 per output"
        return layer.macs + layer.bias_adds, f"{where}.{call}: MACs + input"
    return 0, ""


def _ptflops_pytorch(node: Node, layer: LayerFigures, batch: int) -> tuple[int, str]:
    """ptflops 0.7.5, default backend: module hooks (per sample) plus the replaced
    functions' counts (per batch), as the comments above say."""
    hooked, hook_note = _ptflops_module(node, layer, batch)
    called, call_note = _ptflops_call(node, layer)
    note = " + ".join(n for n in (hook_note, call_note) if n)
    if not note and (layer.macs or layer.elementwise_ops):
        note = "no hook on its module, no replaced function"
    return hooked + called, note


# torchscan 0.2.0 (crawl_module / summary): a formula per module call, for leaf modules
# (and nn.MultiheadAttention), by isinstance; other modules and functional code: 0.
# Its "Module-formula forward FLOPs" (modules/flops.py) and "Multiply-Accumulations"
# (modules/macs.py) are two conventions here.
_ACTIVATION_FLOPS = {"ReLU": 1, "ELU": 6, "LeakyReLU": 4, "ReLU6": 2, "Tanh": 6, "Sigmoid": 4}


def _window(node: Node, op: Any, shape: tuple[int, ...], out: tuple[int, ...]) -> int:
    """torchscan's kernel size for a pool: prod(kernel_size) when the module holds a
    tuple, the int itself when it holds one (MaxPool2d(3): 3, not 9); adaptive pools'
    per axis ``i // o`` when o divides i, else ``i % o + 1``."""
    if type(op).__name__ == "Pool2d":
        given = dict(node.given).get("kernel_size", op.kernel)
        return given if isinstance(given, int) else math.prod(given)
    dims = len(shape) - 2
    return math.prod(i // o if i % o == 0 else i % o + 1
                     for i, o in zip(shape[-dims:], out[-dims:], strict=True))  # fmt: skip


def _torchscan_pool(node: Node, layer: LayerFigures, module: str) -> int:
    shape, out = layer.input_shapes[0], layer.output_shape
    k = _window(node, node.op, shape, out)
    if "Max" in module:  # a compare per window element but one
        return numel(out) * (k - 1)
    return numel(out) * (k - 1 + len(shape) - 2)  # the sums, and a divide per axis


def _torchscan_node(node: Node, layer: LayerFigures, macs: bool) -> tuple[int, str]:
    """One module call's torchscan formula, on the node that is its op."""
    module, op = module_class(node), cast(Any, node.op)
    kind = type(op).__name__
    shape = layer.input_shapes[0] if layer.input_shapes else ()
    out = layer.output_shape
    if module.startswith("Conv") and kind == "Conv":  # ConvTranspose* too
        terms = math.prod(op.kernel) * op.cin_per_group
        extra = (4 if macs else 8) * len(op.kernel) if op.transposed else 0
        if macs:
            return numel(out) * terms + extra, "out x cin/g x k" + (" + 4/axis" if extra else "")
        bias = int(op.bias)
        return numel(out) * (2 * terms - 1 + bias) + extra, "out x (2 cin/g k - 1 + bias)" + (
            " + 8/axis" if extra else "")  # fmt: skip
    if module == "Linear" and kind == "Linear" and node.call != "multi_head_attention_forward":
        if macs:
            return op.in_features * numel(out), "in x out"
        rows = numel(out) // op.out_features
        return rows * op.out_features * (2 * op.in_features - 1 + int(op.bias)), (
            "out x (2 in - 1 + bias)")  # fmt: skip
    if module in _ACTIVATION_FLOPS and kind == "Activation":
        return (0, "") if macs else (numel(shape) * _ACTIVATION_FLOPS[module], module)
    if module.startswith("BatchNorm") and kind == "BatchNorm2d":
        affine = bool(getattr(op, "affine", True))
        if macs:
            return numel(shape) * (1 + affine), "BN in eval"
        return op.channels * 2 + numel(shape) * (2 + 2 * affine), "BN in eval"
    if "Pool" in module and kind in ("Pool2d", "AdaptivePool2d", "GlobalPool"):
        return _torchscan_pool(node, layer, module), f"{module}: per output"
    if module == "Dropout" and node.call in ("dropout", "dropout_"):
        p = dict(node.given).get("p", 0.5)
        return (0, "") if macs or not p else (numel(shape), "Dropout p > 0: 1 per input")
    if module == "LayerNorm" and kind == "Norm" and not macs:
        rows = numel(shape) // math.prod(op.normalized)
        work = 6 * numel(shape) + 2 * rows + numel(shape) * (int(op.weight) + int(op.bias))
        return work, "LayerNorm"
    if module == "MultiheadAttention" and node.call == "multi_head_attention_forward":
        return (0, "no MACs formula for MultiheadAttention") if macs else (
            _torchscan_attention(op, layer))  # fmt: skip
    if layer.macs or layer.elementwise_ops:
        return 0, f"{module or 'not in a module'}: no formula"
    return 0, ""


def _torchscan_attention(op: Any, layer: LayerFigures) -> tuple[int, str]:
    """flops_mha, split over the parts convcalc reads (self-attention, no masks)."""
    kind = type(op).__name__
    if kind == "Linear":
        tokens = numel(layer.input_shapes[0]) // op.in_features
        width = op.in_features
        if op.out_features == 3 * width:  # q, k and v projections
            return 3 * tokens * width * (2 * width - 1 + int(op.bias)), "q, k, v projections"
        return tokens * width * (2 * width - 1 + 1), "out-projection, bias counted"
    if kind == "Attention":
        batch, heads, length, head = layer.input_shapes[0]
        source = layer.input_shapes[1][-2]
        rows = batch * heads * length
        work = 1 + rows * head + rows * source * (2 * head - 1) + rows * (3 * source - 1)
        work += rows * head * (2 * source - 1)
        if getattr(op, "weights", False):
            work += rows * source
        return work, "scale, scores, softmax, weighted sum"
    return 0, ""


def _torchscan(node: Node, layer: LayerFigures, _batch: int) -> tuple[int, str]:
    return _torchscan_node(node, layer, macs=False)


def _torchscan_macs(node: Node, layer: LayerFigures, _batch: int) -> tuple[int, str]:
    return _torchscan_node(node, layer, macs=True)


@dataclass(frozen=True)
class Convention:
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

CONVENTIONS: dict[str, Convention] = {
    c.name: c
    for c in (
        Convention(
            "paper", "convcalc", "MACs", _paper,
            dict(zip(ASPECTS, (
                "MACs", "1 per MAC", "not counted (own figure)", "MACs on the input",
                "1 per MAC", "2 products as MACs",
                "per step and gate: H x (in + H) MACs", "not counted (element-wise figure)",
                "not counted (element-wise figure)", "not counted (element-wise figure)",
                "not counted (element-wise figure)", "not counted (element-wise figure)",
                "not counted (element-wise figure)", "every torch call",
            ), strict=True)),
            "the default; every figure is checked against torch and torchinfo",
        ),
        Convention(
            "flopcounter", "torch.utils.flop_counter.FlopCounterMode", "FLOPs", _flopcounter,
            dict(zip(ASPECTS, (
                "FLOPs", "2 per MAC", "0", "2 per MAC on the input", "2 per MAC",
                "2 per MAC of its 2 products",
                "2 per MAC (0 for a fused nn.LSTM on the CPU)", "0", "0", "0", "0", "0", "0",
                "every aten op",
            ), strict=True)),
            "run on every model checked with --cross-check (all tests)",
        ),
        Convention(
            "torchinfo", "torchinfo 1.8", "MACs", _torchinfo,
            dict(zip(ASPECTS, (
                "mult-adds",
                'params x N x prod(out[2:]) (conv, any class named "Conv*"); '
                "params x out.shape[0] (other)",
                "in the same product", "params x N x prod(out): ~stride^2 too many",
                "0 (no parameters)", "0", "params x prod(out.shape[:2]) (weight_ih & co.)",
                "2C x N", "params x out.shape[0]", "0", "0", "0",
                "0", "leaf modules only",
            ), strict=True)),
            "compared per module call on every verified run",
        ),
        Convention(
            "hardware", "convcalc", "FLOPs", _hardware,
            dict(zip(ASPECTS, (
                "FLOPs", "2 per MAC", "1 per output element", "2 per MAC on the input",
                "2 per MAC", "2 per MAC + scale and softmax",
                "2 per MAC + bias adds + gates' element-wise", "2 per element",
                "6 per element", "1 per element", "1 per window element",
                "4 per output (bilinear)", "1 per element", "every torch call",
            ), strict=True)),
            "convcalc's own figures: 2 x MACs + bias adds + element-wise ops",
        ),
        Convention(
            "fvcore", "fvcore 0.1.5 FlopCountAnalysis", "MACs", _fvcore,
            dict(zip(ASPECTS, (
                "MACs (it calls them flops)", "1 per MAC (padding='same'/'valid': 0)",
                "not counted",
                "1 per MAC on the input", "1 per MAC", "0 (no handle)",
                "cells 1 per MAC (bias not); nn.LSTM/GRU/RNN 0 (no handle)",
                "2 per element in eval (1 without affine)", "5 per element (4 without affine)",
                "0 (no handle)", "adaptive_avg_pool2d 1 per input; others 0",
                "nearest 1, bilinear 4 per output (2-D only)", "0 (ignored)",
                "every aten op of a jit trace",
            ), strict=True)),
            "the real tool on torchvision models and built-in networks (tests)",
        ),
        Convention(
            "ptflops", "ptflops 0.7.5, backend='aten'", "MACs", _ptflops_aten,
            dict(zip(ASPECTS, (
                "MACs", "1 per MAC", "1 per output element", "1 per MAC on the input",
                "1 per MAC (mm, bmm)", "0 (fused kernel)",
                "per step MACs + bias adds (batch first: not layer 1's b_ih); a CPU nn.LSTM 0 "
                "(fused) unless proj_size or packed", "0", "0", "0", "0", "0", "0",
                "every aten op",
            ), strict=True)),
            "the real tool on torchvision models and built-in networks (tests)",
        ),
        Convention(
            "ptflops-pytorch", "ptflops 0.7.5, backend='pytorch' (its default)", "MACs",
            _ptflops_pytorch,
            dict(zip(ASPECTS, (
                "MACs", "1 per MAC (modules of exactly nn.Conv*, nn.Linear)",
                "1 per output element", "1 per MAC on the input",
                "torch.matmul / x.matmul: MACs; a @ b: 0",
                "nn.MultiheadAttention's and timm Attention's formulas; a bare sdpa 0",
                "per layer w_ih + w_hh + gates + biases, x in.shape[0] x in.shape[1] "
                "(T x I unbatched); fails on packed or unbatched cells",
                "1 per element, 2 with affine", "group 2 with affine; layer 1",
                "nn.ReLU 2 (module + F.relu), F.silu 1, nn.Hardswish 0",
                "2 per input (module + F.*)", "nn.Upsample 2 per output",
                "torch.add / x.add: 1 per output; x + y: 0",
                "hooked modules (exact class) + replaced functions",
            ), strict=True)),
            "the real tool on torchvision models and built-in networks (tests)",
        ),
        Convention(
            "torchscan", "torchscan 0.2.0, module-formula forward FLOPs", "FLOPs", _torchscan,
            dict(zip(ASPECTS, (
                "FLOPs", "2 cin/g k - 1 per output (+1 with bias)", "1 per output element",
                "out x (2 cin/g k - 1 + bias) + 8 per axis: ~stride^2 too many",
                "0 (functional)", "nn.MultiheadAttention's formula; sdpa 0", "0 (no formula)",
                "2 per element + 2 per channel (4 with affine)", "LayerNorm 6-8 per element",
                "ReLU 1, ReLU6 2, Sigmoid 4, ELU/Tanh 6 per element; GELU, SiLU 0",
                "per output: kernel - 1 (+ dims for average)", "0", "0 (functional)",
                "leaf modules (and MultiheadAttention), by isinstance",
            ), strict=True)),
            "the real tool on torchvision models and built-in networks (tests)",
            "torchscan-macs",
        ),
        Convention(
            "torchscan-macs", "torchscan 0.2.0, Multiply-Accumulations", "MACs",
            _torchscan_macs,
            dict(zip(ASPECTS, (
                "MACs", "1 per MAC", "in the accumulation (0)",
                "out x cin/g x k + 4 per axis: ~stride^2 too many", "0 (functional)", "0",
                "0 (no formula)", "1 per element (2 with affine)", "0 (no formula)", "0",
                "per output: kernel - 1 (+ dims for average)", "0", "0 (functional)",
                "leaf modules, by isinstance",
            ), strict=True)),
            "the real tool on torchvision models and built-in networks (tests)",
            "torchscan",
        ),
        Convention(
            "thop", "ultralytics-thop 2.2.3 (thop.profile)", "MACs", _thop,
            dict(zip(ASPECTS, (
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
            ), strict=True)),
            "the real tool on torchvision models and built-in networks (tests)",
        ),
    )
}  # fmt: skip


def convention(name: str) -> Convention:
    """The convention called ``name`` (InvalidSpecError naming the known ones)."""
    found = CONVENTIONS.get(name)
    if found is not None:
        return found
    known = ", ".join(CONVENTIONS)
    raise InvalidSpecError(f"unknown convention {name!r}; known: {known}")


@dataclass(frozen=True)
class LayerCount:
    """One node under a convention."""

    name: str
    paper: int
    count: int
    note: str


@dataclass(frozen=True)
class ConventionCount:
    """A network counted the way one tool counts it, beside the paper MACs."""

    convention: Convention
    layers: tuple[LayerCount, ...]
    paper: int

    @property
    def total(self) -> int:
        return sum(layer.count for layer in self.layers)

    @property
    def difference(self) -> int:
        """The tool's total minus the paper MACs (in the tool's own unit)."""
        return self.total - self.paper

    def value(self, figure: str) -> int:
        """``--value macs`` / ``flops`` under this convention: its total, in its own unit."""
        c = self.convention
        if figure != c.unit.lower():
            unit = {"macs": "MACs", "flops": "FLOPs"}.get(figure, figure)
            other = f" (its {unit}: --convention {c.other_unit})" if c.other_unit else ""
            raise InvalidSpecError(
                f"--value {figure} under --convention {c.name}: {c.tool} prints {c.unit}; use "
                f"--value {c.unit.lower()}{other}"
            )
        return self.total

    def to_dict(self) -> dict[str, Any]:
        c = self.convention
        return {
            "name": c.name,
            "tool": c.tool,
            "unit": c.unit,
            "total": self.total,
            "paper_macs": self.paper,
            "difference": self.difference,
            "layers": [
                {"name": x.name, "paper_macs": x.paper, "count": x.count, "note": x.note}
                for x in self.layers
            ],
        }


def count(figures: NetworkFigures, name: str) -> ConventionCount:
    """Every node of a network under the convention ``name``."""
    chosen = convention(name)
    nodes = figures.network.nodes
    batch = figures.totals.batch
    layers = tuple(
        LayerCount(layer.name, layer.macs, *chosen.rule(nodes[layer.index], layer, batch))
        for layer in figures.layers
    )
    return ConventionCount(chosen, layers, figures.totals.macs)
