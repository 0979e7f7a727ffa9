"""The shared steps of a command: analyze, verify, emit, then judge (a failed check or a
budget raises the error the CLI maps to exit 1)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from convcalc import analyze, verify
from convcalc.cli.options import Common
from convcalc.cli.output import emit, notify
from convcalc.core.budgets import Verdict
from convcalc.core.budgets import judge as judge_budgets
from convcalc.core.primitives import fmt_int
from convcalc.core.report import CompareReport, Report, SweepReport
from convcalc.errors import BudgetExceededError, MismatchError


def run(subject: Any, common: Common, *, depth: int | None = None, top: int | None = None) -> None:
    """Say the builder's notices, analyze (and verify), emit, then judge checks and budgets."""
    report = analyze(subject, common.dtype, common.device)  # an invalid spec: its error alone
    for note in subject.notes:
        notify(f"notice: {note}")
    if common.verify:
        use_one_thread()
        report = verify(report, common.device, cross_check=common.cross_check,
                        backward=common.backward, notify=notify)  # fmt: skip
    verdicts = budgets(report, common)
    emit(report, common, verdicts, depth=depth, top=top)
    judge(report, common, verdicts)


def use_one_thread() -> None:
    """One torch thread for verification (imports torch: the verify path only)."""
    try:
        from convcalc.measure.probe import use_one_thread as one_thread
    except ImportError:
        return  # verify() says what is missing
    one_thread()


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
