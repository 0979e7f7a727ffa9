"""A user's model: find its factory (``pkg.mod:factory``, ``file.py:factory``,
``torchvision:NAME``, ``timm:NAME``), call it, and build the model on meta.

Every failure is the user's (exit 2: the target does not import, is not
callable, raises, returns no module) or the environment's (exit 3: torchvision
or timm missing), said in one line that names the cause. Nothing is
downloaded: weights are never asked for, and while the user's code runs
(``guarded``) the network is closed, so a factory that tries to download fails at
once with a hint rather than retrying for a minute, and its printing goes to stderr.
The zoos' own conventions (``zoo_inputs``): timm's and torchvision's input sizes,
detection models' list of images, RAFT's two frames.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import os
import socket
import sys
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout, suppress
from pathlib import Path
from typing import Any

import torch
from torch import nn

from convcalc.errors import EnvironmentUnavailableError, InvalidSpecError
from convcalc.measure.inputs import ExampleInputs, TensorSpec
from convcalc.measure.trace import meta_without_dynamo

Factory = Callable[..., Any]
Notify = Callable[[str], None]

ZOOS = {
    "torchvision": "torchvision",
    "timm": "timm",
}


def parse_args(items: list[str]) -> dict[str, Any]:
    """``--arg name=value`` items as keyword arguments; values are Python literals."""
    kwargs: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise InvalidSpecError(f"--arg {item!r} must be name=value (e.g. width_mult=0.75)")
        try:
            kwargs[name] = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError):
            raise InvalidSpecError(
                f"--arg {item!r}: {text.strip()!r} is not a Python literal "
                f"(numbers, True/False/None, quoted strings, tuples, lists)"
            ) from None
    return kwargs


def describe_exception(exc: BaseException) -> str:
    """``ValueError: the message`` (first line), the user's own words."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


@contextmanager
def _on_path(directory: str) -> Iterator[None]:
    """``directory`` first on sys.path for the import only (as pytest does), then removed."""
    sys.path.insert(0, directory)
    try:
        yield
    finally:
        with suppress(ValueError):  # the user's code may have removed it itself
            sys.path.remove(directory)


def find_factory(target: str) -> tuple[Factory, str]:
    """The callable a target names, and a short description of where it came from."""
    source, sep, name = target.rpartition(":")
    if not sep or not source or not name:
        raise InvalidSpecError(
            f"target {target!r} must be module:factory, path/to/file.py:factory, "
            "torchvision:NAME or timm:NAME"
        )
    if source in ZOOS:
        return _zoo_factory(source, name), f"{source} {name}"
    module = _import_file(Path(source)) if source.endswith(".py") else _import_module(source)
    try:
        factory = getattr(module, name)
    except AttributeError:
        raise InvalidSpecError(f"{source} has no attribute {name!r}") from None
    if not callable(factory):
        raise InvalidSpecError(
            f"{target} is a {type(factory).__name__}, not a callable that returns a model"
        )
    return factory, target


def find_inputs_function(target: str) -> tuple[Factory, str]:
    """The function ``--inputs`` names (``path/to/file.py:FUNCTION``, ``pkg.mod:FUNCTION``)."""
    source, sep, name = target.rpartition(":")
    if not sep or not source or not name or source in ZOOS:
        raise InvalidSpecError(
            f"--inputs {target!r} must be path/to/file.py:FUNCTION or pkg.module:FUNCTION "
            "(a function returning the model's example inputs)"
        )
    return find_factory(target)


def _import_module(name: str) -> Any:
    try:
        with _on_path(str(Path.cwd())):
            return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name != exc.name and not name.startswith(exc.name + "."):
            raise EnvironmentUnavailableError(
                f"importing {name} needs {exc.name}, which is not installed"
            ) from exc
        raise InvalidSpecError(f"cannot import {name!r}: {describe_exception(exc)}") from exc
    except Exception as exc:  # the user's module failed while importing: say how
        raise InvalidSpecError(f"importing {name} raised {describe_exception(exc)}") from exc


def _import_file(path: Path) -> Any:
    if not path.is_file():
        raise InvalidSpecError(f"model file {str(path)!r} does not exist")
    module_name = f"_convcalc_target_{abs(hash(path.resolve()))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise InvalidSpecError(f"{str(path)!r} cannot be imported as Python")
    module = importlib.util.module_from_spec(spec)
    try:
        with _on_path(str(path.resolve().parent)):
            spec.loader.exec_module(module)
    except ModuleNotFoundError as exc:
        raise EnvironmentUnavailableError(
            f"{path} imports {exc.name}, which is not installed"
        ) from exc
    except Exception as exc:  # the user's file failed while importing: say how
        raise InvalidSpecError(f"importing {path} raised {describe_exception(exc)}") from exc
    return module


def _zoo_factory(zoo: str, name: str) -> Factory:
    try:
        package = importlib.import_module(ZOOS[zoo])
    except ImportError as exc:
        raise EnvironmentUnavailableError(
            f"{zoo}:{name} needs {zoo} ({describe_exception(exc)}): "
            "pip install 'convcalc[zoo]' (it needs a torch build its wheels match)"
        ) from exc
    if zoo == "torchvision":
        known = package.models.list_models()
        if name not in known:
            raise InvalidSpecError(_unknown(zoo, name, known))

        takes = inspect.signature(package.models.get_model_builder(name)).parameters

        def torchvision_model(**kwargs: Any) -> Any:
            kwargs.setdefault("weights", None)  # never a download
            if "weights_backbone" in takes:  # segmentation and detection backbones
                kwargs.setdefault("weights_backbone", None)
            return package.models.get_model(name, **kwargs)

        return torchvision_model
    if not package.is_model(name):
        raise InvalidSpecError(_unknown(zoo, name, package.list_models()))

    def timm_model(**kwargs: Any) -> Any:
        kwargs.setdefault("pretrained", False)  # never a download
        return package.create_model(name, **kwargs)

    return timm_model


def _unknown(zoo: str, name: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, known, n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return f"{zoo} has no model {name!r}{hint}"


def resolve_device(device: str) -> str:
    """``auto`` as a device: CUDA when present, else the CPU; others as given."""
    if device == "cuda" and not torch.cuda.is_available():
        raise EnvironmentUnavailableError("--device cuda was asked for, but CUDA is not available")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def build_model(
    factory: Factory, kwargs: dict[str, Any], where: str, notify: Notify, device: str = "meta"
) -> tuple[nn.Module, str]:
    """Call the factory on the meta device (no weight memory), or on the CPU when its
    constructor cannot run on meta (said on stderr); on ``device`` when it is a real one.
    Returns the model and the device it was built on."""
    if device != "meta":
        try:
            with torch.device(device):
                model = factory(**kwargs)
        except Exception as exc:
            raise _failed(where, kwargs, exc) from exc
        return _checked(model, where), device
    forwards: list[bool] = []  # whether the constructor called a module of its own
    try:
        with torch.device("meta"), meta_without_dynamo(), _module_calls(forwards):
            model = factory(**kwargs)
        device = "meta"
    except Exception as meta_error:  # the constructor may need real tensors: try the CPU
        # Even after a refused connection: a library that checks whether it is online
        # (ultralytics) takes the refusal for "offline" and goes on; one that really
        # downloads is refused again at once, and _failed names the host.
        try:
            model = factory(**kwargs)
        except Exception as exc:
            raise _failed(where, kwargs, exc) from exc
        notify(
            f"notice: {where} cannot be built on the meta device "
            f"({describe_exception(meta_error)}); built on the CPU instead"
        )
        device = "cpu"
        if isinstance(model, nn.Module) and _in_forward(meta_error):
            _FORWARD_FAILED_ON_META[model] = meta_error
        elif isinstance(model, nn.Module) and forwards:
            _FORWARD_FAILED_ON_META[model] = (
                "its constructor ran a forward pass on the meta device before it failed "
                "there: ran the forward pass on the CPU, where it was built, with no meta "
                "attempt"
            )
    return _checked(model, where), device


@contextmanager
def _module_calls(seen: list[bool]) -> Iterator[None]:
    """Note in ``seen`` whether any module is called while the block runs (a global forward
    pre-hook, removed whatever happens)."""

    def called(_module: nn.Module, _args: Any) -> None:
        if not seen:
            seen.append(True)

    handle = nn.modules.module.register_module_forward_pre_hook(called)
    try:
        yield
    finally:
        handle.remove()


# Models build_model made on the CPU because their constructor ran a forward pass of
# theirs on meta, which failed, or after which the constructor failed on meta
# (ultralytics runs one to find its strides, then reads them): the forward runs
# where the model was built, with no meta attempt (ultralytics' detect head reads values
# in its forward too). A string: the notice to give (that case, and a zoo model known not
# to run on meta, ``off_meta``).
_FORWARD_FAILED_ON_META: weakref.WeakKeyDictionary[nn.Module, BaseException | str] = (
    weakref.WeakKeyDictionary()
)


def meta_forward_failed(model: nn.Module) -> BaseException | str | None:
    """What failed on meta in a forward pass that ``model``'s constructor ran, where
    build_model built it on the CPU for that (or the notice to give where the constructor
    failed after such a pass, or for a zoo model ``off_meta`` names); else None."""
    return _FORWARD_FAILED_ON_META.get(model)


def off_meta(target: Any) -> str | None:
    """Why a zoo model's forward pass cannot run on the meta device, where its zoo says so
    for the whole family: torchvision's detection models read tensor values in their
    region proposals (``where(condition)``, ``nonzero``, NMS), after their backbone and
    neck have run. Such a model is built and run on the CPU at once: a meta attempt would
    fail only there, and cost a second build. None for any other target (tried on meta)."""
    zoo = zoo_name(target)
    if zoo is None or zoo[0] != "torchvision" or not _torchvision_detection(zoo[1]):
        return None
    return (
        "torchvision's detection models cannot run their forward pass on the meta device "
        "(their region proposals read tensor values: where(condition), NMS): built and "
        "ran it on the CPU"
    )


def _torchvision_detection(name: str) -> bool:
    """Whether torchvision's ``name`` is one of its detection models (a list of images in,
    region proposals that read values)."""
    import torchvision

    models = torchvision.models
    return name in models.list_models(module=models.detection)


def built_off_meta(model: nn.Module, notice: str) -> None:
    """Note that ``model`` was built on the CPU because its forward cannot run on meta
    (``off_meta``'s notice): profile_model runs it there at once and says so."""
    _FORWARD_FAILED_ON_META[model] = notice


def _in_forward(exc: BaseException) -> bool:
    """Whether ``exc`` was raised inside a module's forward pass (a module call in its
    traceback), not by the constructor's own code."""
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_name == "_call_impl" and frame.f_globals.get("__name__") == (
            "torch.nn.modules.module"
        ):
            return True
        tb = tb.tb_next
    return False


def _checked(model: Any, where: str) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise InvalidSpecError(f"{where} returned a {type(model).__name__}, not an nn.Module")
    return model


def _kwargs(kwargs: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


# ---------------------------------------------------------------- the user's code, guarded

DOWNLOAD_HINT = (
    "convcalc never downloads: build the model without weights "
    "(--arg pretrained=False, --arg weights=None, --arg encoder_weights=None)"
)


class NetworkClosedError(RuntimeError):
    """Raised inside the user's code when it opens a network connection. Not an OSError,
    so no library's retry loop (urllib3, httpx, the hub) takes it for a flaky network."""


class OfflineLookupError(socket.gaierror):
    """A host name looked up inside the user's code: the answer of a machine with no
    network, so a library that checks whether it is online (ultralytics resolves
    one.one.one.one on import) takes it for "offline" and goes on."""


class _Attempts:
    """Where the guarded code tried to connect, and which names it looked up."""

    def __init__(self) -> None:
        self.hosts: list[str] = []
        self.lookups: list[str] = []


_ATTEMPTS = _Attempts()
_INET = (socket.AF_INET, socket.AF_INET6)


def download_attempted(exc: BaseException | None = None) -> str | None:
    """The first host the guarded code tried to connect to since ``guarded`` began; or,
    when ``exc`` came of a refused look-up (it is in its chain), the name looked up."""
    if _ATTEMPTS.hosts:
        return _ATTEMPTS.hosts[0]
    if exc is not None and _ATTEMPTS.lookups and _caused_by(exc, OfflineLookupError):
        return _ATTEMPTS.lookups[0]
    return None


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _host(address: Any) -> str:
    return str(address[0] if isinstance(address, tuple) and address else address)


def _refuse(address: Any) -> None:
    _ATTEMPTS.hosts.append(_host(address))
    raise NetworkClosedError(f"convcalc closes the network while it builds a model ({address})")


@contextmanager
def _network_closed() -> Iterator[None]:
    """Connections to any internet host refused at once, names never resolved (local
    sockets still work); socket's own functions restored after, whatever happens."""
    own = (socket.socket.connect, socket.socket.connect_ex, socket.create_connection,
           socket.getaddrinfo)  # fmt: skip

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in _INET:
            _refuse(address)
        return own[0](self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        if self.family in _INET:
            _refuse(address)
        return own[1](self, address)

    def create_connection(address: Any, *_args: Any, **_kwargs: Any) -> Any:
        _refuse(address)

    def getaddrinfo(host: Any, *_args: Any, **_kwargs: Any) -> Any:
        _ATTEMPTS.lookups.append(_host(host))
        raise OfflineLookupError(socket.EAI_NONAME, f"convcalc resolves no name ({host})")

    _ATTEMPTS.hosts.clear()
    _ATTEMPTS.lookups.clear()
    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
    socket.create_connection = create_connection
    socket.getaddrinfo = getaddrinfo
    try:
        yield
    finally:
        socket.socket.connect, socket.socket.connect_ex = own[0], own[1]  # type: ignore[method-assign]
        socket.create_connection, socket.getaddrinfo = own[2], own[3]


@contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Everything written to stdout goes to stderr for the duration: Python's ``print``
    and, where stdout is a real file descriptor, writes to it too (a library's logging
    handler holds the stdout it found at import: ultralytics prints its layer table)."""
    saved = None
    with suppress(OSError, ValueError, AttributeError):
        if sys.__stdout__ is not None and sys.__stderr__ is not None:
            sys.__stdout__.flush()
            saved = os.dup(1)
            os.dup2(sys.__stderr__.fileno(), 1)
    try:
        with redirect_stdout(sys.stderr):
            yield
    finally:
        if saved is not None:
            with suppress(OSError, ValueError):
                sys.__stdout__.flush()  # type: ignore[union-attr]  # not None: saved above
            os.dup2(saved, 1)
            os.close(saved)


@contextmanager
def guarded() -> Iterator[None]:
    """While the user's code runs (import, factory, inputs, forward): its printing goes to
    stderr, never into the report on stdout, and the network is closed."""
    with _stdout_to_stderr(), _network_closed():
        yield


def _failed(where: str, kwargs: dict[str, Any], exc: BaseException) -> InvalidSpecError:
    """The user's factory raised: its own words, or the download hint when it tried to
    download (whatever the library made of the refused connection)."""
    host = download_attempted(exc)
    if host is not None:
        return InvalidSpecError(f"{where}({_kwargs(kwargs)}) tried to download from {host}; "
                                f"{DOWNLOAD_HINT}")  # fmt: skip
    return InvalidSpecError(f"{where}({_kwargs(kwargs)}) raised {describe_exception(exc)}")


# ---------------------------------------------------------------- the zoos' inputs

VIDEO_FRAMES = 16  # torchvision's video reference trains and evaluates 16-frame clips
DEFAULT_SHAPE = (1, 3, 224, 224)  # a model's input when neither the user nor its zoo names one


def zoo_name(target: Any) -> tuple[str, str] | None:
    """``("timm", "inception_v3")`` for ``timm:inception_v3``; None for any other target."""
    if not isinstance(target, str):
        return None
    zoo, _, name = target.partition(":")
    return (zoo, name) if zoo in ZOOS and name else None


def zoo_inputs(
    target: Any, model: nn.Module, given: ExampleInputs | None, dtype: str
) -> tuple[ExampleInputs | None, str | None]:
    """A zoo model's inputs in its zoo's form, and the notice that says what was chosen:
    with nothing given, the model's own input size (timm's ``pretrained_cfg``, a
    torchvision ViT's ``image_size``, its default weights' crop or resize size, 16
    frames for video); a torchvision detection model's list of 3xHxW images; RAFT's
    two frames. Anything else: ``given`` as it is, and no notice."""
    zoo = zoo_name(target)
    if zoo is None:
        return given, None
    source, name = zoo
    shapes = _plain_shapes(given)
    if source == "torchvision":
        import torchvision

        models = torchvision.models
        if _torchvision_detection(name) and shapes is not None:
            images = [spec for s in shapes or [TensorSpec(DEFAULT_SHAPE)]
                      for spec in _images(s)]  # fmt: skip
            image = "x".join(map(str, images[0].shape))
            count = f"{len(images)} image{'s' if len(images) > 1 else ''}"
            return ExampleInputs(([*images],), {}, dtype), (
                f"notice: torchvision {name} takes a list of 3xHxW images: {count} of {image} "
                "(the model resizes them itself)"
            )
        if name in models.list_models(module=models.optical_flow) and shapes is not None:
            frame = shapes[0] if len(shapes) == 1 else TensorSpec(DEFAULT_SHAPE)
            if len(shapes) <= 1:
                frames = "x".join(map(str, frame.shape))
                return ExampleInputs((frame, frame), {}, dtype), (
                    f"notice: torchvision {name} takes two frames: image1 and image2, each {frames}"
                )
    if given is not None:
        return given, None
    size, origin = _own_size(source, name, model)
    if size is None:
        return None, None
    shape = (1, *size)
    text = "x".join(map(str, shape))
    if shape == DEFAULT_SHAPE:
        return None, None  # what any model gets: nothing to say
    return ExampleInputs((TensorSpec(shape),), {}, dtype), (
        f"notice: {source} {name} takes {'x'.join(map(str, size))} inputs ({origin}): "
        f"profiling {text} (-i or --input-shape to choose)"
    )


def _plain_shapes(given: ExampleInputs | None) -> list[TensorSpec] | None:
    """The given inputs when they are positional shapes only ([] for nothing given)."""
    if given is None:
        return []
    if given.kwargs or not all(isinstance(a, TensorSpec) for a in given.args):
        return None
    return list(given.args)


def _images(spec: TensorSpec) -> list[TensorSpec]:
    """NxCxHxW as N images of CxHxW; CxHxW as one image; other ranks as given."""
    if len(spec.shape) == 4:
        return [TensorSpec(spec.shape[1:], spec.dtype)] * spec.shape[0]
    return [spec]


def _own_size(source: str, name: str, model: nn.Module) -> tuple[tuple[int, ...] | None, str]:
    """(C, H, W) or (C, T, H, W) the model is made for, and where that was read."""
    if source == "timm":
        config = getattr(model, "pretrained_cfg", None) or {}
        size = config.get("input_size")
        return (tuple(size), "its pretrained_cfg input_size") if size else (None, "")
    image_size = getattr(model, "image_size", None)  # a ViT's position embedding's size
    if isinstance(image_size, int):
        return (3, image_size, image_size), "its image_size"
    import torchvision

    try:
        weights = torchvision.models.get_model_weights(name).DEFAULT
    except (ValueError, KeyError, AttributeError):
        return None, ""
    keywords = getattr(weights.transforms, "keywords", {}) or {}
    side = keywords.get("crop_size") or keywords.get("resize_size")
    if side is None:
        return None, ""
    sides = tuple(side) if isinstance(side, list | tuple) else (side,)
    height, width = (sides[0], sides[0]) if len(sides) == 1 else sides[:2]
    origin = f"its {weights} weights' {'crop' if 'crop_size' in keywords else 'resize'} size"
    if name in torchvision.models.list_models(module=torchvision.models.video):
        return (3, VIDEO_FRAMES, height, width), origin + f", {VIDEO_FRAMES} frames"
    return (3, height, width), origin


@contextmanager
def warnings_as_notice(notify: Notify) -> Iterator[None]:
    """The model's own warnings while it is built and run, caught: none reaches stderr
    as a raw warning. When the block succeeds, they become one notice (the first, and
    how many others); when it fails, its error says it all and they are dropped."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    said = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    if said:
        more = f" (and {len(said) - 1} other warning{'s' if len(said) > 2 else ''})"
        notify(f"notice: the model warned: {said[0]}{more if len(said) > 1 else ''}")
