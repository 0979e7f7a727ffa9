"""One ``__eq__``, ``__hash__`` and ``__repr__`` for convcalc's frozen dataclasses.

A dataclass generates these three for each class, and Python 3.11 compiles each
generated method separately when the class is made, at import: with some forty
records on every command line, that was a third of a ``--no-verify`` run's own
time (start-up, SPEC "Performance"). A record declared
``@dataclass(frozen=True, eq=False, repr=False)`` on ``Record`` takes these three
instead, which do what the generated ones do:

- ``==``: equal when ``other`` is of the very same class and the compared fields
  (``field(compare=...)``) are equal, in order; ``NotImplemented`` otherwise;
- ``hash``: the hash of the tuple of the hashed fields (the compared ones, unless
  ``field(hash=...)`` says otherwise), so it raises where a field is unhashable;
- ``repr``: ``Name(field=value, ...)`` over the shown fields (``field(repr=...)``).

Frozen-ness (``__setattr__``, ``__delattr__``) and ``__init__`` stay the
dataclass's own. A class that writes its own ``__repr__`` keeps it.
"""

from __future__ import annotations

from dataclasses import Field, fields
from typing import Any, ClassVar


class Record:
    """Base of the frozen dataclasses: their ``__eq__``, ``__hash__`` and ``__repr__``."""

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]  # set by @dataclass on each record

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return _compared(self) == _compared(other)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, f.name) for f in fields(self)
                          if (f.compare if f.hash is None else f.hash)))  # fmt: skip

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr)
        return f"{self.__class__.__qualname__}({shown})"


def _compared(record: Record) -> tuple[Any, ...]:
    """The fields a dataclass's ``__eq__`` compares, in order."""
    return tuple(getattr(record, f.name) for f in fields(record) if f.compare)
