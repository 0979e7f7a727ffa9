"""Integers of any length as text, past Python's int-to-text limit (4,300 digits by default).

Sizes are at most 4,300 digits (core.values.parse), but their products (MACs of a
layer whose every side is that long) are longer: ``str()`` refuses them unless
the limit is lifted (the CLI lifts it; a library caller may not have). This
converts a piece of at most 1,000 digits at a time, so it never meets the limit.
"""

from __future__ import annotations

_PIECE = 10**999


def decimal_text(value: int) -> str:
    """``str(value)`` for any length."""
    sign, value = ("-", -value) if value < 0 else ("", value)
    pieces = []
    while value >= _PIECE:
        value, piece = divmod(value, _PIECE)
        pieces.append(f"{piece:0999d}")
    pieces.append(str(value))
    return sign + "".join(reversed(pieces))


def grouped(value: int) -> str:
    """``1234567`` -> ``1,234,567`` for any length."""
    text = decimal_text(value)
    sign, digits = (text[0], text[1:]) if text.startswith("-") else ("", text)
    head = len(digits) % 3 or 3
    groups = [digits[:head], *(digits[i : i + 3] for i in range(head, len(digits), 3))]
    return sign + ",".join(groups)
