"""Record every operation a model's forward pass runs, at the torch-function level.

Module hooks alone miss functional code (``x + y``, ``F.linear`` on another
module's weight, attention's matmuls): on torchvision's swin_t they see 2.96 G
of 4.49 G MACs. A ``TorchFunctionMode`` sees every torch call instead; a
global forward pre/post hook, removed in ``finally``, says which module each
call ran in. Each call is recorded whole (the mode is off inside it): a
composite such as ``F.multi_head_attention_forward`` is one event, which the
reader expands; a function with no reader is listed as "not counted".

Nothing is left behind: no hooks, no changed training flags, no moved weights.

The forward pass recorded may be one that torchinfo's summary runs (``tracing`` with
``observed``): one pass then serves the trace and the check, and nothing torchinfo
does, around the forward or in its hooks, is recorded (``observer_call``).
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType, FunctionType, ModuleType
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils import hooks as torch_hooks

from convcalc.core.values.record import Record

# Calls that return no tensor and change nothing (size, dim, dtype...): not ops.
IGNORED = frozenset({"__get__", "size", "dim", "numel", "__len__", "_set_grad_enabled", "item"})

# Packages whose code can run inside a traced forward pass without being the model's: the
# hooks of torchinfo, whose summary runs the forward that the trace records.
OBSERVERS = frozenset({"torchinfo"})
# torch's own Python between a caller and the modes (a Tensor method written in Python,
# handle_torch_function): looked through to the caller.
_PASSED_THROUGH = frozenset({"torch.overrides", "torch._tensor"})


def observer_call() -> bool:
    """Whether the torch call that a TorchFunctionMode is handling (this is called from its
    ``__torch_function__``) was made by an OBSERVERS package: the first frame up the stack
    that is neither a mode's ``__torch_function__`` nor torch's own wrapper is theirs."""
    frame: FrameType | None = sys._getframe(1)  # the caller's frame: the only witness
    while frame is not None and (
        frame.f_code.co_name == "__torch_function__"
        or frame.f_globals.get("__name__") in _PASSED_THROUGH
    ):
        frame = frame.f_back
    if frame is None:
        return False
    return str(frame.f_globals.get("__name__", "")).partition(".")[0] in OBSERVERS


@dataclass
class Event:
    """One recorded call: what ran, where, on which values, with which settings."""

    function: str
    module: str  # the innermost module path it ran in ("" for the root)
    call: str | None  # that module's call (``layer1.0.relu@2``) when it is a leaf module
    inputs: list[Any]  # the call's arguments, tensors replaced by ``Value``s
    kwargs: dict[str, Any]
    outputs: list[Value]
    origin: str = ""  # how it was called: ORIGINS


# How a call was made, which tools that patch functions care about: "F" (through
# torch.nn.functional), "torch" (a torch.* function), "method" (an explicit
# ``x.add(y)`` of a MARKED_METHODS method), "Tensor" (an operator such as ``x + y``
# or another Tensor method). A TorchFunctionMode sees ``x + y`` and ``x.add(y)`` as
# the same TensorBase.add; ptflops' default backend counts only the second.
ORIGINS = ("F", "torch", "method", "Tensor")
MARKED_METHODS = ("add", "mul", "matmul", "mm", "bmm", "addmm")


def _origin(func: Callable[..., Any]) -> str:
    module = getattr(func, "__module__", None) or ""
    if module.startswith(("torch.nn.functional", "torch._C._nn")):
        return "F"
    if getattr(func, "__qualname__", "").startswith(("TensorBase.", "Tensor.")):
        return "Tensor"
    return "torch"


def torch_class(kind: type) -> tuple[str, bool]:
    """The first class in a module class's MRO that torch.nn defines, and whether the
    module is of that class exactly: what hook-based counters key their rules on
    (thop on the MRO, ptflops on the exact class)."""
    base = next(c for c in kind.__mro__ if c.__module__.startswith("torch.nn"))
    return base.__name__, base is kind


class Value(Record):
    """A tensor seen by the trace: the model input, a parameter, or an op's output."""

    id: int
    shape: tuple[int, ...]
    parameter: str | None = None  # its qualified name, for a parameter
    buffer: str | None = None


@dataclass
class Trace:
    """Everything one forward pass ran, and the model's parameters by module."""

    events: list[Event] = field(default_factory=list)
    inputs: list[Value] = field(default_factory=list)
    outputs: list[Value] = field(default_factory=list)
    parameters: dict[str, tuple[int, ...]] = field(default_factory=dict)  # name -> shape
    # A tied parameter's other names -> its name above (T5's encoder.embed_tokens.weight
    # -> shared.weight): the modules that hold it under them read it as their own.
    aliases: dict[str, str] = field(default_factory=dict)
    frozen: set[str] = field(default_factory=set)  # parameters with requires_grad off
    torch_classes: dict[str, tuple[str, bool]] = field(default_factory=dict)  # path -> torch_class
    qualified: dict[str, str] = field(default_factory=dict)  # path -> module.QualName of its class
    # (call, the torch.nn class it is or derives from: "Conv2d" for timm's StdConv2d,
    # "Module" for a model's own leaf module; whether it is of that class exactly)
    leaf_calls: list[tuple[str, str, bool]] = field(default_factory=list)
    ran: set[str] = field(default_factory=set)  # module paths that ran
    # leaf call -> the tensor it returned as torchinfo sizes it (reported_tensor: the
    # first of a tuple, a dict's last), and the tensor it was given first (what a hook
    # reads as ``input[0]``), each as the trace saw it
    call_outputs: dict[str, Value] = field(default_factory=dict)
    call_inputs: dict[str, Value] = field(default_factory=dict)
    # A module registered in several places (one SiLU in every YOLO conv) runs under the
    # path its running parent holds it by: that path -> the module's first path
    module_aliases: dict[str, str] = field(default_factory=dict)


class _Recorder(TorchFunctionMode):
    def __init__(
        self,
        trace: Trace,
        paths: dict[int, list[str]],
        leaves: set[str],
        classes: dict[type, tuple[str, bool]],
    ) -> None:
        super().__init__()
        self.trace = trace
        self.paths = paths  # id(module) -> every path it is registered at, first first
        self.leaves = leaves
        self.classes = classes  # module class -> torch_class
        self.stack: list[tuple[str, str | None]] = [("", None)]
        self.calls: dict[str, int] = {}
        self.explicit: list[str] = []  # the MARKED_METHODS being called explicitly
        self.values: dict[int, Value] = {}
        self.keep: list[torch.Tensor] = []  # ids stay unique while the trace lives
        self.next_id = 0
        self.parameter_ids: dict[int, str] = {}
        self.buffer_ids: dict[int, str] = {}
        # Whether a call made now is recorded: throughout for trace(); for an observed
        # forward, from the root module's call to its return only (``root``).
        self.recording = True
        self.root: nn.Module | None = None
        self.began = self.returned = False  # the observed forward's root call
        self.output: Any = None  # its result
        self.gate: _Gate | None = None  # an observed forward's modes, on for its root call

    def root_returned(self, _module: nn.Module, _args: Any, out: Any) -> None:
        """An observed forward's end: a forward hook on the root, placed after the user's
        own (whose work the trace records, as it does around a plain call) and before
        the observer's."""
        if self.began and not self.returned:
            self.recording, self.returned, self.output = False, True, out
            if self.gate is not None:
                self.gate.close()

    # Values ---------------------------------------------------------------

    def value(self, tensor: torch.Tensor) -> Value:
        known = self.values.get(id(tensor))
        if known is not None and known.shape == tuple(tensor.shape):
            return known
        return self.new_value(tensor)

    def new_value(self, tensor: torch.Tensor) -> Value:
        self.next_id += 1
        value = Value(
            self.next_id,
            tuple(tensor.shape),
            self.parameter_ids.get(id(tensor)),
            self.buffer_ids.get(id(tensor)),
        )
        self.values[id(tensor)] = value
        self.keep.append(tensor)
        return value

    def wrap(self, item: Any) -> Any:
        if isinstance(item, torch.Tensor):
            return self.value(item)
        if isinstance(item, list | tuple):
            return type(item)(self.wrap(x) for x in item)
        return item

    # Modules --------------------------------------------------------------

    def enter(self, module: nn.Module, args: tuple[Any, ...]) -> None:
        if module is self.root and len(self.stack) == 1 and not self.began:
            self.recording = self.began = True  # an observed forward begins
            if self.gate is not None:
                self.gate.open()
        paths = self.paths.get(id(module))
        if paths is None:  # a module created inside forward: attribute to the caller
            self.stack.append(self.stack[-1])
            return
        path = paths[0] if len(paths) == 1 else self.placed(paths)
        self.trace.ran.add(path)
        call = None
        if path in self.leaves:
            count = self.calls.get(path, 0) + 1
            self.calls[path] = count
            call = path if count == 1 else f"{path}@{count}"
            # trace() found every module's class up front: this runs on every leaf call
            self.trace.leaf_calls.append((call, *self.classes[type(module)]))
            if args and isinstance(args[0], torch.Tensor):
                self.trace.call_inputs[call] = self.value(args[0])
        self.stack.append((path, call))

    def placed(self, paths: list[str]) -> str:
        """The path of a module registered in several places as the running module holds
        it: the one whose parent shares the most leading names with the module running
        now (``model.1.act`` when ``model.1`` calls it), the first on a tie."""
        running = self.stack[-1][0].split(".") if self.stack[-1][0] else []

        def shared(path: str) -> int:
            owner = path.split(".")[:-1]
            pairs = zip(owner, running, strict=False)  # the names both have
            return next((i for i, (a, b) in enumerate(pairs) if a != b),
                        min(len(owner), len(running)))  # fmt: skip

        path = max(paths, key=shared)
        if path != paths[0]:
            self.trace.module_aliases[path] = paths[0]
        return path

    def leave(self, out: Any) -> None:
        if len(self.stack) > 1:
            _, call = self.stack.pop()
            reported = reported_tensor(out) if call is not None else None
            if reported is not None:
                assert call is not None
                self.trace.call_outputs[call] = self.value(reported)

    # Calls ----------------------------------------------------------------

    def __torch_function__(
        self,
        func: Callable[..., Any],
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        kwargs = kwargs or {}
        name = getattr(func, "__name__", str(func))
        # (an observer's call can only be on the stack of an observed forward: ``root`` set)
        if name in IGNORED or not self.recording or (self.root is not None and observer_call()):
            return func(*args, **kwargs)
        inputs = [self.wrap(a) for a in args]
        named = {k: self.wrap(v) for k, v in kwargs.items()}
        out = func(*args, **kwargs)
        # ``x[i] = y`` returns nothing, but its result is x, written (RoI pooling fills one)
        written = tensors(args[:1]) if name == "__setitem__" else []
        if not tensors(out) and not written:
            return out
        # In-place results are new values (the same tensor object holds them now).
        outputs = [self.new_value(t) for t in tensors(out) or written]
        module, call = self.stack[-1]
        origin = _origin(func)
        if origin == "Tensor" and self.explicit and self.explicit[-1] == name:
            origin = "method"
        self.trace.events.append(Event(name, module, call, inputs, named, outputs, origin))
        return out


def tensors(out: Any) -> list[torch.Tensor]:
    """Every tensor in a call's result (tuples, lists and dicts walked)."""
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, list | tuple):
        return [t for item in out for t in tensors(item)]
    if isinstance(out, dict):
        return [t for item in out.values() for t in tensors(item)]
    return []


def reported_tensor(out: Any) -> torch.Tensor | None:
    """The tensor of a module's result that torchinfo sizes (LayerInfo.calculate_size,
    torchinfo 1.8): a tensor; a tuple's or list's first item (a PackedSequence's data),
    walked into; a dict's last value, walked into by its first."""
    if isinstance(out, list | tuple) and out and isinstance(getattr(out[0], "data", None),
                                                            torch.Tensor):  # fmt: skip
        # a tensor itself (its .data is another object); a PackedSequence's data
        return out[0] if isinstance(out[0], torch.Tensor) else out[0].data
    if isinstance(out, dict):
        return _first_tensor(list(out.values())[-1]) if out else None
    return _first_tensor(out)


def _first_tensor(out: Any) -> torch.Tensor | None:
    """torchinfo's nested_list_size: an ImageList's tensors, a tensor, a dict's values, a
    sequence's first item."""
    if hasattr(out, "tensors"):
        return _first_tensor(out.tensors)
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, dict):
        return _first_tensor(list(out.values()))
    if isinstance(out, list | tuple) and out:
        return _first_tensor(out[0])
    return None


@contextmanager
def _module_hooks(recorder: _Recorder) -> Iterator[None]:
    """Global forward pre/post hooks for the trace only, removed whatever happens."""
    handles: list[torch_hooks.RemovableHandle] = []
    try:
        handles.append(nn.modules.module.register_module_forward_pre_hook(recorder.enter))
        handles.append(
            nn.modules.module.register_module_forward_hook(
                lambda module, _args, out: recorder.leave(out), always_call=True
            )
        )
        yield
    finally:
        for handle in handles:
            handle.remove()


@contextmanager
def _marked_methods(recorder: _Recorder) -> Iterator[None]:
    """MARKED_METHODS wrapped for the trace only (restored whatever happens), so an
    explicit ``x.add(y)`` is told from ``x + y``."""
    own = {name: torch.Tensor.__dict__.get(name) for name in MARKED_METHODS}

    def marked(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        # Its names are the method's: torch hands the mode this function for the method
        # (and for the operator, which does not run it).
        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            recorder.explicit.append(name)
            try:
                return method(*args, **kwargs)
            finally:
                recorder.explicit.pop()

        return call

    try:
        for name in MARKED_METHODS:
            setattr(torch.Tensor, name, marked(name, getattr(torch.Tensor, name)))
        yield
    finally:
        for name, method in own.items():
            if method is not None:
                setattr(torch.Tensor, name, method)
            elif name in torch.Tensor.__dict__:  # ours: TensorBase's shows through again
                delattr(torch.Tensor, name)


@contextmanager
def evaluation(model: nn.Module) -> Iterator[None]:
    """``model.eval()`` for the duration, every module's own flag restored after."""
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, training in flags:
            module.training = training


def trace(
    model: nn.Module,
    inputs: tuple[Any, ...],
    kwargs: dict[str, Any] | None = None,
    *,
    beneath: Sequence[TorchFunctionMode] = (),
) -> Trace:
    """Run ``model(*inputs, **kwargs)`` once (eval mode, no grad) and record every op it
    ran; the inputs' tensors (in nested tuples, lists and dicts too) are its inputs, in order.
    ``beneath``: modes on under the recorder's while it runs (``tracing``).

    The model and inputs must already be on the device to run on (meta costs
    nothing). Exceptions of the forward pass propagate, with nothing left behind.
    """
    kwargs = kwargs or {}
    with tracing(model, inputs, kwargs, beneath=beneath) as recording:
        out = model(*inputs, **kwargs)
    return recording.finish(out)


class Recording:
    """A trace being recorded (``tracing``): ``finish`` gives it, with the model's result."""

    def __init__(self, recorder: _Recorder) -> None:
        self._recorder = recorder

    @property
    def output(self) -> Any:
        """The result of the observed forward's root call (None before it returns)."""
        return self._recorder.output

    @property
    def running(self) -> bool:
        """Whether the observed forward's root call has begun and not returned: an
        exception now is the forward's (or a hook's inside it)."""
        return self._recorder.began and not self._recorder.returned

    def finish(self, out: Any) -> Trace:
        """The trace, ``out`` being the model's result."""
        recorder = self._recorder
        recorder.trace.outputs = [recorder.value(t) for t in tensors(out)]
        return recorder.trace


@contextmanager
def tracing(
    model: nn.Module,
    inputs: tuple[Any, ...],
    kwargs: dict[str, Any] | None = None,
    *,
    observed: bool = False,
    beneath: Sequence[TorchFunctionMode] = (),
) -> Iterator[Recording]:
    """``trace``'s recorder on while the block runs ``model(*inputs, **kwargs)`` once (eval
    mode, no grad), every hook and patch removed after, whatever happens.

    ``observed``: the block runs the model inside another tool (torchinfo's summary), whose
    hooks see the same forward pass: only the model's own call is recorded, from its root
    module's call to its return, and no call an OBSERVERS package makes, in its hooks or
    around the forward; ``Recording.output`` holds the root's result.

    ``beneath``: modes that run under the recorder's (they see what it passes on), on
    while the recorder is: the whole block, or an observed forward's root call alone.
    """
    result = Trace()
    paths: dict[int, list[str]] = {}
    leaves: set[str] = set()
    classes: dict[type, tuple[str, bool]] = {}  # each class's torch_class, once
    for path, module in model.named_modules(remove_duplicate=False):
        paths.setdefault(id(module), []).append(path)
        kind = type(module)
        if kind not in classes:
            classes[kind] = torch_class(kind)
        result.torch_classes.setdefault(path, classes[kind])
        result.qualified.setdefault(path, f"{kind.__module__}.{kind.__qualname__}")
        if not any(True for _ in module.children()):
            leaves.add(path)
    recorder = _Recorder(result, paths, leaves, classes)
    for name, parameter in model.named_parameters():
        recorder.parameter_ids[id(parameter)] = name
        result.parameters[name] = tuple(parameter.shape)
        if not parameter.requires_grad:
            result.frozen.add(name)
    for name, parameter in model.named_parameters(remove_duplicate=False):
        first = recorder.parameter_ids[id(parameter)]
        if first != name:
            result.aliases[name] = first
    for name, buffer in model.named_buffers():
        recorder.buffer_ids[id(buffer)] = name
    result.inputs = [recorder.value(x) for x in tensors([inputs, kwargs or {}])]  # one per tensor
    gate = _Gate([*beneath, recorder])  # on for the block, or for an observed root call
    if observed:
        recorder.recording, recorder.root = False, model
        recorder.gate = gate
    returned = model.register_forward_hook(recorder.root_returned) if observed else None
    try:
        with evaluation(model), torch.no_grad(), _module_hooks(recorder), \
                _marked_methods(recorder):  # fmt: skip
            if not observed:
                gate.open()
            yield Recording(recorder)
    finally:
        # (the gate holds the recorder, which holds every tensor the forward made: no cycle
        # left for the collector alone to free)
        recorder.gate = None
        try:
            gate.close()  # the block's, or a forward's that raised: the modes end here
        finally:
            if returned is not None:
                returned.remove()


class _Gate:
    """The trace's modes: on for the block of a plain trace; for an observed forward,
    pushed when its root module's call begins and popped when it returns (or the block
    ends first: the forward raised). Outside that call the observer's own work
    (torchinfo's, before and after the forward: thousands of ``size``/``numel`` calls on
    every parameter) runs with no mode of ours in its way."""

    def __init__(self, modes: list[TorchFunctionMode]) -> None:
        self.modes = modes
        self.pushed = 0

    def open(self) -> None:
        for mode in self.modes[self.pushed :]:
            mode.__enter__()  # type: ignore[no-untyped-call]
            self.pushed += 1

    def close(self) -> None:
        """Pop ours. A mode the forward entered and left on sits above them: it is popped
        too (torch's stack is left as the call found it), and the forward fails for it."""
        left_on = False
        while self.pushed:
            stack = _mode_stack()
            mode = self.modes[self.pushed - 1]
            if stack is not None and stack and stack[-1] is not mode and mode in stack:
                left_on = True  # not ours: popped from above ours
            else:
                self.pushed -= 1
            # (a mode's __exit__ pops the top of the stack, whichever mode that is)
            mode.__exit__(None, None, None)  # type: ignore[no-untyped-call]
        if left_on:
            raise RuntimeError("the model's forward left a torch function mode of its own on")


def _mode_stack() -> list[Any] | None:
    """torch's stack of torch-function modes, innermost last (None where torch does not
    expose it)."""
    read = getattr(torch.overrides, "_get_current_function_mode_stack", None)
    return list(read()) if read is not None else None


# ---------------------------------------------------------------- meta without torch._dynamo

# Where torch keeps the Python references that run ops on meta (its decompositions).
_REFERENCE_MODULES = ("torch._refs", "torch._decomp", "torch._prims", "torch._meta_registrations")
_SLOT = "__dynamo_disable"  # where torch._compile._disable_dynamo keeps disable(fn)


@contextmanager
def meta_without_dynamo() -> Iterator[None]:
    """torch's Python references for meta ops run without importing ``torch._dynamo`` (1-1.5 s)
    while the block runs, where nothing has imported it yet.

    Each reference that promotes dtypes is wrapped in ``torch._disable_dynamo``, whose first
    call imports torch._dynamo to build ``torch._dynamo.disable(fn)``, then keeps it on
    ``fn.__dynamo_disable``: a meta forward through any elementwise op (a bias add, ReLU,
    BatchNorm, ``arange``) pays the import once. Until torch._dynamo is imported no frame
    can be compiled, so ``disable(fn)`` runs exactly as ``fn`` does: each such ``fn`` holds
    itself there for the block. Where the block imports torch._dynamo after all (a library,
    FlopCounterMode), every one is removed before that import runs, and all are at the end,
    so torch is as it was. A torch whose wrapper is not as described is left alone.
    """
    if "torch._dynamo" in sys.modules:  # paid already: nothing to save
        yield
        return
    seeded = _dynamo_disabled_references()
    for fn in seeded:
        setattr(fn, _SLOT, fn)  # by name: a class body would mangle the attribute
    finder = _BeforeDynamo(seeded)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        finder.restore()
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(finder)


class _BeforeDynamo:
    """A meta path finder that finds nothing: when ``torch._dynamo`` is about to be
    imported, it first takes every seeded reference's cache slot back."""

    def __init__(self, seeded: list[FunctionType]) -> None:
        self.seeded = seeded

    def find_spec(self, name: str, path: Any, target: Any = None) -> None:
        if name == "torch._dynamo":
            self.restore()

    def restore(self) -> None:
        for fn in self.seeded:
            if fn.__dict__.get(_SLOT) is fn:
                delattr(fn, _SLOT)
        self.seeded = []


def _dynamo_disabled_references() -> list[FunctionType]:
    """Every function that torch's references wrap in ``torch._disable_dynamo``, found from
    the loaded reference modules and decomposition tables through the wrappers around them
    (their closures and ``__wrapped__``); none where the wrapper is not the one known."""
    from torch._compile import _disable_dynamo

    inner = _disable_dynamo(lambda: None)
    code = getattr(inner, "__code__", None)
    if code is None or "fn" not in code.co_freevars:
        return []
    slot = code.co_freevars.index("fn")
    found: dict[int, FunctionType] = {}
    seen: set[int] = set()
    pending: list[tuple[Any, int]] = []
    for name, module in list(sys.modules.items()):
        if isinstance(module, ModuleType) and name.startswith(_REFERENCE_MODULES):
            pending.extend((value, 0) for value in list(vars(module).values()))
    decompositions = sys.modules.get("torch._decomp")
    tables = getattr(decompositions, "global_decomposition_table", {})
    for table in list(tables.values()) if isinstance(tables, dict) else []:
        pending.extend((value, 0) for value in list(table.values()))
    while pending:
        item, depth = pending.pop()
        if not isinstance(item, FunctionType) or id(item) in seen or depth > 12:
            continue
        seen.add(id(item))
        cells = item.__closure__ or ()
        if item.__code__ is code and len(cells) > slot:
            wrapped = cells[slot].cell_contents
            if isinstance(wrapped, FunctionType):
                found[id(wrapped)] = wrapped
        for cell in cells:
            with contextlib.suppress(ValueError):  # an empty cell
                pending.append((cell.cell_contents, depth + 1))
        pending.append((getattr(item, "__wrapped__", None), depth + 1))
    return list(found.values())
