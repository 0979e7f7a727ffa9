"""A document as JSON text: the one writer of every command's ``--format json``.

Standard library only, and not even ``json`` for an ordinary document, so a
JSON run pays for no table, CSV or Markdown code (start-up, SPEC "Performance").

A document is indented for reading, exactly as ``json.dumps(document,
indent=2)`` writes it, unless its compact form (``separators=(",", ":")``) is
over 200 kB (a sweep's is megabytes, and indenting it costs several times the
compact dump): then it is that compact form. The indented text is written by
``_indented``: the standard library indents in pure Python, one generator per
nesting level (ResNet-50's 170 kB document took 11 ms of a 0.15 s run);
``_indented`` writes the same text five times as fast, with the same string
encoder (``_json``'s, which ``json.encoder`` uses) and ``int``'s and
``float``'s own ``repr``. Anything it does not write the same way (a key that
is no string, a subclass, a float that is not finite, a circular document) goes
to ``json.dumps``, which writes it, or refuses it, as it always did.

The compact form is never longer than the indented one, so an indented text of
at most 200 kB is the answer without a compact dump; the writer stops as soon
as it has written more, and only then is the compact form dumped (by ``json``)
and measured.
"""

from __future__ import annotations

import math
from typing import Any

try:  # the C string encoder json.encoder uses: importing json itself costs start-up
    from _json import encode_basestring_ascii as _string
except ImportError:  # an interpreter without json's accelerator
    from json.encoder import encode_basestring_ascii as _string

LARGE = 200_000  # characters of compact JSON above which a document stays compact


def to_json(document: Any) -> str:
    """One JSON document, exact integers, stable key order: ``indented`` unless its compact
    form is over ``LARGE`` characters, then that compact form."""
    parts: list[str] = []
    text = None
    try:
        _write(document, parts, "\n", [_CHECK])
        return "".join(parts) + "\n"
    except _NotPlainError:
        text = _dumps(document, indent=2)
    except _LargeError:
        pass
    compact = _dumps(document, separators=(",", ":"))
    if len(compact) > LARGE:
        return compact + "\n"
    return (text if text is not None else indented(document)) + "\n"


def indented(document: Any) -> str:
    """``json.dumps(document, indent=2)``, the same text, written faster."""
    parts: list[str] = []
    try:
        _write(document, parts, "\n", None)
    except _NotPlainError:
        return _dumps(document, indent=2)
    return "".join(parts)


def _dumps(document: Any, **options: Any) -> str:
    import json  # only where the writer does not do (start-up)

    return json.dumps(document, **options)


class _NotPlainError(Exception):
    """A value ``_write`` leaves to ``json.dumps``."""


class _LargeError(Exception):
    """The indented text is over ``LARGE`` characters, so the compact one may be too."""


_int = int.__repr__
_float = float.__repr__
_finite = math.isfinite
_INT = {int}
_CHECK = 4096  # parts written between two measures of the text against LARGE


def _write(value: Any, parts: list[str], newline: str, measure: list[int] | None) -> None:
    """``_indented``, and a circular or too deep document left to ``json.dumps``."""
    try:
        _indented(value, parts, newline, measure, {})
    except RecursionError:
        raise _NotPlainError from None


def _indented(
    value: Any,
    parts: list[str],
    newline: str,
    measure: list[int] | None,
    keys: dict[str, dict[str, str]],
) -> None:
    """Append ``value`` as ``json.dumps(..., indent=2)`` writes it at the nesting whose
    line break and indentation is ``newline``. With ``measure`` (the number of parts at
    which to measure the text next), _LargeError once the text is over ``LARGE``.
    ``keys``: each member's text up to its value (``,`` line break, key, ``: ``) by
    indentation and key, written once per document (every layer has the same keys)."""
    kind = type(value)
    if kind is str:
        parts.append(_string(value))
    elif kind is int:
        parts.append(_int(value))
    elif kind is dict:
        if not value:
            parts.append("{}")
            return
        inner = newline + "  "
        written = keys.get(inner)
        if written is None:
            written = keys[inner] = {}
        first = True
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlainError
            prefix = written.get(key)
            if prefix is None:
                prefix = written[key] = "," + inner + _string(key) + ": "
            if first:
                prefix, first = "{" + prefix[1:], False
            known = type(item)
            if known is str:  # the commonest values, in one part
                parts.append(prefix + _string(item))
            elif known is int:
                parts.append(prefix + _int(item))
            elif item is None:
                parts.append(prefix + "null")
            elif known is bool:
                parts.append(prefix + ("true" if item else "false"))
            elif known is float and _finite(item):
                parts.append(prefix + _float(item))
            elif known is list and item and set(map(type, item)) == _INT:
                parts.append(prefix + _shape(item, inner))
            else:
                parts.append(prefix)
                _indented(item, parts, inner, measure, keys)
        parts.append(newline + "}")
        if measure is not None and len(parts) > measure[0]:
            _measure(parts, measure)
    elif kind is list or kind is tuple:
        if not value:
            parts.append("[]")
            return
        if set(map(type, value)) == _INT:
            parts.append(_shape(value, newline))
            return
        inner = newline + "  "
        separator = "[" + inner
        for item in value:
            parts.append(separator)
            _indented(item, parts, inner, measure, keys)
            separator = "," + inner
        parts.append(newline + "]")
        if measure is not None and len(parts) > measure[0]:
            _measure(parts, measure)
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif kind is float and math.isfinite(value):
        parts.append(_float(value))
    else:  # NaN, infinities, subclasses, other types: json.dumps' own rules
        raise _NotPlainError


def _shape(items: list[int] | tuple[int, ...], newline: str) -> str:
    """A non-empty list of integers (a shape) in one part, one number a line, at the
    nesting whose line break and indentation is ``newline``."""
    inner = newline + "  "
    return "[" + inner + ("," + inner).join(map(_int, items)) + newline + "]"


def _measure(parts: list[str], measure: list[int]) -> None:
    if sum(map(len, parts)) > LARGE:
        raise _LargeError
    measure[0] = len(parts) + _CHECK
