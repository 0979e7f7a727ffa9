"""convcalc hardware measure: this machine as a spec --hardware takes.

Nothing is timed here: the cache sizes come from a made-up /sys tree, the
measurement from a made-up Probe, and what is checked is what convcalc makes
of them: the levels, their bandwidths, the saved spec read back by name.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from convcalc.cli import app
from convcalc.core.count.roofline import Hardware, load_hardware, parse_hardware, read_spec
from convcalc.measure import hardware_probe
from convcalc.measure.hardware_probe import (
    BandwidthPoint,
    CacheLevel,
    PeakCandidate,
    Probe,
    cache_bandwidths,
    copy_sizes,
    cpu_caches,
    parse_cache_size,
    peak_kind,
    to_hardware,
)

runner = CliRunner()


def fake_sys(root: Path, levels: list[tuple[int, str, str, str]]) -> Path:
    """A /sys/devices/system/cpu/cpu0/cache tree: (level, type, size, shared_cpu_list)."""
    for index, (level, kind, size, shared) in enumerate(levels):
        folder = root / f"index{index}"
        folder.mkdir(parents=True)
        (folder / "level").write_text(f"{level}\n")
        (folder / "type").write_text(f"{kind}\n")
        (folder / "size").write_text(f"{size}\n")
        (folder / "shared_cpu_list").write_text(f"{shared}\n")
    return root


def test_cache_sizes_are_read_as_the_threads_see_them(tmp_path: Path) -> None:
    """L1 and instruction caches are skipped; a per-core L2 counts once per thread's core,
    a shared L3 once."""
    levels = [(1, "Data", "32K", "0"), (1, "Instruction", "32K", "0"),
              (2, "Unified", "1024K", "0"), (3, "Unified", "32768K", "0-1")]  # fmt: skip
    root = fake_sys(tmp_path, levels)
    two = cpu_caches(2, root)
    assert [(c.name, c.size, c.instances) for c in two] == [("L2", 2 * 2**20, 2),
                                                             ("L3", 32 * 2**20, 1)]  # fmt: skip
    one = cpu_caches(1, root)
    assert one[0].size == 2**20
    assert cpu_caches(2, tmp_path / "missing") == ()
    assert parse_cache_size("32K") == 32768
    assert parse_cache_size("1M") == 2**20
    assert parse_cache_size("512") == 512
    with pytest.raises(ValueError, match="cache size"):
        parse_cache_size("lots")


def test_copies_span_from_inside_l2_to_far_past_the_last_level() -> None:
    """The smallest copy fits well inside L2, the largest is 8 x the last level or more."""
    caches = (CacheLevel("L2", 2**21, 2**20, 2), CacheLevel("L3", 2**25, 2**25, 1))
    sizes = copy_sizes(caches)
    assert 2 * sizes[0] <= caches[0].size
    assert sizes[-1] >= 8 * caches[-1].size
    assert all(b == 2 * a for a, b in itertools.pairwise(sizes))
    assert copy_sizes(())[0] == 2**17


def test_each_level_is_bounded_by_the_working_sets_that_fit_it() -> None:
    """A level's bandwidth is the best at working sets inside it and not the level within
    (then twice the last level, for layers in place); the memory's the best past them."""
    caches = (CacheLevel("L2", 2**21, 2**20, 2), CacheLevel("L3", 2**25, 2**25, 1))
    curve = [BandwidthPoint(2**20, 100e9), BandwidthPoint(2**21, 150e9),
             BandwidthPoint(2**23, 180e9), BandwidthPoint(2**25, 60e9),
             BandwidthPoint(2**26, 90e9), BandwidthPoint(2**27, 35e9),
             BandwidthPoint(2**29, 30e9)]  # fmt: skip
    levels, memory = cache_bandwidths(caches, curve)
    # an in-place layer moving up to twice the last level may have its buffer in it
    assert [(c.name, c.size, rate) for c, rate in levels] == [
        ("L2", 2**21, 150e9),
        ("L3", 2**25, 180e9),
        ("L3 x2 (in place)", 2**26, 90e9),
    ]
    assert memory == 35e9


def probe(dtype: str = "float32", peak: float = 2e11) -> Probe:
    caches = (CacheLevel("L2", 2**21, 2**20, 2), CacheLevel("L3", 2**25, 2**25, 1))
    curve = (BandwidthPoint(2**21, 150e9), BandwidthPoint(2**24, 180e9),
             BandwidthPoint(2**28, 30e9))  # fmt: skip
    levels, memory = cache_bandwidths(caches, curve)
    candidates = (PeakCandidate("matmul 2048x2048x2048", peak),)
    return Probe("cpu", "Test CPU", dtype, 2, peak, memory, candidates, curve, caches, levels)


def test_a_measured_spec_round_trips_and_is_found_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spec (core.count.roofline's format, with its cache levels and how it was measured)
    is saved, read back equal, found by --hardware NAME, and its roof has the caches."""
    monkeypatch.setenv("CONVCALC_HARDWARE_DIR", str(tmp_path))
    from convcalc.core.count.roofline import save_hardware

    spec = to_hardware(probe(), "my-box")
    path = save_hardware(spec)
    assert read_spec(path) == spec
    assert Hardware.from_dict(json.loads(path.read_text())) == spec
    assert load_hardware("my-box") == spec
    roof = parse_hardware("my-box", "float32")
    assert roof.peak == 2e11
    assert roof.bandwidth == 30e9
    assert [(c.name, c.bytes) for c in roof.caches] == [("L2", 2**21), ("L3", 2**25)]
    assert roof.level(2**20) == ("L2", 150e9)
    assert roof.level(2**30)[0] == "memory"
    assert spec.measured is not None
    assert spec.measured["threads"] == 2
    assert "measured" in spec.source["document"]


def test_another_dtype_keeps_the_peaks_measured_before() -> None:
    """Measuring bfloat16 into a spec that has fp32 keeps the fp32 peak."""
    first = to_hardware(probe(), "box")
    second = to_hardware(probe("bfloat16", 5e11), "box", first)
    assert second.peaks == {"fp32": 2e11, "bf16": 5e11}
    assert peak_kind("cpu", "float32") == "fp32"
    assert peak_kind("cpu", "float16") == "fp16"


def test_the_measure_command_saves_and_prints_the_spec(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`convcalc hardware measure --name NAME` saves NAME.json, prints the spec on stdout
    and says what it measured on stderr; a bad --seconds is one error line, exit 2."""
    monkeypatch.setenv("CONVCALC_HARDWARE_DIR", str(tmp_path))

    def measured(device: str, dtype: str, **options: object) -> Probe:
        notify = options["notify"]
        assert callable(notify)
        notify("notice: measuring (made up)")
        return probe(dtype)

    monkeypatch.setattr(hardware_probe, "measure_machine", measured)
    result = runner.invoke(app, ["hardware", "measure", "--name", "Test-Box", "--device", "cpu"])
    assert result.exit_code == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["name"] == "test-box"
    assert printed["peaks"] == {"fp32": 2e11}
    assert (tmp_path / "test-box.json").is_file()
    assert "measuring (made up)" in result.stderr
    assert "--hardware test-box" in result.stderr
    listed = runner.invoke(app, ["hardware", "--format", "json"])
    assert "test-box" in [row["name"] for row in json.loads(listed.stdout)["hardware"]]
    bad = runner.invoke(app, ["hardware", "measure", "--seconds", "0"])
    assert bad.exit_code == 2
    assert bad.stderr.startswith("error:")


def test_a_bad_request_is_refused_before_measuring() -> None:
    """An unknown dtype or device, or CUDA where there is none: errors, not tracebacks."""
    from convcalc.errors import ConvCalcError

    with pytest.raises(ConvCalcError, match="dtype"):
        hardware_probe.measure_machine("cpu", "int3")
    with pytest.raises(ConvCalcError, match="device"):
        hardware_probe.measure_machine("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConvCalcError, match="CUDA"):
            hardware_probe.measure_machine("cuda")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_cuda_device_is_measured() -> None:
    """On a GPU: a peak, an L2 from torch, a bandwidth curve, in a few seconds."""
    found = hardware_probe.measure_machine("cuda", "float16", seconds=3.0)
    assert found.peak > 0
    assert found.bandwidth > 0
    assert found.threads is None
    assert found.caches
    assert found.caches[0].name == "L2"


def test_listing_refuses_the_options_of_measure() -> None:
    """`convcalc hardware --seconds 3` (no measure) says so rather than ignoring it."""
    result = runner.invoke(app, ["hardware", "--seconds", "3"])
    assert result.exit_code == 2
    assert "hardware measure" in result.stderr
