"""Ctrl-C for the command line: caught from the first instant, never lost.

The console script and ``python -m convcalc`` install the handler before they
import the CLI (typer, rich); the CLI then says ``error: interrupted`` and
exits 130. The handler records the interrupt before raising, so an interrupt
that a library swallows (torch's import has done so) still ends the run at
the CLI's next check. Standard library only: it runs before anything else loads.
"""

from __future__ import annotations

import contextlib
import signal
from types import FrameType

INTERRUPTED_EXIT = 130


class Interrupted(KeyboardInterrupt):
    """Raised by the SIGINT handler (a KeyboardInterrupt, so Ctrl-C handling still sees it)."""


_pressed = [False]


def _on_interrupt(_signum: int, _frame: FrameType | None) -> None:
    _pressed[0] = True
    raise Interrupted


def catch_interrupts() -> None:
    """Route Ctrl-C through the recording handler (a no-op off the main thread)."""
    with contextlib.suppress(ValueError, OSError):  # not the main thread, or no signals here
        if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            signal.signal(signal.SIGINT, _on_interrupt)


def interrupted() -> bool:
    """Whether Ctrl-C was pressed during this process (even if something swallowed it)."""
    return _pressed[0]


def check_interrupt() -> None:
    """Raise ``Interrupted`` if Ctrl-C was pressed and swallowed on the way."""
    if _pressed[0]:
        raise Interrupted
