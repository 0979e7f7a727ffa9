"""What a verified run measured, and the checks of each figure against the analytic one.

``convcalc.measure`` fills a ``Measurement`` off the real module; ``build_checks``
compares it with the analytic figures, exactly, into ``Check``s that a ``Report``
carries (``core.documents.report``). Its own module, loaded by measured runs
only: a ``--no-verify`` run never builds one (start-up, SPEC "Performance").
"""

from __future__ import annotations

import dataclasses
from typing import Any

from convcalc.core.count.figures import NetworkFigures
from convcalc.core.nets.graph import INPUT
from convcalc.core.ops.primitives import Shape, fmt_int
from convcalc.core.values.record import Record


class LayerMeasurement(Record):
    """What torchinfo saw of one module call, named by the node it ran for."""

    name: str
    output_shape: Shape
    params: int
    mult_adds: int


class Measurement(Record):
    """Figures read off the real module (plain data; produced by ``convcalc.measure``)."""

    device: str
    params: int
    trainable_params: int
    output_shape: Shape
    torchinfo_params: int
    torchinfo_mult_adds: int
    param_bytes: int  # every parameter's storage, read off the model
    input_bytes: int
    torchinfo_input_bytes: int  # the storage's size plus its Python object overhead: not compared
    torchinfo_forward_backward_bytes: int
    layers: tuple[LayerMeasurement, ...]
    flop_counter_flops: int | None = None
    torchinfo_param_bytes: int = 0  # torchinfo's "params size" (its leaf modules' only)
    # FlopCounterMode around a training step (--cross-check --backward): forward + the
    # gradients of every parameter
    flop_counter_training_flops: int | None = None
    # (figure, why): figures of this model that the measuring tool reports by a rule no
    # analytic figure predicts (torchinfo's over a module registered under two parents);
    # their checks say "not compared" with the reason, never a mismatch
    unpredictable: tuple[tuple[str, str], ...] = ()

    def by_name(self) -> dict[str, LayerMeasurement]:
        """Per-layer measurements keyed by node name (checks pair by name, not position)."""
        return {layer.name: layer for layer in self.layers}


class Check(Record):
    """One compared figure, or one that could not be compared (``reason`` says why:
    neither a match nor a mismatch)."""

    figure: str
    analytic: Any
    measured: Any
    reason: str = ""  # set: not compared, and why
    # The values really compared, when part of each side is left out (the module calls
    # that are not compared are taken out of a total); None: analytic and measured
    compared: tuple[Any, Any] | None = None
    note: str = ""  # what the comparison left out, said beside it

    @property
    def is_compared(self) -> bool:
        """False when the figure could not be predicted, so it was not compared."""
        return not self.reason

    @property
    def verdict(self) -> bool | None:
        """True (agreed), False (disagreed) or None (not compared)."""
        if self.reason:
            return None
        analytic, measured = self.compared or (self.analytic, self.measured)
        return bool(analytic == measured)

    @property
    def ok(self) -> bool:
        """No disagreement: exact agreement (every figure here is an integer or a shape),
        or not compared at all."""
        return self.verdict is not False

    @property
    def status(self) -> str:
        """``match``, ``mismatch`` or ``not compared``."""
        return {True: "match", False: "mismatch", None: "not compared"}[self.verdict]

    def to_dict(self) -> dict[str, Any]:
        """JSON form: a figure not compared has ``match`` null, ``compared`` false and the
        ``reason``; a comparison that left part of each side out has its ``note``."""
        result = {
            "figure": self.figure,
            "analytic": _jsonable(self.analytic),
            "measured": _jsonable(self.measured),
            "match": self.verdict,
        }
        if self.reason:
            result |= {"compared": False, "reason": self.reason}
        if self.note:
            result["note"] = self.note
        return result


def build_checks(figures: NetworkFigures, measured: Measurement) -> tuple[Check, ...]:
    """Every figure both sides know, compared exactly: totals, then each module call that
    torchinfo reports, paired by name (a built-in node is its own call). A call's output
    shape is the value the module returned (the tensor torchinfo sizes: a tuple's first,
    as an LSTM's sequence), where the read model knows it, else its last node's.

    A figure that cannot be predicted is a check "not compared", with its reason, never
    a mismatch: work convcalc has no formula for (``totals.not_counted``) makes every
    total of work partial, and ``measured.unpredictable`` names the figures the tool
    reports by a rule of its own. A module call not compared is taken out of torchinfo's
    total on both sides, so the rest of the total is still compared.
    """
    totals = figures.totals
    skip = dict(measured.unpredictable)
    partial = ""
    if totals.partial:
        ops = ", ".join(sorted(totals.not_counted))
        partial = (
            f"convcalc has no formula for {ops}, so its total of work is partial "
            "(a tool that counts that work would disagree for no fault)"
        )

    def check(figure: str, analytic: Any, value: Any, reason: str = "") -> Check:
        return Check(figure, analytic, value, reason or skip.get(figure, ""))

    units = figures.torch_calls()
    expected = figures.network.torch_calls or tuple(units)
    seen = measured.by_name()
    returned = _returned_shapes(figures)
    calls: list[Check] = []
    left_out: list[tuple[str, int, int]] = []  # (call, analytic, measured) not compared
    for name in [*units, *(n for n in expected if n not in units)]:
        members = units.get(name, [])
        m = seen.get(name)
        shape = returned.get(name, members[-1].output_shape if members else None)
        if shape is not None:
            calls.append(check(f"{name}.output_shape", shape, m and m.output_shape))
        figure = f"{name}.torchinfo_mult_adds"
        # a call with no members ran no op (nn.Identity): it counts nothing
        uncounted = sorted({x.description_of_work for x in members if not x.counted})
        if uncounted:
            reason = f"convcalc has no formula for {', '.join(uncounted)} in this call"
        else:
            reason = skip.get(figure, "")
        mult_adds = sum(x.torchinfo_mult_adds for x in members)
        calls.append(check(figure, mult_adds, m and m.mult_adds, reason))
        if reason and not uncounted:
            left_out.append((name, mult_adds, (m and m.mult_adds) or 0))
    total = check("torchinfo_mult_adds", totals.torchinfo_mult_adds,
                  measured.torchinfo_mult_adds, partial)  # fmt: skip
    if left_out and total.is_compared:
        analytic = totals.torchinfo_mult_adds - sum(a for _, a, _ in left_out)
        rest = measured.torchinfo_mult_adds - sum(m for _, _, m in left_out)
        names = ", ".join(name for name, _, _ in left_out[:3])
        more = f" and {len(left_out) - 3} more" if len(left_out) > 3 else ""
        total = dataclasses.replace(
            total,
            compared=(analytic, rest),
            note=f"compared without the {len(left_out)} module calls not compared "
            f"({names}{more}): {fmt_int(analytic)} analytic, {fmt_int(rest)} measured",
        )
    checks = [
        check("params", totals.params, measured.params),
        check("trainable_params", totals.trainable_params, measured.trainable_params),
        check("torchinfo_params", totals.params, measured.torchinfo_params),
        check("output_shape", totals.output_shape, measured.output_shape),
        total,
        check("param_bytes", figures.param_bytes, measured.param_bytes),
        check(
            "torchinfo_param_bytes", figures.torchinfo_param_bytes, measured.torchinfo_param_bytes
        ),
        check("input_bytes", figures.input_bytes, measured.input_bytes),
        check(
            "torchinfo_forward_backward_bytes",
            figures.torchinfo_forward_backward_bytes,
            measured.torchinfo_forward_backward_bytes,
        ),
    ]
    if measured.flop_counter_flops is not None:
        checks.append(check("flop_counter_flops", totals.flops, measured.flop_counter_flops,
                            partial))  # fmt: skip
    if measured.flop_counter_training_flops is not None:
        from convcalc.core.count.backward import backward

        trained = None if partial else backward(figures).flop_counter_training_flops
        checks.append(check("flop_counter_training_flops", trained,
                            measured.flop_counter_training_flops, partial))  # fmt: skip
    checks.append(check("layer_count", len(expected), len(measured.layers)))
    return (*checks, *calls)


def _returned_shapes(figures: NetworkFigures) -> dict[str, Shape]:
    """Each module call's returned value's shape, where the read model names its node."""
    shapes = {layer.name: layer.output_shape for layer in figures.layers}
    shapes[INPUT] = figures.totals.input_shape
    return {call: shapes[node] for call, node in figures.network.call_outputs if node in shapes}


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
