"""Reports: the analytic figures, the measured ones, and the checks between them.

A ``Report`` is plain data: the CLI renders it, a notebook reads it, and
``to_dict`` is the JSON contract of SPEC.md (``schema`` bumps only on a
breaking change).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from convcalc.core.figures import LayerFigures, NetworkFigures, per_sample
from convcalc.core.primitives import Shape
from convcalc.core.shapes import effective_kernel

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class LayerMeasurement:
    """What torchinfo saw of one module call."""

    name: str
    output_shape: Shape
    params: int
    mult_adds: int


@dataclass(frozen=True)
class Measurement:
    """Figures read off the real module (plain data; produced by ``convcalc.measure``)."""

    device: str
    params: int
    trainable_params: int
    output_shape: Shape
    torchinfo_params: int
    torchinfo_mult_adds: int
    param_bytes: int
    input_bytes: int
    torchinfo_input_bytes: int  # the storage's size plus its Python object overhead: not compared
    torchinfo_forward_backward_bytes: int
    layers: tuple[LayerMeasurement, ...]
    flop_counter_flops: int | None = None


@dataclass(frozen=True)
class Check:
    """One compared figure."""

    figure: str
    analytic: Any
    measured: Any

    @property
    def ok(self) -> bool:
        """Exact agreement: every figure here is an integer or a shape."""
        return bool(self.analytic == self.measured)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "figure": self.figure,
            "analytic": _jsonable(self.analytic),
            "measured": _jsonable(self.measured),
            "match": self.ok,
        }


def build_checks(figures: NetworkFigures, measured: Measurement) -> tuple[Check, ...]:
    """Every figure both sides know, compared exactly, totals first then each layer."""
    totals = figures.totals
    checks = [
        Check("params", totals.params, measured.params),
        Check("trainable_params", totals.trainable_params, measured.trainable_params),
        Check("torchinfo_params", totals.params, measured.torchinfo_params),
        Check("output_shape", totals.output_shape, measured.output_shape),
        Check("torchinfo_mult_adds", totals.torchinfo_mult_adds, measured.torchinfo_mult_adds),
        Check("param_bytes", figures.param_bytes, measured.param_bytes),
        Check("input_bytes", figures.input_bytes, measured.input_bytes),
        Check(
            "torchinfo_forward_backward_bytes",
            figures.torchinfo_forward_backward_bytes,
            measured.torchinfo_forward_backward_bytes,
        ),
    ]
    if measured.flop_counter_flops is not None:
        checks.append(Check("flop_counter_flops", totals.flops, measured.flop_counter_flops))
    checks.append(Check("layer_count", len(figures.layers), len(measured.layers)))
    for layer, seen in zip(figures.layers, measured.layers, strict=False):
        checks.append(Check(f"{layer.name}.output_shape", layer.output_shape, seen.output_shape))
        checks.append(
            Check(f"{layer.name}.torchinfo_mult_adds", layer.torchinfo_mult_adds, seen.mult_adds)
        )
    return tuple(checks)


@dataclass(frozen=True)
class Report:
    """One computed (and perhaps verified) layer, block or network."""

    command: str
    spec: dict[str, Any]
    figures: NetworkFigures
    kind: str = ""
    measured: Measurement | None = None
    checks: tuple[Check, ...] = ()
    extras: dict[str, Any] = field(default_factory=dict)

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
        """The check of one figure, if it was compared."""
        return next((c for c in self.checks if c.figure == figure), None)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract (SPEC.md): schema, command, spec, analytic, measured, match, layers."""
        return {
            "schema": SCHEMA_VERSION,
            "command": self.command,
            "spec": self.spec,
            "analytic": analytic_dict(self.figures, self.kind),
            "measured": None if self.measured is None else self._measured_dict(self.measured),
            "match": self.match,
            "layers": [self._layer_dict(i, layer) for i, layer in enumerate(self.figures.layers)],
            **self.extras,
        }

    def _measured_dict(self, measured: Measurement) -> dict[str, Any]:
        return {
            "device": measured.device,
            "params": measured.params,
            "trainable_params": measured.trainable_params,
            "output_shape": list(measured.output_shape),
            "torchinfo_params": measured.torchinfo_params,
            "torchinfo_mult_adds": measured.torchinfo_mult_adds,
            "param_bytes": measured.param_bytes,
            "input_bytes": measured.input_bytes,
            "torchinfo_input_bytes": measured.torchinfo_input_bytes,
            "torchinfo_forward_backward_bytes": measured.torchinfo_forward_backward_bytes,
            "flop_counter_flops": measured.flop_counter_flops,
            "checks": [check.to_dict() for check in self.checks],
        }

    def _layer_dict(self, index: int, layer: LayerFigures) -> dict[str, Any]:
        seen = None
        if self.measured is not None and index < len(self.measured.layers):
            m = self.measured.layers[index]
            seen = {
                "output_shape": list(m.output_shape),
                "params": m.params,
                "torchinfo_mult_adds": m.mult_adds,
            }
        return {
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
            "flops": 2 * layer.macs,
            "bias_adds": layer.bias_adds,
            "elementwise_ops": layer.elementwise_ops,
            "elementwise": dict(layer.elementwise),
            "torchinfo_mult_adds": layer.torchinfo_mult_adds,
            "receptive_field": list(layer.receptive_field),
            "jump": list(layer.jump),
            "formulas": {"params": layer.params_formula, "macs": layer.macs_formula},
            "shares_weights_of": layer.shares_weights_of,
            "measured": seen,
        }


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
        "jump": list(totals.jump),
        "per_sample": {
            "macs": per_sample(totals.macs, batch),
            "flops": per_sample(totals.flops, batch),
            "bias_adds": per_sample(totals.bias_adds, batch),
            "elementwise_ops": per_sample(totals.elementwise_ops, batch),
            "torchinfo_mult_adds": per_sample(totals.torchinfo_mult_adds, batch),
            "activation_bytes": per_sample(figures.activation_bytes, batch),
        },
    }
    conv = figures.network.single_conv
    if conv is not None:
        result["effective_kernel"] = [
            effective_kernel(k, d) for k, d in zip(conv.kernel, conv.dilation, strict=True)
        ]
        result["formulas"] = {
            "params": figures.layers[0].params_formula,
            "macs": figures.layers[0].macs_formula,
        }
    return result


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
