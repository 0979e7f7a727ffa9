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
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.table import Column, Table
from rich.text import Text

from convcalc.core.values.record import Record

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


class _Needs(Record):
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

    ``whole``: headers of columns whose cells never wrap (bars, marks). ``below``: a
    column of prose (a formula) that, when the table does not fit, goes on its own
    lines under each row rather than into a narrow column. ``narrow``: what to show
    instead when even the fitted table would break words (a transposed layout).
    No line ends with a space (Rich pads titles and wrapped lines).
    """

    def __init__(
        self,
        table: Table,
        drop: Sequence[str] = (),
        whole: Iterable[str] = (),
        *,
        below: str | None = None,
        narrow: RenderableType | None = None,
    ) -> None:
        self.table = table
        self.drop = list(drop)
        self.whole = set(whole)
        self.below = below
        self.narrow = narrow

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.table)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from trimmed(console, options, self.layout(console, options.max_width))

    def layout(self, console: Console, width: int) -> RenderableType:
        """The table as built when it fits ``width``; else the narrow form that reads best."""
        columns = self.table.columns
        natural = sum(_needs(c, True).natural for c in columns) + _overhead(len(columns))
        if natural <= width:
            return self.table
        if self.narrow is not None and fit(self.table, width, (), self.whole) is None:
            return self.narrow
        if self.below is not None:
            lines = details_below(console, self.table, self.below, width, self.drop, self.whole)
            if lines is not None:
                return lines
        fitted = fit(self.table, width, self.drop, self.whole)
        return fitted if fitted is not None else stack(self.table)


class Split:
    """A table too wide to fit as several tables: each repeats the first ``keep`` columns
    beside as many of the others as fit with every word whole (the title over the
    first). Where that takes more than ``most`` tables, ``narrow`` instead."""

    def __init__(
        self, table: Table, narrow: RenderableType, *, keep: int = 1, most: int = 2
    ) -> None:
        self.table = table
        self.narrow = narrow
        self.keep = keep
        self.most = most

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        head, rest = self.table.columns[: self.keep], self.table.columns[self.keep :]
        groups: list[list[Column]] = [[]]
        for column in rest:
            if (
                groups[-1]
                and fit(self._part(head + groups[-1] + [column]), width, (), set()) is None
            ):
                groups.append([])
            groups[-1].append(column)
        if len(groups) > self.most:
            yield self.narrow
            return
        for index, group in enumerate(groups):
            part = self._part(head + group)
            if index:
                part.title = None
            yield Fit(part)

    def _part(self, columns: list[Column]) -> Table:
        part = copy.copy(self.table)
        part.columns = [dataclasses.replace(c) for c in columns]
        for index, column in enumerate(part.columns):
            column._index = index
        return part


def trimmed(console: Console, options: ConsoleOptions, renderable: RenderableType) -> RenderResult:
    """The renderable's lines with their trailing blanks cut (Rich pads a title to the
    table's width and leaves a space where it wraps a line)."""
    for line in console.render_lines(renderable, options, pad=False, new_lines=False):
        while line and not line[-1].control and not line[-1].text.rstrip(" "):
            line.pop()
        if line and not line[-1].control:
            last = line[-1]
            line[-1] = Segment(last.text.rstrip(" "), last.style)
        yield from line
        yield Segment.line()


def details_below(
    console: Console, table: Table, below: str, width: int, drop: Sequence[str], whole: set[str]
) -> Text | None:
    """The table without its ``below`` column, each row followed by that column's text on
    its own indented lines; None when even the other columns do not fit ``width``."""
    columns = [c for c in table.columns if _text(c.header) != below]
    detail = next((c for c in table.columns if _text(c.header) == below), None)
    narrowed = copy.copy(table)
    narrowed.columns = columns
    fitted = fit(narrowed, width, drop, whole, gap=len(GAP))
    if detail is None or fitted is None:
        return None
    kept = fitted.columns
    details = [_text(cell) for cell in detail.cells]
    lines: list[Text] = []
    if table.title is not None:
        lines += Text(_text(table.title)).wrap(console, width)
    lines.append(_joined([Text(_text(c.header), style="bold") for c in kept], kept, console))
    lines.append(Text("─" * (sum(c.width or 0 for c in kept) + len(GAP) * (len(kept) - 1))))
    cells = [list(c.cells) for c in kept]
    for index, text in enumerate(details):
        row = [_cell(column[index]) if index < len(column) else Text() for column in cells]
        lines.append(_joined(row, kept, console))
        if text:
            lines += [Text(DETAIL_INDENT) + line
                      for line in Text(text).wrap(console, width - len(DETAIL_INDENT))]  # fmt: skip
    if fitted.caption is not None:
        lines += Text(_text(fitted.caption)).wrap(console, width)
    return Text("\n").join(lines)


DETAIL_INDENT = "    "  # a row's detail (its formula) under it, indented past the row's name
GAP = "  "  # between the columns of a table drawn without borders


def _cell(cell: object) -> Text:
    return cell.copy() if isinstance(cell, Text) else Text(str(cell))


def _joined(cells: list[Text], columns: list[Column], console: Console) -> Text:
    """One row's cells side by side in their columns' widths, ``GAP`` apart; cells
    that wrap take several lines."""
    wrapped = [
        cell.wrap(console, column.width or 1, justify=column.justify, overflow="fold")
        for cell, column in zip(cells, columns, strict=True)
    ]
    height = max(len(lines) for lines in wrapped)
    out = []
    for number in range(height):
        line = Text()
        for index, (lines, column) in enumerate(zip(wrapped, columns, strict=True)):
            piece = lines[number].copy() if number < len(lines) else Text()
            piece.rstrip()
            piece.align(column.justify if column.justify in ("left", "center", "right") else "left",
                        column.width or 1)  # fmt: skip
            line += Text(GAP) + piece if index else piece
        line.rstrip()
        out.append(line)
    return Text("\n").join(out)


def _overhead(count: int) -> int:
    return 3 * count + 1  # one padding cell either side of each column, and a rule between


def fit(
    table: Table, width: int, drop: Sequence[str], whole: set[str], *, gap: int | None = None
) -> Table | None:
    """The table with explicit column widths that fit ``width``, or None if nothing can fit.

    ``gap``: columns sit this many spaces apart with no border (default: a boxed table).
    """
    columns = list(table.columns)
    needs = {id(c): _needs(c, _text(c.header) in whole) for c in columns}
    dropped: list[str] = []
    order = [name for name in drop if any(_text(c.header) == name for c in columns)]

    def total(cols: list[Column]) -> int:
        between = _overhead(len(cols)) if gap is None else gap * (len(cols) - 1)
        return sum(needs[id(c)].rigid for c in cols) + between

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
        fitted.caption_justify = "default"
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
