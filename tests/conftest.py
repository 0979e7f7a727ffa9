"""Shared fixtures: the golden-file fixture and the Hypothesis profiles.

Golden files live in ``tests/golden``; ``pytest --update-golden`` rewrites them
(review the diff before committing). Hypothesis profiles: ``convcalc`` (the
default, sized for a 2-core CI run) and ``thorough`` (ten times the examples);
pick one with ``HYPOTHESIS_PROFILE=thorough``.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

GOLDEN_DIR = Path(__file__).parent / "golden"

settings.register_profile(
    "convcalc",
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "convcalc"))


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--update-golden`` rewrites the golden files, ``--update-docs`` the docs' example
    outputs (tests/test_docs.py), instead of comparing with them."""
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/golden/* from the current output (review the diff afterwards)",
    )
    parser.addoption(
        "--update-docs",
        action="store_true",
        default=False,
        help="rewrite the example outputs in README.md and docs/ from the tool (review the diff)",
    )


def normalise(text: str) -> str:
    """Strip trailing blanks per line (Rich pads to the console width) and end with one newline."""
    return "\n".join(line.rstrip() for line in text.splitlines()).rstrip("\n") + "\n"


@dataclass(frozen=True)
class Golden:
    """Compares text with ``tests/golden/NAME``, or rewrites the file with --update-golden."""

    update: bool

    def check(self, name: str, text: str) -> None:
        """Assert that ``text`` equals the golden file ``name`` (after normalising blanks)."""
        path = GOLDEN_DIR / name
        actual = normalise(text)
        if self.update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual, encoding="utf-8")
            return
        if not path.exists():
            pytest.fail(f"golden file {path} is missing: run pytest --update-golden and review it")
        expected = path.read_text(encoding="utf-8")
        if actual != expected:
            diff = "".join(
                difflib.unified_diff(
                    expected.splitlines(keepends=True),
                    actual.splitlines(keepends=True),
                    fromfile=f"golden/{name}",
                    tofile="actual",
                )
            )
            pytest.fail(
                f"output differs from golden/{name} (rerun with --update-golden if intended):\n"
                f"{diff}"
            )


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    """The golden-file checker, in update mode under ``--update-golden``."""
    return Golden(update=bool(request.config.getoption("--update-golden")))
