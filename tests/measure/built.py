"""A traced case (tests.strategies.Traced) built as measure builds it, with its inputs."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from convcalc.core.nets.graph import INPUT, Network, Node
from convcalc.measure.build import QUANTIZED_SCALE, QUANTIZED_ZERO_POINT, GraphModule, build_module
from tests.strategies import Traced

# torch deprecates its int8 tensors (quantize_per_tensor and the modules that make them),
# which the int8 ops read; torchvision's quantized models still run them.
INT8_DEPRECATED = pytest.mark.filterwarnings(
    "ignore:torch.quantize_per_tensor, torch.quantize_per_channel and other quantized:UserWarning"
)


def case_inputs(case: Traced) -> tuple[torch.Tensor, ...]:
    """Zeros of each input's shape on the case's device; int8 ones quantized."""
    made = []
    for index, shape in enumerate(case.shapes):
        dtype = case.dtypes[index] if index < len(case.dtypes) else "float32"
        if dtype == "quint8":
            zeros = torch.zeros(shape)
            made.append(torch.quantize_per_tensor(zeros, QUANTIZED_SCALE, QUANTIZED_ZERO_POINT,
                                                  torch.quint8))  # fmt: skip
        else:
            made.append(torch.zeros(shape, dtype=getattr(torch, dtype), device=case.device))
    return tuple(made)


def one_node(case: Traced) -> Network:
    """A network of the case's op alone, given its one input as often as the op reads it."""
    assert len(case.shapes) == 1, case
    return Network("one", case.shapes[0], (Node("op", case.op, (INPUT,) * len(case.calls)),))


def build_case(case: Traced) -> tuple[nn.Module, tuple[torch.Tensor, ...]]:
    """The module and its arguments: one input runs through the network module measure
    builds (GraphModule); several are given, in order, to the op's own module."""
    inputs = case_inputs(case)
    with torch.device(case.device):
        if len(case.shapes) == 1:
            return GraphModule(one_node(case)), inputs
        return build_module(case.op), tuple(inputs[i] for i in case.calls)
