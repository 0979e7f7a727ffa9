"""The Typer app: one command per layer kind, block or network.

Each command parses its options into a description, and hands it to the
shared steps (compute, emit, judge). Errors of every kind end in one
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

from convcalc import __version__
from convcalc.cli.options import Batch, Common, Groups, Input, conv_spec, with_options
from convcalc.cli.output import emit, emit_compare, emit_sweep, notify
from convcalc.cli.run import compute, judge
from convcalc.core.graph import Network
from convcalc.core.layers import (
    compare_networks,
    conv_network,
    network_kind,
    separable_network,
    smallest_group,
    spatial_network,
    versus_standard,
)
from convcalc.core.parse import parse_pair, parse_resolutions, parse_widths
from convcalc.core.report import Report
from convcalc.errors import ConvCalcError, InvalidSpecError

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
        try:
            result = super().main(
                args=args,
                prog_name=prog_name or "convcalc",
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
        except typer.Exit as exc:
            sys.exit(exc.exit_code)
        except typer.Abort:
            _fail("aborted", 130)
        except (_USAGE_ERROR, _CLICK_ERROR) as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # bare ``convcalc``: show the help
                sys.stdout.write(exc.ctx.get_help() + "\n")  # type: ignore[attr-defined]
                sys.exit(0)
            message = exc.format_message()  # type: ignore[attr-defined]
            _fail(" ".join(message.split()), 2)
        except ConvCalcError as exc:
            _fail(str(exc), exc.exit_code)
        # With standalone_mode off, an Exit raised inside a command comes back as its code.
        if isinstance(result, int) and result:
            sys.exit(result)
        return result


def _fail(message: str, code: int) -> NoReturn:
    sys.stderr.write(f"error: {message}\n")
    sys.stderr.flush()
    sys.exit(code)


app = typer.Typer(
    cls=OneLineErrors,
    help="convcalc: exact parameters, shapes and MACs of convolution layers, "
    "analytic beside torchinfo's measured figures.",
    no_args_is_help=True,
    add_completion=False,
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
        app()
    finally:
        gc.freeze()


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


def run_single(
    command: str,
    network: Network,
    spec: dict[str, Any],
    common: Common,
    kind: str = "",
    extras: dict[str, Any] | None = None,
) -> None:
    """Say the builder's notices, compute, emit, then judge checks and budgets."""
    for note in network.notes:
        notify(f"notice: {note}")
    report = compute(command, network, spec | common.spec(), common, notify, kind, extras)
    emit(report, common)
    judge([report], common)


# ---------------------------------------------------------------- convolutions


@app.command()
@with_options(shape=True)
def conv(
    shape: dict[str, Any],
    common: Common,
    groups: Groups = 1,
    share_kernel: Annotated[
        bool,
        typer.Option(
            "--share-kernel",
            help="Shared-kernel depthwise: one (m,1,kh,kw) kernel reused by every input "
            "channel (needs groups=cin).",
        ),
    ] = False,
) -> None:
    """One nn.Conv2d: standard, grouped, depthwise (x multiplier), global, dilated, strided."""
    spec = conv_spec(shape, groups, share_kernel)
    network = conv_network(spec)
    run_single("conv", network, spec.to_dict(), common, network_kind(network, spec.input))


@app.command()
@with_options(shape=True)
def separable(
    shape: dict[str, Any],
    common: Common,
    groups: Annotated[
        int, typer.Option("-g", "--groups", help="Groups of the pointwise 1x1 convolution.")
    ] = 1,
) -> None:
    """Depthwise-separable: depthwise k x k (groups=cin), then pointwise 1x1 to cout."""
    spec = conv_spec(shape, groups)
    network = separable_network(spec)
    extras = versus_standard(spec, network)
    kh, kw = spec.resolved_kernel
    extras["ratio_theory"] = {
        "formula": f"1/{spec.cout} + 1/({kh}x{kw})",
        "value": 1 / spec.cout + 1 / (kh * kw),
    }
    run_single("separable", network, spec.to_dict(), common, "depthwise-separable", extras)


@app.command()
@with_options(shape=True)
def spatial(shape: dict[str, Any], common: Common, groups: Groups = 1) -> None:
    """Spatially separable: k x 1 (cin -> cin) then 1 x k (cin -> cout), beside the k x k."""
    spec = conv_spec(shape, groups)
    network = spatial_network(spec)
    extras = versus_standard(spec, network)
    run_single("spatial", network, spec.to_dict(), common, "spatially separable", extras)


@app.command()
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
        ),
    ] = None,
) -> None:
    """Standard, grouped, depthwise, separable, spatial and shared-kernel side by side."""
    chosen = groups if groups is not None else smallest_group(shape["cin"], shape["cout"])
    spec = conv_spec(shape, chosen or 1)
    networks, skipped = compare_networks(spec, groups_given=groups is not None)
    spec_dict = spec.to_dict() | common.spec()
    reports = [
        compute("compare", n, spec_dict, common, notify, network_kind(n, spec.input))
        for n in networks
    ]
    for entry in skipped:
        notify(f"notice: skipped {entry}")
    emit_compare(reports, spec_dict, common)
    judge(reports, common)


# ---------------------------------------------------------------- blocks and networks

Channels = Annotated[int, typer.Option("--channels", help="Channels C of the block's input.")]
Reduction = Annotated[
    int, typer.Option("--reduction", help="Reduction r: the MLP's hidden width is C // r.")
]


@app.command()
@with_options()
def se(
    common: Common,
    channels: Channels,
    reduction: Reduction = 16,
    bias: Annotated[
        bool,
        typer.Option(
            "--bias/--no-bias",
            help="Biases on the two Linear layers (the notes' version has none).",
        ),
    ] = False,
    input_size: Input = "224",
    batch: Batch = 1,
) -> None:
    """Squeeze-and-Excitation: global pool, FC C -> C/r, ReLU, FC C/r -> C, sigmoid, x * gate."""
    from convcalc.core.networks import se_block

    size = parse_pair(input_size, "input")
    network = se_block(channels, reduction, size, batch, bias)
    spec: dict[str, Any] = {"channels": channels, "reduction": reduction, "bias": bias}
    spec |= {"input": list(size), "batch": batch}
    run_single("se", network, spec, common, "squeeze-and-excitation")


@app.command()
@with_options()
def cbam(
    common: Common,
    channels: Channels,
    reduction: Reduction = 16,
    spatial_kernel: Annotated[
        int,
        typer.Option(
            "--spatial-kernel",
            help="Kernel of the spatial gate's 2 -> 1 conv (the paper's 7; the notes mention 1).",
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
    input_size: Input = "224",
    batch: Batch = 1,
) -> None:
    """CBAM: channel gate (shared MLP on avg- and max-pooled), then spatial gate (k x k conv)."""
    from convcalc.core.networks import cbam_block

    size = parse_pair(input_size, "input")
    network = cbam_block(
        channels,
        reduction,
        size,
        batch,
        spatial_kernel=spatial_kernel,
        mlp_bias=mlp_bias,
        spatial_bn=spatial_bn,
    )
    spec: dict[str, Any] = {
        "channels": channels,
        "reduction": reduction,
        "spatial_kernel": spatial_kernel,
    }
    spec |= {"mlp_bias": mlp_bias, "spatial_bn": spatial_bn, "input": list(size), "batch": batch}
    run_single("cbam", network, spec, common, "convolutional block attention")


@app.command()
@with_options()
def mobilenet(
    common: Common,
    version: Annotated[int, typer.Option("--version", help="MobileNet version: 1 or 2.")] = 1,
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
        int, typer.Option("--classes", help="Classifier outputs (TF-slim's checkpoints use 1001).")
    ] = 1000,
    batch: Batch = 1,
    plot: Annotated[
        str | None,
        typer.Option(
            "--plot",
            help="Draw MACs against params to FILE.png or FILE.svg (needs the plot extra).",
        ),
    ] = None,
) -> None:
    """MobileNet V1 or V2 with width and resolution multipliers: per layer, or a sweep."""
    from convcalc.core.figures import analyze
    from convcalc.core.networks import MobileNetSpec
    from convcalc.core.networks import mobilenet as build

    widths, resolutions = parse_widths(width), parse_resolutions(resolution)
    specs = [MobileNetSpec(version, w, r, classes, batch) for w in widths for r in resolutions]
    if plot is not None and not plot.lower().endswith((".png", ".svg")):
        raise InvalidSpecError(f"plot={plot!r} must end in .png or .svg")
    networks = [build(spec) for spec in specs]  # every point valid before any work
    kind = f"MobileNet V{version}"
    if len(specs) == 1 and plot is None:
        run_single("mobilenet", networks[0], specs[0].to_dict(), common, kind)
        return
    for note in dict.fromkeys(note for network in networks for note in network.notes):
        notify(f"notice: {note}")
    points = [(s.to_dict() | common.spec(), n) for s, n in zip(specs, networks, strict=True)]
    reports = _sweep(points, common, kind)
    reference = analyze(build(replace(specs[0], width=1.0, resolution=224)), common.dtype)
    emit_sweep(reports, reference, common)
    if plot is not None:
        from convcalc.render.plot import plot_sweep

        plot_sweep(reports, plot)
        notify(f"notice: wrote {plot}")
    judge(reports, common)


def _sweep(
    points: Sequence[tuple[dict[str, Any], Network]], common: Common, kind: str
) -> list[Report]:
    """Compute every point, with a progress bar on stderr while verifying on a terminal."""
    if not common.verify:
        return [compute("mobilenet", n, s, common, notify, kind) for s, n in points]
    from rich.progress import Progress

    from convcalc.cli.output import console

    err = console(stderr=True)
    reports = []
    # A live bar only on a terminal: redirected stderr gets no control codes.
    with Progress(console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task("verifying", total=len(points))
        for spec, network in points:
            width, resolution = spec["width"], spec["resolution"]
            progress.update(task, description=f"verifying width {width:g}, resolution {resolution}")
            reports.append(compute("mobilenet", network, spec, common, notify, kind))
            progress.advance(task)
    return reports
