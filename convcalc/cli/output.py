"""Everything the CLI writes: documents on stdout, notices and errors on stderr."""

from __future__ import annotations

import os
import sys
from typing import Any

from convcalc.cli.options import Common
from convcalc.render import render


def notify(message: str) -> None:
    """A notice on stderr (never on stdout, which holds the document)."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def console(stderr: bool = False) -> Any:
    """A Rich console: plain when not a terminal or NO_COLOR is set.

    Markup, emoji and highlighting are off: cells are plain text, and their
    parsers cost start-up time on the fast path.
    """
    from rich.console import Console

    file = sys.stderr if stderr else sys.stdout
    columns = os.environ.get("COLUMNS", "")
    width = None if file.isatty() else int(columns) if columns.isdigit() else 200
    # NO_COLOR means plain: no bold or italic either, not only no colour.
    plain = bool(os.environ.get("NO_COLOR")) or not file.isatty()
    return Console(
        file=file,
        width=width,
        soft_wrap=False,
        markup=False,
        emoji=False,
        highlight=False,
        color_system=None if plain else "auto",
    )


def emit(report: Any, common: Common, *, depth: int | None = None, top: int | None = None) -> None:
    """Write a report (one, a comparison or a sweep) to stdout in the chosen format;
    ``depth`` folds per-layer rows into their modules, ``top`` keeps the costliest."""
    rendered = render(report, common.output, common.exact, depth=depth, top=top)
    if isinstance(rendered, str):
        sys.stdout.write(rendered)
    else:
        console().print(rendered)
