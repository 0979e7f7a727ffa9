"""A network counted as another tool counts it, and the table of what each tool counts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from convcalc.core.count.backward import Backward
from convcalc.core.count.conventions import ASPECTS, CONVENTIONS, ConventionCount
from convcalc.render import units


def convention_table(counted: ConventionCount, exact: bool, *, markdown: bool = False) -> Any:
    """Per layer: the paper MACs, the tool's count and what it counts or leaves out; the
    totals and their difference. Layers where both are 0 are left out."""
    c = counted.convention
    title = (
        f"--convention {c.name}: as {c.tool} counts ({c.unit}): total "
        f"{units.count(counted.total, exact)} vs paper MACs {units.count(counted.paper, exact)} "
        f"({'+' if counted.difference >= 0 else '-'}"
        f"{units.count(abs(counted.difference), exact)})"
    )
    header = ("layer", "paper MACs", f"{c.name} ({c.unit})", "counts / leaves out")
    rows = [
        (x.name, units.count(x.paper, exact), units.count(x.count, exact), x.note)
        for x in counted.layers
        if x.paper or x.count or x.note
    ]
    rows.append(("total", units.count(counted.paper, exact), units.count(counted.total, exact),
                 f"checked: {c.checked}"))  # fmt: skip
    return _table(title, header, rows, markdown=markdown, numbers=(1, 2), below=header[-1])


def conventions_document() -> dict[str, Any]:
    """Every convention: its tool, unit, what it counts per aspect, how it is checked."""
    return {
        "conventions": [
            {"name": c.name, "tool": c.tool, "unit": c.unit, "counts": c.counts,
             "checked": c.checked}
            for c in CONVENTIONS.values()
        ],
        "not_reproduced_yet": {},  # every peer is reproduced now; kept for JSON readers
    }  # fmt: skip


def conventions_table(*, markdown: bool = False) -> Any:
    """Aspects down, conventions across."""
    names = list(CONVENTIONS)
    header = ("counts", *names)
    rows = [(aspect, *(CONVENTIONS[n].counts[aspect] for n in names)) for aspect in ASPECTS]
    rows.append(("checked", *(CONVENTIONS[n].checked for n in names)))
    title = "What each --convention counts (one row per kind of work)"
    if markdown:
        return _markdown(title, header, rows)
    return _table(title, header, rows, markdown=False, lines=True, narrow=_by_convention)


def _by_convention(table: Any) -> Any:
    """The conventions table where it is too wide: split into tables of a few conventions
    each where they fit; on a narrow terminal, one block per convention (its unit beside
    its name, then what it counts of each kind of work)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from convcalc.render.fit import Split

    blocks: list[Any] = [Text(str(table.title))]
    for c in CONVENTIONS.values():
        block = Table(box=None, show_header=False, padding=(0, 2, 0, 0), pad_edge=False)
        block.add_column("counts", style="dim", no_wrap=True)
        block.add_column(c.name, overflow="fold")
        for aspect in (*ASPECTS[1:], "checked"):
            block.add_row(aspect, c.checked if aspect == "checked" else c.counts[aspect])
        blocks += [Text(""), Text(f"{c.name}: {c.counts[ASPECTS[0]]} ({c.tool})", style="bold"),
                   block]  # fmt: skip
    return Split(table, Group(*blocks))


def _table(
    title: str,
    header: tuple[str, ...],
    rows: Sequence[tuple[str, ...]],
    *,
    markdown: bool,
    numbers: tuple[int, ...] = (),
    lines: bool = False,
    below: str | None = None,
    narrow: Callable[[Any], Any] | None = None,
) -> Any:
    """Rows under a title: Markdown text, or a Rich table (``numbers``: right-aligned
    columns; ``lines``: a rule between rows) that fits the terminal (render.fit: ``below``
    moves a prose column under each row, ``narrow(table)`` replaces a table too wide to fit)."""
    if markdown:
        return _markdown(title, header, rows)
    from rich.table import Table

    from convcalc.render.fit import Fit

    table = Table(title=title, title_justify="default", show_lines=lines)
    for index, name in enumerate(header):
        table.add_column(name, justify="right" if index in numbers else "left")
    for row in rows:
        table.add_row(*row)
    return Fit(table, below=below, narrow=None if narrow is None else narrow(table))


def _markdown(title: str, header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    lines = [f"**{title}**", "", "| " + " | ".join(header) + " |",
             "|" + " --- |" * len(header)]  # fmt: skip
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n\n"


def backward_table(
    passes: Backward, exact: bool, *, markdown: bool = False, measured: int | None = None
) -> Any:
    """The backward pass per layer (layers with gradient products), and the training step;
    ``measured``: what FlopCounterMode counted around one (``--cross-check``)."""
    expected = passes.flop_counter_training_flops
    title = (
        f"--backward: {units.count(passes.macs, exact)} MACs of gradients; a training step "
        f"{units.count(passes.training_flops, exact)} FLOPs (forward + backward, 2 per MAC); "
        f"FlopCounterMode counts {units.count(expected, exact)}"
    )
    if measured is not None:
        verdict = "match" if measured == expected else "MISMATCH"
        title += f", measured around a training step: {units.count(measured, exact)} ({verdict})"
    header = ("layer", "backward MACs", "what")
    rows = [(x.name, units.count(x.macs, exact), x.note) for x in passes.layers if x.macs]
    rows.append(("total", units.count(passes.macs, exact),
                 "bias gradients (sums) and element-wise backward ops: not MACs"))  # fmt: skip
    return _table(title, header, rows, markdown=markdown, numbers=(1,), below=header[-1])
