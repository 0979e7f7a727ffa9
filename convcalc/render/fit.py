"""Tables that never cut a number: too narrow a terminal drops columns, then stacks rows.

Rich shrinks a table that is wider than the console by cutting cells
(``10… M``). ``Fit`` wraps a table and, at render time, when the table would not
fit: gives every column the width of its longest number (a number never
breaks; prose wraps between words), drops the least important columns in a
stated order until that fits, and names the dropped columns in a caption. When
even the most important columns cannot fit, it stacks each row as
``header: value`` lines. A table that fits is printed exactly as built.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Iterable, Sequence

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Column, Table
from rich.text import Text

# A cell is a number when each of its words holds a digit or is a unit or joiner:
# ``568.7 M``, ``1 x 8 x 222 x 222``, ``3x3 / 1x1``, ``32 -> 64``, ``224x224 global``.
_JOINERS = {"x", "/", "->", "-", "K", "M", "G", "T", "B", "KB", "MB", "GB", "TB", "global"}
_NUMBER = re.compile(r"[-+]?[0-9][0-9.,x]*(?:e[-+][0-9]+)?[%x]?")


def is_number(text: str) -> bool:
    """Whether a cell's text is a number (or shape) that must never be broken."""
    words = text.split()
    return bool(words) and all(_NUMBER.fullmatch(w) or w in _JOINERS for w in words)


def _text(cell: object) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def _longest_word(text: str) -> int:
    return max((cell_len(w) for w in text.split()), default=0)


@dataclasses.dataclass(frozen=True)
class _Needs:
    rigid: int  # narrowest width that breaks no number and no word
    natural: int  # widest cell: the width that wraps nothing


def _needs(column: Column, keep_whole: bool) -> _Needs:
    texts = [_text(c) for c in column.cells]
    rigid = _longest_word(_text(column.header))
    natural = cell_len(_text(column.header))
    for text in texts:
        lines = text.splitlines() or [""]
        widest = max(cell_len(line) for line in lines)
        natural = max(natural, widest)
        rigid = max(rigid, widest if keep_whole or is_number(text) else _longest_word(text))
    return _Needs(max(rigid, 1), max(natural, 1))


class Fit:
    """A Rich table that drops columns (``drop``, first dropped first) rather than cut a number.

    ``whole``: headers of columns whose cells never wrap (bars, marks).
    """

    def __init__(self, table: Table, drop: Sequence[str] = (), whole: Iterable[str] = ()) -> None:
        self.table = table
        self.drop = list(drop)
        self.whole = set(whole)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.table)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        columns = self.table.columns
        natural = sum(_needs(c, True).natural for c in columns) + _overhead(len(columns))
        if natural <= width:
            yield self.table
            return
        fitted = fit(self.table, width, self.drop, self.whole)
        yield fitted if fitted is not None else stack(self.table)


def _overhead(count: int) -> int:
    return 3 * count + 1  # one padding cell either side of each column, and a rule between


def fit(table: Table, width: int, drop: Sequence[str], whole: set[str]) -> Table | None:
    """The table with explicit column widths that fit ``width``, or None if nothing can fit."""
    columns = list(table.columns)
    needs = {id(c): _needs(c, _text(c.header) in whole) for c in columns}
    dropped: list[str] = []
    order = [name for name in drop if any(_text(c.header) == name for c in columns)]

    def total(cols: list[Column]) -> int:
        return sum(needs[id(c)].rigid for c in cols) + _overhead(len(cols))

    while total(columns) > width and order:
        name = order.pop(0)
        columns = [c for c in columns if _text(c.header) != name]
        dropped.append(name)
    if total(columns) > width:
        return None
    widths = [needs[id(c)].rigid for c in columns]
    spare = width - total(columns)
    # Water-fill the spare width: each cell to the column furthest from its natural width.
    while spare > 0:
        deficits = [needs[id(c)].natural - w for c, w in zip(columns, widths, strict=True)]
        most = max(range(len(columns)), key=lambda i: deficits[i])
        if deficits[most] <= 0:
            break
        widths[most] += 1
        spare -= 1
    fitted = copy.copy(table)
    fitted.columns = [
        dataclasses.replace(c, width=w, min_width=None, max_width=None, overflow="fold")
        for c, w in zip(columns, widths, strict=True)
    ]
    for index, column in enumerate(fitted.columns):
        column._index = index
    if dropped and table.caption is None:
        fitted.caption = (
            f"columns left out to fit {width} columns: {', '.join(dropped)} "
            "(all of them: a wider terminal, COLUMNS=200, or --format json/csv)"
        )
        fitted.caption_justify = "left"
    return fitted


def stack(table: Table) -> Text:
    """Every row as ``header: value`` lines, for a console too narrow for any table."""
    lines: list[str] = []
    if table.title is not None:
        lines.append(_text(table.title))
    rows = len(table.rows)
    for index in range(rows):
        lines.append("")
        for column in table.columns:
            cells = list(column.cells)
            value = _text(cells[index]) if index < len(cells) else ""
            if value:
                lines.append(f"{_text(column.header)}: {value}")
    return Text("\n".join(lines) + "\n")
