"""Reports: the JSON contract's analytic part, per-sample values and checks, without torch."""

from __future__ import annotations

import json
from dataclasses import replace

from convcalc.core.count.figures import analyze
from convcalc.core.documents.checks import Check, LayerMeasurement, Measurement, build_checks
from convcalc.core.documents.report import SCHEMA_VERSION, Report
from convcalc.core.nets.layers import ConvSpec, conv_network, separable_network


def _report(spec: ConvSpec) -> Report:
    return Report("conv", spec.to_dict(), analyze(conv_network(spec)), kind="grouped (g=2)")


def test_unverified_report_has_the_contract_keys_and_no_measurement() -> None:
    """to_dict has schema, command, spec, analytic, measured (null), match (null) and layers."""
    document = _report(ConvSpec(4, 8, groups=2)).to_dict()
    assert {"schema", "command", "spec", "analytic", "measured", "match", "layers"} <= set(document)
    assert document["schema"] == SCHEMA_VERSION == 1
    assert document["command"] == "conv"
    assert document["measured"] is None
    assert document["match"] is None
    analytic = document["analytic"]
    assert analytic["params"] == analytic["trainable_params"] == 152
    assert analytic["output_shape"] == [1, 8, 222, 222]
    assert (analytic["macs"], analytic["flops"], analytic["bias_adds"]) == (
        7_096_896,
        14_193_792,
        394_272,
    )
    assert analytic["effective_kernel"] == [3, 3]
    assert analytic["formulas"]["params"] == "8 x (4/2) x 3 x 3 + 8 = 152"
    json.dumps(document)  # plain JSON: no tuples of objects, no dataclasses


def test_spec_records_every_input_after_defaults() -> None:
    """The JSON spec holds every option as used, defaults filled in like nn.Conv2d's."""
    spec = ConvSpec(4, 8).to_dict()
    assert spec == {
        "cin": 4,
        "cout": 8,
        "kernel": [3, 3],
        "resolved_kernel": [3, 3],
        "stride": [1, 1],
        "padding": [0, 0],
        "dilation": [1, 1],
        "groups": 1,
        "bias": True,
        "input": [224, 224],
        "batch": 1,
        "share_kernel": False,
    }
    assert ConvSpec(4, 4, kernel="global", groups=4, input=(7, 7)).to_dict()["resolved_kernel"] == [
        7,
        7,
    ]


def test_per_sample_values_divide_by_the_batch() -> None:
    """Counts are for the whole batch; per_sample divides exactly by N."""
    analytic = _report(ConvSpec(4, 8, groups=2, batch=3)).to_dict()["analytic"]
    assert analytic["macs"] == 3 * 7_096_896
    assert analytic["per_sample"]["macs"] == 7_096_896
    assert analytic["per_sample"]["flops"] == 14_193_792
    assert analytic["per_sample"]["bias_adds"] == 394_272


def test_layers_list_each_layer_with_its_formulas() -> None:
    """A block's JSON layers hold name, type, params, MACs and output shape per layer."""
    spec = ConvSpec(16, 32, padding=(1, 1), input=(64, 64))
    report = Report("separable", spec.to_dict(), analyze(separable_network(spec)))
    layers = report.to_dict()["layers"]
    assert [(x["name"], x["type"], x["params"]) for x in layers] == [
        ("depthwise", "Conv2d", 160),
        ("pointwise", "Conv2d", 544),
    ]
    assert layers[0]["output_shape"] == [1, 16, 64, 64]
    assert layers[1]["macs"] == 64 * 64 * 32 * 16
    assert layers[1]["flops"] == 2 * layers[1]["macs"]


def _measurement(figures_report: Report, **changes: object) -> Measurement:
    figures = figures_report.figures
    totals = figures.totals
    values: dict[str, object] = {
        "device": "cpu",
        "params": totals.params,
        "trainable_params": totals.trainable_params,
        "output_shape": totals.output_shape,
        "torchinfo_params": totals.params,
        "torchinfo_mult_adds": totals.torchinfo_mult_adds,
        "param_bytes": figures.param_bytes,
        "torchinfo_param_bytes": figures.torchinfo_param_bytes,
        "input_bytes": figures.input_bytes,
        "torchinfo_input_bytes": figures.input_bytes + 72,
        "torchinfo_forward_backward_bytes": figures.torchinfo_forward_backward_bytes,
        "layers": tuple(
            LayerMeasurement(x.name, x.output_shape, x.params, x.torchinfo_mult_adds)
            for x in figures.layers
        ),
        "flop_counter_flops": totals.flops,
    }
    values.update(changes)
    return Measurement(**values)  # type: ignore[arg-type]


def test_checks_pass_when_every_figure_agrees() -> None:
    """A measurement equal to the analytic figures passes every compared check."""
    report = _report(ConvSpec(4, 8, groups=2, input=(16, 16)))
    checks = build_checks(report.figures, _measurement(report))
    assert all(check.ok for check in checks)
    figures = {check.figure for check in checks}
    assert {"params", "output_shape", "torchinfo_mult_adds", "flop_counter_flops"} <= figures
    assert "torchinfo_input_bytes" not in figures  # Python object overhead: never compared


def test_checks_name_each_disagreement() -> None:
    """A wrong shape, param count or layer count fails exactly those checks; a layer torch
    never ran fails its own per-layer checks (checks pair layers by name)."""
    report = _report(ConvSpec(4, 8, groups=2, input=(16, 16)))
    wrong = _measurement(report, params=153, output_shape=(1, 8, 13, 14), layers=())
    failed = {check.figure for check in build_checks(report.figures, wrong) if not check.ok}
    assert failed == {
        "params",
        "output_shape",
        "layer_count",
        "conv.output_shape",
        "conv.torchinfo_mult_adds",
    }
    checks = build_checks(report.figures, wrong)
    verified = Report(report.command, report.spec, report.figures, measured=wrong, checks=checks)
    assert verified.match is False
    assert {c.figure for c in verified.failed_checks} == failed


def test_flop_counter_is_compared_only_when_run() -> None:
    """Without --cross-check there is no FlopCounterMode figure to compare."""
    report = _report(ConvSpec(4, 8, groups=2, input=(16, 16)))
    checks = build_checks(report.figures, _measurement(report, flop_counter_flops=None))
    assert "flop_counter_flops" not in {check.figure for check in checks}


def test_check_to_dict() -> None:
    """A check serialises shapes as lists and says whether it matched."""
    assert Check("output_shape", (1, 2), (1, 3)).to_dict() == {
        "figure": "output_shape",
        "analytic": [1, 2],
        "measured": [1, 3],
        "match": False,
    }


def test_checks_pair_layers_by_name_not_position() -> None:
    """Measured layers in another order still pair with their own analytic layer."""
    spec = ConvSpec(4, 8, groups=2, input=(16, 16))
    figures = analyze(separable_network(spec))
    report = Report("separable", spec.to_dict(), figures)
    measurement = _measurement(report)
    swapped = replace(measurement, layers=measurement.layers[::-1])
    assert all(check.ok for check in build_checks(figures, swapped))
    renamed = replace(
        measurement, layers=(replace(measurement.layers[0], name="elsewhere"),
                             measurement.layers[1])
    )  # fmt: skip
    failed = {c.figure for c in build_checks(figures, renamed) if not c.ok}
    assert failed == {"depthwise.output_shape", "depthwise.torchinfo_mult_adds"}
