"""The command-line interface: the only code that prints or exits."""

from convcalc.cli.app import app, main

__all__ = ["app", "main"]
