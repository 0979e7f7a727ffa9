"""Every primitive's __eq__, __hash__ and __repr__ (written once on Primitive, start-up)
do what the dataclass-generated ones did: checked against a dataclass of the same class."""

from __future__ import annotations

import dataclasses
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


def generated(kind: type[P.Primitive]) -> type[Any]:
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


def twin(op: P.Primitive) -> Any:
    """``op`` as an instance of ``generated(type(op))``, field for field."""
    values = {f.name: getattr(op, f.name) for f in dataclasses.fields(op)}
    return generated(type(op))(**values)


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
