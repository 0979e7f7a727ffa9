"""Output sizes, effective kernels and receptive fields, per axis (DOMAIN.md 1, 7)."""

from __future__ import annotations

from dataclasses import dataclass

from convcalc.errors import InvalidSpecError

Pair = tuple[int, int]


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
    """The receptive field of one tensor's units, per axis (H, W), in input pixels.

    ``size`` is the recurrence's ``r``, never more than ``padded`` (the input plus
    every padding met on the way, in input pixels); ``jump`` is the distance
    between neighbouring units. ``whole`` marks a unit that has seen the whole
    input (through a global pool or a gate built from one): its ``size`` is the
    input's extent, and later windows cannot widen it.
    """

    size: Pair
    jump: Pair
    padded: Pair
    extent: Pair  # the network input's H x W
    whole: bool = False


def input_field(extent: Pair) -> Field:
    """The network's input: each pixel sees itself."""
    return Field((1, 1), (1, 1), extent, extent)


def local_field(
    field: Field, kernel: Pair, stride: Pair, dilation: Pair, padding_total: Pair
) -> Field:
    """A sliding window: ``r += (k_eff - 1) x j`` (at most the padded input), ``j *= s``."""
    jump = (field.jump[0] * stride[0], field.jump[1] * stride[1])
    padded = (
        field.padded[0] + padding_total[0] * field.jump[0],
        field.padded[1] + padding_total[1] * field.jump[1],
    )
    if field.whole:
        return Field(field.size, jump, padded, field.extent, whole=True)
    size = tuple(
        min(receptive_field_step(field.size[a], field.jump[a], kernel[a], stride[a],
                                 dilation[a])[0], padded[a])
        for a in range(2)
    )  # fmt: skip
    return Field((size[0], size[1]), jump, padded, field.extent)


def global_field(field: Field, map_size: Pair) -> Field:
    """An op over the whole map (global pooling): its unit sees the whole input.

    Its one output per axis steps over the whole map (``j x map size``).
    """
    jump = (field.jump[0] * map_size[0], field.jump[1] * map_size[1])
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
    size = (max(f.size[0] for f in fields), max(f.size[1] for f in fields))
    return Field(
        first.extent if whole else size,
        first.jump,
        (max(f.padded[0] for f in fields), max(f.padded[1] for f in fields)),
        first.extent,
        whole=whole,
    )
