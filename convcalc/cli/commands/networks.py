"""The network commands: mobilenet and resnet, per layer or as a sweep (with a plot)."""

from typing import Annotated, Any

import typer

import convcalc
from convcalc.cli.fold import DepthAlias, Fold, Top, check_fold, deprecated_alias, fold_level
from convcalc.cli.options import Batch, Common, Word, integer, with_options
from convcalc.cli.run import Plan, check_plot, plan
from convcalc.core.values.parse import parse_resolutions, parse_widths
from convcalc.errors import InvalidSpecError

GENERATIONS = (1, 2, 3)


# The words of each network's options, read from its module when they are needed
# (help, or a value given): a network's tables load with that network only.
def _sizes() -> tuple[str, ...]:
    from convcalc.core.nets.mobilenet_v3 import MOBILENET_V3

    return tuple(MOBILENET_V3)


def _variants() -> tuple[str, ...]:
    from convcalc.core.nets.resnet import VARIANTS

    return tuple(VARIANTS)


def _attentions() -> tuple[str, ...]:
    from convcalc.core.nets.resnet import ATTENTIONS

    return tuple(ATTENTIONS)


# A sweep's plot, on every network command.
Plot = Annotated[
    str | None,
    typer.Option(
        "--plot",
        help="Draw to FILE.png or FILE.svg (needs matplotlib): with --hardware the roofline "
        "(one point per layer), else MACs against params over the sweep.",
    ),
]


def _check_generation(generation: int) -> int:
    if generation not in GENERATIONS:
        raise InvalidSpecError(
            f"generation={generation} is not a MobileNet generation: use 1, 2 or 3"
        )
    return generation


@with_options()
def mobilenet(
    common: Common,
    generation: Annotated[
        int | None,
        typer.Option(
            "--generation",
            help="Which MobileNet: 1, 2 or 3 (V1, V2, V3; default 1).",
            **integer("generation"),
        ),
    ] = None,
    version: Annotated[  # the first spelling of --generation: convcalc --version is the program's
        int | None, typer.Option("--version", hidden=True, **integer("version"))
    ] = None,
    size: Annotated[
        str | None,
        typer.Option(
            "--size",
            click_type=Word(_sizes),
            help="MobileNet V3's size (default large).",
        ),
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
    fold: Fold = None,
    depth: DepthAlias = None,
    top: Top = None,
) -> Plan:
    """MobileNet V1, V2 or V3 with width and resolution multipliers: per layer, or a sweep."""
    given = deprecated_alias(generation, version, "--generation", "--version", "mobilenet",
                             _check_generation)  # fmt: skip
    version = _check_generation(1 if given is None else given)
    widths, resolutions = parse_widths(width), parse_resolutions(resolution)
    fold = fold_level(fold, depth, "mobilenet")
    check_fold(fold, top)
    check_plot(plot)
    roofline = plot is not None and common.hardware is not None  # the picture of one point
    if len(widths) == 1 and len(resolutions) == 1 and (plot is None or roofline):
        design = convcalc.mobilenet(version, widths[0], resolutions[0], classes, batch, size)
        return plan(design, common, fold=fold, top=top, plot=plot)
    # Validated before the registry is asked (version and size).
    name = convcalc.mobilenet(version, size=size).network.name
    fields = {"size": size or "large"} if version == 3 else {"version": version}
    points = convcalc.sweep(name, widths, resolutions, **fields, classes=classes, batch=batch)
    return plan(points, common, plot=plot)


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
            click_type=Word(_variants),
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
            "--attention",
            click_type=Word(_attentions),
            help="Attention after each block's last BN, before the addition.",
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
) -> Plan:
    """ResNet, ResNeXt, Wide ResNet, SE-/CBAM-ResNet: per layer (--fold 1|2), or a sweep."""
    widths, resolutions = parse_widths(width), parse_resolutions(resolution)
    check_fold(fold, top)
    check_plot(plot)
    fields: dict[str, Any] = {
        "depth": depth, "variant": variant, "groups": groups,
        "width_per_group": width_per_group, "attention": attention, "reduction": reduction,
        "attention_bias": attention_bias, "classes": classes, "batch": batch,
    }  # fmt: skip
    design = convcalc.resnet(**fields, width=widths[0], resolution=resolutions[0])
    roofline = plot is not None and common.hardware is not None  # the picture of one point
    if len(widths) == 1 and len(resolutions) == 1 and (plot is None or roofline):
        return plan(design, common, fold=fold, top=top, plot=plot)
    points = convcalc.sweep("resnet", widths, resolutions, **fields)
    return plan(points, common, plot=plot)
