"""The worked examples of DOMAIN.md (``tests/data/seed_cases.json``) as specs, networks and argv.

The JSON is a copy of the project's reference file; every case in it is a test
(core, measured and CLI), parametrized by its ``id``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from convcalc.core.nets.graph import Network
from convcalc.core.nets.layers import (
    ConvSpec,
    conv_network,
    separable_network,
    spatial_network,
    standard_network,
)
from convcalc.core.nets.mobilenet import se_block

SEED_FILE = Path(__file__).parent / "data" / "seed_cases.json"


@dataclass(frozen=True)
class SeedCase:
    """One worked example: the command, its spec and the exact expected figures."""

    id: str
    command: str
    spec: dict[str, Any]
    expect: dict[str, Any]
    note: str


def load_seed_cases() -> list[SeedCase]:
    """Every case of the seed file, in file order."""
    data = json.loads(SEED_FILE.read_text(encoding="utf-8"))
    return [
        SeedCase(c["id"], c["command"], c["spec"], c["expect"], c.get("note", ""))
        for c in data["cases"]
    ]


SEED_CASES = load_seed_cases()


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, int):
        return (value, value)
    first, second = value
    return (int(first), int(second))


def conv_spec(spec: dict[str, Any]) -> ConvSpec:
    """A seed's conv/separable/spatial spec as a ConvSpec (ints become square pairs)."""
    return ConvSpec(
        cin=spec["cin"],
        cout=spec["cout"],
        kernel=_pair(spec["kernel"]),
        stride=_pair(spec.get("stride", 1)),
        padding=_pair(spec.get("padding", 0)),
        dilation=_pair(spec.get("dilation", 1)),
        groups=spec.get("groups", 1),
        bias=spec["bias"],
        input=_pair(spec["input"]),
        batch=spec.get("batch", 1),
        share_kernel=spec.get("share_kernel", False),
    )


def seed_network(case: SeedCase) -> Network:
    """The network a seed case describes, built by the pure core."""
    spec = case.spec
    if case.command == "se":
        return se_block(
            spec["channels"], spec["reduction"], _pair(spec["input"]), spec["batch"], spec["bias"]
        )
    builders = {"conv": conv_network, "separable": separable_network, "spatial": spatial_network}
    return builders[case.command](conv_spec(spec))


def seed_standard_network(case: SeedCase) -> Network:
    """The standard k x k convolution a spatial or separable case is compared with."""
    return standard_network(conv_spec(case.spec))


def _hw(value: Any) -> str:
    h, w = _pair(value)
    return f"{h}x{w}"


def seed_argv(case: SeedCase) -> list[str]:
    """The command line that asks ``convcalc`` for a seed case."""
    spec = case.spec
    bias = "--bias" if spec["bias"] else "--no-bias"
    if case.command == "se":
        return [
            "se",
            "--channels",
            str(spec["channels"]),
            "--reduction",
            str(spec["reduction"]),
            "--input",
            _hw(spec["input"]),
            "--batch",
            str(spec["batch"]),
            bias,
        ]
    argv = [
        case.command,
        "--cin",
        str(spec["cin"]),
        "--cout",
        str(spec["cout"]),
        "--kernel",
        _hw(spec["kernel"]),
        "--input",
        _hw(spec["input"]),
        "--padding",
        _hw(spec.get("padding", 0)),
        "--batch",
        str(spec.get("batch", 1)),
        bias,
    ]
    for option in ("stride", "dilation"):
        if option in spec:
            argv += [f"--{option}", _hw(spec[option])]
    if "groups" in spec:
        argv += ["--groups", str(spec["groups"])]
    if spec.get("share_kernel"):
        argv.append("--share-kernel")
    return argv
