"""Reports: the analytic figures, the measured ones, and the checks between them.

A ``Report`` is plain data: the CLI renders it, a notebook reads it, and
``to_dict`` is the JSON contract of SPEC.md (``schema`` bumps only on a
breaking change).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from convcalc.core.count.figures import LayerFigures, NetworkFigures, Totals, per_sample
from convcalc.core.count.traffic import Roofline, roofline_of
from convcalc.core.geometry.shapes import jumps_json
from convcalc.core.ops.primitives import Shape
from convcalc.core.values.record import Record

if TYPE_CHECKING:  # measured runs only: core.documents.checks loads with the measurement
    from convcalc.core.documents.checks import Check, LayerMeasurement, Measurement

# How a notebook (``_repr_markdown_``) and Rich (``__rich__``) show a report: by
# (report class name, "markdown" or "rich"). The renderers live a layer up;
# convcalc.render.display fills this table when it loads (convcalc.api loads
# it), so core imports nothing above itself.
DISPLAYS: dict[tuple[str, str], Callable[[Any], Any]] = {}


def display(report: Any, kind: str) -> Any:
    """The report shown as ``kind``; before any renderer is registered, None for a
    notebook (which then shows the repr) and the repr for Rich."""
    show = DISPLAYS.get((type(report).__name__, kind))
    if show is None:
        return None if kind == "markdown" else repr(report)
    return show(report)


SCHEMA_VERSION = 1


def not_compared(checks: tuple[Check, ...]) -> tuple[Check, ...]:
    """The checks that could not be compared, each with its reason."""
    return tuple(check for check in checks if not check.is_compared)


class RatioTheory(Record):
    """A closed-form MACs ratio to the standard convolution, and its formula."""

    formula: str
    value: float


class Baseline(Record):
    """The standard k x k convolution a block replaces, and the block's ratios to it."""

    params: int
    macs: int
    output_shape: Shape
    params_ratio: float | None
    macs_ratio: float | None
    theory: RatioTheory | None = None

    @classmethod
    def of(cls, standard: Totals, ours: Totals, theory: RatioTheory | None = None) -> Baseline:
        """Ratios of ``ours`` to ``standard``."""
        return cls(
            standard.params,
            standard.macs,
            standard.output_shape,
            ratio(ours.params, standard.params),
            ratio(ours.macs, standard.macs),
            theory,
        )

    def to_dict(self) -> dict[str, Any]:
        """The top-level JSON keys ``standard``, ``ratio_to_standard`` (and ``ratio_theory``)."""
        result: dict[str, Any] = {
            "standard": {
                "params": self.params,
                "macs": self.macs,
                "output_shape": list(self.output_shape),
            },
            "ratio_to_standard": {"params": self.params_ratio, "macs": self.macs_ratio},
        }
        if self.theory is not None:
            result["ratio_theory"] = {"formula": self.theory.formula, "value": self.theory.value}
        return result


def ratio(value: int, reference: int) -> float | None:
    """``value / reference``: the one ratio rule (a zero reference has no ratio: None,
    nor has a ratio past a float's range: widths near 1e306 give such)."""
    try:
        return value / reference if reference else None
    except OverflowError:
        return None


class Report(Record):
    """One computed (and perhaps verified) layer, block or network."""

    command: str
    spec: dict[str, Any]
    figures: NetworkFigures
    kind: str = ""
    measured: Measurement | None = None
    checks: tuple[Check, ...] = ()
    baseline: Baseline | None = None
    # core.count.timing.Timing: --measure-time's medians on a real device (None: not timed)
    timing: Any = None

    # Typed figures, so a notebook reads ``report.params`` rather than a dict.
    @property
    def reports(self) -> tuple[Report]:
        """Itself: every report is a tuple of points (a comparison's variants, a sweep's
        points), so callers walk ``.reports`` whatever they were given."""
        return (self,)

    @property
    def totals(self) -> Totals:
        """Whole-network analytic figures."""
        return self.figures.totals

    @property
    def params(self) -> int:
        """Every learnable parameter, counted once."""
        return self.totals.params

    @property
    def macs(self) -> int:
        """Weight multiply-accumulates for the whole batch."""
        return self.totals.macs

    @property
    def flops(self) -> int:
        """2 x MACs."""
        return self.totals.flops

    @property
    def output_shape(self) -> Shape:
        """The network's output shape."""
        return self.totals.output_shape

    @property
    def layers(self) -> tuple[LayerFigures, ...]:
        """Per-node analytic figures, in execution order."""
        return self.figures.layers

    @property
    def notes(self) -> tuple[str, ...]:
        """What the builder decided for the user (channel rounding)."""
        return self.figures.network.notes

    def __repr__(self) -> str:
        verified = "not verified" if self.match is None else f"match={self.match}"
        return (
            f"<convcalc Report {self.command}"
            f"{': ' + self.kind if self.kind else ''}: params={self.params:,} "
            f"macs={self.macs:,} output={list(self.output_shape)} {verified}>"
        )

    def _repr_markdown_(self) -> str | None:
        """A notebook shows the table format as Markdown (``DISPLAYS``)."""
        return display(self, "markdown")  # type: ignore[no-any-return]

    def __rich__(self) -> Any:
        """Rich (and a notebook with rich's extension) shows the table format."""
        return display(self, "rich")

    @property
    def match(self) -> bool | None:
        """True when every check agreed; None when nothing was measured."""
        if self.measured is None:
            return None
        return all(check.ok for check in self.checks)

    @property
    def failed_checks(self) -> tuple[Check, ...]:
        """The checks that disagreed."""
        return tuple(check for check in self.checks if not check.ok)

    def check(self, figure: str) -> Check | None:
        """The check of one figure, if there is one (compared or not)."""
        return next((c for c in self.checks if c.figure == figure), None)

    def not_compared_lines(self) -> list[str]:
        """``not compared: a, b and 3 more: why``, one line per reason, for the tables
        (the JSON gives each check its own ``reason``); then each note of a comparison."""
        by_reason: dict[str, list[str]] = {}
        for check in not_compared(self.checks):
            by_reason.setdefault(check.reason, []).append(check.figure)
        lines = []
        for reason, names in by_reason.items():
            more = f" and {len(names) - 2} more" if len(names) > 2 else ""
            lines.append(f"not compared: {', '.join(names[:2])}{more}: {reason}")
        lines += [f"{c.figure}: {c.note}" for c in self.checks if c.note]
        return lines

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract (SPEC.md): schema, command, spec, analytic, measured, match, layers."""
        seen = {} if self.measured is None else self.measured.by_name()
        roof = roofline_of(self.figures)
        return {
            "schema": SCHEMA_VERSION,
            "command": self.command,
            "spec": self.spec,
            "analytic": analytic_dict(self.figures, self.kind),
            "measured": None if self.measured is None else self._measured_dict(self.measured),
            "match": self.match,
            "layers": [self._layer_dict(layer, seen, roof) for layer in self.figures.layers],
            **({} if self.baseline is None else self.baseline.to_dict()),
            **self._timing_dict(),
        }

    def _timing_dict(self) -> dict[str, Any]:
        """``timing`` (--measure-time: how it was timed, the whole pass beside its bound);
        each timed call's figures are in the ``layers`` entry of its first node."""
        if self.timing is None:
            return {}
        return {"timing": self.timed.to_dict()}

    @functools.cached_property
    def timed(self) -> Any:
        """The medians beside the roofline, per call and whole (core.count.timing.Timed),
        or None."""
        if self.timing is None:
            return None
        from convcalc.core.count.timing import timed

        return timed(self.figures, self.timing)

    def _layer_timing(self, index: int) -> Any:
        """A timed run's figures of node ``index`` (``--measure-time``)."""
        from convcalc.core.count.timing import layer_figures

        return layer_figures(self.timed, index)

    def _measured_dict(self, measured: Measurement) -> dict[str, Any]:
        return {
            "device": measured.device,
            "params": measured.params,
            "trainable_params": measured.trainable_params,
            "output_shape": list(measured.output_shape),
            "torchinfo_params": measured.torchinfo_params,
            "torchinfo_mult_adds": measured.torchinfo_mult_adds,
            "param_bytes": measured.param_bytes,
            "torchinfo_param_bytes": measured.torchinfo_param_bytes,
            "input_bytes": measured.input_bytes,
            "torchinfo_input_bytes": measured.torchinfo_input_bytes,
            "torchinfo_forward_backward_bytes": measured.torchinfo_forward_backward_bytes,
            "flop_counter_flops": measured.flop_counter_flops,
            **(
                {}
                if measured.flop_counter_training_flops is None
                else {"flop_counter_training_flops": measured.flop_counter_training_flops}
            ),
            "checks": [check.to_dict() for check in self.checks],
        }

    def _layer_dict(
        self, layer: LayerFigures, seen: dict[str, LayerMeasurement], roof: Roofline
    ) -> dict[str, Any]:
        m = seen.get(layer.name)
        measured = None
        if m is not None:
            measured = {
                "output_shape": list(m.output_shape),
                "params": m.params,
                "torchinfo_mult_adds": m.mult_adds,
            }
        entry: dict[str, Any] = {
            "index": layer.index,
            "name": layer.name,
            "type": layer.type,
            "description": layer.description,
            "input_shape": list(layer.input_shapes[0]),
            "output_shape": list(layer.output_shape),
            "params": layer.params,
            "params_breakdown": {
                "weights": layer.weights,
                "biases": layer.biases,
                "batchnorm": layer.batchnorm,
            },
            "macs": layer.macs,
            "flops": layer.flops,
            "bias_adds": layer.bias_adds,
            "elementwise_ops": layer.elementwise_ops,
            "elementwise": dict(layer.elementwise),
            "torchinfo_mult_adds": layer.torchinfo_mult_adds,
            "receptive_field": list(layer.receptive_field),
            "jump": jumps_json(layer.jump),
            "receptive_field_global": layer.field.whole,
            "formulas": {"params": layer.params_formula, "macs": layer.macs_formula},
            "shares_weights_of": layer.shares_weights_of,
            "measured": measured,
        }
        if self.timing is not None:  # --measure-time: the call's time, ratio, achieved rates
            entry.update(self._layer_timing(layer.index))
        # bytes moved, intensity; on a device the time bound and the bound (core/roofline)
        entry.update(roof.layers[layer.index].to_dict())
        return entry


def analytic_dict(figures: NetworkFigures, kind: str = "") -> dict[str, Any]:
    """The ``analytic`` object of the JSON contract."""
    totals = figures.totals
    batch = totals.batch
    result: dict[str, Any] = {
        "kind": kind,
        "params": totals.params,
        "trainable_params": totals.trainable_params,
        "non_trainable_params": totals.params - totals.trainable_params,
        "params_breakdown": {
            "weights": totals.weights,
            "biases": totals.biases,
            "batchnorm": totals.batchnorm,
        },
        "input_shape": list(totals.input_shape),
        "output_shape": list(totals.output_shape),
        "macs": totals.macs,
        "flops": totals.flops,
        "bias_adds": totals.bias_adds,
        "elementwise_ops": totals.elementwise_ops,
        "elementwise": dict(totals.elementwise),
        "torchinfo_mult_adds": totals.torchinfo_mult_adds,
        "memory": {
            "dtype": figures.dtype,
            "dtype_bytes": figures.dtype_bytes,
            "param_bytes": figures.param_bytes,
            "input_bytes": figures.input_bytes,
            "activation_bytes": figures.activation_bytes,
            "torchinfo_forward_backward_bytes": figures.torchinfo_forward_backward_bytes,
        },
        "receptive_field": list(totals.receptive_field),
        "jump": jumps_json(totals.jump),
        "receptive_field_global": totals.field.whole,
        "output_shapes": [list(shape) for shape in totals.output_shapes],
        "roofline": roofline_of(figures).to_dict(),  # bytes moved, intensity, the device's bound
        "not_counted": dict(totals.not_counted),  # op -> calls with no formula
        "partial": totals.partial,  # True: some work is in not_counted, not in the totals
        "per_sample": {
            "macs": per_sample(totals.macs, batch),
            "flops": per_sample(totals.flops, batch),
            "bias_adds": per_sample(totals.bias_adds, batch),
            "elementwise_ops": per_sample(totals.elementwise_ops, batch),
            "torchinfo_mult_adds": per_sample(totals.torchinfo_mult_adds, batch),
            "activation_bytes": per_sample(figures.activation_bytes, batch),
        },
    }
    op = figures.network.single_op
    if op is not None:
        result |= op.headline()
        result["formulas"] = {
            "params": figures.layers[0].params_formula,
            "macs": figures.layers[0].macs_formula,
        }
    return result


class CompareReport(Record):
    """``compare``: one report per variant, each with its ratios to the first (standard)."""

    spec: dict[str, Any]
    reports: tuple[Report, ...]

    @property
    def match(self) -> bool | None:
        """True when every variant's checks agreed; None when nothing was measured."""
        matches = [r.match for r in self.reports]
        return None if None in matches else all(matches)

    def ratios(self, report: Report) -> tuple[float | None, float | None]:
        """(params, MACs) of ``report`` over the standard variant's."""
        standard = self.reports[0].totals
        return ratio(report.params, standard.params), ratio(report.macs, standard.macs)

    def to_dict(self) -> dict[str, Any]:
        """One object whose ``variants`` hold one report each, with ``ratio_to_standard``."""
        variants = []
        for report in self.reports:
            entry = report.to_dict()
            entry["variant"] = report.figures.network.name
            params, macs = self.ratios(report)
            entry["ratio_to_standard"] = {"params": params, "macs": macs}
            variants.append(entry)
        return {
            "schema": SCHEMA_VERSION,
            "command": "compare",
            "spec": self.spec,
            "analytic": None,
            "measured": None,
            "match": self.match,
            "variants": variants,
        }

    def __repr__(self) -> str:
        names = ", ".join(r.figures.network.name for r in self.reports)
        return f"<convcalc CompareReport: {names}>"

    def _repr_markdown_(self) -> str | None:
        return display(self, "markdown")  # type: ignore[no-any-return]

    def __rich__(self) -> Any:
        return display(self, "rich")


class SweepReport(Record):
    """A network at several (width, resolution) points, with ratios to a reference point."""

    title: str
    reports: tuple[Report, ...]
    reference: NetworkFigures
    reference_point: dict[str, Any]

    @property
    def match(self) -> bool | None:
        """True when every point's checks agreed; None when nothing was measured."""
        matches = [r.match for r in self.reports]
        return None if None in matches else all(matches)

    def ratios(self, report: Report) -> tuple[float | None, float | None]:
        """(params, MACs) of ``report`` over the reference point's."""
        ref = self.reference.totals
        return ratio(report.params, ref.params), ratio(report.macs, ref.macs)

    def to_dict(self) -> list[dict[str, Any]]:
        """The JSON list: each point's full report plus its ``ratio_to_reference``."""
        documents = []
        for report in self.reports:
            entry = report.to_dict()
            params, macs = self.ratios(report)
            entry["ratio_to_reference"] = {
                "reference": self.reference_point,
                "params": params,
                "macs": macs,
            }
            documents.append(entry)
        return documents

    def __repr__(self) -> str:
        return f"<convcalc SweepReport {self.title}: {len(self.reports)} points>"

    def _repr_markdown_(self) -> str | None:
        return display(self, "markdown")  # type: ignore[no-any-return]

    def __rich__(self) -> Any:
        return display(self, "rich")
