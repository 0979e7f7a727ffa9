"""One call from a request to a result: what every command computes, as a library call.

A ``Request`` says what to compute (a design, comparison or sweep from the
constructors of ``convcalc``, or a ``ModelTarget``) and how (dtype, device,
verification, a tool's counting convention, the backward pass, budgets, how to
fold a model's layers). ``run`` returns one ``Result``: the report, each
point's convention count and backward pass, the budgets' verdicts, the notices
said on the way and the fold level used. The command line only parses its
options into a ``Request``, calls ``run``, renders the ``Result`` and maps
``Result.failure()`` to an exit code, so a notebook and the CLI agree on every
default (a model is profiled on the meta device under ``device="auto"``; its
hundreds of layers fold to a readable depth unless told otherwise).

    >>> import convcalc
    >>> from convcalc.pipeline import Request, run
    >>> result = run(Request(convcalc.conv(4, 8, groups=2), verify=False, limits={"params": 100}))
    >>> result.report.params, result.verdicts[0].ok, type(result.failure()).__name__
    (152, False, 'BudgetExceededError')

Importing this module never imports torch: verification and model profiling
import it on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import field
from typing import TYPE_CHECKING, Any

from convcalc.api import DEVICES, AnyReport, analyze, profile, verify
from convcalc.core.count.figures import DTYPE_BYTES
from convcalc.core.designs import Comparison, Design, Sweep
from convcalc.core.documents.budgets import Verdict, annotate, judge, partial_values
from convcalc.core.documents.catalogue import CATALOGUE
from convcalc.core.documents.contract import BUDGET_FIGURES, figure, points, text
from convcalc.core.documents.report import Report
from convcalc.core.ops.primitives import fmt_int
from convcalc.core.values.record import Record
from convcalc.errors import (
    BudgetExceededError,
    ConvCalcError,
    EnvironmentUnavailableError,
    InvalidSpecError,
    MismatchError,
    PartialTotalError,
)

if TYPE_CHECKING:
    from convcalc.core.count.backward import Backward
    from convcalc.core.count.conventions import ConventionCount
    from convcalc.core.documents.checks import Check

Notify = Callable[[str], None]
# (points done, points in all, what is being verified now): a sweep's progress.
Progress = Callable[[int, int, str], None]


class ModelTarget(Record):
    """A model to profile, as ``convcalc.profile`` takes it.

    ``model``: a target string (``torchvision:resnet18``, ``pkg.mod:build``,
    ``path/file.py:build``), an ``nn.Module`` or a factory; ``args`` the
    factory's keyword arguments; ``input_dtype`` the input's dtype (None: the
    request's ``dtype``); ``options`` any further keyword argument of
    ``convcalc.profile`` (``inputs``: several, keyword or nested inputs).
    ``input_shape`` None: the inputs in ``options``, else the model's own (a zoo's
    default size, detection's list of images), else 1x3x224x224.
    """

    model: Any
    input_shape: tuple[int, ...] | None = (1, 3, 224, 224)
    args: Mapping[str, Any] = field(default_factory=dict)
    input_dtype: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


Subject = Design | Comparison | Sweep | ModelTarget


class Request(Record):
    """What to compute, and how.

    ``limits``: budgets by figure (``params``, ``macs``, ``flops``,
    ``activation_bytes``), each judged on every point. ``fold`` and ``top``
    shape a single report's per-layer rows; with neither given and
    ``readable`` on, a model's layers fold to the deepest module level that
    keeps its table readable (``Result.fold`` says which, and a notice says
    so). A caller that shows no per-layer table (JSON, a single figure) turns
    ``readable`` off.
    """

    subject: Subject
    dtype: str = "float32"
    device: str = "auto"
    verify: bool = True
    cross_check: bool = False
    backward: bool = False
    convention: str = "paper"
    limits: Mapping[str, int] = field(default_factory=dict)
    fold: int | None = None
    top: int | None = None
    readable: bool = True
    # A budget or a value on a total of work that is partial (an op with no formula) is
    # refused (exit 1, naming what was not counted) unless this allows it.
    allow_partial: bool = False
    # The roofline's device (core/count/roofline.py): a name of the table or a saved spec, a
    # JSON file, "peak=989T,bandwidth=3.35T", or a Hardware or Roof; None: bytes moved and
    # intensity only. ``fused``: element-wise ops fused into the op before them.
    hardware: Any = None
    fused: bool = False
    # --measure-time: each layer and the whole pass timed on a real device (True, or a
    # core.count.timing.TimingOptions), beside the bound (core/count/timing.py); a layer measured
    # faster than its bound is a failure.
    measure_time: Any = False


class Result(Record):
    """Everything a request gave.

    ``conventions`` and ``backward`` hold one entry per point (none unless
    asked); ``verdicts`` every budget's verdict per point; ``notices`` what was
    said on the way (each also given to ``notify`` as it happened); ``fold`` and
    ``top`` the per-layer shaping actually used.
    """

    request: Request
    report: AnyReport
    conventions: tuple[ConventionCount, ...] = ()
    backward: tuple[Backward, ...] = ()
    verdicts: tuple[Verdict, ...] = ()
    notices: tuple[str, ...] = ()
    fold: int | None = None
    top: int | None = None

    @property
    def mismatches(self) -> list[tuple[Report, Check]]:
        """Every check where the analytic and measured figures disagree, with its point."""
        return [(r, c) for r in self.report.reports for c in r.failed_checks]

    @property
    def over_budget(self) -> list[Verdict]:
        """The budgets exceeded."""
        return [v for v in self.verdicts if not v.ok]

    @property
    def ok(self) -> bool:
        """No disagreement and no budget exceeded."""
        return not self.mismatches and not self.over_budget

    def failure(self) -> ConvCalcError | None:
        """The error the result amounts to: MismatchError on any disagreement, else
        BudgetExceededError on any budget, else None (both mean exit 1 on the command line)."""
        failed = self.mismatches
        if failed:
            reports = self.report.reports
            details = "; ".join(
                f"{_prefix(r, reports)}{c.figure} analytic {_show(c.analytic)}, "
                f"measured {_show(c.measured)}"
                for r, c in failed[:4]
            )
            more = f" (and {len(failed) - 4} more)" if len(failed) > 4 else ""
            return MismatchError(f"analytic and measured figures disagree: {details}{more}")
        for point in self.report.reports:  # a layer faster than its bound
            timed: Any = point.timed  # core.count.timing.Timed
            fast = None if timed is None else timed.failure(_prefix(point, self.report.reports))
            if fast is not None:
                return fast  # type: ignore[no-any-return]
        partial = [v.message() for v in self.over_budget if v.partial]
        if partial:
            return PartialTotalError("budget refused: " + "; ".join(partial))
        over = [v.message() for v in self.over_budget]
        if over:
            return BudgetExceededError("budget exceeded: " + "; ".join(over))
        return None

    def to_dict(self) -> Any:
        """The JSON document: the report's, each point with its budgets' verdicts, its
        ``convention`` count and its ``backward`` pass when asked for."""
        document = annotate(self.report.to_dict(), list(self.verdicts))
        items = [item for _, item in points(document)]
        extras: tuple[tuple[str, Sequence[Any]], ...] = (
            ("convention", self.conventions),
            ("backward", self.backward),
        )
        for key, counts in extras:
            for item, extra in zip(items, counts, strict=False):  # none when not asked
                item[key] = extra.to_dict()
        return document

    def values(self, name: str) -> list[str]:
        """One figure per point, as bare text (``--value``): under the request's
        convention for ``macs`` and ``flops`` when one was chosen. A partial total of work
        raises PartialTotalError (naming what it leaves out) unless the request allows it."""
        partial = [] if self.request.allow_partial else partial_values(self.report.to_dict(), name)
        if partial:
            where = "; ".join(f"{label + ': ' if label else ''}{missing}" for label, missing
                              in partial)  # fmt: skip
            raise PartialTotalError(
                f"{name} is a partial total: no formula for {where} "
                "(--allow-partial prints the counted part)"
            )
        if self.conventions and name in ("macs", "flops"):
            return [str(c.value(name)) for c in self.conventions]
        found = [figure(item, name) for _, item in points(self.report.to_dict())]
        needs = CATALOGUE[name].needs if name in CATALOGUE else ""
        if needs and any(value is None for value in found):
            if CATALOGUE[name].measured:
                raise InvalidSpecError(f"{name} is a measurement: give {needs}")
            raise InvalidSpecError(f"{name} is a figure of a device: give {needs} NAME "
                                   "(convcalc hardware lists them)")  # fmt: skip
        return [text(value) for value in found]


def run(
    request: Request, *, notify: Notify | None = None, progress: Progress | None = None
) -> Result:
    """Compute a request: analyze (or profile), verify, count, judge.

    ``notify`` hears each notice as it is said; ``progress`` each point of a
    sweep as it is verified. Raises the project's errors: InvalidSpecError for
    a bad request, EnvironmentUnavailableError when verification cannot run;
    a disagreement or an exceeded budget is not raised but returned
    (``Result.failure()``), with the figures.
    """
    _check(request)
    notices: list[str] = []

    def say(message: str) -> None:
        notices.append(message)
        if notify is not None:
            notify(message)

    subject = request.subject
    if isinstance(subject, ModelTarget):
        report: AnyReport = _profile(request, subject, say)
    else:
        design: Any = subject  # a Design, Comparison or Sweep: its own report type
        report = analyze(design, request.dtype, request.device)  # a bad spec: its error alone
        for note in subject.notes:
            say(f"notice: {note}")
        if request.verify:
            report = _verify(report, request, say, progress)
    report = _with_roofline(report, request)
    if request.measure_time and not isinstance(subject, ModelTarget):
        report = _timed(report, request)
    conventions = _conventions(report, request.convention)
    backward = _backward(report) if request.backward else ()
    verdicts = (
        tuple(judge(report.to_dict(), request.limits, allow_partial=request.allow_partial))
        if request.limits
        else ()
    )
    fold = request.fold
    if isinstance(subject, ModelTarget) and isinstance(report, Report):
        fold = _readable_fold(report, request, say)
    return Result(request, report, conventions, backward, verdicts, tuple(notices),
                  fold, request.top)  # fmt: skip


def roof(request: Request) -> Any:
    """The request's device as a ``core.count.roofline.Roof`` for its dtype (None: none asked)."""
    hardware = request.hardware
    if hardware is None:
        return None
    from convcalc.core.count.roofline import Hardware, Roof, parse_hardware

    if isinstance(hardware, Roof):
        return hardware
    if isinstance(hardware, Hardware):
        return hardware.roof(request.dtype)
    if isinstance(hardware, str):
        return parse_hardware(hardware, request.dtype)
    raise InvalidSpecError(
        f"hardware must be a name, a spec text, a Hardware or a Roof, not a "
        f"{type(hardware).__name__}"
    )


def _with_roofline(report: AnyReport, request: Request) -> AnyReport:
    """Every point drawn on the request's device and fusion (untouched when neither)."""
    if request.hardware is None and not request.fused:
        return report
    from dataclasses import replace

    from convcalc.core.count.roofline import Options

    options = Options(roof(request), request.fused)

    def drawn(point: Report) -> Report:
        return replace(point, figures=replace(point.figures, roofline_options=options))

    if isinstance(report, Report):
        return drawn(report)
    whole: Any = report
    return replace(whole, reports=tuple(drawn(r) for r in report.reports))  # type: ignore[no-any-return]


def _check(request: Request) -> None:
    """A request's own options (the subject checks itself when analysed)."""
    if request.dtype not in DTYPE_BYTES:
        raise InvalidSpecError(f"dtype={request.dtype!r} is not one of {', '.join(DTYPE_BYTES)}")
    if request.device not in DEVICES:
        raise InvalidSpecError(f"device={request.device!r} is not one of {', '.join(DEVICES)}")
    if request.cross_check and not request.verify:
        raise InvalidSpecError("--cross-check needs verification; drop --no-verify")
    for option, value in (("fold", request.fold), ("top", request.top)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value <= 0):  # fmt: skip
            raise InvalidSpecError(f"--{option}={value} must be a positive integer")
    for name, limit in request.limits.items():
        if name not in BUDGET_FIGURES:
            raise InvalidSpecError(f"budget {name!r} is not one of {', '.join(BUDGET_FIGURES)}")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise InvalidSpecError(f"budget {name}={limit!r} must be a non-negative integer")
    if request.convention != "paper":  # the default costs no import on the fast path
        from convcalc.core.count.conventions import convention

        convention(request.convention)
    roof(request)  # a bad device spec before any work
    if request.measure_time:
        from convcalc.core.count.timing import TimingOptions

        if not isinstance(request.measure_time, bool | TimingOptions):
            raise InvalidSpecError("measure_time must be True or a core.count.timing.TimingOptions")
        if request.device == "meta":
            raise InvalidSpecError(
                "--measure-time runs the layers for real: use --device cpu, cuda or auto, not meta"
            )
    if not isinstance(request.subject, Subject):
        raise InvalidSpecError(
            "a request computes a design, comparison or sweep (convcalc.conv, .compare, "
            f".sweep...) or a ModelTarget, not a {type(request.subject).__name__}"
        )


def _profile(request: Request, target: ModelTarget, say: Notify) -> Report:
    """A model, on the meta device unless a device is named (``auto`` means meta here:
    building a user's model for real costs its memory)."""
    return profile(
        target.model,
        input_shape=target.input_shape,
        args=dict(target.args),
        input_dtype=target.input_dtype or request.dtype,
        # the model's dtype: a floating --input-dtype's (as before), else the request's
        dtype=None if target.input_dtype in DTYPE_BYTES else request.dtype,
        # timing runs the model for real: auto is then CUDA if present, else the CPU
        device="meta" if request.device == "auto" and not request.measure_time else request.device,
        verify=request.verify,
        cross_check=request.cross_check,
        backward=request.backward,
        notify=say,
        **({"measure_time": _timing_options(request)} if request.measure_time else {}),
        **target.options,
    )


def _timing_options(request: Request) -> Any:
    """--measure-time's options: the request's, at the threads a measured CPU spec was
    measured at unless they name their own."""
    from convcalc.core.count.timing import TimingOptions, spec_threads

    given = request.measure_time
    options = given if isinstance(given, TimingOptions) else TimingOptions()
    threads = spec_threads(roof(request))
    if options.threads is None and threads is not None:
        from dataclasses import replace

        options = replace(options, threads=threads)
    return options


def _timed(report: AnyReport, request: Request) -> Any:
    """Every point timed on the request's device (built as measure/build.py builds it)."""
    try:
        from convcalc.measure.timing import time_network
    except ImportError as exc:
        raise EnvironmentUnavailableError(
            f"--measure-time needs torch ({exc.name} is missing)"
        ) from exc
    from dataclasses import replace

    options = _timing_options(request)

    def one(point: Report) -> Report:
        return replace(point, timing=time_network(point.figures, request.device, options))

    if isinstance(report, Report):
        return one(report)
    whole: Any = report
    return replace(whole, reports=tuple(one(r) for r in report.reports))


def _verify(report: AnyReport, request: Request, say: Notify, progress: Progress | None) -> Any:
    """Verify every point of the report (a sweep point by point, told to ``progress``)."""

    def one(point: Report) -> Report:
        return verify(point, request.device, dtype=request.dtype,
                      cross_check=request.cross_check, backward=request.backward,
                      notify=say)  # fmt: skip

    if isinstance(report, Report):
        return one(report)
    if progress is None or len(report.reports) == 1:
        whole: Any = report
        return verify(whole, request.device, dtype=request.dtype,
                      cross_check=request.cross_check, backward=request.backward,
                      notify=say)  # fmt: skip
    from dataclasses import replace

    total, verified = len(report.reports), []
    for done, point in enumerate(report.reports):
        progress(done, total, _point_name(point))
        verified.append(one(point))
    progress(total, total, "")
    return replace(report, reports=tuple(verified))


def _point_name(report: Report) -> str:
    spec = report.spec
    if "width" in spec and "resolution" in spec:
        return f"width {spec['width']:g}, resolution {spec['resolution']}"
    return report.figures.network.name


def _conventions(report: AnyReport, name: str) -> tuple[ConventionCount, ...]:
    """Each point's count under the convention (none for the paper's own)."""
    if name == "paper":
        return ()
    from convcalc.core.count.conventions import count

    return tuple(count(r.figures, name) for r in report.reports)


def _backward(report: AnyReport) -> tuple[Backward, ...]:
    """Each point's backward pass."""
    from convcalc.core.count.backward import backward

    return tuple(backward(r.figures) for r in report.reports)


def _readable_fold(report: Report, request: Request, say: Notify) -> int | None:
    """The fold a model's table uses: the one asked for; else, when ``readable``, the
    deepest module level that stays readable, said in a notice; else every layer."""
    if request.fold is not None or request.top is not None or not request.readable:
        return request.fold
    # Hundreds of layers do not read in a terminal: fold to the deepest module
    # depth that fits a screen, and say so (--fold 99 shows every layer).
    from convcalc.render.rows import READABLE_ROWS, readable_depth

    fold = readable_depth(report)
    if fold is not None:
        say(
            f"notice: {len(report.layers)} layers folded into modules {fold} level"
            f"{'s' if fold > 1 else ''} deep to stay under {READABLE_ROWS} rows "
            "(--fold N to choose, --fold 99 for every layer, --top K for the costliest)"
        )
    return fold


def _prefix(report: Report, reports: Sequence[Report]) -> str:
    if len(reports) == 1:
        return ""
    spec = report.spec
    if report.command == "mobilenet":
        return f"width {spec['width']:g} at {spec['resolution']}: "
    return f"{report.figures.network.name}: "


def _show(value: Any) -> str:
    if isinstance(value, int):
        return fmt_int(value)
    if isinstance(value, tuple):
        return "x".join(map(str, value))
    return str(value)


def plain(document: Any) -> Any:
    """A document as JSON reads it back (lists for tuples, string keys), so it compares
    equal to one read from a file (a baseline)."""
    if isinstance(document, dict):
        return {str(key): plain(value) for key, value in document.items()}
    if isinstance(document, list | tuple):
        return [plain(value) for value in document]
    return document
