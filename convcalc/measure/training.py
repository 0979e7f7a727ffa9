"""FlopCounterMode around a training step: the forward pass and the gradients of every
parameter, on a model convcalc owns on the meta device (no memory, no data).

What ``--cross-check --backward`` measures beside core/backward's analytic figure.
Every parameter is trained (convcalc's analytic backward assumes so): the owned
copy's parameters all require gradients, whatever the user's model says; the
network's input needs none. ``torch.autograd.grad`` computes the same gradients
as ``loss.backward()`` without accumulating into any ``.grad``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from convcalc.measure.trace import evaluation, tensors


def training_flops(
    model: nn.Module, x: torch.Tensor | tuple[Any, ...], kwargs: dict[str, Any] | None = None
) -> int:
    """FLOPs FlopCounterMode counts for ``model(x)`` (``model(*x, **kwargs)`` for a tuple
    of inputs) and its parameters' gradients.

    ``model`` must be convcalc's own (a meta copy or a built network): its parameters
    are set to require gradients.
    """
    from torch.utils.flop_counter import FlopCounterMode

    parameters = list(model.parameters())
    for parameter in parameters:
        parameter.requires_grad_(True)
    with evaluation(model), torch.enable_grad(), FlopCounterMode(display=False) as counter:
        args = x if isinstance(x, tuple) else (x,)
        outputs = [t for t in tensors(model(*args, **(kwargs or {}))) if t.requires_grad]
        if outputs and parameters:
            torch.autograd.grad(outputs, parameters, [torch.ones_like(t) for t in outputs],
                                allow_unused=True)  # fmt: skip
    return int(counter.get_total_flops())
