"""The analytic core never imports torch, torchinfo, rich or typer; --no-verify never imports torch.

Each check runs in a fresh interpreter, since this test process has long since
imported torch itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "torchinfo", "rich", "typer")


def python(code: str) -> subprocess.CompletedProcess[str]:
    """Run code in a fresh interpreter from the repository root."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def loaded_after(code: str) -> dict[str, bool]:
    """Which heavy packages are in sys.modules after running code (printed as the last line)."""
    report = f"import json, sys; print(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    process = python(code + "\n" + report)
    assert process.returncode == 0, process.stderr
    result: dict[str, bool] = json.loads(process.stdout.strip().splitlines()[-1])
    return result


def test_core_imports_leave_heavy_packages_out() -> None:
    """Importing layers, figures and report leaves torch, torchinfo, rich and typer unimported."""
    loaded = loaded_after(
        "import convcalc.core.nets.layers, convcalc.core.count.figures, "
        "convcalc.core.documents.report"
    )
    assert loaded == dict.fromkeys(HEAVY, False)


def test_every_core_module_is_framework_free() -> None:
    """Every module under convcalc.core (networks included) imports none of the heavy packages."""
    code = (
        "import importlib, pkgutil, convcalc.core\n"
        "core = convcalc.core\n"
        "names = [m.name for m in pkgutil.walk_packages(core.__path__, 'convcalc.core.')]\n"
        "short = {n.rsplit('.', 1)[-1] for n in names}\n"
        "assert {'layers', 'figures', 'report', 'shapes', 'parse'} <= short, names\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "import convcalc, convcalc.errors\n"
    )
    assert loaded_after(code) == dict.fromkeys(HEAVY, False)


CLI = """
import sys
from convcalc.cli import main
sys.argv = {argv!r}
try:
    main()
except SystemExit as exc:
    assert exc.code in (0, None), exc.code
sys.stdout.write("\\n")
"""


def test_no_verify_never_imports_torch() -> None:
    """convcalc conv ... --no-verify computes its figures without importing torch or torchinfo."""
    argv = ["convcalc", "conv", "--cin", "4", "--cout", "8", "--groups", "2", "--no-verify"]
    for output in ("table", "json", "csv", "markdown"):
        loaded = loaded_after(CLI.format(argv=[*argv, "--format", output]))
        assert not loaded["torch"], output
        assert not loaded["torchinfo"], output


def test_a_verified_run_does_import_torch() -> None:
    """Control for the test above: the same command without --no-verify imports torch."""
    argv = ["convcalc", "conv", "--cin", "4", "--cout", "8", "--groups", "2", "-i", "8"]
    loaded = loaded_after(CLI.format(argv=argv))
    assert loaded["torch"]
    assert loaded["torchinfo"]
