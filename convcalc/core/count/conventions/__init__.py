"""What each counting tool counts, as rules over convcalc's own primitives (pure).

Peers print different numbers for the same model because they count different
things: MACs or FLOPs, bias adds in or out, norms and pools or not, functional
calls or only modules. Each convention here is one tool's rule, read from its
source, applied to the nodes convcalc already has: so ``--convention fvcore``
says what fvcore would print, layer by layer, and why it differs from the paper
figure, without running fvcore. The tests run the real tools and compare.

One module per tool, each with its rules and its ``CONVENTIONS`` (ptflops' two
backends, torchscan's FLOPs and MACs: two each); ``base`` holds what they share.
A new tool is a module with its rule and ``Convention``, named once in ``TOOLS``
(the order ``convcalc conventions`` lists them in).
"""

from __future__ import annotations

from typing import Any

from convcalc.core.count.conventions import (
    flopcounter,
    fvcore,
    hardware,
    paper,
    ptflops,
    thop,
    torchinfo,
    torchscan,
)
from convcalc.core.count.conventions.base import (
    ASPECTS,
    BUILT_CALLS,
    RECURRENT_CLASSES,
    Convention,
    Rule,
    module_class,
)
from convcalc.core.count.figures import NetworkFigures
from convcalc.core.values.record import Record
from convcalc.errors import InvalidSpecError

__all__ = [
    "ASPECTS",
    "BUILT_CALLS",
    "CONVENTIONS",
    "RECURRENT_CLASSES",
    "TOOLS",
    "Convention",
    "ConventionCount",
    "LayerCount",
    "Rule",
    "convention",
    "count",
    "module_class",
]

# The registry: every tool's conventions, in the order they are listed and documented.
TOOLS = (paper, flopcounter, torchinfo, hardware, fvcore, ptflops, torchscan, thop)
CONVENTIONS: dict[str, Convention] = {c.name: c for tool in TOOLS for c in tool.CONVENTIONS}


def convention(name: str) -> Convention:
    """The convention called ``name`` (InvalidSpecError naming the known ones)."""
    found = CONVENTIONS.get(name)
    if found is not None:
        return found
    known = ", ".join(CONVENTIONS)
    raise InvalidSpecError(f"unknown convention {name!r}; known: {known}")


class LayerCount(Record):
    """One node under a convention."""

    name: str
    paper: int
    count: int
    note: str


class ConventionCount(Record):
    """A network counted the way one tool counts it, beside the paper MACs."""

    convention: Convention
    layers: tuple[LayerCount, ...]
    paper: int

    @property
    def total(self) -> int:
        return sum(layer.count for layer in self.layers)

    @property
    def difference(self) -> int:
        """The tool's total minus the paper MACs (in the tool's own unit)."""
        return self.total - self.paper

    def value(self, figure: str) -> int:
        """``--value macs`` / ``flops`` under this convention: its total, in its own unit."""
        c = self.convention
        if figure != c.unit.lower():
            unit = {"macs": "MACs", "flops": "FLOPs"}.get(figure, figure)
            other = f" (its {unit}: --convention {c.other_unit})" if c.other_unit else ""
            raise InvalidSpecError(
                f"--value {figure} under --convention {c.name}: {c.tool} prints {c.unit}; use "
                f"--value {c.unit.lower()}{other}"
            )
        return self.total

    def to_dict(self) -> dict[str, Any]:
        c = self.convention
        return {
            "name": c.name,
            "tool": c.tool,
            "unit": c.unit,
            "total": self.total,
            "paper_macs": self.paper,
            "difference": self.difference,
            "layers": [
                {"name": x.name, "paper_macs": x.paper, "count": x.count, "note": x.note}
                for x in self.layers
            ],
        }


def count(figures: NetworkFigures, name: str) -> ConventionCount:
    """Every node of a network under the convention ``name``."""
    chosen = convention(name)
    nodes = figures.network.nodes
    batch = figures.totals.batch
    layers = tuple(
        LayerCount(layer.name, layer.macs, *chosen.rule(nodes[layer.index], layer, batch))
        for layer in figures.layers
    )
    return ConventionCount(chosen, layers, figures.totals.macs)
