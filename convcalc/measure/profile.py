"""Profile any ``nn.Module``: trace it, read it into primitives, analyze, and check
the analysis against torchinfo (and FlopCounterMode) run on the same model.

The model runs on the meta device by default (no weight memory, no data: a
billion-parameter model costs nothing). A model handed in on another device is
copied to meta structurally (its weights are never copied): the user's model
is never changed.
"""

from __future__ import annotations

import copy
import dataclasses
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torchinfo
from torch import nn

from convcalc.core import ops as O  # noqa: N812 - the op table's alias
from convcalc.core.figures import DTYPE_BYTES, NetworkFigures, analyze
from convcalc.core.graph import Network
from convcalc.core.report import Measurement, Report, build_checks
from convcalc.errors import EnvironmentUnavailableError, InvalidSpecError
from convcalc.measure.probe import read_summary
from convcalc.measure.read import read_trace
from convcalc.measure.target import describe_exception, resolve_device
from convcalc.measure.trace import evaluation, tensors, trace

Notify = Callable[[str], None]
INPUT_DTYPES = ("float32", "float16", "bfloat16", "float64", "long", "int64", "int32")


def meta_copy(model: nn.Module) -> nn.Module:
    """The model's structure with every parameter and buffer on meta (nothing copied)."""
    memo: dict[int, Any] = {}
    for tensor in [*model.parameters(), *model.buffers()]:
        empty = torch.empty_like(tensor, device="meta")
        memo[id(tensor)] = (
            nn.Parameter(empty, requires_grad=tensor.requires_grad)
            if isinstance(tensor, nn.Parameter)
            else empty
        )
    return copy.deepcopy(model, memo)


def _device_of(model: nn.Module) -> str | None:
    tensor = next(iter([*model.parameters(), *model.buffers()]), None)
    return None if tensor is None else tensor.device.type


def run_forward(model: nn.Module, x: torch.Tensor) -> Network:
    """Trace and read the model; the user's forward failing is a spec error (exit 2)."""
    try:
        recorded = trace(model, (x,))
    except TypeError as exc:
        if "positional argument" in str(exc) or "required" in str(exc):
            raise InvalidSpecError(
                f"the model's forward needs more than one input ({describe_exception(exc)}); "
                "convcalc passes one tensor"
            ) from exc
        raise InvalidSpecError(_forward_failed(x, exc)) from exc
    except Exception as exc:  # the user's forward pass: report its own words
        raise InvalidSpecError(_forward_failed(x, exc)) from exc
    if not recorded.outputs:
        raise InvalidSpecError("the model returned no tensor")
    return read_trace(recorded)


def _forward_failed(x: torch.Tensor, exc: BaseException) -> str:
    shape = "x".join(map(str, x.shape))
    return f"the model's forward pass failed on a {shape} input: {describe_exception(exc)}"


def profile_model(
    model: nn.Module,
    input_shape: Sequence[int],
    *,
    input_dtype: str = "float32",
    device: str = "meta",
    verify: bool = True,
    cross_check: bool = False,
    backward: bool = False,
    spec: dict[str, Any] | None = None,
    kind: str = "",
    notes: Sequence[str] = (),
    owned: bool = False,
) -> Report:
    """A Report of ``model`` on an input of ``input_shape``: every op's figures, and
    (``verify``) torchinfo's and FlopCounterMode's beside them (``backward``: around a
    training step of a meta copy too).

    ``owned``: convcalc built the model (from a factory), so it may convert its
    parameters to a floating ``input_dtype``; a user's model is only ever copied.
    """
    if input_dtype not in INPUT_DTYPES:
        raise InvalidSpecError(
            f"input dtype {input_dtype!r} is not one of {', '.join(INPUT_DTYPES)}"
        )
    if any(size <= 0 for size in input_shape):
        raise InvalidSpecError(f"input shape {list(input_shape)} must have positive sizes")
    target = resolve_device(device)
    torch_dtype = getattr(torch, "int64" if input_dtype == "long" else input_dtype)
    if _device_of(model) not in (None, target) and target == "meta":
        model, owned = meta_copy(model), True
    if owned and torch_dtype.is_floating_point:
        model = model.to(device=target, dtype=torch_dtype)
    x = torch.zeros(tuple(input_shape), dtype=torch_dtype, device=target)
    network = dataclasses.replace(
        run_forward(model, x), name=kind or type(model).__name__, notes=tuple(notes)
    )
    dtype = input_dtype if input_dtype in DTYPE_BYTES else "float32"
    figures = analyze(network, dtype)
    report = Report(
        "model",
        (spec or {}) | {"input_shape": list(input_shape), "input_dtype": input_dtype,
                        "dtype": dtype, "device": device},
        figures,
        kind=kind or type(model).__name__,
    )  # fmt: skip
    if not verify:
        return report
    measured = _measure(model, x, cross_check)
    measured = dataclasses.replace(measured, unpredictable=unpredictable(model, figures))
    if cross_check and backward:
        from convcalc.measure.training import training_flops

        trained = meta_copy(model)  # the user's model is never the one trained
        x_meta = torch.zeros(tuple(input_shape), dtype=torch_dtype, device="meta")
        measured = dataclasses.replace(
            measured, flop_counter_training_flops=training_flops(trained, x_meta)
        )
    return dataclasses.replace(report, measured=measured, checks=build_checks(figures, measured))


def _measure(model: nn.Module, x: torch.Tensor, cross_check: bool) -> Measurement:
    # A module registered under several parents keeps its first path, as the trace names it.
    paths: dict[int, str] = {}
    for path, module in model.named_modules(remove_duplicate=False):
        paths.setdefault(id(module), path)
    outputs: list[Any] = []  # the model's own result: torchinfo sizes a dict by its last tensor
    hook = model.register_forward_hook(lambda _module, _args, out: outputs.append(out))
    try:
        with evaluation(model), torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the model's own warnings were shown by the trace
            stats = torchinfo.summary(model, input_data=[x], verbose=0, device=x.device,
                                      mode="eval", depth=100)  # fmt: skip
            flops = _flop_counter_flops(model, x) if cross_check else None
    except Exception as exc:  # torchinfo's own failure on a model that traced fine
        raise EnvironmentUnavailableError(
            f"torchinfo could not summarise the model: {describe_exception(exc)}"
        ) from exc
    finally:
        hook.remove()
    # Each leaf call by module path; a module's second call is path@2 (as the trace names it).
    calls: dict[str, int] = {}
    names = []
    for info in stats.summary_list[1:]:
        if info.is_leaf_layer:
            path = paths.get(id(info.module), info.var_name)
            calls[path] = calls.get(path, 0) + 1
            names.append(path if calls[path] == 1 else f"{path}@{calls[path]}")
    measured = read_summary(stats, model, x, names, flops)
    first = tensors(outputs[0]) if outputs else []
    if first:  # the first tensor of the result, as the trace reads it (dicts, ModelOutput)
        measured = dataclasses.replace(measured, output_shape=tuple(first[0].shape))
    return measured


# torchinfo's rule for a leaf module's mult-adds reads its parameters by name, not the
# work it ran (torchinfo 1.8 LayerInfo.calculate_macs).
def _torchinfo_counts(name: str) -> bool:
    return "weight" in name or "bias" in name


def unpredictable(model: nn.Module, figures: NetworkFigures) -> tuple[tuple[str, str], ...]:
    """The figures torchinfo reports for this model by a rule of its own that no analytic
    figure predicts, each with the reason (their checks say "not compared").

    - A module registered under several parents (one SiLU in every YOLO conv) or a
      parameter tied to several modules (GPT-2's ``lm_head`` and ``wte``): torchinfo's
      parameter total counts it again under each (its leftover-parameter rule).
    - A leaf module whose parameter torchinfo counts by its name (``bias``, a
      ``relative_position_bias_table``) where the model reads it as data (a scale, an
      index into a table): torchinfo multiplies its size by the output's first axes.
    - A leaf module with no parameter that runs a weighted op on a buffer (a fixed blur
      filter): torchinfo counts parameters only, so it says 0 for that work.
    """
    reasons: list[tuple[str, str]] = []
    first: dict[int, str] = {}
    again: list[tuple[str, str]] = []
    for path, module in model.named_modules(remove_duplicate=False):
        if id(module) in first:
            again.append((path, first[id(module)]))
        first.setdefault(id(module), path)
    tied: dict[int, str] = {}
    tied_again: list[tuple[str, str]] = []
    for name, parameter in model.named_parameters(remove_duplicate=False):
        if id(parameter) in tied:
            tied_again.append((name, tied[id(parameter)]))
        tied.setdefault(id(parameter), name)
    # a shared module's own children and parameters are shared with it: name it alone
    repeated = {path for path, _ in again}
    again = [(p, o) for p, o in again if p.rpartition(".")[0] not in repeated]
    tied_again = [(n, o) for n, o in tied_again if n.rpartition(".")[0] not in repeated]
    if again or tied_again:
        path, other = (again or tied_again)[0]
        what = "module" if again else "parameter"
        count = len(again or tied_again)
        reason = (
            f"torchinfo counts a {what} registered in several places once per place "
            f"({path} is {other}{f', and {count - 1} more' if count > 1 else ''})"
        )
        reasons.append(("torchinfo_params", reason))
        if tied_again:
            reasons.append(("torchinfo_param_bytes", reason))
    as_data = {
        node.name.partition("#")[0]
        for node in figures.network.nodes
        if isinstance(node.op, O.Parameter)
    }
    modules = dict(model.named_modules())
    units = figures.torch_calls()
    for call in figures.network.torch_calls or tuple(units):
        path = call.partition("@")[0]
        module = modules.get(path)
        if module is None:
            continue
        owned = [name for name, _ in module.named_parameters()]
        read = [n for n in owned if _torchinfo_counts(n) and f"{path}.{n}".lstrip(".") in as_data]
        figure = f"{call}.torchinfo_mult_adds"
        if read:
            reasons.append((figure, (
                f"torchinfo counts {type(module).__name__}'s parameter {read[0]!r} by its "
                "name (its size times the output's leading sizes), where the model reads "
                "it as data"
            )))  # fmt: skip
        elif not owned and any(x.torchinfo_mult_adds for x in units.get(call, [])):
            kinds = sorted({x.type for x in units[call] if x.torchinfo_mult_adds})
            reasons.append((figure, (
                f"torchinfo counts a module's parameters only, and {type(module).__name__} "
                f"has none: its {', '.join(kinds)} runs on a buffer or a computed weight"
            )))  # fmt: skip
    return tuple(reasons)


def _flop_counter_flops(model: nn.Module, x: torch.Tensor) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        model(x)
    return int(counter.get_total_flops())
