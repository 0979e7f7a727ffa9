"""The JSON writer: its indented text is exactly json.dumps(document, indent=2)."""

from __future__ import annotations

import json
import math
from enum import IntEnum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcalc.render.jsontext import indented, to_json

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
