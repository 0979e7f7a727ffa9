"""Two JSON documents compared figure by figure and layer by layer (pure).

Documents pair up by point (a sweep's ``width 0.5 at 160``, a variant's name,
or the one report), then by figure, then by layer name. A change is *growth*
when a whole-model figure of a point (the catalogue's growth figures: params,
MACs, FLOPs, element-wise ops, activation bytes) rose by more than the
tolerance (a share of the old value; from 0, any rise). Layer changes are
shown but do not fail on their own: a model may move work between layers and
stay within budget. A ``check`` baseline (``{"baseline": {entry: document}}``)
pairs by entry first.

Two documents of different things are not compared: paired points must come
from the same command, and at least one point must pair, or ``compare``
raises NotComparableError (a diff of unrelated documents would otherwise
pass as new and gone points, exit 0).

``diff_files`` is ``convcalc diff`` as one library call: read two files, check
each is a document, compare them and judge the growth; it returns a ``Diff``
(the changes, what grew, its JSON document and its failure), and the command
line only renders it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from convcalc.core.documents.catalogue import CATALOGUE, Catalogue
from convcalc.core.documents.contract import check_document, points
from convcalc.core.ops.primitives import fmt_int
from convcalc.core.values.record import Record
from convcalc.errors import BudgetExceededError, InvalidSpecError

# The whole-model figures whose growth fails a diff (the others follow from them:
# trainable params and parameter bytes from params, torchinfo's count from MACs).
GROWTH_FIGURES = CATALOGUE.growth


class NotComparableError(InvalidSpecError):
    """Two documents of different things (exit 2): no point pairs, or a pair's commands differ."""


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


class Change(Record):
    """One figure that differs (or a point or layer that one side lacks)."""

    scope: str  # "" (the model), a point, ``point/layer``; an entry name first for baselines
    figure: str  # a figure name, or "layer" / "point" for one that appears or disappears
    old: Any
    new: Any
    layer: bool = False

    @property
    def share(self) -> float | None:
        """``new / old - 1`` for counts and ratios (None when not both are numbers or old
        is 0)."""
        if _number(self.old) and _number(self.new) and self.old:
            try:
                return float(self.new / self.old - 1)
            except OverflowError:
                return None
        return None

    def grew(self, tolerance: Fraction, catalogue: Catalogue = CATALOGUE) -> bool:
        """A whole-model count that rose past the tolerance (a share of the old value)."""
        if self.layer or self.figure not in catalogue.growth:
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


def _number(value: Any) -> bool:
    """A count or a finite ratio (arithmetic intensity): a change has a share."""
    return _count(value) or (isinstance(value, float) and math.isfinite(value))


def entries(document: Any) -> dict[str, Any]:
    """A ``check`` baseline's documents by entry, or ``{"": document}`` for a plain document."""
    if isinstance(document, Mapping) and isinstance(document.get("baseline"), Mapping):
        return dict(document["baseline"])
    return {"": document}


def compare(old: Any, new: Any, catalogue: Catalogue = CATALOGUE) -> list[Change]:
    """Every change between two documents (or two baselines), in document order.

    NotComparableError when nothing pairs, or a pair comes from two commands.
    """
    changes: list[Change] = []
    pairs = 0
    old_entries, new_entries = entries(old), entries(new)
    for name in _union(old_entries, new_entries):
        if name not in old_entries or name not in new_entries:
            changes.append(
                Change(name, "entry", name in old_entries or None, name in new_entries or None)
            )
            continue
        found, paired = _compare_points(name, old_entries[name], new_entries[name], catalogue)
        changes += found
        pairs += paired
    if not pairs:
        raise NotComparableError(
            f"nothing to compare: no point of one pairs with a point of the other "
            f"(old: {_labels(old_entries)}; new: {_labels(new_entries)})"
        )
    return changes


def _labels(documents: Mapping[str, Any]) -> str:
    """``entry mobilenet: width 0.5 at 224, width 1 at 224``: what a side holds, shortly."""
    parts = []
    for entry, document in documents.items():
        labels = [label or "one report" for label, _ in points(document)]
        shown = ", ".join(labels[:3]) + (f" and {len(labels) - 3} more" if len(labels) > 3 else "")
        parts.append(f"entry {entry}: {shown}" if entry else shown)
    return "; ".join(parts) or "nothing"


def _command(point: Any) -> Any:
    return point.get("command") if isinstance(point, Mapping) else None


def _compare_points(
    entry: str, old: Any, new: Any, catalogue: Catalogue
) -> tuple[list[Change], int]:
    changes: list[Change] = []
    pairs = 0
    old_points, new_points = dict(points(old)), dict(points(new))
    for label in _union(old_points, new_points):
        scope = "/".join(p for p in (entry, label) if p)
        if label not in old_points or label not in new_points:
            changes.append(
                Change(scope, "point", label in old_points or None, label in new_points or None)
            )
            continue
        a, b = old_points[label], new_points[label]
        if not (isinstance(a, Mapping) and isinstance(b, Mapping)):
            raise InvalidSpecError(f"{scope or 'the document'}: a point is not an object")
        if _command(a) != _command(b):
            raise NotComparableError(
                f"{scope + ': ' if scope else ''}a {_command(a)} report and a {_command(b)} "
                "report (diff compares two runs of the same command)"
            )
        pairs += 1
        for f in catalogue:
            before, after = f.read(a.get(f.section)), f.read(b.get(f.section))
            if before != after:
                changes.append(Change(scope, f.name, before, after))
        changes += _compare_layers(scope, _list(a.get("layers")), _list(b.get("layers")), catalogue)
    return changes, pairs


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _by_name(layers: list[Any]) -> dict[str, Mapping[str, Any]]:
    return {str(layer.get("name")): layer for layer in layers if isinstance(layer, Mapping)}


def _compare_layers(
    scope: str, old: list[Any], new: list[Any], catalogue: Catalogue
) -> list[Change]:
    before, after = _by_name(old), _by_name(new)
    counted = [f.name for f in catalogue if f.layer_diff]
    shapes = [f.name for f in catalogue if f.layer and f.kind == "shape"]
    changes = []
    for name in _union(before, after):
        where = f"{scope}/{name}" if scope else name
        if name not in before or name not in after:
            changes.append(
                Change(where, "layer", name in before or None, name in after or None, layer=True)
            )
            continue
        old_layer, new_layer = before[name], after[name]
        counts = [
            Change(where, key, old_layer.get(key), new_layer.get(key), layer=True)
            for key in counted
            if old_layer.get(key) != new_layer.get(key)
        ]
        changes += counts
        # A shape change shows on its own only where no count changed and the layer
        # has weights: a BN or ReLU after a wider conv says nothing new.
        weighted = any(new_layer.get(key) for key in counted)
        if not counts and weighted:
            changes += [
                Change(where, key, old_layer.get(key), new_layer.get(key), layer=True)
                for key in shapes
                if old_layer.get(key) != new_layer.get(key)
            ]
    return changes


def _union(first: Mapping[Any, Any], second: Mapping[Any, Any]) -> list[Any]:
    """Keys of both, the first's order then the second's new ones."""
    return [*first, *(k for k in second if k not in first)]


# ---------------------------------------------------------------- files, verdict, words


def read_document(path: Path) -> Any:
    """A convcalc JSON document (or ``check`` baseline) from a file.

    InvalidSpecError (exit 2) when the file cannot be read, is no JSON, or is no
    convcalc document (each point is checked against the published schema).
    """
    import json

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidSpecError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InvalidSpecError(f"{path} is not UTF-8 text") from None
    except ValueError as exc:  # a NUL in the name
        raise InvalidSpecError(f"cannot read {path!r}: {exc}") from None
    try:
        document = json.loads(text)
    except RecursionError:
        raise InvalidSpecError(f"{path} is not a convcalc document: nested too deeply") from None
    except ValueError as exc:
        raise InvalidSpecError(f"{path} is not a JSON document: {exc}") from None
    try:
        check_document(document)
    except InvalidSpecError as exc:
        raise InvalidSpecError(
            f"{path} is not a convcalc document ({exc}): write one with --format json, "
            "or check --update-baseline"
        ) from None
    return document


def show(value: Any) -> str:
    """A value in a change: exact integers, shapes as ``1x8x6x6``, ``-`` for none."""
    if value is None:
        return "-"
    if value is True:
        return "present"
    if isinstance(value, int):
        return fmt_int(value)
    if isinstance(value, list):
        return "x".join(str(v) for v in value)
    if isinstance(value, float):  # a ratio (FLOPs per byte): four significant digits
        return f"{value:.4g}"
    return str(value)


def change_text(change: Change) -> str:
    """``+5.5%``, ``new``, ``gone`` or ``changed``."""
    if change.old is None:
        return "new"
    if change.new is None:
        return "gone"
    share = change.share
    return "changed" if share is None else f"{share:+.2%}"


def growth_message(grown: list[Change], tolerance: Fraction) -> str:
    """One line naming each figure that grew past the tolerance."""
    parts = [
        f"{c.scope + ': ' if c.scope else ''}{c.figure} {show(c.old)} -> {show(c.new)} "
        f"({change_text(c)})"
        for c in grown
    ]
    return f"grew past the {float(tolerance):.2%} tolerance: " + "; ".join(parts)


def strict_json(value: Any) -> Any:
    """``value`` with every float JSON cannot write (NaN, +-Infinity) as its name, a string."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, dict):
        return {key: strict_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [strict_json(item) for item in value]
    return value


class Diff(Record):
    """Two documents compared: every change, in document order, under a tolerance."""

    old: str  # where each document came from (a file name), as messages name it
    new: str
    tolerance: Fraction
    changes: tuple[Change, ...]

    @property
    def grown(self) -> list[Change]:
        """The whole-model figures that grew past the tolerance."""
        return [c for c in self.changes if c.grew(self.tolerance)]

    def failure(self) -> BudgetExceededError | None:
        """BudgetExceededError (exit 1) naming each figure that grew, else None."""
        grown = self.grown
        return BudgetExceededError(growth_message(grown, self.tolerance)) if grown else None

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (strict JSON: no NaN or Infinity token)."""
        document = {
            "schema": 1,
            "command": "diff",
            "tolerance": float(self.tolerance),
            "changes": [c.to_dict() | {"grew": c.grew(self.tolerance)} for c in self.changes],
            "grew": bool(self.grown),
        }
        result: dict[str, Any] = strict_json(document)
        return result


def diff_files(
    old: Path | str, new: Path | str, tolerance: str | Fraction = "0%", *, layers: bool = True
) -> Diff:
    """``convcalc diff OLD NEW``: read both files, compare them, judge growth.

    ``tolerance``: a percentage (``1%``) or a share; ``layers`` False keeps the
    whole-model and point changes only. Raises InvalidSpecError for a file that
    is no document or a bad tolerance, and NotComparableError (also exit 2) for
    two documents of different things; a growth is not raised but returned
    (``Diff.failure()``).
    """
    allowed = tolerance if isinstance(tolerance, Fraction) else parse_tolerance(tolerance)
    old_path, new_path = Path(old), Path(new)
    try:
        changes = compare(read_document(old_path), read_document(new_path))
    except NotComparableError as exc:
        raise NotComparableError(f"{old_path} and {new_path} are not comparable: {exc}") from None
    if not layers:
        changes = [c for c in changes if not c.layer]
    return Diff(str(old_path), str(new_path), allowed, tuple(changes))
