"""The records' __eq__, __hash__ and __repr__ (core.values.record.Record's, written once:
start-up) do what the dataclass-generated ones did: each checked against a plain frozen
dataclass of the same name and fields, on every primitive and on the records a run makes."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from convcalc.core.ops import primitives as P  # noqa: N812
from tests.strategies import PRIMITIVES, TRACEABLE

OPS = st.one_of(
    *PRIMITIVES.values(),
    *(strategy.map(lambda case: case[0]) for strategy in TRACEABLE.values()),
)


GENERATED: dict[str, type[Any]] = {}


def generated(kind: type[Any]) -> type[Any]:
    """A plain ``@dataclass(frozen=True)`` with ``kind``'s name and fields (not a subclass:
    the primitives' registry walks Primitive's subclasses): the methods Python generates."""
    key = f"{kind.__module__}.{kind.__qualname__}"
    if key not in GENERATED:
        declared = [(f.name, f.type, dataclasses.field(repr=f.repr, compare=f.compare, hash=f.hash))
                    for f in dataclasses.fields(kind)]  # fmt: skip
        GENERATED[key] = dataclasses.make_dataclass(
            kind.__name__, declared, frozen=True, namespace={"__qualname__": kind.__qualname__}
        )
    return GENERATED[key]


def twin(record: Any) -> Any:
    """``record`` as an instance of ``generated(type(record))``, field for field."""
    values = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    return generated(type(record))(**values)


def outcome(function: Any, value: Any) -> tuple[str, Any]:
    """What ``function(value)`` returns, or the type of what it raises."""
    try:
        return "returns", function(value)
    except Exception as error:
        return "raises", type(error)


def test_no_primitive_generates_its_own() -> None:
    """Control: the primitives use Primitive's methods, the twins their generated ones."""
    for kind in (P.Conv, P.Linear, P.Add):
        for method in ("__eq__", "__hash__", "__repr__"):
            assert method not in vars(kind), (kind, method)
            assert method in vars(generated(kind)), (kind, method)


@given(OPS, OPS)
def test_equality_hash_and_repr_are_the_dataclass_ones(op: P.Primitive, other: P.Primitive) -> None:
    mine, theirs = twin(op), twin(other)
    assert repr(op) == repr(mine)
    assert outcome(hash, op) == outcome(hash, mine)
    assert (op == other) == (mine == theirs)
    assert (op != other) == (mine != theirs)
    assert op == dataclasses.replace(op)
    assert op.__eq__(mine) is NotImplemented  # another class: as a dataclass says


def records() -> list[Any]:
    """One or more instances of every Record class a run makes (and of the device's)."""
    import convcalc
    from convcalc.api import conv_spec
    from convcalc.cli.options import Common
    from convcalc.cli.run import Plan
    from convcalc.core.count.roofline import CacheLevel, load_hardware
    from convcalc.core.documents.catalogue import CATALOGUE
    from convcalc.core.documents.checks import Check, LayerMeasurement, Measurement
    from convcalc.core.documents.report import Report
    from convcalc.core.nets.registry import network_entry
    from convcalc.pipeline import ModelTarget, Request, run

    design = convcalc.separable(8, 16, input=8)
    request = Request(design, verify=False, limits={"macs": 1})
    result = run(request)
    report = result.report
    assert isinstance(report, Report)
    assert report.baseline is not None
    figures = report.figures
    sweep = convcalc.sweep("mobilenet_v1", [0.5], [32])
    hardware = load_hardware("h100-sxm")
    layer = LayerMeasurement("conv", (1, 8, 6, 6), 80, 2880)
    found = [
        design,
        design.network,
        *design.network.nodes,
        request,
        result,
        report,
        report.baseline,
        report.baseline.theory,
        figures,
        figures.totals,
        *figures.layers,
        figures.totals.field,
        *result.verdicts,
        *(CATALOGUE[name] for name in CATALOGUE.names),
        network_entry("resnet"),
        convcalc.compare(4, 8, input=8),
        sweep,
        run(Request(sweep, verify=False)).report,
        conv_spec(4, 8),
        ModelTarget("torchvision:resnet18"),
        Common(),
        Plan(request, Common()),
        hardware,
        hardware.roof("bfloat16"),
        CacheLevel("L2", 2**20, 1e12),
        layer,
        Measurement("cpu", 1, 1, (1,), 1, 1, 4, 4, 4, 8, (layer,)),
        Check("params", 1, 2),
        run(Request(convcalc.compare(4, 8, input=8), verify=False)).report,
    ]
    reads = [f.reads for f in (layer.field for layer in figures.layers) if f.reads]
    return found + [r for group in reads for r in group]


def test_every_record_class_is_checked() -> None:
    """Control: records() holds an instance of every Record class of the library."""
    from convcalc.core.count.figures import Counts  # a base only: its subclasses are made
    from convcalc.core.ops.primitives import Primitive
    from convcalc.core.values.record import Record

    def below(kind: type[Any]) -> set[type[Any]]:
        return {kind} | {c for sub in kind.__subclasses__() for c in below(sub)}

    made = {type(record) for record in records()}
    kinds = {k for k in below(Record) - {Record, Counts} if k.__module__.startswith("convcalc")
             and not issubclass(k, Primitive)}  # fmt: skip
    assert len(kinds) > 25  # control: the walk finds them
    assert kinds - made == set()


def test_the_records_methods_are_the_dataclass_ones() -> None:
    found = records()
    for record in found:
        mine = twin(record)
        if "__repr__" not in vars(type(record)):  # Report & co. write their own
            assert repr(record) == repr(mine), type(record)
        assert outcome(hash, record) == outcome(hash, mine), type(record)
        assert record == dataclasses.replace(record), type(record)
        assert record.__eq__(mine) is NotImplemented
    for record, other in itertools.pairwise(found):
        assert (record == other) == (twin(record) == twin(other)), (type(record), type(other))
