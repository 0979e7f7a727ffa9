"""The model command: any PyTorch model, per layer (``convcalc.pipeline.ModelTarget``)."""

import dataclasses
from typing import Annotated, Any

import typer

from convcalc.cli.collector import load_torch
from convcalc.cli.fold import DepthAlias, Fold, Top, check_fold, fold_level
from convcalc.cli.options import Common, Word, integer, with_options
from convcalc.cli.run import Plan, plan
from convcalc.core.values.parse import parse_int, parse_pair, positive
from convcalc.errors import InvalidSpecError
from convcalc.pipeline import ModelTarget


def _input_dtypes() -> tuple[str, ...]:
    load_torch()  # asked only for a given dtype
    from convcalc.measure.profile import INPUT_DTYPES

    return INPUT_DTYPES


@with_options(
    no_verify_help="Skip torchinfo: convcalc's own figures from one traced forward pass. "
    "Still imports torch, since the model is torch code (but never downloads weights)."
)
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
    input_size: Annotated[
        str | None,
        typer.Option(
            "-i",
            "--input",
            metavar="SIZE",
            help="Input size: 64 or HxW (64x48); default the model's own (timm's and "
            "torchvision's default size), else 224.",
            show_default=False,
        ),
    ] = None,
    cin: Annotated[
        int | None, typer.Option("--cin", help="Input channels [default: 3].", **integer("cin"))
    ] = None,
    batch: Annotated[
        str | None,
        typer.Option(
            "-b",
            "--batch",
            metavar="N[,N...]",
            help="Batch size N [default: 1]; a list (1,8,32,128) with --hardware and --plot "
            "draws each layer at each batch on the roofline (the table is the first's).",
        ),
    ] = None,
    input_shape: Annotated[
        list[str] | None,
        typer.Option(
            "--input-shape",
            metavar="SHAPE[:DTYPE]",
            help="One positional input's exact shape, any rank, and its dtype: "
            "1x3x16x112x112 (video), 1x128:long (token ids); repeat it for each positional "
            "input (--input-shape 1x3x224x224 --input-shape 1x1x224x224).",
        ),
    ] = None,
    inputs: Annotated[
        str | None,
        typer.Option(
            "--inputs",
            metavar="FILE.py:FUNCTION",
            help="A function (path/to/file.py:FUNCTION or pkg.module:FUNCTION) returning the "
            "model's example inputs: a tuple of positional inputs, a dict of keyword inputs "
            "or an (args, kwargs) pair, tensors nested in tuples, lists and dicts (run as "
            "meta tensors of the same shape and dtype unless --device cpu|cuda).",
        ),
    ] = None,
    input_dtype: Annotated[
        str | None,
        typer.Option(
            "--input-dtype",
            metavar="DTYPE",
            click_type=Word(_input_dtypes),
            help="The inputs' dtype where --input-shape names none, when not --dtype: "
            "long for token ids (8 bytes each; on a real device, ids below the first "
            "nn.Embedding's vocabulary).",
        ),
    ] = None,
    fold: Fold = None,
    depth: DepthAlias = None,
    top: Top = None,
    allow_partial: Annotated[
        bool,
        typer.Option(
            "--allow-partial",
            help="Judge budgets and print --value on a partial total of work (an op with no "
            "formula): by default either is refused with exit 1, naming what was not counted.",
        ),
    ] = False,
) -> Plan:
    """Any PyTorch model, per layer, on the meta device: analytic beside torchinfo.

    Example: convcalc model torchvision:resnet50 --fold 2. Always imports torch
    (the model is torch code); the model is built and run on meta unless --device
    cpu|cuda is given, and no weights are ever downloaded.
    """
    load_torch()  # (with the collector paused: the imports below are torch's)
    from convcalc.measure.inputs import parse_spec
    from convcalc.measure.target import parse_args

    sized = [name for name, value in (("-i", input_size), ("--cin", cin), ("--batch", batch))
             if value is not None]  # fmt: skip
    ways = [name for name, given in (("--input-shape", input_shape), ("--inputs", inputs)) if given]
    if len(ways) > 1 or (ways and sized):
        raise InvalidSpecError(
            f"{' and '.join([*sized, *ways])} both give the model's inputs: give one "
            "(--input-shape is a whole shape; --inputs names every input)"
        )
    shape: tuple[int, ...] | None = None
    options: dict[str, Any] = {}
    if input_shape:
        options["inputs"] = tuple(parse_spec(text) for text in input_shape)
    elif inputs is not None:
        options["inputs"] = inputs
    batches = parse_batches(batch, common)
    if sized:  # otherwise the model's own input (a zoo's size), else 1x3x224x224
        shape = (batches[0], 3 if cin is None else cin, *parse_pair(input_size or "224", "input"))
    fold = fold_level(fold, depth, "model")
    check_fold(fold, top)
    subject = ModelTarget(target, shape, args=parse_args(arg or []), input_dtype=input_dtype,
                          options=options)  # fmt: skip
    job = plan(subject, common, fold=fold, top=top, allow_partial=allow_partial)
    return dataclasses.replace(job, batches=batches) if len(batches) > 1 else job


def parse_batches(text: str | None, common: Common) -> tuple[int, ...]:
    """--batch: one size, or a comma list for the roofline's batch sweep (which needs a
    device and a picture)."""
    if text is None:
        return (1,)
    batches = tuple(positive(parse_int(part.strip(), "batch"), "batch")
                    for part in text.split(","))  # fmt: skip
    if len(batches) > 1 and (common.hardware is None or common.plot is None):
        raise InvalidSpecError(
            f"--batch {text} is a batch sweep, drawn on the roofline: give --hardware NAME "
            "and --plot FILE.png (or one batch size)"
        )
    return batches
