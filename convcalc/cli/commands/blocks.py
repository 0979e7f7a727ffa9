"""The attention-block commands: se and cbam."""

from typing import Annotated, Any

import typer

import convcalc
from convcalc.cli.options import Common, integer, with_options
from convcalc.cli.run import Plan, plan


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
) -> Plan:
    """Squeeze-and-Excitation: global pool, FC C -> C/r, ReLU, FC C/r -> C, sigmoid, x * gate."""
    return plan(convcalc.se(**block, bias=bias), common)


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
) -> Plan:
    """CBAM: channel gate (shared MLP on avg- and max-pooled), then spatial gate (k x k conv)."""
    design = convcalc.cbam(
        **block, spatial_kernel=spatial_kernel, mlp_bias=mlp_bias, spatial_bn=spatial_bn
    )
    return plan(design, common)
