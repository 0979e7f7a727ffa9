"""The CLI's options, declared once, and the decorator that gives them to commands.

Typer reads options from a function's signature. Every command takes the
common options, and the convolution commands the shape options; rather than
repeat them in seven signatures, ``with_options`` appends them and hands the
command their values gathered: ``common`` (validated) and ``shape`` (raw).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
import typer.main
import typer.models

from convcalc.api import DEVICES
from convcalc.core.count.figures import DTYPE_BYTES
from convcalc.core.documents.catalogue import CATALOGUE
from convcalc.core.documents.contract import figure_name
from convcalc.core.values.parse import (
    check_dims,
    normal_word,
    parse_budget,
    parse_int,
    parse_kernel,
    parse_padding,
    parse_pair,
    parse_sizes,
    word,
)
from convcalc.core.values.record import Record
from convcalc.errors import InvalidSpecError
from convcalc.render import OutputFormat

if TYPE_CHECKING:
    from typer._click.types import ParamType
else:  # typer vendors click in recent releases and used click itself before: its base class
    ParamType = next(
        c
        for c in type(
            typer.main.get_click_type(annotation=str, parameter_info=typer.models.OptionInfo())
        ).__mro__
        if c.__name__ == "ParamType"
    )


class Word(ParamType):
    """A word-valued option's type: every one reads its value by one rule
    (``core.values.parse.word``: case and surrounding spaces never matter), and its help
    lists the words it takes, from the code that takes them.

    ``choices`` may be a function, called only when they are needed (help, or a
    value to check), so a registry's import costs nothing on a plain run.
    ``check=False`` only normalises the word; the library refuses an unknown one
    in its own words (``--convention``, ``--value``).
    """

    name = "word"

    def __init__(
        self, choices: Sequence[str] | Callable[[], Sequence[str]], *, check: bool = True
    ) -> None:
        self._choices = choices
        self.check = check

    @property
    def choices(self) -> tuple[str, ...]:
        """The words this option takes, as they are spelled."""
        found = self._choices() if callable(self._choices) else self._choices
        return tuple(found)

    def get_metavar(self, param: Any, ctx: Any = None) -> str:
        """``[table|json|csv|markdown]``: the words, in the help and in usage errors."""
        return f"[{'|'.join(self.choices)}]"

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        """The word as the command gets it: normalised, and (``check``) one of the choices."""
        if value is None:
            return None
        if isinstance(value, Enum):  # a default, as declared
            value = value.value
        if not self.check:
            return normal_word(str(value))
        option = param.opts[0].lstrip("-") if param is not None and param.opts else "value"
        return word(str(value), option, self.choices)

    def shell_complete(self, ctx: Any, param: Any, incomplete: str) -> list[Any]:
        """The words that start with what was typed (shell completion)."""
        try:
            from typer._click.shell_completion import CompletionItem
        except ImportError:  # a typer that uses click itself
            return []
        start = normal_word(incomplete)
        return [CompletionItem(c) for c in self.choices if c.startswith(start)]


def words(option: Any) -> tuple[str, ...] | None:
    """The words a click parameter takes when it is word-valued (a ``Word``), else None."""
    kind = getattr(option, "type", None)
    return kind.choices if isinstance(kind, Word) else None


def formats(*accepted: OutputFormat) -> Word:
    """A ``--format`` option's type: the formats the command writes (all by default)."""
    return Word(tuple(f.value for f in accepted or tuple(OutputFormat)))


def _convention_names() -> tuple[str, ...]:
    from convcalc.core.count.conventions import CONVENTIONS

    return tuple(CONVENTIONS)


def integer(option: str) -> dict[str, Any]:
    """``typer.Option`` arguments that read an integer by the one leniency rule
    (core.values.parse)."""
    return {"parser": functools.partial(parse_int, option=option), "metavar": "INTEGER"}


Groups = Annotated[
    int,
    typer.Option("-g", "--groups", help="Groups (must divide cin and cout).", **integer("groups")),
]
Input = Annotated[str, typer.Option("-i", "--input", help="Input size: 64 or HxW (64x48).")]
Batch = Annotated[int, typer.Option("-b", "--batch", help="Batch size N.", **integer("batch"))]


def _option(
    name: str, kind: Any, *declared: str, default: Any = ..., **settings: Any
) -> inspect.Parameter:
    """A keyword parameter ``name: kind`` whose default is ``typer.Option(default,
    *declared, **settings)`` (``...``: required), as typer reads a signature. (Not
    ``Annotated[kind, typer.Option(...)]``: making thirty of those costs start-up.)"""
    return inspect.Parameter(
        name,
        inspect.Parameter.KEYWORD_ONLY,
        default=typer.Option(default, *declared, **settings),
        annotation=kind,
    )


def _aliased(name: str, alias: Any, default: Any) -> inspect.Parameter:
    """A keyword parameter declared by one of the aliases above, which commands take too."""
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=alias
    )


# The convolution's shape, as nn.Conv2d names and defaults it (groups and bias
# are each command's own: their meaning differs between commands).
SHAPE_OPTIONS = (
    _option("cin", int, "--cin", help="Input channels.", **integer("cin")),
    _option("cout", int, "--cout", help="Output channels.", **integer("cout")),
    _option("kernel", str, "-k", "--kernel", default="3", help="Kernel: 3, HxW (3x1) or global."),
    _option("stride", str, "-s", "--stride", default="1", help="Stride: 1 or HxW."),
    _option("padding", str, "-p", "--padding", default="0", help="Padding: 1, HxW, same or valid."),
    _option("dilation", str, "-d", "--dilation", default="1", help="Dilation: 1 or HxW."),
    _option("bias", bool, "--bias/--no-bias", default=True, help="Bias on the convolutions."),
    _aliased("input_size", Input, "224"),
    _aliased("batch", Batch, 1),
    _option(
        "dims",
        int,
        "--dims",
        default=2,
        help="Spatial axes: 1 (Conv1d), 2 (Conv2d) or 3 (Conv3d); sizes take one value "
        "or one per axis (3x3x3, 16x112x112).",
        **integer("dims"),
    ),
)

# An attention block's input and its MLP's reduction (se, cbam).
BLOCK_OPTIONS = (
    _option("channels", int, "--channels", help="Channels C of the input.", **integer("channels")),
    _option(
        "reduction",
        int,
        "--reduction",
        default=16,
        help="Reduction r: the MLP's hidden width is C // r.",
        **integer("reduction"),
    ),
    _aliased("input_size", Input, "224"),
    _aliased("batch", Batch, 1),
)

COMMON_OPTIONS = (
    _option(
        "dtype",
        str,
        "--dtype",
        default="float32",
        click_type=Word(tuple(DTYPE_BYTES)),
        help="Element type for memory figures and verification.",
    ),
    _option(
        "device",
        str,
        "--device",
        default="auto",
        click_type=Word(DEVICES),
        help="Where to verify: auto (CUDA if present, else CPU), cpu, cuda or meta. "
        "Large specs move to meta on their own, with a notice.",
    ),
    _option(
        "output",
        OutputFormat,
        "--format",
        default=OutputFormat.table,
        click_type=formats(),
        help="Output format.",
    ),
    _option(
        "exact",
        bool,
        "--exact",
        default=False,
        help="Exact integers in tables instead of K/M/G units.",
    ),
    _option(
        "no_verify",
        bool,
        "--no-verify",
        default=False,
        help="Analytic figures only, by arithmetic: never imports torch (fast).",
    ),
    _option(
        "cross_check",
        bool,
        "--cross-check",
        default=False,
        help="Also count FLOPs with torch's FlopCounterMode (about 1-2 s more: "
        "its first use imports torch._dynamo).",
    ),
    # --max-params, --max-macs, ...: one per budget figure of the catalogue.
    *(
        _option(f.parameter, str | None, "--" + f.option, default=None, help=f.budget_help)
        for f in CATALOGUE.budgets
    ),
    _option(
        "value",
        str | None,
        "--value",
        default=None,
        metavar="FIGURE",
        click_type=Word(CATALOGUE.values, check=False),
        help="Print only this analytic figure, a bare number (one line per sweep "
        "point or variant): params, macs, flops, activation_bytes, output_shape, ...",
    ),
    _option(
        "convention",
        str,
        "--convention",
        default="paper",
        click_type=Word(_convention_names, check=False),
        help="Also count as this tool does, layer by layer, beside the paper figure "
        "(convcalc conventions lists what each counts).",
    ),
    _option(
        "backward",
        bool,
        "--backward",
        default=False,
        help="Also count the backward pass (input and weight gradients) and the "
        "training step's FLOPs, as FlopCounterMode counts them.",
    ),
    _option(
        "hardware",
        str | None,
        "--hardware",
        default=None,
        metavar="DEVICE",
        help="The roofline on a device: bytes moved, intensity, ridge point, memory- or "
        "compute-bound and the lower-bound time per layer. A name (convcalc hardware "
        "lists them: h100-sxm, a100-80gb, l4, t4...), a saved spec or a JSON file, or "
        "peak=989T,bandwidth=3.35T; NAME,peak=fp32 picks another of its peaks (--dtype "
        "picks by default: float32 takes tf32 where there is one).",
    ),
    _option(
        "fused",
        bool,
        "--fused",
        default=False,
        help="Roofline: take element-wise ops (BN, activations, residual adds, gates) "
        "as fused into the op before them, so their own reads and writes disappear.",
    ),
    _option(
        "measure_time",
        bool,
        "--measure-time",
        default=False,
        help="Run each layer and the whole network on the device (real tensors, "
        "warmed up, median of repeats; CUDA events on a GPU) and show the measured "
        "time beside the --hardware bound: the ratio, the achieved FLOP/s and bytes/s. "
        "A layer measured faster than its bound fails (exit 1). Runs the network tens "
        "of times: seconds for a layer, minutes for a large model on a CPU.",
    ),
    _option(
        "plot",
        str | None,
        "--plot",
        default=None,
        metavar="FILE",
        help="Draw the roofline on the --hardware device to FILE.png or FILE.svg "
        "(needs matplotlib): intensity against attainable FLOP/s, one point per "
        "layer, measured beside the bound with --measure-time.",
    ),
)


class Common(Record):
    """The options every command takes, validated."""

    dtype: str = "float32"
    device: str = "auto"
    output: OutputFormat = OutputFormat.table
    exact: bool = False
    verify: bool = True
    cross_check: bool = False
    budgets: tuple[tuple[str, int], ...] = ()  # (figure, limit) for each --max-NAME given
    value: str | None = None
    convention: str = "paper"
    backward: bool = False
    hardware: str | None = None  # --hardware as given (the pipeline reads it: core/roofline)
    fused: bool = False
    measure_time: bool = False
    plot: str | None = None  # --plot: the roofline picture (a network's own --plot is its own)

    @property
    def limits(self) -> dict[str, int]:
        """The budgets set, by figure."""
        return dict(self.budgets)

    @classmethod
    def parse(
        cls,
        dtype: str,
        device: str,
        output: OutputFormat,
        exact: bool,
        no_verify: bool,
        cross_check: bool,
        value: str | None = None,
        convention: str = "paper",
        backward: bool = False,
        hardware: str | None = None,
        fused: bool = False,
        measure_time: bool = False,
        plot: str | None = None,
        **budgets: str | None,  # max_params=..., one per budget figure of the catalogue
    ) -> Common:
        """Validate the raw option values (exit 2 on a bad one); words are case-insensitive."""
        dtype, device = normal_word(dtype), normal_word(device)
        if dtype not in DTYPE_BYTES:
            raise InvalidSpecError(f"dtype={dtype!r} is not one of {', '.join(DTYPE_BYTES)}")
        if device not in DEVICES:
            raise InvalidSpecError(f"device={device!r} is not one of {', '.join(DEVICES)}")
        if no_verify and cross_check:
            raise InvalidSpecError("--cross-check needs verification; drop --no-verify")
        convention = normal_word(convention)
        if convention != "paper":  # the default costs no import on the fast path
            from convcalc.core.count.conventions import convention as known_convention

            known_convention(convention)
        return cls(
            dtype=dtype,
            device=device,
            output=output,
            exact=exact,
            verify=not no_verify,
            cross_check=cross_check,
            budgets=tuple(
                (f.name, parse_budget(raw, f.option))
                for f in CATALOGUE.budgets
                if (raw := budgets.pop(f.parameter, None)) is not None
            ),
            value=None if value is None else figure_name(value),
            convention=convention,
            backward=backward,
            hardware=None if hardware is None else _hardware(hardware, dtype),
            fused=fused,
            measure_time=measure_time,
            plot=_roofline_plot(plot, hardware),
        )


def _roofline_plot(plot: str | None, hardware: str | None) -> str | None:
    """--plot (the roofline picture) checked before any work: a device to draw, a .png or
    .svg name, matplotlib."""
    if plot is None:
        return None
    if hardware is None:
        raise InvalidSpecError(
            "--plot draws the roofline of a device: give --hardware NAME (convcalc hardware "
            "lists them)"
        )
    if not plot.lower().endswith((".png", ".svg")):
        raise InvalidSpecError(f"plot={plot!r} must end in .png or .svg")
    from convcalc.render.plot import require_matplotlib

    require_matplotlib()
    return plot


def _hardware(text: str, dtype: str) -> str:
    """--hardware checked before any work (its spec read by core.count.roofline), kept as given."""
    from convcalc.core.count.roofline import parse_hardware

    parse_hardware(text, dtype)
    return text


def parse_shape(raw: dict[str, Any]) -> dict[str, Any]:
    """The shape options as the library's keyword arguments (exit 2 on a bad one)."""
    dims = check_dims(raw["dims"])  # before the sizes are read per axis
    return {
        "cin": raw["cin"],
        "cout": raw["cout"],
        "kernel": parse_kernel(raw["kernel"], dims),
        "stride": parse_sizes(raw["stride"], "stride", dims),
        "padding": parse_padding(raw["padding"], dims),
        "dilation": parse_sizes(raw["dilation"], "dilation", dims),
        "bias": raw["bias"],
        "input": parse_sizes(raw["input_size"], "input", dims),
        "batch": raw["batch"],
        "dims": dims,
    }


Command = TypeVar("Command", bound=Callable[..., Any])


def with_options(
    *, shape: bool = False, block: bool = False, no_verify_help: str | None = None
) -> Callable[[Command], Command]:
    """Append the common options (and the shape or block options) to a command's signature.

    The command declares ``common: Common`` (and ``shape: dict[str, Any]`` or
    ``block: dict[str, Any]``) in place of them and receives them gathered and
    validated, as the library's keyword arguments. ``no_verify_help`` says what
    ``--no-verify`` does where it differs (``model`` still imports torch).
    """
    common_options: tuple[inspect.Parameter, ...] = COMMON_OPTIONS
    if no_verify_help is not None:
        common_options = tuple(
            _option("no_verify", bool, "--no-verify", default=False, help=no_verify_help)
            if p.name == "no_verify"
            else p
            for p in COMMON_OPTIONS
        )

    def decorate(command: Command) -> Command:
        own = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            for p in inspect.signature(command, eval_str=True).parameters.values()
            if p.name not in ("common", "shape", "block")
        ]
        added = SHAPE_OPTIONS if shape else BLOCK_OPTIONS if block else ()
        mine = {p.name for p in own}

        @functools.wraps(command)
        def wrapper(**values: Any) -> Any:
            # a common option the command declares itself (a network's --plot) is its own
            common = Common.parse(**{p.name: values.pop(p.name) for p in COMMON_OPTIONS
                                     if p.name not in mine})  # fmt: skip
            if shape:
                values["shape"] = parse_shape({p.name: values.pop(p.name) for p in SHAPE_OPTIONS})
            if block:
                raw = {p.name: values.pop(p.name) for p in BLOCK_OPTIONS}
                raw["input"] = parse_pair(raw.pop("input_size"), "input")
                values["block"] = raw
            return command(common=common, **values)  # the command's plan

        shared = [p for p in common_options if p.name not in mine]
        wrapper.__signature__ = inspect.Signature([*added, *own, *shared])  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def parse_shape_text(text: str) -> tuple[int, ...]:
    """``1x3x16x112x112``: a whole input shape, any rank, positive sizes."""
    parts = text.lower().split("x")
    if not all(p.strip().isdigit() for p in parts):
        raise InvalidSpecError(
            f"input-shape={text!r} must be sizes joined by x (e.g. 1x3x224x224 or 1x77)"
        )
    sizes = tuple(int(p) for p in parts)
    if any(size <= 0 for size in sizes):
        raise InvalidSpecError(f"input-shape={text!r} must have positive sizes")
    return sizes
