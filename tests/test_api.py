"""The public library: what ``import convcalc`` gives, and the README's example, verbatim."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import convcalc
from convcalc import NETWORKS
from tests.test_layers import python

ROOT = Path(__file__).resolve().parents[1]


def test_readme_python_example_runs_verbatim() -> None:
    """The README's Python section runs as written, in a fresh interpreter (no torch first)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python API", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    process = python(code)
    assert process.returncode == 0, process.stderr
    lines = process.stdout.splitlines()
    assert lines[0] == "152 7096896 14193792"
    assert lines[1] == "8 x (4/2) x 3 x 3 + 8 = 152"
    assert lines[2].startswith("2636424 (")


def test_issue_example_without_torch() -> None:
    """analyze() gives 152 params and 7,096,896 MACs and leaves torch unimported."""
    code = (
        "import convcalc, sys; r = convcalc.analyze(convcalc.conv(4, 8, groups=2)); "
        "print(r.params, r.macs, 'torch' in sys.modules)"
    )
    process = python(code)
    assert process.returncode == 0, process.stderr
    assert process.stdout.strip() == "152 7096896 False"


def test_verify_and_networks() -> None:
    """verify() agrees on the grouped conv; MobileNet V2 analyses to torchvision's count."""
    report = convcalc.verify(convcalc.conv(4, 8, groups=2, input=32), "cpu")
    assert report.match is True
    assert report.measured is not None
    assert report.measured.device == "cpu"
    assert convcalc.analyze(convcalc.mobilenet(version=2)).params == 3_504_872


def test_constructors_take_ints_or_pairs_like_nn_conv2d() -> None:
    """Pairs and ints mean what nn.Conv2d means; the spec records them as used."""
    square = convcalc.analyze(convcalc.conv(4, 8, kernel=3, stride=2, padding=1, input=16))
    pairs = convcalc.analyze(
        convcalc.conv(4, 8, kernel=(3, 3), stride=(2, 2), padding=(1, 1), input=(16, 16))
    )
    assert square.to_dict() == pairs.to_dict()
    assert square.output_shape == (1, 8, 8, 8)
    assert square.spec["padding"] == [1, 1]
    wide = convcalc.analyze(convcalc.conv(1, 1, kernel=(3, 1), input=(9, 5)))
    assert wide.output_shape == (1, 1, 7, 5)
    assert convcalc.analyze(convcalc.conv(2, 2, kernel="global", input=(7, 5))).macs == 2 * 2 * 35


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: convcalc.conv(4, 8, groups=3), "groups=3 must divide cin=4 and cout=8"),
        (lambda: convcalc.conv(4, 8, kernel=(3, 3, 3), input=(32, 32)), "sizes with 2 and 3"),
        (lambda: convcalc.conv(4, 8, kernel=(3, 3), dims=3), "kernel=(3, 3) must be an integer"),
        (lambda: convcalc.conv(4, 8, dims=4), "dims=4 must be 1, 2 or 3"),
        (
            lambda: convcalc.conv(4, 8, stride=2, output_padding=2, transposed=True),
            "output padding=2 must be smaller than the stride or the dilation",
        ),
        (lambda: convcalc.conv(4, 8, output_padding=1), "is for a transposed convolution"),
        (lambda: convcalc.conv(4.0, 8), "cin=4.0 must be an integer"),  # type: ignore[arg-type]
        (lambda: convcalc.conv(True, 8), "cin=True must be an integer"),
        (lambda: convcalc.se(8, 16), "reduction=16"),
        (lambda: convcalc.mobilenet(version=4), "version=4"),
        (lambda: convcalc.mobilenet(width=0), "width=0"),
        (lambda: convcalc.sweep("resnet9", [1.0], [224]), "unknown network 'resnet9'"),
        (lambda: convcalc.analyze(convcalc.conv(4, 8), dtype="int8"), "dtype='int8'"),
        (lambda: convcalc.verify(convcalc.conv(4, 8), "tpu"), "device='tpu'"),
    ],
)
def test_bad_values_raise_invalid_spec_with_the_value(call: object, message: str) -> None:
    """The library raises the project's error type, naming the user's value; it never exits."""
    with pytest.raises(convcalc.InvalidSpecError, match=re.escape(message)):
        call()  # type: ignore[operator]


def test_report_attributes_and_renderings() -> None:
    """Typed figures, a readable repr, Markdown for notebooks and a Rich renderable."""
    report = convcalc.analyze(convcalc.separable(16, 32, padding=1, input=64))
    assert (report.params, report.flops) == (704, 2 * report.macs)
    assert [layer.name for layer in report.layers] == ["depthwise", "pointwise"]
    assert report.match is None
    assert report.checks == ()
    assert report.baseline is not None
    assert report.baseline.params == 32 * 16 * 9 + 32
    assert "params=704" in repr(report)
    assert "not verified" in repr(report)
    assert "| params | 704 |" in (report._repr_markdown_() or "")
    assert report.__rich__() is not None
    assert report.to_dict()["ratio_to_standard"]["params"] == pytest.approx(704 / 4640)


def test_compare_and_sweep_reports() -> None:
    """compare() skips what it cannot build and says why; sweep() takes ratios to 1.0 at 224."""
    comparison = convcalc.compare(3, 5)
    assert {d.network.name for d in comparison.designs} == {
        "standard",
        "depthwise-separable",
        "spatially-separable",
    }
    assert len(comparison.notes) == 3
    report = convcalc.analyze(convcalc.compare(4, 8, input=16))
    assert report.ratios(report.reports[0]) == (1.0, 1.0)
    assert report.to_dict()["command"] == "compare"
    points = convcalc.analyze(convcalc.sweep("mobilenet_v2", [1.0], [224, 160]))
    assert points.ratios(points.reports[0]) == (1.0, 1.0)
    assert [r.spec["resolution"] for r in points.reports] == [224, 160]


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_every_registered_network_analyses_verifies_and_sweeps(name: str) -> None:
    """Each registry entry builds from its defaults, agrees with torch and sweeps."""
    entry = NETWORKS[name]
    design = convcalc.core.designs.network_design(name, entry.default_spec())
    assert (design.command, design.kind) == (entry.command, entry.title)
    small = convcalc.sweep(name, [0.5], [96])
    report = convcalc.verify(small, "cpu").reports[0]
    assert report.match is True, report.failed_checks
    assert report.figures.network.name == name
