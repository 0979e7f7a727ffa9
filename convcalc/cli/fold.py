"""Per-layer folding options of the network commands: ``--fold N`` everywhere.

``--fold`` is the one spelling; ``--depth`` means a network's depth
(``resnet --depth 50``). ``model`` and ``mobilenet`` still take ``--depth N``
as their first spelling of ``--fold``, hidden from help, with a notice saying
to use ``--fold`` (``deprecated_alias``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from convcalc.cli.options import integer
from convcalc.cli.streams import write_err
from convcalc.errors import InvalidSpecError

_FOLD_HELP = "Fold layers into their modules N levels deep (b1.se: 2; layer1.0: 2)."

Fold = Annotated[int | None, typer.Option("--fold", help=_FOLD_HELP, **integer("fold"))]
# The first spelling of --fold on model and mobilenet: hidden, and said to be old.
DepthAlias = Annotated[
    int | None, typer.Option("--depth", hidden=True, help=_FOLD_HELP, **integer("depth"))
]
Top = Annotated[
    int | None,
    typer.Option("--top", help="Show only the K rows with the most MACs.", **integer("top")),
]


def deprecated_alias(
    value: int | None,
    alias: int | None,
    option: str,
    old: str,
    command: str,
    check: Callable[[int], object] | None = None,
) -> int | None:
    """``option``'s value when it was given by its old spelling ``old``: a notice on
    stderr says to use ``option``, once the value passed ``check`` (an invalid one
    gets its error alone); both given with different values is an error."""
    if alias is None:
        return value
    if value is not None and value != alias:
        raise InvalidSpecError(
            f"{old} {alias} and {option} {value} disagree: {old} is the old spelling of "
            f"{option}; give {option} alone"
        )
    if check is not None:
        check(alias)
    write_err(f"notice: {command} {old} N is deprecated: use {option} N\n")
    return alias


def fold_level(fold: int | None, depth: int | None, command: str) -> int | None:
    """The fold level of ``--fold``, or of ``--depth`` (its deprecated spelling)."""
    return deprecated_alias(
        fold, depth, "--fold", "--depth", command, lambda level: check_fold(level, None)
    )


def check_fold(depth: int | None, top: int | None) -> None:
    """Both must be positive when given."""
    for option, value in (("fold", depth), ("top", top)):
        if value is not None and value <= 0:
            raise InvalidSpecError(f"--{option}={value} must be a positive integer")
