"""The rows every format shows, built once from a Report.

A row holds raw values (ints, shapes, text) and says how to format them; the
table, Markdown and CSV renderers only lay the rows out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal, cast

from convcalc.core.count.figures import ELEMENT_BYTES, LayerFigures, NetworkFigures, Totals
from convcalc.core.count.timing import row_figures
from convcalc.core.count.traffic import roofline_of
from convcalc.core.documents.catalogue import CATALOGUE, Figure
from convcalc.core.documents.report import CompareReport, Report, analytic_dict
from convcalc.core.ops.primitives import Primitive, fmt_int
from convcalc.core.values.record import Record
from convcalc.render import units

Kind = Literal["count", "bytes", "shape", "text", "number", "seconds", "share"]
NOT_COUNTED = "not counted by torchinfo"
MAX_TERMS = 6  # longer sums are summarised: the per-layer table has the terms


class Row(Record):
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
        if self.kind == "number":  # a ratio; an exact quotient past a float's range in full
            return units.count(value, True) if isinstance(value, int) else f"{value:,.4g}"
        if self.kind == "seconds":
            from convcalc.core.count.traffic import seconds

            return seconds(value)
        if self.kind == "share":
            return f"{value:.1%}"
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
    """The totals of a report: a row per figure of the catalogue (core.documents.catalogue), in its
    order, then what only a table shows (torchinfo's memory estimate, work with no
    formula, a single op's headline, the standard k x k beside, the receptive field).

    ``FIGURE_ROWS`` adds a figure's formula and its measured side; a figure it does not
    name is shown by its catalogue words, its value read from the document.
    """
    summary = _Summary(report)
    rows = []
    for figure in CATALOGUE:
        shown = FIGURE_ROWS.get(figure.name)
        row = shown(summary) if shown is not None else summary.plain(figure)
        if row is not None:
            rows.append(row)
    return rows + summary.extras()


class _Summary:
    """One report's summary rows: each figure's analytic value, measured value, check and
    formula (with the numbers filled in)."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.fig = report.figures
        self.totals = report.figures.totals
        self.m = report.measured
        self.layers = report.figures.layers
        self.op = report.figures.network.single_op
        self.dtype_note = f"{self.fig.dtype_bytes} B ({self.fig.dtype})"

    def match(self, figure: str) -> bool | None:
        check = self.report.check(figure)
        return None if check is None else check.verdict  # None: not compared

    def measured(self, value: Any) -> Any:
        return None if self.m is None else value

    def plain(self, figure: Figure) -> Row:
        """A figure no rule names: its catalogue words, its value from the document, the
        measurement's own value and check of that name where there is one."""
        kind: Kind = (
            "shape" if figure.kind == "shape" else "bytes" if figure.unit == "bytes" else "count"
        )
        return Row(
            figure.name,
            figure.words,
            figure.read(analytic_dict(self.fig)),
            self.measured(getattr(self.m, figure.name, None)),
            self.match(figure.name),
            kind=kind,
        )

    def params(self) -> Row:
        t, m = self.totals, self.m
        formula = self.layers[0].params_formula if self.op else _params_sum(self.layers, t)
        return Row("params", "params", t.params, self.measured(m and m.params),
                   self.match("params"), formula)  # fmt: skip

    def trainable_params(self) -> Row:
        t, m = self.totals, self.m
        return Row("trainable_params", "trainable params", t.trainable_params,
                   self.measured(m and m.trainable_params), self.match("trainable_params"),
                   f"non-trainable {t.params - t.trainable_params}")  # fmt: skip

    def output_shape(self) -> Row:
        t, m, op = self.totals, self.m, self.op
        formula = _output_formula(op, t) if op is not None else ""
        return Row("output_shape", "output shape", t.output_shape,
                   self.measured(m and m.output_shape), self.match("output_shape"), formula,
                   "shape")  # fmt: skip

    def macs(self) -> Row:
        t, m = self.totals, self.m
        counted = None if m is None or m.flop_counter_flops is None else m.flop_counter_flops // 2
        formula = (
            self.layers[0].macs_formula if self.op else _sum_formula(x.macs for x in self.layers)
        )
        return Row("macs", "MACs", t.macs, counted, self.match("flop_counter_flops"), formula)

    def flops(self) -> Row:
        t, m = self.totals, self.m
        counted = None if m is None else m.flop_counter_flops
        return Row("flops", "FLOPs (2 x MACs)", t.flops,
                   self.measured("--cross-check" if counted is None else counted),
                   self.match("flop_counter_flops"),
                   f"2 x {fmt_int(t.macs)} = {fmt_int(t.flops)}")  # fmt: skip

    def bias_adds(self) -> Row:
        t = self.totals
        formula = "one add per output element of a layer with bias"
        if self.op and t.bias_adds:
            formula = f"N x Cout x Hout x Wout = {units.shape(t.output_shape)}"
        return Row("bias_adds", "bias adds", t.bias_adds, self.measured(NOT_COUNTED), None, formula)

    def elementwise_ops(self) -> Row | None:
        t = self.totals
        if not t.elementwise:
            return None
        kinds = " + ".join(f"{k} {units.count(v)}" for k, v in t.elementwise.items())
        return Row("elementwise_ops", "element-wise ops", t.elementwise_ops,
                   self.measured(NOT_COUNTED), None, kinds)  # fmt: skip

    def torchinfo_mult_adds(self) -> Row:
        t, m = self.totals, self.m
        return Row("torchinfo_mult_adds", "torchinfo mult-adds", t.torchinfo_mult_adds,
                   self.measured(m and m.torchinfo_mult_adds), self.match("torchinfo_mult_adds"),
                   _torchinfo_formula(self.op, t))  # fmt: skip

    def param_bytes(self) -> Row:
        m = self.m
        return Row("param_bytes", "param memory", self.fig.param_bytes,
                   self.measured(m and m.param_bytes), self.match("param_bytes"),
                   f"{fmt_int(self.totals.params)} x {self.dtype_note}", "bytes")  # fmt: skip

    def input_bytes(self) -> Row:
        m = self.m
        return Row("input_bytes", "input memory", self.fig.input_bytes,
                   self.measured(m and m.input_bytes), self.match("input_bytes"),
                   _input_formula(self.fig, self.dtype_note), "bytes")  # fmt: skip

    def activation_bytes(self) -> Row:
        elements = fmt_int(self.totals.activation_elements)
        return Row("activation_bytes", "activation memory", self.fig.activation_bytes, None, None,
                   f"{elements} output elements x {self.dtype_note}", "bytes")  # fmt: skip

    # The roofline (core/roofline): shown where the run asked for a device or fusion; the
    # JSON document always has bytes moved and intensity.
    def _roofline(self) -> Any:
        options = self.fig.roofline_options
        return roofline_of(self.fig) if options is not None and options.shown else None

    def _single(self) -> Any:
        roofline = self._roofline()
        return roofline.layer(0) if roofline is not None and self.op is not None else None

    def bytes_moved(self) -> Row | None:
        roofline = self._roofline()
        if roofline is None:
            return None
        return Row("bytes_moved", "bytes moved", roofline.bytes_moved,
                   formula=roofline.bytes_formula(self._single()), kind="bytes")  # fmt: skip

    def arithmetic_intensity(self) -> Row | None:
        roofline = self._roofline()
        if roofline is None:
            return None
        return Row("arithmetic_intensity", "intensity (FLOPs/B)", roofline.intensity,
                   formula=roofline.intensity_formula(roofline.flops, roofline.bytes_moved),
                   kind="number")  # fmt: skip

    def ridge_point(self) -> Row | None:
        roofline = self._roofline()
        if roofline is None or roofline.ridge is None:
            return None
        return Row("ridge_point", "ridge point (FLOPs/B)", roofline.ridge,
                   formula=roofline.ridge_formula(), kind="number")  # fmt: skip

    def bound(self) -> Row | None:
        roofline = self._roofline()
        if roofline is None or roofline.bound is None:
            return None
        single = self._single()
        formula = roofline.bound_formula(single) if single is not None else ""
        if not formula:
            share = roofline.memory_share or 0.0
            formula = f"{share:.1%} of the bound in memory-bound layers " + (
                ">= 50%" if roofline.bound == "memory" else "< 50%"
            )
        return Row("bound", "bound", roofline.bound, formula=formula, kind="text")

    def time_bound(self) -> Row | None:
        roofline = self._roofline()
        if roofline is None or roofline.time is None:
            return None
        return Row("time_bound", "time, lower bound", roofline.time,
                   formula=roofline.time_formula(self._single()), kind="seconds")  # fmt: skip

    # --measure-time (core/count/timing.py): the measured side, beside the bound above.
    def _timed(self) -> Any:
        return self.report.timed

    def measured_time(self) -> Row | None:
        timed = self._timed()
        if timed is None:
            return None
        t, whole = timed.timing, timed.whole
        on = f", {t.threads} thread{'s' if t.threads != 1 else ''}" if t.threads else ""
        formula = (
            f"median of {t.repeats} passes after {t.warmup} warm-up, {t.clock} on {t.device}"
            f"{on}; {len(timed.calls)} layers timed inside the pass"
        )
        return Row("measured_time", "time, measured", None, whole.measured,
                   None if whole.bound is None else not whole.below_bound, formula,
                   kind="seconds")  # fmt: skip

    def time_ratio(self) -> Row | None:
        timed = self._timed()
        if timed is None or timed.whole.ratio is None:
            return None
        from convcalc.core.count.traffic import seconds

        whole = timed.whole
        formula = f"{seconds(whole.measured)} / {seconds(whole.bound)} = {whole.ratio:,.3g}"
        if timed.below_bound:
            formula += f"; {len(timed.below_bound)} faster than the bound: the spec is wrong"
        return Row("time_ratio", "measured / bound", None, whole.ratio,
                   not timed.below_bound, formula, kind="number")  # fmt: skip

    def achieved_flops(self) -> Row | None:
        timed = self._timed()
        if timed is None or timed.whole.achieved_flops is None:
            return None
        from convcalc.core.count.traffic import rate, seconds

        whole = timed.whole
        return Row("achieved_flops", "achieved FLOP/s", None,
                   rate(whole.achieved_flops or 0.0, "FLOP/s"), None,
                   f"{fmt_int(whole.flops)} FLOPs / {seconds(whole.measured)}",
                   kind="text")  # fmt: skip

    def achieved_bandwidth(self) -> Row | None:
        timed = self._timed()
        if timed is None or timed.whole.achieved_bandwidth is None:
            return None
        from convcalc.core.count.traffic import rate, seconds

        whole = timed.whole
        return Row("achieved_bandwidth", "achieved bytes/s", None,
                   rate(whole.achieved_bandwidth or 0.0, "B/s"), None,
                   f"{fmt_int(whole.bytes_moved)} B moved / {seconds(whole.measured)}",
                   kind="text")  # fmt: skip

    def memory_bound_share(self) -> Row | None:
        roofline = self._roofline()
        if roofline is None or roofline.memory_share is None or self.op is not None:
            return None
        return Row("memory_bound_share", "memory-bound share", roofline.memory_share,
                   formula=roofline.share_formula(), kind="share")  # fmt: skip

    def extras(self) -> list[Row]:
        """The rows of what is not a figure of the document's contract."""
        t, m = self.totals, self.m
        rows = [
            Row("torchinfo_forward_backward_bytes", "torchinfo fwd/bwd size",
                self.fig.torchinfo_forward_backward_bytes,
                self.measured(m and m.torchinfo_forward_backward_bytes),
                self.match("torchinfo_forward_backward_bytes"),
                f"2 x {fmt_int(t.torchinfo_output_elements)} outputs of layers with params"
                f" x {self.dtype_note}", "bytes"),
        ]  # fmt: skip
        if t.not_counted:
            rows.append(Row("not_counted", "not counted (no formula)",
                            f"{sum(t.not_counted.values())} calls", None, None,
                            "totals are partial: "
                            + ", ".join(f"{op} x{n}" for op, n in t.not_counted.items()),
                            "text"))  # fmt: skip
        if self.op is not None:
            rows += _headline_rows(self.op)
        rows += _versus_standard_rows(self.report)
        field = "r += (k_eff - 1) x j, j *= s, layer by layer"
        if t.field.exact:
            field += "; after upsampling (j /= s): the widest unit of the exact read pattern"
        if t.field.whole:
            field += "; global: each unit has seen the whole input"
        rows.append(Row("receptive_field", "receptive field / jump",
                        f"{_field(t.receptive_field, t.field.whole)} / {_hw(t.jump)}",
                        None, None, field, "text"))  # fmt: skip
        return rows


# Figures of the catalogue shown with their formula and measured side (the rest: _Summary.plain).
FIGURE_ROWS: dict[str, Callable[[_Summary], Row | None]] = {
    "params": _Summary.params,
    "trainable_params": _Summary.trainable_params,
    "output_shape": _Summary.output_shape,
    "macs": _Summary.macs,
    "flops": _Summary.flops,
    "bias_adds": _Summary.bias_adds,
    "elementwise_ops": _Summary.elementwise_ops,
    "torchinfo_mult_adds": _Summary.torchinfo_mult_adds,
    "param_bytes": _Summary.param_bytes,
    "input_bytes": _Summary.input_bytes,
    "activation_bytes": _Summary.activation_bytes,
    "bytes_moved": _Summary.bytes_moved,
    "arithmetic_intensity": _Summary.arithmetic_intensity,
    "ridge_point": _Summary.ridge_point,
    "bound": _Summary.bound,
    "time_bound": _Summary.time_bound,
    "memory_bound_share": _Summary.memory_bound_share,
    "measured_time": _Summary.measured_time,
    "time_ratio": _Summary.time_ratio,
    "achieved_flops": _Summary.achieved_flops,
    "achieved_bandwidth": _Summary.achieved_bandwidth,
}


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
        figures = layer_figures(members, report.figures)
        # --measure-time: the row's timed calls (core/count/timing.py)
        figures |= row_figures(report.timed, [x.index for x in members])
        macs = figures["macs"]
        shared = [x.shares_weights_of for x in members if x.shares_weights_of]
        rows.append(
            {
                **figures,
                "index": index,
                "name": name,
                "type": _types(members),
                "description": main.description,
                "channels": in_out(first.input_shapes[0], last.output_shape),
                "output": _hw(last.output_shape[2:])
                if len(last.output_shape) in IMAGE_RANKS
                else _hw(last.output_shape[1:]),
                "share": macs / total_macs if total_macs else 0.0,
                "receptive_field": _field(last.receptive_field, last.field.whole),
                "measured_output_shape": seen[-1].output_shape if seen else None,
                "measured_mult_adds": sum(x.mult_adds for x in seen) if seen else None,
                "match": ok,
                "params_formula": " + ".join(x.params_formula for x in members if x.params),
                "macs_formula": " + ".join(x.macs_formula for x in members if x.macs),
                "layer_figures": tuple(figures),
                "shared": ", ".join(shared)
                if shared and not any(x.params for x in members)
                else None,
            }
        )
    if top is not None:
        rows = sorted(rows, key=lambda row: -cast(int, row["macs"]))[:top]
    return rows


def layer_figures(
    members: list[LayerFigures], figures: NetworkFigures | None = None
) -> dict[str, Any]:
    """A row's value of each per-layer figure of the catalogue (``layer=True``), read off
    its nodes by the figure's name: a count is the sum over them, a shape the last one's.
    The roofline's figures (core/roofline: bytes and time summed, the intensity of the
    sums) come only where the run asked for a device or fusion."""
    roofline = None
    if figures is not None and figures.roofline_options is not None:
        roofline = roofline_of(figures).row(x.index for x in members)
    result = {}
    for f in CATALOGUE:
        if not f.layer:
            continue
        if f.measured:  # a measurement: layer_rows adds it from the report's timing
            continue
        if f.path[0] == "roofline":
            if roofline is not None and f.name in roofline:
                result[f.name] = roofline[f.name]
        elif f.kind == "shape":
            result[f.name] = getattr(members[-1], f.name)
        else:
            result[f.name] = sum(getattr(x, f.name) for x in members)
    return result


ROOFLINE_HEADER = ("#", "layer", "FLOPs", "bytes moved", "FLOPs/B", "bound", "time bound",
                   "share of time")  # fmt: skip


def roofline_cells(
    report: Report, exact: bool = False, *, depth: int | None = None, top: int | None = None
) -> tuple[str, list[list[str]]] | None:
    """The per-layer roofline table (a title and cells under ``ROOFLINE_HEADER``), where
    the run asked for a device or --fused and there are several layers; else None."""
    options = report.figures.roofline_options
    if options is None or not options.shown or len(report.figures.layers) < 2:
        return None
    from convcalc.core.count.traffic import seconds

    roofline = roofline_of(report.figures)
    total = roofline.time or 0.0
    cells = []
    for row in layer_rows(report, depth=depth, top=top):
        intensity = row.get("arithmetic_intensity")
        time = row.get("time_bound")
        cells.append([
            str(row["index"]), row["name"], units.count(row["flops"], exact),
            units.size(row["bytes_moved"], exact),
            "-" if intensity is None else f"{intensity:,.3g}",
            row.get("bound") or "-",
            "-" if time is None else seconds(time),
            "-" if time is None or not total else f"{time / total:.1%}",
        ])  # fmt: skip
    roof = options.roof
    on = f" on {roof.name}, {roof.peak_text()}" if roof is not None else ""
    fused = ", element-wise ops fused" if options.fused else ""
    return f"{report.command}: roofline per layer{on}{fused}", cells


TIMING_HEADER = ("#", "layer", "time bound", "measured", "measured / bound", "FLOP/s", "bytes/s")


def timing_cells(
    report: Report, *, depth: int | None = None, top: int | None = None
) -> tuple[str, list[list[str]]] | None:
    """The per-layer measured table (--measure-time: a title and cells under
    ``TIMING_HEADER``), where the report was timed and has several layers; else None.
    A row with no timed call (functional code outside any leaf module) shows "-"."""
    timed = report.timed
    if timed is None or len(report.figures.layers) < 2:
        return None
    from convcalc.core.count.traffic import rate, seconds

    cells = []
    for row in layer_rows(report, depth=depth, top=top):
        measured = row.get("measured_time")
        if measured is None:
            continue
        ratio = row.get("time_ratio")
        bound = None if ratio is None else measured / ratio
        cells.append([
            str(row["index"]), row["name"], seconds(bound), seconds(measured),
            "-" if ratio is None else f"{ratio:,.3g}" + (" (< 1!)" if ratio < 1 else ""),
            rate(row.get("achieved_flops") or 0.0, ""),
            rate(row.get("achieved_bandwidth") or 0.0, ""),
        ])  # fmt: skip
    t = timed.timing
    on = f", {t.threads} thread{'s' if t.threads != 1 else ''}" if t.threads else ""
    return (
        f"{report.command}: measured per layer on {t.device}{on} (median of {t.repeats}, "
        f"{t.clock})",
        cells,
    )


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
