"""``Record``: the base of convcalc's frozen value classes, a dataclass that compiles nothing.

A ``@dataclass(frozen=True)`` compiles up to five methods (``__init__``,
``__setattr__``, ``__delattr__``, ``__eq__``, ``__hash__``) when its class is made,
each through ``exec``: about 0.4 ms a class, and a ``--no-verify`` command line
imports some forty of them before it computes anything (start-up, SPEC
"Performance"). ``class Name(Record):`` declares the same frozen dataclass (type
checkers read it as one: ``dataclass_transform``) with no code compiled, ever:

- the fields are a dataclass's own (``dataclasses.fields``, ``replace``, ``asdict``
  and ``field(compare=..., hash=..., repr=..., default_factory=...)`` all work);
- ``__init__`` does what a dataclass's does (defaults, factories, keyword-only
  fields, ``__post_init__``, the ``TypeError`` of arguments that do not bind): one
  binding by a table of the fields, made on the class's first instance, which costs
  no more per instance than a compiled ``__init__`` (less, by keyword);
  ``inspect.signature``, ``help()`` and hypothesis' ``builds()`` see the fields as
  its parameters;
- ``==``: equal when ``other`` is of the very same class and the compared fields are
  equal, in order; ``NotImplemented`` otherwise;
- ``hash``: the hash of the tuple of the hashed fields (the compared ones, unless
  ``field(hash=...)`` says otherwise), so it raises where a field is unhashable;
- ``repr``: ``Name(field=value, ...)`` over the shown fields, unless the class
  writes its own;
- assigning or deleting an attribute raises ``FrozenInstanceError``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import KW_ONLY, MISSING, Field, FrozenInstanceError, dataclass, field, fields
from operator import attrgetter
from typing import Any, ClassVar

if sys.version_info >= (3, 11):
    from typing import dataclass_transform
else:  # pragma: no cover - Python 3.10
    from typing_extensions import dataclass_transform


class _FieldsSignature:
    """A record class's signature, read from its fields: its ``__init__`` takes
    ``*args, **kwargs`` and binds them by the fields (``_Binding``)."""

    def __get__(self, instance: object, owner: type) -> Any:
        if instance is not None or not getattr(
            getattr(owner, "__init__", None), "binds_fields", False
        ):
            return None  # an instance, or a class with an __init__ of its own: inspect's rules
        import inspect

        keyword = inspect.Parameter.KEYWORD_ONLY
        return inspect.Signature(
            [
                inspect.Parameter(
                    f.name,
                    keyword if f.kw_only else inspect.Parameter.POSITIONAL_OR_KEYWORD,
                    default=(
                        f.default
                        if f.default is not MISSING
                        else _FACTORY_DEFAULT
                        if f.default_factory is not MISSING
                        else inspect.Parameter.empty
                    ),
                    annotation=f.type,
                )
                for f in fields(owner)
                if f.init
            ]
        )


class _FactoryDefault:
    """What a field with a default factory shows as its default (as a dataclass's)."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY_DEFAULT = _FactoryDefault()


@dataclass_transform(frozen_default=True, field_specifiers=(field, Field))
class Record:
    """Base of the frozen value classes: a frozen dataclass, with no code compiled at import."""

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]  # set by dataclass() on each record
    _compared: ClassVar[Callable[[Any], tuple[Any, ...]]]
    _hashed: ClassVar[Callable[[Any], tuple[Any, ...]]]
    _shown: ClassVar[tuple[str, ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" not in cls.__dict__:  # first: dataclass() reads it for a docstring
            cls.__init__ = _first_init(cls)  # type: ignore[method-assign]
        _collect_fields(cls)
        own = fields(cls)
        _check_order(own)
        cls._compared = staticmethod(_getter([f.name for f in own if f.compare]))
        cls._hashed = staticmethod(
            _getter([f.name for f in own if (f.compare if f.hash is None else f.hash)])
        )
        cls._shown = tuple(f.name for f in own if f.repr)

    # inspect.signature(SomeRecord), help() and hypothesis' builds(): the parameters the
    # dataclass's __init__ would take, made when asked
    __signature__: ClassVar[Any] = _FieldsSignature()

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        compared = self.__class__._compared
        return compared(self) == compared(other)

    def __hash__(self) -> int:
        return hash(self.__class__._hashed(self))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._shown)
        return f"{self.__class__.__qualname__}({shown})"


class _Annotation:
    """A field's annotation as ``dataclass()`` sees it while it collects the fields: not a
    string, so that it does not match each one against ``ClassVar``, ``InitVar`` and
    ``KW_ONLY`` by regular expression (three matches a field, most of a record class's
    cost); its repr is the string's, for the docstring ``dataclass()`` writes."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return repr(self.text)


# An annotation's head (before ``[``) that makes it no field, or the keyword-only marker.
_CLASS_VARIABLES = frozenset({"ClassVar", "typing.ClassVar"})
_KEYWORD_ONLY = frozenset({"KW_ONLY", "dataclasses.KW_ONLY"})
_INIT_ONLY = frozenset({"InitVar", "dataclasses.InitVar"})


def _collect_fields(cls: type) -> None:
    """``dataclass(init=False, eq=False, repr=False)(cls)``: the fields collected and no
    code compiled. The class's own string annotations (``from __future__ import
    annotations``) are read here: a ``ClassVar`` is no field, ``KW_ONLY`` marks the
    keyword-only ones, an ``InitVar`` is left to ``dataclass()``, every other is a field
    whose ``type`` is its string, as ``dataclass()`` would make it."""
    # what dataclass() reads (inspect.get_annotations would import inspect: start-up)
    written = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
    seen: dict[str, Any] = {}
    for name, annotation in written.items():
        if type(annotation) is not str:
            seen[name] = annotation
            continue
        head = annotation.partition("[")[0].strip()
        if head in _KEYWORD_ONLY:
            seen[name] = KW_ONLY
        elif head in _INIT_ONLY:
            seen[name] = annotation  # dataclass()'s own reading
        elif head not in _CLASS_VARIABLES:
            seen[name] = _Annotation(annotation)
    cls.__annotations__ = seen
    try:
        dataclass(init=False, eq=False, repr=False)(cls)
    finally:
        cls.__annotations__ = written
    for f in cls.__dict__["__dataclass_fields__"].values():
        if type(f.type) is _Annotation:
            f.type = f.type.text


def _getter(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    """The named attributes of a record as a tuple (``attrgetter``'s, in C)."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        get = attrgetter(names[0])
        return lambda record: (get(record),)
    return lambda _record: ()


def _check_order(own: tuple[Field[Any], ...]) -> None:
    """A dataclass's own rule, at class creation: no positional field without a default
    after one with a default."""
    defaulted = None
    for f in own:
        if not f.init or f.kw_only:
            continue
        if f.default is not MISSING or f.default_factory is not MISSING:
            defaulted = f.name
        elif defaulted is not None:
            raise TypeError(f"non-default argument {f.name!r} follows default argument")


def _first_init(cls: type) -> Callable[..., None]:
    """The class's ``__init__``: its ``_Binding``, made on its first instance."""
    bind: _Binding | None = None

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal bind
        if bind is None:
            bind = _Binding(cls)
        bind(self, args, kwargs)

    init.__name__, init.__qualname__ = "__init__", f"{cls.__qualname__}.__init__"
    init.binds_fields = True  # type: ignore[attr-defined]
    return init


# How ``_Binding`` fills a field the arguments do not give.
_REQUIRED, _DEFAULT, _FACTORY_MADE, _CLASS_DEFAULT = range(4)


class _Binding:
    """What a dataclass's ``__init__`` does, without compiling one: the arguments bound
    to the fields (the ``TypeError`` Python raises where they do not bind), defaults and
    factories filled in, each field set in order, then ``__post_init__``."""

    def __init__(self, cls: type) -> None:
        own = fields(cls)
        self.name = f"{cls.__qualname__}.__init__()"
        self.positional = tuple(f.name for f in own if f.init and not f.kw_only)
        self.accepted = frozenset(f.name for f in own if f.init)
        # each field: its name, its place among the positional arguments (past them all
        # when it takes none), and how it is filled when no argument gives it
        beyond = len(own)
        self.steps = tuple(
            (f.name, self.positional.index(f.name) if f.name in self.positional else beyond,
             *_fill(f))
            for f in own
        )  # fmt: skip
        self.post_init = hasattr(cls, "__post_init__")
        self.plain = len(self.positional) == len(self.steps)  # all fields positional
        # every field by keyword in the order declared (none init=False): set as given
        self.in_order = tuple(f.name for f in own) if len(self.accepted) == len(own) else ()

    def __call__(self, record: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        given = len(args)
        if self.plain and not kwargs and given == len(self.steps):  # every field, in order
            record.__dict__.update(zip(self.positional, args, strict=True))
            if self.post_init:
                record.__post_init__()
            return
        if not given and kwargs and tuple(kwargs) == self.in_order:  # every field, by name
            record.__dict__.update(kwargs)
            if self.post_init:
                record.__post_init__()
            return
        if given > len(self.positional):
            raise TypeError(
                f"{self.name} takes {len(self.positional) + 1} positional arguments but "
                f"{given + 1} were given"
            )
        if kwargs:
            if not self.accepted.issuperset(kwargs):
                unknown = next(name for name in kwargs if name not in self.accepted)
                raise TypeError(f"{self.name} got an unexpected keyword argument {unknown!r}")
            for name in self.positional[:given]:
                if name in kwargs:
                    raise TypeError(f"{self.name} got multiple values for argument {name!r}")
        state = record.__dict__  # what object.__setattr__ sets: a record has no slots
        for name, place, fill, default in self.steps:
            if place < given:
                state[name] = args[place]
            elif name in kwargs:  # (an init=False field is never among them: refused above)
                state[name] = kwargs[name]
            elif fill == _DEFAULT:
                state[name] = default
            elif fill == _FACTORY_MADE:
                state[name] = default()
            elif fill == _REQUIRED:
                raise TypeError(f"{self.name} missing a required argument: {name!r}")
            # _CLASS_DEFAULT: init=False with a plain default stays the class's, as a
            # dataclass leaves it
        if self.post_init:
            record.__post_init__()


def _fill(f: Field[Any]) -> tuple[int, Any]:
    """How a field the arguments do not give is filled, and with what."""
    if f.default_factory is not MISSING:
        return _FACTORY_MADE, f.default_factory
    if f.default is not MISSING:
        return (_DEFAULT if f.init else _CLASS_DEFAULT), f.default
    return (_REQUIRED if f.init else _CLASS_DEFAULT), None
