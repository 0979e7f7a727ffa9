"""Other tools' counting conventions, computed from our own description.

torchinfo 1.8 counts "mult-adds" per module call from the module's own
parameters: for a module whose class name contains "Conv",
``(weights + biases) * N * Hout * Wout``; for any other module with parameters
(Linear, BatchNorm), ``output.shape[0] * params`` (only the first dimension:
its issue #77). Parameter-free modules count 0. We compute that figure here so
torchinfo is checked against its own rule, and show the paper-convention MACs
beside it.
"""

from __future__ import annotations

import math

from convcalc.core.primitives import Primitive, Shape


def torchinfo_mult_adds(op: Primitive, out: Shape) -> int:
    """What torchinfo 1.8 reports as mult-adds for one call of ``op``."""
    params = op.params
    if not params:
        return 0
    if op.kind == "Conv2d":
        return params * out[0] * math.prod(out[2:])
    return params * out[0]
