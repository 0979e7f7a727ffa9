"""Per-layer folding options of the network commands (``convcalc model``'s ``--depth``).

``resnet`` already uses ``--depth`` for the network's depth (18..152), so its
folding is ``--fold``; ``mobilenet`` takes both spellings.
"""

from __future__ import annotations

from typing import Annotated

import typer

from convcalc.errors import InvalidSpecError

_FOLD_HELP = "Fold layers into their modules N levels deep (b1.se: 2; layer1.0: 2)."

Fold = Annotated[int | None, typer.Option("--fold", help=_FOLD_HELP)]
DepthFold = Annotated[int | None, typer.Option("--depth", "--fold", help=_FOLD_HELP)]
Top = Annotated[int | None, typer.Option("--top", help="Show only the K rows with the most MACs.")]


def check_fold(depth: int | None, top: int | None) -> None:
    """Both must be positive when given."""
    for option, value in (("fold", depth), ("top", top)):
        if value is not None and value <= 0:
            raise InvalidSpecError(f"--{option}={value} must be a positive integer")
