"""``python -m convcalc`` and the ``convcalc`` console script.

Ctrl-C is caught before the CLI (typer, rich) is imported: an interrupt during
start-up is one ``error: interrupted`` line too.
"""

from convcalc.interrupts import catch_interrupts


def main() -> None:
    """Catch Ctrl-C, then run the CLI."""
    catch_interrupts()
    from convcalc.cli import main as run

    run()


if __name__ == "__main__":
    main()
