"""Click's usage errors as convcalc says them: one line, with a hint where click's words
mislead. Shared by the app and by ``dispatch`` (batch and check lines)."""

from __future__ import annotations

import typer

# Typer vendors click in recent releases and re-exports only some of it: find
# click's base classes through a public one, whichever click it is.
USAGE_ERROR: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError"
)
CLICK_ERROR: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
)


def usage_message(exc: Exception) -> str:
    """A click error's message on one line, with its hint."""
    message = " ".join(exc.format_message().split())  # type: ignore[attr-defined]
    return message + hint(message)


def hint(message: str) -> str:
    """What a usage error needs said beside click's words."""
    if "No such option: --version" in message:
        return (
            " (convcalc's own version: convcalc --version, before any command; "
            "mobilenet --generation 1|2|3 picks the MobileNet)"
        )
    return ""
