"""A command's plan and its execution: parse into a request, run the pipeline, render, judge.

Every figure command returns a ``Plan`` (the library ``Request`` and how to
show its result) instead of running it: the app executes it (``execute``), and
``batch`` and ``check`` run the same plan through ``convcalc.pipeline`` with
no second parser and no captured output.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any

from convcalc.cli.collector import load_torch
from convcalc.cli.options import Common
from convcalc.cli.output import emit, notify
from convcalc.core.values.record import Record
from convcalc.errors import InvalidSpecError
from convcalc.pipeline import ModelTarget, Notify, Progress, Request, Result, Subject
from convcalc.pipeline import run as run_pipeline
from convcalc.render import OutputFormat


class Plan(Record):
    """A parsed figure command: what to compute, and how to show it."""

    request: Request
    common: Common
    plot: str | None = None  # a sweep's MACs-against-params plot, written after the document
    # model --batch 1,8,32: the batch sizes drawn on the roofline (the request is the first's)
    batches: tuple[int, ...] = ()


def plan(
    subject: Subject,
    common: Common,
    *,
    fold: int | None = None,
    top: int | None = None,
    plot: str | None = None,
    allow_partial: bool = False,
) -> Plan:
    """The request for ``subject`` under the common options. A model's table folds to a
    readable depth only where a table is shown (not with JSON or ``--value``)."""
    readable = common.value is None and common.output is not OutputFormat.json
    request = Request(
        subject,
        dtype=common.dtype,
        device=common.device,
        verify=common.verify,
        cross_check=common.cross_check,
        backward=common.backward,
        convention=common.convention,
        limits=common.limits,
        fold=fold,
        top=top,
        readable=readable,
        allow_partial=allow_partial,
        hardware=common.hardware,
        fused=common.fused,
        measure_time=common.measure_time,
    )
    return Plan(request, common, common.plot if plot is None else plot)


def compute(job: Plan, say: Notify = notify) -> Result:
    """Run the plan's request (one torch thread; a sweep's progress bar on a terminal),
    then draw its plot. Raises what the pipeline raises; a failure is the result's."""
    request = job.request
    if request.verify or isinstance(request.subject, ModelTarget) or request.measure_time:
        load_torch()
    if request.verify and not isinstance(request.subject, ModelTarget):
        use_one_thread()
    with _progress(request) as progress:
        return run_pipeline(request, notify=say, progress=progress)


def execute(job: Plan) -> None:
    """Compute, write the result to stdout, draw the plot, then raise its failure (exit 1)."""
    result = compute(job)
    emit(result, job.common)
    finish(job, result)


def finish(job: Plan, result: Result, say: Notify = notify) -> None:
    """After the document: the plot, then the result's failure raised (exit 1)."""
    if job.plot is not None and job.request.hardware is not None:
        from convcalc.render.roofline_plot import plot_roofline

        plot_roofline([*result.report.reports, *_other_batches(job, say)], job.plot)
        say(f"notice: wrote the roofline to {job.plot}")
    elif job.plot is not None:
        from convcalc.render.plot import plot_sweep

        plot_sweep(result.report.reports, job.plot)
        say(f"notice: wrote {job.plot}")
    failure = result.failure()
    if failure is not None:
        raise failure


def _other_batches(job: Plan, say: Notify) -> list[Any]:
    """The model at each batch of its sweep after the first (analytic figures only, and
    timed where the first was), for the roofline picture."""
    subject = job.request.subject
    if len(job.batches) < 2 or not isinstance(subject, ModelTarget):
        return []
    shape = subject.input_shape or ()
    reports: list[Any] = []
    for batch in job.batches[1:]:
        point = dataclasses.replace(subject, input_shape=(batch, *shape[1:]))
        request = dataclasses.replace(job.request, subject=point, verify=False, limits={},
                                      readable=False)  # fmt: skip
        say(f"notice: the roofline at batch {batch}")
        reports.extend(run_pipeline(request, notify=say).report.reports)
    return reports


def check_plot(plot: str | None) -> None:
    """A --plot file name, and matplotlib, checked before any work (not after the document)."""
    if plot is None:
        return
    from convcalc.render.plot import require_matplotlib

    if not plot.lower().endswith((".png", ".svg")):
        raise InvalidSpecError(f"plot={plot!r} must end in .png or .svg")
    require_matplotlib()


@contextlib.contextmanager
def _progress(request: Request) -> Iterator[Progress | None]:
    """A progress bar on stderr while a sweep is verified, on a terminal only
    (redirected stderr gets no control codes)."""
    from convcalc.core.designs import Sweep

    if not request.verify or not isinstance(request.subject, Sweep):
        yield None
        return
    from rich.progress import Progress as Bar

    from convcalc.cli.output import console

    err = console(stderr=True)
    with Bar(console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("verifying", total=None)

        def advance(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=f"verifying {what}")

        yield advance


def use_one_thread() -> None:
    """One torch thread for verification (imports torch: the verify path only)."""
    try:
        from convcalc.measure.probe import use_one_thread as one_thread
    except ImportError:
        return  # verify() says what is missing
    one_thread()
