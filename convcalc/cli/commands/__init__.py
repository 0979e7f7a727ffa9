"""The commands, one module per family; ``cli.app`` registers them in help order.

``FIGURES``: every command that computes figures (each returns a ``cli.run.Plan``),
by name: the commands a ``batch`` line or a ``check`` entry may run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from convcalc.cli.commands import blocks, layers, model, networks

FIGURES: dict[str, Callable[..., Any]] = {
    "conv": layers.conv,
    "separable": layers.separable,
    "spatial": layers.spatial,
    "compare": layers.compare,
    "se": blocks.se,
    "cbam": blocks.cbam,
    "mobilenet": networks.mobilenet,
    "model": model.model,
    "pool": layers.pool,
    "resnet": networks.resnet,
}
