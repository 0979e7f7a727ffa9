"""Profile any ``nn.Module``: trace it, read it into primitives, analyze, and check
the analysis against torchinfo (and FlopCounterMode) run on the same model.

The model runs on the meta device by default (no weight memory, no data: a
billion-parameter model costs nothing). A model handed in on another device is
copied to meta structurally (its weights are never copied): the user's model
is never changed.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import inspect
import warnings
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, NoReturn

import torch
import torchinfo
from torch import nn
from torch.overrides import TorchFunctionMode

from convcalc.core.count.figures import DTYPE_BYTES, NetworkFigures, analyze
from convcalc.core.documents.checks import Measurement, build_checks
from convcalc.core.documents.report import Report
from convcalc.core.nets.graph import Network
from convcalc.core.ops import traced as O  # noqa: N812 - the op table's alias
from convcalc.errors import EnvironmentUnavailableError, InvalidSpecError
from convcalc.measure.inputs import DTYPES, ExampleInputs, TensorSpec, check_dtype, dtype_name
from convcalc.measure.probe import read_summary
from convcalc.measure.read import read_trace
from convcalc.measure.read_vision import box_share, packed_not_run, packed_unpredictable
from convcalc.measure.target import describe_exception, meta_forward_failed, resolve_device
from convcalc.measure.trace import (
    OBSERVERS,
    Recording,
    evaluation,
    meta_without_dynamo,
    observer_call,
    tensors,
    trace,
    tracing,
)

Notify = Callable[[str], None]
INPUT_DTYPES = tuple(DTYPES)
# summary()'s own keyword names: a keyword input so named would be taken as its option.
TORCHINFO_OPTIONS = frozenset(inspect.signature(torchinfo.summary).parameters) - {"kwargs"}


def meta_copy(model: nn.Module) -> nn.Module:
    """The model's structure with every parameter and buffer on meta (nothing copied), and
    every other tensor a module holds: a weight that the old ``nn.utils.weight_norm``
    computes before each forward pass is one, and torch refuses to deep-copy it."""
    memo: dict[int, Any] = {}
    held = [t for m in model.modules() for t in vars(m).values() if isinstance(t, torch.Tensor)]
    for tensor in [*model.parameters(), *model.buffers(), *held]:
        empty = torch.empty_like(tensor, device="meta")
        memo[id(tensor)] = (
            nn.Parameter(empty, requires_grad=tensor.requires_grad)
            if isinstance(tensor, nn.Parameter)
            else empty
        )
    return copy.deepcopy(model, memo)


def _moved(model: nn.Module, device: str, dtype: str) -> nn.Module:
    """``model.to(device, dtype)``, skipped when every tensor is there already: a library
    first imported inside a meta build keeps class-level tensors on meta (ultralytics'
    Detect.anchors), which its own ``_apply`` then fails to move."""
    want = getattr(torch, dtype)
    tensors = [*model.parameters(), *model.buffers()]
    if all(t.device.type == device and (t.dtype == want or not t.is_floating_point())
           for t in tensors):  # fmt: skip
        return model
    return model.to(device=device, dtype=want)


def _device_of(model: nn.Module) -> str | None:
    tensor = next(iter([*model.parameters(), *model.buffers()]), None)
    return None if tensor is None else tensor.device.type


# Calls whose result is the input's values in Python, or whose size depends on them: a
# forward that makes one may take another path (or other sizes) on other values, and the
# meta device, which has no values, cannot run it.
VALUE_READS = {
    "item": "Tensor.item",
    "__bool__": "Tensor.__bool__, an if on a tensor",
    "__int__": "Tensor.__int__",
    "__float__": "Tensor.__float__",
    "__index__": "Tensor.__index__",
    "tolist": "Tensor.tolist",
    "numpy": "Tensor.numpy",
    "nonzero": "nonzero",
    "argwhere": "argwhere",
    "masked_select": "masked_select",
    "unique": "unique",
    "unique_consecutive": "unique_consecutive",
    "nms": "NMS, torchvision.ops.nms",
    "batched_nms": "NMS, torchvision.ops.batched_nms",
}


class _ValueReads(TorchFunctionMode):
    """Notes every call of VALUE_READS a forward makes (outside the trace's own mode, so it
    sees the calls the trace passes on, composites' inner calls included)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def __torch_function__(
        self,
        func: Callable[..., Any],
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if name in VALUE_READS:
            seen = VALUE_READS[name]
        elif name == "where" and len(args) + len(kwargs) == 1:  # where(condition): nonzero
            seen = "where(condition)"
        else:
            return func(*args, **kwargs)
        if not observer_call():  # torchinfo's hooks read a pruned weight's mask: not the model
            self.seen.append(seen)
        return func(*args, **kwargs)


# torch's fused recurrent functions, as nn.LSTM, nn.GRU and nn.RNN call them.
RECURRENT = (torch.lstm, torch.gru, torch.rnn_tanh, torch.rnn_relu)


class _RecurrentShapes(TorchFunctionMode):
    """A fused recurrent call on meta answered with its results' shapes, not run: meta has
    no kernel for it, so torch runs its gates step by step in Python references (about a
    second for 64 steps of a 2-layer LSTM, per pass). The trace and torchinfo read the
    call, never what is inside it; the FlopCounterMode counts (which do read the gates)
    run without this mode.

    ``torch.lstm(input, (h, c), weights, ...)`` -> output, h_n, c_n; ``gru``, ``rnn_tanh``
    and ``rnn_relu`` take ``h`` and give output, h_n; a packed sequence's forms take the
    batch sizes second. output: the input's sizes but the last, directions x h's last.
    """

    def __torch_function__(
        self,
        func: Callable[..., Any],
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        kwargs = kwargs or {}
        shaped = _recurrent_results(func, args) if func in RECURRENT and not kwargs else None
        return func(*args, **kwargs) if shaped is None else shaped


def _recurrent_results(func: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """The results of a fused recurrent call on meta tensors, as meta tensors; None where
    the call is not one nn.LSTM/GRU/RNN makes on meta with matching sizes (torch runs it
    then, and raises its own error)."""
    if len(args) != 9 or not isinstance(args[0], torch.Tensor) or not args[0].is_meta:
        return None
    packed = isinstance(args[3], (list, tuple))  # (data, batch_sizes, hx, weights, ...)
    state, weights = (args[2], args[3]) if packed else (args[1], args[2])
    bidirectional = args[8] if packed else args[7]
    states = tuple(state) if isinstance(state, (list, tuple)) else (state,)
    if (
        len(states) != (2 if func is torch.lstm else 1)
        or not all(isinstance(t, torch.Tensor) and t.is_meta for t in states)
        or not weights
        or weights[0].shape[-1] != args[0].shape[-1]  # layer 1's w_ih: (gates, input)
    ):
        return None
    x = args[0]
    directions = 2 if bidirectional else 1
    output = x.new_empty((*x.shape[:-1], directions * states[0].shape[-1]))
    return (output, *(torch.empty_like(t) for t in states))


class MetaUnsupportedError(Exception):
    """The forward pass cannot run on the meta device: ``call`` is what needed values."""

    def __init__(self, call: str, cause: BaseException) -> None:
        super().__init__(call)
        self.call = call
        self.cause = cause


def _meta_call(exc: BaseException, seen: list[str]) -> str | None:
    """What a forward on meta failed on, when it failed for want of values; else None."""
    text = f"{type(exc).__name__}: {exc}".lower()
    if "quantized" in text or "packed" in text:
        return "int8 packed weights (quantized ops have no meta kernels)"
    if seen:
        return seen[-1]
    if "meta" not in text:
        return None
    for marker, call in (("item()", "Tensor.item"), ("nonzero", "nonzero"), ("nms", "NMS"),
                         ("copy out of meta", "a copy of a tensor's values")):  # fmt: skip
        if marker in text:
            return call
    return describe_exception(exc)


def run_forward(
    model: nn.Module,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    described: str,
    *,
    summarise: bool = False,
) -> tuple[Network, tuple[str, ...], Summarised | None]:
    """Trace and read ``model(*args, **kwargs)``, and the calls it made that read values
    (VALUE_READS). The user's forward failing is a spec error (exit 2) that names the
    inputs it was given (``described``); on meta, for want of values, MetaUnsupportedError.

    ``summarise``: the forward traced is the one torchinfo's summary runs (one pass for
    the figures and their check); its statistics and the model's result come back too.
    Nothing torchinfo does is traced (``trace.tracing``'s ``observed``), and its figures
    are its own. Where torchinfo itself fails, the trace runs alone (and ``_measure``
    runs torchinfo again, which says why it fails).
    """
    reads = _ValueReads()
    on_meta = any(t.device.type == "meta" for t in tensors([args, kwargs]))
    summarised = None
    recording: Recording | None = None
    # under the trace's mode, they see what it passes on; shapes for a fused recurrent
    # call on meta only (a real device runs it)
    beneath = (_RecurrentShapes(), reads) if on_meta else (reads,)
    try:
        if summarise:  # the modes are on for the model's own call alone, not torchinfo's work
            with tracing(model, args, kwargs, observed=True, beneath=beneath) as recording:
                stats = _summary(model, args, kwargs)
            recorded = recording.finish(recording.output)
            summarised = (stats, recording.output)
        else:
            recorded = trace(model, args, kwargs, beneath=beneath)
    except Exception as exc:
        failure = _model_failure(exc, recording) if summarise else exc
        if failure is None:  # torchinfo's own: the trace alone, torchinfo's error later
            return run_forward(model, args, kwargs, described)
        call = _meta_call(failure, reads.seen) if on_meta else None
        if call is not None:
            raise MetaUnsupportedError(call, failure) from failure
        _forward_error(failure, args, described)
    if not recorded.outputs:
        raise InvalidSpecError("the model returned no tensor")
    return read_trace(recorded), tuple(dict.fromkeys(reads.seen)), summarised


# torchinfo's summary of a model and the model's own result in that pass.
Summarised = tuple[Any, Any]


def _summary(model: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """torchinfo's summary of ``model(*args, **kwargs)``: every module, eval mode (its
    ModelStatistics). No ``device``: given one, torchinfo calls ``model.to(device)`` before
    the forward, which changes nothing where the model is already there and fails where a
    library's ``_apply`` moves a tensor that its forward would have set (ultralytics'
    Detect.anchors, left on meta by a failed meta build)."""
    return torchinfo.summary(model, input_data=list(args), verbose=0, mode="eval", depth=100,
                             **kwargs)  # fmt: skip


def _model_failure(exc: BaseException, recording: Recording | None) -> BaseException | None:
    """The model's own exception out of torchinfo's summary (which raises "Failed to run
    torchinfo" from it); None where torchinfo's code failed: before or after the model's
    forward, or in its hooks (a frame of torchinfo's beneath the forward it called)."""
    inner = exc.__cause__
    if (
        inner is None
        or recording is None
        or not recording.running
        or not _frames_in_torchinfo(exc.__traceback__, last_only=True)
    ):
        return None
    below = inner.__traceback__.tb_next if inner.__traceback__ is not None else None
    return None if _frames_in_torchinfo(below) else inner


def _frames_in_torchinfo(tb: TracebackType | None, *, last_only: bool = False) -> bool:
    """Whether any frame of the traceback ``tb`` (``last_only``: where it was raised) is
    torchinfo's code."""
    found = False
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        found = module.partition(".")[0] in OBSERVERS or (found and not last_only)
        tb = tb.tb_next
    return found


def _forward_error(exc: BaseException, args: tuple[Any, ...], described: str) -> NoReturn:
    """Raise the user's forward failure as one InvalidSpecError."""
    text = str(exc)
    if isinstance(exc, TypeError) and ("positional argument" in text or "required" in text):
        count = f"{len(args)} positional input{'s' if len(args) != 1 else ''}"
        raise InvalidSpecError(
            f"the model's forward takes other inputs than the {count} given "
            f"({describe_exception(exc)}): give one --input-shape per positional input, "
            "or --inputs FILE.py:FUNCTION returning them"
        ) from exc
    # the user's forward pass: report its own words
    raise InvalidSpecError(_forward_failed(described, exc)) from exc


def _forward_failed(described: str, exc: BaseException) -> str:
    inputs = f"a {described} input" if "," not in described else f"inputs {described}"
    return f"the model's forward pass failed on {inputs}: {describe_exception(exc)}"


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
    inputs: ExampleInputs | None = None,
    dtype: str | None = None,
    notify: Notify | None = None,
    rebuild: Callable[[], nn.Module] | None = None,
    measure_time: Any = None,
) -> Report:
    """A Report of ``model`` on an input of ``input_shape`` (or on ``inputs``: several,
    keyword, nested, each of its own dtype): every op's figures, and (``verify``)
    torchinfo's and FlopCounterMode's beside them (``backward``: around a training step
    of a meta copy too).

    ``dtype``: the model's floating dtype (default: ``input_dtype`` when it is one, else
    float32). ``owned``: convcalc built the model (from a factory), so it may convert its
    parameters to that dtype; a user's model is only ever copied.

    Where the forward cannot run on meta (``.item()``, ``nonzero``, NMS, int8 packed
    weights), it runs on the CPU instead, said to ``notify``: the user's own model where
    it is on a real device, else ``rebuild()`` (the factory again, on the CPU); with
    neither, an error that names ``--device cpu``. Where convcalc built the model on the
    CPU because a forward pass its constructor ran failed on meta, it runs there at once.
    A forward that read values (VALUE_READS) on a real device gets a notice that its
    figures hold for that input.
    """
    check_dtype(input_dtype)
    given = inputs or ExampleInputs((TensorSpec(tuple(input_shape)),), {}, input_dtype)
    first = given.first_shape()
    if dtype is None:
        dtype = dtype_name(DTYPES[input_dtype])
    if dtype not in DTYPE_BYTES:
        dtype = "float32"
    target = resolve_device(device)
    said = list(notes)
    failed = meta_forward_failed(model) if owned and target == "meta" else None
    if isinstance(failed, str):  # a zoo model known not to run on meta, built on the CPU
        target = _device_of(model) or "cpu"
        said.append(failed)
    elif failed is not None:  # its constructor's forward failed on meta: this one would too
        target = _device_of(model) or "cpu"
        said.append(_ran_instead(_meta_call(failed, []) or describe_exception(failed), target))
    original, built = model, owned
    if _device_of(model) not in (None, target) and target == "meta":
        model, owned = meta_copy(model), True
    if owned:
        model = _moved(model, target, dtype)
    args, kwargs = given.make(target, model)
    # One forward for the trace and torchinfo's check; a keyword input named as one of
    # summary()'s options cannot reach torchinfo: the trace alone, and _measure says so.
    summarise = verify and not TORCHINFO_OPTIONS & set(kwargs)
    try:
        with meta_without_dynamo() if target == "meta" else contextlib.nullcontext():
            read, reads, summarised = run_forward(
                model, args, kwargs, given.describe(), summarise=summarise
            )
    except MetaUnsupportedError as failure:
        model, owned = _real_model(original, built, rebuild, failure)
        target = _device_of(model) or "cpu"
        if owned:
            model = _moved(model, target, dtype)
        args, kwargs = given.make(target, model)
        said.append(_ran_instead(failure.call, target))
        read, reads, summarised = run_forward(
            model, args, kwargs, given.describe(), summarise=summarise
        )
    if reads and target != "meta":
        said.append(
            f"the forward pass read tensor values ({', '.join(reads)}): its path or sizes "
            "can depend on them, so these figures hold for the input it ran on (seeded: "
            "floats uniform in [0, 1), integers below the vocabulary)"
        )
    for note in said[len(notes) :]:
        (notify or (lambda _message: None))(f"notice: {note}")
    network = dataclasses.replace(
        read,
        name=kind or type(model).__name__,
        notes=tuple(said),
        inputs=tuple((spec.shape, spec.dtype or dtype) for _, spec in given.leaves()),
        input_shape=_batch_of_images(given) or read.input_shape,
    )
    network = packed_not_run(model, network)  # an int8 model's weights no op read
    figures = analyze(network, dtype)
    share = box_share(figures)
    if share is not None:  # a detector's heads: their share depends on the boxes kept
        (notify or (lambda _message: None))(f"notice: {share}")
        network = dataclasses.replace(network, notes=(*network.notes, share))
        figures = dataclasses.replace(figures, network=network)
    described = {"input_shape": list(first), "input_dtype": input_dtype, "dtype": dtype,
                 "device": device}  # fmt: skip
    if inputs is not None:
        described["inputs"] = given.to_dict()
    report = Report("model", (spec or {}) | described, figures, kind=kind or type(model).__name__)
    if measure_time is not None:  # a core.count.timing.TimingOptions: each leaf call, for real
        from convcalc.measure.timing import time_model

        timing = time_model(model, args, kwargs, options=measure_time)
        report = dataclasses.replace(report, timing=timing)
    if not verify:
        return report
    measured = _measure(model, args, kwargs, cross_check, network.torch_calls, summarised)
    measured = dataclasses.replace(measured, unpredictable=unpredictable(model, figures))
    if cross_check and backward and target == "meta":  # (a meta copy: where it runs)
        from convcalc.measure.training import training_flops

        trained = meta_copy(model)  # the user's model is never the one trained
        meta_args, meta_kwargs = given.make("meta", trained)
        measured = dataclasses.replace(
            measured,
            flop_counter_training_flops=training_flops(trained, meta_args, meta_kwargs),
        )
    return dataclasses.replace(report, measured=measured, checks=build_checks(figures, measured))


def _ran_instead(call: str, target: str) -> str:
    return (
        f"the forward pass cannot run on the meta device ({call}); "
        f"ran it on the {target.upper() if target == 'cpu' else target} instead"
    )


def _batch_of_images(given: ExampleInputs) -> tuple[int, ...] | None:
    """N x C x H x W for a first input that is a list of N images of one C x H x W (a
    torchvision detector's): the batch they make, where the first tensor is one image."""
    first = given.args[0] if given.args else None
    if not isinstance(first, list) or not first:
        return None
    shapes = {item.shape for item in first if isinstance(item, TensorSpec)}
    if len(shapes) != 1 or len(first) != sum(isinstance(i, TensorSpec) for i in first):
        return None
    (shape,) = shapes
    return (len(first), *shape) if len(shape) == 3 else None


def _real_model(
    original: nn.Module,
    built: bool,
    rebuild: Callable[[], nn.Module] | None,
    failure: MetaUnsupportedError,
) -> tuple[nn.Module, bool]:
    """The model to run on a real device when meta cannot run it, and whether convcalc
    owns it: the one given, where it is on one (run as it is, left as it was found),
    else ``rebuild()`` on the CPU."""
    if _device_of(original) not in (None, "meta"):
        return original, built
    if rebuild is not None:
        with torch.device("cpu"):
            return rebuild(), True
    raise InvalidSpecError(
        f"the model's forward pass cannot run on the meta device ({failure.call}: "
        f"{describe_exception(failure.cause)}), and the model was given on meta, with no "
        "values to run on the CPU: build it on the CPU and run with --device cpu"
    )


def _measure(
    model: nn.Module,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    cross_check: bool,
    traced: Sequence[str] = (),
    summarised: Summarised | None = None,
) -> Measurement:
    """torchinfo (and FlopCounterMode with ``cross_check``) on the model; each leaf call
    is named as the trace named it (``traced``, in order). ``summarised``: torchinfo's
    summary and the model's result from the traced forward (run_forward), else run here."""
    clash = sorted(TORCHINFO_OPTIONS & set(kwargs))
    if clash:
        raise InvalidSpecError(
            f"torchinfo cannot pass a keyword input named {clash[0]!r} (its own option's "
            "name): give it positionally, or use --no-verify"
        )
    given = tensors([args, kwargs])
    x = given[0]
    # A module registered under several parents keeps its first path, as the trace names it.
    paths: dict[int, str] = {}
    for path, module in model.named_modules(remove_duplicate=False):
        paths.setdefault(id(module), path)
    if summarised is None:
        stats, outputs = _summarised(model, args, kwargs)
    else:
        stats, outputs = summarised[0], [summarised[1]]
    flops = _flop_counter_flops(model, args, kwargs) if cross_check else None
    # Each leaf call by the trace's name for it, module by module in the order they ran (a
    # module registered under several parents is named by the path its caller holds it
    # by); else by module path, a module's second call path@2.
    modules = dict(model.named_modules(remove_duplicate=False))
    waiting: dict[int, list[str]] = {}
    for call in traced:
        module = modules.get(call.partition("@")[0])
        if module is not None:
            waiting.setdefault(id(module), []).append(call)
    calls: dict[str, int] = {}
    names = []
    for info in stats.summary_list[1:]:
        if info.is_leaf_layer:
            path = paths.get(id(info.module), info.var_name)
            calls[path] = calls.get(path, 0) + 1
            queue = waiting.get(id(info.module))
            names.append(queue.pop(0) if queue else
                         path if calls[path] == 1 else f"{path}@{calls[path]}")  # fmt: skip
    measured = read_summary(stats, model, x, names, flops)
    # every input, each by its own dtype (torchinfo's total_input adds Python overheads)
    input_bytes = sum(t.nelement() * t.element_size() for t in given)
    measured = dataclasses.replace(measured, input_bytes=input_bytes)
    first = tensors(outputs[0]) if outputs else []
    if first:  # the first tensor of the result, as the trace reads it (dicts, ModelOutput)
        measured = dataclasses.replace(measured, output_shape=tuple(first[0].shape))
    return measured


def _summarised(
    model: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, list[Any]]:
    """torchinfo's summary in a pass of its own, and the model's result in it."""
    outputs: list[Any] = []  # the model's own result: torchinfo sizes a dict by its last tensor
    hook = model.register_forward_hook(lambda _module, _args, out: outputs.append(out))
    try:
        with evaluation(model), torch.no_grad(), warnings.catch_warnings(), _RecurrentShapes():
            warnings.simplefilter("ignore")  # the model's own warnings were shown by the trace
            stats = _summary(model, args, kwargs)
    except Exception as exc:  # torchinfo's own failure on a model that traced fine
        raise EnvironmentUnavailableError(
            f"torchinfo could not summarise the model: {describe_exception(exc)}"
        ) from exc
    finally:
        hook.remove()
    return stats, outputs


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
    reasons: list[tuple[str, str]] = [*packed_unpredictable(model), *_fused_lstm(model)]
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
    named = {id(p): name for name, p in model.named_parameters()}
    modules = dict(model.named_modules(remove_duplicate=False))  # a call by any path
    units = figures.torch_calls()
    for call in figures.network.torch_calls or tuple(units):
        path = call.partition("@")[0]
        module = modules.get(path)
        if module is None:
            continue
        owned = [name for name, _ in module.named_parameters()]
        # the trace names a tied parameter by its first name (T5's embed_tokens: shared.weight)
        read = [n for n, p in module.named_parameters()
                if _torchinfo_counts(n) and named.get(id(p)) in as_data]  # fmt: skip
        figure = f"{call}.torchinfo_mult_adds"
        if read:
            what = (f"parameter {read[0]!r} by its name" if len(read) == 1 else
                    f"parameters {', '.join(map(repr, read))} by their names")  # fmt: skip
            reasons.append((figure, (
                f"torchinfo counts {type(module).__name__}'s {what} (each one's size times "
                "the output's leading sizes), where the model reads "
                f"{'it' if len(read) == 1 else 'them'} as data"
            )))  # fmt: skip
        elif not owned and any(x.torchinfo_mult_adds for x in units.get(call, [])):
            kinds = sorted({x.type for x in units[call] if x.torchinfo_mult_adds})
            reasons.append((figure, (
                f"torchinfo counts a module's parameters only, and {type(module).__name__} "
                f"has none: its {', '.join(kinds)} runs on a buffer or a computed weight"
            )))  # fmt: skip
    return tuple(reasons)


def _fused_lstm(model: nn.Module) -> list[tuple[str, str]]:
    """On a real device torch runs an ``nn.LSTM`` (without a projection) as one fused kernel
    (mkldnn on the CPU, cuDNN on CUDA) that FlopCounterMode has no formula for: it counts
    0 there, so its totals are not compared (on meta, where --cross-check runs by
    default, it counts the gates and is compared)."""
    lstms = [path for path, module in model.named_modules()
             if isinstance(module, nn.LSTM) and not module.proj_size]  # fmt: skip
    device = _device_of(model)
    if not lstms or device in (None, "meta"):
        return []
    reason = (
        f"on the {device.upper() if device == 'cpu' else device} torch runs nn.LSTM "
        f"({lstms[0]}{f' and {len(lstms) - 1} more' if len(lstms) > 1 else ''}) as one "
        "fused kernel that FlopCounterMode does not count"
    )
    return [("flop_counter_flops", reason), ("flop_counter_training_flops", reason)]


def _flop_counter_flops(model: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """FlopCounterMode's total for one forward pass, in eval mode, without gradients where it
    can: its module tracker hooks every module input that requires grad, and a view of a
    parameter made without gradients (timm's cait and pit expand their class token and
    hand it to a module) requires grad with no gradient function to hook, so there it
    counts with gradients on (the same ops)."""
    from torch.utils.flop_counter import FlopCounterMode

    def counted(gradients: bool) -> int:
        with evaluation(model), torch.set_grad_enabled(gradients), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the model's own warnings were shown by the trace
            with FlopCounterMode(display=False) as counter:
                model(*args, **kwargs)
        return int(counter.get_total_flops())

    try:
        try:
            return counted(gradients=False)
        except AssertionError as exc:
            if "gradient function" not in str(exc):
                raise
            return counted(gradients=True)
    except Exception as exc:  # FlopCounterMode's own failure on a model torchinfo ran
        raise EnvironmentUnavailableError(
            f"FlopCounterMode could not count the model: {describe_exception(exc)}"
        ) from exc
