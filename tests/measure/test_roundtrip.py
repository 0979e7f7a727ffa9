"""The op registry maps both ways: extract(build(p)) == p, for primitives and networks."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import convcalc
from convcalc import NETWORKS
from convcalc.core.count.conventions import module_class
from convcalc.core.nets.graph import INPUT, Network, Node
from convcalc.core.ops import primitives as P  # noqa: N812
from convcalc.core.ops import traced as O  # noqa: N812 - as in the build table
from convcalc.measure.build import BUILDERS, GraphModule, build_module
from convcalc.measure.extract import extract, extract_network
from convcalc.measure.read import read_trace
from convcalc.measure.trace import torch_class, trace
from tests.measure.built import INT8_DEPRECATED, build_case
from tests.strategies import (
    PRIMITIVES,
    TRACEABLE,
    Traced,
    measured_examples,
    primitives,
    traced_builtins,
)


def _all_primitives() -> set[type[P.Primitive]]:
    found: set[type[P.Primitive]] = set()
    todo = [P.Primitive]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub)
            todo.append(sub)
    return found


def test_every_primitive_round_trips_one_way_or_both() -> None:
    """Every primitive has a builder and a round-trip property (module extraction, or a
    trace of the built module read back), except those only a trace makes (a parameter
    read as data, an op with no formula). A new primitive without one fails here."""
    assert _all_primitives() - set(BUILDERS) == {O.Parameter, O.Opaque}
    assert set(BUILDERS) == set(PRIMITIVES) | set(TRACEABLE)


def _root(network: Network, name: str) -> str:
    """The input a node's operand is, traced back through free nodes of one operand (a
    view, an unsqueeze; a zero state torch made, which the graph places on the input)."""
    nodes = {node.name: node for node in network.nodes}
    while name in nodes and not name.startswith(f"{INPUT}#"):
        node = nodes[name]
        assert isinstance(node.op, O.Opaque), node
        assert node.op.free, node
        assert len(node.inputs) == 1, node
        name = node.inputs[0]
    return name


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")  # torch's perf note
@INT8_DEPRECATED
@settings(max_examples=measured_examples())
@given(st.one_of(*TRACEABLE.values(), traced_builtins()))
def test_read_of_a_traced_build_is_the_primitive(case: Traced) -> None:
    """Built as the torch call a model's forward makes, traced and read back: the same
    primitive, and no other counted work (only free nodes beside it: a state torch makes,
    a view, a call's further results), reading each input as often as the op does. One
    input runs through the network module measure builds; several call the op's module."""
    module, inputs = build_case(case)
    read = read_trace(trace(module, inputs))
    counted = [node for node in read.nodes if not (isinstance(node.op, O.Opaque) and node.op.free)]
    assert [node.op for node in counted] == [case.op]
    names = [INPUT, *(f"{INPUT}#{i}" for i in range(2, len(case.shapes) + 1))]
    assert tuple(_root(read, s) for s in counted[0].inputs) == tuple(names[i] for i in case.reads)


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
    assert extract(nn.AdaptiveAvgPool2d((None, 2))) is None  # size depends on the input
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


@INT8_DEPRECATED
@given(st.one_of(primitives(), *(ops.map(lambda case: case[0]) for ops in TRACEABLE.values())))
def test_conventions_know_the_module_build_makes(op: P.Primitive) -> None:
    """Hook-based conventions count a built network by the torch.nn class measure/build
    makes for each primitive (conventions.module_class: pure, so it cannot ask torch).
    The two agree: that class exactly, or "Module" for convcalc's own modules."""
    with torch.device("meta"):
        module = build_module(op)
    name, exact = torch_class(type(module))
    assert module_class(Node("op", op)) == name
    assert exact or name == "Module"
