"""Every worked example of DOMAIN.md (tests/data/seed_cases.json) through the pure core."""

from __future__ import annotations

import pytest

from convcalc.core.count.figures import analyze
from tests.seeds import SEED_CASES, SeedCase, seed_network, seed_standard_network


def test_the_seed_file_has_every_worked_example() -> None:
    """The seed file holds the 21 worked examples with unique ids."""
    ids = [case.id for case in SEED_CASES]
    assert len(ids) == len(set(ids)) == 21
    assert {case.command for case in SEED_CASES} == {"conv", "separable", "spatial", "se"}


@pytest.mark.parametrize("case", SEED_CASES, ids=lambda case: case.id)
def test_seed_case(case: SeedCase) -> None:
    """The core reproduces the case's exact params, output shape, MACs and per-layer figures."""
    figures = analyze(seed_network(case))
    totals = figures.totals
    expect = case.expect
    assert totals.params == expect["params"]
    if "output_shape" in expect:
        assert list(totals.output_shape) == expect["output_shape"]
    if "macs" in expect:
        assert totals.macs == expect["macs"]
    if "layers" in expect:
        by_name = {layer.name: layer for layer in figures.layers}
        assert list(by_name) == [layer["name"] for layer in expect["layers"]]
        for layer in expect["layers"]:
            got = by_name[layer["name"]]
            if "params" in layer:
                assert got.params == layer["params"], layer["name"]
            if "macs" in layer:
                assert got.macs == layer["macs"], layer["name"]
            if "output_shape" in layer:
                assert list(got.output_shape) == layer["output_shape"], layer["name"]
    if "standard_macs" in expect:
        standard = analyze(seed_standard_network(case)).totals
        assert standard.macs == expect["standard_macs"]
        assert standard.params == expect["standard_params"]
