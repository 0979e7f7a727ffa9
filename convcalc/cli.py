"""The Typer CLI: parse, compute, verify, render, and map errors to exit codes.

The only module that prints or exits. torch is imported only when a command
verifies (not with ``--no-verify``), so the analytic path starts fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from convcalc import __version__
from convcalc.core.figures import DTYPE_BYTES, analyze
from convcalc.core.graph import Network
from convcalc.core.layers import (
    COMPARE_VARIANTS,
    ConvSpec,
    compare_variant,
    conv_kind,
    conv_network,
    separable_network,
    smallest_group,
    spatial_network,
    standard_network,
)
from convcalc.core.networks import MobileNetSpec, cbam_block, se_block
from convcalc.core.networks import mobilenet as mobilenet_network
from convcalc.core.parse import parse_budget, parse_kernel, parse_list, parse_padding, parse_pair
from convcalc.core.primitives import Conv2d, fmt_int
from convcalc.core.report import Report, build_checks
from convcalc.errors import (
    BudgetExceededError,
    ConvCalcError,
    EnvironmentUnavailableError,
    InvalidSpecError,
    MismatchError,
)
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
    """Console-script entry point."""
    app()


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


# ---------------------------------------------------------------- options

Cin = Annotated[int, typer.Option("--cin", help="Input channels.")]
Cout = Annotated[int, typer.Option("--cout", help="Output channels.")]
Kernel = Annotated[str, typer.Option("-k", "--kernel", help="Kernel: 3, HxW (3x1) or global.")]
Stride = Annotated[str, typer.Option("-s", "--stride", help="Stride: 1 or HxW.")]
PaddingOpt = Annotated[str, typer.Option("-p", "--padding", help="Padding: 1, HxW, same or valid.")]
Dilation = Annotated[str, typer.Option("-d", "--dilation", help="Dilation: 1 or HxW.")]
Groups = Annotated[int, typer.Option("-g", "--groups", help="Groups (must divide cin and cout).")]
Bias = Annotated[bool, typer.Option("--bias/--no-bias", help="Bias on the convolutions.")]
Input = Annotated[str, typer.Option("-i", "--input", help="Input size: 64 or HxW (64x48).")]
Batch = Annotated[int, typer.Option("-b", "--batch", help="Batch size N.")]
Dtype = Annotated[
    str,
    typer.Option(
        "--dtype",
        help="Element type for memory figures and verification: float32, float16, bfloat16, float64.",
    ),
]
Device = Annotated[
    str,
    typer.Option(
        "--device",
        help="Where to verify: auto (CUDA if present, else CPU), cpu, cuda or meta. Large specs move to meta on their own, with a notice.",
    ),
]
Format = Annotated[
    OutputFormat,
    typer.Option("--format", help="Output: table, json, csv or markdown.", case_sensitive=False),
]
Exact = Annotated[
    bool, typer.Option("--exact", help="Exact integers in tables instead of K/M/G units.")
]
NoVerify = Annotated[
    bool, typer.Option("--no-verify", help="Analytic figures only; never imports torch (fast).")
]
CrossCheck = Annotated[
    bool,
    typer.Option(
        "--cross-check",
        help="Also count FLOPs with torch's FlopCounterMode (about 1-2 s more: its first use imports torch._dynamo).",
    ),
]
MaxParams = Annotated[
    str | None,
    typer.Option(
        "--max-params", help="Fail (exit 1) above this many params: 1.5M, 600K, 2G or an integer."
    ),
]
MaxMacs = Annotated[
    str | None, typer.Option("--max-macs", help="Fail (exit 1) above this many MACs.")
]
MaxFlops = Annotated[
    str | None, typer.Option("--max-flops", help="Fail (exit 1) above this many FLOPs.")
]

DEVICES = ("auto", "cpu", "cuda", "meta")


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
    ) -> Common:
        """Validate the raw option values (exit 2 on a bad one)."""
        if dtype not in DTYPE_BYTES:
            raise InvalidSpecError(f"dtype={dtype!r} is not one of {', '.join(DTYPE_BYTES)}")
        if device not in DEVICES:
            raise InvalidSpecError(f"device={device!r} is not one of {', '.join(DEVICES)}")
        if no_verify and cross_check:
            raise InvalidSpecError("--cross-check needs verification; drop --no-verify")
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
        )

    def spec(self) -> dict[str, Any]:
        """The run options that belong in the JSON ``spec``."""
        return {"dtype": self.dtype, "device": self.device}


def conv_spec(
    cin: int,
    cout: int,
    kernel: str,
    stride: str,
    padding: str,
    dilation: str,
    groups: int,
    bias: bool,
    input_size: str,
    batch: int,
    share_kernel: bool = False,
) -> ConvSpec:
    """Parse the convolution options into a ConvSpec (exit 2 on a bad one)."""
    return ConvSpec(
        cin=cin,
        cout=cout,
        kernel=parse_kernel(kernel),  # type: ignore[arg-type]
        stride=parse_pair(stride, "stride"),
        padding=parse_padding(padding),  # type: ignore[arg-type]
        dilation=parse_pair(dilation, "dilation"),
        groups=groups,
        bias=bias,
        input=parse_pair(input_size, "input"),
        batch=batch,
        share_kernel=share_kernel,
    )


# ---------------------------------------------------------------- running


def notify(message: str) -> None:
    """A notice on stderr (never on stdout, which holds the document)."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def compute(
    command: str,
    network: Network,
    spec: dict[str, Any],
    common: Common,
    kind: str = "",
    extras: dict[str, Any] | None = None,
) -> Report:
    """Analyze a network and, unless --no-verify, measure it and compare."""
    figures = analyze(network, common.dtype)
    report = Report(command, spec, figures, kind=kind, extras=extras or {})
    if not common.verify:
        return report
    try:
        from convcalc.measure.probe import choose_device, measure
    except ImportError as exc:
        raise EnvironmentUnavailableError(
            f"verification needs torch and torchinfo ({exc.name} is missing); "
            "install them, or use --no-verify for the analytic figures"
        ) from exc
    device = choose_device(common.device, figures, notify)
    measured = measure(figures, device, cross_check=common.cross_check)
    return replace(report, measured=measured, checks=build_checks(figures, measured))


def finish(reports: Sequence[Report], common: Common) -> None:
    """After the document is out: exit 1 on a mismatch or a budget exceeded."""
    failed = [(r, c) for r in reports for c in r.failed_checks]
    if failed:
        details = "; ".join(
            f"{_prefix(r, reports)}{c.figure} analytic {_show(c.analytic)}, measured {_show(c.measured)}"
            for r, c in failed[:4]
        )
        more = f" (and {len(failed) - 4} more)" if len(failed) > 4 else ""
        raise MismatchError(f"analytic and measured figures disagree: {details}{more}")
    over = []
    for report in reports:
        totals = report.figures.totals
        for name, value, limit in (
            ("params", totals.params, common.max_params),
            ("macs", totals.macs, common.max_macs),
            ("flops", totals.flops, common.max_flops),
        ):
            if limit is not None and value > limit:
                excess = value - limit
                share = f", {excess / limit:.1%}" if limit else ""
                over.append(
                    f"{_prefix(report, reports)}{name} {fmt_int(value)} > --max-{name} "
                    f"{fmt_int(limit)} (over by {fmt_int(excess)}{share})"
                )
    if over:
        raise BudgetExceededError("budget exceeded: " + "; ".join(over))


def _prefix(report: Report, reports: Sequence[Report]) -> str:
    return f"{report.figures.network.name}: " if len(reports) > 1 else ""


def _show(value: Any) -> str:
    if isinstance(value, int):
        return fmt_int(value)
    if isinstance(value, tuple):
        return "x".join(map(str, value))
    return str(value)


def console(stderr: bool = False) -> Any:
    """A Rich console: plain when not a terminal or NO_COLOR is set (Rich reads both).

    Markup, emoji and highlighting are off: cells are plain text, and their
    parsers cost start-up time on the fast path.
    """
    from rich.console import Console

    file = sys.stderr if stderr else sys.stdout
    columns = os.environ.get("COLUMNS", "")
    width = None if file.isatty() else int(columns) if columns.isdigit() else 200
    # NO_COLOR means plain: no bold or italic either, not only no colour.
    plain = bool(os.environ.get("NO_COLOR")) or not file.isatty()
    return Console(
        file=file,
        width=width,
        soft_wrap=False,
        markup=False,
        emoji=False,
        highlight=False,
        color_system=None if plain else "auto",
    )


def emit(report: Report, common: Common) -> None:
    """Write one report to stdout in the chosen format."""
    from convcalc.render import text

    if common.output is OutputFormat.json:
        sys.stdout.write(text.to_json(report.to_dict()))
    elif common.output is OutputFormat.csv:
        sys.stdout.write(text.to_csv(report))
    elif common.output is OutputFormat.markdown:
        sys.stdout.write(text.to_markdown(report, common.exact))
    else:
        from convcalc.render.table import report_table

        console().print(report_table(report, common.exact))


def run_single(
    command: str,
    network: Network,
    spec: dict[str, Any],
    common: Common,
    kind: str = "",
    extras: dict[str, Any] | None = None,
) -> None:
    """compute, emit, then apply the checks and budgets."""
    for note in network.notes:
        notify(f"notice: {note}")
    report = compute(command, network, spec, common, kind, extras)
    emit(report, common)
    finish([report], common)


def _versus_standard(spec: ConvSpec, network: Network, dtype: str) -> dict[str, Any]:
    """What the standard k x k convolution of the same spec costs, and the ratios to it."""
    standard = analyze(standard_network(replace(spec, groups=1, share_kernel=False)), dtype).totals
    ours = analyze(network, dtype).totals
    return {
        "standard": {
            "params": standard.params,
            "macs": standard.macs,
            "output_shape": list(standard.output_shape),
        },
        "ratio_to_standard": {
            "params": ours.params / standard.params,
            "macs": ours.macs / standard.macs,
        },
    }


# ---------------------------------------------------------------- commands


@app.command()
def conv(
    cin: Cin,
    cout: Cout,
    kernel: Kernel = "3",
    stride: Stride = "1",
    padding: PaddingOpt = "0",
    dilation: Dilation = "1",
    groups: Groups = 1,
    bias: Bias = True,
    input_size: Input = "224",
    batch: Batch = 1,
    share_kernel: Annotated[
        bool,
        typer.Option(
            "--share-kernel",
            help="Shared-kernel depthwise: one (m,1,kh,kw) kernel reused by every input channel (needs groups=cin).",
        ),
    ] = False,
    dtype: Dtype = "float32",
    device: Device = "auto",
    output: Format = OutputFormat.table,
    exact: Exact = False,
    no_verify: NoVerify = False,
    cross_check: CrossCheck = False,
    max_params: MaxParams = None,
    max_macs: MaxMacs = None,
    max_flops: MaxFlops = None,
) -> None:
    """One nn.Conv2d: standard, grouped, depthwise (x multiplier), global, dilated, strided."""
    common = Common.parse(
        dtype, device, output, exact, no_verify, cross_check, max_params, max_macs, max_flops
    )
    spec = conv_spec(
        cin, cout, kernel, stride, padding, dilation, groups, bias, input_size, batch, share_kernel
    )
    network = conv_network(spec)
    op = network.nodes[0].op
    assert isinstance(op, Conv2d)
    run_single("conv", network, spec.to_dict() | common.spec(), common, conv_kind(op, spec.input))


@app.command()
def separable(
    cin: Cin,
    cout: Cout,
    kernel: Kernel = "3",
    stride: Stride = "1",
    padding: PaddingOpt = "0",
    dilation: Dilation = "1",
    groups: Annotated[
        int, typer.Option("-g", "--groups", help="Groups of the pointwise 1x1 convolution.")
    ] = 1,
    bias: Bias = True,
    input_size: Input = "224",
    batch: Batch = 1,
    dtype: Dtype = "float32",
    device: Device = "auto",
    output: Format = OutputFormat.table,
    exact: Exact = False,
    no_verify: NoVerify = False,
    cross_check: CrossCheck = False,
    max_params: MaxParams = None,
    max_macs: MaxMacs = None,
    max_flops: MaxFlops = None,
) -> None:
    """Depthwise-separable: depthwise k x k (groups=cin), then pointwise 1x1 to cout."""
    common = Common.parse(
        dtype, device, output, exact, no_verify, cross_check, max_params, max_macs, max_flops
    )
    spec = conv_spec(cin, cout, kernel, stride, padding, dilation, groups, bias, input_size, batch)
    network = separable_network(spec)
    extras = _versus_standard(spec, network, common.dtype)
    kh, kw = spec.resolved_kernel
    extras["ratio_theory"] = {
        "formula": f"1/{cout} + 1/({kh}x{kw})",
        "value": 1 / cout + 1 / (kh * kw),
    }
    run_single(
        "separable", network, spec.to_dict() | common.spec(), common, "depthwise-separable", extras
    )


@app.command()
def spatial(
    cin: Cin,
    cout: Cout,
    kernel: Kernel = "3",
    stride: Stride = "1",
    padding: PaddingOpt = "0",
    dilation: Dilation = "1",
    groups: Groups = 1,
    bias: Bias = True,
    input_size: Input = "224",
    batch: Batch = 1,
    dtype: Dtype = "float32",
    device: Device = "auto",
    output: Format = OutputFormat.table,
    exact: Exact = False,
    no_verify: NoVerify = False,
    cross_check: CrossCheck = False,
    max_params: MaxParams = None,
    max_macs: MaxMacs = None,
    max_flops: MaxFlops = None,
) -> None:
    """Spatially separable: k x 1 (cin -> cin) then 1 x k (cin -> cout), beside the k x k."""
    common = Common.parse(
        dtype, device, output, exact, no_verify, cross_check, max_params, max_macs, max_flops
    )
    spec = conv_spec(cin, cout, kernel, stride, padding, dilation, groups, bias, input_size, batch)
    network = spatial_network(spec)
    extras = _versus_standard(spec, network, common.dtype)
    run_single(
        "spatial", network, spec.to_dict() | common.spec(), common, "spatially separable", extras
    )


@app.command()
def compare(
    cin: Cin,
    cout: Cout,
    kernel: Kernel = "3",
    stride: Stride = "1",
    padding: PaddingOpt = "0",
    dilation: Dilation = "1",
    groups: Annotated[
        int | None,
        typer.Option(
            "-g",
            "--groups",
            help="g of the grouped variant (default: the smallest g > 1 dividing cin and cout).",
        ),
    ] = None,
    bias: Bias = True,
    input_size: Input = "224",
    batch: Batch = 1,
    dtype: Dtype = "float32",
    device: Device = "auto",
    output: Format = OutputFormat.table,
    exact: Exact = False,
    no_verify: NoVerify = False,
    cross_check: CrossCheck = False,
    max_params: MaxParams = None,
    max_macs: MaxMacs = None,
    max_flops: MaxFlops = None,
) -> None:
    """Standard, grouped, depthwise, depthwise-separable, spatially separable and shared-kernel side by side."""
    common = Common.parse(
        dtype, device, output, exact, no_verify, cross_check, max_params, max_macs, max_flops
    )
    skipped: list[str] = []
    chosen = groups if groups is not None else smallest_group(cin, cout)
    spec = conv_spec(
        cin, cout, kernel, stride, padding, dilation, chosen or 1, bias, input_size, batch
    )
    reports = []
    for name in COMPARE_VARIANTS:
        if name == "grouped" and chosen is None:
            skipped.append(f"grouped (cin={cin} and cout={cout} share no divisor > 1)")
            continue
        if name == "grouped" and groups is None and chosen == cin:
            skipped.append(
                f"grouped (the only g > 1 dividing both is cin={cin}: that is depthwise)"
            )
            continue
        if name in ("depthwise", "shared-kernel") and cout % cin:
            skipped.append(f"{name} (cout={cout} is not a multiple of cin={cin})")
            continue
        network = compare_variant(name, spec)
        nodes = network.nodes
        kind = (
            conv_kind(nodes[0].op, spec.input)
            if len(nodes) == 1 and isinstance(nodes[0].op, Conv2d)
            else name
        )
        reports.append(compute("compare", network, spec.to_dict() | common.spec(), common, kind))
    for entry in skipped:
        notify(f"notice: skipped {entry}")
    emit_compare(reports, spec.to_dict() | common.spec(), common)
    finish(reports, common)


def emit_compare(reports: Sequence[Report], spec: dict[str, Any], common: Common) -> None:
    """Write compare's document."""
    from convcalc.render import text

    if common.output is OutputFormat.json:
        sys.stdout.write(text.to_json(text.compare_document(spec, reports)))
    elif common.output is OutputFormat.csv:
        sys.stdout.write(text.compare_csv(reports))
    elif common.output is OutputFormat.markdown:
        sys.stdout.write(text.compare_markdown(reports, common.exact))
    else:
        from convcalc.render.table import compare_table

        console().print(compare_table(reports, common.exact))


# ---------------------------------------------------------------- blocks and networks

Channels = Annotated[int, typer.Option("--channels", help="Channels C of the block's input.")]
Reduction = Annotated[
    int, typer.Option("--reduction", help="Reduction r: the MLP's hidden width is C // r.")
]


def _input_pair(text: str) -> tuple[int, int]:
    return parse_pair(text, "input")


@app.command()
def se(
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
    dtype: Dtype = "float32",
    device: Device = "auto",
    output: Format = OutputFormat.table,
    exact: Exact = False,
    no_verify: NoVerify = False,
    cross_check: CrossCheck = False,
    max_params: MaxParams = None,
    max_macs: MaxMacs = None,
    max_flops: MaxFlops = None,
) -> None:
    """Squeeze-and-Excitation: global pool, FC C -> C/r, ReLU, FC C/r -> C, sigmoid, x * gate."""
    common = Common.parse(
        dtype, device, output, exact, no_verify, cross_check, max_params, max_macs, max_flops
    )
    size = _input_pair(input_size)
    network = se_block(channels, reduction, size, batch, bias)
    spec = {
        "channels": channels,
        "reduction": reduction,
        "bias": bias,
        "input": list(size),
        "batch": batch,
    }
    run_single("se", network, spec | common.spec(), common, "squeeze-and-excitation")


@app.command()
def cbam(
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
    dtype: Dtype = "float32",
    device: Device = "auto",
    output: Format = OutputFormat.table,
    exact: Exact = False,
    no_verify: NoVerify = False,
    cross_check: CrossCheck = False,
    max_params: MaxParams = None,
    max_macs: MaxMacs = None,
    max_flops: MaxFlops = None,
) -> None:
    """CBAM: channel gate (shared MLP on avg- and max-pooled), then spatial gate (k x k conv)."""
    common = Common.parse(
        dtype, device, output, exact, no_verify, cross_check, max_params, max_macs, max_flops
    )
    size = _input_pair(input_size)
    network = cbam_block(
        channels,
        reduction,
        size,
        batch,
        spatial_kernel=spatial_kernel,
        mlp_bias=mlp_bias,
        spatial_bn=spatial_bn,
    )
    spec = {
        "channels": channels,
        "reduction": reduction,
        "spatial_kernel": spatial_kernel,
        "mlp_bias": mlp_bias,
        "spatial_bn": spatial_bn,
        "input": list(size),
        "batch": batch,
    }
    run_single("cbam", network, spec | common.spec(), common, "convolutional block attention")


def _widths(text: str) -> list[float]:
    values = []
    for item in parse_list(text, "width"):
        try:
            value = float(item)
        except ValueError:
            raise InvalidSpecError(f"width={item!r} is not a number") from None
        if not (0 < value < float("inf")):  # also rejects nan
            raise InvalidSpecError(f"width={item} must be a finite number greater than 0")
        values.append(value)
    return values


def _resolutions(text: str) -> list[int]:
    values = []
    for item in parse_list(text, "resolution"):
        if not item.lstrip("+-").isdigit():
            raise InvalidSpecError(f"resolution={item!r} is not an integer")
        if int(item) <= 0:
            raise InvalidSpecError(f"resolution={item} must be a positive integer")
        values.append(int(item))
    return values


@app.command()
def mobilenet(
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
            help="Draw MACs against params to FILE.png or FILE.svg (needs the plot extra: matplotlib).",
        ),
    ] = None,
    dtype: Dtype = "float32",
    device: Device = "auto",
    output: Format = OutputFormat.table,
    exact: Exact = False,
    no_verify: NoVerify = False,
    cross_check: CrossCheck = False,
    max_params: MaxParams = None,
    max_macs: MaxMacs = None,
    max_flops: MaxFlops = None,
) -> None:
    """MobileNet V1 or V2 with width and resolution multipliers: per layer, or a sweep."""
    common = Common.parse(
        dtype, device, output, exact, no_verify, cross_check, max_params, max_macs, max_flops
    )
    widths, resolutions = _widths(width), _resolutions(resolution)
    specs = [MobileNetSpec(version, w, r, classes, batch) for w in widths for r in resolutions]
    if plot is not None and not plot.lower().endswith((".png", ".svg")):
        raise InvalidSpecError(f"plot={plot!r} must end in .png or .svg")
    networks = [mobilenet_network(spec) for spec in specs]  # every spec valid before any work
    if len(specs) == 1 and plot is None:
        run_single(
            "mobilenet",
            networks[0],
            specs[0].to_dict() | common.spec(),
            common,
            f"MobileNet V{version}",
        )
        return
    reports = _sweep(specs, networks, common)
    emit_sweep(reports, specs, common)
    if plot is not None:
        from convcalc.render.plot import plot_sweep

        plot_sweep(reports, specs, plot)
        notify(f"notice: wrote {plot}")
    finish(reports, common)


def _sweep(
    specs: Sequence[MobileNetSpec], networks: Sequence[Network], common: Common
) -> list[Report]:
    """Compute every point, with a progress bar on stderr while verifying."""
    for note in dict.fromkeys(note for network in networks for note in network.notes):
        notify(f"notice: {note}")
    if not common.verify:
        return [
            compute("mobilenet", n, s.to_dict() | common.spec(), common, f"MobileNet V{s.version}")
            for s, n in zip(specs, networks, strict=True)
        ]
    from rich.progress import Progress

    reports = []
    err = console(stderr=True)
    # A live bar only on a terminal: redirected stderr gets no control codes.
    with Progress(console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task("verifying", total=len(specs))
        for spec, network in zip(specs, networks, strict=True):
            progress.update(
                task, description=f"verifying width {spec.width:g}, resolution {spec.resolution}"
            )
            reports.append(
                compute(
                    "mobilenet",
                    network,
                    spec.to_dict() | common.spec(),
                    common,
                    f"MobileNet V{spec.version}",
                )
            )
            progress.advance(task)
    return reports


def emit_sweep(reports: Sequence[Report], specs: Sequence[MobileNetSpec], common: Common) -> None:
    """Write a sweep: one row (or JSON object) per point, with ratios to width 1.0 at 224."""
    from convcalc.render import sweep

    reference = analyze(
        mobilenet_network(replace(specs[0], width=1.0, resolution=224, batch=specs[0].batch)),
        common.dtype,
    )
    if common.output is OutputFormat.json:
        from convcalc.render.text import to_json

        sys.stdout.write(to_json(sweep.sweep_document(reports, reference)))
    elif common.output is OutputFormat.csv:
        sys.stdout.write(sweep.sweep_csv(reports, reference))
    elif common.output is OutputFormat.markdown:
        sys.stdout.write(sweep.sweep_markdown(reports, reference, common.exact))
    else:
        console().print(sweep.sweep_table(reports, reference, common.exact))
