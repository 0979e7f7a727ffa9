"""Judge reports: a failed check or a budget raises the error the CLI maps to exit 1."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from convcalc.cli.options import Common
from convcalc.core.budgets import Verdict
from convcalc.core.budgets import judge as judge_budgets
from convcalc.core.primitives import fmt_int
from convcalc.core.report import CompareReport, Report, SweepReport
from convcalc.errors import BudgetExceededError, MismatchError


def budgets(document: Report | CompareReport | SweepReport, common: Common) -> list[Verdict]:
    """Every budget's verdict, per point (empty when no budget was set)."""
    if not common.limits:
        return []
    return judge_budgets(document.to_dict(), common.limits)


def judge(
    document: Report | CompareReport | SweepReport,
    common: Common,
    verdicts: list[Verdict] | None = None,
) -> None:
    """Raise MismatchError on any disagreement, then BudgetExceededError on any budget."""
    reports = document.reports
    failed = [(r, c) for r in reports for c in r.failed_checks]
    if failed:
        details = "; ".join(
            f"{_prefix(r, reports)}{c.figure} analytic {_show(c.analytic)}, "
            f"measured {_show(c.measured)}"
            for r, c in failed[:4]
        )
        more = f" (and {len(failed) - 4} more)" if len(failed) > 4 else ""
        raise MismatchError(f"analytic and measured figures disagree: {details}{more}")
    if verdicts is None:
        verdicts = budgets(document, common)
    over = [v.message() for v in verdicts if not v.ok]
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
