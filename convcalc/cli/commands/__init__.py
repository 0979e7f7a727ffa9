"""The commands, one module per family, by name; ``cli.app`` registers them in help order.

``COMMANDS``: every command's name -> (its module, its function), in help order.
Nothing here imports a command's module: the app imports the one a command line
names (a ``--no-verify`` run loads one family's module, not fifteen commands').

``FIGURES``: every command that computes figures (each returns a ``cli.run.Plan``),
by name: the commands a ``batch`` line or a ``check`` entry may run. Reading one
imports its module.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

_LAYERS = "convcalc.cli.commands.layers"
_BLOCKS = "convcalc.cli.commands.blocks"
_NETWORKS = "convcalc.cli.commands.networks"

COMMANDS: dict[str, tuple[str, str]] = {
    "conv": (_LAYERS, "conv"),
    "separable": (_LAYERS, "separable"),
    "spatial": (_LAYERS, "spatial"),
    "compare": (_LAYERS, "compare"),
    "se": (_BLOCKS, "se"),
    "cbam": (_BLOCKS, "cbam"),
    "mobilenet": (_NETWORKS, "mobilenet"),
    "model": ("convcalc.cli.commands.model", "model"),
    "pool": (_LAYERS, "pool"),
    "conventions": ("convcalc.cli.commands.conventions", "conventions"),
    "hardware": ("convcalc.cli.commands.hardware", "hardware"),
    "check": ("convcalc.cli.check", "check"),
    "diff": ("convcalc.cli.diff", "diff"),
    "batch": ("convcalc.cli.batch", "batch"),
    "resnet": (_NETWORKS, "resnet"),
}

# The commands that compute figures, in help order.
_FIGURE_NAMES = ("conv", "separable", "spatial", "compare", "se", "cbam", "mobilenet", "model",
                 "pool", "resnet")  # fmt: skip


def command(name: str) -> Callable[..., Any]:
    """The function of the command ``name`` (its module imported now); KeyError if none."""
    module, attribute = COMMANDS[name]
    found: Callable[..., Any] = getattr(importlib.import_module(module), attribute)
    return found


class _Figures(Mapping[str, Callable[..., Any]]):
    """The figure commands by name; reading one imports its module."""

    def __getitem__(self, name: str) -> Callable[..., Any]:
        if name not in _FIGURE_NAMES:
            raise KeyError(name)
        return command(name)

    def __iter__(self) -> Iterator[str]:
        return iter(_FIGURE_NAMES)

    def __len__(self) -> int:
        return len(_FIGURE_NAMES)


FIGURES: Mapping[str, Callable[..., Any]] = _Figures()
