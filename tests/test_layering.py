"""The package's imports run down its layers, with no cycle: read from the source, never imported.

Every module of ``convcalc`` is parsed (``ast``) and each import it makes, at
the top or inside a function (lazy), under ``TYPE_CHECKING`` or not, is an
edge. The layers, lowest first, each importing only its own and lower ones:

1. ``errors``, ``interrupts``: the error types and Ctrl-C handling.
2. ``core``: the analytic figures, pure standard library.
3. ``measure``: torch and torchinfo, building and measuring what core describes.
4. ``render``: reports laid out as tables, CSV, Markdown and JSON (rich).
5. ``api``: the library's constructors, ``analyze``, ``verify`` and ``profile``.
6. ``pipeline``: one request to one result, over the API.
7. ``convcalc`` itself (``__init__``): the public names, loaded lazily.
8. ``cli`` and ``__main__``: the command line (typer), the only code that prints or exits.

``measure`` and ``render`` never import each other. Third-party layers are
pinned the same way: torch and torchinfo only in ``measure``, rich only in
``render`` and ``cli``, typer (and click) only in ``cli``; the ruff
configuration bans the same in each package.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from convcalc.core.documents.config import _toml

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "convcalc"

# (layer, module prefixes), lowest first.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("base", ("convcalc.errors", "convcalc.interrupts")),
    ("core", ("convcalc.core",)),
    ("measure", ("convcalc.measure",)),
    ("render", ("convcalc.render",)),
    ("api", ("convcalc.api",)),
    ("pipeline", ("convcalc.pipeline",)),
    ("package", ("convcalc",)),
    ("cli", ("convcalc.cli", "convcalc.__main__")),
)
RANK = {name: rank for rank, (name, _) in enumerate(LAYERS)}
APART = {("measure", "render"), ("render", "measure")}  # side by side: neither imports the other

HEAVY = ("torch", "torchinfo", "rich", "typer", "click")
ALLOWED = {"measure": {"torch", "torchinfo"}, "render": {"rich"}, "cli": {"typer", "rich", "click"}}
CONFIGS = {"measure": "convcalc/measure", "render": "convcalc/render", "cli": "convcalc/cli"}


@dataclass(frozen=True)
class Import:
    """One import statement: who imports what, where."""

    module: str
    target: str
    line: int


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its ``__init__``)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = modules()


def _resolve(name: str) -> str | None:
    """The package module a dotted import name lands in (``convcalc.core.documents.report.Report``
    -> ``convcalc.core.documents.report``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports(module: str) -> Iterator[Import | tuple[str, int]]:
    """Every import of ``module``: an ``Import`` within the package, else (top-level name, line)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [(alias.name, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], *filter(None, [base])])
            names = [(base, f"{base}.{alias.name}") for alias in node.names]
        else:
            continue
        for base, full in names:
            if base.split(".")[0] != "convcalc":
                yield base.split(".")[0], node.lineno
                continue
            target = _resolve(full) if full in MODULES else _resolve(base)
            if target is not None and target != module:
                yield Import(module, target, node.lineno)


def edges() -> list[Import]:
    """Every import from one module of the package to another."""
    return [i for m in MODULES for i in imports(m) if isinstance(i, Import)]


def layer(module: str) -> str:
    """The layer a module belongs to (the longest matching prefix)."""
    best = ""
    for name, prefixes in LAYERS:
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
                best, found = prefix, name
    assert best, f"{module} is in no layer: add it to LAYERS"
    return found


def test_every_module_has_a_layer_and_the_walk_sees_imports() -> None:
    """The walk finds the modules and their imports (a broken walk would pass the rest)."""
    assert {"convcalc.pipeline", "convcalc.cli.app", "convcalc.core.documents.report"} <= set(
        MODULES
    )
    for module in MODULES:
        layer(module)
    found = {(e.module, e.target) for e in edges()}
    assert ("convcalc.pipeline", "convcalc.api") in found
    assert ("convcalc.cli.app", "convcalc.cli.run") in found
    assert len(found) > 100


def test_no_import_cycle() -> None:
    """No module reaches itself through imports, lazy ones included (Tarjan's strongly
    connected components: each must be one module)."""
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for edge in edges():
        graph[edge.module].add(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph)))

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert cycles == []


def test_imports_run_down_the_layers() -> None:
    """No module imports a layer above its own, nor across measure and render."""
    upward = [
        f"{e.module}:{e.line} ({layer(e.module)}) imports {e.target} ({layer(e.target)})"
        for e in edges()
        if RANK[layer(e.target)] > RANK[layer(e.module)]
        or (layer(e.module), layer(e.target)) in APART
    ]
    assert upward == []


def test_torch_rich_and_typer_stay_in_their_layers() -> None:
    """torch and torchinfo only in measure, rich only in render and cli, typer and click
    only in cli: every import, lazy ones included."""
    misplaced = [
        f"{module}:{line} imports {name}"
        for module in MODULES
        for item in imports(module)
        if not isinstance(item, Import)
        for name, line in [item]
        if name in HEAVY and name not in ALLOWED.get(layer(module), set())
    ]
    assert misplaced == []


@pytest.mark.parametrize("package", ["core", "measure", "render", "cli"])
def test_ruff_bans_what_each_package_must_not_import(package: str) -> None:
    """ruff's banned-api in each package is exactly the heavy libraries not its own (the
    root pyproject's for core and the rest; a package's own .ruff.toml extends it)."""
    toml = _toml()  # tomllib, or tomli on 3.10
    root = toml.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    lint = root["tool"]["ruff"]["lint"]
    ignored = {p for p, rules in lint.get("per-file-ignores", {}).items() if "TID251" in rules}
    assert not [p for p in ignored if p.startswith("convcalc")]
    banned = set(lint["flake8-tidy-imports"]["banned-api"])
    if package in CONFIGS:
        own = toml.loads((ROOT / CONFIGS[package] / ".ruff.toml").read_text(encoding="utf-8"))
        assert own["extend"] == "../../pyproject.toml"
        banned = set(own["lint"]["flake8-tidy-imports"]["banned-api"])
    expected = {"torch", "torchinfo", "rich", "typer"} - ALLOWED.get(package, set())
    assert banned == expected


# Inside core, the packages by concern, lowest first: each imports only its own and lower ones.
CORE_LAYERS = ("values", "geometry", "ops", "nets", "count", "documents", "designs")


def core_layer(module: str) -> int:
    """The rank of a core module's package (``convcalc.core.count.figures`` -> count's)."""
    part = module.removeprefix("convcalc.core.").split(".")[0]
    assert part in CORE_LAYERS, f"{module} is in no package of core: add it to CORE_LAYERS"
    return CORE_LAYERS.index(part)


def test_core_packages_import_down() -> None:
    """values < geometry < ops < nets < count < documents < designs: the numbers users
    write, sizes along an axis, primitives, networks of them, counting, the documents
    that carry the counts, and the designs users ask for."""
    inside = [e for e in edges() if e.module.startswith("convcalc.core.")
              and e.target.startswith("convcalc.core.")]  # fmt: skip
    assert len(inside) > 50
    upward = [f"{e.module}:{e.line} imports {e.target}" for e in inside
              if core_layer(e.target) > core_layer(e.module)]  # fmt: skip
    assert upward == []
