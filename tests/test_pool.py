"""Pooling: torch's output sizes (ceil_mode's last-window rule included), its padding
rule, the work stated, 1-D to 3-D and adaptive; the command line."""

from __future__ import annotations

import json
from typing import Any

import pytest
import torch
import torch.nn.functional as F  # noqa: N812
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import convcalc
from convcalc.errors import InvalidSpecError
from tests.strategies import measured_examples
from tests.test_cli import error_line, invoke


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding", "floor", "ceil"),
    [
        (6, 3, 2, 0, 2, 3),  # ceil adds a window that starts inside the input
        (5, 2, 2, 1, 3, 3),  # ceil would add one starting in the right padding: dropped
        (7, 3, 3, 1, 3, 3),
        (11, 4, 3, 0, 3, 4),
    ],
)
def test_ceil_mode_where_the_rule_matters(
    size: int, kernel: int, stride: int, padding: int, floor: int, ceil: int
) -> None:
    """Hand-computed sizes, and torch's."""
    for ceil_mode, expected in ((False, floor), (True, ceil)):
        design = convcalc.pool(2, kernel=kernel, stride=stride, padding=padding,
                               ceil_mode=ceil_mode, input=(size, size))  # fmt: skip
        assert convcalc.analyze(design).output_shape[-1] == expected
        x = torch.zeros(1, 2, size, size)
        assert F.max_pool2d(x, kernel, stride, padding, ceil_mode=ceil_mode).shape[-1] == expected


def test_the_dropped_window_is_said() -> None:
    """input 5, k2, s2, p1, ceil: ceil((5 + 2 - 1 - 1) / 2) + 1 = 4, but the 4th window
    would start at 6, in the right padding: 3, and the formula says why."""
    report = convcalc.analyze(convcalc.pool(2, kernel=2, stride=2, padding=1, ceil_mode=True,
                                            input=5))  # fmt: skip
    op = report.figures.network.nodes[0].op
    text = op.shape_formula(((1, 2, 5, 5),), report.output_shape)
    assert "= 4, less the last window (it would start in the padding) = 3" in text


@st.composite
def _pools(draw: st.DrawFn) -> dict[str, object]:
    dims = draw(st.integers(1, 3))
    mode = draw(st.sampled_from(["max", "avg"]))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims)) if mode == "max" else (1,) * dims
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    size = tuple(draw(st.integers(1, 9)) for _ in range(dims))
    for k, d, p, n in zip(kernel, dilation, padding, size, strict=True):
        assume(n + 2 * p >= d * (k - 1) + 1)
        assume(not (mode == "avg" and dims == 3 and n < k))  # torch's avg_pool3d refuses it
    return {
        "mode": mode, "kernel": kernel, "stride": tuple(draw(st.integers(1, 3)) for _ in kernel),
        "padding": padding, "dilation": dilation, "ceil_mode": draw(st.booleans()),
        "count_include_pad": draw(st.booleans()), "input": size, "dims": dims,
    }  # fmt: skip


@settings(max_examples=measured_examples())
@given(_pools())
def test_random_pools_agree_with_torch(spec: dict[str, object]) -> None:
    """Any valid max or average pool, 1-D to 3-D, ceil or floor: torch's shape, and every
    verified figure."""
    report = convcalc.verify(convcalc.pool(3, **spec), "cpu")  # type: ignore[arg-type]
    assert report.match is True, report.failed_checks


@pytest.mark.parametrize(
    ("size", "output"), [((7, 10), (3, 5)), ((5,), (2,)), ((4, 6, 9), (2, 3, 4))]
)
def test_adaptive_pools_agree_with_torch(size: tuple[int, ...], output: tuple[int, ...]) -> None:
    for mode in ("max", "avg"):
        report = convcalc.verify(convcalc.pool(3, mode, output=output, input=size), "cpu")
        assert report.match is True, report.failed_checks
        assert report.output_shape == (1, 3, *output)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kernel": 2, "padding": 2}, "must be at most half the kernel (2)"),
        ({"mode": "avg", "dilation": 2}, "dilation is max pooling's"),
        ({"mode": "min"}, "mode='min' is not max or avg"),
        ({"kernel": 9, "input": 4}, "larger than the padded input"),
        (
            {"mode": "avg", "kernel": 2, "padding": 1, "input": (1, 4, 4)},
            "3-D average pooling needs an input of at least the kernel",
        ),
    ],
)
def test_invalid_pools_say_why(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidSpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        convcalc.pool(4, **changes)  # type: ignore[arg-type]


def test_pool_on_the_command_line() -> None:
    """The stem pool of ResNet: 112 -> 56, 9 reads per output; JSON as every command."""
    result = invoke("pool", "--channels", "64", "-k", "3", "-s", "2", "-p", "1", "-i", "112",
                    "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["analytic"]["output_shape"] == [1, 64, 56, 56]
    assert document["analytic"]["elementwise_ops"] == 64 * 56 * 56 * 9
    assert document["match"] is True
    assert "must be at most half" in error_line(invoke("pool", "--channels", "4", "-k", "2",
                                                       "-p", "2"), 2)  # fmt: skip


# ---------------------------------------------------------------- issue 17: windows torch refuses


def _torch_pool_size(mode: str, dims: int, size: int, kernel: int, stride: int, padding: int,
                     dilation: int, ceil_mode: bool) -> int | None:  # fmt: skip
    """torch's output size on one axis, or None where torch refuses the pool."""
    x = torch.zeros((1, 1) + (size,) * dims)
    try:
        if mode == "max":
            largest: Any = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[dims - 1]
            return int(largest(x, kernel, stride, padding, dilation, ceil_mode=ceil_mode).shape[-1])
        mean: Any = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[dims - 1]
        return int(mean(x, kernel, stride, padding, ceil_mode=ceil_mode).shape[-1])
    except RuntimeError:
        return None


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_convcalc_refuses_exactly_the_pools_torch_refuses(mode: str, dims: int) -> None:
    """Every small pool (input 1-6, kernel 1-8, stride 1-3, padding up to half the
    kernel, dilation 1-2 for max, floor and ceil): convcalc accepts it exactly when
    torch does, with torch's output size. torch takes a window larger than the padded
    input under ceil_mode while one window still starts inside it (input 5, kernel 6,
    stride 2: one output); it refuses one that leaves no output (input 2, kernel 3,
    stride 1: convcalc said 0 and torchinfo ended in a traceback)."""
    checked = refused = larger = 0
    for size in range(1, 7):
        for kernel in range(1, 9):
            for stride, padding, dilation, ceil_mode in (
                (s, p, d, c) for s in (1, 2, 3) for p in range(kernel // 2 + 1)
                for d in ((1, 2) if mode == "max" else (1,)) for c in (False, True)
            ):  # fmt: skip
                expected = _torch_pool_size(mode, dims, size, kernel, stride, padding,
                                            dilation, ceil_mode)  # fmt: skip
                try:
                    design = convcalc.pool(1, mode, kernel=kernel, stride=stride,
                                           padding=padding, dilation=dilation,
                                           ceil_mode=ceil_mode, input=(size,) * dims)  # fmt: skip
                    got: int | None = convcalc.analyze(design).output_shape[-1]
                except InvalidSpecError:
                    got = None
                assert got == expected, (size, kernel, stride, padding, dilation, ceil_mode)
                checked += 1
                refused += expected is None
                larger += expected is not None and dilation * (kernel - 1) + 1 > size + 2 * padding
    assert checked >= 864  # input 1-6 x kernel 1-8 x its strides, paddings, dilations, modes
    assert refused > 0  # both sides of the rule were met
    assert larger > 0 or (mode, dims) == ("avg", 3)  # avg_pool3d needs input >= kernel


def test_a_window_torch_refuses_is_one_error_line() -> None:
    """Issue 17's two findings: a verified run ended in torchinfo's traceback, an
    analytic one printed 1x1x-1x-1; each is exit 2, one line, nothing on stdout."""
    verified = invoke("pool", "--channels", "1", "-k", "3", "-s", "1", "--ceil-mode", "-i", "2")
    line = error_line(verified, 2)
    assert "leaves no output on input 2" in line
    assert "torch needs at least 1" in line
    analytic = invoke("pool", "--channels", "1", "-k", "12", "-s", "2", "-p", "1", "--ceil-mode",
                      "-i", "6", "--no-verify", "--value", "output_shape")  # fmt: skip
    assert "= -1, and torch needs at least 1" in error_line(analytic, 2)
    assert analytic.stdout == ""
    floor = invoke("pool", "--channels", "1", "-k", "3", "-s", "1", "-i", "2", "--no-verify")
    assert "larger than the padded input 2" in error_line(floor, 2)


def test_a_window_larger_than_the_input_that_torch_takes_verifies() -> None:
    """input 5, kernel 6, stride 2, ceil_mode: torch gives one output; so does convcalc,
    and every verified figure agrees."""
    for mode in ("max", "avg"):
        report = convcalc.verify(convcalc.pool(2, mode, kernel=6, stride=2, ceil_mode=True,
                                               input=5), "cpu")  # fmt: skip
        assert report.output_shape == (1, 2, 1, 1)
        assert report.match is True, report.failed_checks


@pytest.mark.parametrize(
    ("window", "named"),
    [
        (["-k", "3"], "-k/--kernel"),
        (["--stride", "2"], "-s/--stride"),
        (["-p", "1"], "-p/--padding"),
        (["-d", "2"], "-d/--dilation"),
        (["--ceil-mode"], "--ceil-mode"),
        (["--no-count-include-pad"], "--count-include-pad/--no-count-include-pad"),
        (["-k", "2", "--ceil-mode"], "-k/--kernel, --ceil-mode"),
    ],
)
def test_adaptive_pooling_refuses_window_options(window: list[str], named: str) -> None:
    """``--output`` sizes its own windows: a window option beside it was silently
    ignored; now it is exit 2 naming each one given (even at its default value)."""
    result = invoke("pool", "--channels", "4", "--output", "1", *window, "--no-verify")
    assert error_line(result, 2) == (
        f"error: --output (adaptive pooling) sizes its own windows: drop {named}"
    )
    plain = invoke("pool", "--channels", "4", "--output", "1", "--mode", "avg", "--no-verify",
                   "--value", "output_shape")  # fmt: skip
    assert plain.stdout == "1x4x1x1\n"
