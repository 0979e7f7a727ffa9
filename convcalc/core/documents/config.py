"""``convcalc check``'s configuration: budgets in pyproject.toml or convcalc.toml.

The schema (docs/how-to/ci.md)::

    [tool.convcalc]                        # convcalc.toml: the same, without "tool.convcalc."
    baseline = "convcalc-baseline.json"    # optional: check --baseline's default file
    tolerance = "1%"                       # optional: growth a baseline allows (default 0%)

    [tool.convcalc.budgets.mobilenet]      # one table per named entry
    command = "mobilenet --width 0.75"     # any command line after `convcalc`
    max-params = "3M"                      # also max-macs, max-flops, max-activation-bytes:
    max-macs = 350_000_000                 # numbers or "1.5M"

Discovery, as ruff and mypy find theirs: from the working directory upwards,
the first directory holding ``convcalc.toml`` (it wins) or a ``pyproject.toml``
with a ``[tool.convcalc]`` table. Every error names the file, the entry and
the key (exit 2).
"""

from __future__ import annotations

import math
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

from convcalc.core.documents.catalogue import CATALOGUE, Catalogue
from convcalc.core.documents.diff import parse_tolerance
from convcalc.core.values.parse import parse_budget
from convcalc.core.values.record import Record
from convcalc.errors import InvalidSpecError


def _toml() -> Any:
    """The TOML reader: tomllib (3.11+) or tomli (3.10), imported on first use."""
    if sys.version_info < (3, 11):  # pragma: no cover
        import tomli as toml
    else:
        import tomllib as toml
    return toml


# max-NAME -> NAME for every figure the catalogue gives a budget.
BUDGET_KEYS = CATALOGUE.budget_keys
ENTRY_KEYS = ("command", *BUDGET_KEYS)
SETTINGS = ("budgets", "baseline", "tolerance")


class Entry(Record):
    """One named budget entry: a command line and its limits by figure."""

    name: str
    command: str
    limits: dict[str, int]


class Config(Record):
    """A configuration file's settings and entries, in file order."""

    path: Path
    entries: tuple[Entry, ...]
    baseline: Path | None = None
    tolerance: Fraction = Fraction(0)
    table: str = "tool.convcalc"  # where the settings sit: "" in convcalc.toml

    def where(self, *keys: str) -> str:
        """``pyproject.toml: [tool.convcalc.budgets.mobilenet]``: where a key sits, for errors."""
        table = ".".join(k for k in (self.table, *keys) if k)
        return f"{self.path}: [{table}]" if table else f"{self.path}"


def find(start: Path | None = None) -> Path | None:
    """The configuration file that applies in ``start`` (default: the working directory)."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        own = directory / "convcalc.toml"
        if own.is_file():
            return own
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and _has_table(pyproject):
            return pyproject
    return None


def _has_table(path: Path) -> bool:
    toml = _toml()
    try:
        data = toml.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, toml.TOMLDecodeError):
        return True  # let load() say what is wrong with it
    return isinstance(data.get("tool"), dict) and "convcalc" in data["tool"]


def load(path: Path, catalogue: Catalogue = CATALOGUE) -> Config:
    """Read and validate one configuration file (InvalidSpecError naming file, entry, key)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidSpecError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InvalidSpecError(f"{path}: is not UTF-8 text") from None
    toml = _toml()
    try:
        data = toml.loads(text)
    except toml.TOMLDecodeError as exc:
        raise InvalidSpecError(f"{path}: invalid TOML: {exc}") from None
    own = path.name != "pyproject.toml"
    table = "" if own else "tool.convcalc"
    tool = data.get("tool")
    settings: Any = data if own else tool.get("convcalc") if isinstance(tool, dict) else None
    config = Config(path, (), table=table)
    if tool is not None and not isinstance(tool, dict) and not own:
        raise InvalidSpecError(f"{path}: tool must be a table ([tool.convcalc]), not a value")
    if settings is not None and not isinstance(settings, dict):
        raise InvalidSpecError(f"{path}: tool.convcalc must be a table, not a value")
    if not isinstance(settings, dict):
        raise InvalidSpecError(f"{path}: has no [tool.convcalc] table")
    for key in settings:
        if key not in SETTINGS:
            raise InvalidSpecError(
                f"{config.where()}: unknown key {key!r} (accepted: {', '.join(SETTINGS)})"
            )
    budgets = settings.get("budgets")
    if not isinstance(budgets, dict) or not budgets:
        raise InvalidSpecError(
            f"{config.where('budgets')}: no budget entries; add one such as "
            f"[{'.'.join(k for k in (table, 'budgets', 'mobilenet') if k)}] with "
            'command = "mobilenet --width 0.75" and max-params = "3M"'
        )
    entries = tuple(_entry(config, name, body, catalogue) for name, body in budgets.items())
    baseline = settings.get("baseline")
    if baseline is not None and (
        not isinstance(baseline, str) or not baseline.strip() or "\0" in baseline
    ):
        raise InvalidSpecError(f"{config.where()}: baseline: must be a file name (a string)")
    tolerance = settings.get("tolerance", "0")
    if not isinstance(tolerance, str):
        raise InvalidSpecError(f'{config.where()}: tolerance: must be a string such as "1%"')
    try:
        fraction = parse_tolerance(tolerance)
    except InvalidSpecError as exc:
        raise InvalidSpecError(f"{config.where()}: tolerance: {exc}") from None
    return Config(
        path,
        entries,
        baseline=None if baseline is None else path.parent / baseline,
        tolerance=fraction,
        table=table,
    )


def _entry(config: Config, name: str, body: Any, catalogue: Catalogue = CATALOGUE) -> Entry:
    where = config.where("budgets", name)
    if not isinstance(body, dict):
        raise InvalidSpecError(f'{where}: must be a table with command = "..."')
    budget_keys = catalogue.budget_keys
    accepted = ("command", *budget_keys)
    for key in body:
        if key not in accepted:
            raise InvalidSpecError(
                f"{where}: unknown key {key!r} (accepted: {', '.join(accepted)})"
            )
    command = body.get("command")
    if not isinstance(command, str) or not command.strip():
        raise InvalidSpecError(
            f'{where}: command: must be a command line such as "conv --cin 4 --cout 8"'
        )
    limits = {}
    for key, figure in budget_keys.items():
        if key in body:
            limits[figure] = _limit(body[key], f"{where}: {key}")
    return Entry(name, command.strip(), limits)


def _limit(value: Any, where: str) -> int:
    """A budget as TOML gives it: an integer, an integral float (3e6) or a string ("1.5M")."""
    if isinstance(value, bool):
        raise InvalidSpecError(f"{where}: {value!r} is not a count")
    if isinstance(value, int):
        if value < 0:
            raise InvalidSpecError(f"{where}: {value} must be zero or more")
        return value
    if isinstance(value, float):
        if not math.isfinite(value) or value < 0 or value != int(value):
            raise InvalidSpecError(f"{where}: {value!r} is not a whole count")
        return int(value)
    if isinstance(value, str):
        try:
            return parse_budget(value, "budget")
        except InvalidSpecError as exc:
            raise InvalidSpecError(f"{where}: {exc}") from None
    raise InvalidSpecError(f'{where}: {value!r} is not a count (a number or a string like "1.5M")')
