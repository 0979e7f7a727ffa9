"""The model command: any PyTorch model, per layer (``convcalc.pipeline.ModelTarget``)."""

from __future__ import annotations

from typing import Annotated

import typer

from convcalc.cli.fold import FoldOrDepth, Top, check_fold
from convcalc.cli.options import Batch, Common, Input, integer, with_options
from convcalc.cli.run import Plan, plan
from convcalc.core.parse import parse_pair
from convcalc.pipeline import ModelTarget


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
) -> Plan:
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
    subject = ModelTarget(target, shape, args=parse_args(arg or []), input_dtype=input_dtype)
    return plan(subject, common, fold=fold, top=top)
