"""A document as JSON text: the one writer of every command's ``--format json``.

Standard library only and nothing else imported, so a JSON run pays for no
table, CSV or Markdown code (start-up, SPEC "Performance").

The indented text is exactly ``json.dumps(document, indent=2)``, written by
``_indented``: the standard library indents in pure Python, one generator per
nesting level (ResNet-50's 170 kB document took 11 ms of a 0.15 s run);
``_indented`` writes the same text three times as fast, with the standard
library's own string, integer and float encoders. Anything it does not write
the same way (a key that is no string, a subclass, a float that is not finite,
a circular document) goes to ``json.dumps``, which writes it, or refuses it,
as it always did.
"""

from __future__ import annotations

import json
import math
from json.encoder import encode_basestring_ascii
from typing import Any


def to_json(document: Any) -> str:
    """One JSON document, exact integers, stable key order.

    Indented for reading unless it is large (a sweep's is megabytes, and
    indenting it costs several times the compact dump); both parse the same.
    """
    compact = json.dumps(document, separators=(",", ":"))
    if len(compact) > 200_000:
        return compact + "\n"
    return indented(document) + "\n"


def indented(document: Any) -> str:
    """``json.dumps(document, indent=2)``, the same text, written faster."""
    parts: list[str] = []
    try:
        _indented(document, parts, "\n")
    except (_NotPlainError, RecursionError):
        return json.dumps(document, indent=2)
    return "".join(parts)


class _NotPlainError(Exception):
    """A value ``_indented`` leaves to ``json.dumps``."""


_string = encode_basestring_ascii
_int = int.__repr__
_float = float.__repr__


def _indented(value: Any, parts: list[str], newline: str) -> None:
    """Append ``value`` as ``json.dumps(..., indent=2)`` writes it at the nesting whose
    line break and indentation is ``newline``."""
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
        separator = "{" + inner
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlainError
            parts.append(separator)
            parts.append(_string(key))
            parts.append(": ")
            _indented(item, parts, inner)
            separator = "," + inner
        parts.append(newline + "}")
    elif kind is list or kind is tuple:
        if not value:
            parts.append("[]")
            return
        inner = newline + "  "
        separator = "[" + inner
        for item in value:
            parts.append(separator)
            _indented(item, parts, inner)
            separator = "," + inner
        parts.append(newline + "]")
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
