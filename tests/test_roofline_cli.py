"""The roofline on the command line: --hardware, --fused, convcalc hardware, and their errors."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.test_cli import error_line, invoke

DEPTHWISE = ("conv", "--cin", "32", "--cout", "32", "-g", "32", "-p", "1", "--no-bias", "-i",
             "112", "--dtype", "bfloat16", "--no-verify")  # fmt: skip


def test_the_device_figures_in_json_and_value() -> None:
    """--hardware h100-sxm: the document's roofline and --value of each of its figures."""
    result = invoke(*DEPTHWISE, "--hardware", "h100-sxm", "--format", "json")
    assert result.exit_code == 0, result.stderr
    roofline = json.loads(result.stdout)["analytic"]["roofline"]
    assert roofline["bytes_moved"] == (288 + 2 * 32 * 112 * 112) * 2
    assert roofline["bound"] == "memory"
    assert roofline["hardware"]["peak_kind"] == "bf16"
    assert roofline["time_bound"] == pytest.approx(roofline["bytes_moved"] / 3.35e12)
    value = invoke(*DEPTHWISE, "--hardware", "h100-sxm", "--value", "bound")
    assert value.stdout == "memory\n"
    intensity = invoke(*DEPTHWISE, "--value", "arithmetic_intensity")  # no device needed
    assert float(intensity.stdout) == pytest.approx(4.498, abs=0.001)


def test_a_device_figure_without_a_device_is_one_error() -> None:
    """--value time_bound with no --hardware: exit 2, naming the option."""
    line = error_line(invoke(*DEPTHWISE, "--value", "time_bound"), 2)
    assert "--hardware" in line


@pytest.mark.parametrize("spec", ["nonesuch", "peak=1T", "peak=-1,bandwidth=1T", "t4,peak=bf16",
                                  "h100-sxm,speed=3", "missing/file.json"])  # fmt: skip
def test_a_bad_device_is_one_error(spec: str) -> None:
    """An unknown name, a missing rate, a peak the device lacks, a file that is not there."""
    error_line(invoke(*DEPTHWISE, "--hardware", spec), 2)


def test_bfloat16_on_a_t4_names_how_to_choose() -> None:
    """A T4 has no bf16 peak: the error says how to name one."""
    line = error_line(invoke(*DEPTHWISE, "--hardware", "t4"), 2)
    assert "peak=" in line


def test_tables_show_the_roofline_only_when_asked() -> None:
    """The summary gains its rows (with formulas) and a network its per-layer roofline
    table only with --hardware or --fused."""
    plain = invoke("mobilenet", "--width", "0.25", "--resolution", "32", "--no-verify")
    assert "bytes moved" not in plain.stdout
    shown = invoke("mobilenet", "--width", "0.25", "--resolution", "32", "--no-verify",
                   "--hardware", "l4", "--fused")  # fmt: skip
    assert shown.exit_code == 0, shown.stderr
    for text in ("roofline per layer on l4", "ridge point", "time, lower bound",
                 "memory-bound share", "fused into the op before them"):  # fmt: skip
        assert text in shown.stdout, text
    markdown = invoke("se", "--channels", "64", "-i", "8", "--no-verify", "--hardware", "t4",
                      "--format", "markdown")  # fmt: skip
    assert "| # | layer | FLOPs | bytes moved |" in markdown.stdout


def test_csv_layers_sum_to_the_total_bytes() -> None:
    """Each layer's bytes moved in the CSV sums to the total's."""
    result = invoke("cbam", "--channels", "8", "--reduction", "2", "-i", "4", "--no-verify",
                    "--hardware", "a100-80gb", "--format", "csv")  # fmt: skip
    lines = list(csv.DictReader(io.StringIO(result.stdout)))
    moved = [int(x["analytic"]) for x in lines if x["figure"] == "bytes_moved"]
    total = next(int(x["analytic"]) for x in lines
                 if x["figure"] == "bytes_moved" and x["scope"] == "total")  # fmt: skip
    assert total == 5744  # tests/core/test_roofline.py derives it by hand
    assert sum(moved) == 2 * total


def test_a_bytes_budget() -> None:
    """--max-bytes-moved bounds the catalogue's bytes moved: exit 1 above it."""
    over = invoke("conv", "--cin", "4", "--cout", "8", "-i", "8", "--no-verify",
                  "--max-bytes-moved", "1K")  # fmt: skip
    assert over.exit_code == 1
    assert "bytes" in over.stderr


@pytest.mark.parametrize("output", ["table", "json", "csv", "markdown"])
def test_hardware_lists_the_table_in_every_format(output: str) -> None:
    """convcalc hardware: every device of the table, each with its source."""
    result = invoke("hardware", "--format", output)
    assert result.exit_code == 0, result.stderr
    for name in ("h100-sxm", "h100-pcie", "h200", "a100-40gb", "a100-80gb", "l4", "l40s",
                 "rtx-4090", "t4", "v100"):  # fmt: skip
        assert name in result.stdout
    if output == "json":
        rows = json.loads(result.stdout)["hardware"]
        assert all(row["source"]["url"] for row in rows)
    assert not any(line.endswith(" ") for line in result.stdout.splitlines())


def test_hardware_lists_a_saved_spec(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """A spec saved in the user's folder is listed and usable by name."""
    folder = f"{tmp_path}/hw"
    monkeypatch.setenv("CONVCALC_HARDWARE_DIR", folder)
    from convcalc.core.count.roofline import Hardware, save_hardware

    save_hardware(Hardware("bench", {"fp32": 2e11}, 3e10))
    listed = invoke("hardware", "--format", "json")
    assert any(row["name"] == "bench" and row["origin"] == "saved"
               for row in json.loads(listed.stdout)["hardware"])  # fmt: skip
    used = invoke("conv", "--cin", "4", "--cout", "8", "-i", "8", "--no-verify", "--hardware",
                  "bench", "--value", "ridge_point")  # fmt: skip
    assert float(used.stdout) == pytest.approx(2e11 / 3e10)
