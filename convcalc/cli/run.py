"""Compute, verify and judge reports: the steps every command shares.

No printing here beyond the notices the caller hands in; a failed check or a
budget raises the error the CLI maps to exit 1.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from convcalc.cli.options import Common
from convcalc.core.figures import analyze
from convcalc.core.graph import Network
from convcalc.core.primitives import fmt_int
from convcalc.core.report import Report, build_checks
from convcalc.errors import BudgetExceededError, EnvironmentUnavailableError, MismatchError

Notify = Callable[[str], None]


def compute(
    command: str,
    network: Network,
    spec: dict[str, Any],
    common: Common,
    notify: Notify,
    kind: str = "",
    extras: dict[str, Any] | None = None,
) -> Report:
    """Analyze a network and, unless --no-verify, measure it and compare."""
    figures = analyze(network, common.dtype)
    report = Report(command, spec, figures, kind=kind, extras=extras or {})
    if not common.verify:
        return report
    try:
        from convcalc.measure.probe import choose_device, measure, use_one_thread
    except ImportError as exc:
        raise EnvironmentUnavailableError(
            f"verification needs torch and torchinfo ({exc.name} is missing); "
            "install them, or use --no-verify for the analytic figures"
        ) from exc
    use_one_thread()
    device = choose_device(common.device, figures, notify)
    measured = measure(figures, device, cross_check=common.cross_check)
    return replace(report, measured=measured, checks=build_checks(figures, measured))


def judge(reports: Sequence[Report], common: Common) -> None:
    """Raise MismatchError on any disagreement, then BudgetExceededError on any budget."""
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
