"""The CLI's options, declared once, and the decorator that gives them to commands.

Typer reads options from a function's signature. Every command takes the
common options, and the convolution commands the shape options; rather than
repeat them in seven signatures, ``with_options`` appends them and hands the
command their values gathered: ``common`` (validated) and ``shape`` (raw).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import typer

from convcalc.api import DEVICES
from convcalc.core.documents import figure_name
from convcalc.core.figures import DTYPE_BYTES
from convcalc.core.parse import (
    check_dims,
    parse_budget,
    parse_int,
    parse_kernel,
    parse_padding,
    parse_pair,
    parse_sizes,
)
from convcalc.errors import InvalidSpecError
from convcalc.render import OutputFormat


def integer(option: str) -> dict[str, Any]:
    """``typer.Option`` arguments that read an integer by the one leniency rule (core.parse)."""
    return {"parser": functools.partial(parse_int, option=option), "metavar": "INTEGER"}


Groups = Annotated[
    int,
    typer.Option("-g", "--groups", help="Groups (must divide cin and cout).", **integer("groups")),
]
Bias = Annotated[bool, typer.Option("--bias/--no-bias", help="Bias on the convolutions.")]
Input = Annotated[str, typer.Option("-i", "--input", help="Input size: 64 or HxW (64x48).")]
Batch = Annotated[int, typer.Option("-b", "--batch", help="Batch size N.", **integer("batch"))]


def _option(
    name: str, annotation: Any, default: Any = inspect.Parameter.empty
) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


# The convolution's shape, as nn.Conv2d names and defaults it (groups and bias
# are each command's own: their meaning differs between commands).
SHAPE_OPTIONS = (
    _option("cin", Annotated[int, typer.Option("--cin", help="Input channels.", **integer("cin"))]),
    _option(
        "cout", Annotated[int, typer.Option("--cout", help="Output channels.", **integer("cout"))]
    ),
    _option(
        "kernel",
        Annotated[str, typer.Option("-k", "--kernel", help="Kernel: 3, HxW (3x1) or global.")],
        "3",
    ),
    _option(
        "stride", Annotated[str, typer.Option("-s", "--stride", help="Stride: 1 or HxW.")], "1"
    ),
    _option(
        "padding",
        Annotated[str, typer.Option("-p", "--padding", help="Padding: 1, HxW, same or valid.")],
        "0",
    ),
    _option(
        "dilation",
        Annotated[str, typer.Option("-d", "--dilation", help="Dilation: 1 or HxW.")],
        "1",
    ),
    _option("bias", Bias, True),
    _option("input_size", Input, "224"),
    _option("batch", Batch, 1),
    _option(
        "dims",
        Annotated[
            int,
            typer.Option(
                "--dims",
                help="Spatial axes: 1 (Conv1d), 2 (Conv2d) or 3 (Conv3d); sizes take one value "
                "or one per axis (3x3x3, 16x112x112).",
                **integer("dims"),
            ),
        ],
        2,
    ),
)

# An attention block's input and its MLP's reduction (se, cbam).
BLOCK_OPTIONS = (
    _option(
        "channels",
        Annotated[
            int,
            typer.Option("--channels", help="Channels C of the input.", **integer("channels")),
        ],
    ),
    _option(
        "reduction",
        Annotated[
            int,
            typer.Option(
                "--reduction",
                help="Reduction r: the MLP's hidden width is C // r.",
                **integer("reduction"),
            ),
        ],
        16,
    ),
    _option("input_size", Input, "224"),
    _option("batch", Batch, 1),
)

COMMON_OPTIONS = (
    _option(
        "dtype",
        Annotated[
            str,
            typer.Option(
                "--dtype",
                help="Element type for memory figures and verification: "
                "float32, float16, bfloat16, float64.",
            ),
        ],
        "float32",
    ),
    _option(
        "device",
        Annotated[
            str,
            typer.Option(
                "--device",
                help="Where to verify: auto (CUDA if present, else CPU), cpu, cuda or meta. "
                "Large specs move to meta on their own, with a notice.",
            ),
        ],
        "auto",
    ),
    _option(
        "output",
        Annotated[
            OutputFormat,
            typer.Option(
                "--format", help="Output: table, json, csv or markdown.", case_sensitive=False
            ),
        ],
        OutputFormat.table,
    ),
    _option(
        "exact",
        Annotated[
            bool, typer.Option("--exact", help="Exact integers in tables instead of K/M/G units.")
        ],
        False,
    ),
    _option(
        "no_verify",
        Annotated[
            bool,
            typer.Option("--no-verify", help="Analytic figures only; never imports torch (fast)."),
        ],
        False,
    ),
    _option(
        "cross_check",
        Annotated[
            bool,
            typer.Option(
                "--cross-check",
                help="Also count FLOPs with torch's FlopCounterMode (about 1-2 s more: "
                "its first use imports torch._dynamo).",
            ),
        ],
        False,
    ),
    _option(
        "max_params",
        Annotated[
            str | None,
            typer.Option(
                "--max-params",
                help="Fail (exit 1) above this many params: 1.5M, 600K, 2G, 1e6 or an integer.",
            ),
        ],
        None,
    ),
    _option(
        "max_macs",
        Annotated[
            str | None, typer.Option("--max-macs", help="Fail (exit 1) above this many MACs.")
        ],
        None,
    ),
    _option(
        "max_flops",
        Annotated[
            str | None, typer.Option("--max-flops", help="Fail (exit 1) above this many FLOPs.")
        ],
        None,
    ),
    _option(
        "max_activation_bytes",
        Annotated[
            str | None,
            typer.Option(
                "--max-activation-bytes",
                help="Fail (exit 1) above this many activation bytes (every output once).",
            ),
        ],
        None,
    ),
    _option(
        "value",
        Annotated[
            str | None,
            typer.Option(
                "--value",
                metavar="FIGURE",
                help="Print only this analytic figure, a bare number (one line per sweep "
                "point or variant): params, macs, flops, activation_bytes, output_shape, ...",
            ),
        ],
        None,
    ),
    _option(
        "convention",
        Annotated[
            str,
            typer.Option(
                "--convention",
                metavar="NAME",
                help="Also count as this tool does, layer by layer, beside the paper figure: "
                "paper, flopcounter, torchinfo, hardware, fvcore, ptflops (convcalc "
                "conventions lists what each counts).",
            ),
        ],
        "paper",
    ),
    _option(
        "backward",
        Annotated[
            bool,
            typer.Option(
                "--backward",
                help="Also count the backward pass (input and weight gradients) and the "
                "training step's FLOPs, as FlopCounterMode counts them.",
            ),
        ],
        False,
    ),
)


@dataclass(frozen=True)
class Common:
    """The options every command takes, validated."""

    dtype: str = "float32"
    device: str = "auto"
    output: OutputFormat = OutputFormat.table
    exact: bool = False
    verify: bool = True
    cross_check: bool = False
    max_params: int | None = None
    max_macs: int | None = None
    max_flops: int | None = None
    max_activation_bytes: int | None = None
    value: str | None = None
    convention: str = "paper"
    backward: bool = False

    @property
    def limits(self) -> dict[str, int]:
        """The budgets set, by figure."""
        limits = {
            "params": self.max_params,
            "macs": self.max_macs,
            "flops": self.max_flops,
            "activation_bytes": self.max_activation_bytes,
        }
        return {figure: limit for figure, limit in limits.items() if limit is not None}

    @classmethod
    def parse(
        cls,
        dtype: str,
        device: str,
        output: OutputFormat,
        exact: bool,
        no_verify: bool,
        cross_check: bool,
        max_params: str | None,
        max_macs: str | None,
        max_flops: str | None,
        max_activation_bytes: str | None = None,
        value: str | None = None,
        convention: str = "paper",
        backward: bool = False,
    ) -> Common:
        """Validate the raw option values (exit 2 on a bad one); words are case-insensitive."""
        dtype, device = dtype.strip().lower(), device.strip().lower()
        if dtype not in DTYPE_BYTES:
            raise InvalidSpecError(f"dtype={dtype!r} is not one of {', '.join(DTYPE_BYTES)}")
        if device not in DEVICES:
            raise InvalidSpecError(f"device={device!r} is not one of {', '.join(DEVICES)}")
        if no_verify and cross_check:
            raise InvalidSpecError("--cross-check needs verification; drop --no-verify")
        convention = convention.strip().lower()
        if convention != "paper":  # the default costs no import on the fast path
            from convcalc.core.conventions import convention as known_convention

            known_convention(convention)
        return cls(
            dtype=dtype,
            device=device,
            output=output,
            exact=exact,
            verify=not no_verify,
            cross_check=cross_check,
            max_params=None if max_params is None else parse_budget(max_params, "max-params"),
            max_macs=None if max_macs is None else parse_budget(max_macs, "max-macs"),
            max_flops=None if max_flops is None else parse_budget(max_flops, "max-flops"),
            max_activation_bytes=None
            if max_activation_bytes is None
            else parse_budget(max_activation_bytes, "max-activation-bytes"),
            value=None if value is None else figure_name(value),
            convention=convention,
            backward=backward,
        )


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


def with_options(*, shape: bool = False, block: bool = False) -> Callable[[Command], Command]:
    """Append the common options (and the shape or block options) to a command's signature.

    The command declares ``common: Common`` (and ``shape: dict[str, Any]`` or
    ``block: dict[str, Any]``) in place of them and receives them gathered and
    validated, as the library's keyword arguments.
    """

    def decorate(command: Command) -> Command:
        own = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            for p in inspect.signature(command, eval_str=True).parameters.values()
            if p.name not in ("common", "shape", "block")
        ]
        added = SHAPE_OPTIONS if shape else BLOCK_OPTIONS if block else ()

        @functools.wraps(command)
        def wrapper(**values: Any) -> Any:
            common = Common.parse(**{p.name: values.pop(p.name) for p in COMMON_OPTIONS})
            if shape:
                values["shape"] = parse_shape({p.name: values.pop(p.name) for p in SHAPE_OPTIONS})
            if block:
                raw = {p.name: values.pop(p.name) for p in BLOCK_OPTIONS}
                raw["input"] = parse_pair(raw.pop("input_size"), "input")
                values["block"] = raw
            return command(common=common, **values)  # the command's plan

        wrapper.__signature__ = inspect.Signature([*added, *own, *COMMON_OPTIONS])  # type: ignore[attr-defined]
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
