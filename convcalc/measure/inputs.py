"""A model's example inputs: what its forward is called with, as the user gave it.

Positional and keyword inputs, each a shape with an optional dtype (``1x128:long``)
or a tensor, in any nesting of tuples, lists and dicts (a detection model's list of
images, a dict of token ids and masks); anything else (``None``, a flag, a string)
is passed through as given. ``ExampleInputs.make`` turns them into tensors on the
device the model runs on: on meta, tensors of the same shape and dtype (no data);
on a real device, seeded values a model can use: floats uniform in [0, 1) (an
image's range, never zeros), integers below the first ``nn.Embedding``'s
vocabulary (token ids), so a real forward indexes nothing out of range.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import field
from typing import Any

import torch
from torch import nn

from convcalc.core.values.record import Record
from convcalc.errors import InvalidSpecError

# Input dtypes by name (``long`` and ``int`` as torch spells them), each with its bytes per
# element: token ids are int64, 8 bytes each, whatever the model's own dtype.
DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float64": torch.float64,
    "long": torch.int64,
    "int64": torch.int64,
    "int": torch.int32,
    "int32": torch.int32,
    "int16": torch.int16,
    "int8": torch.int8,
    "uint8": torch.uint8,
    "bool": torch.bool,
}
# Integer inputs of a model with no nn.Embedding (a mask, an index): 0 or 1.
NO_VOCABULARY = 2
SEED = 0

_SHAPE = re.compile(r"^\d+(x\d+)*$")


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.int64`` as ``int64``: the name the report and JSON use."""
    return str(dtype).removeprefix("torch.")


def check_dtype(name: str, option: str = "input dtype") -> torch.dtype:
    """The torch dtype a name means, or one error line listing the names."""
    try:
        return DTYPES[name]
    except KeyError:
        raise InvalidSpecError(f"{option} {name!r} is not one of {', '.join(DTYPES)}") from None


class TensorSpec(Record):
    """A tensor to make: its shape, and its dtype (``None``: the run's input dtype)."""

    shape: tuple[int, ...]
    dtype: str | None = None

    def __post_init__(self) -> None:
        if any(size <= 0 for size in self.shape):
            raise InvalidSpecError(f"input shape {list(self.shape)} must have positive sizes")
        if self.dtype is not None:
            check_dtype(self.dtype)


def parse_spec(text: str) -> TensorSpec:
    """``1x3x224x224`` or ``1x128:long``: one input's shape, any rank, and its dtype."""
    shape_text, sep, dtype = text.strip().partition(":")
    shape_text = shape_text.strip().lower().replace(" ", "")
    if not _SHAPE.match(shape_text):
        raise InvalidSpecError(
            f"input shape {text!r} must be sizes joined by x, with an optional :dtype "
            "(1x3x224x224, 1x128:long)"
        )
    if sep and not dtype.strip():
        raise InvalidSpecError(f"input shape {text!r} names no dtype after ':'")
    return TensorSpec(tuple(int(s) for s in shape_text.split("x")), dtype.strip() or None)


def _walk(item: Any, leaf: Callable[[Any, str], Any], at: str = "") -> Any:
    """``item`` rebuilt with every tensor and TensorSpec replaced by ``leaf(it, path)``;
    tuples (named ones too), lists and dicts keep their type."""
    if isinstance(item, TensorSpec | torch.Tensor):
        return leaf(item, at)
    if isinstance(item, dict):
        return type(item)((k, _walk(v, leaf, f"{at}[{k!r}]")) for k, v in item.items())
    if isinstance(item, tuple) and hasattr(item, "_fields"):  # a namedtuple
        return type(item)(
            *(_walk(v, leaf, f"{at}.{n}") for n, v in zip(item._fields, item, strict=True))
        )
    if isinstance(item, list | tuple):
        return type(item)(_walk(v, leaf, f"{at}[{i}]") for i, v in enumerate(item))
    return item


class ExampleInputs(Record):
    """What a model's forward is called with: ``model(*args, **kwargs)``, each tensor
    given as a TensorSpec or a tensor. ``dtype`` is the dtype of a spec that names none."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    dtype: str = "float32"

    def __post_init__(self) -> None:
        check_dtype(self.dtype)

    def leaves(self) -> list[tuple[str, TensorSpec]]:
        """Every tensor input, in call order (positional, then keyword), as a resolved
        TensorSpec, with where it sits: ``0``, ``0[1]``, ``attention_mask``."""
        found: list[tuple[str, TensorSpec]] = []

        def note(item: Any, at: str) -> Any:
            if isinstance(item, torch.Tensor):
                found.append((at, TensorSpec(tuple(item.shape), dtype_name(item.dtype))))
            else:
                dtype = dtype_name(DTYPES[item.dtype or self.dtype])
                found.append((at, TensorSpec(item.shape, dtype)))
            return item

        for index, arg in enumerate(self.args):
            _walk(arg, note, str(index))
        for name, value in self.kwargs.items():
            _walk(value, note, name)
        return found

    def describe(self) -> str:
        """``1x3x224x224``; ``1x128:int64, attention_mask=1x128:int64``: for messages
        (a dtype shown where it is not float32)."""
        parts = []
        for at, spec in self.leaves():
            shape = "x".join(map(str, spec.shape)) or "scalar"
            dtype = "" if spec.dtype == "float32" else f":{spec.dtype}"
            parts.append(f"{'' if at.isdigit() else at + '='}{shape}{dtype}")
        return ", ".join(parts) or "no tensor"

    def first_shape(self) -> tuple[int, ...]:
        """The first tensor input's shape: the report's ``input_shape``."""
        leaves = self.leaves()
        if not leaves:
            raise InvalidSpecError("the model's inputs hold no tensor")
        return leaves[0][1].shape

    def input_bytes(self) -> int:
        """Every tensor input's memory, each by its own dtype."""
        return sum(
            math.prod(s.shape) * _element_size(DTYPES[s.dtype or self.dtype])
            for _, s in self.leaves()
        )

    def to_dict(self) -> list[dict[str, Any]]:
        """Each tensor input for the JSON spec: where it sits, its shape and dtype."""
        return [
            {"at": at, "shape": list(spec.shape), "dtype": spec.dtype} for at, spec in self.leaves()
        ]

    def make(
        self, device: str | torch.device, model: nn.Module | None = None, seed: int = SEED
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The positional and keyword inputs as tensors on ``device`` (see the module's
        docstring for their values); a user's tensor keeps its values off meta."""
        device = torch.device(device)
        generator = torch.Generator().manual_seed(seed)
        vocabulary = first_vocabulary(model) if model is not None else None

        def tensor(item: Any, _at: str) -> torch.Tensor:
            if isinstance(item, torch.Tensor) and (device.type == "meta" or not item.is_meta):
                if device.type == "meta":
                    return torch.empty_like(item, device="meta")
                return item.to(device)
            shape = tuple(item.shape)
            dtype = (
                item.dtype if isinstance(item, torch.Tensor) else DTYPES[item.dtype or self.dtype]
            )
            if device.type == "meta":
                return torch.empty(shape, dtype=dtype, device=device)
            if dtype.is_floating_point:
                values = torch.rand(shape, generator=generator)
            elif dtype is torch.bool:
                values = torch.randint(0, 2, shape, generator=generator)
            else:
                high = vocabulary or NO_VOCABULARY
                values = torch.randint(0, min(high, _top(dtype)), shape, generator=generator)
            return values.to(device=device, dtype=dtype)

        args = tuple(_walk(a, tensor, str(i)) for i, a in enumerate(self.args))
        kwargs = {k: _walk(v, tensor, k) for k, v in self.kwargs.items()}
        return args, kwargs


def _element_size(dtype: torch.dtype) -> int:
    return torch.empty((), dtype=dtype, device="meta").element_size()


def _top(dtype: torch.dtype) -> int:
    return int(torch.iinfo(dtype).max) + 1


def first_vocabulary(model: nn.Module) -> int | None:
    """The first ``nn.Embedding``'s ``num_embeddings`` (or an ``nn.EmbeddingBag``'s): the
    token ids a real forward may index."""
    for module in model.modules():
        if isinstance(module, nn.Embedding | nn.EmbeddingBag):
            return int(module.num_embeddings)
    return None


def from_shapes(shapes: list[TensorSpec], dtype: str = "float32") -> ExampleInputs:
    """One positional input per spec (``--input-shape`` repeated)."""
    return ExampleInputs(tuple(shapes), {}, dtype)


def from_value(value: Any, dtype: str = "float32", where: str = "the inputs") -> ExampleInputs:
    """A value a user's inputs function returned (or the API's ``inputs=``): a tensor, a
    tuple or list of positional inputs, a dict of keyword inputs, or an ``(args,
    kwargs)`` pair (a tuple or list, then a dict)."""
    if isinstance(value, torch.Tensor | TensorSpec):
        return ExampleInputs((value,), {}, dtype)
    if isinstance(value, dict):
        return ExampleInputs((), _names(value, where), dtype)
    if (
        isinstance(value, tuple | list)
        and len(value) == 2
        and isinstance(value[0], tuple | list)
        and isinstance(value[1], dict)
        and not hasattr(value, "_fields")
    ):
        return ExampleInputs(tuple(value[0]), _names(value[1], where), dtype)
    if isinstance(value, tuple | list) and not hasattr(value, "_fields"):
        return ExampleInputs(tuple(value), {}, dtype)
    raise InvalidSpecError(
        f"{where} returned a {type(value).__name__}: return a tensor, a tuple of positional "
        "inputs, a dict of keyword inputs or an (args, kwargs) pair"
    )


def _names(kwargs: dict[Any, Any], where: str) -> dict[str, Any]:
    bad = [k for k in kwargs if not (isinstance(k, str) and k.isidentifier())]
    if bad:
        raise InvalidSpecError(f"{where}: keyword input {bad[0]!r} is not a Python name")
    return dict(kwargs)
