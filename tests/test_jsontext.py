"""The JSON writer: its indented text is exactly json.dumps(document, indent=2)."""

from __future__ import annotations

import json
import math
from enum import IntEnum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcalc.render.jsontext import LARGE, indented, to_json

# Every value a document holds, and the ones json.dumps writes by rules of its own.
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and the infinities included: json.dumps writes NaN, Infinity
    | st.text()  # non-ASCII and control characters: escaped as json.dumps escapes them
)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.lists(st.integers() | st.booleans(), max_size=4)  # a shape, and one that is not
        | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=30,
)


@given(DOCUMENTS)
def test_indented_is_json_dumps(document: Any) -> None:
    assert indented(document) == json.dumps(document, indent=2)


@given(st.dictionaries(st.integers() | st.booleans() | st.none() | st.floats(),
                       SCALARS, max_size=4))  # fmt: skip
def test_keys_that_are_no_strings_are_written_as_json_dumps_writes_them(document: Any) -> None:
    assert indented(document) == json.dumps(document, indent=2)


class Level(IntEnum):
    LOW = 1


def test_subclasses_are_written_as_json_dumps_writes_them() -> None:
    document = {"level": Level.LOW, "nested": [Level.LOW, {"x": math.inf}]}
    assert indented(document) == json.dumps(document, indent=2)


def test_what_json_dumps_refuses_is_refused_alike() -> None:
    circular: list[Any] = []
    circular.append(circular)
    with pytest.raises(ValueError, match="Circular reference"):
        indented(circular)
    with pytest.raises(TypeError, match="not JSON serializable"):
        indented({"a": [1, {2, 3}]})


def test_a_report_document_is_written_as_before() -> None:
    """A real document: the indented text, then a newline; a large one stays compact."""
    from convcalc import conv, resnet
    from convcalc.pipeline import Request, run

    assert run(Request(conv(cin=4, cout=8))).to_dict()["command"] == "conv"
    document = run(Request(resnet(depth=18))).to_dict()
    assert to_json(document) == json.dumps(document, indent=2) + "\n"
    large = {"points": [document] * 60}
    text = to_json(large)
    assert len(text) > 200_000
    assert text == json.dumps(large, separators=(",", ":")) + "\n"


def old_to_json(document: Any) -> str:
    """The rule as it was written: the compact dump over LARGE characters, else indented."""
    compact = json.dumps(document, separators=(",", ":"))
    if len(compact) > LARGE:
        return compact + "\n"
    return json.dumps(document, indent=2) + "\n"


@given(DOCUMENTS)
def test_to_json_is_the_rule_as_written(document: Any) -> None:
    assert to_json(document) == old_to_json(document)


@pytest.mark.parametrize("rows", [1_000, 4_500, 6_000, 9_000, 30_000])
def test_to_json_decides_by_the_compact_length(rows: int) -> None:
    """Documents around the limit: indented over LARGE while compact is not (indented),
    compact over it too (compact), a list as long as a sweep's, one NaN among many rows."""
    document = {"rows": [{"i": i, "name": f"layer{i}"} for i in range(rows)]}
    assert to_json(document) == old_to_json(document)
    document["rows"][-1]["x"] = math.nan
    assert to_json(document) == old_to_json(document)


def test_around_the_limit_both_forms_are_written() -> None:
    """Control for the test above: its documents give both answers."""
    small = {"rows": [{"i": i, "name": f"layer{i}"} for i in range(6_000)]}
    large = {"rows": [{"i": i, "name": f"layer{i}"} for i in range(9_000)]}
    assert len(json.dumps(small, indent=2)) > LARGE >= len(json.dumps(small, separators=(",", ":")))
    assert to_json(small).startswith("{\n")
    assert len(json.dumps(large, separators=(",", ":"))) > LARGE
    assert to_json(large).startswith('{"rows":[')
