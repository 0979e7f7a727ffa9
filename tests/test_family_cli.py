"""The convolution family on the command line: --transposed, --output-padding, --dims."""

from __future__ import annotations

import json

import pytest

from tests.test_cli import error_line, invoke, json_document, run

ISSUE_EXAMPLE = ("conv", "--cin", "4", "--cout", "8", "-k", "3", "-s", "2", "-p", "1",
                 "--transposed", "--output-padding", "1", "-i", "32")  # fmt: skip


def test_transposed_conv_counts_as_torch_does_and_says_how_torchinfo_differs() -> None:
    """Output 64 x 64, 294,912 MACs (on the input) + 32,768 bias adds, agreeing with
    FlopCounterMode; torchinfo's 1,212,416 shown beside, with why."""
    result = invoke(*ISSUE_EXAMPLE, "--cross-check", "--exact")
    assert result.exit_code == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "1 x 8 x 64 x 64" in out
    assert "1 x 32 x 32 x 4 x 8 x 3 x 3 = 294,912" in out
    assert "(32 - 1) x 2 - 2x1 + 1x(3-1) + 1 + 1 = 64" in out
    assert "1,212,416: every weight at every output position, as if stride 1" in out
    document = json_document(invoke(*ISSUE_EXAMPLE, "--cross-check", "--format", "json"))
    assert document["analytic"]["macs"] == 294_912
    assert document["analytic"]["bias_adds"] == 32_768
    assert document["analytic"]["output_shape"] == [1, 8, 64, 64]
    assert document["measured"]["flop_counter_flops"] == 2 * 294_912
    assert document["spec"]["transposed"] is True
    assert document["spec"]["output_padding"] == [1, 1]
    assert document["match"] is True


def test_two_d_specs_keep_their_json() -> None:
    """The spec gains dims/transposed/output_padding only where they are not 2-D's
    defaults: a plain conv's document has exactly the keys it had."""
    document = json_document(invoke("conv", "--cin", "4", "--cout", "8", "--format", "json",
                                    "--no-verify"))  # fmt: skip
    assert not {"dims", "transposed", "output_padding"} & set(document["spec"])


@pytest.mark.parametrize(
    ("args", "shape", "kind"),
    [
        (("--dims", "1", "-k", "5", "-i", "100", "-d", "2"), [1, 8, 92],
         "1-D standard, dilated (effective kernel 9)"),
        (("--dims", "3", "-k", "3x7x7", "-s", "1x2x2", "-p", "1x3x3", "-i", "16x112x112"),
         [1, 8, 16, 56, 56], "3-D standard"),
        (("--dims", "3", "-k", "2", "-s", "2", "--transposed", "-i", "4x5x6", "-g", "2"),
         [1, 8, 8, 10, 12], "3-D transposed grouped (g=2)"),
    ],
)  # fmt: skip
def test_one_and_three_d(args: tuple[str, ...], shape: list[int], kind: str) -> None:
    """--dims with one size for every axis or one per axis; torch agrees."""
    result = invoke("conv", "--cin", "4", "--cout", "8", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["analytic"]["output_shape"] == shape
    assert document["analytic"]["kind"] == kind
    assert document["match"] is True


def test_compare_transposed_shows_the_ways_to_upsample() -> None:
    """The transposed conv beside nearest and bilinear resampling + a stride-1 conv, all
    at the same output size; the resampling ones cost s^2 = 4x the MACs here."""
    result = invoke("compare", "--cin", "16", "--cout", "8", "-k", "3", "-s", "2", "-p", "1",
                    "--transposed", "--output-padding", "1", "-i", "16",
                    "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    variants = json.loads(result.stdout)["variants"]
    assert [v["variant"] for v in variants] == ["transposed", "nearest + conv", "bilinear + conv"]
    assert {tuple(v["analytic"]["output_shape"]) for v in variants} == {(1, 8, 32, 32)}
    assert [v["ratio_to_standard"]["macs"] for v in variants] == [1.0, 4.0, 4.0]
    assert all(v["match"] for v in variants)


def test_compare_in_one_d_skips_the_spatial_split() -> None:
    result = invoke("compare", "--cin", "4", "--cout", "8", "--dims", "1", "-i", "20")
    assert result.exit_code == 0
    assert "skipped spatially-separable (a 1-D kernel has no axes to split)" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-k", "3x3", "--dims", "3"), "kernel='3x3' is not an integer or DxHxW (3x3x3)"),
        (("--dims", "4"), "dims=4 must be 1, 2 or 3"),
        (("-s", "2", "--transposed", "--output-padding", "2"),
         "output padding=2 must be smaller than the stride or the dilation"),
        (("--output-padding", "1",), "output padding=1 is for a transposed convolution"),
        (("--transposed", "-p", "same"), "padding=same is not defined for a transposed"),
        (("--transposed", "-p", "5", "-i", "4"), "crops the transposed convolution's output"),
        (("--output-padding", "x"), "output padding='x' is not"),
    ],
)  # fmt: skip
def test_invalid_family_specs_exit_2_with_one_line(args: tuple[str, ...], message: str) -> None:
    assert message in error_line(invoke("conv", "--cin", "4", "--cout", "8", *args), 2)


def test_transposed_in_a_real_process() -> None:
    """The installed entry point, as a script runs it."""
    process = run(*ISSUE_EXAMPLE, "--value", "macs")
    assert process.returncode == 0, process.stderr
    assert process.stdout.strip() == "294912"
