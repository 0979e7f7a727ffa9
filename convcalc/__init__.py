"""convcalc: exact parameters, shapes and MACs of convolution layers and CNNs.

The library is the product; the CLI is a thin skin over it. Importing it never
imports torch: ``analyze`` is arithmetic, ``verify`` imports torch on first use.

    >>> import convcalc
    >>> convcalc.analyze(convcalc.conv(4, 8, groups=2)).params
    152
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Loaded on first use (PEP 562), so that ``import convcalc`` is almost free: the
# console script installs its Ctrl-C handler after this import and before the rest.
_HOMES = {
    "convcalc.api": (
        "analyze", "cbam", "compare", "conv", "mobilenet", "pool", "profile", "resnet", "se",
        "separable", "spatial", "sweep", "verify",
        # The registry: every built-in network by name, each module loaded on first use.
        "NETWORKS",
    ),
    "convcalc.core.designs": ("Comparison", "Design", "Sweep"),
    # convcalc diff as one call: two files compared, their growth judged.
    "convcalc.core.documents.diff": ("Diff", "diff_files"),
    "convcalc.core.documents.checks": ("Check",),
    "convcalc.core.documents.report": ("CompareReport", "Report", "SweepReport"),
    # One call from a request to a result: what every command computes.
    "convcalc.pipeline": ("ModelTarget", "Request", "Result", "run"),
    "convcalc.errors": (
        "CheckFailedError", "ConvCalcError", "EnvironmentUnavailableError", "InvalidSpecError",
    ),
}  # fmt: skip
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

if TYPE_CHECKING:
    from convcalc.api import (
        analyze,
        cbam,
        compare,
        conv,
        mobilenet,
        pool,
        profile,
        resnet,
        se,
        separable,
        spatial,
        sweep,
        verify,
    )
    from convcalc.core.designs import Comparison, Design, Sweep
    from convcalc.core.documents.checks import Check
    from convcalc.core.documents.diff import Diff, diff_files
    from convcalc.core.documents.report import CompareReport, Report, SweepReport
    from convcalc.core.nets.registry import NETWORKS
    from convcalc.errors import (
        CheckFailedError,
        ConvCalcError,
        EnvironmentUnavailableError,
        InvalidSpecError,
    )
    from convcalc.pipeline import ModelTarget, Request, Result, run


def __getattr__(name: str) -> Any:
    home = _HOME_OF.get(name)
    if home is None:
        raise AttributeError(f"module 'convcalc' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__version__ = "0.1.0"

__all__ = [
    "NETWORKS",
    "Check",
    "CheckFailedError",
    "CompareReport",
    "Comparison",
    "ConvCalcError",
    "Design",
    "Diff",
    "EnvironmentUnavailableError",
    "InvalidSpecError",
    "ModelTarget",
    "Report",
    "Request",
    "Result",
    "Sweep",
    "SweepReport",
    "__version__",
    "analyze",
    "cbam",
    "compare",
    "conv",
    "diff_files",
    "mobilenet",
    "pool",
    "profile",
    "resnet",
    "run",
    "se",
    "separable",
    "spatial",
    "sweep",
    "verify",
]
