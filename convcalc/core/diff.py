"""Two JSON documents compared figure by figure and layer by layer (pure).

Documents pair up by point (a sweep's ``width 0.5 at 160``, a variant's name,
or the one report), then by figure, then by layer name. A change is *growth*
when a whole-model figure of a point (``GROWTH_FIGURES``: params, MACs, FLOPs,
element-wise ops, activation bytes) rose by more than the tolerance (a share
of the old value; from 0, any rise). Layer changes are shown but do not fail
on their own: a model may move work between layers and stay within budget.
A ``check`` baseline (``{"baseline": {entry: document}}``) pairs by entry first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from convcalc.core.documents import FIGURES, figure, points
from convcalc.errors import InvalidSpecError

# The whole-model figures whose growth fails a diff (the others follow from them:
# trainable params and parameter bytes from params, torchinfo's count from MACs).
GROWTH_FIGURES = ("params", "macs", "flops", "elementwise_ops", "activation_bytes")


_TOLERANCE = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*%\s*")


def parse_tolerance(text: str, option: str = "tolerance") -> Fraction:
    """``1%`` -> 1/100 (exact); ``0`` -> 0. The % sign is required (``1`` would be ambiguous)."""
    text = text.strip()
    if text == "0":
        return Fraction(0)
    match = _TOLERANCE.fullmatch(text)
    if not match or len(match.group(1)) > 30:
        raise InvalidSpecError(f"{option}={text!r} is not a percentage (such as 1% or 0.5%)")
    return Fraction(Decimal(match.group(1))) / 100


@dataclass(frozen=True)
class Change:
    """One figure that differs (or a point or layer that one side lacks)."""

    scope: str  # "" (the model), a point, ``point/layer``; an entry name first for baselines
    figure: str  # a figure name, or "layer" / "point" for one that appears or disappears
    old: Any
    new: Any
    layer: bool = False

    @property
    def share(self) -> float | None:
        """``new / old - 1`` for counts (None when not both are numbers or old is 0)."""
        if _count(self.old) and _count(self.new) and self.old:
            try:
                return float(self.new / self.old - 1)
            except OverflowError:
                return None
        return None

    def grew(self, tolerance: Fraction) -> bool:
        """A whole-model count that rose past the tolerance (a share of the old value)."""
        if self.layer or self.figure not in GROWTH_FIGURES:
            return False
        if not (_count(self.old) and _count(self.new)):
            return False
        if self.new <= self.old:
            return False
        # Exact: new > old x (1 + tolerance), without a float for huge counts.
        return bool(self.old == 0 or self.new - self.old > self.old * tolerance)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "scope": self.scope,
            "figure": self.figure,
            "old": self.old,
            "new": self.new,
            "change": self.share,
            "layer": self.layer,
        }


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def entries(document: Any) -> dict[str, Any]:
    """A ``check`` baseline's documents by entry, or ``{"": document}`` for a plain document."""
    if isinstance(document, Mapping) and isinstance(document.get("baseline"), Mapping):
        return dict(document["baseline"])
    return {"": document}


def compare(old: Any, new: Any) -> list[Change]:
    """Every change between two documents (or two baselines), in document order."""
    changes: list[Change] = []
    old_entries, new_entries = entries(old), entries(new)
    for name in _union(old_entries, new_entries):
        if name not in old_entries or name not in new_entries:
            changes.append(
                Change(name, "entry", name in old_entries or None, name in new_entries or None)
            )
            continue
        changes += _compare_points(name, old_entries[name], new_entries[name])
    return changes


def _compare_points(entry: str, old: Any, new: Any) -> list[Change]:
    changes: list[Change] = []
    old_points, new_points = dict(points(old)), dict(points(new))
    for label in _union(old_points, new_points):
        scope = "/".join(p for p in (entry, label) if p)
        if label not in old_points or label not in new_points:
            changes.append(
                Change(scope, "point", label in old_points or None, label in new_points or None)
            )
            continue
        a, b = old_points[label], new_points[label]
        for name in FIGURES:
            before, after = figure(a, name), figure(b, name)
            if before != after:
                changes.append(Change(scope, name, before, after))
        changes += _compare_layers(scope, a.get("layers") or [], b.get("layers") or [])
    return changes


def _compare_layers(scope: str, old: list[Any], new: list[Any]) -> list[Change]:
    before = {layer.get("name"): layer for layer in old if isinstance(layer, Mapping)}
    after = {layer.get("name"): layer for layer in new if isinstance(layer, Mapping)}
    changes = []
    for name in _union(before, after):
        where = f"{scope}/{name}" if scope else str(name)
        if name not in before or name not in after:
            changes.append(
                Change(where, "layer", name in before or None, name in after or None, layer=True)
            )
            continue
        old_layer, new_layer = before[name], after[name]
        counts = [
            Change(where, key, old_layer.get(key), new_layer.get(key), layer=True)
            for key in ("params", "macs")
            if old_layer.get(key) != new_layer.get(key)
        ]
        changes += counts
        # A shape change shows on its own only where no count changed and the layer
        # has weights: a BN or ReLU after a wider conv says nothing new.
        weighted = bool(new_layer.get("params") or new_layer.get("macs"))
        if (
            not counts
            and weighted
            and old_layer.get("output_shape") != new_layer.get("output_shape")
        ):
            changes.append(
                Change(where, "output_shape", old_layer.get("output_shape"),
                       new_layer.get("output_shape"), layer=True)
            )  # fmt: skip
    return changes


def _union(first: Mapping[Any, Any], second: Mapping[Any, Any]) -> list[Any]:
    """Keys of both, the first's order then the second's new ones."""
    return [*first, *(k for k in second if k not in first)]
