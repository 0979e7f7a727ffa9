"""What the built modules compute: grouped and shared-kernel semantics, by hand-set weights."""

from __future__ import annotations

import pytest
import torch

from convcalc.core.ops.primitives import Conv2d
from convcalc.measure.build import SharedKernelDepthwiseConv2d, build_module


def test_grouped_semantics_worked_example() -> None:
    """DOMAIN.md 2: g=2, filters 0-9 zero, 10-19 ones, all-ones input -> channels 10-19 are 45."""
    module = build_module(Conv2d(10, 20, (3, 3), groups=2, bias=False))
    assert isinstance(module, torch.nn.Conv2d)
    assert tuple(module.weight.shape) == (20, 5, 3, 3)
    with torch.no_grad():
        module.weight[:10] = 0.0
        module.weight[10:] = 1.0
        out = module(torch.ones(1, 10, 7, 7))
    assert tuple(out.shape) == (1, 20, 5, 5)
    assert torch.equal(out[0, :10], torch.zeros(10, 5, 5))
    assert torch.equal(out[0, 10:], torch.full((10, 5, 5), 45.0))  # 5 input channels x 9 taps


def test_group_i_sees_only_input_group_i() -> None:
    """With all-ones weights, output group i sums only input group i's channels."""
    module = build_module(Conv2d(6, 6, (1, 1), groups=3, bias=False))
    assert isinstance(module, torch.nn.Conv2d)
    assert tuple(module.weight.shape) == (6, 2, 1, 1)  # DOMAIN.md: Conv2d(6, 6, 1, groups=3)
    x = torch.arange(6, dtype=torch.float32).reshape(1, 6, 1, 1)  # channel c holds c
    with torch.no_grad():
        module.weight.fill_(1.0)
        out = module(x).flatten().tolist()
    assert out == [1.0, 1.0, 5.0, 5.0, 9.0, 9.0]  # 0+1, 2+3, 4+5


def test_depthwise_multiplier_weight_shape() -> None:
    """Conv2d(10, 20, 3, groups=10) has weight (20, 1, 3, 3): multiplier 2."""
    module = build_module(Conv2d(10, 20, (3, 3), groups=10))
    assert isinstance(module, torch.nn.Conv2d)
    assert tuple(module.weight.shape) == (20, 1, 3, 3)
    assert sum(p.numel() for p in module.parameters()) == 200


@pytest.mark.parametrize(("cin", "multiplier"), [(4, 2), (3, 1), (2, 3)])
def test_shared_kernel_output_channel_uses_kernel_j(cin: int, multiplier: int) -> None:
    """Output channel i*m + j is input channel i convolved with shared kernel j (+ bias j)."""
    conv = Conv2d(cin, cin * multiplier, (3, 3), groups=cin, shared_kernel=True)
    module = build_module(conv)
    assert isinstance(module, SharedKernelDepthwiseConv2d)
    assert tuple(module.weight.shape) == (multiplier, 1, 3, 3)
    assert sum(p.numel() for p in module.parameters()) == multiplier * 9 + multiplier
    with torch.no_grad():
        for j in range(multiplier):
            module.weight[j] = float(j + 1)  # every tap of kernel j is j + 1: sum 9 (j + 1)
        assert module.bias is not None
        module.bias.copy_(torch.arange(multiplier, dtype=torch.float32) * 1000.0)
        # Input channel i is the constant 10^i, so each output names its input and kernel.
        x = torch.stack([torch.full((5, 5), 10.0**i) for i in range(cin)]).unsqueeze(0)
        out = module(x)
    assert tuple(out.shape) == (1, cin * multiplier, 3, 3)
    for i in range(cin):
        for j in range(multiplier):
            expected = 10.0**i * 9 * (j + 1) + 1000.0 * j
            assert torch.allclose(out[0, i * multiplier + j], torch.full((3, 3), expected)), (i, j)


def test_shared_kernel_gradient_flows_to_the_one_kernel() -> None:
    """Every input channel's use of the kernel trains the same parameters (they are shared)."""
    module = build_module(Conv2d(4, 4, (3, 3), groups=4, bias=False, shared_kernel=True))
    assert isinstance(module, SharedKernelDepthwiseConv2d)
    out = module(torch.ones(1, 4, 3, 3))
    out.sum().backward()
    assert module.weight.grad is not None
    # Each of 4 channels contributes 1 per tap on an all-ones 3x3 input: gradient 4 everywhere.
    assert torch.equal(module.weight.grad, torch.full((1, 1, 3, 3), 4.0))
