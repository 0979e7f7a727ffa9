"""Budgets: a figure against its limit, one verdict each (pure; the CLI decides the exit).

The same verdicts serve ``--max-params``-style options on one command and the
``[tool.convcalc.budgets.NAME]`` entries of ``convcalc check``; each says its
value, its limit, the headroom left (negative: the excess) and its message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from convcalc.core.documents.catalogue import CATALOGUE, Catalogue
from convcalc.core.documents.contract import points
from convcalc.core.ops.primitives import fmt_int
from convcalc.core.values.record import Record


class Verdict(Record):
    """One figure of one point against its budget."""

    figure: str  # a catalogue figure with a budget: params | macs | flops | activation_bytes
    value: int
    limit: int
    point: str = ""  # "" for a single report; ``width 0.5 at 160``, a variant's name
    # What the total leaves out (``cumsum (1 call)``) when it is a partial total of work
    # and partial totals were not allowed: the budget cannot pass
    partial: str = ""

    @property
    def ok(self) -> bool:
        """Within budget (equal is within), on a whole total."""
        return not self.partial and self.value <= self.limit

    @property
    def headroom(self) -> int:
        """``limit - value``: what is left, or minus the excess."""
        return self.limit - self.value

    @property
    def option(self) -> str:
        """The budget's name as the user writes it: ``max-params``, ``max-activation-bytes``."""
        return "max-" + self.figure.replace("_", "-")

    def share(self) -> str:
        """The headroom as a share of the limit (``52.0%``; empty for a zero limit).

        Exact in decimal, since a count may be far past a float's range (a
        width of 1e200 gives MACs of 400 digits); shares of a million percent
        and more are written in powers of ten (``1.0e+397%``).
        """
        if not self.limit:
            return ""
        from decimal import Decimal  # a budget's message only (start-up)

        percent = Decimal(abs(self.headroom)) * 100 / Decimal(self.limit)
        return f"{percent:.1f}%" if percent < 1_000_000 else f"{percent:.1e}%"

    def message(self, dashes: str = "--") -> str:
        """``params 152 > --max-params 100 (over by 52, 52.0%)``; for a partial total,
        what it leaves out."""
        prefix = f"{self.point}: " if self.point else ""
        if self.partial:
            return (
                f"{prefix}{self.figure} {fmt_int(self.value)} is a partial total (no formula "
                f"for {self.partial}), so {dashes}{self.option} {fmt_int(self.limit)} cannot "
                f"pass ({dashes}allow-partial judges the counted part)"
            )
        share = f", {self.share()}" if self.limit else ""
        return (
            f"{prefix}{self.figure} {fmt_int(self.value)} > {dashes}{self.option} "
            f"{fmt_int(self.limit)} (over by {fmt_int(-self.headroom)}{share})"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON form: the document's ``budgets`` list holds one per budget."""
        return {
            "figure": self.figure,
            "value": self.value,
            "limit": self.limit,
            "headroom": self.headroom,
            "ok": self.ok,
            **({"partial": self.partial} if self.partial else {}),
        }


def uncounted(item: Any, name: str, catalogue: Catalogue = CATALOGUE) -> str:
    """What a point's figure ``name`` leaves out (``cumsum (1 call), bilinear (2 calls)``)
    when it is a total of work and some op had no formula; "" when it is whole."""
    analytic = item.get("analytic") if isinstance(item, Mapping) else None
    if not isinstance(analytic, Mapping) or not analytic.get("partial"):
        return ""
    known = {f.name: f for f in catalogue}
    if name not in known or not known[name].conventions:  # not a total of work
        return ""
    missing = analytic.get("not_counted") or {}
    return ", ".join(f"{op} ({n} call{'s' if n != 1 else ''})" for op, n in missing.items())


def partial_values(
    document: Any, name: str, catalogue: Catalogue = CATALOGUE
) -> list[tuple[str, str]]:
    """Each point whose ``name`` is a partial total of work, with what it leaves out
    (``--value`` refuses to print such a total as if it were whole)."""
    found = []
    for label, item in points(document):
        missing = uncounted(item, name, catalogue)
        if missing:
            found.append((label, missing))
    return found


def judge(
    document: Any,
    limits: Mapping[str, int | None],
    catalogue: Catalogue = CATALOGUE,
    *,
    allow_partial: bool = False,
) -> list[Verdict]:
    """A verdict per point of a JSON document per figure with a limit, in catalogue order.
    A budget on a partial total of work (an op with no formula) fails, naming what it
    leaves out, unless ``allow_partial``: then the counted part is judged."""
    verdicts = []
    for label, item in points(document):
        if not isinstance(item, Mapping):
            continue
        for f in catalogue.budgets:
            limit = limits.get(f.name)
            value = f.read(item.get("analytic"))
            if limit is not None and isinstance(value, int) and not isinstance(value, bool):
                missing = "" if allow_partial else uncounted(item, f.name, catalogue)
                verdicts.append(Verdict(f.name, value, limit, label, missing))
    return verdicts


def annotate(document: Any, verdicts: list[Verdict]) -> Any:
    """The document with each point's ``budgets`` (when any was set) and ``spec.device_used``.

    ``spec.device`` is what was asked (``auto``); ``device_used`` is where the
    run verified (``measured.device``), null with ``--no-verify``.
    """
    for label, item in points(document):
        if not isinstance(item, dict):
            continue
        spec = item.get("spec")
        if isinstance(spec, dict):
            measured = item.get("measured")
            spec["device_used"] = measured.get("device") if isinstance(measured, dict) else None
        if verdicts:
            item["budgets"] = [v.to_dict() for v in verdicts if v.point == label]
    return document
