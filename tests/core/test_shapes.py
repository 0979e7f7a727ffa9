"""Output size, effective kernel, same padding and receptive field, against hand-computed values."""

from __future__ import annotations

import pytest

from convcalc.core.geometry.shapes import (
    Jump,
    conv_output_size,
    effective_kernel,
    receptive_field_step,
    same_padding,
)
from convcalc.errors import InvalidSpecError


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "dilation", "expected"),
    [
        (224, 3, 1, 0, 1, 222),  # (224 - 3) / 1 + 1
        (224, 3, 1, 1, 1, 224),  # padding 1 keeps a 3x3's size
        (224, 3, 2, 1, 1, 112),  # floor(223 / 2) + 1
        (224, 7, 2, 3, 1, 112),  # ResNet stem: floor(223 / 2) + 1
        (64, 3, 1, 1, 1, 64),
        (7, 1, 1, 0, 1, 7),  # 1x1 keeps 7x7
        (7, 3, 1, 0, 1, 5),
        (7, 3, 1, 0, 2, 3),  # effective kernel 5
        (7, 3, 1, 0, 3, 1),  # effective kernel 7
        (7, 7, 1, 0, 1, 1),  # global kernel
        (5, 1, 2, 0, 1, 3),  # floor(4 / 2) + 1
        (10, 3, 3, 0, 1, 3),  # floor(7 / 3) + 1
        (5, 7, 1, 1, 1, 1),  # kernel = padded input
        (1, 3, 1, 1, 1, 1),
        (8, 2, 2, 0, 1, 4),
        (9, 2, 2, 0, 1, 4),  # the last column is dropped (floor)
    ],
)
def test_conv_output_size(
    size: int, kernel: int, stride: int, padding: int, dilation: int, expected: int
) -> None:
    """The floored nn.Conv2d output size formula gives the hand-computed size."""
    assert conv_output_size(size, kernel, stride, padding, dilation) == expected


@pytest.mark.parametrize(
    ("size", "kernel", "padding", "dilation"),
    [(5, 7, 0, 1), (5, 8, 1, 1), (8, 3, 0, 4), (1, 2, 0, 1), (6, 3, 1, 4)],
)
def test_conv_output_size_rejects_kernel_larger_than_padded_input(
    size: int, kernel: int, padding: int, dilation: int
) -> None:
    """An effective kernel larger than the padded input is an invalid spec naming both sizes."""
    k_eff = dilation * (kernel - 1) + 1
    with pytest.raises(
        InvalidSpecError, match=rf"effective kernel {k_eff} .* {size + 2 * padding}"
    ):
        conv_output_size(size, kernel, 1, padding, dilation)


@pytest.mark.parametrize(
    ("kernel", "dilation", "expected"),
    [(3, 1, 3), (3, 2, 5), (3, 3, 7), (1, 5, 1), (5, 2, 9), (2, 3, 4), (7, 1, 7)],
)
def test_effective_kernel(kernel: int, dilation: int, expected: int) -> None:
    """The dilated kernel spans d*(k-1)+1 pixels (k=3: d=2 covers 5, d=3 covers 7)."""
    assert effective_kernel(kernel, dilation) == expected


@pytest.mark.parametrize(
    ("kernel", "dilation", "expected"),
    [
        (3, 1, (1, 1)),
        (5, 1, (2, 2)),
        (1, 1, (0, 0)),
        (2, 1, (0, 1)),  # the odd pixel goes after, as PyTorch pads
        (4, 1, (1, 2)),
        (3, 2, (2, 2)),
        (2, 3, (1, 2)),  # total 3 x (2 - 1) = 3
    ],
)
def test_same_padding(kernel: int, dilation: int, expected: tuple[int, int]) -> None:
    """padding='same' pads d*(k-1) in all, the odd pixel after, as PyTorch does."""
    assert same_padding(kernel, dilation) == expected


def test_receptive_field_single_layers() -> None:
    """One layer: r += (k_eff - 1) * j and j *= s, by hand."""
    assert receptive_field_step(1, 1, 3, 1, 1) == (3, 1)
    assert receptive_field_step(1, 1, 3, 2, 1) == (3, 2)
    assert receptive_field_step(1, 1, 3, 1, 2) == (5, 1)  # dilation 2: effective 5
    assert receptive_field_step(3, 2, 3, 1, 1) == (7, 2)  # 3 + 2 * 2
    assert receptive_field_step(5, 2, 3, 1, 2) == (13, 2)  # 5 + (5 - 1) * 2


def test_receptive_field_stacks() -> None:
    """Three 3x3 convs see 7x7; a 7x7/2 stem then a 3x3/2 pool sees 11 with jump 4."""
    rf: int
    jump: Jump
    rf, jump = 1, 1
    for _ in range(3):
        rf, jump = receptive_field_step(rf, jump, 3, 1, 1)
    assert (rf, jump) == (7, 1)
    rf, jump = receptive_field_step(1, 1, 7, 2, 1)
    rf, jump = receptive_field_step(rf, jump, 3, 2, 1)
    assert (rf, jump) == (11, 4)
    # Dilations 1, 2, 4 of a 3x3 (a context module): 3, then + 4, then + 8.
    rf, jump = 1, 1
    for dilation in (1, 2, 4):
        rf, jump = receptive_field_step(rf, jump, 3, 1, dilation)
    assert (rf, jump) == (15, 1)
