"""The rows every format shows, built once from a Report.

A row holds raw values (ints, shapes, text) and says how to format them; the
table, Markdown and CSV renderers only lay the rows out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, cast

from convcalc.core.figures import ELEMENT_BYTES, LayerFigures, NetworkFigures, Totals
from convcalc.core.primitives import Primitive, fmt_int
from convcalc.core.report import CompareReport, Report
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


def _input_formula(fig: NetworkFigures, dtype_note: str) -> str:
    """``1 x 128 x 8 B (int64)``: each input by its own dtype (a read model's), else the
    one input in the run's dtype."""
    if not fig.network.inputs:
        return f"{units.shape(fig.totals.input_shape)} x {dtype_note}"
    return " + ".join(
        f"{units.shape(shape) or 'scalar'} x {ELEMENT_BYTES[dtype]} B ({dtype})"
        for shape, dtype in fig.network.inputs
    )


def summary_rows(report: Report) -> list[Row]:
    """The totals of a report, one row per quantity."""
    fig = report.figures
    totals = fig.totals
    m = report.measured
    layers = fig.layers
    op = fig.network.single_op
    single = op is not None
    dtype_note = f"{fig.dtype_bytes} B ({fig.dtype})"

    def match(figure: str) -> bool | None:
        check = report.check(figure)
        return None if check is None else check.verdict  # None: not compared

    def measured(value: Any) -> Any:
        return None if m is None else value

    rows = [
        Row(
            "params",
            "params",
            totals.params,
            measured(m and m.params),
            match("params"),
            layers[0].params_formula if single else _params_sum(layers, totals),
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
            _output_formula(op, totals) if op is not None else "",
            "shape",
        ),
        Row(
            "macs",
            "MACs",
            totals.macs,
            None if m is None or m.flop_counter_flops is None else m.flop_counter_flops // 2,
            match("flop_counter_flops"),
            layers[0].macs_formula if single else _sum_formula(x.macs for x in layers),
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
            if single and totals.bias_adds
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
    if totals.not_counted:
        rows.append(
            Row(
                "not_counted",
                "not counted (no formula)",
                f"{sum(totals.not_counted.values())} calls",
                None,
                None,
                "totals are partial: "
                + ", ".join(f"{op} x{n}" for op, n in totals.not_counted.items()),
                "text",
            )
        )
    rows += [
        Row(
            "torchinfo_mult_adds",
            "torchinfo mult-adds",
            totals.torchinfo_mult_adds,
            measured(m and m.torchinfo_mult_adds),
            match("torchinfo_mult_adds"),
            _torchinfo_formula(op, totals),
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
            _input_formula(fig, dtype_note),
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
    if op is not None:
        rows += _headline_rows(op)
    rows += _versus_standard_rows(report)
    rows.append(
        Row(
            "receptive_field",
            "receptive field / jump",
            f"{_field(totals.receptive_field, totals.field.whole)} / {_hw(totals.jump)}",
            None,
            None,
            "r += (k_eff - 1) x j, j *= s, layer by layer"
            + (
                "; after upsampling (j /= s): the widest unit of the exact read pattern"
                if totals.field.exact
                else ""
            )
            + ("; global: each unit has seen the whole input" if totals.field.whole else ""),
            "text",
        )
    )
    return rows


def module_path(layer: LayerFigures) -> str:
    """The module a node ran in: its row's name without the op (``:add``) or call
    (``@2``, ``#2``) suffixes."""
    row = layer.group or layer.name
    return row.split(":")[0].split("@")[0].split("#")[0].removesuffix(" (not run)")


def layer_rows(
    report: Report, *, depth: int | None = None, top: int | None = None
) -> list[dict[str, Any]]:
    """One dict per displayed row (a node, or a conv with its BN and activation; with
    ``depth``, every node of a module N levels deep; with ``top``, the K rows with the
    most MACs, costliest first).

    Holds the analytic figures, torchinfo's per-call figures summed over the
    row, and whether every check of the row's module calls agreed.
    """
    layers = report.figures.layers
    groups = _calls_folded(layers, depth) if depth is not None else _calls(layers)
    total_macs = report.figures.totals.macs
    measured_layers = report.measured.by_name() if report.measured is not None else {}
    rows = []
    for index, (name, members) in enumerate(groups.items()):
        first, last = members[0], members[-1]
        main = next((x for x in members if x.weights), first)  # the conv, not its BN
        calls = list(dict.fromkeys(x.torch_call for x in members if x.torch_call))
        seen = [measured_layers[c] for c in calls if c in measured_layers]
        ok: bool | None = None
        if report.measured is not None:
            checks = [
                report.check(f"{call}.{figure}")
                for call in calls
                for figure in ("output_shape", "torchinfo_mult_adds")
            ]
            # A figure not compared (an op with no formula) is neither a match nor a miss.
            compared = [c for c in checks if c is not None and c.is_compared]
            ok = all(c.ok for c in compared) if compared else None
        macs = sum(x.macs for x in members)
        shared = [x.shares_weights_of for x in members if x.shares_weights_of]
        rows.append(
            {
                "index": index,
                "name": name,
                "type": _types(members),
                "description": main.description,
                "channels": in_out(first.input_shapes[0], last.output_shape),
                "output": _hw(last.output_shape[2:])
                if len(last.output_shape) in IMAGE_RANKS
                else _hw(last.output_shape[1:]),
                "output_shape": last.output_shape,
                "params": sum(x.params for x in members),
                "macs": macs,
                "share": macs / total_macs if total_macs else 0.0,
                "elementwise_ops": sum(x.elementwise_ops for x in members),
                "torchinfo_mult_adds": sum(x.torchinfo_mult_adds for x in members),
                "receptive_field": _field(last.receptive_field, last.field.whole),
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
    if top is not None:
        rows = sorted(rows, key=lambda row: -cast(int, row["macs"]))[:top]
    return rows


READABLE_ROWS = 60  # a per-layer table longer than this is folded by default (`model`)


def readable_depth(report: Report, limit: int = READABLE_ROWS) -> int | None:
    """The deepest module depth (the most detail) whose folded table has at most ``limit``
    rows, or None when every layer already fits (or no folding helps)."""
    rows = len(layer_rows(report))
    if rows <= limit:
        return None
    best = None
    for depth in range(1, 8):
        folded = len(layer_rows(report, depth=depth))
        if folded > limit:
            break
        best = depth
        if folded == rows:
            break
    return best


def rows_title(rows: list[dict[str, Any]], depth: int | None, top: int | None) -> str:
    """What the per-layer table shows: every layer, folded, or the costliest."""
    if top is not None:
        return f"the {len(rows)} layers with the most MACs"
    if depth is not None:
        return f"per module, {depth} level{'s' if depth > 1 else ''} deep ({len(rows)} rows)"
    return f"per layer ({len(rows)} rows)"


IMAGE_RANKS = (4, 5)  # N x C x H x W and N x C x D x H x W: channels first, then space


def in_out(before: tuple[int, ...], after: tuple[int, ...]) -> str:
    """A row's ``in -> out``: the channels of images and videos (the output column has
    their spatial sizes); any other tensor by its whole shape after the batch, so a
    Linear on 77 tokens of 512 reads ``77x512 -> 77x256``, not ``77 -> 77``."""
    if len(before) in IMAGE_RANKS and len(after) in IMAGE_RANKS:
        return f"{before[1]} -> {after[1]}"
    return f"{_hw(before[1:]) or '-'} -> {_hw(after[1:]) or '-'}"


def _calls(layers: tuple[LayerFigures, ...]) -> dict[str, list[LayerFigures]]:
    """Each module call (a conv with its bias add) or node on its own row."""
    groups: dict[str, list[LayerFigures]] = {}
    for layer in layers:
        groups.setdefault(layer.group or layer.name, []).append(layer)
    return groups


def _call_site(layer: LayerFigures) -> str:
    """The row a node belongs to without its call number: ``body.0@2`` -> ``body.0``."""
    return _CALL_NUMBER.sub("", layer.group or layer.name)


_CALL_NUMBER = re.compile(r"[@#][0-9]+")


def _calls_folded(layers: tuple[LayerFigures, ...], depth: int) -> dict[str, list[LayerFigures]]:
    """Nodes folded into their modules ``depth`` levels deep, one row per call of a module.

    A module's nodes run one after another, so a row is a run of nodes in the same
    module; a run ends where the module is left, or where its first node runs again
    (the module called a second time: ``x = body(body(x))``). A module's second call
    is the row ``body@2``. Every node sits in exactly one row, so rows sum to totals.
    """
    groups: dict[str, list[LayerFigures]] = {}
    runs: dict[str, int] = {}
    current: list[LayerFigures] | None = None
    current_key = ""
    for layer in layers:
        key = ".".join(module_path(layer).split(".")[:depth]) or "(model)"
        if current is not None and key == current_key:
            first = current[0]
            again = (layer.group or layer.name) != (first.group or first.name)
            if not (again and _call_site(layer) == _call_site(first)):
                current.append(layer)
                continue
        runs[key] = runs.get(key, 0) + 1
        current, current_key = [layer], key
        groups[key if runs[key] == 1 else f"{key}@{runs[key]}"] = current
    return groups


def _types(members: list[LayerFigures]) -> str:
    """The ops of a row: each (conv + bn + relu), or the distinct ones of a long row."""
    # A residual add labels itself "+ residual"; joined, it reads "conv + bn + residual".
    labels = [x.label.removeprefix("+ ") for x in members if x.label]
    if len(labels) <= 4:
        return " + ".join(labels)
    distinct = list(dict.fromkeys(labels))
    shown = ", ".join(distinct[:3]) + (", ..." if len(distinct) > 3 else "")
    return f"{len(labels)} ops: {shown}"


def _headline_rows(op: Primitive) -> list[Row]:
    """The figures a one-op network adds (a conv's effective kernel), with their formula."""
    return [
        Row(figure, label, value, formula=formula, kind="text")
        for figure, label, value, formula in op.headline_text()
    ]


def _versus_standard_rows(report: Report) -> list[Row]:
    """For separable and spatial: the standard k x k beside, with the ratios."""
    baseline = report.baseline
    if baseline is None:
        return []
    totals = report.figures.totals
    rows = [
        Row(
            "standard_params",
            "standard k x k params",
            baseline.params,
            formula=f"this block {fmt_int(totals.params)} = "
            f"{units.ratio(totals.params, baseline.params)} standard",
        ),
        Row(
            "standard_macs",
            "standard k x k MACs",
            baseline.macs,
            formula=f"this block {fmt_int(totals.macs)} = "
            f"{units.ratio(totals.macs, baseline.macs)} standard",
        ),
    ]
    theory = baseline.theory
    if theory is not None:
        rows.append(
            Row(
                "ratio_theory",
                "MACs ratio, theory",
                f"{theory.value:.3f}x",
                formula=f"{theory.formula} (stride 1, same padding, no bias)",
                kind="text",
            )
        )
    return rows


def _torchinfo_formula(op: Primitive | None, totals: Totals) -> str:
    """torchinfo's rule with the numbers in, for one op; the rule itself otherwise."""
    if op is None:
        return "torchinfo's rule: conv params x N x Hout x Wout, other layers params x N"
    return op.torchinfo_formula(totals.output_shape)


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
        return f"sum of the {len(parts)} layers with MACs (per-layer table) = {fmt_int(sum(parts))}"
    return f"{' + '.join(fmt_int(v) for v in parts)} = {fmt_int(sum(parts))}"


def _output_formula(op: Primitive, totals: Totals) -> str:
    return op.shape_formula((totals.input_shape,), totals.output_shape)


def _hw(sizes: Any) -> str:
    """Sizes per spatial axis: 32x32, 16x112x112, or 64."""
    return "x".join(str(size) for size in sizes)


def _field(pair: Any, whole: bool) -> str:
    return f"{_hw(pair)} global" if whole else _hw(pair)


COMPARE_HEADER = ("variant", "kind", "params", "x std", "MACs", "x std", "output")


def compare_cells(comparison: CompareReport, report: Report, exact: bool) -> list[str]:
    """One variant's cells under ``COMPARE_HEADER``, with its ratios to the standard."""
    params, macs = comparison.ratios(report)
    return [
        report.figures.network.name,
        report.kind,
        units.count(report.params, exact),
        units.times(params),
        units.count(report.macs, exact),
        units.times(macs),
        units.shape(report.output_shape),
    ]
