"""The CLI pauses the cyclic garbage collector while a command runs (start-up and
``model`` speed, ``cli.collector``): a run's imports and work make next to no cyclic
garbage, yet each collection walks every object not frozen. These tests count
collections, never time: a verified ``model`` run (torch imported while the command
parses) and an analytic run trigger none once the entry point runs, a batch one per
line (its garbage), and the pause puts the collector back as it found it."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

from convcalc.cli.collector import collect_line, paused

ROOT = Path(__file__).resolve().parent.parent

# The CLI run in a fresh interpreter as the console script runs it, counting the
# collections that start once its entry point is imported (the package's own import,
# whose count depends on whether its bytecode was compiled yet, is the library's and
# left alone), printed on stderr at exit.
_COUNTED = """
import atexit, gc, sys
sys.argv = ["convcalc", *sys.argv[1:]]
from convcalc.__main__ import main
counted = [0]
gc.callbacks.append(lambda phase, info: phase == "start" and counted.__setitem__(0, counted[0] + 1))
atexit.register(lambda: sys.stderr.write(f"collections {counted[0]}\\n"))
main()
"""


def _collections(*argv: str) -> int:
    run = subprocess.run([sys.executable, "-c", _COUNTED, *argv], capture_output=True,
                         text=True, cwd=ROOT, check=True)  # fmt: skip
    return int(run.stderr.strip().splitlines()[-1].split()[-1])


def test_a_verified_model_run_collects_nothing(tmp_path: Path) -> None:
    """Importing torch, building and tracing a model and checking it with torchinfo: no
    collection (there were hundreds while torch was imported with the collector on)."""
    source = tmp_path / "tiny.py"
    source.write_text(
        "from torch import nn\n\n\ndef tiny():\n"
        "    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 8, 3))\n"
    )
    assert _collections("model", f"{source}:tiny", "--format", "json") == 0


def test_an_analytic_run_collects_nothing() -> None:
    assert _collections("resnet", "--no-verify", "--format", "json") == 0


def test_a_batch_collects_each_lines_garbage(tmp_path: Path) -> None:
    """A batch runs its lines under one pause and collects each line's garbage after it:
    one young collection a line, no more."""
    lines = tmp_path / "lines.txt"
    lines.write_text("conv --cin 4 --cout 8 --no-verify\n" * 3)
    assert _collections("batch", str(lines)) == 3


def test_the_pause_restores_the_collector() -> None:
    """On again after the block, with what it made frozen; left off if it was off."""
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    try:
        with paused():
            assert not gc.isenabled()
            kept: list[object] = []  # something the command made
            kept.append(kept)
        assert gc.isenabled()
        assert gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()
    gc.disable()
    try:
        with paused():
            pass
        assert not gc.isenabled()  # off before: left off
        collect_line()  # paused: collects the young generation (here, as a call)
    finally:
        gc.enable()
