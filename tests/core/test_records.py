"""A Record (core.values.record) is the frozen dataclass it declares, with no code compiled
at import (start-up): its __init__, __eq__, __hash__, __repr__ and frozen-ness each checked
against a plain ``@dataclass(frozen=True)`` of the same name and fields, on every
primitive, on the records a run makes, and on records written here for the rules a
dataclass has (defaults, factories, keyword-only and init=False fields, __post_init__,
inheritance)."""

from __future__ import annotations

import dataclasses
import itertools
import typing
from dataclasses import KW_ONLY
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcalc.core.ops import primitives as P  # noqa: N812
from convcalc.core.values.record import Record
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


NETWORKS = ("resnet", "mobilenet_v2", "mobilenet_v3_large")  # one spec class each


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
        *(
            network_entry(name).default_spec()
            for name in ("resnet", "mobilenet_v2", "mobilenet_v3_large")
        ),
    ]
    reads = [f.reads for f in (layer.field for layer in figures.layers) if f.reads]
    return found + [r for group in reads for r in group] + more_records()


def more_records() -> list[Any]:
    """The analytic path's records that the run above does not make: a tool's count, the
    backward pass, a timing, a diff, a configuration, a command line's outcome."""
    import json
    import tempfile
    from pathlib import Path

    import convcalc
    from convcalc.cli.dispatch import run as run_line
    from convcalc.core.count.timing import Timing, TimingOptions, timed
    from convcalc.core.documents.config import load
    from convcalc.core.documents.diff import diff_files
    from convcalc.core.documents.report import Report
    from convcalc.pipeline import Request, run

    result = run(Request(convcalc.conv(4, 8, input=8), verify=False, convention="ptflops",
                         backward=True))  # fmt: skip
    report = result.report
    assert isinstance(report, Report)
    timing = Timing("cpu", "wall clock", 1, 0, 1, 1e-3 * len(report.layers),
                    tuple((x.name, 1e-3) for x in report.layers))  # fmt: skip
    found_timed = timed(report.figures, timing)
    outcome = run_line(["conv", "--cin", "4", "--cout", "9", "-i", "8", "--format", "json",
                        "--no-verify"])  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        old, new = Path(folder, "old.json"), Path(folder, "new.json")
        old.write_text(json.dumps(report.to_dict()), encoding="utf-8")
        new.write_text(json.dumps(outcome.document), encoding="utf-8")
        found_diff = diff_files(old, new, "1%")
        config_path = Path(folder, "convcalc.toml")
        config_path.write_text('[budgets.seed]\ncommand = "conv --cin 4 --cout 8"\nmax-macs = 10\n')
        config = load(config_path)
    return [
        *result.conventions,
        result.conventions[0].convention,
        *result.conventions[0].layers,
        *result.backward,
        *result.backward[0].layers,
        TimingOptions(),
        timing,
        found_timed,
        *found_timed.calls,
        outcome,
        found_diff,
        *found_diff.changes,
        config,
        *config.entries,
    ]


# The analytic path's modules, whose records a run without torch makes; the others'
# (torch's trace, the device probe, the plot) are held to the dataclass by signature below.
ANALYTIC = ("convcalc.core", "convcalc.pipeline", "convcalc.cli", "convcalc.api")


def library_modules() -> list[str]:
    """Every module of the library, by name."""
    import pkgutil

    import convcalc

    return [m.name for m in pkgutil.walk_packages(convcalc.__path__, "convcalc.")]


def analytic_modules() -> None:
    """Import every module of the analytic path (whatever other tests imported before)."""
    import importlib

    for name in library_modules():
        if name.startswith(ANALYTIC):
            importlib.import_module(name)


def test_every_record_class_is_checked() -> None:
    """Control: records() holds an instance of every Record class of the library."""
    from convcalc.core.count.figures import Counts  # a base only: its subclasses are made
    from convcalc.core.ops.primitives import Primitive

    def below(kind: type[Any]) -> set[type[Any]]:
        return {kind} | {c for sub in kind.__subclasses__() for c in below(sub)}

    analytic_modules()
    made = {type(record) for record in records()}
    kinds = {k for k in below(Record) - {Record, Counts} if k.__module__.startswith(ANALYTIC)
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


def test_every_frozen_dataclass_of_the_library_is_a_record() -> None:
    """A frozen class declared with ``@dataclass(frozen=True)`` compiles its methods at
    import; the library declares each as a Record (mutable dataclasses excepted)."""
    import importlib
    import inspect

    checked = 0
    for name in library_modules():
        module = importlib.import_module(name)
        for _, kind in inspect.getmembers(module, inspect.isclass):
            params = getattr(kind, "__dataclass_params__", None)
            if kind.__module__ != name or params is None:
                continue
            checked += 1
            assert issubclass(kind, Record) or not params.frozen, kind
    assert checked > 80  # control: the walk reaches them


# What a default factory's field shows as its default: dataclasses', the binding's.
FACTORY_SENTINELS = ("_HAS_DEFAULT_FACTORY_CLASS", "_FactoryDefault")


def signature(init: Any) -> list[tuple[str, Any, Any]]:
    """Each parameter's name, kind and plain default (a factory's sentinel as "factory")."""
    import inspect

    def default(value: Any) -> Any:
        return "factory" if type(value).__name__ in FACTORY_SENTINELS \
            else value  # fmt: skip

    return [
        (p.name, p.kind, default(p.default)) for p in inspect.signature(init).parameters.values()
    ]


def declared_twin(kind: type[Any]) -> type[Any]:
    """``@dataclass(frozen=True)`` over ``kind``'s fields as declared (defaults, factories,
    init, kw_only, repr, compare, hash) and its ``__post_init__``."""
    declared = []
    for f in dataclasses.fields(kind):
        options: dict[str, Any] = {"init": f.init, "kw_only": f.kw_only, "repr": f.repr,
                                   "compare": f.compare, "hash": f.hash}  # fmt: skip
        if f.default is not dataclasses.MISSING:
            options["default"] = f.default
        if f.default_factory is not dataclasses.MISSING:
            options["default_factory"] = f.default_factory
        declared.append((f.name, f.type, dataclasses.field(**options)))
    namespace = {"__post_init__": kind.__post_init__} if hasattr(kind, "__post_init__") else {}
    return dataclasses.make_dataclass(kind.__name__, declared, frozen=True, namespace=namespace)


def bound_signature(kind: type[Any]) -> list[tuple[str, Any, Any]]:
    """The parameters ``kind``'s binding takes, as ``signature`` lists them."""
    import inspect

    from convcalc.core.values.record import _DEFAULT, _FACTORY_MADE, _Binding

    bind = _Binding(kind)
    given = [
        (name, fill, default) for name, _, fill, default in bind.steps if name in bind.accepted
    ]
    positional = [g for g in given if g[0] in bind.positional]
    keyword = [g for g in given if g[0] not in bind.positional]
    empty = inspect.Parameter.empty
    kinds = [inspect.Parameter.POSITIONAL_OR_KEYWORD] * len(positional) + [
        inspect.Parameter.KEYWORD_ONLY
    ] * len(keyword)
    return [("self", inspect.Parameter.POSITIONAL_OR_KEYWORD, empty)] + [
        (
            name,
            kind_,
            default if fill == _DEFAULT else "factory" if fill == _FACTORY_MADE else empty,
        )
        for (name, fill, default), kind_ in zip(positional + keyword, kinds, strict=True)
    ]


def test_every_record_takes_the_arguments_its_dataclass_would() -> None:
    """Every Record class of the library (torch's and the plot's included) binds the
    very parameters of the dataclass it declares: names, order, keyword-only, defaults."""
    import importlib

    for name in library_modules():
        importlib.import_module(name)

    def below(kind: type[Any]) -> set[type[Any]]:
        return {kind} | {c for sub in kind.__subclasses__() for c in below(sub)}

    kinds = [k for k in below(Record) - {Record} if k.__module__.startswith("convcalc.")]
    assert len(kinds) > 80  # control
    for kind in kinds:
        assert bound_signature(kind) == signature(declared_twin(kind).__init__), kind
        # what inspect.signature(), help() and hypothesis' builds() read
        assert signature(kind) == signature(declared_twin(kind)), kind
    assert bound_signature(Plain) == signature(declared_twin(Plain).__init__)  # kw-only too
    assert signature(Plain) == signature(declared_twin(Plain))


# Records written for the rules: every way a field can be declared.
class Plain(Record):
    a: int
    b: str = "b"
    c: list[int] = dataclasses.field(default_factory=list, compare=False)
    d: int = dataclasses.field(default=4, init=False)
    e: list[int] = dataclasses.field(default_factory=lambda: [5], init=False, repr=False)
    f: int = dataclasses.field(default=6, kw_only=True, hash=False)


class Checked(Plain):
    g: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.a < 0:
            raise ValueError("a below 0")
        object.__setattr__(self, "g", (*self.g, self.a))


class Single(Record):
    only: int


class Empty(Record):
    pass


CALLS: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    ((1,), {}),
    ((1, "x"), {}),
    ((1, "x", [2]), {"f": 7}),
    ((), {"a": 1, "c": [3]}),
    ((), {}),  # a missing
    ((1, "x", [2], 9), {}),  # too many
    ((1,), {"a": 2}),  # a twice
    ((1,), {"d": 2}),  # init=False
    ((1,), {"zz": 2}),  # unknown
    ((-1,), {}),  # __post_init__ refuses
]


@pytest.mark.parametrize("kind", [Plain, Checked, Single, Empty])
@pytest.mark.parametrize(("args", "kwargs"), CALLS)
def test_a_record_is_made_as_its_dataclass_would_be(
    kind: type[Any], args: Any, kwargs: Any
) -> None:
    mine = outcome(lambda k: k(*args, **kwargs), kind)
    theirs = outcome(lambda k: k(*args, **kwargs), declared_twin(kind))
    assert mine[0] == theirs[0], (mine, theirs)
    if mine[0] == "raises":
        assert mine[1] is theirs[1]
        return
    record, expected = mine[1], theirs[1]
    assert vars(record) == vars(expected)
    assert list(vars(record)) == list(vars(expected))  # set in the same order
    assert repr(record) == repr(expected).replace(f"{kind.__name__}(", f"{kind.__qualname__}(", 1)
    assert outcome(hash, record) == outcome(hash, expected)
    assert record == kind(*args, **kwargs)


class Marked(Record):
    """Fields around the annotations that make none, and keyword-only ones."""

    kind: ClassVar[str] = "marked"
    count: typing.ClassVar[int] = 0
    a: int
    b: tuple[int, ...] = ()
    _: KW_ONLY
    c: str | None = None


@dataclasses.dataclass(frozen=True)
class MarkedTwin:
    """Fields around the annotations that make none, and keyword-only ones."""

    kind: ClassVar[str] = "marked"
    count: typing.ClassVar[int] = 0
    a: int
    b: tuple[int, ...] = ()
    _: KW_ONLY
    c: str | None = None


class Undocumented(Record):
    a: int
    b: str = "b"


@dataclasses.dataclass(frozen=True)
class UndocumentedTwin:
    a: int
    b: str = "b"


def described(kind: type[Any]) -> list[tuple[Any, ...]]:
    """Each field as dataclasses describes it (its annotation's text as the type)."""
    return [(f.name, f.type, f.default, f.init, f.kw_only, f.repr, f.compare, f.hash)
            for f in dataclasses.fields(kind)]  # fmt: skip


def test_fields_are_read_from_the_annotations_as_a_dataclass_reads_them() -> None:
    """ClassVar (by either spelling) is no field, KW_ONLY marks the fields after it, and
    each field's type is its annotation's string, as @dataclass makes them; the class's
    annotations are left as written."""
    assert described(Marked) == described(MarkedTwin)
    assert [f.name for f in dataclasses.fields(Marked)] == ["a", "b", "c"]  # control
    assert Marked.__annotations__ == MarkedTwin.__annotations__
    assert Marked.kind == "marked"
    assert Marked(1, c="x") == Marked(1, (), c="x")
    with pytest.raises(TypeError):
        Marked(1, (), "x")  # type: ignore[call-arg]  # c is keyword-only


def test_a_record_without_a_docstring_gets_the_dataclass_one() -> None:
    assert UndocumentedTwin.__doc__ == "UndocumentedTwin(a: 'int', b: 'str' = 'b')"  # control
    assert Undocumented.__doc__ == "Undocumented(a: 'int', b: 'str' = 'b')"


class Keyed(Record):
    a: int
    b: str = "b"
    c: tuple[int, ...] = ()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"a": 1, "b": "x", "c": (2,)},  # every field, in the order declared
        {"c": (2,), "a": 1, "b": "x"},  # every field, in another order
        {"a": 1, "c": (2,)},
        {"a": 1, "b": "x", "c": (2,), "d": 4},  # one too many
        {"b": "x", "c": (2,)},  # a missing
    ],
)
def test_a_record_made_by_keyword_is_made_as_its_dataclass_would_be(
    kwargs: dict[str, Any],
) -> None:
    mine = outcome(lambda k: k(**kwargs), Keyed)
    theirs = outcome(lambda k: k(**kwargs), declared_twin(Keyed))
    assert mine[0] == theirs[0], (mine, theirs)
    if mine[0] == "raises":
        assert mine[1] is theirs[1]
        return
    assert vars(mine[1]) == vars(theirs[1])
    assert list(vars(mine[1])) == list(vars(theirs[1]))  # set in the order declared


def test_a_factory_makes_a_new_value_for_each_record() -> None:
    first, second = Plain(1), Plain(1)
    assert first.c == second.c == []
    assert first.c is not second.c
    assert first.e == [5]
    assert first.e is not second.e


@pytest.mark.parametrize("record", [Plain(1), Checked(1), Single(1), Empty()])
def test_a_record_is_frozen(record: Any) -> None:
    for name in ("a", "only", "new"):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, name, 1)
        with pytest.raises(dataclasses.FrozenInstanceError):
            delattr(record, name)


def test_a_field_without_a_default_after_one_with_is_refused_when_declared() -> None:

    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):

        class _Wrong(Record):
            a: int = 1
            b: int  # type: ignore[misc]  # (mypy refuses it too)


def test_a_record_compiles_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither declaring a record nor making it compiles code; a dataclass compiles its
    methods when declared."""
    import builtins

    compiled: list[str] = []
    real = builtins.exec

    def counting(source: Any, *args: Any) -> None:
        compiled.append(str(source))
        real(source, *args)

    monkeypatch.setattr(builtins, "exec", counting)

    class Point(Record):
        x: int
        y: int = 0

    points = [Point(n) for n in range(200)] + [Point(n, y=1) for n in range(200)]
    assert points[3] == Point(3, 0)
    assert points[203] == Point(x=3, y=1)
    assert compiled == []

    @dataclasses.dataclass(frozen=True)
    class Control:  # control: a dataclass compiles when declared
        x: int

    assert compiled
