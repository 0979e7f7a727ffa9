"""The layer commands: conv, separable, spatial, compare and pool.

Each parses its options into a call of the library (``convcalc.conv``...) and
hands it to the shared steps (``cli.run.run``).
"""

from typing import Annotated, Any

import typer

import convcalc
from convcalc.cli.options import Batch, Common, Groups, Input, Word, integer, with_options
from convcalc.cli.run import Plan, plan
from convcalc.core.values.parse import check_dims, parse_sizes
from convcalc.errors import InvalidSpecError


def _pool_modes() -> tuple[str, ...]:
    """The pool modes, from the op that takes them (core.ops.traced loads only for pool)."""
    from convcalc.core.ops.pooling import POOL_MODES

    return POOL_MODES


Transposed = Annotated[
    bool,
    typer.Option(
        "--transposed",
        help="Transposed convolution (nn.ConvTranspose1d/2d/3d): upsamples by the stride.",
    ),
]
OutputPadding = Annotated[
    str,
    typer.Option(
        "--output-padding",
        help="Transposed only: extra size on one side of the output (1 or HxW), smaller "
        "than the stride or the dilation.",
    ),
]


@with_options(shape=True)
def conv(
    shape: dict[str, Any],
    common: Common,
    groups: Annotated[
        int | None,
        typer.Option(
            "-g",
            "--groups",
            help="Groups (must divide cin and cout; default 1, or cin with --share-kernel).",
            **integer("groups"),
        ),
    ] = None,
    share_kernel: Annotated[
        bool,
        typer.Option(
            "--share-kernel",
            help="Shared-kernel depthwise: one (m,1,kh,kw) kernel reused by every input "
            "channel (groups=cin, implied when -g is not given).",
        ),
    ] = False,
    transposed: Transposed = False,
    output_padding: OutputPadding = "0",
) -> Plan:
    """One convolution (nn.Conv1d/2d/3d or ConvTranspose): standard, grouped, depthwise
    (x multiplier), global, dilated, strided, transposed."""
    if groups is None:  # --share-kernel is depthwise by definition: groups=cin unless told
        groups = shape["cin"] if share_kernel else 1
    extra = parse_sizes(output_padding, "output padding", shape["dims"], allow_zero=True)
    design = convcalc.conv(**shape, groups=groups, share_kernel=share_kernel,
                           transposed=transposed, output_padding=extra)  # fmt: skip
    return plan(design, common)


@with_options(shape=True)
def separable(
    shape: dict[str, Any],
    common: Common,
    groups: Annotated[
        int,
        typer.Option(
            "-g", "--groups", help="Groups of the pointwise 1x1 convolution.", **integer("groups")
        ),
    ] = 1,
) -> Plan:
    """Depthwise-separable: depthwise k x k (groups=cin), then pointwise 1x1 to cout."""
    return plan(convcalc.separable(**shape, groups=groups), common)


@with_options(shape=True)
def spatial(shape: dict[str, Any], common: Common, groups: Groups = 1) -> Plan:
    """Spatially separable: k x 1 (cin -> cin) then 1 x k (cin -> cout), beside the k x k."""
    return plan(convcalc.spatial(**shape, groups=groups), common)


@with_options(shape=True)
def compare(
    shape: dict[str, Any],
    common: Common,
    groups: Annotated[
        int | None,
        typer.Option(
            "-g",
            "--groups",
            help="g of the grouped variant (default: the smallest g > 1 dividing cin and cout).",
            **integer("groups"),
        ),
    ] = None,
    transposed: Annotated[
        bool,
        typer.Option(
            "--transposed",
            help="Compare the ways to upsample instead: the transposed conv beside nearest and "
            "(bi/tri)linear resampling to its output size, each then a stride-1 conv.",
        ),
    ] = False,
    output_padding: OutputPadding = "0",
) -> Plan:
    """Standard, grouped, depthwise, separable, spatial and shared-kernel side by side
    (with --transposed: the ways to upsample)."""
    extra = parse_sizes(output_padding, "output padding", shape["dims"], allow_zero=True)
    design = convcalc.compare(**shape, groups=groups, transposed=transposed,
                              output_padding=extra)  # fmt: skip
    return plan(design, common)


@with_options()
def pool(
    ctx: typer.Context,
    common: Common,
    channels: Annotated[
        int, typer.Option("--channels", "--cin", help="Channels C.", **integer("channels"))
    ],
    mode: Annotated[
        str, typer.Option("--mode", click_type=Word(_pool_modes), help="Max or average.")
    ] = "max",
    kernel: Annotated[str, typer.Option("-k", "--kernel", help="Window: 2, HxW.")] = "2",
    stride: Annotated[
        str | None, typer.Option("-s", "--stride", help="Stride (default: the kernel).")
    ] = None,
    padding: Annotated[
        str, typer.Option("-p", "--padding", help="Padding, at most half the window.")
    ] = "0",
    dilation: Annotated[str, typer.Option("-d", "--dilation", help="Max pooling only.")] = "1",
    ceil_mode: Annotated[
        bool,
        typer.Option(
            "--ceil-mode",
            help="Round the output size up while the last window starts inside the input.",
        ),
    ] = False,
    count_include_pad: Annotated[
        bool,
        typer.Option(
            "--count-include-pad/--no-count-include-pad",
            help="Average pooling: divide by the whole window, padding included.",
        ),
    ] = True,
    output_size: Annotated[
        str | None,
        typer.Option("--output", help="Adaptive pooling to this size (7, HxW) instead."),
    ] = None,
    input_size: Input = "224",
    batch: Batch = 1,
    dims: Annotated[
        int, typer.Option("--dims", help="Spatial axes: 1, 2 or 3.", **integer("dims"))
    ] = 2,
) -> Plan:
    """Max or average pooling (ceil_mode, count_include_pad, padding, dilation), or
    adaptive pooling to --output: output size, work and receptive field."""
    if output_size is not None:  # adaptive pooling has no window to set
        window = ("kernel", "stride", "padding", "dilation", "ceil_mode", "count_include_pad")
        given = [_spelling(ctx, name) for name in window if _given(ctx, name)]
        if given:
            raise InvalidSpecError(
                f"--output (adaptive pooling) sizes its own windows: drop {', '.join(given)}"
            )
    check_dims(dims)  # before the sizes are read per axis
    design = convcalc.pool(
        channels,
        mode,
        kernel=parse_sizes(kernel, "kernel", dims),
        stride=None if stride is None else parse_sizes(stride, "stride", dims),
        padding=parse_sizes(padding, "padding", dims, allow_zero=True),
        dilation=parse_sizes(dilation, "dilation", dims),
        ceil_mode=ceil_mode,
        count_include_pad=count_include_pad,
        output=None if output_size is None else parse_sizes(output_size, "output", dims),
        input=parse_sizes(input_size, "input", dims),
        batch=batch,
        dims=dims,
    )
    return plan(design, common)


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether the option ``name`` was given (not its default)."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def _spelling(ctx: typer.Context, name: str) -> str:
    """An option as the user may have spelled it: ``-k/--kernel``, ``--ceil-mode``."""
    option = next(p for p in ctx.command.params if p.name == name)
    return "/".join([*option.opts, *option.secondary_opts])
