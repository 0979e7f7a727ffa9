"""The roofline: bytes moved, arithmetic intensity, and a lower bound on time (pure).

Rules, stated once (docs/explanation/roofline.md):

- **Bytes moved** by a layer: its weights read once, each of its inputs read
  once, its output written once, each tensor at its dtype's size (the run's
  dtype; a read model's inputs at their own: token ids are 8 bytes). Views
  (reshape, permute, slicing, dropout in eval) move nothing; a parameter read
  as data is read by the layer that reads it. Caches are not assumed: a tensor
  read by two layers is read twice.
- **Fused** (``--fused``): an element-wise op (BatchNorm in eval, an
  activation, a residual add, a gate's multiply, arithmetic) is taken as fused
  into the op before it: it does not read that op's output, which is not
  written unless another layer reads it. The fused kernel (the op and the
  element-wise ops after it) is one unit of the roofline: its bytes, work and
  time are shown on its first layer, and the fused layers show 0 bytes.
- **Arithmetic intensity** = FLOPs / bytes moved, FLOPs being 2 x MACs (the
  catalogue's ``flops``). Bias adds and element-wise work are not counted
  against the peak: a datasheet's peak is multiply-accumulate throughput, and
  such layers are bounded by their bytes.
- **On a device**: the ridge point is peak / bandwidth (FLOPs per byte); a
  layer whose intensity is at most the ridge is memory-bound, else
  compute-bound; its lower-bound time is ``max(FLOPs / peak, bytes /
  bandwidth)``. A layer whose bytes fit a cache level of the device (its
  working set, the bytes it moves) is bounded by that level's bandwidth (a
  hierarchical roofline). The whole model's bound is the sum of its layers'
  (kernels run one after another), with the share of that time spent in
  memory-bound layers.
- **The peak** is picked by the run's dtype: float16 -> fp16, bfloat16 -> bf16
  (dense tensor-core peaks), float64 -> fp64, float32 -> tf32 where the device
  has it (PyTorch runs float32 convolutions in TF32 by default on such GPUs:
  ``torch.backends.cudnn.allow_tf32`` is on, so the fp32 peak would not bound
  them), else fp32. ``peak=fp32`` in the spec picks another. Sparse peaks are
  never used: the table holds dense peaks only.

Devices are data: ``convcalc/data/hardware.json`` (each row with its source),
a spec saved by ``convcalc hardware measure`` in ``hardware_dir()``, or a JSON
file of the same form (``Hardware.from_dict``)::

    {"name": "mybox", "title": "...", "bandwidth": 3.35e12,
     "peaks": {"fp32": 67e12, "tf32": 494.5e12, "bf16": 989.5e12},
     "caches": [{"name": "L2", "bytes": 52428800, "bandwidth": 1.0e13}],
     "source": {"url": "...", "document": "...", "date": "2023-01"}, "notes": "..."}

Rates are FLOP/s and bytes/s; cache sizes bytes.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from convcalc.core.count.figures import ELEMENT_BYTES, FLOPS_PER_MAC, NetworkFigures
from convcalc.core.nets.graph import INPUT
from convcalc.core.ops.primitives import Primitive, fmt_int, numel
from convcalc.errors import InvalidSpecError

# ---------------------------------------------------------------- devices

# The peaks a spec may give, each a dense FLOP/s (OP/s for int8) figure.
PEAK_KINDS = ("fp64", "fp32", "tf32", "bf16", "fp16", "int8")
# The run's dtype -> the peaks that may bound it, the first the device has.
DTYPE_PEAKS: dict[str, tuple[str, ...]] = {
    "float64": ("fp64",),
    "float32": ("tf32", "fp32"),
    "bfloat16": ("bf16",),
    "float16": ("fp16",),
}
TABLE_FILE = Path(__file__).resolve().parents[2] / "data" / "hardware.json"
MEMORY = "memory"  # the level of a layer bounded by the device's main memory (DRAM, HBM)

Bound = Literal["memory", "compute"]


@dataclass(frozen=True)
class CacheLevel:
    """One level of a hierarchical roofline: a layer whose working set fits ``bytes`` is
    bounded by ``bandwidth`` (bytes/s) rather than main memory's."""

    name: str
    bytes: int
    bandwidth: float

    def to_dict(self) -> dict[str, Any]:
        """The spec's JSON form."""
        return {"name": self.name, "bytes": self.bytes, "bandwidth": self.bandwidth}


@dataclass(frozen=True)
class Hardware:
    """A device spec: dense peaks by kind (FLOP/s), main-memory bandwidth (bytes/s),
    optional cache levels, and where the figures come from."""

    name: str
    peaks: Mapping[str, float]
    bandwidth: float
    title: str = ""
    caches: tuple[CacheLevel, ...] = ()
    source: Mapping[str, str] = field(default_factory=dict)  # url, document, date
    notes: str = ""
    memory_bytes: int | None = None
    measured: Mapping[str, Any] | None = None  # how a measured spec was measured (free form)

    @classmethod
    def from_dict(cls, data: Any, where: str = "hardware spec") -> Hardware:
        """A spec from its JSON form (InvalidSpecError naming ``where`` and the key)."""
        if not isinstance(data, Mapping):
            raise InvalidSpecError(f"{where}: a hardware spec is a JSON object")
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InvalidSpecError(f"{where}: 'name' must be a non-empty string")
        peaks = data.get("peaks")
        if not isinstance(peaks, Mapping) or not peaks:
            raise InvalidSpecError(
                f"{where}: 'peaks' must be an object of FLOP/s by kind ({', '.join(PEAK_KINDS)})"
            )
        for kind, value in peaks.items():
            if kind not in PEAK_KINDS:
                raise InvalidSpecError(
                    f"{where}: peak {kind!r} is not one of {', '.join(PEAK_KINDS)}"
                )
            _rate(value, f"{where}: peaks.{kind}")
        caches = data.get("caches", [])
        if not isinstance(caches, list):
            raise InvalidSpecError(f"{where}: 'caches' must be a list of levels")
        levels = []
        for index, level in enumerate(caches):
            at = f"{where}: caches[{index}]"
            if not isinstance(level, Mapping) or not isinstance(level.get("name"), str):
                raise InvalidSpecError(f"{at} must be an object with a 'name'")
            size = level.get("bytes")
            if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
                raise InvalidSpecError(f"{at}.bytes must be a positive integer")
            levels.append(CacheLevel(level["name"], size, _rate(level.get("bandwidth"),
                                                                f"{at}.bandwidth")))  # fmt: skip
        source = data.get("source", {})
        if not isinstance(source, Mapping) or not all(isinstance(v, str) for v in source.values()):
            raise InvalidSpecError(f"{where}: 'source' must be an object of strings")
        memory = data.get("memory_bytes")
        if memory is not None and (isinstance(memory, bool) or not isinstance(memory, int)):
            raise InvalidSpecError(f"{where}: 'memory_bytes' must be an integer")
        measured = data.get("measured")
        if measured is not None and not isinstance(measured, Mapping):
            raise InvalidSpecError(f"{where}: 'measured' must be an object")
        return cls(
            name=name.strip(),
            peaks={k: float(v) for k, v in peaks.items()},
            bandwidth=_rate(data.get("bandwidth"), f"{where}: bandwidth"),
            title=str(data.get("title", "")),
            caches=tuple(sorted(levels, key=lambda level: level.bytes)),
            source=dict(source),
            notes=str(data.get("notes", "")),
            memory_bytes=memory,
            measured=measured,
        )

    def to_dict(self) -> dict[str, Any]:
        """The spec's JSON form (``from_dict`` reads it back)."""
        result: dict[str, Any] = {
            "name": self.name,
            "title": self.title,
            "peaks": dict(self.peaks),
            "bandwidth": self.bandwidth,
        }
        if self.caches:
            result["caches"] = [level.to_dict() for level in self.caches]
        if self.memory_bytes is not None:
            result["memory_bytes"] = self.memory_bytes
        result["source"] = dict(self.source)
        if self.notes:
            result["notes"] = self.notes
        if self.measured is not None:
            result["measured"] = dict(self.measured)
        return result

    def peak_for(self, dtype: str, kind: str | None = None) -> tuple[str, float]:
        """(kind, FLOP/s) bounding a run in ``dtype``: ``kind`` when named, else the
        first of DTYPE_PEAKS[dtype] the device has (InvalidSpecError when none)."""
        wanted = (kind,) if kind is not None else DTYPE_PEAKS.get(dtype, ())
        for key in wanted:
            if key in self.peaks:
                return key, self.peaks[key]
        have = ", ".join(self.peaks) or "none"
        asked = f"a {kind} peak" if kind is not None else f"a peak for {dtype}"
        raise InvalidSpecError(
            f"hardware {self.name!r} has no {asked} (it has {have}): name one with "
            f"--hardware {self.name},peak=KIND or peak=RATE"
        )

    def roof(self, dtype: str, kind: str | None = None) -> Roof:
        """This device's roof for a run in ``dtype``."""
        key, peak = self.peak_for(dtype, kind)
        return Roof(self.name, peak, self.bandwidth, key, self.caches, self)


@dataclass(frozen=True)
class Roof:
    """A device as one run sees it: the peak its dtype reaches, the bandwidths."""

    name: str
    peak: float  # FLOP/s
    bandwidth: float  # bytes/s, main memory
    peak_kind: str = ""  # fp32, tf32, bf16...; "" for a peak given as a number
    caches: tuple[CacheLevel, ...] = ()
    hardware: Hardware | None = None

    @property
    def ridge(self) -> float:
        """Peak / bandwidth: the intensity (FLOPs per byte) above which a layer is
        compute-bound."""
        return self.peak / self.bandwidth

    def level(self, working_set: int) -> tuple[str, float]:
        """(level, bandwidth) bounding a layer that moves ``working_set`` bytes: the
        smallest cache it fits, else main memory."""
        for cache in self.caches:  # smallest first
            if working_set <= cache.bytes:
                return cache.name, cache.bandwidth
        return MEMORY, self.bandwidth

    def peak_text(self) -> str:
        """``989.5 TFLOP/s (bf16)``."""
        kind = f" ({self.peak_kind})" if self.peak_kind else ""
        return f"{rate(self.peak, 'FLOP/s')}{kind}"

    def to_dict(self) -> dict[str, Any]:
        """The ``analytic.roofline.hardware`` object of the JSON document."""
        result: dict[str, Any] = {
            "name": self.name,
            "peak": self.peak,
            "peak_kind": self.peak_kind,
            "bandwidth": self.bandwidth,
        }
        if self.caches:
            result["caches"] = [level.to_dict() for level in self.caches]
        if self.hardware is not None:
            result["title"] = self.hardware.title
            result["source"] = dict(self.hardware.source)
        return result


def _rate(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidSpecError(f"{where} must be a positive number")
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise InvalidSpecError(f"{where} must be a positive number")
    return number


def table(path: Path = TABLE_FILE) -> tuple[Hardware, ...]:
    """The devices shipped with convcalc (convcalc/data/hardware.json), in its order."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return tuple(
        Hardware.from_dict(row, f"{path.name}: row {index}")
        for index, row in enumerate(data["hardware"])
    )


def hardware_dir() -> Path:
    """Where ``convcalc hardware measure`` saves specs: ``$CONVCALC_HARDWARE_DIR``, else
    ``$XDG_CONFIG_HOME/convcalc/hardware``, else ``~/.config/convcalc/hardware``."""
    explicit = os.environ.get("CONVCALC_HARDWARE_DIR")
    if explicit:
        return Path(explicit)
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "convcalc" / "hardware"


_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def spec_name(text: str) -> str:
    """A spec's name as a file name: lower case, letters, digits, ``.``, ``_``, ``-``."""
    name = text.strip().lower()
    if not _NAME.match(name):
        raise InvalidSpecError(
            f"hardware name {text!r} must be letters, digits, '.', '_' or '-' (e.g. my-box)"
        )
    return name


def saved() -> tuple[Hardware, ...]:
    """The specs saved in ``hardware_dir()``, by name (a file that is no spec: skipped)."""
    folder = hardware_dir()
    if not folder.is_dir():
        return ()
    found = []
    for path in sorted(folder.glob("*.json")):
        try:
            found.append(read_spec(path))
        except InvalidSpecError:
            continue
    return tuple(found)


def save_hardware(hardware: Hardware, folder: Path | None = None) -> Path:
    """Write a spec to ``folder`` (default ``hardware_dir()``) as NAME.json; its path."""
    target = (folder or hardware_dir()) / f"{spec_name(hardware.name)}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(hardware.to_dict(), indent=2) + "\n", encoding="utf-8")
    return target


def read_spec(path: Path) -> Hardware:
    """A spec from a JSON file (InvalidSpecError when it cannot be read or is no spec)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidSpecError(f"hardware file {str(path)!r} cannot be read: {error}") from None
    except ValueError as error:
        raise InvalidSpecError(f"hardware file {str(path)!r} is not JSON: {error}") from None
    return Hardware.from_dict(data, str(path))


def load_hardware(name: str) -> Hardware:
    """A device by name: the shipped table, then the saved specs (``hardware_dir()``),
    then a JSON file path. InvalidSpecError lists the names known."""
    key = name.strip().lower()
    for row in table():
        if row.name == key:
            return row
    if _NAME.match(key):
        path = hardware_dir() / f"{key}.json"
        if path.is_file():
            return read_spec(path)
    path = Path(name.strip()).expanduser()
    if path.suffix.lower() == ".json" or os.sep in name or "/" in name:
        if not path.is_file():
            raise InvalidSpecError(f"hardware file {name!r} does not exist")
        return read_spec(path)
    known = [row.name for row in table()] + [row.name for row in saved()]
    raise InvalidSpecError(
        f"hardware {name!r} is not known; use one of {', '.join(known)}, a JSON file, or "
        "peak=RATE,bandwidth=RATE (convcalc hardware lists them)"
    )


_RATE = re.compile(r"^\s*((?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[+-]?[0-9]+)?)\s*([KMGTP]?)\s*$",
                   re.IGNORECASE)  # fmt: skip
_SCALE = {"": 1.0, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15}


def parse_rate(text: str, option: str) -> float:
    """``989T``, ``3.35T``, ``900G``, ``1.5e12``: a positive rate (K, M, G, T, P as budgets)."""
    match = _RATE.match(text)
    if not match:
        raise InvalidSpecError(
            f"{option}={text!r} is not a rate (a number with K, M, G, T or P, such as 989T)"
        )
    number = float(match.group(1)) * _SCALE[match.group(2).upper()]
    if not math.isfinite(number) or number <= 0:
        raise InvalidSpecError(f"{option}={text!r} must be a positive finite rate")
    return number


def parse_hardware(text: str, dtype: str = "float32") -> Roof:
    """``--hardware``: a name (``h100-sxm``), a saved spec or a JSON file, optionally
    followed by ``,peak=KIND`` (``fp32``) or ``,peak=RATE``, ``,bandwidth=RATE``; or only
    ``peak=RATE,bandwidth=RATE`` (and ``name=``) for any other device."""
    parts = [part.strip() for part in text.split(",")]
    if not text.strip() or any(not part for part in parts):
        raise InvalidSpecError(
            f"hardware={text!r} must be a name (convcalc hardware lists them) or "
            "peak=RATE,bandwidth=RATE"
        )
    base: Hardware | None = None
    if "=" not in parts[0]:
        base = load_hardware(parts[0])
        parts = parts[1:]
    settings: dict[str, str] = {}
    for part in parts:
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in ("peak", "bandwidth", "name"):
            raise InvalidSpecError(
                f"hardware={text!r}: {part!r} is not peak=..., bandwidth=... or name=..."
            )
        if key in settings:
            raise InvalidSpecError(f"hardware={text!r} gives {key} twice")
        settings[key] = value.strip()
    name = settings.get("name") or (base.name if base is not None else "custom")
    peak_text = settings.get("peak")
    kind: str | None = None
    peak: float | None = None
    if peak_text is not None:
        if peak_text.lower() in PEAK_KINDS:
            if base is None:
                raise InvalidSpecError(
                    f"hardware={text!r}: peak={peak_text} names a peak of a device; "
                    "give a device name first, or a rate (peak=989T)"
                )
            kind = peak_text.lower()
        else:
            peak = parse_rate(peak_text, "peak")
    bandwidth = None if "bandwidth" not in settings else parse_rate(settings["bandwidth"],
                                                                     "bandwidth")  # fmt: skip
    if base is None:
        if peak is None or bandwidth is None:
            raise InvalidSpecError(
                f"hardware={text!r} needs both peak=RATE and bandwidth=RATE "
                "(such as peak=989T,bandwidth=3.35T), or a device's name"
            )
        return Roof(name, peak, bandwidth)
    roof = base.roof(dtype, kind)
    return Roof(
        name,
        peak if peak is not None else roof.peak,
        bandwidth if bandwidth is not None else roof.bandwidth,
        "" if peak is not None else roof.peak_kind,
        roof.caches,
        base,
    )


# ---------------------------------------------------------------- the roofline of a network


@dataclass(frozen=True, eq=False, repr=False)
class Options:
    """How a report's roofline is drawn: on which device (none: bytes and intensity
    only), and whether element-wise ops are fused into the op before them."""

    roof: Roof | None = None
    fused: bool = False

    @property
    def shown(self) -> bool:
        """Whether tables show the roofline (a device, or --fused, was asked for)."""
        return self.roof is not None or self.fused


# The primitives taken as element-wise (fused with --fused). Softmax reads a whole row,
# so it is no element-wise op here.
ELEMENTWISE_KINDS = frozenset({"BatchNorm2d", "Activation", "Add", "GateMultiply", "Pointwise"})
NOT_ELEMENTWISE = frozenset({"softmax", "log_softmax"})
# Ops that move no data: views of their input, or a parameter's own tensor.
VIEWS = frozenset(
    {
        "flatten", "reshape", "view", "permute", "transpose", "unsqueeze", "squeeze",
        "expand", "expand_as", "__getitem__", "chunk", "split", "unbind", "narrow", "select",
        "dropout", "dropout_", "dropout1d", "dropout2d", "dropout3d", "feature_dropout",
        "alpha_dropout", "feature_alpha_dropout", "stochastic_depth", "movedim", "unflatten",
        "t", "detach", "view_as", "reshape_as", "swapaxes", "mT", "split_with_sizes",
        "tensor_split", "split heads", "merge heads", "input", "buffer", "constant",
    }
)  # fmt: skip
# Ops that write a tensor without reading one (their listed source is a placeholder).
CREATIONS = frozenset(
    {
        "zeros", "ones", "arange", "full", "empty", "tensor", "new_zeros", "new_ones",
        "new_empty", "meshgrid", "eye", "linspace", "new_full", "new_tensor",
    }
)  # fmt: skip


def moves_nothing(op: Primitive) -> bool:
    """A view or a parameter's own tensor: no bytes of its own."""
    if op.kind == "Parameter" or type(op) is Primitive:
        return True
    return op.kind == "Opaque" and getattr(op, "function", "") in VIEWS


def elementwise(op: Primitive) -> bool:
    """An op that ``--fused`` fuses into the op before it."""
    return op.kind in ELEMENTWISE_KINDS and getattr(op, "function", "") not in NOT_ELEMENTWISE


@dataclass(frozen=True, eq=False, repr=False)
class Traffic:
    """What one layer reads and writes, in bytes (before fusion is attributed)."""

    weights: int
    inputs: int
    output: int

    @property
    def total(self) -> int:
        """Bytes moved."""
        return self.weights + self.inputs + self.output


@dataclass(frozen=True, eq=False, repr=False)
class LayerBound:
    """One layer's roofline. Under ``--fused`` a fused layer (``fused_into`` set) shows
    nothing of its own: its kernel's figures are on the kernel's first layer."""

    index: int
    name: str
    traffic: Traffic  # this layer's own reads and writes (after fusion)
    bytes_moved: int  # the kernel's bytes, on its first layer; 0 on a fused one
    flops: int  # likewise
    fused_into: str | None = None
    level: str = MEMORY
    bandwidth: float | None = None  # the level's, on a device
    peak: float | None = None

    @property
    def intensity(self) -> float | None:
        """FLOPs per byte moved (None when it moves nothing)."""
        return self.flops / self.bytes_moved if self.bytes_moved else None

    @property
    def compute_time(self) -> float | None:
        """FLOPs / peak, on a device."""
        return None if self.peak is None else self.flops / self.peak

    @property
    def memory_time(self) -> float | None:
        """Bytes / bandwidth, on a device."""
        return None if self.bandwidth is None else self.bytes_moved / self.bandwidth

    @property
    def time(self) -> float | None:
        """The lower bound, max(FLOPs / peak, bytes / bandwidth), on a device."""
        if self.compute_time is None or self.memory_time is None:
            return None
        return max(self.compute_time, self.memory_time)

    @property
    def ridge(self) -> float | None:
        """Peak / the bandwidth of the level bounding it."""
        return None if self.peak is None or not self.bandwidth else self.peak / self.bandwidth

    @property
    def bound(self) -> Bound | None:
        """memory when bytes take at least as long as FLOPs, else compute (None off a
        device, or for a layer that does nothing)."""
        if self.compute_time is None or self.memory_time is None or self.fused_into:
            return None
        if not self.bytes_moved and not self.flops:
            return None
        return "memory" if self.memory_time >= self.compute_time else "compute"

    def to_dict(self) -> dict[str, Any]:
        """This layer's figures under their catalogue names (only those it has)."""
        result: dict[str, Any] = {"bytes_moved": self.bytes_moved}
        if self.intensity is not None:
            result["arithmetic_intensity"] = self.intensity
        if self.time is not None:
            result["time_bound"] = self.time
        if self.bound is not None:
            result["bound"] = self.bound
        if self.fused_into is not None:
            result["fused_into"] = self.fused_into
        return result


@dataclass(frozen=True, eq=False, repr=False)
class Roofline:
    """A network's roofline: per layer (node) and in total."""

    options: Options
    layers: tuple[LayerBound, ...]
    flops: int
    dtype: str
    dtype_bytes: int

    @property
    def bytes_moved(self) -> int:
        """Every layer's bytes moved, summed."""
        return sum(x.bytes_moved for x in self.layers)

    @property
    def weight_bytes(self) -> int:
        """Weights read, summed over the layers."""
        return sum(x.traffic.weights for x in self.layers)

    @property
    def read_bytes(self) -> int:
        """Inputs read, summed over the layers."""
        return sum(x.traffic.inputs for x in self.layers)

    @property
    def written_bytes(self) -> int:
        """Outputs written, summed over the layers."""
        return sum(x.traffic.output for x in self.layers)

    @property
    def intensity(self) -> float | None:
        """The whole network's FLOPs per byte."""
        moved = self.bytes_moved
        return self.flops / moved if moved else None

    @property
    def time(self) -> float | None:
        """The sum of the layers' lower bounds (None off a device)."""
        if self.options.roof is None:
            return None
        return sum(x.time or 0.0 for x in self.layers)

    @property
    def memory_time(self) -> float | None:
        """The part of ``time`` in memory-bound layers."""
        if self.options.roof is None:
            return None
        return sum(x.time or 0.0 for x in self.layers if x.bound == "memory")

    @property
    def memory_share(self) -> float | None:
        """memory_time / time (0 when the bound is 0)."""
        total, memory = self.time, self.memory_time
        if total is None or memory is None:
            return None
        return memory / total if total else 0.0

    @property
    def bound(self) -> Bound | None:
        """memory when memory-bound layers take at least half the time, else compute."""
        share = self.memory_share
        if share is None:
            return None
        return "memory" if share >= 0.5 else "compute"

    @property
    def ridge(self) -> float | None:
        """The device's ridge point (main memory)."""
        roof = self.options.roof
        return None if roof is None else roof.ridge

    def to_dict(self) -> dict[str, Any]:
        """The ``analytic.roofline`` object of the JSON document."""
        roof = self.options.roof
        result: dict[str, Any] = {
            "bytes_moved": self.bytes_moved,
            "weight_bytes": self.weight_bytes,
            "read_bytes": self.read_bytes,
            "written_bytes": self.written_bytes,
            "fused": self.options.fused,
        }
        if self.intensity is not None:
            result["arithmetic_intensity"] = self.intensity
        if roof is not None:
            result["hardware"] = roof.to_dict()
            result["ridge_point"] = roof.ridge
            result["time_bound"] = self.time
            result["memory_bound_share"] = self.memory_share
            result["bound"] = self.bound
        return result

    def layer(self, index: int) -> LayerBound:
        """The roofline of node ``index``."""
        return self.layers[index]

    def row(self, indices: Iterable[int]) -> dict[str, Any]:
        """A table row's figures over several nodes: bytes, FLOPs and time summed, the
        intensity of the sums, the bound of the larger part of its time."""
        members = [self.layers[i] for i in indices]
        moved = sum(x.bytes_moved for x in members)
        work = sum(x.flops for x in members)
        result: dict[str, Any] = {
            "bytes_moved": moved,
            "arithmetic_intensity": work / moved if moved else None,
        }
        if self.options.roof is not None:
            times = [x for x in members if x.time is not None]
            memory = sum(x.time or 0.0 for x in times if x.bound == "memory")
            compute = sum(x.time or 0.0 for x in times if x.bound == "compute")
            result["time_bound"] = memory + compute
            bound = None
            if memory or compute:
                bound = "memory" if memory >= compute else "compute"
            elif any(x.fused_into for x in members):
                bound = "fused"
            result["bound"] = bound
        return result

    # ------------------------------------------------------------ formulas

    def bytes_formula(self, layer: LayerBound | None = None) -> str:
        """Bytes moved with the numbers in (a layer's, or the total's)."""
        traffic = (
            Traffic(self.weight_bytes, self.read_bytes, self.written_bytes)
            if layer is None
            else layer.traffic
        )
        per = " per layer" if layer is None else ""
        fused = "; element-wise ops fused into the op before them" if self.options.fused else ""
        return (
            f"weights {fmt_int(traffic.weights)} + inputs {fmt_int(traffic.inputs)} + outputs "
            f"{fmt_int(traffic.output)} = {fmt_int(traffic.total)} B: each read or written "
            f"once{per}, {self.dtype_bytes} B ({self.dtype}) each{fused}"
        )

    def intensity_formula(self, flops: int, moved: int) -> str:
        """``14,193,792 FLOPs / 3,328 B = 4,265``."""
        if not moved:
            return "no bytes moved"
        return f"{fmt_int(flops)} FLOPs (2 x MACs) / {fmt_int(moved)} B = {flops / moved:,.4g}"

    def ridge_formula(self) -> str:
        """``989.5 TFLOP/s (bf16) / 3.35 TB/s = 295.4 FLOPs/B``."""
        roof = self.options.roof
        if roof is None:
            return ""
        return f"{roof.peak_text()} / {rate(roof.bandwidth, 'B/s')} = {roof.ridge:,.4g} FLOPs/B"

    def time_formula(self, layer: LayerBound | None = None) -> str:
        """The lower bound with the numbers in."""
        roof = self.options.roof
        if roof is None:
            return ""
        if layer is None:
            kernels = sum(1 for x in self.layers if x.time)
            return f"sum over {kernels} kernels of max(FLOPs / peak, bytes / bandwidth)"
        if layer.time is None:
            return ""
        level = "" if layer.level == MEMORY else f" ({layer.level})"
        return (
            f"max({fmt_int(layer.flops)} / {roof.peak_text()}, {fmt_int(layer.bytes_moved)} B"
            f" / {rate(layer.bandwidth or 0.0, 'B/s')}{level}) = max({seconds(layer.compute_time)}"
            f", {seconds(layer.memory_time)}) = {seconds(layer.time)}"
        )

    def bound_formula(self, layer: LayerBound | None = None) -> str:
        """Why the verdict: intensity against the ridge."""
        if self.options.roof is None:
            return ""
        if layer is None:
            share = self.memory_share or 0.0
            return (
                f"memory-bound layers {seconds(self.memory_time)} of {seconds(self.time)}"
                f" = {share:.1%} of the bound"
            )
        if layer.intensity is None or layer.ridge is None:
            return ""
        sign = "<=" if layer.bound == "memory" else ">"
        return f"intensity {layer.intensity:,.4g} {sign} ridge {layer.ridge:,.4g} FLOPs/B"

    def share_formula(self) -> str:
        """The memory-bound share with the numbers in."""
        return self.bound_formula(None)


def traffic(figures: NetworkFigures) -> list[Traffic]:
    """Each node's reads and writes, unfused: weights, distinct inputs, output."""
    network = figures.network
    size = figures.dtype_bytes
    by_name = {node.name: node for node in network.nodes}
    input_sizes = _input_sizes(figures)
    result = []
    for index, node in enumerate(network.nodes):
        layer = figures.layers[index]
        op = node.op
        if moves_nothing(op):
            result.append(Traffic(0, 0, 0))
            continue
        owner = by_name[node.weights_of] if node.weights_of else node
        weights = owner.op.params * size
        reads = 0
        if not (op.kind == "Opaque" and getattr(op, "function", "") in CREATIONS):
            seen: set[str] = set()
            for source, shape in zip(network.sources(index), layer.input_shapes, strict=False):
                if source not in seen:  # a tensor given twice (x * x) is read once
                    seen.add(source)
                    reads += numel(shape) * input_sizes.get(source, size)
        result.append(Traffic(weights, reads, numel(layer.output_shape) * size))
    return result


def _input_sizes(figures: NetworkFigures) -> dict[str, int]:
    """Bytes per element of the network's inputs: a read model's by their own dtype."""
    network = figures.network
    if not network.inputs:
        return {}
    sizes = {INPUT: ELEMENT_BYTES.get(network.inputs[0][1], figures.dtype_bytes)}
    later = [n.name for n in network.nodes
             if n.op.kind == "Opaque" and getattr(n.op, "function", "") == "input"]  # fmt: skip
    for name, (_, dtype) in zip(later, network.inputs[1:], strict=False):
        sizes[name] = ELEMENT_BYTES.get(dtype, figures.dtype_bytes)
    return sizes


def roofline(figures: NetworkFigures, options: Options | None = None) -> Roofline:
    """The roofline of a network's figures under ``options`` (default: the figures' own
    ``roofline_options``, else no device, unfused)."""
    if options is None:
        options = getattr(figures, "roofline_options", None) or Options()
    network = figures.network
    nodes = network.nodes
    own = traffic(figures)
    heads = list(range(len(nodes)))  # the kernel each node runs in
    if options.fused:
        own = _fuse(figures, own, heads)
    kernel_bytes = [0] * len(nodes)
    kernel_flops = [0] * len(nodes)
    for index, head in enumerate(heads):
        kernel_bytes[head] += own[index].total
        kernel_flops[head] += FLOPS_PER_MAC * figures.layers[index].macs
    roof = options.roof
    layers = []
    for index, node in enumerate(nodes):
        head = heads[index]
        fused = head != index
        moved = 0 if fused else kernel_bytes[index]
        level, bandwidth = MEMORY, None
        if roof is not None and not fused:
            level, bandwidth = roof.level(moved)
        layers.append(
            LayerBound(
                index=index,
                name=node.name,
                traffic=own[index],
                bytes_moved=moved,
                flops=0 if fused else kernel_flops[index],
                fused_into=nodes[head].name if fused else None,
                level=level,
                bandwidth=bandwidth,
                peak=None if roof is None or fused else roof.peak,
            )
        )
    return Roofline(options, tuple(layers), figures.totals.flops, figures.dtype,
                    figures.dtype_bytes)  # fmt: skip


def roofline_of(figures: NetworkFigures) -> Roofline:
    """The roofline of a network's figures under their own ``roofline_options``, drawn
    once and kept on the (frozen) figures object as a cache."""
    cached = figures.__dict__.get("_roofline")
    if not isinstance(cached, Roofline):
        cached = roofline(figures)
        object.__setattr__(figures, "_roofline", cached)  # a cache, not a field
    return cached


def _fuse(figures: NetworkFigures, own: list[Traffic], heads: list[int]) -> list[Traffic]:
    """Fold each element-wise node into the kernel of the node just before it, when it
    reads that node's output: it does not read it, and that node does not write it
    unless another node (or the network's output) reads it. ``heads`` is updated."""
    network = figures.network
    nodes = network.nodes
    consumers: dict[str, set[int]] = {}
    for index in range(len(nodes)):
        for source in network.sources(index):
            consumers.setdefault(source, set()).add(index)
    outputs = set(network.output_nodes)
    result = list(own)
    for index in range(1, len(nodes)):
        node, before = nodes[index], nodes[index - 1]
        sources = network.sources(index)
        if not elementwise(node.op) or before.name not in sources or moves_nothing(before.op):
            continue
        heads[index] = heads[index - 1]
        shape = figures.layers[index - 1].output_shape
        mine = result[index]
        result[index] = Traffic(mine.weights, max(mine.inputs - numel(shape) * figures.dtype_bytes,
                                                  0), mine.output)  # fmt: skip
        if consumers.get(before.name) == {index} and before.name not in outputs:
            theirs = result[index - 1]
            result[index - 1] = Traffic(theirs.weights, theirs.inputs, 0)
    return result


# ---------------------------------------------------------------- units in words


def rate(value: float, unit: str) -> str:
    """``989.5 TFLOP/s``, ``3.35 TB/s``: three significant figures and an SI prefix."""
    for prefix, scale in (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if value >= scale:
            return f"{value / scale:.4g} {prefix}{unit}"
    return f"{value:.4g} {unit}"


def seconds(value: float | None) -> str:
    """``14.3 ns``, ``1.2 ms``, ``3.4 s``."""
    if value is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return "0 s" if value == 0 else f"{value / 1e-9:.3g} ns"


def describe(hardware: Hardware) -> dict[str, Any]:
    """One row of ``convcalc hardware``: name, title, peaks, bandwidth, ridge, source."""
    bf16 = hardware.peaks.get("bf16") or hardware.peaks.get("fp16")
    return {
        "name": hardware.name,
        "title": hardware.title,
        "peaks": dict(hardware.peaks),
        "bandwidth": hardware.bandwidth,
        "ridge_16bit": bf16 / hardware.bandwidth if bf16 else None,
        "caches": [level.to_dict() for level in hardware.caches],
        "source": dict(hardware.source),
        "notes": hardware.notes,
    }


def peaks_text(peaks: Mapping[str, float], kinds: Sequence[str] = PEAK_KINDS) -> str:
    """``fp32 67 T, tf32 494.5 T, ...``: a spec's peaks, shortly."""
    return ", ".join(f"{k} {rate(peaks[k], '')}".rstrip() for k in kinds if k in peaks)
