"""The registry of built-in networks, in the style of timm's ``register_model``.

A network is one data table, one builder over the blocks, and one
registration: the CLI, the sweeps and the tests walk ``NETWORKS``, so a new
entry is reachable and tested with no other change.

The registry knows each built-in network's name and the module that registers
it (``HOMES``) without importing it: a network's module loads when that network
is asked for, and all of them when ``NETWORKS`` is walked. A command that needs
one layer pays for no network's tables (start-up, SPEC "Performance").
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import field, replace
from typing import Any, Generic, TypeVar

from convcalc.core.nets.graph import Network
from convcalc.core.values.record import Record
from convcalc.errors import InvalidSpecError

SpecT = TypeVar("SpecT")


class NetworkEntry(Record, Generic[SpecT]):
    """One registered network: how to build it and what a sweep compares it with."""

    name: str
    command: str  # the CLI command that shows it
    title: str
    spec_type: type[SpecT]
    build: Callable[[SpecT], Network]
    reference: dict[str, Any] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)

    def default_spec(self) -> SpecT:
        """The spec the network is built with when nothing is asked (MobileNet V2 at 224)."""
        return self.spec_type(**self.defaults)

    def reference_spec(self, spec: SpecT) -> SpecT:
        """The point a sweep's ratios are taken against (e.g. width 1.0 at 224)."""
        return replace(spec, **self.reference)  # type: ignore[type-var]


# Each built-in network's name -> the module whose import registers it. A new
# network module adds its names here (tests/test_startup.py checks the two agree).
HOMES: dict[str, str] = {
    "mobilenet_v1": "convcalc.core.nets.mobilenet",
    "mobilenet_v2": "convcalc.core.nets.mobilenet",
    "mobilenet_v3_large": "convcalc.core.nets.mobilenet_v3",
    "mobilenet_v3_small": "convcalc.core.nets.mobilenet_v3",
    "resnet": "convcalc.core.nets.resnet",
}

_ENTRIES: dict[str, NetworkEntry[Any]] = {}


class _Networks(Mapping[str, "NetworkEntry[Any]"]):
    """Every registered network by name; a built-in one's module loads on first use."""

    def __getitem__(self, name: str) -> NetworkEntry[Any]:
        if name not in _ENTRIES and name in HOMES:
            importlib.import_module(HOMES[name])
        return _ENTRIES[name]

    def __iter__(self) -> Iterator[str]:
        for home in dict.fromkeys(HOMES.values()):
            importlib.import_module(home)
        return iter(dict(_ENTRIES))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, name: object) -> bool:
        return name in _ENTRIES or name in HOMES

    def __repr__(self) -> str:
        return f"NETWORKS({', '.join(self)})"


NETWORKS: Mapping[str, NetworkEntry[Any]] = _Networks()


def register_network(
    name: str,
    command: str,
    title: str,
    spec_type: type[SpecT],
    reference: dict[str, Any] | None = None,
    defaults: dict[str, Any] | None = None,
) -> Callable[[Callable[[SpecT], Network]], Callable[[SpecT], Network]]:
    """Register a builder under ``name`` (decorator).

    ``reference`` is the spec a sweep's ratios are taken to; ``defaults`` fill
    the spec when nothing is asked (the fields that tell this network apart).
    """

    def decorate(build: Callable[[SpecT], Network]) -> Callable[[SpecT], Network]:
        if name in _ENTRIES:
            raise ValueError(f"network {name!r} is registered twice")
        _ENTRIES[name] = NetworkEntry(
            name, command, title, spec_type, build, reference or {}, defaults or {}
        )
        return build

    return decorate


def check_scaling(width: float, sizes: tuple[tuple[str, int], ...]) -> None:
    """A network spec's common rule: a width multiplier above 0, and positive integer
    sizes (resolution, classes, batch, ...), each named in the error."""
    if not width > 0:
        raise InvalidSpecError(f"width={width} must be greater than 0")
    for option, value in sizes:
        if value <= 0:
            raise InvalidSpecError(f"{option}={value} must be a positive integer")


def network_entry(name: str) -> NetworkEntry[Any]:
    """The entry registered as ``name`` (its module loaded if need be); InvalidSpecError
    naming the known ones otherwise."""
    try:
        return NETWORKS[name]
    except KeyError:
        known = ", ".join(sorted(NETWORKS))
        raise InvalidSpecError(f"unknown network {name!r} (known: {known})") from None
