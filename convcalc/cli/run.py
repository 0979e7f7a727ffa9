"""Judge reports: a failed check or a budget raises the error the CLI maps to exit 1."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from convcalc.cli.options import Common
from convcalc.core.primitives import fmt_int
from convcalc.core.report import CompareReport, Report, SweepReport
from convcalc.errors import BudgetExceededError, MismatchError


def judge(document: Report | CompareReport | SweepReport, common: Common) -> None:
    """Raise MismatchError on any disagreement, then BudgetExceededError on any budget."""
    reports = (document,) if isinstance(document, Report) else document.reports
    failed = [(r, c) for r in reports for c in r.failed_checks]
    if failed:
        details = "; ".join(
            f"{_prefix(r, reports)}{c.figure} analytic {_show(c.analytic)}, "
            f"measured {_show(c.measured)}"
            for r, c in failed[:4]
        )
        more = f" (and {len(failed) - 4} more)" if len(failed) > 4 else ""
        raise MismatchError(f"analytic and measured figures disagree: {details}{more}")
    over = []
    for report in reports:
        totals = report.figures.totals
        for name, value, limit in (
            ("params", totals.params, common.max_params),
            ("macs", totals.macs, common.max_macs),
            ("flops", totals.flops, common.max_flops),
        ):
            if limit is not None and value > limit:
                excess = value - limit
                share = f", {excess / limit:.1%}" if limit else ""
                over.append(
                    f"{_prefix(report, reports)}{name} {fmt_int(value)} > --max-{name} "
                    f"{fmt_int(limit)} (over by {fmt_int(excess)}{share})"
                )
    if over:
        raise BudgetExceededError("budget exceeded: " + "; ".join(over))


def _prefix(report: Report, reports: Sequence[Report]) -> str:
    if len(reports) == 1:
        return ""
    spec = report.spec
    if report.command == "mobilenet":
        return f"width {spec['width']:g} at {spec['resolution']}: "
    return f"{report.figures.network.name}: "


def _show(value: Any) -> str:
    if isinstance(value, int):
        return fmt_int(value)
    if isinstance(value, tuple):
        return "x".join(map(str, value))
    return str(value)
