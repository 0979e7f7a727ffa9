"""``python -m convcalc`` and the ``convcalc`` console script.

Ctrl-C is caught before the CLI (typer, rich) is imported: an interrupt during
start-up is one ``error: interrupted`` line too.

The CLI's import runs with the cyclic garbage collector off: importing
allocates thousands of objects (classes, functions, typer's and the commands'
tables) and no garbage, yet triggers dozens of collections that walk them all
(about 5 ms of typer's import and 3 ms of the commands', SPEC "Performance").
The collector is back on before any command runs, with what the imports made
frozen (``gc.freeze``): it lives as long as the process, and no collection walks it.
"""

import gc
import sys

from convcalc.interrupts import INTERRUPTED_EXIT, catch_interrupts


def main() -> None:
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
