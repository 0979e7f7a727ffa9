"""A model profiled on meta does not import ``torch._dynamo`` (1-1.5 s) where nothing else
does: torch's Python references for meta ops run as they would under the import, and
torch is left as it was found. Each check runs in a fresh interpreter, where nothing
has imported torch._dynamo yet."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

SCRIPT = """
import json, sys
import torch
from torch import nn
import convcalc
from convcalc.measure.trace import _SLOT, _dynamo_disabled_references, meta_without_dynamo

class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.head = nn.Linear(8, 4)

    def forward(self, x):
        y = torch.nn.functional.gelu(self.bn(self.conv(x))) + torch.arange(16.0).sum()
        return self.head(y.mean((2, 3)).softmax(-1))

def seeded():
    return sum(fn.__dict__.get(_SLOT) is fn for fn in _dynamo_disabled_references())

out = {}
if sys.argv[1] == "profile":
    meta = convcalc.profile(Small, input_shape=(2, 3, 16, 16))  # a factory: built on meta
    out["dynamo"] = "torch._dynamo" in sys.modules
    out["found"] = len(_dynamo_disabled_references())
    out["seeded_after"] = seeded()
    cpu = convcalc.profile(Small, input_shape=(2, 3, 16, 16), device="cpu")
    out["device"] = meta.measured.device
    out["match"] = meta.match
    out["same"] = meta.to_dict()["analytic"] == cpu.to_dict()["analytic"]
else:  # torch._dynamo imported inside the block: every slot taken back before it runs
    with meta_without_dynamo():
        out["seeded_inside"] = seeded()
        import torch._dynamo
        out["seeded_after_import"] = seeded()
        torch.relu(torch.empty(3, device="meta"))
    out["disabled"] = sum(fn.__dict__.get(_SLOT) not in (None, fn)
                          for fn in _dynamo_disabled_references())
print(json.dumps(out))
"""


def _run(mode: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.slow
def test_a_meta_profile_leaves_dynamo_unimported_and_torch_as_it_was() -> None:
    """BatchNorm, GELU, arange and a bias add on meta (each a reference that imported
    torch._dynamo) run without it; the figures are the CPU's; no slot stays seeded."""
    out = _run("profile")
    assert out["dynamo"] is False
    assert isinstance(out["found"], int)
    assert out["found"] > 50  # the references the wrapper was found on
    assert out["seeded_after"] == 0
    assert out["device"] == "meta"
    assert out["match"] is True
    assert out["same"] is True


@pytest.mark.slow
def test_an_import_of_dynamo_inside_takes_every_slot_back_first() -> None:
    """Where the block imports torch._dynamo after all, torch's own path is back before
    the import runs: a meta op then caches torch._dynamo.disable(fn), as it always did."""
    out = _run("import")
    assert isinstance(out["seeded_inside"], int)
    assert out["seeded_inside"] > 50
    assert out["seeded_after_import"] == 0
    assert isinstance(out["disabled"], int)
    assert out["disabled"] >= 1
