"""Measure a network: build it on a device, run torchinfo (and FlopCounterMode).

Costs, measured: ``import torch`` is most of a verified run; a small CPU
forward costs milliseconds; the first meta-device forward costs about 0.3-0.5 s
of lazy imports (more through BatchNorm); the first ``FlopCounterMode`` costs
about 1-2 s. So small specs run for real on the CPU, large ones on ``meta``
(same shapes, params and counts, no data), and FlopCounterMode only on request.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

# Imported here, not lazily inside the functions: the CLI imports this module
# only on the verify path and turns an ImportError of it into exit 3 ("torch
# missing"); a lazy import would escape that as a traceback.
import torch
import torchinfo

from convcalc.core.count.figures import NetworkFigures
from convcalc.core.documents.checks import LayerMeasurement, Measurement, build_checks
from convcalc.core.documents.report import Report
from convcalc.core.nets.graph import Network
from convcalc.core.ops.primitives import fmt_int
from convcalc.errors import EnvironmentUnavailableError
from convcalc.measure.read_vision import packed_params

# A real forward pass is used only when it is small: above either limit the
# run verifies on the meta device instead, which gives the same figures.
REAL_FORWARD_BYTES = 256 * 2**20
REAL_FORWARD_MACS = 4 * 10**9

TORCH_DTYPES = ("float32", "float16", "bfloat16", "float64")

# torch sizes are int64, and it adds and multiplies them (padded sizes, d x (k - 1)):
# beyond this, torch overflows with a traceback instead of an error we can report.
TORCH_SIZE_LIMIT = 2**61

Notify = Callable[[str], None]

# What a forward pass of a graph convcalc built itself can fail on that is the
# environment's doing, not a bug: no kernel for this dtype on this device,
# memory, the CUDA runtime. Anything else keeps its traceback, so it gets fixed.
ENVIRONMENT_FAILURES = (
    "not implemented for",
    "out of memory",
    "can't allocate memory",
    "cuda",
    "cudnn",
)


def verify_report(
    report: Report,
    requested: str,
    *,
    cross_check: bool = False,
    backward: bool = False,
    notify: Notify | None = None,
) -> Report:
    """``report`` with its measured figures and the checks between the two sides
    (``cross_check`` and ``backward``: FlopCounterMode around a training step too)."""
    device = choose_device(requested, report.figures, notify or (lambda _message: None))
    measured = measure(report.figures, device, cross_check=cross_check, backward=backward)
    return dataclasses.replace(
        report, measured=measured, checks=build_checks(report.figures, measured)
    )


def choose_device(requested: str, figures: NetworkFigures, notify: Notify) -> str:
    """The device to verify on: the user's choice, or meta when a real forward is too big.

    Raises EnvironmentUnavailableError when CUDA is asked for and absent.
    """
    if requested == "cuda" and not torch.cuda.is_available():
        raise EnvironmentUnavailableError("--device cuda was asked for, but CUDA is not available")
    # Before any notice: a size torch cannot hold is one error line, not a
    # meta-fallback notice followed by it. (measure checks again for library callers.)
    check_torch_sizes(figures)
    device = requested
    if requested == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "meta":
        return device
    forward_bytes = figures.input_bytes + figures.activation_bytes + figures.param_bytes
    macs = figures.totals.macs
    if forward_bytes > REAL_FORWARD_BYTES or macs > REAL_FORWARD_MACS:
        notify(
            f"notice: a real forward pass would need {_mib(forward_bytes)} and "
            f"{fmt_int(macs)} MACs on {device}; verifying on the meta device instead "
            "(same shapes, parameters and counts, no data)"
        )
        return "meta"
    return device


def use_one_thread() -> None:
    """One intra-op thread: verification forwards are small, and a second thread
    spins against any other busy process (a sweep: 4.2 s with one, 11.9 s with
    two under load). The CLI calls this; library users keep their own setting."""
    torch.set_num_threads(1)


def check_torch_sizes(figures: NetworkFigures) -> None:
    """Raise EnvironmentUnavailableError when a size is too large for torch's int64 sizes."""
    network = figures.network
    sizes = [math.prod(network.input_shape), *network.input_shape]
    for layer in figures.layers:
        sizes += [math.prod(layer.output_shape), *layer.output_shape, layer.params]
    for node in network.nodes:
        op = node.op
        for field in dataclasses.fields(op):
            value = getattr(op, field.name)
            values = value if isinstance(value, tuple) else (value,)
            sizes += [v for v in values if type(v) is int]
        sizes += op.tensor_sizes()
    if max(sizes) > TORCH_SIZE_LIMIT:
        raise EnvironmentUnavailableError(
            f"torch cannot hold a size of {fmt_int(max(sizes))} (its sizes are 64-bit); "
            "use --no-verify for the analytic figures"
        )


def measure(
    figures: NetworkFigures, device: str, *, cross_check: bool = False, backward: bool = False
) -> Measurement:
    """Build ``figures.network`` on ``device`` and read its figures off torch and torchinfo
    (``cross_check``: and FlopCounterMode; with ``backward``, around a training step,
    on a meta build of the same network)."""
    from convcalc.measure.build import GraphModule

    check_torch_sizes(figures)

    dtype = getattr(torch, figures.dtype)
    target = torch.device(device)
    # Built straight on the target device. (Building on meta and calling
    # ``to_empty`` would skip the random init, but it imports sympy: 1.2 s.)
    with torch.device(target):
        model = GraphModule(figures.network)
    model = model.to(dtype=dtype)
    model.eval()
    x = torch.zeros(figures.network.input_shape, dtype=dtype, device=target)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # padding='same' with an even kernel makes torch warn about a padded
            # copy of the input: a performance note, not ours to show the user.
            warnings.filterwarnings(
                "ignore", message="Using padding='same' with even kernel", category=UserWarning
            )
            stats = torchinfo.summary(model, input_data=x, verbose=0, device=target, mode="eval")
            flops = _flop_counter_flops(model, x) if cross_check else None
    except RuntimeError as exc:
        cause: BaseException = exc
        while cause.__cause__ is not None:  # torchinfo wraps the real error ("see above")
            cause = cause.__cause__
        text = str(cause).strip()
        if not any(marker in text.lower() for marker in ENVIRONMENT_FAILURES):
            raise  # a bug in the graph convcalc built: keep the traceback
        first = text.splitlines()[0] if text else type(cause).__name__
        raise EnvironmentUnavailableError(
            f"torch could not run the forward pass on {device} in {figures.dtype}: {first}"
        ) from exc
    leaves = [info for info in stats.summary_list[1:] if info.is_leaf_layer]
    names = _node_names(figures.network, [info.var_name for info in leaves])
    measured = read_summary(stats, model, x, names, flops)
    if not (cross_check and backward):
        return measured
    from convcalc.measure.training import training_flops

    with torch.device("meta"):
        owned = GraphModule(figures.network).to(dtype=dtype)
    x_meta = torch.zeros(figures.network.input_shape, dtype=dtype, device="meta")
    return dataclasses.replace(measured, flop_counter_training_flops=training_flops(owned, x_meta))


def read_summary(
    stats: Any, model: torch.nn.Module, x: torch.Tensor, names: Sequence[str], flops: int | None
) -> Measurement:
    """A Measurement from a torchinfo summary of ``model`` on ``x``; ``names`` are the
    nodes (or module calls) its leaf calls ran for, in order."""
    leaves = [info for info in stats.summary_list[1:] if info.is_leaf_layer]
    root = stats.summary_list[0]
    return Measurement(
        device=x.device.type,
        # an int8 model's packed weights are no parameters, but are its weights
        params=sum(p.numel() for p in model.parameters()) + packed_params(model),
        trainable_params=sum(p.numel() for p in model.parameters() if p.requires_grad),
        output_shape=_first_shape(root.output_size),
        torchinfo_params=stats.total_params,
        torchinfo_mult_adds=stats.total_mult_adds,
        param_bytes=sum(p.numel() * p.element_size() for p in model.parameters()),
        torchinfo_param_bytes=stats.total_param_bytes,
        input_bytes=x.nelement() * x.element_size(),
        torchinfo_input_bytes=stats.total_input,
        torchinfo_forward_backward_bytes=stats.total_output_bytes,
        layers=tuple(
            LayerMeasurement(name, _first_shape(info.output_size), info.num_params, info.macs)
            for name, info in zip(names, leaves, strict=True)
        ),
        flop_counter_flops=flops,
    )


def _first_shape(size: Any) -> tuple[int, ...]:
    """torchinfo's output size: a list of ints, or of lists for several outputs (the first)."""
    if size and isinstance(size[0], list | tuple):
        return tuple(size[0])
    return tuple(size)


def _node_names(network: Network, modules: Sequence[str]) -> list[str]:
    """The node each torchinfo call ran for, by name.

    torchinfo names a call by its module (``b3_dw``); a module whose weights
    two nodes share runs once for each, in order. A call of a module no node
    expects keeps its module name, so the checks report it as unexpected.
    """
    from convcalc.measure.build import module_key

    waiting: dict[str, list[str]] = {}
    for node in network.nodes:
        waiting.setdefault(module_key(network.owner(node).name), []).append(node.name)
    return [waiting[m].pop(0) if waiting.get(m) else m for m in modules]


def _flop_counter_flops(model: object, x: object) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        model(x)  # type: ignore[operator]
    return int(counter.get_total_flops())


def _mib(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB" if size < 2**30 else f"{size / 2**30:,.1f} GiB"
