"""``convcalc diff OLD.json NEW.json [--tolerance 1%]``: what changed, and did the model grow.

Reads two documents any command printed with ``--format json`` (or two
``check`` baselines), prints every figure and layer that changed, and exits 1
when a whole-model figure grew by more than the tolerance (core.diff). Exit 2
when a file is no convcalc document (each point is checked against the
published JSON Schema, core.documents) or the two are not comparable (two
commands' reports, or no point in common).

``--format json`` writes strict JSON: a number JSON cannot hold (NaN,
Infinity, which Python's reader accepts) is written as the string ``"NaN"``,
``"Infinity"`` or ``"-Infinity"``, never as a bare token and never as null
(null is an absent value: a figure or layer one side lacks).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from convcalc.cli.options import formats
from convcalc.core.primitives import fmt_int
from convcalc.errors import BudgetExceededError, InvalidSpecError
from convcalc.render import OutputFormat

if TYPE_CHECKING:  # imported where used: the commands' start-up stays light
    from fractions import Fraction

    from convcalc.core import diff as core_diff

Tolerance = Annotated[
    str,
    typer.Option(
        "--tolerance",
        help="Growth allowed before exit 1, as a share of the old value: 1%, 0.5% (default 0%: "
        "any growth fails).",
    ),
]


def read_document(path: Path) -> Any:
    """A convcalc JSON document (or baseline) from a file; exit 2 when it is none."""
    import json

    from convcalc.core.documents import check_document

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
    return str(value)


def change_text(change: core_diff.Change) -> str:
    """``+5.5%``, ``new``, ``gone`` or ``changed``."""
    if change.old is None:
        return "new"
    if change.new is None:
        return "gone"
    share = change.share
    return "changed" if share is None else f"{share:+.2%}"


def growth_message(grown: list[core_diff.Change], tolerance: Fraction) -> str:
    """One error line naming each figure that grew past the tolerance."""
    parts = [
        f"{c.scope + ': ' if c.scope else ''}{c.figure} {show(c.old)} -> {show(c.new)} "
        f"({change_text(c)})"
        for c in grown
    ]
    return f"grew past the {float(tolerance):.2%} tolerance: " + "; ".join(parts)


def render_changes(
    changes: list[core_diff.Change], title: str, output: OutputFormat, tolerance: Fraction
) -> None:
    """Write the changes: a table (or JSON, CSV, Markdown) on stdout."""
    if output is OutputFormat.json:
        from convcalc.render.jsontext import to_json

        document = {
            "schema": 1,
            "command": "diff",
            "tolerance": float(tolerance),
            "changes": [c.to_dict() | {"grew": c.grew(tolerance)} for c in changes],
            "grew": any(c.grew(tolerance) for c in changes),
        }
        sys.stdout.write(to_json(strict_json(document)))
        return
    header = ["scope", "figure", "old", "new", "change"]
    rows = [
        [c.scope or "model", c.figure, show(c.old), show(c.new), change_text(c)] for c in changes
    ]
    if output is OutputFormat.csv:
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(
            [c.scope, c.figure, _raw(c.old), _raw(c.new), "" if c.share is None else c.share]
            for c in changes
        )
        sys.stdout.write(buffer.getvalue())
        return
    if output is OutputFormat.markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        sys.stdout.write("\n".join(lines) + "\n")
        return
    if not changes:
        sys.stdout.write(f"{title}: no figure changed\n")
        return
    from rich.table import Table

    from convcalc.cli.output import console
    from convcalc.render.fit import Fit

    table = Table(title=title, title_justify="left")
    for name in header:
        table.add_column(name, justify="left" if name in ("scope", "figure") else "right")
    for row in rows:
        table.add_row(*row)
    console().print(Fit(table, ("change",)))


def strict_json(value: Any) -> Any:
    """``value`` with every float JSON cannot write (NaN, +-Infinity) as its name, a string."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, dict):
        return {key: strict_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [strict_json(item) for item in value]
    return value


def _raw(value: Any) -> Any:
    if isinstance(value, list):
        return "x".join(str(v) for v in value)
    return "" if value is None else value


def diff(
    old: Annotated[Path, typer.Argument(metavar="OLD.json", help="The earlier document.")],
    new: Annotated[Path, typer.Argument(metavar="NEW.json", help="The later document.")],
    tolerance: Tolerance = "0%",
    output: Annotated[
        OutputFormat,
        typer.Option("--format", click_type=formats(), help="Output format."),
    ] = OutputFormat.table,
    layers: Annotated[
        bool,
        typer.Option("--layers/--no-layers", help="Show layer changes (on by default)."),
    ] = True,
) -> None:
    """Compare two JSON documents figure by figure and layer by layer; exit 1 if the model grew."""
    from convcalc.core import diff as core_diff

    allowed = core_diff.parse_tolerance(tolerance)
    try:
        changes = core_diff.compare(read_document(old), read_document(new))
    except core_diff.NotComparableError as exc:
        raise InvalidSpecError(f"{old} and {new} are not comparable: {exc}") from None
    if not layers:
        changes = [c for c in changes if not c.layer]
    title = f"convcalc diff: {old} -> {new} (tolerance {float(allowed):.2%})"
    render_changes(changes, title, output, allowed)
    grown = [c for c in changes if c.grew(allowed)]
    if grown:
        raise BudgetExceededError(growth_message(grown, allowed))
