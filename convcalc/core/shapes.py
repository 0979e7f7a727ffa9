"""Output sizes, effective kernels and receptive fields, per axis (DOMAIN.md 1, 7)."""

from __future__ import annotations

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
