"""The hardware command: the devices ``--hardware`` knows (the shipped table and the specs
saved on this machine), each with its peaks, bandwidth, ridge point and source."""

import csv
import io
import json
import sys
from typing import Annotated, Any

import typer

from convcalc.cli.options import Word, formats, integer
from convcalc.render import OutputFormat

# What ``convcalc hardware ACTION`` does; none: list.
ACTIONS = ("list", "measure")
MEASURED_DEVICES = ("auto", "cpu", "cuda")
HEADER = ("name", "device", "fp32", "tf32", "bf16", "fp16", "int8", "bandwidth", "ridge (16-bit)",
          "source")  # fmt: skip
SHORT = ("name", "fp32", "tf32", "bf16/fp16", "int8", "bandwidth", "ridge")


def hardware(
    action: Annotated[
        str,
        typer.Argument(
            click_type=Word(ACTIONS),
            help="list (the default): the devices --hardware knows; measure: measure this "
            "machine and save it as a spec --hardware NAME takes.",
        ),
    ] = "list",
    output: Annotated[
        OutputFormat, typer.Option("--format", click_type=formats(), help="Output format.")
    ] = OutputFormat.table,
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            help="measure: the spec's name (default local-cpu or local-cuda); a spec of that "
            "name measured before keeps its peaks of other dtypes.",
        ),
    ] = None,
    device: Annotated[
        str,
        typer.Option(
            "--device",
            click_type=Word(MEASURED_DEVICES),
            help="measure: the CPU, or a CUDA device (auto: CUDA when present).",
        ),
    ] = "auto",
    dtype: Annotated[
        str,
        typer.Option(
            "--dtype",
            click_type=Word(("float32", "float16", "bfloat16", "float64")),
            help="measure: the dtype of the peak (float32 on a GPU that runs it in TF32 is "
            "its tf32 peak).",
        ),
    ] = "float32",
    threads: Annotated[
        int | None,
        typer.Option(
            "--threads",
            help="measure: CPU threads to measure at (default torch's, one per core); "
            "--measure-time then runs at the same.",
            **integer("threads"),
        ),
    ] = None,
    seconds: Annotated[
        float,
        typer.Option("--seconds", help="measure: about how long to measure (seconds)."),
    ] = 15.0,
) -> None:
    """The devices --hardware NAME knows: dense peaks per dtype (FLOP/s), memory
    bandwidth, the ridge point and each row's datasheet; specs saved on this machine
    after them. Any other device: --hardware peak=989T,bandwidth=3.35T.

    convcalc hardware measure measures this machine (the best of large matmuls and
    convolutions, copies from L2-sized to far past the last cache) in about
    --seconds, says what it measured on stderr, saves the spec and prints it.
    """
    from convcalc.core.count.roofline import hardware_dir, saved, table

    if action == "measure":
        measure(name, device, dtype, threads, seconds)
        return
    options = (("--name", name, None), ("--device", device, "auto"),
               ("--dtype", dtype, "float32"), ("--threads", threads, None),
               ("--seconds", seconds, 15.0))  # fmt: skip
    given = [option for option, value, default in options if value != default]
    if given:
        from convcalc.errors import InvalidSpecError

        raise InvalidSpecError(f"{given[0]} is an option of convcalc hardware measure")
    if action == "list":  # the only other action the Word type lets through
        rows = [(row, "table") for row in table()] + [(row, "saved") for row in saved()]
        sys.stdout.write(render(rows, output, str(hardware_dir())))


def measure(name: str | None, device: str, dtype: str, threads: int | None, seconds: float) -> None:
    """Measure this machine, save the spec (said on stderr) and print it as JSON."""
    from convcalc.cli.output import notify
    from convcalc.core.count.roofline import hardware_dir, read_spec, save_hardware, spec_name
    from convcalc.errors import EnvironmentUnavailableError, InvalidSpecError

    if not seconds > 0 or seconds > 600:
        raise InvalidSpecError(f"seconds={seconds:g} must be above 0 and at most 600")
    try:
        from convcalc.measure.hardware_probe import measure_machine, resolve, to_hardware
    except ImportError as exc:
        raise EnvironmentUnavailableError(
            f"convcalc hardware measure needs torch ({exc.name} is missing)"
        ) from exc
    device = resolve(device)
    key = spec_name(name or f"local-{device}")
    probe = measure_machine(device, dtype, threads=threads, seconds=seconds, notify=notify)
    path = hardware_dir() / f"{key}.json"
    earlier = None
    if path.is_file():
        try:
            earlier = read_spec(path)
        except InvalidSpecError:
            earlier = None
        if earlier is not None and (earlier.measured or {}).get("device") != device:
            earlier = None
    spec = to_hardware(probe, key, earlier)
    kept = [kind for kind in spec.peaks if earlier is not None and kind in earlier.peaks
            and spec.peaks[kind] == earlier.peaks[kind]]  # fmt: skip
    if kept:
        notify(f"notice: kept the {', '.join(kept)} peak{'s' if len(kept) > 1 else ''} "
               f"{key} measured before")  # fmt: skip
    try:
        saved_to = save_hardware(spec)
    except OSError as exc:
        raise EnvironmentUnavailableError(f"cannot save the spec to {path}: {exc}") from None
    notify(f"notice: saved {saved_to}: use --hardware {key}")
    sys.stdout.write(json.dumps(spec.to_dict(), indent=2) + "\n")


def render(rows: list[tuple[Any, str]], output: OutputFormat, folder: str) -> str:
    """The listing in one format (a string; the table format through Rich)."""
    from convcalc.core.count.roofline import describe
    from convcalc.core.documents.report import SCHEMA_VERSION

    if output is OutputFormat.json:
        document = {
            "schema": SCHEMA_VERSION,
            "command": "hardware",
            "saved_in": folder,
            "hardware": [describe(row) | {"origin": origin} for row, origin in rows],
        }
        return json.dumps(document, indent=2) + "\n"
    cells = [_cells(row) for row, _ in rows]
    if output is OutputFormat.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([*HEADER, "date", "url"])
        for row, _ in rows:
            writer.writerow([*_cells(row, exact=True), row.source.get("date", ""),
                             row.source.get("url", "")])  # fmt: skip
        return buffer.getvalue()
    note = (
        "Dense peaks in FLOP/s (OP/s for int8): sparse peaks are never used. Ridge = the "
        "16-bit peak / bandwidth. float32 runs take the tf32 peak where there is one "
        f"(--hardware NAME,peak=fp32 for the other). Saved specs: {folder}"
    )
    if output is OutputFormat.markdown:
        lines = ["| " + " | ".join(HEADER) + " |", "|" + " --- |" * len(HEADER)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
        return "\n".join(lines) + f"\n\n{note}\n"
    from rich.table import Table

    from convcalc.cli.output import console

    grid = Table(title="devices for --hardware (dense peaks, FLOP/s)")
    for name in SHORT:
        grid.add_column(name, justify="left" if name == "name" else "right", no_wrap=True)
    for row in cells:
        sixteen = row[4] if row[4] == row[5] else f"{row[4]}/{row[5]}"
        grid.add_row(row[0], row[2], row[3], sixteen, *row[6:9])
    out = console()
    with out.capture() as captured:
        out.print(grid)
    sources = [f"{row[0]}: {row[1]}; {row[9]}" for row in cells]
    text = "\n".join(line.rstrip() for line in captured.get().splitlines())
    return text + "\n\n" + "\n".join([*sources, "", note]) + "\n"


def _cells(row: Any, exact: bool = False) -> list[str]:
    from convcalc.core.count.roofline import rate

    def peak(kind: str) -> str:
        value = row.peaks.get(kind)
        if value is None:
            return "-"
        return f"{value:.0f}" if exact else rate(value, "")

    sixteen = row.peaks.get("bf16") or row.peaks.get("fp16")
    ridge = f"{sixteen / row.bandwidth:.4g}" if sixteen else "-"
    source = " ".join(p for p in (row.source.get("document", ""), row.source.get("date", "")) if p)
    return [
        row.name,
        row.title,
        *(peak(kind) for kind in ("fp32", "tf32", "bf16", "fp16", "int8")),
        f"{row.bandwidth:.0f}" if exact else rate(row.bandwidth, "B/s"),
        ridge,
        source,
    ]
