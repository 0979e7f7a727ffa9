"""A document as JSON text: the one writer of every command's ``--format json``.

Standard library only and nothing else imported, so a JSON run pays for no
table, CSV or Markdown code (start-up, SPEC "Performance").
"""

from __future__ import annotations

import json
from typing import Any


def to_json(document: Any) -> str:
    """One JSON document, exact integers, stable key order.

    Indented for reading unless it is large (a sweep's is megabytes, and
    indenting it costs several times the compact dump); both parse the same.
    """
    compact = json.dumps(document, separators=(",", ":"))
    if len(compact) > 200_000:
        return compact + "\n"
    return json.dumps(document, indent=2) + "\n"
