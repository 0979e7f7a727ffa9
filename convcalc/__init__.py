"""convcalc: exact parameters, shapes and MACs of convolution layers and CNNs.

The library is the product; the CLI is a thin skin over it. Importing it never
imports torch: ``analyze`` is arithmetic, ``verify`` imports torch on first use.

    >>> import convcalc
    >>> convcalc.analyze(convcalc.conv(4, 8, groups=2)).params
    152
"""

from convcalc.api import (
    analyze,
    cbam,
    compare,
    conv,
    mobilenet,
    profile,
    resnet,
    se,
    separable,
    spatial,
    sweep,
    verify,
)
from convcalc.core.designs import Comparison, Design, Sweep
from convcalc.core.registry import NETWORKS
from convcalc.core.report import Check, CompareReport, Report, SweepReport
from convcalc.errors import (
    CheckFailedError,
    ConvCalcError,
    EnvironmentUnavailableError,
    InvalidSpecError,
)

__version__ = "0.1.0"

__all__ = [
    "NETWORKS",
    "Check",
    "CheckFailedError",
    "CompareReport",
    "Comparison",
    "ConvCalcError",
    "Design",
    "EnvironmentUnavailableError",
    "InvalidSpecError",
    "Report",
    "Sweep",
    "SweepReport",
    "__version__",
    "analyze",
    "cbam",
    "compare",
    "conv",
    "mobilenet",
    "profile",
    "resnet",
    "se",
    "separable",
    "spatial",
    "sweep",
    "verify",
]
