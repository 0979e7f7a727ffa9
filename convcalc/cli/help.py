"""The foot of every command's ``--help``: its examples, then what verification costs,
written from the options the command has (``epilog``), so no footer names an option
its command refuses. ``tests/test_usability.py`` runs every example.

Click rewraps help paragraphs; a paragraph that starts with ``\\b`` keeps its lines.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

# Measured: a verified ``conv`` peaks at 650 MB resident (torch's CUDA build), 20 MB
# with --no-verify.
VERIFY = (
    "Verification imports torch and torchinfo: a second or two and about 650 MB of "
    "memory before the first figure."
)
# The options whose cost the footer states, in the command's own words (model's
# --no-verify still builds the model with torch, and its help says so).
COSTLY = ("--no-verify", "--cross-check")

EXAMPLES: dict[str, tuple[str, ...]] = {
    "conv": (
        "convcalc conv --cin 4 --cout 8 --groups 2",
        "convcalc conv --cin 32 --cout 32 -g 32 -k 3 -p same -i 112   # depthwise",
        "convcalc conv --cin 64 --cout 128 -k 3 --value macs --no-verify",
        "convcalc conv --cin 4 --cout 8 -k 3 -s 2 -p 1 --transposed --output-padding 1 -i 32",
        "convcalc conv --cin 3 --cout 64 --dims 3 -k 3x7x7 -s 1x2x2 -p 1x3x3 -i 16x112x112",
        "convcalc conv --cin 16 --cout 32 --dims 1 -k 5 -i 1000   # Conv1d",
    ),
    "separable": (
        "convcalc separable --cin 32 --cout 64 -p 1 -i 112",
        "convcalc separable --cin 32 --cout 64 --format json",
    ),
    "spatial": ("convcalc spatial --cin 64 --cout 64 -k 7 -p 3 -i 56",),
    "compare": (
        "convcalc compare --cin 32 --cout 64 -p same -i 56",
        "convcalc compare --cin 32 --cout 64 -g 4 --format markdown",
        "convcalc compare --cin 64 --cout 32 -k 4 -s 2 -p 1 --transposed -i 28   # upsampling",
    ),
    "se": ("convcalc se --channels 64 --reduction 16 -i 56",),
    "pool": (
        "convcalc pool --channels 64 -k 3 -s 2 -p 1 -i 112   # ResNet's stem pool",
        "convcalc pool --channels 8 -k 3 -s 2 --ceil-mode -i 6",
        "convcalc pool --channels 512 --mode avg --output 1 -i 7",
        "convcalc pool --channels 64 --dims 3 -k 1x3x3 -s 1x2x2 -p 0x1x1 -i 16x56x56",
    ),
    "conventions": (
        "convcalc conventions",
        "convcalc conventions --format json",
        "convcalc model torchvision:resnet18 --convention fvcore --value macs",
        "convcalc mobilenet --generation 2 --convention ptflops",
    ),
    "hardware": (
        "convcalc hardware",
        "convcalc hardware --format json",
        "convcalc conv --cin 32 --cout 32 -g 32 -p 1 -i 112 --dtype bfloat16 --hardware h100-sxm",
        "convcalc mobilenet --generation 2 --hardware a100-80gb --fused --no-verify",
    ),
    "cbam": ("convcalc cbam --channels 64 --reduction 16 --spatial-kernel 7 -i 56",),
    "mobilenet": (
        "convcalc mobilenet --width 0.75",
        "convcalc mobilenet --generation 2 --width 0.5,1.0 --resolution 160,224",
        "convcalc mobilenet --generation 3 --size small",
        "convcalc mobilenet --max-params 3M --max-macs 350M   # exit 1 over budget",
    ),
    "resnet": (
        "convcalc resnet --depth 50",
        "convcalc resnet --depth 50 --variant v1 --attention se --fold 1",
        "convcalc resnet --depth 50 --groups 32 --width-per-group 4   # resnext50_32x4d",
    ),
    "model": (
        "convcalc model torchvision:resnet50 --fold 2",
        "convcalc model mypkg/net.py:build --arg width=0.5 -i 160 --format json",
        "convcalc model timm:vit_small_patch16_224 --top 10 --max-macs 5G",
    ),
    "check": (
        "convcalc check                       # budgets in pyproject.toml",
        "convcalc check --config convcalc.toml --baseline convcalc-baseline.json",
        "convcalc check --update-baseline     # write the baseline from this run",
    ),
    "diff": (
        "convcalc mobilenet --format json > old.json",
        "convcalc mobilenet --width 1.05 --format json > new.json",
        "convcalc diff old.json new.json --tolerance 1%   # exit 1: the model grew 9.5%",
    ),
    "batch": (
        "convcalc batch specs.txt > results.jsonl",
        "printf 'conv --cin 4 --cout 8\\nmobilenet --width 0.5\\n' | convcalc batch -",
    ),
}

# What commands that run others' command lines say instead: each line costs what it
# costs alone, and torch is imported once for all.
RUNS_OTHERS = (
    "Each command line costs what it costs alone; torch is imported once, for all of them."
)


def options_of(callback: Callable[..., Any]) -> dict[str, str]:
    """Every option string a command's function declares (``-k``, ``--kernel``,
    ``--bias``, ``--no-bias``) and its help, read from its signature as typer reads it."""
    import typer.models

    found: dict[str, str] = {}
    # with_options gives its commands a signature of real annotations: read it as is.
    signature = getattr(callback, "__signature__", None) or inspect.signature(
        callback, eval_str=True
    )
    for parameter in signature.parameters.values():
        # an option in Annotated (its first positional is a declaration) or as the default
        # (cli.options: its first positional is the default value)
        for info in [*typing.get_args(parameter.annotation)[1:], parameter.default]:
            if isinstance(info, typer.models.OptionInfo):
                annotated = info is not parameter.default
                declared = [info.default] if annotated and isinstance(info.default, str) else []
                for text in [*declared, *(info.param_decls or ())]:
                    if text.startswith("-"):
                        found |= dict.fromkeys(text.split("/"), info.help or "")
    return found


def _costly(callback: Callable[..., Any]) -> dict[str, str]:
    """``options_of``, where the command may declare a COSTLY option: a plain function
    (check, diff) whose annotations never name one is not evaluated (start-up time)."""
    if not hasattr(callback, "__signature__"):
        written = " ".join(map(str, getattr(callback, "__annotations__", {}).values()))
        if not any(option in written for option in COSTLY):
            return {}
    return options_of(callback)


def epilog(command: str, callback: Callable[..., Any] | None = None) -> str:
    """The ``--help`` foot of one command: its examples, then what verification costs,
    said only of the options ``callback`` (the command's function) declares, in their
    own help's words."""
    lines = "\n".join(f"  {example}" for example in EXAMPLES[command])
    text = f"\b\nExamples:\n{lines}"
    options = _costly(callback) if callback is not None else {}
    said = [f"{option}: {options[option]}" for option in COSTLY if option in options]
    if said:
        text += "\n\n" + " ".join([VERIFY, *said])
    elif command in ("check", "batch"):
        text += "\n\n" + RUNS_OTHERS
    return text


ROOT_EPILOG = (
    "\b\nExamples:\n"
    "  convcalc conv --cin 4 --cout 8 --groups 2\n"
    "  convcalc mobilenet --width 0.75 --value params\n"
    "  convcalc check\n\n"
    f"{VERIFY} --no-verify computes every figure by arithmetic alone (about 0.1 s, no torch; "
    "model still builds its model with torch); --cross-check adds FlopCounterMode (1-2 s "
    "more). Every command takes --help; "
    "exit codes: 0 ok, 1 a check or budget failed, 2 invalid spec, 3 environment "
    "(no CUDA, no torch), 130 interrupted."
)
