"""How a notebook and Rich show a report: registered into core's display table on load.

``core.documents.report`` cannot import the renderers (core imports nothing above
itself), so this module hands them down: ``Report._repr_markdown_`` and
``__rich__`` look them up in ``core.documents.report.DISPLAYS``. ``convcalc.api``
imports it; each renderer's own module still loads only when a report is shown.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from convcalc.core.documents.report import DISPLAYS

# (report class, "markdown" or "rich") -> (module under convcalc.render, function).
VIEWS = {
    ("Report", "markdown"): ("text", "to_markdown"),
    ("Report", "rich"): ("table", "report_table"),
    ("CompareReport", "markdown"): ("text", "compare_markdown"),
    ("CompareReport", "rich"): ("table", "compare_table"),
    ("SweepReport", "markdown"): ("sweep", "sweep_markdown"),
    ("SweepReport", "rich"): ("sweep", "sweep_table"),
}


def _view(module: str, function: str) -> Callable[[Any], Any]:
    def show(report: Any) -> Any:
        return getattr(importlib.import_module(f"convcalc.render.{module}"), function)(report)

    return show


DISPLAYS.update({key: _view(*where) for key, where in VIEWS.items()})
