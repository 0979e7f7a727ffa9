"""The Typer app: the group, its error mapping and the entry point.

A figure command returns a plan (``cli.run.Plan``); the group executes it
inside the same error mapping: the library pipeline computes, ``cli.output``
renders, and the result's failure is exit 1.

The commands live in ``cli.commands`` (one module per family) and in
``cli.check``, ``cli.diff`` and ``cli.batch``; this module registers them.
Errors of every kind end in one ``error: ...`` line and an exit code
(``OneLineErrors``).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from convcalc import __version__
from convcalc.cli.batch import batch
from convcalc.cli.check import check
from convcalc.cli.commands import blocks, conventions, layers, model, networks
from convcalc.cli.diff import diff
from convcalc.cli.help import ROOT_EPILOG, epilog
from convcalc.cli.run import Plan, execute
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
                if isinstance(result, Plan):  # a figure command parsed: run it, show it
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


app = typer.Typer(
    cls=OneLineErrors,
    help="convcalc: exact parameters, shapes and MACs of convolution layers, "
    "analytic beside torchinfo's measured figures.",
    epilog=ROOT_EPILOG,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def main() -> None:
    """Console-script entry point.

    At exit, ``gc.freeze`` spares the interpreter's final collection over
    torch's objects: 0.3-0.65 s of a verified run (benchmarks/NOTES.md).
    """
    try:
        _click_command(sys.argv[1:])()
    finally:
        gc.freeze()


def _click_command(argv: list[str]) -> Any:
    """The click command for this command line. Typer builds one click command per
    registered command (all of them: 17 ms of the 169 ms a ``--no-verify`` run took):
    a line that names a command gets only that one; help, completion and anything
    else, the whole group."""
    import copy

    import typer.main

    asked = argv[0] if argv else ""
    named = [c for c in app.registered_commands if _command_name(c) == asked]
    if not named:
        return typer.main.get_command(app)
    single = copy.copy(app)  # the same group, callback and settings; the app stays whole
    single.registered_commands = named
    return typer.main.get_command(single)


def _command_name(command: Any) -> str:
    """A registered command's name as typer spells it (``conventions``, ``model``)."""
    name = command.name or command.callback.__name__
    return str(name).lower().replace("_", "-")


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


# Registration order is the order of the commands in --help.
app.command(epilog=epilog("conv", layers.conv))(layers.conv)
app.command(epilog=epilog("separable", layers.separable))(layers.separable)
app.command(epilog=epilog("spatial", layers.spatial))(layers.spatial)
app.command(epilog=epilog("compare", layers.compare))(layers.compare)
app.command(epilog=epilog("se", blocks.se))(blocks.se)
app.command(epilog=epilog("cbam", blocks.cbam))(blocks.cbam)
app.command(epilog=epilog("mobilenet", networks.mobilenet))(networks.mobilenet)
app.command(epilog=epilog("model", model.model))(model.model)
app.command(epilog=epilog("pool", layers.pool))(layers.pool)
app.command(epilog=epilog("conventions", conventions.conventions))(conventions.conventions)
app.command("check", epilog=epilog("check", check))(check)
app.command("diff", epilog=epilog("diff", diff))(diff)
app.command("batch", epilog=epilog("batch", batch))(batch)
app.command(epilog=epilog("resnet", networks.resnet))(networks.resnet)
