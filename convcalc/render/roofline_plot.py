"""The roofline picture (the optional plot extra, matplotlib): log-log arithmetic intensity
against attainable FLOP/s, the device's roofs, one point per layer.

The roof is ``min(peak, bandwidth x intensity)``: the slanted part is the memory's
bandwidth (a dashed one per cache level of the spec), the flat part the peak,
and they meet at the ridge point. A layer's predicted point sits on the roof
(its FLOPs / its lower-bound time); with ``--measure-time`` its measured point
(FLOPs / measured time) sits below, joined to it: the gap is the ratio. The
costliest layers (by time) are labelled. Several points of a run (a batch
sweep, a width sweep) are drawn in their own colours, the same layer joined
across them, so a layer is seen moving right (more FLOPs per byte) as the batch
grows, until it crosses the ridge and turns compute-bound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from convcalc.core.count.roofline import Roof, rate, roofline_of
from convcalc.core.documents.report import Report
from convcalc.core.values.record import Record
from convcalc.errors import EnvironmentUnavailableError, InvalidSpecError
from convcalc.render.plot import require_matplotlib

LABELLED = 5  # the costliest layers of each point get their name beside them


class Point(Record):
    """One layer (a node, or a timed module call) on the picture."""

    name: str
    intensity: float  # FLOPs per byte
    predicted: float  # FLOP/s on the roof: FLOPs / the lower bound
    measured: float | None  # FLOP/s measured: FLOPs / the measured time
    time: float  # seconds: the measured time where there is one, else the bound


def points(report: Report) -> list[Point]:
    """A report's layers on the roofline: its timed module calls where it was timed (each
    call's FLOPs, bytes and bound summed over its nodes), else each node that does work
    and moves bytes. Layers with no FLOPs have no place on a FLOP/s axis."""
    found = []
    timed = report.timed
    if timed is not None:
        for call in timed.calls:
            if call.flops and call.bytes_moved and call.bound:
                found.append(
                    Point(
                        call.call,
                        call.flops / call.bytes_moved,
                        call.flops / call.bound,
                        call.achieved_flops,
                        call.measured,
                    )
                )
        return found
    for layer in roofline_of(report.figures).layers:
        if layer.flops and layer.bytes_moved and layer.time:
            found.append(
                Point(
                    layer.name,
                    layer.flops / layer.bytes_moved,
                    layer.flops / layer.time,
                    None,
                    layer.time,
                )
            )
    return found


def point_label(report: Report) -> str:
    """A point's name in the legend: its batch (and width, resolution) where they vary."""
    spec = report.spec
    parts = []
    if "width" in spec and "resolution" in spec:
        parts.append(f"{spec['width']:g}/{spec['resolution']}")
    batch = report.figures.totals.input_shape[0] if report.figures.totals.input_shape else None
    if batch is not None:
        parts.append(f"batch {batch}")
    return ", ".join(parts) or report.figures.network.name


def plot_roofline(reports: Sequence[Report], path: str, title: str = "") -> None:
    """Write the roofline of ``reports`` (each drawn on its device: --hardware) to ``path``
    (.png or .svg)."""
    roofs = [
        r.figures.roofline_options.roof for r in reports if r.figures.roofline_options is not None
    ]
    if not reports or len(roofs) != len(reports) or any(roof is None for roof in roofs):
        raise InvalidSpecError(
            "--plot draws the roofline of a device: give --hardware NAME (convcalc hardware "
            "lists them)"
        )
    roof: Roof = roofs[0]
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drawn = [(point_label(r), points(r)) for r in reports]
    every = [p for _, found in drawn for p in found]
    if not every:
        raise InvalidSpecError("no layer does FLOPs and moves bytes: nothing to draw")
    low = min(p.intensity for p in every) / 4
    high = max(max(p.intensity for p in every) * 4, roof.ridge * 4)
    figure, axes = plt.subplots(figsize=(8, 5.5))
    xs = [low * (high / low) ** (i / 200) for i in range(201)]
    axes.plot(
        xs,
        [min(roof.peak, roof.bandwidth * x) for x in xs],
        color="black",
        lw=2,
        label=f"{roof.name}: {roof.peak_text()}, {rate(roof.bandwidth, 'B/s')}",
    )
    for cache in roof.caches:
        axes.plot(
            xs,
            [min(roof.peak, cache.bandwidth * x) for x in xs],
            color="gray",
            ls="--",
            lw=1,
            label=f"{cache.name} ({rate(cache.bandwidth, 'B/s')})",
        )
    axes.axvline(roof.ridge, color="gray", ls=":", lw=1)
    axes.annotate(
        f"ridge {roof.ridge:,.3g} FLOPs/B",
        (roof.ridge, roof.peak),
        textcoords="offset points",
        xytext=(4, -12),
        fontsize=8,
        color="gray",
    )
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    several = len(drawn) > 1
    placed: list[tuple[float, float]] = []
    for index, (label, found) in enumerate(drawn):
        colour = colours[index % len(colours)]
        tag = f" ({label})" if several else ""
        axes.scatter(
            [p.intensity for p in found],
            [p.predicted for p in found],
            s=14,
            color=colour,
            alpha=0.8,
            label=f"bound{tag}",
        )
        timed = [p for p in found if p.measured is not None]
        if timed:
            axes.scatter(
                [p.intensity for p in timed],
                [p.measured or 0.0 for p in timed],
                s=16,
                marker="x",
                color=colour,
                label=f"measured{tag}",
            )
            for p in timed:
                axes.plot(
                    [p.intensity, p.intensity],
                    [p.measured or 0.0, p.predicted],
                    color=colour,
                    lw=0.5,
                    alpha=0.4,
                )
        for p in sorted(found, key=lambda p: -p.time)[:LABELLED]:
            where = (p.intensity, p.measured or p.predicted)
            if not _free(where, placed):
                continue  # a costlier layer's label sits there: overlapping text reads as none
            placed.append(where)
            axes.annotate(
                p.name,
                where,
                fontsize=7,
                textcoords="offset points",
                xytext=(4, 2),
                color=colour,
            )
    if several:  # each layer across the points: where it turns compute-bound
        by_name: dict[str, list[Point]] = {}
        for _, found in drawn:
            for p in found:
                by_name.setdefault(p.name, []).append(p)
        for path_points in by_name.values():
            if len(path_points) > 1:
                axes.plot(
                    [p.intensity for p in path_points],
                    [p.predicted for p in path_points],
                    color="gray",
                    lw=0.4,
                    alpha=0.5,
                )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlim(low, high)
    axes.set_xlabel("arithmetic intensity (FLOPs per byte moved)")
    axes.set_ylabel("attainable FLOP/s")
    name = title or reports[0].figures.network.name
    axes.set_title(f"{name} on {roof.name}: one point per layer")
    axes.grid(True, which="both", alpha=0.2)
    axes.legend(fontsize=7, loc="lower right")
    figure.tight_layout()
    try:
        figure.savefig(path)
    except OSError as exc:
        raise EnvironmentUnavailableError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        plt.close(figure)


def _free(where: tuple[float, float], placed: list[tuple[float, float]]) -> bool:
    """No label yet within a label's size of ``where`` on the log-log axes (a tenth of a
    decade across, a fifteenth up)."""
    x, y = math.log10(where[0]), math.log10(max(where[1], 1e-30))
    return all(abs(x - math.log10(a)) > 0.3 or abs(y - math.log10(max(b, 1e-30))) > 0.07
               for a, b in placed)  # fmt: skip
