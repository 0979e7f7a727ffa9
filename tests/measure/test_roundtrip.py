"""The op registry maps both ways: extract(build(p)) == p, for primitives and networks."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from torch import nn

import convcalc
from convcalc.core import primitives as P  # noqa: N812 - as in the build table
from convcalc.core.graph import Network
from convcalc.core.registry import NETWORKS
from convcalc.measure.build import BUILDERS, GraphModule, build_module
from convcalc.measure.extract import extract, extract_network
from tests.strategies import PRIMITIVES, primitives


def test_every_built_primitive_has_a_strategy() -> None:
    """A new primitive without a strategy (so without the round-trip property) fails here."""
    assert set(PRIMITIVES) == set(BUILDERS)


@given(primitives())
def test_extract_of_build_is_the_primitive(op: P.Primitive) -> None:
    """Building a primitive's module and reading it back gives the same primitive."""
    with torch.device("meta"):
        module = build_module(op)
    assert extract(module) == op


def test_modules_without_a_primitive_extract_to_none() -> None:
    """A module convcalc cannot describe is said so (None), never guessed."""
    assert extract(nn.Conv2d(2, 2, 3, padding_mode="reflect")) is None
    assert extract(nn.BatchNorm2d(4, affine=False)) == P.BatchNorm2d(4, affine=False)
    assert extract(nn.AdaptiveAvgPool2d(2)) is None
    assert extract(nn.Softmax2d()) is None
    assert extract(nn.AdaptiveAvgPool2d((1, 1))) == P.GlobalPool("avg", flatten=False)


def _wiring(network: Network) -> list[tuple[P.Primitive, tuple[int, ...], int | None]]:
    """Each node's op, the positions of the nodes it reads (-1: the input), and the
    position of the node whose weights it shares: the graph without its names."""
    position = {"input": -1} | {n.name: i for i, n in enumerate(network.nodes)}
    return [
        (
            node.op,
            tuple(position[s] for s in network.sources(i)),
            None if node.weights_of is None else position[node.weights_of],
        )
        for i, node in enumerate(network.nodes)
    ]


def _roundtrip(network: Network) -> None:
    with torch.device("meta"):
        module = GraphModule(network)
    back = extract_network(module, network.input_shape)
    assert _wiring(back) == _wiring(network)


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_every_registered_network_round_trips(name: str) -> None:
    """Each registered network, built in torch and read back, is the same graph."""
    entry = NETWORKS[name]
    default = entry.default_spec()
    _roundtrip(entry.build(default))
    _roundtrip(entry.build(entry.reference_spec(default)))


@pytest.mark.parametrize(
    "design",
    [
        convcalc.conv(4, 8, groups=2),
        convcalc.conv(4, 8, groups=4, share_kernel=True),
        convcalc.separable(4, 8),
        convcalc.spatial(4, 8, kernel=5),
        convcalc.se(64, 16),
        convcalc.cbam(64, 16),
        convcalc.cbam(32, 8, spatial_bn=False, mlp_bias=False),
    ],
    ids=["grouped", "shared-kernel", "separable", "spatial", "se", "cbam", "cbam-variant"],
)
def test_every_built_in_block_round_trips(design: convcalc.Design) -> None:
    """Layers and blocks (CBAM's shared MLP included) read back as the same graph."""
    _roundtrip(design.network)
