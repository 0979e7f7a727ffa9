"""``convcalc diff OLD.json NEW.json [--tolerance 1%]``: what changed, and did the model grow.

The command parses its arguments, calls the library (``core.documents.diff.diff_files``:
read both documents, compare them, judge the growth) and renders the ``Diff``
it returns: every figure and layer that changed, then exit 1 when a
whole-model figure grew by more than the tolerance. Exit 2 when a file is no
convcalc document (each point is checked against the published JSON Schema,
core.documents.contract) or the two are not comparable (two commands' reports, or no
point in common).

``--format json`` writes strict JSON: a number JSON cannot hold (NaN,
Infinity, which Python's reader accepts) is written as the string ``"NaN"``,
``"Infinity"`` or ``"-Infinity"``, never as a bare token and never as null
(null is an absent value: a figure or layer one side lacks).
"""

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from convcalc.cli.options import formats
from convcalc.render import OutputFormat

if TYPE_CHECKING:  # imported where used: the commands' start-up stays light
    from convcalc.core.documents import diff as core_diff

Tolerance = Annotated[
    str,
    typer.Option(
        "--tolerance",
        help="Growth allowed before exit 1, as a share of the old value: 1%, 0.5% (default 0%: "
        "any growth fails).",
    ),
]


def render_diff(result: "core_diff.Diff", output: OutputFormat) -> None:
    """Write a diff's changes: a table (or JSON, CSV, Markdown) on stdout."""
    from convcalc.core.documents.diff import change_text, show

    if output is OutputFormat.json:
        from convcalc.render.jsontext import to_json

        sys.stdout.write(to_json(result.to_dict()))
        return
    changes = result.changes
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
    title = f"convcalc diff: {result.old} -> {result.new} (tolerance {float(result.tolerance):.2%})"
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
    from convcalc.core.documents.diff import diff_files

    result = diff_files(old, new, tolerance, layers=layers)
    render_diff(result, output)
    failure = result.failure()
    if failure is not None:
        raise failure
