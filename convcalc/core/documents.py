"""Reading figures out of JSON documents (the contract of README "JSON contract").

``--value``, budgets, ``check`` and ``diff`` all read the same few figures, and
read them from the document rather than from report objects: any command that
prints the contract (``model`` too, once it lands) works with them unchanged.
A document is one report's object, a sweep's list of them, or ``compare``'s
object with its ``variants``; ``points`` flattens each into named points.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from convcalc.errors import InvalidSpecError

# Figure -> where it sits under ``analytic`` (a key, or ``memory.<key>``).
FIGURES: dict[str, tuple[str, ...]] = {
    "params": ("params",),
    "trainable_params": ("trainable_params",),
    "macs": ("macs",),
    "flops": ("flops",),
    "bias_adds": ("bias_adds",),
    "elementwise_ops": ("elementwise_ops",),
    "torchinfo_mult_adds": ("torchinfo_mult_adds",),
    "param_bytes": ("memory", "param_bytes"),
    "input_bytes": ("memory", "input_bytes"),
    "activation_bytes": ("memory", "activation_bytes"),
    "output_shape": ("output_shape",),
}

# The figures a budget or a baseline compares (integers that grow with the model).
BUDGET_FIGURES = ("params", "macs", "flops", "activation_bytes")


def figure_name(text: str, option: str = "value") -> str:
    """A figure's name as typed (``macs``, ``MACs``, ``activation-bytes``) -> its key."""
    key = text.strip().lower().replace("-", "_")
    if key not in FIGURES:
        raise InvalidSpecError(
            f"{option}={text!r} is not a figure; use one of {', '.join(FIGURES)}"
        )
    return key


def figure(document: Mapping[str, Any], name: str) -> Any:
    """One analytic figure of one report's document (None when it has none)."""
    value: Any = document.get("analytic") or {}
    for key in FIGURES[name]:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def points(document: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(label, one report's object) for a report, each sweep point or each compare variant.

    A single report's label is ``""``; a sweep point's ``width 0.5 at 160``; a
    variant's its name. Labels are what ``diff`` and ``check`` pair points by.
    """
    if isinstance(document, list):
        for index, item in enumerate(document):
            yield _point_label(item, index), item
    elif isinstance(document, Mapping) and isinstance(document.get("variants"), list):
        for index, item in enumerate(document["variants"]):
            yield str(item.get("variant", index)), item
    elif isinstance(document, dict):
        yield "", document


def _point_label(item: Mapping[str, Any], index: int) -> str:
    spec = item.get("spec") or {}
    if "width" in spec and "resolution" in spec:
        return f"width {spec['width']:g} at {spec['resolution']}"
    return f"point {index}"


def text(value: Any) -> str:
    """A figure as ``--value`` prints it: an integer, ``1x8x222x222`` for a shape."""
    if isinstance(value, list | tuple):
        return "x".join(str(v) for v in value)
    return "null" if value is None else str(value)
