"""The Typer app: the group, its error mapping and the entry point.

A figure command returns a plan (``cli.run.Plan``); the group executes it
inside the same error mapping: the library pipeline computes, ``cli.output``
renders, and the result's failure is exit 1.

The commands live in ``cli.commands`` (one module per family) and in
``cli.check``, ``cli.diff`` and ``cli.batch``; this module knows each one's name
and home (``COMMANDS``) and imports a command's module only when the command is
named: a line that names one loads that one (``_click_command``); help,
completion, an unknown name and anything that reads ``app.registered_commands``
load them all. Errors of every kind end in one ``error: ...`` line and an exit
code (``OneLineErrors``).
"""

import sys
from collections.abc import Sequence
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup
from typer.models import CommandInfo

from convcalc import __version__
from convcalc.cli.collector import paused
from convcalc.cli.commands import COMMANDS, command
from convcalc.cli.help import ROOT_EPILOG, epilog
from convcalc.cli.streams import guarded_stdout, prepare_streams, write_err
from convcalc.cli.usage import CLICK_ERROR, USAGE_ERROR, usage_message
from convcalc.errors import ConvCalcError
from convcalc.interrupts import INTERRUPTED_EXIT, Interrupted, check_interrupt, interrupted


class OneLineErrors(TyperGroup):
    """Every error becomes one ``error: ...`` line on stderr and an exit code; no traceback."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        prepare_streams()
        try:
            with guarded_stdout():
                result = super().main(
                    args=args,
                    prog_name=prog_name or "convcalc",
                    complete_var=complete_var,
                    standalone_mode=False,
                    **extra,
                )
                if _is_plan(result):  # a figure command parsed: run it, show it
                    from convcalc.cli.run import execute

                    execute(result)
                    result = None
                check_interrupt()  # an interrupt something swallowed on the way
        except Interrupted:
            _fail("interrupted", INTERRUPTED_EXIT)
        except typer.Exit as exc:
            sys.exit(exc.exit_code)
        except typer.Abort:
            _fail("aborted", INTERRUPTED_EXIT)
        except (USAGE_ERROR, CLICK_ERROR) as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # bare ``convcalc``: show the help
                _help(exc.ctx.get_help())  # type: ignore[attr-defined]
            _fail(usage_message(exc), 2)
        except ConvCalcError as exc:
            if interrupted():
                _fail("interrupted", INTERRUPTED_EXIT)
            _fail(str(exc), exc.exit_code)
        except Exception:
            if interrupted():  # e.g. a half-imported torch after a swallowed Ctrl-C
                _fail("interrupted", INTERRUPTED_EXIT)
            raise
        # With standalone_mode off, an Exit raised inside a command comes back as its code
        # (typer turns a KeyboardInterrupt it sees into 130).
        if result == INTERRUPTED_EXIT:
            _fail("interrupted", INTERRUPTED_EXIT)
        if isinstance(result, int) and result:
            sys.exit(result)
        return result


def _is_plan(result: Any) -> bool:
    """A figure command's plan (``cli.run`` is loaded by every command that returns one)."""
    run = sys.modules.get("convcalc.cli.run")
    return run is not None and isinstance(result, run.Plan)


def _help(text: str) -> NoReturn:
    try:
        with guarded_stdout():
            sys.stdout.write(text + "\n")
    except ConvCalcError as exc:
        _fail(str(exc), exc.exit_code)
    sys.exit(0)


def _fail(message: str, code: int) -> NoReturn:
    write_err(f"error: {message}\n")
    sys.exit(code)


def _command_info(name: str) -> CommandInfo:
    """One command, as ``app.command`` registers it: its module imported now."""
    callback = command(name)
    return CommandInfo(name=name, callback=callback, epilog=epilog(name, callback))


class LazyTyper(typer.Typer):
    """A Typer app whose commands are imported on first read of ``registered_commands``:
    importing the app costs none of them."""

    _commands: list[CommandInfo] | None = None

    @property
    def registered_commands(self) -> list[CommandInfo]:
        """Every command, in help order (each module imported on the first read)."""
        if self._commands is None:
            self._commands = [_command_info(name) for name in COMMANDS]
        return self._commands

    @registered_commands.setter
    def registered_commands(self, commands: list[CommandInfo]) -> None:
        # typer's __init__ starts the list empty: that means "not read yet" here.
        self._commands = commands or None


_SETTINGS: dict[str, Any] = {
    "cls": OneLineErrors,
    "help": "convcalc: exact parameters, shapes and MACs of convolution layers, "
    "analytic beside torchinfo's measured figures.",
    "epilog": ROOT_EPILOG,
    "no_args_is_help": True,
    "add_completion": True,
    "pretty_exceptions_enable": False,
    "rich_markup_mode": None,
    "context_settings": {"help_option_names": ["-h", "--help"]},
}
app = LazyTyper(**_SETTINGS)


def main() -> None:
    """Console-script entry point.

    The command runs with the cyclic collector paused (``cli.collector``): its imports,
    the click command's build and its work make next to no cyclic garbage, and the
    collections they would trigger cost milliseconds of start-up and, with torch's
    objects about, tenths of a second. What it made is frozen at the end, which spares
    the interpreter's final collection (0.3-0.65 s of a verified run over torch's
    objects: benchmarks/NOTES.md).
    """
    with paused():
        _click_command(sys.argv[1:])()


def _click_command(argv: list[str]) -> Any:
    """The click command for this command line. A line that names a command imports
    that command's module alone and builds only its click command (typer builds one
    per registered command); help, completion and anything else get the whole group."""
    import typer.main

    asked = argv[0] if argv else ""
    if asked not in COMMANDS:
        return typer.main.get_command(app)
    # The same group, settings and callback, without the completion options: they are
    # the group's, and go before a command's name (shell completion runs with no
    # arguments: the whole group, above).
    single = LazyTyper(**{**_SETTINGS, "add_completion": False})
    single.registered_callback = app.registered_callback
    single.registered_commands = [_command_info(asked)]
    return typer.main.get_command(single)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"convcalc {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """convcalc: exact parameters, shapes and MACs of convolution layers and compact CNNs."""
