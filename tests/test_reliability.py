"""Issue 10, section 6: what a fuzzer of 12,273 command lines found, one test (or more) each.

Huge numbers, huge widths, ``-g 0``, a default grouping that never ended,
``--plot`` without matplotlib, a full disk, an ASCII terminal, a reader that
has gone, Ctrl-C, and one leniency rule for every value.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from convcalc.cli import app
from convcalc.core.ops.primitives import fmt_int
from convcalc.core.values.digits import grouped

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
LONG = "7" * 4301  # one digit past Python's int-to-text limit


def invoke(*args: str) -> Result:
    """Run the app in process."""
    return runner.invoke(app, list(args))


def one_error(result: Result, code: int) -> str:
    """Exit ``code`` with one ``error:`` line, nothing on stdout, no traceback."""
    assert result.exit_code == code, (result.exit_code, result.stdout[-500:], result.stderr)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ")
    return line


def process(
    *args: str,
    env: dict[str, str] | None = None,
    stdin: int | None = None,
    stdout: int | object = None,
) -> subprocess.Popen[str]:
    """Start ``python -m convcalc ARGS`` (stderr piped; stdout where told)."""
    return subprocess.Popen(
        [sys.executable, "-m", "convcalc", *args],
        stdin=stdin,
        stdout=stdout,  # type: ignore[arg-type]
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=os.environ | (env or {}),
    )


# ---------------------------------------------------------------- numbers of over 4,300 digits


@pytest.mark.parametrize(
    "argv",
    [
        ["conv", "--cin", LONG, "--cout", "8"],
        ["conv", "--cin", "4", "--cout", "8", "-k", LONG],
        ["conv", "--cin", "4", "--cout", "8", "-i", f"8x{LONG}"],
        ["mobilenet", "--resolution", LONG],
        ["se", "--channels", LONG],
    ],
    ids=["cin", "kernel", "input", "resolution", "channels"],
)
def test_numbers_past_4300_digits_are_one_error_line(argv: list[str]) -> None:
    """Every integer option refuses more than 4,300 digits in one line (was a traceback in _int)."""
    line = one_error(invoke(*argv, "--no-verify"), 2)
    assert "has 4,301 digits; at most 4,300 are accepted" in line


def test_results_past_4300_digits_print_in_full() -> None:
    """A result of more than 4,300 digits prints, exactly, in every format (fmt_int, JSON)."""
    side = "9" * 1500
    argv = ["conv", "--cin", side, "--cout", side, "-b", side, "-k", "1", "-i", "1", "--no-verify"]
    for output in ("json", "table", "csv", "markdown"):
        result = invoke(*argv, "--format", output, "--exact")
        assert result.exit_code == 0, result.stderr
    document = json.loads(invoke(*argv, "--format", "json").stdout)
    n = int(side)
    assert document["analytic"]["macs"] == n**3  # 4,500 digits
    assert fmt_int(n**3).replace(",", "") == grouped(n**3).replace(",", "")


def test_fmt_int_groups_past_the_text_limit() -> None:
    """fmt_int (every formula) never meets Python's int-to-text limit, in the library either."""
    value = 10**9000 + 12345
    limit = sys.get_int_max_str_digits()
    try:
        sys.set_int_max_str_digits(4300)
        text = fmt_int(value)
    finally:
        sys.set_int_max_str_digits(limit)
    assert text.startswith("1,000,000")
    assert text.endswith(",012,345")
    assert len(text.replace(",", "")) == 9001


# ---------------------------------------------------------------- widths near the float maximum


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("output", ["table", "json", "csv", "markdown"])
@pytest.mark.parametrize("width", ["1e150", "1e306", "1.7976931348623157e308", "1e306,1"])
def test_huge_widths_compute_and_render(version: str, output: str, width: str) -> None:
    """mobilenet --width 1e306 overflowed in slim_depth; from 1e150 the renderers did."""
    result = invoke(
        "mobilenet", "--generation", version, "--width", width, "--no-verify", "--format", output
    )
    assert result.exit_code == 0, result.stderr[-500:]
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stdout


def test_huge_width_counts_are_exact() -> None:
    """Past a float's range, channel counts are the exact product (TF-slim's int(c x alpha))."""
    from fractions import Fraction

    from convcalc.core.nets.mobilenet import make_divisible, slim_depth

    alpha = 1e306
    assert slim_depth(1024, alpha) == int(Fraction(alpha) * 1024)
    assert make_divisible(Fraction(alpha) * 1280) % 8 == 0
    assert slim_depth(32, 0.75) == 24  # the float rule where floats hold
    assert make_divisible(32 * 0.35) == 16


# ---------------------------------------------------------------- compare's groups


@pytest.mark.parametrize("groups", ["0", "-0", "00", "+0"])
def test_compare_groups_zero_is_rejected(groups: str) -> None:
    """compare -g 0 (and -0, 00) was taken as g=1; it is an invalid spec, like -g -2."""
    line = one_error(invoke("compare", "--cin", "4", "--cout", "8", "-g", groups), 2)
    assert line == "error: groups=0 must be a positive integer"
    line = one_error(invoke("compare", "--cin", "4", "--cout", "8", "-g", "-2"), 2)
    assert "groups=-2 must be a positive integer" in line


@pytest.mark.parametrize(
    ("cin", "cout"),
    [
        (1_000_000_007, 998_244_353),  # coprime: the hang
        (1_000_000_000_000_000_009, 1_000_000_000_000_000_009),  # equal large primes
        (2**61 - 1, 3 * (2**61 - 1)),  # a Mersenne prime in common
    ],
)
def test_compare_default_grouping_answers_at_once(cin: int, cout: int) -> None:
    """The default g (smallest common divisor > 1) answers in well under a second."""
    start = time.perf_counter()
    result = invoke("compare", "--cin", str(cin), "--cout", str(cout), "--no-verify", "--value",
                    "params")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert time.perf_counter() - start < 5


def test_compare_default_grouping_that_cannot_be_factored_asks_for_g() -> None:
    """A gcd that is a product of two large primes cannot be factored fast: exit 2, give -g."""
    p, q = 1_000_003, 1_000_033
    start = time.perf_counter()
    result = invoke("compare", "--cin", str(p * q), "--cout", str(2 * p * q), "--no-verify")
    line = one_error(result, 2)
    assert "give the grouped variant's g with -g" in line
    assert time.perf_counter() - start < 5
    ok = invoke("compare", "--cin", str(p * q), "--cout", str(2 * p * q), "-g", str(p),
                "--no-verify", "--value", "params")  # fmt: skip
    assert ok.exit_code == 0, ok.stderr


# ---------------------------------------------------------------- --plot without matplotlib


def test_plot_without_matplotlib_exits_3_before_computing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without matplotlib, --plot exits 3 before any figure is computed or printed."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    calls: list[object] = []
    import convcalc

    monkeypatch.setattr(convcalc, "sweep", lambda *a, **k: calls.append(a))
    result = invoke("mobilenet", "--width", "0.5,1", "--plot", "out.png")
    line = one_error(result, 3)
    assert "pip install matplotlib" in line
    assert calls == []


# ---------------------------------------------------------------- streams


def test_full_disk_is_exit_3_in_one_line() -> None:
    """Writing to /dev/full: one error line, exit 3, no traceback (table, JSON and help)."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    for argv in (
        ["conv", "--cin", "4", "--cout", "8", "--no-verify"],
        ["mobilenet", "--no-verify", "--format", "json"],
        ["conv", "--help"],
        [],
    ):
        with open("/dev/full", "w") as full:
            proc = process(*argv, stdout=full)
            _, err = proc.communicate(timeout=120)
        assert proc.returncode == 3, (argv, err)
        assert err == "error: cannot write the output: No space left on device\n", argv


def test_ascii_terminal_gets_stand_ins_not_a_traceback() -> None:
    """PYTHONIOENCODING=ascii: the marks become Y/N/#, the run succeeds."""
    proc = process(
        "separable", "--cin", "4", "--cout", "8", "-i", "8", "--device", "cpu",
        env={"PYTHONIOENCODING": "ascii"}, stdout=subprocess.PIPE,
    )  # fmt: skip
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert err == ""
    assert out.isascii()
    assert "| Y " in out or " Y " in out
    assert "#" in out  # the share bars
    proc = process("conv", "--cin", "\u0664", "--cout", "8", env={"PYTHONIOENCODING": "ascii"},
                   stdout=subprocess.PIPE)  # fmt: skip
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert err.startswith("error: cin='?' is not an integer")


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["mobilenet", "--no-verify"], 0),
        (["mobilenet", "--no-verify", "--format", "json"], 0),
        (["mobilenet", "--no-verify", "--max-params", "1M"], 1),
        (["--help"], 0),
        (["--version"], 0),
    ],
)
def test_a_reader_that_has_gone_leaves_the_verdict(argv: list[str], code: int) -> None:
    """``| true``: exit 0 when the run passed (was 1, "a check failed"), 1 when it failed."""
    read, write = os.pipe()
    os.close(read)  # the reader has gone before the first byte
    try:
        proc = process(*argv, stdout=write)
    finally:
        os.close(write)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert "Broken pipe" not in err


def test_ctrl_c_during_the_torch_import_says_interrupted() -> None:
    """Ctrl-C while torch loads: ``error: interrupted``, exit 130 (was silent, or lost)."""
    proc = process("conv", "--cin", "4", "--cout", "8", "-i", "8", stdout=subprocess.PIPE)
    time.sleep(0.6)  # past start-up, inside the import of torch (about 1-5 s)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("the run finished before the signal (a very fast machine)")
    assert proc.returncode == 130, err
    assert err == "error: interrupted\n"
    assert out == ""


@pytest.mark.parametrize("delay", [0.04, 0.08, 0.12, 0.16, 0.2])
def test_ctrl_c_during_start_up_says_interrupted(delay: float) -> None:
    """Ctrl-C while the CLI itself loads (typer, rich, its commands): one line, exit 130
    (a traceback until the first 0.15 s were guarded). Only the interpreter's own
    start-up, before any convcalc code runs, is out of reach."""
    proc = process("conv", "--cin", "4", "--cout", "8", "--no-verify", stdout=subprocess.PIPE)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0 or "init_import_site" in err or proc.returncode == -signal.SIGINT:
        return  # finished first, or interrupted before Python ran any of convcalc
    assert proc.returncode == 130, err
    assert err == "error: interrupted\n"


def test_ctrl_c_in_a_waiting_batch_says_interrupted() -> None:
    """Ctrl-C while ``batch -`` waits for its next line: ``error: interrupted``, exit 130."""
    proc = process("batch", "-", stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None
    assert proc.stdout is not None
    proc.stdin.write("se --channels 32 -i 8\n")
    proc.stdin.flush()
    first = json.loads(proc.stdout.readline())  # done: torch is in, the batch waits on stdin
    assert first["exit"] == 0
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert err == "error: interrupted\n"


# ---------------------------------------------------------------- one leniency rule

REFUSED = [
    (["conv", "--cin", "\u0664", "--cout", "8"], "cin='\u0664' is not an integer"),
    (["conv", "--cin", "4_0", "--cout", "8"], "cin='4_0' is not an integer"),
    (["conv", "--cin", "4", "--cout", "8", "-k", "\uff13"], "kernel='\uff13' is not an integer"),
    (["conv", "--cin", "4", "--cout", "8", "-i", "6_4"], "input='6_4' is not an integer"),
    (["conv", "--cin", "4", "--cout", "8", "-b", "\u00b2"], "batch='\u00b2' is not an integer"),
    (["mobilenet", "--width", "0.\u0665"], "width='0.\u0665' is not a number"),
    (["mobilenet", "--width", "1_0"], "width='1_0' is not a number"),
    (["mobilenet", "--width", "inf"], "width='inf' is not a number"),
    (["mobilenet", "--width", "nan"], "width='nan' is not a number"),
    (
        ["mobilenet", "--resolution", "\uff12\uff12\uff14"],
        "resolution='\uff12\uff12\uff14' is not an integer",
    ),
    (["mobilenet", "--classes", "1_000"], "classes='1_000' is not an integer"),
    (["conv", "--cin", "4", "--cout", "8", "--max-params", "1_000"], "max-params='1_000'"),
    (["conv", "--cin", "4", "--cout", "8", "--max-params", "\uff11M"], "max-params='\uff11M'"),
]


@pytest.mark.parametrize(("argv", "message"), REFUSED, ids=[m for _, m in REFUSED])
def test_numbers_are_ascii_digits_everywhere(argv: list[str], message: str) -> None:
    """Numbers: ASCII digits only, no underscores, in every option (docs/reference/options.md)."""
    assert message in one_error(invoke(*argv, "--no-verify"), 2)


ACCEPTED = [
    ["conv", "--cin", "4", "--cout", "8", "--device", "CPU"],
    ["conv", "--cin", "4", "--cout", "8", "--dtype", "Float16"],
    ["conv", "--cin", "4", "--cout", "8", "-p", "SAME"],
    ["conv", "--cin", "4", "--cout", "8", "-k", "GLOBAL", "-i", "5"],
    ["conv", "--cin", "4", "--cout", "8", "-k", "3X1"],
    ["conv", "--cin", "4", "--cout", "8", "--format", "JSON"],
    ["conv", "--cin", "4", "--cout", "8", "--value", "MACs"],
    ["conv", "--cin", "4", "--cout", "8", "--max-macs", "1g"],
    ["conv", "--cin", " 4 ", "--cout", "+8"],
]


@pytest.mark.parametrize("argv", ACCEPTED, ids=[" ".join(a[4:]) for a in ACCEPTED])
def test_words_are_case_insensitive_everywhere(argv: list[str]) -> None:
    """Words (devices, dtypes, same/valid/global, formats, figures, units) in any case."""
    result = invoke(*argv, "--no-verify")
    assert result.exit_code == 0, result.stderr


def test_device_is_recorded_lowercase() -> None:
    """--device CPU is the device cpu, in the document too."""
    result = invoke("conv", "--cin", "4", "--cout", "8", "--device", "CPU", "-i", "8",
                    "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    spec = json.loads(result.stdout)["spec"]
    assert (spec["device"], spec["device_used"]) == ("cpu", "cpu")


def test_roofline_figures_past_a_floats_range_stay_exact() -> None:
    """FLOPs per byte and the bounds of a spec of thousands of digits are past a float's
    range: each is the exact quotient (rounded down), in the document and the formulas,
    never an OverflowError."""
    side = "9" * 400
    argv = ["conv", "--cin", side, "--cout", side, "-b", side, "-k", "1", "-i", "1", "--no-verify"]
    for extra in ([], ["--hardware", "h100-sxm"], ["--fused"]):
        for output in ("json", "table", "csv", "markdown"):
            result = invoke(*argv, *extra, "--format", output, "--exact")
            assert result.exit_code == 0, (extra, output, result.stderr)
    document = json.loads(invoke(*argv, "--format", "json").stdout)
    intensity = document["analytic"]["roofline"]["arithmetic_intensity"]
    assert isinstance(intensity, int)
    assert intensity > 10**390
