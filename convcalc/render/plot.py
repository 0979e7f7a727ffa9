"""MACs against params for a sweep, drawn with matplotlib (the optional plot extra)."""

from __future__ import annotations

from collections.abc import Sequence

from convcalc.core.documents.report import Report
from convcalc.errors import EnvironmentUnavailableError


def require_matplotlib() -> None:
    """Raise EnvironmentUnavailableError now, before any work, when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401 - only whether it imports
    except ImportError:
        raise EnvironmentUnavailableError(
            "--plot needs matplotlib: pip install matplotlib (or, in convcalc's checkout, "
            "pip install -e '.[plot]')"
        ) from None


def plot_sweep(reports: Sequence[Report], path: str) -> None:
    """Write a labelled scatter of (params, MACs), one point per (width, resolution)."""
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 5))
    params = [r.figures.totals.params / 1e6 for r in reports]
    macs = [r.figures.totals.macs / 1e6 for r in reports]
    axes.scatter(params, macs)
    for report, x, y in zip(reports, params, macs, strict=True):
        label = f"{report.spec['width']:g}/{report.spec['resolution']}"
        axes.annotate(
            label,
            (x, y),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=8,
        )
    axes.set_xlabel("params (M)")
    axes.set_ylabel("MACs (M)")
    axes.set_yscale("log")
    axes.set_title(f"MobileNet V{reports[0].spec['version']}: width/resolution")
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
    try:
        figure.savefig(path)
    except OSError as exc:
        raise EnvironmentUnavailableError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        plt.close(figure)
