"""Parsing of the CLI's compact values: pairs, kernels, paddings, budgets and lists."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc.core.values.parse import (
    _is_decimal,
    _is_integer,
    non_negative,
    normal_word,
    parse_budget,
    parse_kernel,
    parse_list,
    parse_padding,
    parse_pair,
    positive,
    word,
)
from convcalc.errors import InvalidSpecError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", (3, 3)),
        ("3x1", (3, 1)),
        ("1x3", (1, 3)),
        ("3X1", (3, 1)),
        ("64x48", (64, 48)),
        (" 5 ", (5, 5)),
        ("224", (224, 224)),
    ],
)
def test_parse_pair(text: str, expected: tuple[int, int]) -> None:
    """An integer is square; HxW is height then width."""
    assert parse_pair(text, "input") == expected


@pytest.mark.parametrize(
    "text", ["0", "-1", "3x0", "0x3", "x3", "3x", "3x3x3", "a", "", "1.5", "3xx3", "3x-1", "three"]
)
def test_parse_pair_rejects(text: str) -> None:
    """Zero, negative, non-integer and malformed pairs are invalid specs naming the option."""
    with pytest.raises(InvalidSpecError, match=r"^stride="):
        parse_pair(text, "stride")


def test_parse_pair_allows_zero_only_when_asked() -> None:
    """Padding may be zero; other pairs may not."""
    assert parse_pair("0", "padding", allow_zero=True) == (0, 0)
    assert parse_pair("1x0", "padding", allow_zero=True) == (1, 0)
    with pytest.raises(InvalidSpecError, match="must be zero or more"):
        parse_pair("-1", "padding", allow_zero=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("3", (3, 3)), ("3x1", (3, 1)), ("global", "global"), ("GLOBAL", "global"), ("7", (7, 7))],
)
def test_parse_kernel(text: str, expected: tuple[int, int] | str) -> None:
    """A kernel is an integer, HxW or the word global."""
    assert parse_kernel(text) == expected


@pytest.mark.parametrize("text", ["0", "globl", "global3", "3x", "-3", "1.5"])
def test_parse_kernel_rejects(text: str) -> None:
    """Malformed kernels name the kernel option."""
    with pytest.raises(InvalidSpecError, match=r"^kernel="):
        parse_kernel(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", (0, 0)),
        ("1", (1, 1)),
        ("1x0", (1, 0)),
        ("same", "same"),
        ("SAME", "same"),
        ("valid", "valid"),
        (" valid ", "valid"),
    ],
)
def test_parse_padding(text: str, expected: tuple[int, int] | str) -> None:
    """A padding is an integer, HxW, same or valid."""
    assert parse_padding(text) == expected


@pytest.mark.parametrize("text", ["-1", "sam", "1x", "x1", "1x-1", "1.5", "full", "1x1x1"])
def test_parse_padding_rejects(text: str) -> None:
    """Malformed paddings name the padding option."""
    with pytest.raises(InvalidSpecError, match=r"^padding="):
        parse_padding(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.5M", 1_500_000),
        ("600M", 600_000_000),
        ("2G", 2_000_000_000),
        ("152", 152),
        ("0", 0),
        ("600K", 600_000),
        ("1.5m", 1_500_000),
        ("2g", 2_000_000_000),
        ("0.5K", 500),
        (".5K", 500),
        ("1T", 10**12),
        (" 2G ", 2_000_000_000),
        ("1.25K", 1250),
        ("4.2M", 4_200_000),
        ("1e6", 1_000_000),
        ("2.5e3", 2500),
        ("1.5e3K", 1_500_000),
    ],
)
def test_parse_budget(text: str, expected: int) -> None:
    """Budgets are plain integers or decimals with K, M, G, T (powers of 1000)."""
    assert parse_budget(text, "max-params") == expected


@pytest.mark.parametrize(
    "text",
    [
        "1.5X",
        "abc",
        "-5",
        "1,000",
        "M",
        "1.5",
        "1.2345K",
        "2GG",
        "0x10",
        "",
        "1.5 M M",
        "1e-3",
        "1e999999999",
        "1e-999999999",
        "e6",
    ],
)
def test_parse_budget_rejects(text: str) -> None:
    """Malformed, negative and fractional budgets are invalid specs naming the option."""
    with pytest.raises(InvalidSpecError, match=r"^max-macs="):
        parse_budget(text, "max-macs")


def test_parse_list() -> None:
    """Comma lists are split and stripped; an empty item is an error."""
    assert parse_list("0.25, 0.5,1.0", "width") == ["0.25", "0.5", "1.0"]
    assert parse_list("224", "resolution") == ["224"]
    for text in ("0.5,", ",0.5", "0.5,,1.0", ""):
        with pytest.raises(InvalidSpecError, match=r"^width="):
            parse_list(text, "width")


def test_positive_and_non_negative() -> None:
    """positive rejects 0 and below; non_negative rejects below 0; both return the value."""
    assert positive(1, "cin") == 1
    assert non_negative(0, "padding") == 0
    with pytest.raises(InvalidSpecError, match=r"cin=0 must be a positive integer"):
        positive(0, "cin")
    with pytest.raises(InvalidSpecError, match=r"padding=-1 must be zero or more"):
        non_negative(-1, "padding")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("max", "max"), ("MAX", "max"), ("  Avg ", "avg"), ("\tmax\n", "max"),
     ("activation-bytes", "activation_bytes"), ("V1.5", "v1.5")],
)  # fmt: skip
def test_word_ignores_case_and_surrounding_spaces(text: str, expected: str) -> None:
    """The one rule for every word-valued option: case and spaces around never matter;
    a hyphen may stand for an underscore."""
    choices = ("max", "avg", "activation_bytes", "v1", "v1.5")
    assert word(text, "mode", choices) == expected
    assert normal_word(text) == text.strip().lower()


@pytest.mark.parametrize("text", ["", " ", "mean", "m ax", "maxx", "max,avg", "v1 .5"])
def test_word_refuses_others_naming_the_choices(text: str) -> None:
    """Anything else (an empty word too) is refused, naming the option and its words."""
    with pytest.raises(InvalidSpecError) as caught:
        word(text, "mode", ("max", "avg", "v1.5"))
    assert str(caught.value) == f"mode={text.strip()!r} is not one of max, avg, v1.5"


_TEXT = st.text(alphabet="0123456789+-.eE _x\u00b2\u0663a", max_size=8)


@settings(max_examples=2000)
@given(_TEXT)
def test_integers_and_decimals_are_read_as_their_patterns_read_them(text: str) -> None:
    """The two shapes of number the options take, read with no pattern compiled (start-up),
    accept exactly what their regular expressions accept."""
    import re

    assert _is_integer(text) == bool(re.fullmatch(r"[+-]?[0-9]+", text))
    decimal = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[+-]?[0-9]+)?"
    assert _is_decimal(text) == bool(re.fullmatch(decimal, text, re.IGNORECASE))
