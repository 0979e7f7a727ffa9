"""The conventions command: what each --convention counts."""

import sys
from typing import Annotated

import typer

from convcalc.cli.options import formats
from convcalc.render import OutputFormat


def conventions(
    output: Annotated[
        OutputFormat,
        typer.Option("--format", click_type=formats(), help="Output format (csv: as markdown)."),
    ] = OutputFormat.table,
) -> None:
    """What each --convention counts: conv and linear weights, bias, norms, pools,
    activations, attention, and which calls each tool sees."""
    from convcalc.render.conventions import conventions_document, conventions_table

    if output is OutputFormat.json:
        from convcalc.render.jsontext import to_json

        sys.stdout.write(to_json(conventions_document()))
        return
    table = conventions_table(markdown=output is not OutputFormat.table)
    if isinstance(table, str):
        sys.stdout.write(table)
    else:
        from convcalc.cli.output import console

        console().print(table)
