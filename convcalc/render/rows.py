"""The rows every format shows, built once from a Report.

A row holds raw values (ints, shapes, text) and says how to format them; the
table, Markdown and CSV renderers only lay the rows out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from convcalc.core.figures import LayerFigures, Totals
from convcalc.core.primitives import Conv2d, fmt_int
from convcalc.core.report import Report
from convcalc.core.shapes import effective_kernel
from convcalc.render import units

Kind = Literal["count", "bytes", "shape", "text"]
NOT_COUNTED = "not counted by torchinfo"
MAX_TERMS = 6  # longer sums are summarised: the per-layer table has the terms


@dataclass(frozen=True)
class Row:
    """One figure: analytic and measured values, whether they matched, and the formula."""

    figure: str
    label: str
    analytic: Any
    measured: Any = None
    match: bool | None = None
    formula: str = ""
    kind: Kind = "count"

    def cell(self, value: Any, exact: bool) -> str:
        """A value formatted for a human table."""
        if value is None:
            return "-"
        if isinstance(value, str):
            return value
        if self.kind == "count":
            return units.count(int(value), exact)
        if self.kind == "bytes":
            return units.size(int(value), exact)
        if self.kind == "shape":
            return units.shape(value)
        return str(value)


def summary_rows(report: Report) -> list[Row]:
    """The totals of a report, one row per quantity."""
    fig = report.figures
    totals = fig.totals
    m = report.measured
    layers = fig.layers
    single_conv = _single_conv(report)
    dtype_note = f"{fig.dtype_bytes} B ({fig.dtype})"

    def match(figure: str) -> bool | None:
        check = report.check(figure)
        return None if check is None else check.ok

    def measured(value: Any) -> Any:
        return None if m is None else value

    rows = [
        Row(
            "params",
            "params",
            totals.params,
            measured(m and m.params),
            match("params"),
            layers[0].params_formula if single_conv else _params_sum(layers, totals),
        ),
        Row(
            "trainable_params",
            "trainable params",
            totals.trainable_params,
            measured(m and m.trainable_params),
            match("trainable_params"),
            f"non-trainable {totals.params - totals.trainable_params}",
        ),
        Row(
            "output_shape",
            "output shape",
            totals.output_shape,
            measured(m and m.output_shape),
            match("output_shape"),
            _output_formula(report) if single_conv else "",
            "shape",
        ),
        Row(
            "macs",
            "MACs",
            totals.macs,
            None if m is None or m.flop_counter_flops is None else m.flop_counter_flops // 2,
            match("flop_counter_flops"),
            layers[0].macs_formula if single_conv else _sum_formula(x.macs for x in layers),
        ),
        Row(
            "flops",
            "FLOPs (2 x MACs)",
            totals.flops,
            None
            if m is None
            else (m.flop_counter_flops if m.flop_counter_flops is not None else "--cross-check"),
            match("flop_counter_flops"),
            f"2 x {fmt_int(totals.macs)} = {fmt_int(totals.flops)}",
        ),
        Row(
            "bias_adds",
            "bias adds",
            totals.bias_adds,
            measured(NOT_COUNTED),
            None,
            f"N x Cout x Hout x Wout = {units.shape(totals.output_shape)}"
            if single_conv and totals.bias_adds
            else "one add per output element of a layer with bias",
        ),
    ]
    if totals.elementwise:
        rows.append(
            Row(
                "elementwise_ops",
                "element-wise ops",
                totals.elementwise_ops,
                measured(NOT_COUNTED),
                None,
                " + ".join(f"{k} {units.count(v)}" for k, v in totals.elementwise.items()),
            )
        )
    rows += [
        Row(
            "torchinfo_mult_adds",
            "torchinfo mult-adds",
            totals.torchinfo_mult_adds,
            measured(m and m.torchinfo_mult_adds),
            match("torchinfo_mult_adds"),
            _torchinfo_formula(report, single_conv),
        ),
        Row(
            "param_bytes",
            "param memory",
            fig.param_bytes,
            measured(m and m.param_bytes),
            match("param_bytes"),
            f"{fmt_int(totals.params)} x {dtype_note}",
            "bytes",
        ),
        Row(
            "input_bytes",
            "input memory",
            fig.input_bytes,
            measured(m and m.input_bytes),
            match("input_bytes"),
            f"{units.shape(totals.input_shape)} x {dtype_note}",
            "bytes",
        ),
        Row(
            "activation_bytes",
            "activation memory",
            fig.activation_bytes,
            None,
            None,
            f"{fmt_int(totals.activation_elements)} output elements x {dtype_note}",
            "bytes",
        ),
        Row(
            "torchinfo_forward_backward_bytes",
            "torchinfo fwd/bwd size",
            fig.torchinfo_forward_backward_bytes,
            measured(m and m.torchinfo_forward_backward_bytes),
            match("torchinfo_forward_backward_bytes"),
            f"2 x {fmt_int(totals.torchinfo_output_elements)} outputs of layers with params"
            f" x {dtype_note}",
            "bytes",
        ),
    ]
    if single_conv:
        conv = _conv(report)
        k_eff = [effective_kernel(k, d) for k, d in zip(conv.kernel, conv.dilation, strict=True)]
        rows.append(
            Row(
                "effective_kernel",
                "effective kernel",
                "x".join(map(str, k_eff)),
                None,
                None,
                "d x (k - 1) + 1: "
                + ", ".join(
                    f"{d} x ({k} - 1) + 1 = {e}"
                    for k, d, e in zip(conv.kernel, conv.dilation, k_eff, strict=True)
                ),
                "text",
            )
        )
    rows += _versus_standard_rows(report)
    rows.append(
        Row(
            "receptive_field",
            "receptive field / jump",
            f"{_hw(totals.receptive_field)} / {_hw(totals.jump)}",
            None,
            None,
            "r += (k_eff - 1) x j, j *= s, layer by layer",
            "text",
        )
    )
    return rows


SHORT_KIND = {
    "Conv2d": "conv",
    "Linear": "linear",
    "BatchNorm2d": "bn",
    "GlobalPool": "pool",
    "ChannelPool": "channel pool",
    "GateMultiply": "x * gate",
}


def _short(layer: LayerFigures) -> str:
    if layer.type == "Activation":
        return layer.description
    if layer.type == "Add":
        return "+ residual" if "residual" in "".join(layer.elementwise) else "add"
    return SHORT_KIND.get(layer.type, layer.type)


def layer_rows(report: Report) -> list[dict[str, Any]]:
    """One dict per displayed row (a node, or a conv with its BN and activation).

    Holds the analytic figures, torchinfo's per-call figures summed over the
    row, and whether every per-node check in it agreed.
    """
    groups: dict[str, list[LayerFigures]] = {}
    for layer in report.figures.layers:
        groups.setdefault(layer.group or layer.name, []).append(layer)
    total_macs = report.figures.totals.macs
    measured_layers = report.measured.layers if report.measured is not None else ()
    rows = []
    for index, (name, members) in enumerate(groups.items()):
        first, last = members[0], members[-1]
        main = next((x for x in members if x.type in ("Conv2d", "Linear")), first)
        seen = [measured_layers[x.index] for x in members if x.index < len(measured_layers)]
        ok: bool | None = None
        if report.measured is not None:
            checks = [
                report.check(f"{x.name}.{figure}")
                for x in members
                for figure in ("output_shape", "torchinfo_mult_adds")
            ]
            ok = all(c is not None and c.ok for c in checks)
        macs = sum(x.macs for x in members)
        shared = [x.shares_weights_of for x in members if x.shares_weights_of]
        rows.append(
            {
                "index": index,
                "name": name,
                "type": " + ".join(_short(x) for x in members),
                "description": main.description,
                "channels": f"{first.input_shapes[0][1]} -> {last.output_shape[1]}",
                "output": _hw(last.output_shape[2:])
                if len(last.output_shape) == 4
                else units.shape(last.output_shape[1:]),
                "output_shape": last.output_shape,
                "params": sum(x.params for x in members),
                "macs": macs,
                "share": macs / total_macs if total_macs else 0.0,
                "elementwise_ops": sum(x.elementwise_ops for x in members),
                "torchinfo_mult_adds": sum(x.torchinfo_mult_adds for x in members),
                "receptive_field": _hw(last.receptive_field),
                "measured_output_shape": seen[-1].output_shape if seen else None,
                "measured_mult_adds": sum(x.mult_adds for x in seen) if seen else None,
                "match": ok,
                "params_formula": " + ".join(x.params_formula for x in members if x.params),
                "macs_formula": " + ".join(x.macs_formula for x in members if x.macs),
                "shared": ", ".join(shared)
                if shared and not any(x.params for x in members)
                else None,
            }
        )
    return rows


def _versus_standard_rows(report: Report) -> list[Row]:
    """For separable and spatial: the standard k x k beside, with the ratios."""
    standard = report.extras.get("standard")
    if standard is None:
        return []
    totals = report.figures.totals
    ratios = report.extras["ratio_to_standard"]
    rows = [
        Row(
            "standard_params",
            "standard k x k params",
            standard["params"],
            formula=f"this block {fmt_int(totals.params)} = {ratios['params']:.3f}x standard",
        ),
        Row(
            "standard_macs",
            "standard k x k MACs",
            standard["macs"],
            formula=f"this block {fmt_int(totals.macs)} = {ratios['macs']:.3f}x standard",
        ),
    ]
    theory = report.extras.get("ratio_theory")
    if theory is not None:
        rows.append(
            Row(
                "ratio_theory",
                "MACs ratio, theory",
                f"{theory['value']:.3f}x",
                formula=f"{theory['formula']} (stride 1, same padding, no bias)",
                kind="text",
            )
        )
    return rows


def _torchinfo_formula(report: Report, single_conv: bool) -> str:
    """torchinfo's rule with the numbers in, for one conv; the rule itself otherwise."""
    if not single_conv:
        return "torchinfo's rule: conv params x N x Hout x Wout, other layers params x N"
    layer = report.figures.layers[0]
    n, _, h, w = layer.output_shape
    text = f"({fmt_int(layer.weights)} + {fmt_int(layer.biases)}) x {n} x {h} x {w}"
    if _shared(report):
        return f"{text}: the shared kernel's own params, not its MACs"
    return f"{text} = MACs + bias adds"


def _single_conv(report: Report) -> bool:
    return report.figures.network.single_conv is not None


def _conv(report: Report) -> Conv2d:
    conv = report.figures.network.single_conv
    assert conv is not None
    return conv


def _shared(report: Report) -> bool:
    return _conv(report).shared_kernel


def _params_sum(layers: tuple[LayerFigures, ...], totals: Totals) -> str:
    parts = [x.params for x in layers if x.params]
    if len(parts) <= MAX_TERMS:
        return _sum_formula(parts)
    return (
        f"weights {fmt_int(totals.weights)} + biases {fmt_int(totals.biases)} + batchnorm "
        f"{fmt_int(totals.batchnorm)} = {fmt_int(totals.params)}"
    )


def _sum_formula(values: Any) -> str:
    parts = [v for v in values if v]
    if len(parts) < 2:
        return ""
    if len(parts) > MAX_TERMS:
        return f"sum of {len(parts)} layers (per-layer table) = {fmt_int(sum(parts))}"
    return f"{' + '.join(fmt_int(v) for v in parts)} = {fmt_int(sum(parts))}"


def _output_formula(report: Report) -> str:
    conv = _conv(report)
    _, _, h, w = report.figures.totals.input_shape
    out = report.figures.totals.output_shape
    if conv.padding == "same":
        return f"padding=same keeps {h} x {w} (stride 1)"
    parts = []
    for axis, size in enumerate((h, w)):
        k, s, p, d = conv.kernel[axis], conv.stride[axis], conv.padding[axis], conv.dilation[axis]
        parts.append(f"floor(({size} + 2x{p} - {d}x({k}-1) - 1) / {s}) + 1 = {out[2 + axis]}")
    return "; ".join(parts) if parts[0] != parts[1] else parts[0]


def _hw(pair: Any) -> str:
    a, b = pair
    return f"{a}x{b}"
