"""Human units for tables: ``569.3 M``, ``3.21 MB``; exact integers with ``--exact``."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

_COUNT_UNITS = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K"))
_BYTE_UNITS = ((10**12, "TB"), (10**9, "GB"), (10**6, "MB"), (10**3, "KB"))


def count(value: int, exact: bool = False) -> str:
    """A count: exact with thousands separators, or one decimal in K, M, G, T."""
    return _scaled(value, exact, _COUNT_UNITS, "", 1)


def size(value: int, exact: bool = False) -> str:
    """Bytes, in decimal units as torchinfo prints them (1 MB = 10^6 B)."""
    return _scaled(value, exact, _BYTE_UNITS, " B", 2)


def _scaled(
    value: int, exact: bool, scales: tuple[tuple[int, str], ...], plain: str, decimals: int
) -> str:
    if exact or abs(value) < 1000:
        return f"{value:,}{plain}"
    if abs(value) >= 1000 * scales[0][0]:  # past the largest unit: scientific, never a float
        return f"{Decimal(value):.{decimals + 1}e}{plain}"
    for scale, unit in scales:
        if abs(value) >= scale:
            return f"{value / scale:,.{decimals}f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def shape(dims: Sequence[int]) -> str:
    """``(1, 8, 222, 222)`` -> ``1 x 8 x 222 x 222``."""
    return " x ".join(str(d) for d in dims)


def ratio(value: int, reference: int) -> str:
    """``value / reference`` as ``0.125x`` (``-`` when the reference is 0)."""
    return times(value / reference if reference else None)


def times(value: float | None) -> str:
    """A ratio as ``0.125x`` (``-`` when there is none)."""
    return "-" if value is None else f"{value:.3f}x"
