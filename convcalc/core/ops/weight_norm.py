"""Weight normalisation (``torch._weight_norm``): a weight reparametrised as a direction
``v`` and a magnitude ``g`` (Salimans & Kingma 2016), as
``torch.nn.utils.parametrizations.weight_norm`` and the older
``torch.nn.utils.weight_norm`` (``weight_g``/``weight_v``) compute it before each forward
pass (wav2vec2's positional convolution).
"""

from __future__ import annotations

from typing import ClassVar

from convcalc.core.ops.primitives import Primitive, Shape, numel
from convcalc.core.ops.traced import broadcast_shapes
from convcalc.errors import InvalidSpecError


class WeightNorm(Primitive):
    """``w = v * (g / ||v||)``, the 2-norm of ``v`` taken over every axis but ``dim`` (over
    all of ``v`` when ``dim`` is -1), as torch computes it: the norm squares and sums each
    element of ``v`` (2 per element), ``g / ||v||`` is 1 per element of ``g``, the scaling
    1 per element of ``v``: ``3 x numel(v) + numel(g)`` element-wise ops and no MACs
    (FlopCounterMode counts none). ``v`` and ``g`` are parameters read as data: the nodes
    that read them count them; this op makes the weight another op uses."""

    kind: ClassVar[str] = "WeightNorm"
    dim: int = 0

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        v, g = inputs[0], inputs[1]
        if broadcast_shapes(v, g) != v:
            raise InvalidSpecError(f"weight norm's g {list(g)} does not broadcast to v {list(v)}")
        return v

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        return {"weight_norm": 3 * numel(inputs[0]) + numel(inputs[1])}

    @property
    def label(self) -> str:
        return "weight norm"

    def describe(self) -> str:
        return "over all" if self.dim == -1 else f"kept dim {self.dim}"
