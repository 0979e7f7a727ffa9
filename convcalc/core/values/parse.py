"""Parsing of the CLI's compact values (``3x1``, ``same``, ``64x48``, ``1.5M``).

Pure functions that raise InvalidSpecError with the option's name and the rule,
so the CLI can print one line and exit 2.

One leniency rule, for every option (docs/reference/options.md, "Writing values"): numbers are
written in ASCII digits (``0-9``; a sign, a decimal point or an exponent where
the option takes them), without underscores, thousands separators or other
scripts' digits, and at most ``MAX_DIGITS`` digits long; words (``same``,
``global``, ``json``, ``cpu``, ``float16``, ``macs``, the ``x`` of ``3x1``, the
``M`` of ``1.5M``) are case-insensitive; spaces around a value are ignored. Every
word-valued option reads its value through ``word`` (``normal_word``), so the rule
is one function, not a ``.strip().lower()`` per option.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from convcalc.errors import InvalidSpecError

Pair = tuple[int, int]
Sizes = tuple[int, ...]

_SUFFIXES = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
# Patterns used by one option each: compiled on first use (re's cache), not at import.
_BUDGET = r"^\s*((?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[+-]?[0-9]+)?)\s*([KMGT]?)\s*$"


# Python's own default limit on int <-> str conversions (sys.get_int_max_str_digits).
MAX_DIGITS = 4300

# What each compact option accepts, said in every error about it.
FORMS = {
    "kernel": "an integer, HxW (3x1) or global",
    "padding": "an integer, HxW (1x0), same or valid",
    "input": "an integer or HxW (64x48)",
    "stride": "an integer or HxW (2x1)",
    "dilation": "an integer or HxW (2x1)",
}


def _is_integer(text: str) -> bool:
    """``[+-]?[0-9]+``, read without compiling a pattern (start-up)."""
    digits = text[1:] if text[:1] in ("+", "-") else text
    return digits.isascii() and digits.isdigit()


def _is_decimal(text: str) -> bool:
    r"""``(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[+-]?[0-9]+)?``, any case, read without
    compiling a pattern (start-up)."""
    if not text.isascii():
        return False
    mantissa, marked, exponent = text.lower().partition("e")
    if marked and not _is_integer(exponent):
        return False
    whole, dot, fraction = mantissa.partition(".")
    if not dot:
        return whole.isdigit()
    if whole:
        return whole.isdigit() and (not fraction or fraction.isdigit())
    return fraction.isdigit()


def _hint(text: str) -> str:
    """Why digits that Python's int() would read are refused here."""
    if any(c == "_" or (c.isdigit() and not c.isascii()) for c in text):
        return " (written in ASCII digits 0-9, without underscores)"
    return ""


def _int(text: str, option: str, forms: str = "an integer") -> int:
    text = text.strip()
    if not _is_integer(text):
        raise InvalidSpecError(f"{option}={text!r} is not {forms}{_hint(text)}")
    digits = len(text.lstrip("+-"))
    if digits > MAX_DIGITS:  # int() would refuse it, and nothing real is that long
        raise InvalidSpecError(
            f"{option} has {digits:,} digits; at most {MAX_DIGITS:,} are accepted"
        )
    return int(text)


def normal_word(text: str) -> str:
    """A word as every option compares it: spaces around it dropped, lower case
    (``" JSON "`` -> ``json``)."""
    return text.strip().lower()


def word(text: str, option: str, choices: Iterable[str]) -> str:
    """A word-valued option (``--mode MAX``, ``--format Json``): one of ``choices``,
    whatever its case and the spaces around it.

    A hyphen may stand for an underscore (``activation-bytes``): the choice is
    returned as spelled in ``choices``.
    """
    known = tuple(choices)
    key = normal_word(text)
    for candidate in (key, key.replace("-", "_")):
        if candidate in known:
            return candidate
    raise InvalidSpecError(f"{option}={text.strip()!r} is not one of {', '.join(known)}")


def parse_int(text: str | int, option: str) -> int:
    """An integer option (``--cin 64``): ASCII digits with an optional sign.

    Range checks (positive, dividing) belong to the spec; this only reads the number.
    """
    if isinstance(text, int):  # a default, already a number
        return text
    return _int(text, option)


def positive(value: int, option: str) -> int:
    """Return value, or raise when it is not a positive integer."""
    if value <= 0:
        raise InvalidSpecError(f"{option}={value} must be a positive integer")
    return value


def non_negative(value: int, option: str) -> int:
    """Return value, or raise when it is negative."""
    if value < 0:
        raise InvalidSpecError(f"{option}={value} must be zero or more")
    return value


def parse_pair(text: str, option: str, *, allow_zero: bool = False) -> Pair:
    """``3`` -> (3, 3); ``3x1`` -> (3, 1) (height x width)."""
    height, width = parse_sizes(text, option, 2, allow_zero=allow_zero)
    return height, width


AXES = {1: "L", 2: "HxW", 3: "DxHxW"}


def check_dims(dims: int) -> int:
    """A layer's number of spatial axes (``--dims``): 1, 2 or 3."""
    if dims not in AXES:
        raise InvalidSpecError(f"dims={dims} must be 1, 2 or 3")
    return dims


def parse_sizes(text: str, option: str, dims: int = 2, *, allow_zero: bool = False) -> Sizes:
    """One value per spatial axis: ``3`` -> (3,) * dims; ``3x1`` (dims 2), ``3x3x3`` (dims 3).

    ``dims`` is the layer's number of spatial axes (``--dims 1|2|3``): one value is
    used on every axis, otherwise there must be exactly one per axis.
    """
    if dims == 2 and option in FORMS:
        forms = FORMS[option]
    else:
        example = "x".join(["3"] * dims)
        forms = "an integer" if dims == 1 else f"an integer or {AXES.get(dims, 'AxB')} ({example})"
    parts = text.lower().split("x")
    malformed = len(parts) not in (1, dims) or any(not p.strip() for p in parts)
    if malformed or not all(_is_integer(p.strip()) for p in parts):
        raise InvalidSpecError(f"{option}={text.strip()!r} is not {forms}{_hint(text)}")
    values = [_int(p, option) for p in parts]
    check = non_negative if allow_zero else positive
    for v in values:
        check(v, option)
    return tuple(values) if len(values) == dims else (values[0],) * dims


def parse_kernel(text: str, dims: int = 2) -> Sizes | str:
    """A kernel: ``3``, ``3x1`` (``3x3x3`` in 3-D) or ``global`` (kernel = input size)."""
    if normal_word(text) == "global":
        return "global"
    return parse_sizes(text, "kernel", dims)


def parse_padding(text: str, dims: int = 2) -> Sizes | str:
    """A padding: ``1``, ``1x0``, ``same`` or ``valid`` (as ``nn.Conv2d`` takes it)."""
    padding = normal_word(text)
    if padding in ("same", "valid"):
        return padding
    return parse_sizes(text, "padding", dims, allow_zero=True)


def parse_budget(text: str, option: str) -> int:
    """A budget: an integer, a decimal with K, M, G or T (``1.5M``, ``2G``), or ``1e6``."""
    match = re.match(_BUDGET, text, re.IGNORECASE)
    if not match:
        raise InvalidSpecError(
            f"{option}={text!r} is not a count (use an integer, a number with K, M, G or T "
            "such as 1.5M, or 1e6)"
        )
    from decimal import Decimal  # budgets only (start-up)

    base = Decimal(match.group(1))  # exact: no context rounding yet
    # Bound the magnitude before any arithmetic: 1e999999999 would overflow (or
    # hang in int()), 1e-999999999 would underflow to a silent 0.
    if base and not -40 < base.adjusted() < 30:
        problem = "is too large" if base.adjusted() > 0 else "is not a whole number"
        raise InvalidSpecError(f"{option}={text!r} {problem}")
    number = base * _SUFFIXES[match.group(2).upper()]
    if number.adjusted() > 30:
        raise InvalidSpecError(f"{option}={text!r} is too large")
    if number != number.to_integral_value():
        raise InvalidSpecError(f"{option}={text!r} is not a whole number")
    return int(number)


def parse_list(text: str, option: str) -> list[str]:
    """A comma list (``0.5,0.75``); empty items are an error."""
    items = [item.strip() for item in text.split(",")]
    if any(not item for item in items):
        raise InvalidSpecError(f"{option}={text!r} is a malformed list (empty item)")
    return items


def parse_widths(text: str) -> list[float]:
    """MobileNet widths: a comma list of finite numbers greater than 0 (``0.75``, ``1e-1``)."""
    values = []
    for item in parse_list(text, "width"):
        if not _is_decimal(item):
            raise InvalidSpecError(f"width={item!r} is not a number (such as 0.75){_hint(item)}")
        value = float(item)
        if not 0 < value < float("inf"):  # also rejects nan
            raise InvalidSpecError(f"width={item} must be a finite number greater than 0")
        values.append(value)
    return values


def parse_resolutions(text: str) -> list[int]:
    """MobileNet input sides: a comma list of positive integers."""
    return [
        positive(_int(item, "resolution"), "resolution") for item in parse_list(text, "resolution")
    ]
