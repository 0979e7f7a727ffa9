"""Reading figures out of JSON documents, and the document's JSON Schema (docs/reference/json.md).

``--value``, budgets, ``check`` and ``diff`` all read the same figures, and
read them from the document rather than from report objects: any command that
prints the contract works with them unchanged. Which figures there are, and
where each sits, is the catalogue's (core.documents.catalogue); so is the schema.

A document is one report's object, a sweep's list of them, or ``compare``'s
object with its ``variants``; ``points`` flattens each into named points. A
``check`` baseline holds one document per entry.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from convcalc.core.documents.catalogue import CATALOGUE, Catalogue, Figure
from convcalc.errors import InvalidSpecError

# Figure -> where it sits under ``analytic`` (a key, or ``memory.<key>``): the catalogue's.
FIGURES: dict[str, tuple[str, ...]] = {f.name: f.path for f in CATALOGUE}

# The figures a budget or a baseline compares (integers that grow with the model).
BUDGET_FIGURES = CATALOGUE.budget_names

# The published schema (package data), equal to ``json_schema()``: a test keeps them so.
SCHEMA_FILE = Path(__file__).parents[2] / "schema" / "report.schema.json"  # (no resolve: start-up)
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def figure_name(text: str, option: str = "value", catalogue: Catalogue = CATALOGUE) -> str:
    """A figure's name as typed (``macs``, ``MACs``, ``activation-bytes``) -> its key."""
    return catalogue.value_name(text, option)


def figure(document: Mapping[str, Any], name: str, catalogue: Catalogue = CATALOGUE) -> Any:
    """One analytic figure of one report's document (None when it has none)."""
    found = catalogue[name]
    return found.read(document.get(found.section))


def points(document: Any) -> Iterator[tuple[str, Any]]:
    """(label, one report's object) for a report, each sweep point or each compare variant.

    A single report's label is ``""``; a sweep point's ``width 0.5 at 160``; a
    variant's its name. Labels are what ``diff`` and ``check`` pair points by.
    An item that is not an object is yielded as it is (``check_document`` says so).
    """
    if isinstance(document, list):
        for index, item in enumerate(document):
            yield _point_label(item, index), item
    elif isinstance(document, Mapping) and isinstance(document.get("variants"), list):
        for index, item in enumerate(document["variants"]):
            name = item.get("variant") if isinstance(item, Mapping) else None
            yield (name if isinstance(name, str) else f"variant {index}"), item
    elif isinstance(document, dict):
        yield "", document


def _point_label(item: Any, index: int) -> str:
    spec = item.get("spec") if isinstance(item, Mapping) else None
    if isinstance(spec, Mapping) and "width" in spec and "resolution" in spec:
        width = spec["width"]
        if isinstance(width, int | float) and not isinstance(width, bool):
            width = f"{width:g}"
        return f"width {width} at {spec['resolution']}"
    return f"point {index}"


def text(value: Any) -> str:
    """A figure as ``--value`` prints it: an integer, ``1x8x222x222`` for a shape."""
    if isinstance(value, list | tuple):
        return "x".join(str(v) for v in value)
    return "null" if value is None else str(value)


# ---------------------------------------------------------------- the JSON Schema


def _figure_schema(figure: Figure) -> dict[str, Any]:
    unit = f" Unit: {figure.unit}." if figure.unit else ""
    description = f"{figure.meaning}{unit}"
    if figure.kind == "count":
        return {"type": "integer", "minimum": 0, "description": description}
    if figure.kind == "shape":
        items = {"type": "integer", "minimum": 0}
        return {"type": "array", "items": items, "description": description}
    if figure.kind == "text":
        return {"enum": list(figure.choices), "description": description}
    return {"type": "number", "description": description}


def _object(required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": {}, "required": required or []}


def _place(tree: dict[str, Any], path: tuple[str, ...], leaf: dict[str, Any]) -> None:
    """Put ``leaf`` at ``path`` in a tree of object schemas, making the objects on the way."""
    node = tree
    for key in path[:-1]:
        node = node["properties"].setdefault(key, _object())
    node["properties"][path[-1]] = leaf


def _required(tree: dict[str, Any], path: tuple[str, ...]) -> None:
    """Require every key on ``path`` (the figure and the objects that hold it)."""
    node = tree
    for key in path:
        if key not in node["required"]:
            node["required"].append(key)
        node = node["properties"][key]


def json_schema(catalogue: Catalogue = CATALOGUE) -> dict[str, Any]:
    """The JSON Schema (2020-12) of what ``--format json`` prints, derived from the catalogue.

    Figures are typed where the catalogue places them (``analytic``, each of
    ``layers``, ``analytic.per_sample``); everything else may grow (the
    contract is extended, never broken), so objects accept more keys.
    """
    from convcalc.core.documents.report import SCHEMA_VERSION

    analytic = _object()
    timing = _object()  # --measure-time's figures
    per_sample = _object()
    layer: dict[str, Any] = _object(["name"])
    layer["properties"]["name"] = {"type": "string", "description": "The layer's unique name."}
    for f in catalogue:
        leaf = _figure_schema(f)
        _place(timing if f.measured else analytic, f.path, leaf)
        if f.required:
            _required(analytic, f.path)
        if f.per_sample:
            per_sample["properties"][f.name] = leaf
            if f.required:
                per_sample["required"].append(f.name)
        if f.layer:
            layer["properties"][f.name] = leaf
            if f.required:
                layer["required"].append(f.name)
    if per_sample["properties"]:
        analytic["properties"]["per_sample"] = per_sample
        if per_sample["required"]:
            analytic["required"].append("per_sample")
    verdict = {
        "type": "object",
        "properties": {
            "figure": {"enum": list(catalogue.budget_names)},
            "value": {"type": "integer"},
            "limit": {"type": "integer", "minimum": 0},
            "headroom": {"type": "integer", "description": "limit - value: negative when over"},
            "ok": {"type": "boolean"},
            "partial": {
                "type": "string",
                "description": "What a partial total leaves out (ops with no formula): the "
                "budget cannot pass.",
            },
        },
        "required": ["figure", "value", "limit", "headroom", "ok"],
    }
    point = {
        "type": "object",
        "description": "One report: a command's figures for one spec.",
        "properties": {
            "schema": {"const": SCHEMA_VERSION},
            "command": {"type": "string"},
            "spec": {
                "type": "object",
                "description": "Every input, after defaults, as used.",
                "properties": {
                    "width": {"type": "number", "description": "A network's width multiplier."},
                    "resolution": {"type": "integer", "description": "A network's input side."},
                },
            },
            "analytic": {"$ref": "#/$defs/analytic"},
            "measured": {
                "type": ["object", "null"],
                "description": "What torch and torchinfo measured; null with --no-verify.",
                "properties": {"device": {"type": "string"}},
            },
            "match": {"type": ["boolean", "null"]},
            "timing": timing
            | {"description": "--measure-time: the device's median times beside the bound."},
            "layers": {"type": "array", "items": {"$ref": "#/$defs/layer"}},
            "budgets": {"type": "array", "items": {"$ref": "#/$defs/verdict"}},
            "variant": {"type": "string", "description": "A compare variant's name."},
        },
        "required": ["schema", "command", "spec", "analytic", "measured", "match"],
    }
    compare = {
        "type": "object",
        "description": "compare: one report per variant, each with its ratio to standard.",
        "properties": {
            "schema": {"const": SCHEMA_VERSION},
            "command": {"const": "compare"},
            "analytic": {"type": "null"},
            "variants": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/point"}},
        },
        "required": ["schema", "command", "variants"],
    }
    document = {
        "anyOf": [
            {"$ref": "#/$defs/point"},
            {"$ref": "#/$defs/compare"},
            {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/point"}},
        ]
    }
    baseline = {
        "type": "object",
        "description": "check --update-baseline: each entry's document by name.",
        "properties": {
            "schema": {"const": SCHEMA_VERSION},
            "command": {"const": "check"},
            "baseline": {"type": "object", "additionalProperties": {"$ref": "#/$defs/document"}},
        },
        "required": ["schema", "command", "baseline"],
    }
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": "convcalc JSON document",
        "description": "What a convcalc command prints with --format json (a report, a sweep's "
        "list of reports, compare's variants), or a check baseline. Generated from "
        "convcalc.core.documents.catalogue; objects may gain keys, never lose or retype them.",
        "anyOf": [{"$ref": "#/$defs/document"}, {"$ref": "#/$defs/baseline"}],
        "$defs": {
            "document": document,
            "point": point,
            "compare": compare,
            "analytic": analytic,
            "layer": layer,
            "verdict": verdict,
            "baseline": baseline,
        },
    }


def schema_text(catalogue: Catalogue = CATALOGUE) -> str:
    """The schema as the shipped file holds it (``convcalc/schema/report.schema.json``)."""
    import json

    return json.dumps(json_schema(catalogue), indent=2) + "\n"


# ---------------------------------------------------------------- a small validator

_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    # Stricter than JSON Schema's: 3.0 is no count, and NaN or Infinity (which
    # Python's json module reads) is no number.
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v),
}


def _where(path: tuple[str, ...]) -> str:
    return ".".join(path).replace(".[", "[") or "the document"


def _describe(value: Any) -> str:
    if isinstance(value, dict | list):
        return "an object" if isinstance(value, dict) else "a list"
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def problem(
    value: Any, schema: Mapping[str, Any], root: Mapping[str, Any], path: tuple[str, ...] = ()
) -> tuple[tuple[str, ...], str] | None:
    """The first place where ``value`` breaks ``schema`` (its path and what is wrong), or None.

    The subset of JSON Schema 2020-12 that ``json_schema`` writes: ``$ref``
    (local), ``type``, ``const``, ``enum``, ``properties``, ``required``,
    ``additionalProperties``, ``items``, ``minItems``, ``minimum``, ``anyOf``.
    It walks only as deep as the schema does, so a deeply nested document
    costs no recursion beyond the schema's own depth.
    """
    if "$ref" in schema:
        ref = schema["$ref"]
        target: Any = root
        for part in ref.removeprefix("#").strip("/").split("/") if ref != "#" else ():
            target = target[part]
        return problem(value, target, root, path)
    if "anyOf" in schema:
        found = [problem(value, branch, root, path) for branch in schema["anyOf"]]
        if all(found):
            # The branch that got furthest says the most.
            return max((f for f in found if f), key=lambda f: len(f[0]))
    if "const" in schema and not _same(value, schema["const"]):
        return path, f"{_describe(value)} is not {schema['const']!r}"
    if "enum" in schema and value not in schema["enum"]:
        return path, f"{_describe(value)} is not one of {', '.join(map(str, schema['enum']))}"
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        if not any(_TYPES[name](value) for name in names):
            return path, f"{_describe(value)} is not {' or '.join(_a(n) for n in names)}"
    if isinstance(value, dict):
        return _object_problem(value, schema, root, path)
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            return path, f"needs at least {schema['minItems']} item(s)"
        if "items" in schema:
            for index, item in enumerate(value):
                found_item = problem(item, schema["items"], root, (*path, f"[{index}]"))
                if found_item:
                    return found_item
    if (
        "minimum" in schema
        and isinstance(value, int | float)
        and not isinstance(value, bool)
        and value < schema["minimum"]
    ):
        return path, f"{value} is below {schema['minimum']}"
    return None


def _same(value: Any, const: Any) -> bool:
    """JSON equality: ``true`` is not ``1``."""
    return bool(value == const) and isinstance(value, bool) == isinstance(const, bool)


def _a(name: str) -> str:
    return {"object": "an object", "array": "a list", "integer": "an integer"}.get(
        name, f"a {name}" if name != "null" else "null"
    )


def _object_problem(
    value: dict[str, Any], schema: Mapping[str, Any], root: Mapping[str, Any], path: tuple[str, ...]
) -> tuple[tuple[str, ...], str] | None:
    for key in schema.get("required", ()):
        if key not in value:
            return path, f"has no {key!r}"
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        sub = properties.get(key, extra)
        if sub is False:
            return path, f"has an unknown key {key!r}"
        if isinstance(sub, Mapping):
            found = problem(item, sub, root, (*path, str(key)))
            if found:
                return found
    return None


def check_document(document: Any, catalogue: Catalogue = CATALOGUE) -> None:
    """Raise InvalidSpecError naming the first place ``document`` breaks the schema.

    Each point is checked on its own, so the message names it: ``width 0.5 at
    160: analytic.macs: 'x' is not an integer``.
    """
    schema = json_schema(catalogue)
    baseline = isinstance(document, Mapping) and isinstance(document.get("baseline"), Mapping)
    if baseline:
        found = problem(document, _without(schema["$defs"]["baseline"], "baseline"), schema)
        if found:
            raise InvalidSpecError(f"{_where(found[0])}: {found[1]}")
    entries = dict(document["baseline"]) if baseline else {"": document}
    for entry, body in entries.items():
        issue = _document_problem(body, schema)
        if issue:
            where = ": ".join(p for p in (f"entry {entry!r}" if baseline else "", issue[0]) if p)
            raise InvalidSpecError(f"{where}: {issue[1]}" if where else issue[1])


def _without(schema: Mapping[str, Any], key: str) -> dict[str, Any]:
    """An object schema that leaves one property to be checked apart (point by point)."""
    properties = {k: v for k, v in schema["properties"].items() if k != key}
    return {**schema, "properties": properties}


def _document_problem(document: Any, schema: Mapping[str, Any]) -> tuple[str, str] | None:
    if isinstance(document, list | Mapping) and not document:
        return "", "is empty"
    if not isinstance(document, list | Mapping):
        return "", f"{_describe(document)} is not a report, a list of reports or a baseline"
    if isinstance(document, Mapping) and "variants" in document:
        found = problem(document, _without(schema["$defs"]["compare"], "variants"), schema)
        if found:
            return _where(found[0]), found[1]
    for label, item in points(document):
        found = problem(item, schema["$defs"]["point"], schema)
        if found:
            where = ": ".join(p for p in (label, _where(found[0]) if found[0] else "") if p)
            return where, found[1]
    return None
