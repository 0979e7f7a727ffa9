"""A user's model: find its factory (``pkg.mod:factory``, ``file.py:factory``,
``torchvision:NAME``, ``timm:NAME``), call it, and build the model on meta.

Every failure is the user's (exit 2: the target does not import, is not
callable, raises, returns no module) or the environment's (exit 3: torchvision
or timm missing), said in one line that names the cause. Nothing is
downloaded: weights are never asked for.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import torch
from torch import nn

from convcalc.errors import EnvironmentUnavailableError, InvalidSpecError

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
            raise InvalidSpecError(
                f"{where}({_kwargs(kwargs)}) raised {describe_exception(exc)}"
            ) from exc
        return _checked(model, where), device
    try:
        with torch.device("meta"):
            model = factory(**kwargs)
        device = "meta"
    except Exception as meta_error:  # the constructor may need real tensors: try the CPU
        try:
            model = factory(**kwargs)
        except Exception as exc:
            raise InvalidSpecError(
                f"{where}({_kwargs(kwargs)}) raised {describe_exception(exc)}"
            ) from exc
        notify(
            f"notice: {where} cannot be built on the meta device "
            f"({describe_exception(meta_error)}); built on the CPU instead"
        )
        device = "cpu"
    return _checked(model, where), device


def _checked(model: Any, where: str) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise InvalidSpecError(f"{where} returned a {type(model).__name__}, not an nn.Module")
    return model


def _kwargs(kwargs: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
