"""``convcalc check``: every budget entry of pyproject.toml (or convcalc.toml) in one process.

Each entry's command line is parsed as ``convcalc COMMAND --format json`` would
be and run through the library pipeline (``dispatch``; torch is imported once
for all of them); its document
is judged against the entry's budgets (core.documents.budgets) and, with a baseline,
against the baseline's document (core.documents.diff). One table: entry, figure,
value, budget, headroom. Exit 1 names each excess and each growth; exit 2 a
malformed configuration (file, entry and key named); exit 3 the environment.
"""

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from convcalc import __version__
from convcalc.cli.options import formats
from convcalc.cli.output import notify
from convcalc.core.documents.budgets import Verdict
from convcalc.core.documents.budgets import judge as judge_budgets
from convcalc.core.documents.contract import BUDGET_FIGURES, figure, points, text
from convcalc.core.documents.diff import change_text, growth_message, read_document, show
from convcalc.core.ops.primitives import fmt_int
from convcalc.errors import (
    BudgetExceededError,
    EnvironmentUnavailableError,
    InvalidSpecError,
)
from convcalc.interrupts import check_interrupt
from convcalc.render import OutputFormat

if TYPE_CHECKING:  # imported where used: the commands' start-up stays light
    from convcalc.core.documents import config as core_config
    from convcalc.core.documents import diff as core_diff

DEFAULT_BASELINE = "convcalc-baseline.json"


@dataclass
class Result:
    """One entry's run: its document, verdicts, baseline changes and failure."""

    entry: "core_config.Entry"
    document: Any = None
    failure: str | None = None  # the command's own exit-1 message (a mismatch)
    verdicts: list[Verdict] = field(default_factory=list)
    changes: "list[core_diff.Change]" = field(default_factory=list)
    has_baseline: bool = False


def run_entry(config: "core_config.Config", entry: "core_config.Entry") -> Result:
    """Run one entry's command line through the pipeline and judge its budgets."""
    from convcalc.cli import dispatch
    from convcalc.pipeline import plain

    where = f"{config.where('budgets', entry.name)}: command"
    argv = dispatch.split(entry.command, where)
    if not argv:
        raise InvalidSpecError(f"{where}: is empty")
    for option in ("--format", "--value"):
        if any(a == option or a.startswith(option + "=") for a in argv):
            raise InvalidSpecError(f"{where}: drop {option}; check reads the JSON document")
    outcome = dispatch.run([*argv, "--format", "json"], text_output=False)
    for line in outcome.notices:
        notify(f"[{entry.name}] {line}")
    if outcome.exit == 2:
        raise InvalidSpecError(f"{where}: {outcome.error}")
    if outcome.exit == 3:
        raise EnvironmentUnavailableError(f"{entry.name}: {outcome.error}")
    result = Result(entry)
    if outcome.exit not in (0, 1) or outcome.document is None:
        result.failure = outcome.error or f"exit {outcome.exit}"
        return result
    result.document = plain(outcome.document)  # as a baseline file reads it back
    if outcome.exit == 1:
        result.failure = outcome.error
    result.verdicts = judge_budgets(result.document, entry.limits)
    return result


def _rows(results: list[Result], baseline_in_use: bool, raw: bool = False) -> list[list[str]]:
    """The table's cells; ``raw``: bare integers (CSV), not ``1,234`` with the share."""
    number = str if raw else fmt_int
    rows = []
    for result in results:
        if result.document is None:
            rows.append([result.entry.name, "-", "-", "-", "-", "failed", ""])
            continue
        grown = {(c.scope, c.figure): c for c in result.changes}
        for label, item in points(result.document):
            name = f"{result.entry.name} [{label}]" if label else result.entry.name
            wanted = [f for f in BUDGET_FIGURES if f in result.entry.limits]
            if baseline_in_use:
                wanted = list(BUDGET_FIGURES)
            elif not wanted:
                wanted = ["params", "macs"]
            for name_of in wanted:
                value = figure(item, name_of)
                verdict = next(
                    (v for v in result.verdicts if v.point == label and v.figure == name_of), None
                )
                scope = "/".join(p for p in (result.entry.name, label) if p)
                change = grown.get((scope, name_of))
                rows.append(
                    [
                        name,
                        name_of,
                        text(value) if raw else show(value),
                        "-" if verdict is None else number(verdict.limit),
                        "-" if verdict is None else _headroom(verdict, raw),
                        "-" if verdict is None else "ok" if verdict.ok else "OVER",
                        _baseline_text(change, result.has_baseline) if baseline_in_use else "",
                    ]
                )
    return rows


def _headroom(verdict: Verdict, raw: bool = False) -> str:
    if raw:
        return str(verdict.headroom)
    sign = "+" if verdict.headroom >= 0 else "-"
    share = f" ({sign}{verdict.share()})" if verdict.limit else ""
    return f"{fmt_int(verdict.headroom)}{share}"


def _baseline_text(change: "core_diff.Change | None", has_baseline: bool) -> str:
    if not has_baseline:
        return "no baseline"
    return "=" if change is None else change_text(change)


def _print_table(results: list[Result], title: str, baseline_in_use: bool) -> None:
    from rich.table import Table

    from convcalc.cli.output import console
    from convcalc.render.fit import Fit

    header = _header(baseline_in_use)
    table = Table(title=title, title_justify="left")
    for name in header:
        table.add_column(name, justify="left" if name in ("entry", "figure", "status") else "right")
    for row in _rows(results, baseline_in_use):
        table.add_row(*row[: len(header)])
    console().print(Fit(table, ("vs baseline", "status")))


def _header(baseline_in_use: bool) -> list[str]:
    header = ["entry", "figure", "value", "budget", "headroom", "status"]
    return [*header, "vs baseline"] if baseline_in_use else header


def _text_table(results: list[Result], baseline_in_use: bool, output: OutputFormat) -> str:
    """The table's rows as CSV (bare integers) or as a Markdown table."""
    header = _header(baseline_in_use)
    csv_rows = output is OutputFormat.csv
    rows = [row[: len(header)] for row in _rows(results, baseline_in_use, raw=csv_rows)]
    if csv_rows:
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        return buffer.getvalue()
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _check_writable(target: Path) -> None:
    """A baseline path that can be written: a file, in a directory that exists (exit 2)."""
    if target.is_dir():
        raise InvalidSpecError(
            f"baseline {target} is a directory: name a file (such as {DEFAULT_BASELINE})"
        )
    if not target.parent.is_dir():
        raise InvalidSpecError(f"baseline {target}: the directory {target.parent} does not exist")


def _document(results: list[Result], config: "core_config.Config", ok: bool) -> dict[str, Any]:
    return {
        "schema": 1,
        "command": "check",
        "config": str(config.path),
        "ok": ok,
        "entries": [
            {
                "name": r.entry.name,
                "command": r.entry.command,
                "error": r.failure,
                "budgets": [v.to_dict() | {"point": v.point} for v in r.verdicts],
                "baseline": None if not r.has_baseline else [c.to_dict() for c in r.changes],
            }
            for r in results
        ],
    }


def check(
    config_path: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="FILE",
            help="pyproject.toml or convcalc.toml (default: the nearest one, from here upwards).",
        ),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            metavar="FILE",
            help="Compare with this baseline (written by --update-baseline): exit 1 when a "
            f"figure grew past the tolerance. Default: the config's baseline key, else "
            f"{DEFAULT_BASELINE} beside the config when it exists.",
        ),
    ] = None,
    update_baseline: Annotated[
        bool,
        typer.Option(
            "--update-baseline",
            help=f"Write this run's documents as the baseline (--baseline, the config's, or "
            f"{DEFAULT_BASELINE} beside the config).",
        ),
    ] = False,
    tolerance: Annotated[
        str | None,
        typer.Option(
            "--tolerance",
            help="Growth over the baseline allowed before exit 1: 1%, 0.5% (default: the "
            "config's tolerance, else 0%).",
        ),
    ] = None,
    output: Annotated[
        OutputFormat,
        typer.Option("--format", click_type=formats(), help="Output format."),
    ] = OutputFormat.table,
) -> None:
    """Run every budget entry of pyproject.toml (or convcalc.toml); exit 1 naming each excess."""
    from convcalc.core.documents import config as core_config
    from convcalc.core.documents import diff as core_diff

    path = config_path or core_config.find()
    if path is None:
        raise InvalidSpecError(
            'no budgets found: add [tool.convcalc.budgets.NAME] with command = "..." to '
            "pyproject.toml (or write convcalc.toml), or give --config FILE"
        )
    config = core_config.load(path)
    allowed = core_diff.parse_tolerance(tolerance) if tolerance is not None else config.tolerance
    baseline_path = baseline or config.baseline
    default = config.path.parent / DEFAULT_BASELINE
    if baseline_path is None and (update_baseline or default.is_file()):
        baseline_path = default  # where --update-baseline writes it, a plain check reads it
    if update_baseline and baseline_path is not None:
        _check_writable(baseline_path)  # before any entry runs or anything is printed
    old: dict[str, Any] | None = None
    if baseline_path is not None and not update_baseline:
        if baseline_path.exists() or baseline is not None:
            old = core_diff.entries(read_document(baseline_path))
        else:
            notify(f"notice: no baseline at {baseline_path} yet: write it with --update-baseline")
    results = []
    for entry in config.entries:
        check_interrupt()
        result = run_entry(config, entry)
        if old is not None and result.document is not None:
            result.has_baseline = entry.name in old
            if result.has_baseline:
                changes = _compare_entry(baseline_path, entry.name, old[entry.name], result)
                result.changes = [
                    core_diff.Change(f"{entry.name}/{c.scope}" if c.scope else entry.name,
                                     c.figure, c.old, c.new, c.layer)
                    for c in changes
                ]  # fmt: skip
        results.append(result)
    problems = [f"{r.entry.name}: {r.failure}" for r in results if r.failure]
    problems += [_excess(r.entry.name, v) for r in results for v in r.verdicts if not v.ok]
    grown = [c for r in results for c in r.changes if c.grew(allowed)]
    title = (f"convcalc check: {len(results)} entr{'y' if len(results) == 1 else 'ies'} "
             f"from {config.path}")  # fmt: skip
    if output is OutputFormat.json:
        from convcalc.render.jsontext import to_json

        ok = not problems and not grown
        sys.stdout.write(to_json(_document(results, config, ok)))
    elif output is OutputFormat.table:
        _print_table(results, title, old is not None)
    else:
        sys.stdout.write(_text_table(results, old is not None, output))
    if update_baseline and baseline_path is not None:
        _write_baseline(baseline_path, results)
    messages = []
    if problems:
        messages.append("budget exceeded: " + "; ".join(problems))
    if grown:
        messages.append(growth_message(grown, allowed))
    if messages:
        raise BudgetExceededError("; ".join(messages))


def _compare_entry(
    baseline: Path | None, name: str, before: Any, result: Result
) -> "list[core_diff.Change]":
    """An entry's changes since its baseline; exit 2 naming the entry, with the way out,
    when its baseline document is of another thing (its command line changed)."""
    from convcalc.core.documents import diff as core_diff

    try:
        return core_diff.compare(before, result.document)
    except core_diff.NotComparableError as exc:
        raise InvalidSpecError(
            f"baseline {baseline}: entry {name!r} is not comparable with this run: {exc}; "
            "if its command changed on purpose, rewrite the baseline with "
            "convcalc check --update-baseline"
        ) from None


def _excess(entry: str, verdict: Verdict) -> str:
    """``mobilenet [width 0.5 at 160]: params 4,231,976 > max-params 3,000,000 (...)``."""
    name = f"{entry} [{verdict.point}]" if verdict.point else entry
    return f"{name}: " + replace(verdict, point="").message(dashes="")


def _write_baseline(target: Path, results: list[Result]) -> None:
    import json

    entries = {r.entry.name: r.document for r in results if r.document is not None}
    document = {"schema": 1, "command": "check", "convcalc": __version__, "baseline": entries}
    try:
        target.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    except OSError as exc:
        raise EnvironmentUnavailableError(
            f"cannot write the baseline {target}: {exc.strerror or exc}"
        ) from None
    notify(f"notice: wrote {target} ({len(entries)} entries)")
