"""The Typer app: one command per layer kind, block or network.

Each command parses its options into a call of the library (``convcalc.conv``,
``convcalc.mobilenet``...), then runs the shared steps: analyze, verify, emit,
judge. Errors of every kind end in one
``error: ...`` line and an exit code (``OneLineErrors``).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

import convcalc
from convcalc import __version__, analyze, verify
from convcalc.cli.batch import batch
from convcalc.cli.check import check
from convcalc.cli.diff import diff
from convcalc.cli.fold import Fold, FoldOrDepth, Top, check_fold
from convcalc.cli.help import ROOT_EPILOG, epilog
from convcalc.cli.options import Batch, Common, Groups, Input, integer, with_options
from convcalc.cli.output import emit, notify
from convcalc.cli.run import budgets, judge
from convcalc.cli.streams import guarded_stdout, prepare_streams, write_err
from convcalc.core.designs import Sweep
from convcalc.core.parse import (
    check_dims,
    parse_pair,
    parse_resolutions,
    parse_sizes,
    parse_widths,
)
from convcalc.core.report import SweepReport
from convcalc.errors import ConvCalcError, InvalidSpecError
from convcalc.interrupts import INTERRUPTED_EXIT, Interrupted, check_interrupt, interrupted
from convcalc.render import OutputFormat

# Typer vendors click in recent releases and re-exports only some of it: find
# click's base classes through a public one, whichever click it is.
_USAGE_ERROR: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError"
)
_CLICK_ERROR: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)


class OneLineErrors(TyperGroup):
    """Every error becomes one ``error: ...`` line on stderr and an exit code; no traceback."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        prepare_streams()
        try:
            with guarded_stdout():
                result = super().main(
                    args=args,
                    prog_name=prog_name or "convcalc",
                    complete_var=complete_var,
                    standalone_mode=False,
                    **extra,
                )
                check_interrupt()  # an interrupt something swallowed on the way
        except Interrupted:
            _fail("interrupted", INTERRUPTED_EXIT)
        except typer.Exit as exc:
            sys.exit(exc.exit_code)
        except typer.Abort:
            _fail("aborted", INTERRUPTED_EXIT)
        except (_USAGE_ERROR, _CLICK_ERROR) as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # bare ``convcalc``: show the help
                _help(exc.ctx.get_help())  # type: ignore[attr-defined]
            message = " ".join(exc.format_message().split())  # type: ignore[attr-defined]
            _fail(message + _hint(message), 2)
        except ConvCalcError as exc:
            if interrupted():
                _fail("interrupted", INTERRUPTED_EXIT)
            _fail(str(exc), exc.exit_code)
        except Exception:
            if interrupted():  # e.g. a half-imported torch after a swallowed Ctrl-C
                _fail("interrupted", INTERRUPTED_EXIT)
            raise
        # With standalone_mode off, an Exit raised inside a command comes back as its code
        # (typer turns a KeyboardInterrupt it sees into 130).
        if result == INTERRUPTED_EXIT:
            _fail("interrupted", INTERRUPTED_EXIT)
        if isinstance(result, int) and result:
            sys.exit(result)
        return result


def _help(text: str) -> NoReturn:
    try:
        with guarded_stdout():
            sys.stdout.write(text + "\n")
    except ConvCalcError as exc:
        _fail(str(exc), exc.exit_code)
    sys.exit(0)


def _hint(message: str) -> str:
    """What a usage error needs said beside click's words."""
    if "No such option: --version" in message:
        return (
            " (convcalc's own version: convcalc --version, before any command; "
            "mobilenet --version 1|2 picks the MobileNet)"
        )
    return ""


def _fail(message: str, code: int) -> NoReturn:
    write_err(f"error: {message}\n")
    sys.exit(code)


app = typer.Typer(
    cls=OneLineErrors,
    help="convcalc: exact parameters, shapes and MACs of convolution layers, "
    "analytic beside torchinfo's measured figures.",
    epilog=ROOT_EPILOG,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def main() -> None:
    """Console-script entry point.

    At exit, ``gc.freeze`` spares the interpreter's final collection over
    torch's objects: 0.3-0.65 s of a verified run (benchmarks/NOTES.md).
    """
    try:
        _click_command(sys.argv[1:])()
    finally:
        gc.freeze()


def _click_command(argv: list[str]) -> Any:
    """The click command for this command line. Typer builds one click command per
    registered command (all of them: 17 ms of the 169 ms a ``--no-verify`` run took):
    a line that names a command gets only that one; help, completion and anything
    else, the whole group."""
    import typer.main

    every = app.registered_commands
    asked = argv[0] if argv else ""
    named = [c for c in every if _command_name(c) == asked]
    app.registered_commands = named or every
    try:
        return typer.main.get_command(app)
    finally:
        app.registered_commands = every  # check and batch build the whole app again


def _command_name(command: Any) -> str:
    """A registered command's name as typer spells it (``conventions``, ``model``)."""
    name = command.name or command.callback.__name__
    return str(name).lower().replace("_", "-")


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"convcalc {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """convcalc: exact parameters, shapes and MACs of convolution layers and compact CNNs."""


def run(subject: Any, common: Common, *, depth: int | None = None, top: int | None = None) -> None:
    """Say the builder's notices, analyze (and verify), emit, then judge checks and budgets."""
    report = analyze(subject, common.dtype, common.device)  # an invalid spec: its error alone
    for note in subject.notes:
        notify(f"notice: {note}")
    if common.verify:
        use_one_thread()
        report = verify(report, common.device, cross_check=common.cross_check,
                        backward=common.backward, notify=notify)  # fmt: skip
    verdicts = budgets(report, common)
    emit(report, common, verdicts, depth=depth, top=top)
    judge(report, common, verdicts)


def use_one_thread() -> None:
    """One torch thread for verification (imports torch: the verify path only)."""
    try:
        from convcalc.measure.probe import use_one_thread as one_thread
    except ImportError:
        return  # verify() says what is missing
    one_thread()


# A sweep's plot, on every network command.
Plot = Annotated[
    str | None,
    typer.Option(
        "--plot", help="Draw MACs against params to FILE.png or FILE.svg (needs the plot extra)."
    ),
]


# ---------------------------------------------------------------- convolutions

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


@app.command(epilog=epilog("conv"))
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
) -> None:
    """One convolution (nn.Conv1d/2d/3d or ConvTranspose): standard, grouped, depthwise
    (x multiplier), global, dilated, strided, transposed."""
    if groups is None:  # --share-kernel is depthwise by definition: groups=cin unless told
        groups = shape["cin"] if share_kernel else 1
    extra = parse_sizes(output_padding, "output padding", shape["dims"], allow_zero=True)
    design = convcalc.conv(**shape, groups=groups, share_kernel=share_kernel,
                           transposed=transposed, output_padding=extra)  # fmt: skip
    run(design, common)


@app.command(epilog=epilog("separable"))
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
) -> None:
    """Depthwise-separable: depthwise k x k (groups=cin), then pointwise 1x1 to cout."""
    run(convcalc.separable(**shape, groups=groups), common)


@app.command(epilog=epilog("spatial"))
@with_options(shape=True)
def spatial(shape: dict[str, Any], common: Common, groups: Groups = 1) -> None:
    """Spatially separable: k x 1 (cin -> cin) then 1 x k (cin -> cout), beside the k x k."""
    run(convcalc.spatial(**shape, groups=groups), common)


@app.command(epilog=epilog("compare"))
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
) -> None:
    """Standard, grouped, depthwise, separable, spatial and shared-kernel side by side
    (with --transposed: the ways to upsample)."""
    extra = parse_sizes(output_padding, "output padding", shape["dims"], allow_zero=True)
    design = convcalc.compare(**shape, groups=groups, transposed=transposed,
                              output_padding=extra)  # fmt: skip
    run(design, common)


# ---------------------------------------------------------------- blocks and networks


@app.command(epilog=epilog("se"))
@with_options(block=True)
def se(
    block: dict[str, Any],
    common: Common,
    bias: Annotated[
        bool,
        typer.Option(
            "--bias/--no-bias",
            help="Biases on the two Linear layers (the notes' version has none).",
        ),
    ] = False,
) -> None:
    """Squeeze-and-Excitation: global pool, FC C -> C/r, ReLU, FC C/r -> C, sigmoid, x * gate."""
    run(convcalc.se(**block, bias=bias), common)


@app.command(epilog=epilog("cbam"))
@with_options(block=True)
def cbam(
    block: dict[str, Any],
    common: Common,
    spatial_kernel: Annotated[
        int,
        typer.Option(
            "--spatial-kernel",
            help="Kernel of the spatial gate's 2 -> 1 conv (the paper's 7; the notes mention 1).",
            **integer("spatial-kernel"),
        ),
    ] = 7,
    mlp_bias: Annotated[
        bool,
        typer.Option(
            "--mlp-bias/--no-mlp-bias",
            help="Biases in the shared channel MLP (the reference code has them).",
        ),
    ] = True,
    spatial_bn: Annotated[
        bool,
        typer.Option(
            "--spatial-bn/--no-spatial-bn",
            help="BatchNorm after the spatial conv (the reference code has it).",
        ),
    ] = True,
) -> None:
    """CBAM: channel gate (shared MLP on avg- and max-pooled), then spatial gate (k x k conv)."""
    design = convcalc.cbam(
        **block, spatial_kernel=spatial_kernel, mlp_bias=mlp_bias, spatial_bn=spatial_bn
    )
    run(design, common)


@app.command(epilog=epilog("mobilenet"))
@with_options()
def mobilenet(
    common: Common,
    version: Annotated[
        int,
        typer.Option("--version", help="MobileNet version: 1, 2 or 3.", **integer("version")),
    ] = 1,
    size: Annotated[
        str | None, typer.Option("--size", help="MobileNet V3's size: large (default) or small.")
    ] = None,
    width: Annotated[
        str,
        typer.Option(
            "--width",
            help="Width multiplier alpha, or a comma list for a sweep (0.25,0.5,0.75,1.0).",
        ),
    ] = "1.0",
    resolution: Annotated[
        str,
        typer.Option(
            "--resolution", help="Input side, or a comma list for a sweep (128,160,192,224)."
        ),
    ] = "224",
    classes: Annotated[
        int,
        typer.Option(
            "--classes",
            help="Classifier outputs (TF-slim's checkpoints use 1001).",
            **integer("classes"),
        ),
    ] = 1000,
    batch: Batch = 1,
    plot: Plot = None,
    fold: FoldOrDepth = None,
    top: Top = None,
) -> None:
    """MobileNet V1, V2 or V3 with width and resolution multipliers: per layer, or a sweep."""
    widths, resolutions = parse_widths(width), parse_resolutions(resolution)
    check_fold(fold, top)
    _check_plot(plot)
    if len(widths) == 1 and len(resolutions) == 1 and plot is None:
        design = convcalc.mobilenet(version, widths[0], resolutions[0], classes, batch, size)
        run(design, common, depth=fold, top=top)
        return
    # Validated before the registry is asked (version and size).
    name = convcalc.mobilenet(version, size=size).network.name
    fields = {"size": size or "large"} if version == 3 else {"version": version}
    points = convcalc.sweep(name, widths, resolutions, **fields, classes=classes, batch=batch)
    run_sweep(points, common, plot)


def _check_plot(plot: str | None) -> None:
    """A --plot file name, and matplotlib, checked before any work (not after the document)."""
    if plot is None:
        return
    from convcalc.render.plot import require_matplotlib

    if not plot.lower().endswith((".png", ".svg")):
        raise InvalidSpecError(f"plot={plot!r} must end in .png or .svg")
    require_matplotlib()


def run_sweep(points: Sweep, common: Common, plot: str | None) -> None:
    """A sweep's steps: analyze (an invalid point: its error alone, before any notice),
    notices, verify, emit, plot, then judge checks and budgets."""
    analyzed = analyze(points, common.dtype, common.device)
    for note in points.notes:
        notify(f"notice: {note}")
    report = _verify_sweep(analyzed, common)
    verdicts = budgets(report, common)
    emit(report, common, verdicts)
    if plot is not None:
        from convcalc.render.plot import plot_sweep

        plot_sweep(report.reports, plot)
        notify(f"notice: wrote {plot}")
    judge(report, common, verdicts)


def _verify_sweep(report: SweepReport, common: Common) -> SweepReport:
    """Verify every point, with a progress bar on stderr while on a terminal."""
    if not common.verify:
        return report
    from rich.progress import Progress

    from convcalc.cli.output import console

    use_one_thread()
    err = console(stderr=True)
    verified = []
    # A live bar only on a terminal: redirected stderr gets no control codes.
    with Progress(console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task("verifying", total=len(report.reports))
        for point in report.reports:
            width, resolution = point.spec["width"], point.spec["resolution"]
            progress.update(task, description=f"verifying width {width:g}, resolution {resolution}")
            checked = verify(point, common.device, cross_check=common.cross_check,
                             backward=common.backward, notify=notify)  # fmt: skip
            verified.append(checked)
            progress.advance(task)
    return replace(report, reports=tuple(verified))


# ---------------------------------------------------------------- any model


@app.command(epilog=epilog("model"))
@with_options()
def model(
    common: Common,
    target: Annotated[
        str,
        typer.Argument(
            help="pkg.module:factory, path/to/file.py:factory, torchvision:NAME or timm:NAME.",
            show_default=False,
        ),
    ],
    arg: Annotated[
        list[str] | None,
        typer.Option(
            "--arg",
            help="Keyword argument for the factory, a Python literal: --arg width_mult=0.75 "
            "(repeatable).",
        ),
    ] = None,
    input_size: Input = "224",
    cin: Annotated[int, typer.Option("--cin", help="Input channels.", **integer("cin"))] = 3,
    batch: Batch = 1,
    input_shape: Annotated[
        str | None,
        typer.Option(
            "--input-shape",
            help="The exact input shape, any rank: 1x3x16x112x112 (video), 1x77 (tokens).",
        ),
    ] = None,
    input_dtype: Annotated[
        str | None,
        typer.Option(
            "--input-dtype", help="The input's dtype when not --dtype: long for token ids."
        ),
    ] = None,
    fold: FoldOrDepth = None,
    top: Top = None,
) -> None:
    """Any PyTorch model, per layer, on the meta device: analytic beside torchinfo.

    Example: convcalc model torchvision:resnet50 --fold 2. Always imports torch
    (the model is torch code); the model is built and run on meta unless --device
    cpu|cuda is given, and no weights are ever downloaded.
    """
    from convcalc.cli.options import parse_shape_text
    from convcalc.measure.target import parse_args

    shape = (
        parse_shape_text(input_shape)
        if input_shape is not None
        else (batch, cin, *parse_pair(input_size, "input"))
    )
    check_fold(fold, top)
    device = "meta" if common.device == "auto" else common.device
    report = convcalc.profile(
        target,
        shape,
        args=parse_args(arg or []),
        input_dtype=input_dtype or common.dtype,
        device=device,
        verify=common.verify,
        cross_check=common.cross_check,
        backward=common.backward,
        notify=notify,
    )
    verdicts = budgets(report, common)
    if fold is None and top is None and common.output is not OutputFormat.json:
        # Hundreds of layers do not read in a terminal: fold to the deepest module
        # depth that fits a screen, and say so (--fold 99 shows every layer).
        from convcalc.render.rows import READABLE_ROWS, readable_depth

        fold = readable_depth(report)
        if fold is not None:
            notify(
                f"notice: {len(report.layers)} layers folded into modules {fold} level"
                f"{'s' if fold > 1 else ''} deep to stay under {READABLE_ROWS} rows "
                "(--fold N to choose, --fold 99 for every layer, --top K for the costliest)"
            )
    emit(report, common, verdicts, depth=fold, top=top)
    judge(report, common, verdicts)


# ---------------------------------------------------------------- pooling


@app.command(epilog=epilog("pool"))
@with_options()
def pool(
    common: Common,
    channels: Annotated[
        int, typer.Option("--channels", "--cin", help="Channels C.", **integer("channels"))
    ],
    mode: Annotated[str, typer.Option("--mode", help="max or avg.")] = "max",
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
) -> None:
    """Max or average pooling (ceil_mode, count_include_pad, padding, dilation), or
    adaptive pooling to --output: output size, work and receptive field."""
    check_dims(dims)  # before the sizes are read per axis
    design = convcalc.pool(
        channels,
        mode.strip().lower(),
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
    run(design, common)


# ---------------------------------------------------------------- conventions


@app.command(epilog=epilog("conventions"))
def conventions(
    output: Annotated[
        OutputFormat,
        typer.Option("--format", help="table, json or markdown (csv: as markdown)."),
    ] = OutputFormat.table,
) -> None:
    """What each --convention counts: conv and linear weights, bias, norms, pools,
    activations, attention, and which calls each tool sees."""
    from convcalc.render.conventions import conventions_document, conventions_table

    if output is OutputFormat.json:
        from convcalc.render.text import to_json

        sys.stdout.write(to_json(conventions_document()))
        return
    table = conventions_table(markdown=output is not OutputFormat.table)
    if isinstance(table, str):
        sys.stdout.write(table)
    else:
        from convcalc.cli.output import console

        console().print(table)


# ---------------------------------------------------------------- CI: check, diff, batch

app.command("check", epilog=epilog("check"))(check)
app.command("diff", epilog=epilog("diff"))(diff)
app.command("batch", epilog=epilog("batch"))(batch)


# ---------------------------------------------------------------- ResNet


@app.command(epilog=epilog("resnet"))
@with_options()
def resnet(
    common: Common,
    depth: Annotated[
        int,
        typer.Option("--depth", help="Network depth: 18, 34, 50, 101 or 152.", **integer("depth")),
    ] = 50,
    variant: Annotated[
        str,
        typer.Option(
            "--variant",
            help="v1.5 (torchvision: a bottleneck strides its 3x3) or v1 (the paper: its "
            "first 1x1).",
        ),
    ] = "v1.5",
    groups: Annotated[
        int,
        typer.Option(
            "--groups", help="ResNeXt's cardinality (groups of the 3x3).", **integer("groups")
        ),
    ] = 1,
    width_per_group: Annotated[
        int,
        typer.Option(
            "--width-per-group",
            help="Channels per group at 64 planes (ResNeXt 32x4d: 4; Wide ResNet: 128).",
            **integer("width-per-group"),
        ),
    ] = 64,
    attention: Annotated[
        str | None,
        typer.Option(
            "--attention", help="se or cbam after each block's last BN, before the addition."
        ),
    ] = None,
    reduction: Annotated[
        int,
        typer.Option(
            "--reduction", help="The attention MLP's reduction r.", **integer("reduction")
        ),
    ] = 16,
    attention_bias: Annotated[
        bool,
        typer.Option(
            "--attention-bias/--no-attention-bias",
            help="Biases in the attention MLP (the SE and CBAM reference code have them).",
        ),
    ] = True,
    width: Annotated[
        str,
        typer.Option(
            "--width", help="Width multiplier of every stage, or a comma list for a sweep."
        ),
    ] = "1.0",
    resolution: Annotated[
        str,
        typer.Option("--resolution", help="Input side, or a comma list for a sweep (160,192,224)."),
    ] = "224",
    classes: Annotated[
        int, typer.Option("--classes", help="Classifier outputs.", **integer("classes"))
    ] = 1000,
    batch: Batch = 1,
    plot: Plot = None,
    fold: Fold = None,
    top: Top = None,
) -> None:
    """ResNet, ResNeXt, Wide ResNet, SE-/CBAM-ResNet: per layer (--fold 1|2), or a sweep."""
    widths, resolutions = parse_widths(width), parse_resolutions(resolution)
    check_fold(fold, top)
    _check_plot(plot)
    fields: dict[str, Any] = {
        "depth": depth, "variant": variant, "groups": groups,
        "width_per_group": width_per_group, "attention": attention, "reduction": reduction,
        "attention_bias": attention_bias, "classes": classes, "batch": batch,
    }  # fmt: skip
    design = convcalc.resnet(**fields, width=widths[0], resolution=resolutions[0])
    if len(widths) == 1 and len(resolutions) == 1 and plot is None:
        run(design, common, depth=fold, top=top)
        return
    points = convcalc.sweep("resnet", widths, resolutions, **fields)
    run_sweep(points, common, plot)
