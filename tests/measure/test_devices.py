"""Device choice: CPU for small specs, meta for huge ones (with a notice), CUDA when present."""

from __future__ import annotations

import resource

import pytest
import torch

from convcalc.core.count.figures import analyze
from convcalc.core.documents.checks import build_checks
from convcalc.core.nets.layers import ConvSpec, conv_network
from convcalc.errors import EnvironmentUnavailableError
from convcalc.measure.probe import check_torch_sizes, choose_device, measure

HAS_CUDA = torch.cuda.is_available()
BIG = ConvSpec(256, 256, padding=(1, 1), input=(1024, 1024), batch=64)


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def test_big_conv_verifies_on_meta_with_a_notice() -> None:
    """64 x 256 x 1024 x 1024 moves to meta, says so, and still agrees in every figure."""
    figures = analyze(conv_network(BIG))
    notices: list[str] = []
    before = _peak_rss_mib()
    device = choose_device("cpu", figures, notices.append)
    assert device == "meta"
    assert len(notices) == 1
    assert notices[0].startswith("notice:")
    assert "meta" in notices[0]
    assert "128.0 GiB" in notices[0]  # 64 GiB input + 64 GiB output, float32
    measured = measure(figures, device, cross_check=True)
    assert measured.device == "meta"
    assert all(check.ok for check in build_checks(figures, measured))
    # 64 x 1024 x 1024 x 256 x 256 x 9 MACs, computed by hand.
    assert measured.flop_counter_flops == 2 * 64 * 1024 * 1024 * 256 * 256 * 9
    assert measured.output_shape == (64, 256, 1024, 1024)
    assert _peak_rss_mib() - before < 600  # no real tensor of the batch was allocated


def test_small_spec_stays_on_the_cpu_without_a_notice() -> None:
    """A small spec verifies on the requested CPU and says nothing."""
    figures = analyze(conv_network(ConvSpec(4, 8, input=(16, 16))))
    notices: list[str] = []
    assert choose_device("cpu", figures, notices.append) == "cpu"
    assert choose_device("meta", figures, notices.append) == "meta"
    assert notices == []


@pytest.mark.skipif(HAS_CUDA, reason="auto picks CUDA where there is one")
def test_auto_picks_the_cpu_without_cuda() -> None:
    """--device auto is the CPU when CUDA is absent."""
    figures = analyze(conv_network(ConvSpec(4, 8, input=(16, 16))))
    assert choose_device("auto", figures, print) == "cpu"


@pytest.mark.skipif(HAS_CUDA, reason="CUDA is present here")
def test_cuda_without_cuda_is_an_environment_error() -> None:
    """Asking for CUDA where there is none raises the exit-3 error."""
    figures = analyze(conv_network(ConvSpec(4, 8, input=(16, 16))))
    with pytest.raises(EnvironmentUnavailableError, match="CUDA is not available") as info:
        choose_device("cuda", figures, print)
    assert info.value.exit_code == 3


def test_meta_verification_agrees() -> None:
    """Explicit meta gives the same figures as a real forward pass."""
    figures = analyze(conv_network(ConvSpec(4, 8, kernel=(3, 1), groups=2, input=(9, 7))))
    on_meta = measure(figures, "meta", cross_check=True)
    on_cpu = measure(figures, "cpu", cross_check=True)
    assert on_meta.device == "meta"
    assert all(check.ok for check in build_checks(figures, on_meta))
    assert (on_meta.params, on_meta.output_shape, on_meta.torchinfo_mult_adds) == (
        on_cpu.params,
        on_cpu.output_shape,
        on_cpu.torchinfo_mult_adds,
    )
    assert on_meta.flop_counter_flops == on_cpu.flop_counter_flops


@pytest.mark.cuda
@pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA device")
def test_cuda_verification_agrees() -> None:
    """On a CUDA device, auto picks it and every figure agrees."""
    figures = analyze(conv_network(ConvSpec(4, 8, groups=2, input=(32, 32), batch=2)))
    assert choose_device("auto", figures, print) == "cuda"
    measured = measure(figures, "cuda", cross_check=True)
    assert measured.device == "cuda"
    assert all(check.ok for check in build_checks(figures, measured))


@pytest.mark.cuda
@pytest.mark.skipif(not HAS_CUDA, reason="needs a CUDA device")
def test_cuda_big_conv_still_moves_to_meta() -> None:
    """Even on a GPU, a forward pass larger than the limit verifies on meta with a notice."""
    figures = analyze(conv_network(BIG))
    notices: list[str] = []
    assert choose_device("cuda", figures, notices.append) == "meta"
    assert len(notices) == 1
    assert "on cuda" in notices[0]


def test_sizes_torch_cannot_hold_are_an_environment_error() -> None:
    """A batch past int64 is refused before torch overflows; a large representable one is not."""
    huge = analyze(conv_network(ConvSpec(4, 8, batch=10**20, input=(8, 8))))
    with pytest.raises(EnvironmentUnavailableError, match="64-bit") as info:
        check_torch_sizes(huge)
    assert info.value.exit_code == 3
    with pytest.raises(EnvironmentUnavailableError, match="64-bit"):
        measure(huge, "meta")
    check_torch_sizes(analyze(conv_network(BIG)))  # 64 x 256 x 1024 x 1024 is fine
