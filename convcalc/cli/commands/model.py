"""The model command: any PyTorch model, per layer."""

from __future__ import annotations

from typing import Annotated

import typer

import convcalc
from convcalc.cli.fold import FoldOrDepth, Top, check_fold
from convcalc.cli.options import Batch, Common, Input, integer, with_options
from convcalc.cli.output import emit, notify
from convcalc.cli.run import budgets, judge
from convcalc.core.parse import parse_pair
from convcalc.render import OutputFormat


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
