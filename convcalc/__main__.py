"""``python -m convcalc`` and the ``convcalc`` console script.

Ctrl-C is caught before the CLI (typer, rich) is imported: an interrupt during
start-up is one ``error: interrupted`` line too.

The CLI's import runs with the cyclic garbage collector off: importing
allocates thousands of objects (classes, functions, typer's and the commands'
tables) and no garbage, yet triggers dozens of collections that walk them all
(about 5 ms of typer's import and 3 ms of the commands', SPEC "Performance").
The collector is back on before any command runs, with what the imports made
frozen (``gc.freeze``): it lives as long as the process, and no collection walks it.

A run that never imported torch ends without the interpreter's teardown
(``_leave``): once its streams are flushed and the ``atexit`` functions have run,
freeing every module, class and function one by one changes nothing anyone can
see, and costs 2-3 ms of a 70 ms analytic run. A run with torch loaded, another
thread, a profiler or a tracer, or an exit status that is no number ends as usual.
"""

import gc
import os
import sys

from convcalc.interrupts import INTERRUPTED_EXIT, catch_interrupts


def main() -> None:
    """Run the CLI, then end the process (``_leave``) with its exit status."""
    try:
        _run()
    except SystemExit as exc:
        _leave(exc.code)
        raise
    _leave(0)


def _leave(code: object) -> None:
    """End the process now with ``code`` when nothing waits for the teardown: no torch
    (its own exit work), one thread, no profiler or tracer; the streams flushed and the
    ``atexit`` functions run first, as at any exit. Otherwise return: the usual exit."""
    if code is None:
        code = 0
    if type(code) is not int or "torch" in sys.modules:
        return
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() != 1:
        return
    if sys.getprofile() is not None or sys.gettrace() is not None:
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # a stream that cannot be written: the usual exit reports it
        return
    import atexit

    atexit._run_exitfuncs()  # what the interpreter's exit runs first
    os._exit(code)


def _run() -> None:
    """Catch Ctrl-C, then run the CLI. Its import and typer's reading of the commands
    (a tenth of a second) come before the CLI's own handling: an interrupt there is
    the same one line."""
    catch_interrupts()
    try:
        collecting = gc.isenabled()
        gc.disable()  # imports make no garbage worth collecting (see the docstring)
        try:
            from convcalc.cli import main as run
        finally:
            if collecting:
                gc.freeze()  # what the imports made lives on: no collection walks it again
                gc.enable()
        run()
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        raise SystemExit(INTERRUPTED_EXIT) from None


if __name__ == "__main__":
    main()
