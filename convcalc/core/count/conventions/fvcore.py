"""fvcore 0.1.5's FlopCountAnalysis: the handles of a jit trace's aten ops."""

from __future__ import annotations

from convcalc.core.count.conventions.base import (
    Convention,
    aspects,
    is_conv,
    torch_call,
)
from convcalc.core.count.figures import LayerFigures
from convcalc.core.nets.graph import Node
from convcalc.core.ops.primitives import numel


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
    if is_conv(layer) and isinstance(padding, str):
        # torch runs a conv with padding='same' or 'valid' as aten::_convolution_mode
        return 0, f"padding={padding!r}: aten::_convolution_mode has no handle"
    if is_conv(layer):
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
    if torch_call(node) == "adaptive_avg_pool2d":
        return numel(layer.input_shapes[0]), "1 per input element"
    if kind == "Attention":
        return 0, "no handle for scaled_dot_product_attention"
    if kind == "Recurrent":
        if getattr(op, "cell", False):  # the jit trace holds the cell's two aten::linear
            return layer.macs, "cell: its linear maps' MACs, bias not counted"
        return 0, f"no handle for aten::{torch_call(node) or getattr(op, 'mode', '')}"
    if layer.macs or layer.elementwise_ops:
        return 0, f"no handle for {torch_call(node) or layer.label}"
    return 0, ""


CONVENTIONS = (
    Convention(
        "fvcore", "fvcore 0.1.5 FlopCountAnalysis", "MACs", _fvcore,
        aspects(
            "MACs (it calls them flops)", "1 per MAC (padding='same'/'valid': 0)",
            "not counted",
            "1 per MAC on the input", "1 per MAC", "0 (no handle)",
            "cells 1 per MAC (bias not); nn.LSTM/GRU/RNN 0 (no handle)",
            "2 per element in eval (1 without affine)", "5 per element (4 without affine)",
            "0 (no handle)", "adaptive_avg_pool2d 1 per input; others 0",
            "nearest 1, bilinear 4 per output (2-D only)", "0 (ignored)",
            "every aten op of a jit trace",
        ),
        "the real tool on torchvision models and built-in networks (tests)",
    ),
)  # fmt: skip
