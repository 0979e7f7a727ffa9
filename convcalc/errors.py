"""The error types the CLI maps to exit codes.

Only the CLI prints or exits; everything below it raises one of these. A bug is
not one of these: it keeps its traceback so that it gets fixed.
"""

from __future__ import annotations


class ConvCalcError(Exception):
    """Base class: a message for the user and the exit code it maps to."""

    exit_code = 1


class InvalidSpecError(ConvCalcError):
    """The spec or the command line is invalid (exit 2)."""

    exit_code = 2


class CheckFailedError(ConvCalcError):
    """A check failed: analytic and measured disagree, or a budget is exceeded (exit 1)."""

    exit_code = 1


class MismatchError(CheckFailedError):
    """Analytic and measured figures disagree."""


class BudgetExceededError(CheckFailedError):
    """A figure is over the budget the user set."""


class PartialTotalError(CheckFailedError):
    """A budget or ``--value`` on a total of work that is partial (an op had no formula):
    it cannot pass, nor be printed as if whole, unless the user allows it (exit 1)."""


class EnvironmentUnavailableError(ConvCalcError):
    """The environment cannot do what was asked: no CUDA, no torch, no matplotlib (exit 3)."""

    exit_code = 3
