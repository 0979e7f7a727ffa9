"""The documentation runs: every ``console`` example of README.md and docs/ against the real tool.

A fenced ``console`` block whose first line is ``$ convcalc ...`` is an example: each
``$ convcalc ...`` line in it runs in process (torch is imported once for all of
them), at a fixed width with no colour, in a working directory of its own per page,
and what it prints (stderr and stdout, interleaved as a terminal shows them) must be
the lines the page shows after it, exactly. Blocks titled with a file name
(``toml title="pyproject.toml"``) are written into that directory first, so
``convcalc check`` and ``convcalc batch`` read what the page shows. A command may
redirect its stdout (``> old.json``) for a later one to read; ``echo $?`` shows the
last exit status. Only paths are normalised (the working directory to ``~/project``,
the home directory to ``~``), and trailing blanks. A page whose examples name ``torchvision:`` or
``timm:`` is skipped without that package, unless CONVCALC_REQUIRE_ZOO=1 (CI).

``pytest tests/test_docs.py --update-docs`` rewrites every example's output from the
tool (review the diff). The site itself builds with ``mkdocs build --strict``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from convcalc.cli import app
from convcalc.core.documents.catalogue import CATALOGUE

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted([ROOT / "README.md", *DOCS.rglob("*.md")])
COLUMNS = 80  # every example is shown at a standard terminal's width
WORKDIR = "~/project"  # what a page shows for the directory its examples run in
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)(?P<attrs>[^\n]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
TITLE = re.compile(r'title="(?P<name>[\w.-]+)"')
REDIRECT = ">"


class TerminalRunner(CliRunner):
    """A runner whose stdout and stderr are line-buffered, as on a terminal: the lines
    interleave in the order a user sees them (a document, then its budget's error)."""

    @contextlib.contextmanager
    def isolation(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        with super().isolation(*args, **kwargs) as streams:
            for stream in (sys.stdout, sys.stderr):
                if isinstance(stream, io.TextIOWrapper):
                    stream.reconfigure(line_buffering=True)
            yield streams


runner = TerminalRunner()


@dataclass(frozen=True)
class Block:
    """One fenced block of a page: its language, title, text and where its body lies."""

    lang: str
    title: str | None
    indent: str
    body: str
    start: int  # offset of the body in the page
    end: int

    @property
    def lines(self) -> list[str]:
        """The body's lines with the block's indentation removed."""
        return [line.removeprefix(self.indent) for line in self.body.splitlines()]

    @property
    def runnable(self) -> bool:
        """A console block whose first line runs convcalc."""
        lines = self.lines
        return self.lang == "console" and bool(lines) and lines[0].startswith("$ convcalc ")


def blocks(text: str) -> Iterator[Block]:
    """Every fenced block of a Markdown page, in order."""
    for match in FENCE.finditer(text):
        title = TITLE.search(match["attrs"])
        yield Block(
            lang=match["lang"],
            title=title["name"] if title else None,
            indent=match["indent"],
            body=match["body"],
            start=match.start("body"),
            end=match.end("body"),
        )


def steps(block: Block) -> list[tuple[str, list[str]]]:
    """The block's commands, each with the output lines the page shows for it."""
    result: list[tuple[str, list[str]]] = []
    for line in block.lines:
        if line.startswith("$ "):
            result.append((line[2:], []))
        else:
            result[-1][1].append(line)
    return result


def normalise(text: str, workdir: Path) -> list[str]:
    """The output's lines without trailing blanks, the working directory as ``~/project`` and
    the home directory as ``~``."""
    for path in {str(workdir.resolve()), str(workdir)}:
        text = text.replace(path, WORKDIR)
    text = text.replace(str(Path.home()), "~")
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


@dataclass
class Shell:
    """Runs a page's commands in process, in its own directory, remembering the last status."""

    workdir: Path
    status: int = 0

    def run(self, command: str) -> list[str]:
        """Run one ``$`` line of a page and return its normalised output."""
        if command.strip() == "echo $?":
            return [str(self.status)]
        argv = shlex.split(command)
        if argv[0] != "convcalc":
            pytest.fail(f"a console example runs only convcalc (and `echo $?`): {command!r}")
        target = None
        if REDIRECT in argv:
            at = argv.index(REDIRECT)
            if at != len(argv) - 2:
                pytest.fail(f"`> FILE` must end the command: {command!r}")
            target = self.workdir / argv[at + 1]
            argv = argv[:at]
        result = runner.invoke(
            app,
            argv[1:],
            prog_name="convcalc",
            env={"COLUMNS": str(COLUMNS), "NO_COLOR": "1", "TERM": "dumb"},
        )
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        self.status = result.exit_code
        if target is not None:
            target.write_text(result.stdout, encoding="utf-8")
            return normalise(result.stderr, self.workdir)
        return normalise(result.output, self.workdir)


def run_page(page: Path, workdir: Path) -> tuple[str, list[str]]:
    """The page with every example's output replaced by the tool's, and what differed."""
    text = page.read_text(encoding="utf-8")
    shell = Shell(workdir)
    pieces: list[str] = []
    done = 0
    differences: list[str] = []
    for block in blocks(text):
        if block.title is not None and not block.runnable:
            (workdir / block.title).write_text("\n".join(block.lines) + "\n", encoding="utf-8")
            continue
        if not block.runnable:
            continue
        out: list[str] = []
        for command, shown in steps(block):
            actual = shell.run(command)
            out += [f"$ {command}", *actual]
            if actual != shown:
                differences.append(
                    f"$ {command}\n--- the page shows:\n"
                    + "\n".join(shown)
                    + "\n--- the tool prints:\n"
                    + "\n".join(actual)
                )
        body = "".join(f"{block.indent}{line}\n" if line else "\n" for line in out)
        pieces += [text[done : block.start], body]
        done = block.end
    pieces.append(text[done:])
    return "".join(pieces), differences


def runnable_pages() -> list[Path]:
    """Pages with at least one example to run."""
    return [p for p in PAGES if any(b.runnable for b in blocks(p.read_text(encoding="utf-8")))]


@pytest.mark.parametrize("page", runnable_pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_examples_print_what_the_page_shows(
    page: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """Each ``$ convcalc`` example prints exactly the output its page shows (as on a machine
    without CUDA, as CI's: ``--device auto`` verifies on the CPU)."""
    text = page.read_text(encoding="utf-8")
    for zoo in ("torchvision", "timm"):
        needed = f" {zoo}:" in text and importlib.util.find_spec(zoo) is None
        if needed and not os.environ.get("CONVCALC_REQUIRE_ZOO"):
            pytest.skip(f"its examples need {zoo} (pip install -e '.[zoo]')")
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    # A short directory: a path a table's title prints must not wrap where ~/project does not.
    workdir = Path(tempfile.mkdtemp(prefix="docs-", dir="/tmp" if Path("/tmp").is_dir() else None))
    request.addfinalizer(lambda: shutil.rmtree(workdir, ignore_errors=True))
    monkeypatch.chdir(workdir)
    updated, differences = run_page(page, workdir)
    if request.config.getoption("--update-docs"):
        if updated != page.read_text(encoding="utf-8"):
            page.write_text(updated, encoding="utf-8")
        return
    assert not differences, (
        f"{page.relative_to(ROOT)}: examples differ (rerun with --update-docs if intended):\n\n"
        + "\n\n".join(differences)
    )


def test_examples_are_found() -> None:
    """The parser finds the examples: the README has five runnable ones, the tutorial more."""
    readme = [b for b in blocks((ROOT / "README.md").read_text(encoding="utf-8")) if b.runnable]
    assert len(readme) >= 4
    tutorial = (DOCS / "tutorial.md").read_text(encoding="utf-8")
    assert sum(len(steps(b)) for b in blocks(tutorial) if b.runnable) >= 8


def test_parser_reads_commands_redirects_and_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page's titled file is written, ``> FILE`` captures stdout, ``echo $?`` the status."""
    page = tmp_path / "page.md"
    page.write_text(
        '```text title="lines.txt"\nconv --cin 4 --cout 8 -g 3\n```\n\n'
        "```console\n"
        "$ convcalc conv --cin 4 --cout 8 -g 2 -i 8 --no-verify --value params > p.txt\n"
        "$ echo $?\n0\n$ convcalc batch lines.txt\nwrong\n```\n",
        encoding="utf-8",
    )
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    updated, differences = run_page(page, work)
    assert (work / "p.txt").read_text() == "152\n"
    assert (work / "lines.txt").exists()
    assert len(differences) == 1
    assert "$ convcalc batch lines.txt" in differences[0]
    assert "wrong" not in updated
    assert '"exit":2' in updated.replace(" ", "")


def test_readme_is_short_and_its_test_command_is_what_ci_runs() -> None:
    """The README stays under 300 lines, and CI runs its test command verbatim."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 300
    commands = [b.lines[0] for b in blocks(readme) if b.lang == "sh" and "pytest" in b.body]
    assert len(commands) == 1
    assert commands[0] in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()


def test_readme_links_resolve() -> None:
    """Every relative link of the README names a file of the repository."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(((?!https?:)[^)#\s]+)(?:#[^)]*)?\)", readme)
    assert links
    for link in links:
        assert (ROOT / link).exists(), link


def test_python_api_page_shows_the_readme_example() -> None:
    """The reference's Python example is the README's, which tests/test_api.py runs verbatim."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    page = (DOCS / "reference" / "python-api.md").read_text(encoding="utf-8")
    (tested,) = [b.body for b in blocks(readme) if b.lang == "python"]
    assert next(b.body for b in blocks(page) if b.lang == "python") == tested


FIGURES_BEGIN = (
    "<!-- figures: generated from convcalc.core.documents.catalogue by --update-docs -->\n"
)
FIGURES_END = "<!-- end of figures -->\n"


def figures_table() -> str:
    """The reference's table of figures, one row per entry of the catalogue."""
    rows = [
        "| figure | unit | in `analytic` | meaning | `--value` | budget | `diff` fails on growth |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for figure in CATALOGUE:
        meaning = figure.meaning.replace("|", r"\|")
        budget = f"`--{figure.option}`" if figure.budget else ""
        rows.append(
            f"| `{figure.name}` | {figure.unit or figure.kind} | `{figure.key}` | {meaning} "
            f"| {'yes' if figure.value else ''} | {budget} | {'yes' if figure.growth else ''} |"
        )
    return "\n".join(rows) + "\n"


def test_reference_lists_every_figure_of_the_catalogue(request: pytest.FixtureRequest) -> None:
    """The JSON reference's table of figures is the catalogue's, row for row."""
    path = DOCS / "reference" / "json.md"
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(FIGURES_BEGIN)
    shown, tail = rest.split(FIGURES_END)
    if request.config.getoption("--update-docs"):
        path.write_text(head + FIGURES_BEGIN + figures_table() + FIGURES_END + tail, "utf-8")
        return
    assert shown == figures_table(), "rerun with --update-docs"


def commands() -> dict[str, Any]:
    """Every command of the app, from its own registry (its click group's commands)."""
    group: Any = typer.main.get_command(app)
    return dict(group.commands)


def test_reference_shows_every_command_and_option() -> None:
    """The commands reference shows each command's --help (checked above), so every option."""
    reference = (DOCS / "reference" / "commands.md").read_text(encoding="utf-8")
    for name, command in commands().items():
        assert f"$ convcalc {name} --help\n" in reference, name
        for parameter in command.params:
            for option in parameter.opts:
                if option.startswith("-"):
                    assert option in reference, f"{name} {option}"


def test_site_builds(tmp_path: Path) -> None:
    """``mkdocs build --strict`` succeeds (the ``docs`` extra; required in CI)."""
    missing = [m for m in ("mkdocs", "material") if importlib.util.find_spec(m) is None]
    if missing and not os.environ.get("CONVCALC_REQUIRE_ZOO"):
        pytest.skip(f"{', '.join(missing)} not installed (pip install -e '.[docs]')")
    process = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir",
         str(tmp_path / "site"), "--config-file", str(ROOT / "mkdocs.yml")],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr
    assert (tmp_path / "site" / "index.html").exists()
