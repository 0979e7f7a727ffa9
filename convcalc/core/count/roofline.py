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
from collections.abc import Mapping, Sequence
from dataclasses import field
from pathlib import Path
from typing import Any

# The network half (bytes moved, intensity, each layer's bound) lives in core.count.traffic,
# which a report loads without the device machinery below; every name is re-exported here.
from convcalc.core.count.traffic import (
    CREATIONS,
    ELEMENTWISE_KINDS,
    MEMORY,
    NOT_ELEMENTWISE,
    VIEWS,
    Bound,
    LayerBound,
    Options,
    Roofline,
    Traffic,
    elementwise,
    moves_nothing,
    rate,
    roofline,
    roofline_of,
    seconds,
    traffic,
)
from convcalc.core.values.record import Record
from convcalc.errors import InvalidSpecError

__all__ = [
    "CREATIONS",
    "DTYPE_PEAKS",
    "ELEMENTWISE_KINDS",
    "MEMORY",
    "NOT_ELEMENTWISE",
    "PEAK_KINDS",
    "TABLE_FILE",
    "VIEWS",
    "Bound",
    "CacheLevel",
    "Hardware",
    "LayerBound",
    "Options",
    "Roof",
    "Roofline",
    "Traffic",
    "describe",
    "elementwise",
    "hardware_dir",
    "load_hardware",
    "moves_nothing",
    "parse_hardware",
    "parse_rate",
    "peaks_text",
    "rate",
    "read_spec",
    "roofline",
    "roofline_of",
    "save_hardware",
    "saved",
    "seconds",
    "spec_name",
    "table",
    "traffic",
]

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


class CacheLevel(Record):
    """One level of a hierarchical roofline: a layer whose working set fits ``bytes`` is
    bounded by ``bandwidth`` (bytes/s) rather than main memory's."""

    name: str
    bytes: int
    bandwidth: float

    def to_dict(self) -> dict[str, Any]:
        """The spec's JSON form."""
        return {"name": self.name, "bytes": self.bytes, "bandwidth": self.bandwidth}


class Hardware(Record):
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


class Roof(Record):
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
