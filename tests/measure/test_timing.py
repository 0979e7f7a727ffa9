"""--measure-time: each layer and the whole pass timed on a real device, beside the bound.

Nothing here times anything: a fake clock (``WallClock`` with an injected
clock) stands for the machine, so each test says what the clock reads and
checks what convcalc makes of it: names, medians, the figures beside the
bound, the failure of a layer faster than its bound, and nothing left on a
model.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch import nn
from typer.testing import CliRunner

import convcalc
from convcalc.cli import app
from convcalc.core.count.roofline import Options, Roof
from convcalc.core.count.timing import (
    BelowBoundError,
    Timing,
    TimingOptions,
    spec_threads,
    timed,
)
from convcalc.core.documents.catalogue import CATALOGUE
from convcalc.errors import InvalidSpecError
from convcalc.measure import timing as timing_module
from convcalc.measure.timing import WallClock, time_forward, time_model, time_network
from convcalc.pipeline import ModelTarget, Request, run

runner = CliRunner()
FEW = TimingOptions(warmup=1, repeats=3, most=3)


def ticking(step: float) -> Callable[[], float]:
    """A clock that advances ``step`` seconds each time it is read."""
    counter = itertools.count()
    return lambda: next(counter) * step


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Make every timing of the run read a ticking clock of the step the test sets."""
    step = {"value": 1e-3}

    def stopwatch(device: str) -> WallClock:
        return WallClock(ticking(step["value"]))

    monkeypatch.setattr(timing_module, "stopwatch_for", stopwatch)

    def set_step(value: float) -> None:
        step["value"] = value

    return set_step


def global_hooks() -> tuple[int, int]:
    """How many global forward pre-hooks and hooks torch holds."""
    module = nn.modules.module
    return len(module._global_forward_pre_hooks), len(module._global_forward_hooks)


class Twice(nn.Module):
    """A ReLU called twice and a conv: calls ``conv``, ``act``, ``act@2``."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.act(self.act(self.conv(x)) + 1)
        return out


def test_each_leaf_call_is_named_as_the_trace_names_it_and_nothing_is_left() -> None:
    """A module called twice gives ``act`` and ``act@2``; the median is over the passes; the
    global hooks are gone and the training flags restored afterwards."""
    model = Twice().train()
    before = global_hooks()
    timing = time_forward(model, (torch.rand(1, 3, 8, 8),), device="cpu", options=FEW,
                          stopwatch=WallClock(ticking(1.0)))  # fmt: skip
    assert [call for call, _ in timing.calls] == ["conv", "act", "act@2"]
    # each call reads the clock twice in a row: one tick between its marks
    assert all(seconds == 1.0 for _, seconds in timing.calls)
    assert timing.total == 1.0
    assert timing.repeats == 3
    assert timing.warmup == 1
    assert timing.clock == "wall clock"
    assert global_hooks() == before
    assert model.training
    assert all(m.training for m in model.modules())


def test_a_forward_that_fails_leaves_no_hook() -> None:
    """The hooks go even when the forward raises."""

    class Broken(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise RuntimeError("broken on purpose")

    before = global_hooks()
    with pytest.raises(RuntimeError, match="on purpose"):
        time_forward(Broken(), (torch.rand(1, 3, 8, 8),), device="cpu", options=FEW,
                     stopwatch=WallClock(ticking(1.0)))  # fmt: skip
    assert global_hooks() == before


def test_repeats_follow_the_first_pass() -> None:
    """More passes while they take under ``seconds``, between ``repeats`` and ``most``."""
    options = TimingOptions(repeats=5, most=50, seconds=1.0)
    assert options.rounds(0.5) == 5
    assert options.rounds(0.04) == 25
    assert options.rounds(1e-9) == 50
    with pytest.raises(InvalidSpecError):
        TimingOptions(repeats=0)
    with pytest.raises(InvalidSpecError):
        TimingOptions(threads=0)


def test_a_built_network_is_timed_node_by_node() -> None:
    """Each node of a built-in network is a call named by the node, shared weights too."""
    report = convcalc.analyze(convcalc.se(16, reduction=4, input=8))
    timing = time_network(report.figures, "cpu", FEW, stopwatch=WallClock(ticking(1e-3)))
    assert [call for call, _ in timing.calls] == [x.name for x in report.layers]
    assert timing.device == "cpu"
    assert timing.threads is not None


def test_meta_has_no_time() -> None:
    """Timing runs for real: meta is refused in the library, the pipeline and the CLI."""
    report = convcalc.analyze(convcalc.conv(4, 8, input=8))
    with pytest.raises(InvalidSpecError, match="meta"):
        time_network(report.figures, "meta", FEW)
    with pytest.raises(InvalidSpecError, match="meta"):
        run(Request(convcalc.conv(4, 8, input=8), device="meta", measure_time=True))
    result = runner.invoke(app, ["conv", "--cin", "4", "--cout", "8", "-i", "8",
                                 "--device", "meta", "--measure-time"])  # fmt: skip
    assert result.exit_code == 2
    assert "error:" in result.stderr
    assert "Traceback" not in result.stderr


def drawn(report: convcalc.Report, peak: float, bandwidth: float) -> convcalc.Report:
    options = Options(Roof("test", peak, bandwidth))
    return dataclasses.replace(
        report, figures=dataclasses.replace(report.figures, roofline_options=options)
    )


def fake_timing(report: convcalc.Report, seconds: float) -> Timing:
    return Timing("cpu", "wall clock", 1, 0, 1, seconds * len(report.layers),
                  tuple((x.name, seconds) for x in report.layers))  # fmt: skip


def test_the_figures_beside_the_bound() -> None:
    """Ratio = measured / bound; achieved FLOP/s and bytes/s = FLOPs and bytes / measured."""
    report = drawn(convcalc.analyze(convcalc.conv(16, 32, input=16)), 1e9, 1e9)
    result = timed(report.figures, fake_timing(report, 1.0))
    (call,) = result.calls
    layer = report.figures.layers[0]
    bound = max(layer.flops / 1e9, call.bytes_moved / 1e9)
    assert call.bound == pytest.approx(bound)
    assert call.ratio == pytest.approx(1.0 / bound)
    assert call.achieved_flops == pytest.approx(layer.flops)
    assert call.achieved_bandwidth == pytest.approx(call.bytes_moved)
    assert not result.below_bound
    assert result.failure() is None


def test_a_layer_faster_than_its_bound_is_a_failure_naming_it() -> None:
    """A call measured below its lower bound raises BelowBoundError (exit 1) with its name."""
    report = drawn(convcalc.analyze(convcalc.separable(16, 32, input=16)), 1e6, 1e6)
    result = timed(report.figures, fake_timing(report, 1e-9))
    failure = result.failure()
    assert isinstance(failure, BelowBoundError)
    assert failure.exit_code == 1
    assert report.layers[0].name in str(failure)
    assert "whole forward pass" in str(failure)


def test_the_pipeline_fails_a_layer_faster_than_its_bound(
    fake_clock: Callable[[float], None],
) -> None:
    """Through the pipeline and the CLI: a clock that says every layer took 1 ps fails
    (exit 1, naming a layer); one that says 1 s does not, and the JSON has the figures."""
    fake_clock(1e-12)
    request = Request(convcalc.mobilenet(1, 0.25, 32), hardware="peak=1T,bandwidth=100G",
                      measure_time=FEW)  # fmt: skip
    result = run(request)
    assert isinstance(result.failure(), BelowBoundError)
    args = ["mobilenet", "--width", "0.25", "--resolution", "32", "--hardware",
            "peak=1T,bandwidth=100G", "--measure-time", "--format", "json"]  # fmt: skip
    cli = runner.invoke(app, args)
    assert cli.exit_code == 1
    assert "faster than the roofline's lower bound" in cli.stderr
    assert "conv0" in cli.stderr
    fake_clock(1.0)
    cli = runner.invoke(app, args)
    assert cli.exit_code == 0, cli.stderr
    document = json.loads(cli.stdout)
    timing = document["timing"]
    assert timing["below_bound"] == []
    assert timing["time_ratio"] > 1
    first = document["layers"][0]
    for f in CATALOGUE:
        if f.measured:
            assert f.name in first
            assert f.name in timing
    value = runner.invoke(app, [*args[:-2], "--value", "measured_time"])
    assert value.exit_code == 0
    assert float(value.stdout) > 0


def test_a_measurement_is_refused_where_nothing_was_timed() -> None:
    """--value measured_time without --measure-time: one error line, exit 2."""
    cli = runner.invoke(app, ["conv", "--cin", "4", "--cout", "8", "-i", "8", "--no-verify",
                              "--value", "measured_time"])  # fmt: skip
    assert cli.exit_code == 2
    assert "--measure-time" in cli.stderr


def test_tables_show_the_measured_side(fake_clock: Callable[[float], None]) -> None:
    """The table and Markdown show a measured row per figure and the per-layer table."""
    fake_clock(1.0)
    args = ["se", "--channels", "16", "-i", "8", "--hardware", "peak=1T,bandwidth=100G",
            "--measure-time"]  # fmt: skip
    table = runner.invoke(app, args)
    assert table.exit_code == 0, table.stderr
    assert "time, measured" in table.stdout
    assert "measured per layer" in table.stdout
    markdown = runner.invoke(app, [*args, "--format", "markdown"])
    assert "| measured / bound |" in markdown.stdout


def test_a_model_is_timed_call_by_call_and_left_as_it_was(
    fake_clock: Callable[[float], None],
) -> None:
    """convcalc.profile(measure_time=...) times each leaf call of the user's model on its
    device; the calls are the report's module calls; no hook stays, no flag changes."""
    model = Twice().train()
    before = global_hooks()
    report = convcalc.profile(model, (1, 3, 8, 8), device="cpu", measure_time=FEW,
                              verify=False)  # fmt: skip
    assert report.timing is not None
    assert [call for call, _ in report.timing.calls] == list(report.figures.torch_calls())
    assert global_hooks() == before
    assert model.training
    with pytest.raises(InvalidSpecError, match="device"):
        convcalc.profile(model, (1, 3, 8, 8), measure_time=True)  # meta, the default
    direct = time_model(model, (torch.rand(1, 3, 8, 8),), options=FEW,
                        stopwatch=WallClock(ticking(1.0)))  # fmt: skip
    assert [call for call, _ in direct.calls] == ["conv", "act", "act@2"]


def test_the_model_command_runs_for_real_under_auto(fake_clock: Callable[[float], None]) -> None:
    """`model --measure-time` profiles on a real device (auto: not meta) and times it."""
    fake_clock(1.0)
    request = Request(ModelTarget(Twice(), (1, 3, 8, 8)), verify=False, measure_time=FEW,
                      hardware="peak=1T,bandwidth=100G")  # fmt: skip
    result = run(request)
    report = result.report
    assert isinstance(report, convcalc.Report)
    assert report.timing is not None
    assert result.failure() is None
    assert report.timing.device == "cpu"


def test_a_measured_spec_names_the_threads_timing_runs_at() -> None:
    """spec_threads reads a measured CPU spec's threads; other specs name none."""
    from convcalc.core.count.roofline import Hardware

    measured = Hardware("box", {"fp32": 1e11}, 1e10, measured={"device": "cpu", "threads": 3})
    assert spec_threads(measured.roof("float32")) == 3
    sheet = Hardware("sheet", {"fp32": 1e11}, 1e10)
    assert spec_threads(sheet.roof("float32")) is None
    assert spec_threads(None) is None


def test_the_roofline_picture_is_written(
    tmp_path: Path, fake_clock: Callable[[float], None]
) -> None:
    """--plot FILE.png with --hardware writes the picture (with --measure-time too); without
    --hardware it is one error line, exit 2."""
    pytest.importorskip("matplotlib")
    fake_clock(1.0)
    out = tmp_path / "roofline.png"
    args = ["mobilenet", "--width", "0.25", "--resolution", "32", "--no-verify",
            "--hardware", "peak=1T,bandwidth=100G", "--plot", str(out)]  # fmt: skip
    cli = runner.invoke(app, args)
    assert cli.exit_code == 0, cli.stderr
    assert out.stat().st_size > 1000
    assert "wrote the roofline" in cli.stderr
    timed_out = tmp_path / "timed.svg"
    cli = runner.invoke(app, [*args[:-1], str(timed_out), "--measure-time"])
    assert cli.exit_code == 0, cli.stderr
    assert "measured" in timed_out.read_text()
    refused = runner.invoke(app, ["conv", "--cin", "4", "--cout", "8", "--no-verify",
                                  "--plot", str(tmp_path / "x.png")])  # fmt: skip
    assert refused.exit_code == 2
    assert "--hardware" in refused.stderr


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_calls_are_timed_with_events() -> None:
    """On a GPU each call's time comes from CUDA events, after synchronisation."""
    report = convcalc.analyze(convcalc.conv(16, 32, input=32))
    timing = time_network(report.figures, "cuda", FEW)
    assert timing.clock == "CUDA events"
    assert timing.device == "cuda"
    assert timing.threads is None
    assert all(seconds > 0 for _, seconds in timing.calls)


def test_a_batch_sweep_draws_each_layer_at_each_batch(tmp_path: Path) -> None:
    """model --batch 1,8,32 with --hardware and --plot draws every batch (the document is
    the first's); a batch list without them is one error line, exit 2."""
    pytest.importorskip("matplotlib")
    target = tmp_path / "tiny.py"
    target.write_text(
        "from torch import nn\n\ndef build():\n"
        "    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), "
        "nn.Linear(8 * 6 * 6, 4))\n"
    )
    out = tmp_path / "sweep.png"
    args = ["model", f"{target}:build", "-i", "8", "--no-verify", "--format", "json"]
    cli = runner.invoke(app, [*args, "--batch", "1,8,32", "--hardware",
                              "peak=1T,bandwidth=100G", "--plot", str(out)])  # fmt: skip
    assert cli.exit_code == 0, cli.stderr
    assert json.loads(cli.stdout)["analytic"]["input_shape"][0] == 1
    assert out.stat().st_size > 1000
    assert "batch 32" in cli.stderr
    refused = runner.invoke(app, [*args, "--batch", "1,8"])
    assert refused.exit_code == 2
    assert "--plot" in refused.stderr
