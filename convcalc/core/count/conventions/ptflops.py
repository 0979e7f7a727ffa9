"""ptflops 0.7.5, both backends: ``backend='aten'`` (aten ops under a dispatch mode) and
``backend='pytorch'``, its default (module hooks plus replaced functions).
"""

from __future__ import annotations

import re
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


def _ptflops_aten(node: Node, layer: LayerFigures, _batch: int) -> tuple[int, str]:
    """ptflops 0.7.5, backend='aten' (aten_ops.py): aten.convolution counts MACs plus its
    bias adds; addmm (a linear with bias) MACs plus bias adds; mm, matmul and bmm MACs.
    Nothing else, and not the CPU's fused attention kernel."""
    kind = layer.type
    if is_conv(layer) or kind == "Linear":
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


CONVENTIONS = (
    Convention(
        "ptflops", "ptflops 0.7.5, backend='aten'", "MACs", _ptflops_aten,
        aspects(
            "MACs", "1 per MAC", "1 per output element", "1 per MAC on the input",
            "1 per MAC (mm, bmm)", "0 (fused kernel)",
            "per step MACs + bias adds (batch first: not layer 1's b_ih); a CPU nn.LSTM 0 "
            "(fused) unless proj_size or packed", "0", "0", "0", "0", "0", "0",
            "every aten op",
        ),
        "the real tool on torchvision models and built-in networks (tests)",
    ),
    Convention(
        "ptflops-pytorch", "ptflops 0.7.5, backend='pytorch' (its default)", "MACs",
        _ptflops_pytorch,
        aspects(
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
        ),
        "the real tool on torchvision models and built-in networks (tests)",
    ),
)  # fmt: skip
