"""Output sizes, effective kernels and receptive fields, per axis (DOMAIN.md 1, 7)."""

from __future__ import annotations

from dataclasses import dataclass

from convcalc.errors import InvalidSpecError

Pair = tuple[int, int]
Sizes = tuple[int, ...]  # one value per spatial axis


def effective_kernel(kernel: int, dilation: int) -> int:
    """Span of a dilated kernel: ``d * (k - 1) + 1`` (k=3, d=2 covers 5)."""
    return dilation * (kernel - 1) + 1


def conv_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """``floor((size + 2p - d(k - 1) - 1) / s + 1)``, as ``nn.Conv2d`` documents it.

    Raises InvalidSpecError when the effective kernel is larger than the padded input.
    """
    k_eff = effective_kernel(kernel, dilation)
    padded = size + 2 * padding
    if k_eff > padded:
        raise InvalidSpecError(
            f"effective kernel {k_eff} (kernel={kernel}, dilation={dilation}) is larger "
            f"than the padded input {padded} (input={size}, padding={padding})"
        )
    return (padded - k_eff) // stride + 1


def same_padding(kernel: int, dilation: int) -> Pair:
    """PyTorch's ``padding='same'`` split: (before, after); the odd pixel goes after."""
    total = dilation * (kernel - 1)
    return total // 2, total - total // 2


def receptive_field_step(rf: int, jump: int, kernel: int, stride: int, dilation: int) -> Pair:
    """One layer of the receptive-field recurrence: ``r += (k_eff - 1) * j``, ``j *= s``."""
    return rf + (effective_kernel(kernel, dilation) - 1) * jump, jump * stride


@dataclass(frozen=True)
class Field:
    """The receptive field of one tensor's units, per spatial axis (L; H, W; or D, H, W),
    in input pixels.

    ``size`` is the recurrence's ``r``, never more than ``padded`` (the input plus
    every padding met on the way, in input pixels); ``jump`` is the distance
    between neighbouring units. ``whole`` marks a unit that has seen the whole
    input (through a global pool or a gate built from one): its ``size`` is the
    input's extent, and later windows cannot widen it.
    """

    size: Sizes
    jump: Sizes
    padded: Sizes
    extent: Sizes  # the network input's spatial size
    whole: bool = False


def input_field(extent: Sizes) -> Field:
    """The network's input: each pixel sees itself."""
    ones = (1,) * len(extent)
    return Field(ones, ones, extent, extent)


def local_field(
    field: Field, kernel: Sizes, stride: Sizes, dilation: Sizes, padding_total: Sizes
) -> Field:
    """A sliding window: ``r += (k_eff - 1) x j`` (at most the padded input), ``j *= s``.

    A window over other axes than the input's spatial ones (a 1-D convolution over
    the channels of a 2-D map, as ECA does) leaves the field as it is.
    """
    if len(kernel) != len(field.jump):
        return field
    axes = range(len(kernel))
    jump = tuple(field.jump[a] * stride[a] for a in axes)
    padded = tuple(field.padded[a] + padding_total[a] * field.jump[a] for a in axes)
    if field.whole:
        return Field(field.size, jump, padded, field.extent, whole=True)
    size = tuple(
        min(receptive_field_step(field.size[a], field.jump[a], kernel[a], stride[a],
                                 dilation[a])[0], padded[a])
        for a in axes
    )  # fmt: skip
    return Field(size, jump, padded, field.extent)


def global_field(field: Field, map_size: Sizes) -> Field:
    """An op over the whole map (global pooling): its unit sees the whole input.

    Its one output per axis steps over the whole map (``j x map size``).
    """
    if len(map_size) != len(field.jump):
        return Field(field.extent, field.jump, field.padded, field.extent, whole=True)
    jump = tuple(field.jump[a] * map_size[a] for a in range(len(map_size)))
    return Field(field.extent, jump, field.padded, field.extent, whole=True)


def broadcast_field(x: Field, gate: Field) -> Field:
    """``x * gate`` with the gate broadcast over x: x's positions and jump.

    A gate that saw the whole input makes every unit of the product see it too.
    """
    if gate.whole or x.whole:
        return Field(x.extent, x.jump, x.padded, x.extent, whole=True)
    return merged_field((x, gate))


def merged_field(fields: tuple[Field, ...]) -> Field:
    """Operands read at the same positions (a residual add): the widest field."""
    whole = any(f.whole for f in fields)
    first = fields[0]
    axes = range(len(first.jump))
    size = tuple(max(f.size[a] for f in fields) for a in axes)
    return Field(
        first.extent if whole else size,
        first.jump,
        tuple(max(f.padded[a] for f in fields) for a in axes),
        first.extent,
        whole=whole,
    )
