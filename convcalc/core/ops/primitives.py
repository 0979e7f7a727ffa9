"""The primitives every layer, block and network is described with.

Each primitive is a frozen dataclass that knows, from its input shapes alone,
its output shape, its parameters and its work. The torch modules in
``convcalc.measure.build`` are built from the same objects, so a layer is
described once and both its analytic and its measured figures come from that.

Counting conventions (SPEC.md, stated once here):

- MACs: weight multiply-accumulates only, for the whole batch.
- Bias adds are their own figure, never folded into MACs.
- Element-wise work (``elementwise``) is one op per element per elementary
  step: BatchNorm at inference is a scale and a shift (2 per element); ReLU,
  ReLU6 and sigmoid 1; global pooling reads each input element once (1); the
  gate's multiply and the residual add 1 per output element; CBAM's channel
  pooling (mean and max over channels) 2 per input element.
"""

from __future__ import annotations

import functools
import math
from typing import Any, ClassVar, Literal

from convcalc.core.geometry.shapes import (
    Field,
    Sizes,
    broadcast_field,
    conv_output_size,
    effective_kernel,
    global_field,
    local_field,
    merged_field,
    transposed_field,
    transposed_output_size,
    whole_field,
)
from convcalc.core.values.record import Record
from convcalc.errors import InvalidSpecError

Shape = tuple[int, ...]
Padding = Sizes | Literal["same"]


def fmt_int(value: int) -> str:
    """``1234567`` -> ``1,234,567``: the grouping used in every formula (any length)."""
    try:
        return f"{value:,}"
    except ValueError:  # past Python's int-to-text limit (4,300 digits by default)
        from convcalc.core.values.digits import grouped

        return grouped(value)


def numel(shape: Shape) -> int:
    """Number of elements of a shape."""
    return math.prod(shape)


def _expect_rank(kind: str, shape: Shape, rank: int) -> None:
    if len(shape) != rank:
        raise InvalidSpecError(f"{kind} needs a {rank}-d input, got shape {list(shape)}")


def _expect_channels(kind: str, shape: Shape, channels: int) -> None:
    if shape[1] != channels:
        raise InvalidSpecError(f"{kind} expects {channels} input channels, got {shape[1]}")


class Primitive(Record):
    """Base: a parameter-free op that keeps its input's shape and costs nothing.

    Every primitive is a ``Record``: a frozen dataclass that compiles no code when
    its class is made (start-up).
    """

    kind: ClassVar[str] = "Primitive"

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        """Output shape for these input shapes (raises InvalidSpecError if they do not fit)."""
        return inputs[0]

    @property
    def weight_params(self) -> int:
        """Weights of linear maps (conv kernels, Linear matrices)."""
        return 0

    @property
    def bias_params(self) -> int:
        """Biases of linear maps."""
        return 0

    @property
    def batchnorm_params(self) -> int:
        """BatchNorm's affine gamma and beta (running statistics are buffers)."""
        return 0

    @functools.cached_property
    def params(self) -> int:
        """Every learnable parameter of the primitive (read for each figure: kept once made)."""
        return self.weight_params + self.bias_params + self.batchnorm_params

    def macs(self, inputs: tuple[Shape, ...], out: Shape) -> int:
        """Weight multiply-accumulates for the whole batch."""
        return 0

    def bias_adds(self, out: Shape) -> int:
        """One add per output element of a layer with a bias."""
        return 0

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        """Element-wise work by kind (see the module docstring for the rule)."""
        return {}

    def describe(self) -> str:
        """Short human description of the primitive's settings."""
        return ""

    def params_formula(self) -> str:
        """The parameter count with the numbers filled in."""
        return f"{self.params}" if self.params else "0"

    def macs_formula(self, inputs: tuple[Shape, ...], out: Shape) -> str:
        """The MACs with the numbers filled in."""
        return "0"

    def shape_formula(self, inputs: tuple[Shape, ...], out: Shape) -> str:
        """The output-size rule with the numbers filled in ("" when the shape is kept)."""
        return ""

    @property
    def label(self) -> str:
        """The short name shown in per-layer tables (``conv``, ``bn``, ``relu6``)."""
        return self.kind

    def classify(self, input_shape: Shape) -> str:
        """What a network of this op alone is called (a conv: by groups, kernel, dilation)."""
        return self.label

    def torchinfo_mult_adds(self, out: Shape) -> int:
        """What torchinfo 1.8 reports as mult-adds for one call of this op.

        Its rule: a module with parameters counts ``params x output.shape[0]``
        (only the first dimension: its issue #77); a parameter-free one counts 0.
        """
        return self.params * out[0] if self.params and out else 0

    def torchinfo_formula(self, out: Shape) -> str:
        """torchinfo's rule for this op with the numbers filled in."""
        if not self.params:
            return "0 (no parameters)"
        return f"{fmt_int(self.params)} x {out[0]} = {fmt_int(self.torchinfo_mult_adds(out))}"

    def tensor_sizes(self) -> list[int]:
        """Sizes torch forms to run the op (its weights): checked against torch's int64."""
        return [self.params]

    @property
    def counted(self) -> bool:
        """False for an op convcalc has no formula for: its work is "not counted", never 0."""
        return True

    def headline(self) -> dict[str, Any]:
        """Figures a one-op network adds to its analytic summary (a conv's effective kernel)."""
        return {}

    def headline_text(self) -> list[tuple[str, str, str, str]]:
        """The same figures for a table: (figure, label, value, formula)."""
        return []

    def field(self, sources: tuple[Field, ...], inputs: tuple[Shape, ...]) -> Field:
        """The receptive field of the output, from the fields of the inputs.

        Default: a point-wise op keeps its input's field.
        """
        return sources[0]


class Conv(Primitive):
    """Every convolution of the family: ``nn.Conv1d``/``2d``/``3d`` and their transposes,
    standard, grouped, depthwise, dilated; with ``shared_kernel`` the shared-kernel
    depthwise module of DOMAIN.md 4.

    The number of spatial axes (``dims``) is the kernel's length; stride, padding,
    dilation and output padding give one value per axis (one value is used on every
    axis). weight ``(cout, cin/g, *k)`` (transposed: ``(cin, cout/g, *k)``, the same
    count); params ``cout * cin/g * prod(k) (+ cout)``. MACs: a convolution counts on
    its output, ``N * prod(out) * cout * cin/g * prod(k)``; a transposed one on its
    input, ``N * prod(in) * cin * cout/g * prod(k)`` (each input element meets
    ``cout/g x prod(k)`` weights), as torch's FlopCounterMode counts both.
    """

    cin: int
    cout: int
    kernel: Sizes
    stride: Sizes = (1, 1)
    padding: Padding = (0, 0)
    dilation: Sizes = (1, 1)
    groups: int = 1
    bias: bool = True
    shared_kernel: bool = False
    transposed: bool = False
    output_padding: Sizes = (0, 0)

    def __post_init__(self) -> None:
        for option, value in (("cin", self.cin), ("cout", self.cout), ("groups", self.groups)):
            if value <= 0:
                raise InvalidSpecError(f"{option}={value} must be a positive integer")
        dims = len(self.kernel)
        if dims not in (1, 2, 3):
            raise InvalidSpecError(f"kernel={sizes_text(self.kernel)}: convolutions are 1-D to 3-D")
        per_axis(self, ("stride", "padding", "dilation", "output_padding"), self.kernel)
        for option, sizes in (
            ("kernel", self.kernel),
            ("stride", self.stride),
            ("dilation", self.dilation),
        ):
            if min(sizes) <= 0:
                raise InvalidSpecError(f"{option}={sizes_text(sizes)} must be positive")
        if self.padding != "same" and min(self.padding) < 0:
            raise InvalidSpecError(f"padding={sizes_text(self.padding)} must be zero or more")
        if min(self.output_padding) < 0:
            raise InvalidSpecError(
                f"output padding={sizes_text(self.output_padding)} must be zero or more"
            )
        if self.cin % self.groups or self.cout % self.groups:
            raise InvalidSpecError(
                f"groups={self.groups} must divide cin={self.cin} and cout={self.cout}"
            )
        if self.padding == "same" and set(self.stride) != {1}:
            raise InvalidSpecError(
                f"padding=same needs stride 1 (got stride={sizes_text(self.stride)}), "
                f"as in nn.{self.kind}"
            )
        if self.shared_kernel and (self.groups != self.cin or self.transposed):
            raise InvalidSpecError(
                f"--share-kernel is depthwise: it needs groups=cin={self.cin} "
                f"(got groups={self.groups}) and no --transposed"
            )
        self._check_transposed()

    def _check_transposed(self) -> None:
        if not self.transposed:
            if set(self.output_padding) != {0}:
                raise InvalidSpecError(
                    f"output padding={sizes_text(self.output_padding)} is for a transposed "
                    "convolution (--transposed)"
                )
            return
        if self.padding == "same":
            raise InvalidSpecError(
                "padding=same is not defined for a transposed convolution (nn.ConvTranspose)"
            )
        for axis, extra in enumerate(self.output_padding):
            if extra >= max(self.stride[axis], self.dilation[axis]):
                raise InvalidSpecError(
                    f"output padding={sizes_text(self.output_padding)} must be smaller than "
                    f"the stride or the dilation on each axis (stride={sizes_text(self.stride)}, "
                    f"dilation={sizes_text(self.dilation)}), as in nn.{self.kind}"
                )

    @functools.cached_property
    def kind(self) -> str:  # type: ignore[override]
        """torch's module name: Conv1d, Conv2d, Conv3d, ConvTranspose1d..3d (kept once made)."""
        return f"Conv{'Transpose' if self.transposed else ''}{self.dims}d"

    @property
    def dims(self) -> int:
        """Spatial axes: 1, 2 or 3."""
        return len(self.kernel)

    @property
    def multiplier(self) -> int:
        """Depthwise channel multiplier m = cout / cin (meaningful when groups == cin)."""
        return self.cout // self.cin

    @property
    def cin_per_group(self) -> int:
        """Input channels each filter sees: cin / groups."""
        return self.cin // self.groups

    @property
    def cout_per_group(self) -> int:
        """Output channels each input element feeds: cout / groups."""
        return self.cout // self.groups

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        (shape,) = inputs
        _expect_rank(self.kind, shape, 2 + self.dims)
        _expect_channels(self.kind, shape, self.cin)
        n, _, *spatial = shape
        if self.padding == "same":
            # PyTorch pads d * (k - 1) in all, so the output keeps the input's size.
            return (n, self.cout, *spatial)
        if self.transposed:
            sizes = tuple(
                transposed_output_size(size, self.kernel[a], self.stride[a], self.padding[a],
                                       self.dilation[a], self.output_padding[a])
                for a, size in enumerate(spatial)
            )  # fmt: skip
        else:
            sizes = tuple(
                conv_output_size(size, self.kernel[a], self.stride[a], self.padding[a],
                                 self.dilation[a])
                for a, size in enumerate(spatial)
            )  # fmt: skip
        return (n, self.cout, *sizes)

    @property
    def weight_params(self) -> int:
        taps = math.prod(self.kernel)
        if self.shared_kernel:
            return self.multiplier * taps
        return self.cout * self.cin_per_group * taps

    @property
    def bias_params(self) -> int:
        if not self.bias:
            return 0
        return self.multiplier if self.shared_kernel else self.cout

    def macs(self, inputs: tuple[Shape, ...], out: Shape) -> int:
        taps = math.prod(self.kernel)
        if self.transposed:
            return numel(inputs[0]) * self.cout_per_group * taps
        return numel(out) * self.cin_per_group * taps

    def bias_adds(self, out: Shape) -> int:
        return numel(out) if self.bias else 0

    def describe(self) -> str:
        parts = [f"{sizes_text(self.kernel)}"]
        if self.transposed:
            parts.insert(0, "transposed")
        if set(self.stride) != {1}:
            parts.append(f"s{sizes_text(self.stride)}")
        if self.padding == "same":
            parts.append("p=same")
        elif set(self.padding) != {0}:
            parts.append(f"p{sizes_text(self.padding)}")
        if set(self.output_padding) != {0}:
            parts.append(f"op{sizes_text(self.output_padding)}")
        if set(self.dilation) != {1}:
            parts.append(f"d{sizes_text(self.dilation)}")
        if self.groups != 1:
            parts.append(f"g{self.groups}")
        if self.shared_kernel:
            parts.append("shared")
        return " ".join(parts)

    def _kernel_text(self) -> str:
        return " x ".join(str(k) for k in self.kernel)

    def params_formula(self) -> str:
        taps = self._kernel_text()
        if self.shared_kernel:
            text = f"{self.multiplier} x {taps}"
            if self.bias:
                text += f" + {self.multiplier}"
            return f"{text} = {fmt_int(self.params)}"
        if self.transposed:
            cout_part = f"({self.cout}/{self.groups})" if self.groups != 1 else f"{self.cout}"
            text = f"{self.cin} x {cout_part} x {taps}"
        else:
            cin_part = f"({self.cin}/{self.groups})" if self.groups != 1 else f"{self.cin}"
            text = f"{self.cout} x {cin_part} x {taps}"
        if self.bias:
            text += f" + {self.cout}"
        return f"{text} = {fmt_int(self.params)}"

    def macs_formula(self, inputs: tuple[Shape, ...], out: Shape) -> str:
        total = fmt_int(self.macs(inputs, out))
        if self.transposed:
            n, cin, *spatial = inputs[0]
            sizes = " x ".join(str(s) for s in spatial)
            cout_part = f"({self.cout}/{self.groups})" if self.groups != 1 else f"{self.cout}"
            return f"{n} x {sizes} x {cin} x {cout_part} x {self._kernel_text()} = {total}"
        n, cout, *spatial = out
        sizes = " x ".join(str(s) for s in spatial)
        cin_part = f"({self.cin}/{self.groups})" if self.groups != 1 else f"{self.cin}"
        return f"{n} x {sizes} x {cout} x {cin_part} x {self._kernel_text()} = {total}"

    @property
    def effective_kernel(self) -> Sizes:
        """Span of the dilated kernel per axis: ``d x (k - 1) + 1``."""
        return tuple(
            effective_kernel(k, d) for k, d in zip(self.kernel, self.dilation, strict=True)
        )

    @property
    def padding_total(self) -> Sizes:
        """Padding added per axis, both sides together (``same``: ``d x (k - 1)``)."""
        if self.padding == "same":
            return tuple(k - 1 for k in self.effective_kernel)
        return tuple(2 * p for p in self.padding)

    @property
    def label(self) -> str:
        return "conv transpose" if self.transposed else "conv"

    def classify(self, input_shape: Shape) -> str:
        """The notes' classification: by groups (standard, grouped, depthwise), kernel, dilation."""
        ones = (1,) * self.dims
        if self.shared_kernel:
            name = "shared-kernel depthwise"
        elif self.groups == 1:
            name = "pointwise" if self.kernel == ones else "standard"
        elif self.groups == self.cin:
            name = "depthwise"
            if self.kernel == tuple(input_shape[2:]) and set(self.padding) == {0}:
                name = "global depthwise"
            if self.multiplier > 1:
                name += f" (multiplier {self.multiplier})"
        else:
            name = f"grouped (g={self.groups})"
        if self.transposed:
            name = f"transposed {name}"
        if self.dims != 2:
            name = f"{self.dims}-D {name}"
        if self.dilation != ones:
            name += f", dilated (effective kernel {sizes_text(self.effective_kernel, 'x')})"
        return name

    def torchinfo_mult_adds(self, out: Shape) -> int:
        """torchinfo's rule for a module whose class name has "Conv": params x N x prod(out).

        For a transposed convolution that counts every weight at every output
        position: stride^dims times its MACs, about (its issue tracker has it).
        """
        return self.params * out[0] * math.prod(out[2:])

    def torchinfo_formula(self, out: Shape) -> str:
        n, _, *spatial = out
        sizes = " x ".join(str(s) for s in spatial)
        text = f"({fmt_int(self.weight_params)} + {fmt_int(self.bias_params)}) x {n} x {sizes}"
        if self.shared_kernel:
            return f"{text}: the shared kernel's own params, not its MACs"
        if self.transposed:
            return (
                f"{text} = {fmt_int(self.torchinfo_mult_adds(out))}: every weight at every "
                "output position, as if stride 1 (MACs: at every input position)"
            )
        return f"{text} = MACs + bias adds"

    def shape_formula(self, inputs: tuple[Shape, ...], out: Shape) -> str:
        spatial = inputs[0][2:]
        if self.padding == "same":
            return f"padding=same keeps {sizes_text(tuple(spatial), ' x ')} (stride 1)"
        parts = []
        for axis, size in enumerate(spatial):
            k, s, p, d = (
                self.kernel[axis],
                self.stride[axis],
                self.padding[axis],
                self.dilation[axis],
            )
            if self.transposed:
                extra = self.output_padding[axis]
                parts.append(
                    f"({size} - 1) x {s} - 2x{p} + {d}x({k}-1) + {extra} + 1 = {out[2 + axis]}"
                )
            else:
                parts.append(
                    f"floor(({size} + 2x{p} - {d}x({k}-1) - 1) / {s}) + 1 = {out[2 + axis]}"
                )
        return parts[0] if len(set(parts)) == 1 else "; ".join(parts)

    def tensor_sizes(self) -> list[int]:
        """The weight as torch lays it out (a shared kernel is repeated cin times), and
        each kernel times its dilation."""
        spans = [k * d for k, d in zip(self.kernel, self.dilation, strict=True)]
        return [self.params, self.cout * self.cin_per_group * math.prod(self.kernel), *spans]

    def headline(self) -> dict[str, Any]:
        return {"effective_kernel": list(self.effective_kernel)}

    def headline_text(self) -> list[tuple[str, str, str, str]]:
        spans = zip(self.kernel, self.dilation, self.effective_kernel, strict=True)
        formula = ", ".join(f"{d} x ({k} - 1) + 1 = {e}" for k, d, e in spans)
        text = f"d x (k - 1) + 1: {formula}"
        value = sizes_text(self.effective_kernel, "x")
        return [("effective_kernel", "effective kernel", value, text)]

    def field(self, sources: tuple[Field, ...], inputs: tuple[Shape, ...]) -> Field:
        if self.transposed:
            assert self.padding != "same"  # refused for a transposed convolution
            return transposed_field(sources[0], self.kernel, self.stride, self.dilation,
                                    self.padding)  # fmt: skip
        return local_field(sources[0], self.kernel, self.stride, self.dilation, self.padding_total)


Conv2d = Conv  # its first name: every convolution was 2-D until 1-D, 3-D and transposes came


class Linear(Primitive):
    """``nn.Linear``: params ``in * out (+ out)``; MACs ``N * in * out``."""

    kind: ClassVar[str] = "Linear"
    in_features: int
    out_features: int
    bias: bool = True

    def __post_init__(self) -> None:
        for option, value in (
            ("in_features", self.in_features),
            ("out_features", self.out_features),
        ):
            if value <= 0:
                raise InvalidSpecError(f"{option}={value} must be a positive integer")

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        (shape,) = inputs
        if shape[-1] != self.in_features:
            raise InvalidSpecError(
                f"Linear expects {self.in_features} input features, got {shape[-1]}"
            )
        return (*shape[:-1], self.out_features)

    @property
    def weight_params(self) -> int:
        return self.in_features * self.out_features

    @property
    def bias_params(self) -> int:
        return self.out_features if self.bias else 0

    def macs(self, inputs: tuple[Shape, ...], out: Shape) -> int:
        return numel(inputs[0][:-1]) * self.in_features * self.out_features

    def bias_adds(self, out: Shape) -> int:
        return numel(out) if self.bias else 0

    @property
    def label(self) -> str:
        return "linear"

    def describe(self) -> str:
        return f"{self.in_features} -> {self.out_features}"

    def params_formula(self) -> str:
        text = f"{self.in_features} x {self.out_features}"
        if self.bias:
            text += f" + {self.out_features}"
        return f"{text} = {fmt_int(self.params)}"

    def macs_formula(self, inputs: tuple[Shape, ...], out: Shape) -> str:
        rows = numel(inputs[0][:-1])
        return (
            f"{rows} x {self.in_features} x {self.out_features} = {fmt_int(self.macs(inputs, out))}"
        )

    def field(self, sources: tuple[Field, ...], inputs: tuple[Shape, ...]) -> Field:
        """After a flatten of the positions into features, each output reads them all."""
        return whole_field(sources[0]) if sources[0].folded else sources[0]


class BatchNorm2d(Primitive):
    """``nn.BatchNorm2d`` (and 1-D/3-D: channels on dim 1): gamma and beta are parameters
    (2C, when affine); running statistics are buffers."""

    kind: ClassVar[str] = "BatchNorm2d"
    channels: int
    affine: bool = True
    # Which of gamma and beta are parameters of their own: a functional batch_norm may be
    # given a computed weight (NFNet's ScaledStdConv2d: gain x scale) or none at all.
    learned: tuple[bool, bool] = (True, True)

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        (shape,) = inputs
        if len(shape) < 2:
            raise InvalidSpecError(f"{self.kind} needs a channel dimension, got {list(shape)}")
        _expect_channels(self.kind, shape, self.channels)
        return shape

    @property
    def batchnorm_params(self) -> int:
        return self.channels * sum(self.learned) if self.affine else 0

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        return {"batchnorm": 2 * numel(out)}

    @property
    def label(self) -> str:
        return "bn"

    def params_formula(self) -> str:
        terms = sum(self.learned) if self.affine else 0
        return f"{terms} x {self.channels} = {fmt_int(self.params)}" if terms else "0"


# The nonlinearities convcalc names (each has a torch module in measure/build.py).
# Each activation and the torch.nn module that runs it (measure/build.py builds it; the
# module-hook conventions key their rules on it).
ACTIVATION_CLASSES = {
    "relu": "ReLU", "relu6": "ReLU6", "sigmoid": "Sigmoid", "hardswish": "Hardswish",
    "hardsigmoid": "Hardsigmoid", "silu": "SiLU", "gelu": "GELU", "tanh": "Tanh",
    "leaky_relu": "LeakyReLU", "elu": "ELU", "mish": "Mish", "softplus": "Softplus",
    "softmax": "Softmax", "log_softmax": "LogSoftmax",
}  # fmt: skip
ACTIVATIONS = tuple(ACTIVATION_CLASSES)


class Activation(Primitive):
    """An element-wise nonlinearity (ReLU, ReLU6, sigmoid, GELU, SiLU, hard-swish...).

    One op per element, whatever its formula (a convention: GELU is not cheaper to
    count than ReLU by any rule the peers share).
    """

    kind: ClassVar[str] = "Activation"
    function: str

    def __post_init__(self) -> None:
        if self.function not in ACTIVATIONS:
            raise InvalidSpecError(
                f"activation {self.function!r} is not one of {', '.join(ACTIVATIONS)}"
            )

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        return {self.function: numel(out)}

    @property
    def label(self) -> str:
        return self.function

    def describe(self) -> str:
        return self.function


class GlobalPool(Primitive):
    """Global average or max pooling over H x W; ``flatten`` gives (N, C), not (N, C, 1, 1)."""

    kind: ClassVar[str] = "GlobalPool"
    mode: Literal["avg", "max"] = "avg"
    flatten: bool = False

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        (shape,) = inputs
        _expect_rank(self.kind, shape, 4)
        n, c = shape[:2]
        return (n, c) if self.flatten else (n, c, 1, 1)

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        return {f"{self.mode}_pool": numel(inputs[0])}

    @property
    def label(self) -> str:
        return "pool"

    def describe(self) -> str:
        return f"global {self.mode}"

    def field(self, sources: tuple[Field, ...], inputs: tuple[Shape, ...]) -> Field:
        """Each output sees the whole input: a global field."""
        return global_field(sources[0], (inputs[0][2], inputs[0][3]))


class ChannelPool(Primitive):
    """CBAM's pooling across channels: mean and max, stacked to (N, 2, H, W)."""

    kind: ClassVar[str] = "ChannelPool"

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        (shape,) = inputs
        _expect_rank(self.kind, shape, 4)
        n, _, h, w = shape
        return (n, 2, h, w)

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        return {"channel_pool": 2 * numel(inputs[0])}

    @property
    def label(self) -> str:
        return "channel pool"

    def describe(self) -> str:
        return "mean, max over C"


class GateMultiply(Primitive):
    """``x * gate``: the gate (N, C), (N, C, 1, 1) or (N, 1, H, W) broadcasts over x."""

    kind: ClassVar[str] = "GateMultiply"

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        x, gate = inputs
        _expect_rank(self.kind, x, 4)
        padded = gate + (1,) * (len(x) - len(gate))
        if any(g not in (1, s) for g, s in zip(padded, x, strict=True)):
            raise InvalidSpecError(f"gate {list(gate)} does not broadcast over {list(x)}")
        return x

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        return {"gate_multiply": numel(out)}

    @property
    def label(self) -> str:
        return "x * gate"

    def describe(self) -> str:
        return "x * gate"

    def field(self, sources: tuple[Field, ...], inputs: tuple[Shape, ...]) -> Field:
        """The gate is broadcast: x's positions and jump, widened by what the gate saw."""
        return broadcast_field(sources[0], sources[1])


class Add(Primitive):
    """Element-wise sum of two equal shapes (residual add, CBAM's branch sum)."""

    kind: ClassVar[str] = "Add"
    work: str = "add"  # the element-wise tally it counts under: residual_add, branch_add

    def out_shape(self, inputs: tuple[Shape, ...]) -> Shape:
        a, b = inputs
        if a != b:
            raise InvalidSpecError(f"cannot add shapes {list(a)} and {list(b)}")
        return a

    def elementwise(self, inputs: tuple[Shape, ...], out: Shape) -> dict[str, int]:
        return {self.work: numel(out)}

    @property
    def label(self) -> str:
        return "+ residual" if "residual" in self.work else "add"

    def describe(self) -> str:
        return "a + b"

    def field(self, sources: tuple[Field, ...], inputs: tuple[Shape, ...]) -> Field:
        """Both operands are read at the same positions: the wider field."""
        return merged_field(sources)


def per_axis(op: Any, names: tuple[str, ...], kernel: Sizes) -> None:
    """Store a windowed op's sizes one per kernel axis: one value is every axis's (the
    dataclass defaults are 2-D); another count of values is an error."""
    dims = len(kernel)
    for name in names:
        value = getattr(op, name)
        if isinstance(value, str) or len(value) == dims:
            continue
        if len(set(value)) != 1:
            raise InvalidSpecError(
                f"{name.replace('_', ' ')}={sizes_text(value)} has {len(value)} "
                f"values for a {dims}-D kernel ({sizes_text(kernel)})"
            )
        object.__setattr__(op, name, (value[0],) * dims)


def pair_text(pair: Sizes | str) -> str:
    """``(3, 3)`` -> ``3``; ``(3, 1)`` -> ``3x1``; words pass through."""
    return sizes_text(pair)


def sizes_text(sizes: Sizes | str, always: str = "") -> str:
    """One value per axis, written once when they are all equal: ``(3, 3, 3)`` -> ``3``;
    ``(3, 1)`` -> ``3x1``; words pass through. With ``always`` (a separator) every axis
    is written: ``(5, 5)`` -> ``5x5``."""
    if isinstance(sizes, str):
        return sizes
    if not always and len(set(sizes)) == 1:
        return str(sizes[0])
    return (always or "x").join(str(s) for s in sizes)
