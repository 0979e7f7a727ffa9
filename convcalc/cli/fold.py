"""Per-layer folding options of the network commands: ``--fold N`` everywhere.

``--fold`` is the one spelling. ``model`` and ``mobilenet`` also accept their
first spelling, ``--depth``, so scripts keep working; ``resnet`` cannot, since
its ``--depth`` is the network's depth (18..152).
"""

from __future__ import annotations

from typing import Annotated

import typer

from convcalc.cli.options import integer
from convcalc.errors import InvalidSpecError

_FOLD_HELP = "Fold layers into their modules N levels deep (b1.se: 2; layer1.0: 2)."

Fold = Annotated[int | None, typer.Option("--fold", help=_FOLD_HELP, **integer("fold"))]
FoldOrDepth = Annotated[
    int | None,
    typer.Option("--fold", "--depth", help=_FOLD_HELP + " --depth is an alias.", **integer("fold")),
]
Top = Annotated[
    int | None,
    typer.Option("--top", help="Show only the K rows with the most MACs.", **integer("top")),
]


def check_fold(depth: int | None, top: int | None) -> None:
    """Both must be positive when given."""
    for option, value in (("fold", depth), ("top", top)):
        if value is not None and value <= 0:
            raise InvalidSpecError(f"--{option}={value} must be a positive integer")
