"""The figures convcalc reports, each declared once (pure: standard library only).

A ``Figure`` says what a number is (name, unit, meaning), where it sits in the
JSON document (a path under ``analytic``; the same key in each ``layers``
entry; ``analytic.per_sample``), and what reads it: ``--value`` prints it, a
budget (``--max-NAME`` and ``max-NAME`` in ``[tool.convcalc.budgets.*]``)
bounds it, ``diff`` fails when it grows, and which ``--convention`` totals
are made of it. Everything else is derived from this table: the budget
options, the ``--value`` names, the config keys, what ``diff`` compares, and
the published JSON Schema (core.documents.contract.json_schema). A new figure is one
more entry here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal

from convcalc.core.values.record import Record
from convcalc.errors import InvalidSpecError

Kind = Literal["count", "shape", "number", "text"]


class Figure(Record):
    """One figure of a report, and everything that reads it."""

    name: str  # the key: --value NAME, max-NAME (dashes), the document's key
    unit: str  # what one of it is: "MACs", "bytes", "params"; "" for a shape
    meaning: str  # one sentence, the JSON Schema's description
    path: tuple[str, ...]  # where it sits under ``analytic`` (``memory.param_bytes``)
    # count: an exact integer >= 0; shape: a list of sizes; number: finite; text: a word of
    # ``choices`` (a verdict)
    kind: Kind = "count"
    label: str = ""  # in words, plural: "activation bytes" (default: the unit)
    layer: bool = False  # also under the same name in each ``layers`` entry
    per_sample: bool = False  # also under ``analytic.per_sample`` (the count for one sample)
    budget: bool = False  # --max-NAME and a check entry's max-NAME bound it; check shows it
    growth: bool = False  # diff exits 1 when the whole model's figure grows past the tolerance
    layer_diff: bool = False  # diff lists its change in each layer
    value: bool = True  # --value NAME prints it
    required: bool = False  # every point's ``analytic`` has it (the schema's "required")
    # The --convention names whose total is the sum of the figures naming them
    # (paper: macs; hardware: flops + bias_adds + elementwise_ops).
    conventions: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()  # the values a text figure takes
    # The document has it only when the run asks (the roofline's device figures need a
    # --hardware): --value refuses it with this hint where the document has none.
    needs: str = ""
    # A measurement (--measure-time), read from each point's ``timing`` object (and each
    # ``layers`` entry) rather than ``analytic``: a figure of this machine, not a formula.
    measured: bool = False

    @property
    def section(self) -> str:
        """The point's object that holds it: ``analytic``, or ``timing`` for a measurement."""
        return "timing" if self.measured else "analytic"

    @property
    def key(self) -> str:
        """Its place under ``analytic`` as dotted text: ``memory.activation_bytes``."""
        return ".".join(self.path)

    @property
    def option(self) -> str:
        """The budget's name as the user writes it: ``max-activation-bytes``."""
        return "max-" + self.name.replace("_", "-")

    @property
    def parameter(self) -> str:
        """The budget option's Python parameter name: ``max_activation_bytes``."""
        return "max_" + self.name

    @property
    def words(self) -> str:
        """The figure in words, plural: ``activation bytes``, ``MACs``."""
        return self.label or self.unit or self.name.replace("_", " ")

    @property
    def budget_help(self) -> str:
        """The budget option's help text."""
        return f"Fail (exit 1) above this many {self.words}: 1.5M, 600K, 2G, 1e6 or an integer."

    def read(self, analytic: Any) -> Any:
        """This figure from an ``analytic`` object (None where it has none)."""
        value = analytic
        for key in self.path:
            value = value.get(key) if isinstance(value, Mapping) else None
        return value


class Catalogue:
    """An ordered set of figures, and the views every reader derives from it."""

    def __init__(self, figures: Iterable[Figure]) -> None:
        self.figures: tuple[Figure, ...] = tuple(figures)
        self._by_name = {f.name: f for f in self.figures}
        if len(self._by_name) != len(self.figures):
            raise ValueError("two figures share a name")
        for f in self.figures:
            if (f.budget or f.growth) and f.kind != "count":
                raise ValueError(f"{f.name}: only a count can have a budget or fail on growth")
            if f.layer_diff and not f.layer:
                raise ValueError(f"{f.name}: a per-layer diff needs the figure in each layer")
            if not f.path:
                raise ValueError(f"{f.name}: a figure needs its place in the document")

    def __iter__(self) -> Iterator[Figure]:
        return iter(self.figures)

    def __len__(self) -> int:
        return len(self.figures)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __getitem__(self, name: str) -> Figure:
        return self._by_name[name]

    @property
    def names(self) -> tuple[str, ...]:
        """Every figure's name, in catalogue order."""
        return tuple(self._by_name)

    @property
    def values(self) -> tuple[str, ...]:
        """The figures ``--value`` prints."""
        return tuple(f.name for f in self if f.value)

    @property
    def budgets(self) -> tuple[Figure, ...]:
        """The figures a budget bounds (``--max-params`` ...), in order."""
        return tuple(f for f in self if f.budget)

    @property
    def budget_names(self) -> tuple[str, ...]:
        """The names of the figures a budget bounds."""
        return tuple(f.name for f in self.budgets)

    @property
    def budget_keys(self) -> dict[str, str]:
        """A budget's option name -> its figure: ``{"max-params": "params", ...}``."""
        return {f.option: f.name for f in self.budgets}

    @property
    def growth(self) -> tuple[str, ...]:
        """The whole-model figures whose growth fails a diff."""
        return tuple(f.name for f in self if f.growth)

    def with_figure(self, figure: Figure) -> Catalogue:
        """A copy with one more figure (or with ``figure`` replacing the one of its name)."""
        if figure.name in self:
            return Catalogue(figure if f.name == figure.name else f for f in self)
        return Catalogue((*self.figures, figure))

    def value_name(self, text: str, option: str = "value") -> str:
        """A figure's name as typed (``macs``, ``MACs``, ``activation-bytes``) -> its key."""
        key = text.strip().lower().replace("-", "_")
        if key not in self or not self[key].value:
            raise InvalidSpecError(
                f"{option}={text!r} is not a figure; use one of {', '.join(self.values)}"
            )
        return key


def _count(name: str, unit: str, meaning: str, *path: str, **flags: Any) -> Figure:
    return Figure(name, unit, meaning, path or (name,), **flags)


# The figures of docs/reference/json.md, in the order the document gives them.
CATALOGUE = Catalogue(
    (
        _count(
            "params", "params", "Learnable parameters, each counted once (shared weights once; "
            "BN affine counts, running statistics do not).",
            layer=True, budget=True, growth=True, layer_diff=True, required=True,
        ),
        _count(
            "trainable_params", "params", "Parameters with requires_grad.",
            label="trainable params", required=True,
        ),
        _count(
            "macs", "MACs", "Weight multiply-accumulates: N Hout Wout Cout (Cin/g) kh kw for a "
            "convolution, N in out for a linear layer (the MobileNet papers' mult-adds).",
            layer=True, per_sample=True, budget=True, growth=True, layer_diff=True,
            required=True, conventions=("paper",),
        ),
        _count(
            "flops", "FLOPs", "2 x MACs, FlopCounterMode's convention.",
            layer=True, per_sample=True, budget=True, growth=True, required=True,
            conventions=("flopcounter", "hardware"),
        ),
        _count(
            "bias_adds", "adds", "One add per output element of a layer with a bias.",
            label="bias adds", layer=True, per_sample=True, required=True,
            conventions=("hardware",),
        ),
        _count(
            "elementwise_ops", "ops", "Other work: normalisation, activations, pools, gates, "
            "residual adds (broken down by kind under elementwise).",
            label="element-wise ops", layer=True, per_sample=True, growth=True, required=True,
            conventions=("hardware",),
        ),
        _count(
            "torchinfo_mult_adds", "mult-adds", "The count torchinfo 1.8 prints, computed in "
            "its convention (bias and BN included its own way).",
            label="torchinfo mult-adds", layer=True, per_sample=True, required=True,
            conventions=("torchinfo",),
        ),
        _count(
            "param_bytes", "bytes", "Parameters x the dtype's bytes.",
            "memory", "param_bytes", label="parameter bytes", required=True,
        ),
        _count(
            "input_bytes", "bytes", "The input tensor x the dtype's bytes.",
            "memory", "input_bytes", label="input bytes", required=True,
        ),
        _count(
            "activation_bytes", "bytes", "Every layer's output once, x the dtype's bytes.",
            "memory", "activation_bytes", label="activation bytes", per_sample=True,
            budget=True, growth=True, required=True,
        ),
        Figure(
            "output_shape", "", "The output's shape, batch first.", ("output_shape",),
            kind="shape", layer=True, required=True,
        ),
        # The roofline (core/count/roofline.py states the rules).
        _count(
            "bytes_moved", "bytes", "Bytes a layer moves: its weights and each input read "
            "once, its output written once, at each tensor's dtype size (--fused: element-wise "
            "ops fused into the op before them move no bytes of their own); summed over the "
            "layers.",
            "roofline", "bytes_moved", label="bytes moved", layer=True, budget=True,
            growth=True, layer_diff=True,
        ),
        Figure(
            "arithmetic_intensity", "FLOPs per byte", "FLOPs (2 x MACs) / bytes moved.",
            ("roofline", "arithmetic_intensity"), kind="number", label="arithmetic intensity",
            layer=True,
        ),
        Figure(
            "ridge_point", "FLOPs per byte", "The device's peak / its memory bandwidth: a "
            "layer of lower intensity is memory-bound (--hardware).",
            ("roofline", "ridge_point"), kind="number", label="ridge point",
            needs="--hardware",
        ),
        Figure(
            "bound", "", "memory or compute: what bounds a layer's time on the device (the "
            "whole: memory when memory-bound layers take at least half the time; --hardware).",
            ("roofline", "bound"), kind="text", label="bound", layer=True,
            choices=("memory", "compute", "fused"), needs="--hardware",
        ),
        Figure(
            "time_bound", "seconds", "A lower bound on the time: max(FLOPs / peak, bytes / "
            "bandwidth) per layer, summed over the layers (--hardware).",
            ("roofline", "time_bound"), kind="number", label="time bound", layer=True,
            needs="--hardware",
        ),
        Figure(
            "memory_bound_share", "", "The share of the time bound spent in memory-bound "
            "layers, 0 to 1 (--hardware).",
            ("roofline", "memory_bound_share"), kind="number", label="memory-bound share",
            needs="--hardware",
        ),
        # Measured (core/count/timing.py): the device's real time beside the bound.
        Figure(
            "measured_time", "seconds", "The median time of the whole forward pass on the "
            "device, warmed up (per layer: its module call's, timed inside the pass; "
            "--measure-time).",
            ("measured_time",), kind="number", label="measured time", layer=True,
            needs="--measure-time", measured=True,
        ),
        Figure(
            "time_ratio", "", "Measured time / the time bound: 1 is the roof; below 1 is a "
            "failure (the spec or the count is wrong; --measure-time with --hardware).",
            ("time_ratio",), kind="number", label="measured / bound", layer=True,
            needs="--measure-time and --hardware", measured=True,
        ),
        Figure(
            "achieved_flops", "FLOP/s", "FLOPs (2 x MACs) / measured time (--measure-time).",
            ("achieved_flops",), kind="number", label="achieved FLOP/s", layer=True,
            needs="--measure-time", measured=True,
        ),
        Figure(
            "achieved_bandwidth", "bytes/s", "Bytes moved / measured time (--measure-time).",
            ("achieved_bandwidth",), kind="number", label="achieved bytes/s", layer=True,
            needs="--measure-time", measured=True,
        ),
    )
)  # fmt: skip
