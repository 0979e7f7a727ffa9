"""Readers for the ops of detection, optical-flow and int8 quantized models.

``read.READERS`` takes these first (``VISION_READERS``): each reads one traced call
into a primitive of ``core.ops.vision`` (``Reading``), or returns None for a call
it does not know, which the table's own reader (if any) then reads. Also here:
the int8 models' packed weights (``packed_weights``: no ``nn.Parameter``, so
the measured side counts them from the modules' own ``weight()`` and ``bias()``)
and the figures torchinfo and FlopCounterMode cannot be compared on for them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import torch
from torch import nn

from convcalc.core.count.figures import NetworkFigures
from convcalc.core.nets.graph import INPUT, Network, Node
from convcalc.core.ops import primitives as P  # noqa: N812
from convcalc.core.ops import traced as O  # noqa: N812 - the op table's alias
from convcalc.core.ops import vision as V  # noqa: N812
from convcalc.core.ops.primitives import fmt_int
from convcalc.measure.trace import Event, Value


class Reading(NamedTuple):
    """A call read: its primitive, the values it reads and the parameters it owns;
    ``side``: the call's results after the first come with it, free."""

    op: P.Primitive
    inputs: list[Value]
    owns: list[Value]
    side: bool = False


def _arg(event: Event, index: int, name: str, default: Any = None) -> Any:
    if index < len(event.inputs):
        return event.inputs[index]
    return event.kwargs.get(name, default)


def _parameter(value: Any) -> bool:
    return isinstance(value, Value) and value.parameter is not None


def _select(event: Event) -> Reading | None:
    """topk, unique, nonzero, argwhere, masked_select, and where(condition) (one argument:
    a nonzero): one comparison per element of the first input."""
    x = _arg(event, 0, "input", _arg(event, 0, "condition"))
    if not isinstance(x, Value) or not event.outputs:
        return None
    if event.function == "where" and len(event.inputs) + len(event.kwargs) != 1:
        return None  # where(condition, a, b): element-wise, read as arithmetic
    op = V.Select(event.function, event.outputs[0].shape, math.prod(x.shape))
    return Reading(op, [x], [], side=True)


def _as_tensor(event: Event) -> Reading | None:
    """as_tensor: a tensor made of data (image sizes, a Python list): a copy, free."""
    if not event.outputs:
        return None
    values = [v for v in event.inputs if isinstance(v, Value)]
    return Reading(O.Opaque(event.function, event.outputs[0].shape), values, [], side=True)


def _nms(event: Event) -> Reading | None:
    """torchvision's nms(boxes, scores, iou_threshold) (torch.ops.torchvision.nms)."""
    boxes, scores = _arg(event, 0, "boxes"), _arg(event, 1, "scores")
    if not isinstance(boxes, Value) or not isinstance(scores, Value) or not boxes.shape:
        return None
    return Reading(V.NMS(boxes.shape[0], event.outputs[0].shape), [boxes, scores], [])


def _roi_align(event: Event) -> Reading | None:
    """torch.ops.torchvision.roi_align(input, rois, spatial_scale, pooled_height,
    pooled_width, sampling_ratio, aligned). An adaptive sampling ratio (<= 0) takes as many
    samples as each box is large: that depends on the boxes, so it is left not counted."""
    x, rois = _arg(event, 0, "input"), _arg(event, 1, "rois")
    height, width = _arg(event, 3, "pooled_height"), _arg(event, 4, "pooled_width")
    ratio = _arg(event, 5, "sampling_ratio", -1)
    if not (isinstance(x, Value) and isinstance(rois, Value)) or not isinstance(ratio, int):
        return None
    if ratio <= 0 or not isinstance(height, int) or not isinstance(width, int):
        return None
    return Reading(V.RoIAlign((height, width), ratio), [x, rois], [])


def _instance_norm(event: Event) -> Reading | None:
    """F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats)."""
    x, weight, bias = _arg(event, 0, "input"), _arg(event, 3, "weight"), _arg(event, 4, "bias")
    if not isinstance(x, Value) or len(x.shape) < 2:
        return None
    if (weight is None) != (bias is None) or not all(v is None or _parameter(v)
                                                     for v in (weight, bias)):  # fmt: skip
        return None  # a computed or half affine: not this reader's
    stats = bool(_arg(event, 5, "use_input_stats", True))
    op = V.InstanceNorm(x.shape[1], weight is not None, stats)
    return Reading(op, [x], [v for v in (weight, bias) if v is not None])


def _grid_sample(event: Event) -> Reading | None:
    """F.grid_sample(input, grid, mode, padding_mode, align_corners)."""
    x, grid = _arg(event, 0, "input"), _arg(event, 1, "grid")
    mode = _arg(event, 2, "mode", "bilinear")
    if not (isinstance(x, Value) and isinstance(grid, Value)) or mode not in O.RESIZE_TAPS:
        return None
    return Reading(V.GridSample(str(mode)), [x, grid], [])


def _quantize(event: Event) -> Reading | None:
    x = _arg(event, 0, "input")
    if not isinstance(x, Value):
        return None
    return Reading(V.Quantize(event.function), [x], [])


def _add_relu(event: Event) -> Reading | None:
    """torch.ops.quantized.add_relu(a, b, scale, zero_point): an add and a ReLU."""
    values = [v for v in event.inputs if isinstance(v, Value)]
    return Reading(V.FusedPointwise("add_relu", 2), values, []) if values else None


def _script_object(value: Any) -> bool:
    return isinstance(value, torch.ScriptObject)


def _packed_conv(event: Event) -> Reading | None:
    """torch.ops.quantized.conv{1,2,3}d[_relu](input, packed, scale, zero_point): the
    packed parameters hold the int8 weight, the bias and the conv's settings."""
    x, packed = _arg(event, 0, "input"), _arg(event, 1, "packed_weight")
    if not isinstance(x, Value) or not _script_object(packed):
        return None
    try:
        weight, bias = packed.unpack()
        stride, padding = list(packed.stride()), list(packed.padding())
        dilation, groups = list(packed.dilation()), int(packed.groups())
        transposed, extra = bool(packed.transpose()), list(packed.output_padding())
    except (RuntimeError, AttributeError):
        return None
    dims = weight.dim() - 2
    if len(x.shape) != dims + 2 or len(stride) != dims or len(padding) != dims:
        return None
    kernel = tuple(int(k) for k in weight.shape[2:])
    cout = int(weight.shape[1]) * groups if transposed else int(weight.shape[0])
    conv = P.Conv(x.shape[1], cout, kernel, tuple(stride), tuple(padding), tuple(dilation),
                  groups, bias is not None, transposed=transposed,
                  output_padding=tuple(extra) if transposed else (0,) * dims)  # fmt: skip
    return Reading(V.Packed(conv, relu=event.function.endswith("_relu")), [x], [])


def _packed_linear(event: Event) -> Reading | None:
    """torch.ops.quantized.linear[_relu](input, packed, scale, zero_point) and
    linear_dynamic(input, packed): the packed parameters hold the int8 weight and bias."""
    x, packed = _arg(event, 0, "input"), _arg(event, 1, "packed_weight")
    if not isinstance(x, Value) or not _script_object(packed):
        return None
    try:
        weight, bias = torch.ops.quantized.linear_unpack(packed)
    except (RuntimeError, AttributeError):
        return None
    linear = P.Linear(int(weight.shape[1]), int(weight.shape[0]), bias is not None)
    return Reading(V.Packed(linear, relu=event.function.endswith("_relu")), [x], [])


SELECTIONS = ("topk", "unique", "unique_consecutive", "nonzero", "argwhere", "masked_select",
              "where")  # fmt: skip
PACKED_CONVS = ("conv1d", "conv2d", "conv3d", "conv1d_relu", "conv2d_relu", "conv3d_relu",
                "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")  # fmt: skip
PACKED_LINEARS = ("linear", "linear_relu", "linear_dynamic", "linear_relu_dynamic")

VISION_READERS: dict[str, Callable[[Event], Reading | None]] = {
    **dict.fromkeys(SELECTIONS, _select),
    "as_tensor": _as_tensor,
    "nms": _nms,
    "roi_align": _roi_align,
    "instance_norm": _instance_norm,
    "grid_sample": _grid_sample,
    **dict.fromkeys(("quantize_per_tensor", "quantize_per_channel", "dequantize"), _quantize),
    "add_relu": _add_relu,
    **dict.fromkeys(PACKED_CONVS, _packed_conv),
    **dict.fromkeys(PACKED_LINEARS, _packed_linear),
}


def _packed_of(module: nn.Module) -> dict[str, torch.Tensor]:
    """A quantized module's packed weight and bias by name (none for any other module)."""
    if not hasattr(module, "_packed_params") or not callable(getattr(type(module), "weight",
                                                                     None)):  # fmt: skip
        return {}
    found: dict[str, torch.Tensor] = {}
    for name in ("weight", "bias"):
        method = getattr(module, name, None)  # methods of the packed modules, not parameters
        tensor = method() if callable(method) else None
        if isinstance(tensor, torch.Tensor):
            found[name] = tensor
    return found


def packed_weights(model: nn.Module) -> list[torch.Tensor]:
    """The int8 weights and float biases of a quantized model's modules
    (torch.ao.nn.quantized Conv, Linear and their fused kinds): packed, no parameters."""
    return [t for module in model.modules() for t in _packed_of(module).values()]


def packed_not_run(model: nn.Module, network: Network) -> Network:
    """The network with a node for each packed weight no op read (an int8 model's
    auxiliary head in eval), shown as not run, as a float model's parameters are."""
    ran = {(node.unit or node.name.partition(":")[0]).partition("@")[0]
           for node in network.nodes if isinstance(node.op, V.Packed)}  # fmt: skip
    extra: list[Node] = []
    for path, module in model.named_modules():
        if path in ran:
            continue
        for name, tensor in _packed_of(module).items():
            extra.append(Node(f"{path}.{name}", O.Parameter(tuple(tensor.shape)), (INPUT,),
                              group=f"{path} (not run)", unit=None))  # fmt: skip
    if not extra:
        return network
    frozen = network.frozen_params + sum(node.op.params for node in extra)
    return dataclasses.replace(network, nodes=(*network.nodes, *extra), frozen_params=frozen)


def packed_params(model: nn.Module) -> int:
    """Elements of the model's packed int8 weights and biases (0 for a float model)."""
    return sum(t.numel() for t in packed_weights(model))


def packed_unpredictable(model: nn.Module) -> tuple[tuple[str, str], ...]:
    """The figures torchinfo and FlopCounterMode cannot be compared on for an int8 model
    with packed weights, each with the reason; none for a float model."""
    if not packed_params(model):
        return ()
    hidden = ("torchinfo counts nn.Parameters only, and int8 packed weights are none "
              "(convcalc counts them from the modules' weight() and bias())")  # fmt: skip
    return (
        ("torchinfo_params", hidden),
        ("torchinfo_param_bytes", hidden),
        ("torchinfo_forward_backward_bytes", hidden),
        ("param_bytes", "int8 packed weights take 1 byte each (their biases 4), not the "
                        "analysis dtype's bytes"),
        ("flop_counter_flops", "FlopCounterMode has no formula for int8 quantized ops "
                               "(it counts 0 for them)"),
    )  # fmt: skip


def box_share(figures: NetworkFigures) -> str | None:
    """What share of the MACs runs once per box: every op after a RoI Align (an R-CNN's box,
    mask and keypoint heads), whose work grows with the boxes the model kept for this
    input. None where no op reads a RoI Align's result (dense heads: RetinaNet, FCOS, SSD)."""
    network, layers = figures.network, figures.layers
    per_box: set[str] = set()
    boxes = 0
    for index, node in enumerate(network.nodes):
        if isinstance(node.op, V.RoIAlign):
            per_box.add(node.name)
            boxes += layers[index].output_shape[0]
        elif per_box & set(network.sources(index)):
            per_box.add(node.name)
    share = sum(layer.macs for layer in layers if layer.name in per_box)
    if not share or not figures.totals.macs:
        return None
    total = figures.totals.macs
    return (
        f"{fmt_int(share)} of the {fmt_int(total)} MACs ({100 * share / total:.1f}%) run "
        f"once per box (every op after RoI Align: {boxes} boxes pooled here), so that share "
        "depends on how many boxes the model kept for this input"
    )
