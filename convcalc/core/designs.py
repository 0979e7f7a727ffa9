"""What the library's constructors return: a described layer, block or network.

A ``Design`` holds everything about the domain that a command used to decide
on its own: the graph, the spec as used (the JSON ``spec``), the kind label
and, for blocks that replace a k x k convolution, that convolution to compare
with. ``analyze`` turns it into a ``Report`` without torch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import field, replace
from typing import TYPE_CHECKING, Any

from convcalc.core.count.figures import analyze as analyze_network
from convcalc.core.documents.report import Baseline, CompareReport, RatioTheory, Report, SweepReport
from convcalc.core.nets.graph import Network
from convcalc.core.nets.registry import network_entry
from convcalc.core.values.record import Record

if TYPE_CHECKING:  # a network's module loads when it is built (core.nets.registry), not here
    from convcalc.core.nets.layers import ConvSpec  # with the layer designs only (start-up)
    from convcalc.core.nets.mobilenet import MobileNetSpec


class Design(Record):
    """One layer, block or network, described and ready to analyze."""

    command: str
    spec: dict[str, Any]
    network: Network
    kind: str = ""
    standard: Network | None = None  # the k x k convolution this block replaces
    theory: RatioTheory | None = None

    @property
    def notes(self) -> tuple[str, ...]:
        """What the builder decided for the user (channel rounding): say it."""
        return self.network.notes

    def analyze(self, dtype: str = "float32", device: str = "auto") -> Report:
        """Every analytic figure (pure; ``device`` is recorded as asked)."""
        figures = analyze_network(self.network, dtype)
        baseline = None
        if self.standard is not None:
            baseline = Baseline.of(
                analyze_network(self.standard, dtype).totals, figures.totals, self.theory
            )
        spec = self.spec | {"dtype": dtype, "device": device}
        return Report(self.command, spec, figures, kind=self.kind, baseline=baseline)


class Comparison(Record):
    """``compare``: the same cin -> cout built each registered way."""

    spec: dict[str, Any]
    designs: tuple[Design, ...]
    skipped: tuple[str, ...] = ()

    @property
    def notes(self) -> tuple[str, ...]:
        """The variants that could not be built for this spec, and why."""
        return tuple(f"skipped {entry}" for entry in self.skipped)

    def analyze(self, dtype: str = "float32", device: str = "auto") -> CompareReport:
        """Every variant's report."""
        reports = tuple(d.analyze(dtype, device) for d in self.designs)
        return CompareReport(self.spec | {"dtype": dtype, "device": device}, reports)


class Sweep(Record):
    """A registered network at every (width, resolution) point, and its reference point."""

    title: str
    designs: tuple[Design, ...]
    reference: Design
    reference_point: dict[str, Any] = field(default_factory=dict)

    @property
    def notes(self) -> tuple[str, ...]:
        """Each distinct builder notice once."""
        return tuple(dict.fromkeys(n for d in self.designs for n in d.notes))

    def analyze(self, dtype: str = "float32", device: str = "auto") -> SweepReport:
        """Every point's report, with the reference figures for the ratios."""
        return SweepReport(
            self.title,
            tuple(d.analyze(dtype, device) for d in self.designs),
            analyze_network(self.reference.network, dtype),
            self.reference_point,
        )


def conv_design(spec: ConvSpec) -> Design:
    """One ``nn.Conv2d`` (or the shared-kernel depthwise module)."""
    from convcalc.core.nets.layers import conv_network

    network = conv_network(spec)
    return Design("conv", spec.to_dict(), network, network.classify())


def _versus_standard(spec: ConvSpec) -> Network:
    from convcalc.core.nets.layers import standard_network

    return standard_network(replace(spec, groups=1, share_kernel=False))


def separable_design(spec: ConvSpec) -> Design:
    """Depthwise k x k then pointwise 1x1, beside the standard k x k and the theory ratio."""
    from convcalc.core.nets.layers import separable_network

    kernel = spec.resolved_kernel
    taps = "x".join(map(str, kernel))
    theory = RatioTheory(f"1/{spec.cout} + 1/({taps})", 1 / spec.cout + 1 / math.prod(kernel))
    return Design(
        "separable",
        spec.to_dict(),
        separable_network(spec),
        "depthwise-separable",
        _versus_standard(spec),
        theory,
    )


def spatial_design(spec: ConvSpec) -> Design:
    """k x 1 then 1 x k, beside the k x k it replaces."""
    from convcalc.core.nets.layers import spatial_network

    return Design(
        "spatial",
        spec.to_dict(),
        spatial_network(spec),
        "spatially separable",
        _versus_standard(spec),
    )


def compare_design(spec: ConvSpec, groups_given: bool) -> Comparison:
    """Every variant compare can build; ``spec.groups`` is the grouped variant's g."""
    from convcalc.core.nets.layers import compare_networks

    networks, skipped = compare_networks(spec, groups_given)
    spec_dict = spec.to_dict()
    designs = tuple(Design("compare", spec_dict, n, n.classify()) for n in networks)
    return Comparison(spec_dict, designs, tuple(skipped))


def network_design(name: str, spec: Any) -> Design:
    """A registered network (``mobilenet_v2``) built from its spec."""
    entry = network_entry(name)
    return Design(entry.command, spec.to_dict(), entry.build(spec), entry.title)


def sweep_design(name: str, specs: Sequence[Any]) -> Sweep:
    """A registered network at every spec, every point built (and so valid) before any work."""
    entry = network_entry(name)
    designs = tuple(network_design(name, spec) for spec in specs)
    reference = network_design(name, entry.reference_spec(specs[0]))
    return Sweep(entry.title, designs, reference, dict(entry.reference))


def mobilenet_spec(
    version: int, width: float, resolution: int, classes: int, batch: int
) -> MobileNetSpec:
    """A MobileNet spec, validated."""
    from convcalc.core.nets.mobilenet import MobileNetSpec

    return MobileNetSpec(version, width, resolution, classes, batch)
