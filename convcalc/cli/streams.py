"""The CLI's output streams, and numbers longer than Python prints (Ctrl-C: convcalc.interrupts).

- **A reader that has gone** (``convcalc ... | head -1``): the rest of the
  document is dropped and the exit status is the run's verdict (0, or 1 for a
  failed check), not a failure of its own.
- **An output that cannot be written** (``> /dev/full``): one error line, exit 3.
- **A stream that cannot encode the table's marks** (``PYTHONIOENCODING=ascii``):
  ``✓`` becomes ``Y``, ``✗`` ``N``, bar blocks ``#``; anything else ``?``.
- **Numbers past 4,300 digits** (Python's default int-to-text limit) print in
  full: inputs are at most 4,300 digits (core.values.parse), so results stay a few
  times that and print in milliseconds.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from convcalc.errors import EnvironmentUnavailableError

# ---------------------------------------------------------------- encodings

_ASCII_FALLBACK = {"✓": "Y", "✗": "N", "█": "#", "…": "...", "→": "->"}
_ASCII_FALLBACK |= dict.fromkeys("▏▎▍▌▋▊▉", ":")


def _replace(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(_ASCII_FALLBACK.get(c, "?") for c in bad), error.end


codecs.register_error("convcalc", _replace)


def prepare_streams() -> None:
    """Let stdout and stderr write what they cannot encode, and print long numbers."""
    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None) or "utf-8"
        try:
            "✓✗█▏".encode(encoding)
        except (UnicodeEncodeError, LookupError):
            with contextlib.suppress(AttributeError, ValueError, OSError):
                stream.reconfigure(errors="convcalc")  # type: ignore[union-attr]
    if hasattr(sys, "set_int_max_str_digits"):  # Python 3.11+, and 3.10.7+
        sys.set_int_max_str_digits(0)


# ---------------------------------------------------------------- writing


def _silence(stream: TextIO) -> None:
    """Point the stream's descriptor at /dev/null, so the exit flush cannot fail again."""
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return  # an in-memory stream (tests, batch capture): nothing to protect
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


class GuardedStdout:
    """stdout for one run: a gone reader is tolerated, a failed write is exit 3.

    Everything that writes the document (our renderers, Rich, click's help)
    writes through it, so none of them decides the exit status on its own
    (click and Rich would exit 1 on a broken pipe).
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.gone = False
        self.failure = ""  # why a write failed: kept, as click swallows what write() raises

    def _guard(self, action: str, *args: Any) -> Any:
        if self.gone:
            return len(args[0]) if args else None
        try:
            return getattr(self.stream, action)(*args)
        except BrokenPipeError:
            self.gone = True
            _silence(self.stream)
            return len(args[0]) if args else None
        except OSError as exc:
            _silence(self.stream)
            self.gone = True
            self.failure = f"cannot write the output: {exc.strerror or exc}"
            raise EnvironmentUnavailableError(self.failure) from None

    def write(self, text: str) -> int:
        """Write, or drop the text when the reader has gone."""
        return int(self._guard("write", text))

    def flush(self) -> None:
        """Flush, under the same rules."""
        self._guard("flush")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


@contextlib.contextmanager
def guarded_stdout() -> Iterator[None]:
    """Run with ``sys.stdout`` guarded, and flush it at the end under the same rules."""
    previous = sys.stdout
    guarded = GuardedStdout(previous)
    sys.stdout = guarded
    try:
        yield
        guarded.flush()
    finally:
        sys.stdout = previous
    if guarded.failure:
        raise EnvironmentUnavailableError(guarded.failure)


# Where notices go instead of stderr while a batch line or check entry is parsed
# (``notices_to``): its notices are its own, recorded with it.
_NOTICE_SINKS: list[Callable[[str], None]] = []


@contextlib.contextmanager
def notices_to(sink: Callable[[str], None]) -> Iterator[None]:
    """Within the block, each ``notice: ...`` line written through ``write_err`` goes to
    ``sink`` instead of stderr (errors still go to stderr)."""
    _NOTICE_SINKS.append(sink)
    try:
        yield
    finally:
        _NOTICE_SINKS.pop()


def write_err(text: str) -> None:
    """A line on stderr; a stderr that cannot take it is not worth a traceback."""
    if _NOTICE_SINKS and text.startswith("notice: "):
        for line in text.splitlines():
            _NOTICE_SINKS[-1](line)
        return
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, ValueError):
        with contextlib.suppress(Exception):
            _silence(sys.stderr)
