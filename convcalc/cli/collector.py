"""The cyclic garbage collector in the CLI's process: paused while a command runs.

A command's imports and work (typer's and the commands' tables, torch, a model's
library, its modules, the trace, the document) allocate hundreds of thousands of
objects and next to no cyclic garbage, yet every collection walks every object
that is not frozen: on YOLOv8n, 392 collections and 0.15 s while torch was
imported, and a few milliseconds of an analytic run's 0.1 s. So the CLI runs a
command with the collector off (``paused``), imports torch with it off and
freezes what it made (``load_torch``), freezes what the command made at its end
(the process ends there: no final collection walks it), and collects each batch
line's own garbage after the line (``collect_line``). The process is the CLI's:
the library never touches the collector.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """The collector off for the block and, if it was on, what the block made frozen
    after it (never walked again) and the collector on again."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.freeze()
            gc.enable()


def load_torch() -> None:
    """Import torch and torchinfo (a run that measures) with the collector off, and freeze
    what they made: later collections (a batch line's) never walk torch's objects."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        import convcalc.measure.profile  # noqa: F401  (torch and torchinfo)
    except ImportError:
        pass  # the command says what is missing
    finally:
        gc.freeze()  # inside a paused command too: torch's objects are never walked
        if collecting:
            gc.enable()


def collect_line() -> None:
    """After one line of a batch (or one entry of check) run under ``paused``: its cyclic
    garbage collected, as the collector would have (only what the line made is young)."""
    if not gc.isenabled():
        gc.collect(0)
