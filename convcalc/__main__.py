"""``python -m convcalc`` and the ``convcalc`` console script.

Ctrl-C is caught before the CLI (typer, rich) is imported: an interrupt during
start-up is one ``error: interrupted`` line too.
"""

import sys

from convcalc.interrupts import INTERRUPTED_EXIT, catch_interrupts


def main() -> None:
    """Catch Ctrl-C, then run the CLI. Its import and typer's reading of the commands
    (a tenth of a second) come before the CLI's own handling: an interrupt there is
    the same one line."""
    catch_interrupts()
    try:
        from convcalc.cli import main as run

        run()
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        raise SystemExit(INTERRUPTED_EXIT) from None


if __name__ == "__main__":
    main()
