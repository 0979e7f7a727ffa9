"""torchscan 0.2.0: a formula per leaf module call, in FLOPs and in MACs."""

from __future__ import annotations

import math
from typing import Any, cast

from convcalc.core.count.conventions.base import (
    Convention,
    aspects,
    module_class,
)
from convcalc.core.count.figures import LayerFigures
from convcalc.core.nets.graph import Node
from convcalc.core.ops.primitives import numel

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


CONVENTIONS = (
    Convention(
        "torchscan", "torchscan 0.2.0, module-formula forward FLOPs", "FLOPs", _torchscan,
        aspects(
            "FLOPs", "2 cin/g k - 1 per output (+1 with bias)", "1 per output element",
            "out x (2 cin/g k - 1 + bias) + 8 per axis: ~stride^2 too many",
            "0 (functional)", "nn.MultiheadAttention's formula; sdpa 0", "0 (no formula)",
            "2 per element + 2 per channel (4 with affine)", "LayerNorm 6-8 per element",
            "ReLU 1, ReLU6 2, Sigmoid 4, ELU/Tanh 6 per element; GELU, SiLU 0",
            "per output: kernel - 1 (+ dims for average)", "0", "0 (functional)",
            "leaf modules (and MultiheadAttention), by isinstance",
        ),
        "the real tool on torchvision models and built-in networks (tests)",
        "torchscan-macs",
    ),
    Convention(
        "torchscan-macs", "torchscan 0.2.0, Multiply-Accumulations", "MACs",
        _torchscan_macs,
        aspects(
            "MACs", "1 per MAC", "in the accumulation (0)",
            "out x cin/g x k + 4 per axis: ~stride^2 too many", "0 (functional)", "0",
            "0 (no formula)", "1 per element (2 with affine)", "0 (no formula)", "0",
            "per output: kernel - 1 (+ dims for average)", "0", "0 (functional)",
            "leaf modules, by isinstance",
        ),
        "the real tool on torchvision models and built-in networks (tests)",
        "torchscan",
    ),
)  # fmt: skip
