"""Primitives of detection, optical-flow and int8 models: selections (topk, unique,
nonzero), non-maximum suppression, RoI Align, instance norm, grid sampling,
quantize/dequantize and int8 convolutions and linear maps with packed weights.

None of them is a weight multiply-accumulate except the int8 conv and linear
(their MACs are the float op's), so MACs are 0 and the work is element-wise,
by kind, each rule derived by hand and stated in its docstring and formula.
torch's FlopCounterMode has no formula for any of them (it counts 0, as these
MACs are, for every op but the int8 ones, which it does not see either).

Their outputs read positions chosen by values (boxes, offsets, scores), so
each output unit may have seen the whole input: their receptive field is global.
"""

from __future__ import annotations

from typing import ClassVar

from convcalc.core.geometry.shapes import Field, merged_field, whole_field
from convcalc.core.ops.primitives import Conv, Linear, Primitive, Shape, fmt_int, numel
from convcalc.core.ops.traced import RESIZE_TAPS, broadcast_shapes

# One comparison per element read: a selection (topk, like max over an axis), unique
# (after its sort), nonzero / where(condition) (a test of each element).
SELECT_OPS = {"topk": 1, "unique": 1, "unique_consecutive": 1, "nonzero": 1, "where": 1,
              "argwhere": 1, "masked_select": 1}  # fmt: skip


class Select(Primitive):
    """A selection by value (``topk``, ``unique``, ``nonzero``, ``where(condition)``): one
    comparison per input element read; the selected values or indices are copied (free).
    The output's size depends on the values, so it is torch's, from the trace."""

    kind: ClassVar[str] = "Select"
    function: str
    shape: Shape
    reads: int  # elements compared

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        return self.shape

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        return {self.function: SELECT_OPS.get(self.function, 1) * self.reads}

    def macs_formula(self, inputs: tuple[Shape, ...], out: Shape) -> str:
        return f"0; {fmt_int(self.reads)} elements compared once each"

    @property
    def label(self) -> str:
        return self.function

    def describe(self) -> str:
        return f"of {fmt_int(self.reads)}"

    def field(self, sources: tuple[Field, ...], inputs: tuple[Shape, ...]) -> Field:
        return whole_field(merged_field(sources))


# Per box: its area (2 subtractions, 1 product). Per pair of boxes: the intersection's
# corners (2 max, 2 min), its sides (2 subtractions, 2 clamps at 0) and area (1 product),
# the union (area + area - intersection: 2), the IoU (1 division), its test against the
# threshold (1): 12.
NMS_BOX_OPS = 3
NMS_PAIR_OPS = 12


class NMS(Primitive):
    """``torchvision.ops.nms`` on ``boxes`` boxes: each box's area, then the IoU of each
    pair at most once, ``n (n - 1) / 2`` pairs (torchvision's kernel skips a box already
    suppressed, so this is its bound: which pairs it skips depends on the scores), after
    a sort of the scores (free, as ``sort`` is). Kept indices: torch's, from the trace."""

    kind: ClassVar[str] = "NMS"
    boxes: int
    shape: Shape

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        return self.shape

    @property
    def pairs(self) -> int:
        """Pairs of boxes compared, at most: ``n (n - 1) / 2``."""
        return self.boxes * (self.boxes - 1) // 2

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        return {"nms": NMS_BOX_OPS * self.boxes + NMS_PAIR_OPS * self.pairs}

    def macs_formula(self, inputs: tuple[Shape, ...], out: Shape) -> str:
        n = self.boxes
        return (f"0; {NMS_BOX_OPS} x {n} areas + {NMS_PAIR_OPS} x {n} x {n - 1} / 2 IoU tests "
                f"(at most) = {fmt_int(self.elementwise(inputs, out)['nms'])}")  # fmt: skip

    @property
    def label(self) -> str:
        return "nms"

    def describe(self) -> str:
        return f"{self.boxes} boxes"

    def field(self, sources: tuple[Field, ...], inputs: tuple[Shape, ...]) -> Field:
        return whole_field(merged_field(sources))


# Per bilinear sample: 4 taps blended (4 ops, as a bilinear resize counts), and 1 to add
# it into its bin's average.
ROI_SAMPLE_OPS = 5


class RoIAlign(Primitive):
    """``torchvision.ops.roi_align`` (MultiScaleRoIAlign's per level): each of the K boxes'
    ``C x ph x pw`` bins averages ``s x s`` bilinear samples (s = sampling_ratio): 4 taps
    blended and 1 add per sample, ``5 s^2`` per output element. The feature map is read
    where the boxes fall (a global receptive field)."""

    kind: ClassVar[str] = "RoIAlign"
    output_size: tuple[int, int]
    sampling_ratio: int

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        features, boxes = inputs[0], inputs[1]
        return (boxes[0], features[1], *self.output_size)

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        return {"roi_align": ROI_SAMPLE_OPS * self.sampling_ratio**2 * numel(out)}

    def macs_formula(self, inputs: tuple[Shape, ...], out: Shape) -> str:
        s = self.sampling_ratio
        return (f"0; {ROI_SAMPLE_OPS} x {s}^2 samples x {fmt_int(numel(out))} bins "
                f"= {fmt_int(self.elementwise(inputs, out)['roi_align'])}")  # fmt: skip

    @property
    def label(self) -> str:
        return "roi align"

    def describe(self) -> str:
        return f"to {self.output_size[0]}x{self.output_size[1]}, {self.sampling_ratio}x" + str(
            self.sampling_ratio
        )

    def field(self, sources: tuple[Field, ...], inputs: tuple[Shape, ...]) -> Field:
        return whole_field(merged_field(sources))


class InstanceNorm(Primitive):
    """``F.instance_norm`` (nn.InstanceNorm1d..3d) over C channels: each sample's channel
    normalised by its own statistics (mean, variance, normalise: 4 per element, as group
    norm counts) or, with running statistics in eval, by those (2 per element, as batch
    norm counts); the affine weight and bias 1 + 1 per element, 2C parameters."""

    kind: ClassVar[str] = "InstanceNorm"
    channels: int
    affine: bool = False
    input_stats: bool = True

    @property
    def batchnorm_params(self) -> int:
        return 2 * self.channels if self.affine else 0

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        per = (4 if self.input_stats else 2) + (2 if self.affine else 0)
        return {"instance_norm": per * numel(out)}

    @property
    def label(self) -> str:
        return "in"

    def describe(self) -> str:
        return f"{self.channels} channels" + ("" if self.input_stats else ", running stats")

    def params_formula(self) -> str:
        return f"2 x {self.channels} = {fmt_int(self.params)}" if self.affine else "0"

    def torchinfo_mult_adds(self, out: Shape) -> int:
        return self.params * out[0] if self.params and out else 0

    def field(self, sources: tuple[Field, ...], inputs: tuple[Shape, ...]) -> Field:
        return whole_field(sources[0])  # its statistics read every position


class GridSample(Primitive):
    """``F.grid_sample``: each output element read at the grid's position, ``bilinear``
    blending 4 taps (4 ops, as a bilinear resize counts; ``bicubic`` 16; ``nearest`` a
    copy, free). Output ``(N, C, *grid's positions)``."""

    kind: ClassVar[str] = "GridSample"
    mode: str = "bilinear"

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        x, grid = inputs[0], inputs[1]
        return (x[0], x[1], *grid[1:-1])

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        count = RESIZE_TAPS.get(self.mode, 0) * numel(out)
        return {"grid_sample": count} if count else {}

    def macs_formula(self, inputs: tuple[Shape, ...], out: Shape) -> str:
        taps = RESIZE_TAPS.get(self.mode, 0)
        return f"0; {taps} taps x {fmt_int(numel(out))} outputs = {fmt_int(taps * numel(out))}"

    @property
    def label(self) -> str:
        return f"{self.mode} grid sample"

    def field(self, sources: tuple[Field, ...], inputs: tuple[Shape, ...]) -> Field:
        return whole_field(merged_field(sources))  # the grid may point anywhere


# quantize: divide by the scale, round, add the zero point, clamp to the int8 range (4);
# dequantize: subtract the zero point, multiply by the scale (2).
QUANTIZE_OPS = {"quantize_per_tensor": 4, "quantize_per_channel": 4, "dequantize": 2}


class Quantize(Primitive):
    """``torch.quantize_per_tensor`` (4 ops per element: scale, round, zero point, clamp)
    and ``dequantize`` (2: zero point, scale)."""

    kind: ClassVar[str] = "Quantize"
    function: str

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        return {self.function: QUANTIZE_OPS[self.function] * numel(out)}

    @property
    def label(self) -> str:
        return self.function


class Packed(Primitive):
    """An int8 quantized conv or linear map (torch.ao.nn.quantized): its float op's shape,
    MACs and parameter count, read from its packed weights (an int8 weight and a float
    bias, which are no ``nn.Parameter``: not trainable, and torchinfo does not see them)."""

    kind: ClassVar[str] = "Packed"
    op: Conv | Linear
    relu: bool = False  # a fused ReLU (ConvReLU2d, LinearReLU): 1 per output element

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        return self.op.out_shape(inputs)

    @property
    def weight_params(self) -> int:
        return self.op.weight_params

    @property
    def bias_params(self) -> int:
        return self.op.bias_params

    def macs(self, inputs: tuple[Shape, ...], out: Shape) -> int:
        return self.op.macs(inputs, out)

    def bias_adds(self, out: Shape) -> int:
        return self.op.bias_adds(out)

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        return {"relu": numel(out)} if self.relu else {}

    def torchinfo_mult_adds(self, out: Shape) -> int:
        return 0  # torchinfo counts nn.Parameters named weight or bias: a packed one has none

    def torchinfo_formula(self, out: Shape) -> str:
        return "0 (packed int8 weights are no parameters)"

    def describe(self) -> str:
        return f"int8 {self.op.describe()}".strip()

    @property
    def label(self) -> str:
        return f"int8 {self.op.label}" + (" relu" if self.relu else "")

    def params_formula(self) -> str:
        return self.op.params_formula()

    def macs_formula(self, inputs: tuple[Shape, ...], out: Shape) -> str:
        return self.op.macs_formula(inputs, out)

    def shape_formula(self, inputs: tuple[Shape, ...], out: Shape) -> str:
        return self.op.shape_formula(inputs, out)

    def tensor_sizes(self) -> list[int]:
        return self.op.tensor_sizes()

    def field(self, sources: tuple[Field, ...], inputs: tuple[Shape, ...]) -> Field:
        return self.op.field(sources, inputs)


class FusedPointwise(Primitive):
    """Fused element-wise int8 ops (``quantized.add_relu``: an add and a ReLU, 2 per
    output element); tensor operands broadcast."""

    kind: ClassVar[str] = "FusedPointwise"
    function: str
    per_element: int

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        return broadcast_shapes(*inputs)

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        return {self.function: self.per_element * numel(out)}

    @property
    def label(self) -> str:
        return self.function

    def field(self, sources: tuple[Field, ...], inputs: tuple[Shape, ...]) -> Field:
        return merged_field(sources)
