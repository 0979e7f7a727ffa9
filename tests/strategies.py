"""Hypothesis strategies: valid convolution specs and invalid command lines (with reasons).

Sizes stay small so a real forward pass of every drawn spec takes milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from hypothesis import settings
from hypothesis import strategies as st

from convcalc.core import ops as O  # noqa: N812 - as in the build table
from convcalc.core import primitives as P  # noqa: N812
from convcalc.core.layers import ConvSpec, PaddingSpec
from convcalc.core.primitives import Shape
from convcalc.core.shapes import Pair, effective_kernel
from convcalc.core.weight_norm import WeightNorm

MAX_CHANNELS = 12
MAX_EXTRA = 10  # how far the input may exceed the smallest size the kernel fits


def measured_examples() -> int:
    """Examples for a property that runs torch: 60% of the active profile's max_examples."""
    active = settings.default
    assert active is not None  # conftest loads a profile before any test module is imported
    return max(10, active.max_examples * 3 // 5)


def pair_text(pair: tuple[int, ...]) -> str:
    """``(3, 1)`` -> ``3x1``, the CLI's HxW (or DxHxW) form."""
    return "x".join(str(v) for v in pair)


@st.composite
def channels_and_groups(draw: st.DrawFn, max_channels: int = MAX_CHANNELS) -> tuple[int, int, int]:
    """(cin, cout, groups) with groups dividing both channel counts."""
    groups = draw(st.integers(1, 4))
    cin = groups * draw(st.integers(1, max_channels // groups))
    cout = groups * draw(st.integers(1, max_channels // groups))
    return cin, cout, groups


@st.composite
def conv_specs(
    draw: st.DrawFn,
    *,
    max_batch: int = 3,
    padding: Literal["any", "same"] = "any",
    bias: bool | None = None,
) -> ConvSpec:
    """A valid ``ConvSpec``: rectangular kernels, stride, padding int/HxW/same/valid, dilation,
    groups dividing both channel counts, a batch, and an input the kernel fits."""
    cin, cout, groups = draw(channels_and_groups())
    use_bias = draw(st.booleans()) if bias is None else bias
    batch = draw(st.integers(1, max_batch))
    if padding == "any" and draw(st.integers(0, 9)) == 0:
        # kernel=global: the kernel is the input; no padding, no dilation.
        size = (draw(st.integers(1, 9)), draw(st.integers(1, 9)))
        return ConvSpec(
            cin,
            cout,
            kernel="global",
            stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
            padding=draw(st.sampled_from([(0, 0), "valid"])),
            groups=groups,
            bias=use_bias,
            input=size,
            batch=batch,
        )
    kernel = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    pad: PaddingSpec
    if padding == "same":
        pad = "same"
    else:
        pad = draw(
            st.one_of(
                st.sampled_from(["same", "valid"]),
                st.integers(0, 3).map(lambda p: (p, p)),
                st.tuples(st.integers(0, 3), st.integers(0, 3)),
            )
        )
    if pad == "same":
        stride: Pair = (1, 1)
        size = (draw(st.integers(1, 12)), draw(st.integers(1, 12)))
    else:
        stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        numeric = (0, 0) if pad == "valid" else pad
        assert not isinstance(numeric, str)
        smallest = [
            max(1, effective_kernel(k, d) - 2 * p)
            for k, d, p in zip(kernel, dilation, numeric, strict=True)
        ]
        size = (
            draw(st.integers(smallest[0], smallest[0] + MAX_EXTRA)),
            draw(st.integers(smallest[1], smallest[1] + MAX_EXTRA)),
        )
    return ConvSpec(
        cin,
        cout,
        kernel=kernel,
        stride=stride,
        padding=pad,
        dilation=dilation,
        groups=groups,
        bias=use_bias,
        input=size,
        batch=batch,
    )


@st.composite
def family_specs(draw: st.DrawFn, *, transposed: bool | None = None) -> ConvSpec:
    """A valid 1-D, 2-D or 3-D spec, perhaps transposed: per-axis kernels, strides,
    dilations, paddings and (transposed) output paddings, groups, an input that fits."""
    dims = draw(st.integers(1, 3))
    cin, cout, groups = draw(channels_and_groups(max_channels=8))
    is_transposed = draw(st.booleans()) if transposed is None else transposed

    def axes(low: int, high: int) -> tuple[int, ...]:
        return tuple(draw(st.integers(low, high)) for _ in range(dims))

    kernel, stride, dilation = axes(1, 4), axes(1, 3), axes(1, 2)
    if is_transposed:
        extra = tuple(
            draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation, strict=True)
        )
        size = axes(1, 5)
        # Padding crops the output: at most what leaves one element per axis.
        padding = tuple(
            draw(st.integers(0, max(0, ((i - 1) * s + d * (k - 1) + e) // 2)))
            for i, s, d, k, e in zip(size, stride, dilation, kernel, extra, strict=True)
        )
    else:
        extra = (0,) * dims
        padding = axes(0, 2)
        size = tuple(
            draw(st.integers(max(1, effective_kernel(k, d) - 2 * p), 8))
            for k, d, p in zip(kernel, dilation, padding, strict=True)
        )
    return ConvSpec(
        cin, cout, kernel=kernel, stride=stride, padding=padding, dilation=dilation,
        groups=groups, bias=draw(st.booleans()), input=size, batch=draw(st.integers(1, 2)),
        transposed=is_transposed, output_padding=extra,
    )  # fmt: skip


@st.composite
def depthwise_specs(draw: st.DrawFn, *, share_kernel: bool | None = None) -> ConvSpec:
    """A valid depthwise spec (groups = cin, cout = m x cin), perhaps with a shared kernel."""
    base = draw(conv_specs())
    cin = draw(st.integers(1, 6))
    multiplier = draw(st.integers(1, 3))
    shared = draw(st.booleans()) if share_kernel is None else share_kernel
    return ConvSpec(
        cin,
        cin * multiplier,
        kernel=base.kernel,
        stride=base.stride,
        padding=base.padding,
        dilation=base.dilation,
        groups=cin,
        bias=base.bias,
        input=base.input,
        batch=base.batch,
        share_kernel=shared,
    )


def conv_argv(spec: ConvSpec, command: str = "conv") -> list[str]:
    """The ``convcalc`` command line for a spec (every option spelled out)."""
    kernel = spec.kernel if isinstance(spec.kernel, str) else pair_text(spec.kernel)
    padding = spec.padding if isinstance(spec.padding, str) else pair_text(spec.padding)
    argv = [
        command,
        "--cin",
        str(spec.cin),
        "--cout",
        str(spec.cout),
        "--kernel",
        kernel,
        "--stride",
        pair_text(spec.stride),
        "--padding",
        padding,
        "--dilation",
        pair_text(spec.dilation),
        "--groups",
        str(spec.groups),
        "--bias" if spec.bias else "--no-bias",
        "--input",
        pair_text(spec.input),
        "--batch",
        str(spec.batch),
    ]
    if spec.share_kernel:
        argv.append("--share-kernel")
    return argv


@dataclass(frozen=True)
class InvalidCase:
    """A command line that must exit 2, why, and a word the error line must contain."""

    argv: tuple[str, ...]
    reason: str
    keyword: str


def _replace(argv: list[str], option: str, value: str) -> list[str]:
    index = argv.index(option)
    return [*argv[: index + 1], value, *argv[index + 2 :]]


NOT_INTEGERS = ["0", "-1", "-7", "1.5", "abc", "", "3.0", "1e3"]
BAD_PAIRS = ["0", "-1", "3x", "x3", "3x3x3", "3x0", "a", "1.5", "3xx3", "3x-1", "三"]
BAD_PADDINGS = ["-1", "sam", "1x", "x1", "1x-1", "1.5", "full", "1x1x1"]
BAD_BUDGETS = ["1.5X", "abc", "-5", "1,000", "M", "1.5", "1.2345K", "2GG", "0x10", "", "1e-3", "e6"]
BAD_FORMATS = ["xml", "yaml", "tabl", "JSONL", "html"]


@st.composite
def invalid_cases(draw: st.DrawFn) -> InvalidCase:
    """A valid command line with exactly one thing made invalid, and the reason."""
    spec = draw(conv_specs(max_batch=2).filter(lambda s: s.kernel != "global"))
    argv = conv_argv(spec)
    kind = draw(
        st.sampled_from(
            [
                "size",
                "groups",
                "kernel-too-large",
                "dilated-kernel-too-large",
                "same-stride",
                "share-kernel",
                "kernel-text",
                "padding-text",
                "pair-text",
                "format",
                "budget",
                "device",
            ]
        )
    )
    if kind == "size":
        option = draw(st.sampled_from(["--cin", "--cout", "--groups", "--batch"]))
        value = draw(st.sampled_from(NOT_INTEGERS))
        return InvalidCase(
            tuple(_replace(argv, option, value)),
            f"{option}={value!r} is not a positive integer",
            option.lstrip("-"),
        )
    if kind == "groups":
        cin = draw(st.integers(1, MAX_CHANNELS))
        cout = draw(st.integers(1, MAX_CHANNELS))
        groups = draw(
            st.integers(2, 2 * MAX_CHANNELS).filter(lambda g: cin % g != 0 or cout % g != 0)
        )
        changed = _replace(_replace(argv, "--cin", str(cin)), "--cout", str(cout))
        return InvalidCase(
            tuple(_replace(changed, "--groups", str(groups))),
            f"groups={groups} does not divide cin={cin} and cout={cout}",
            "groups",
        )
    if kind in ("kernel-too-large", "dilated-kernel-too-large"):
        size = draw(st.integers(1, 8))
        pad = draw(st.integers(0, 2))
        padded = size + 2 * pad
        if kind == "kernel-too-large":
            kernel, dilation = draw(st.integers(padded + 1, padded + 4)), 1
        else:
            kernel = draw(st.integers(2, 4))
            dilation = draw(st.integers(padded // (kernel - 1) + 1, padded // (kernel - 1) + 3))
        assert effective_kernel(kernel, dilation) > padded
        other = draw(st.integers(1, 3))  # the other axis fits: only one is too large
        axis = draw(st.sampled_from([0, 1]))
        kernels, sizes = [other, other], [other + 2, other + 2]
        kernels[axis], sizes[axis] = kernel, size
        dilations = [1, 1]
        dilations[axis] = dilation
        changed = _replace(argv, "--kernel", f"{kernels[0]}x{kernels[1]}")
        changed = _replace(changed, "--dilation", f"{dilations[0]}x{dilations[1]}")
        changed = _replace(changed, "--padding", str(pad))
        changed = _replace(changed, "--input", f"{sizes[0]}x{sizes[1]}")
        return InvalidCase(
            tuple(changed),
            f"effective kernel {effective_kernel(kernel, dilation)} > padded input {padded}",
            "kernel",
        )
    if kind == "same-stride":
        stride = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)).filter(lambda s: s != (1, 1)))
        changed = _replace(_replace(argv, "--padding", "same"), "--stride", pair_text(stride))
        return InvalidCase(tuple(changed), "padding=same with stride > 1", "same")
    if kind == "share-kernel":
        # groups = 1 with cin > 1: not depthwise, so no integral multiplier per input channel.
        cin = draw(st.integers(2, MAX_CHANNELS))
        changed = _replace(_replace(argv, "--cin", str(cin)), "--groups", "1")
        return InvalidCase(
            (*changed, "--share-kernel"), "--share-kernel without groups=cin", "share-kernel"
        )
    if kind == "kernel-text":
        value = draw(st.sampled_from([*BAD_PAIRS, "globl", "global3"]))
        return InvalidCase(
            tuple(_replace(argv, "--kernel", value)), f"kernel={value!r} malformed", "kernel"
        )
    if kind == "padding-text":
        value = draw(st.sampled_from(BAD_PADDINGS))
        return InvalidCase(
            tuple(_replace(argv, "--padding", value)), f"padding={value!r} malformed", "padding"
        )
    if kind == "pair-text":
        option = draw(st.sampled_from(["--stride", "--dilation", "--input"]))
        value = draw(st.sampled_from(BAD_PAIRS))
        return InvalidCase(
            tuple(_replace(argv, option, value)),
            f"{option}={value!r} malformed",
            option.lstrip("-"),
        )
    if kind == "format":
        value = draw(st.sampled_from(BAD_FORMATS))
        return InvalidCase((*argv, "--format", value), f"unknown format {value!r}", "format")
    if kind == "budget":
        option = draw(st.sampled_from(["--max-params", "--max-macs", "--max-flops"]))
        value = draw(st.sampled_from(BAD_BUDGETS))
        return InvalidCase(
            (*argv, option, value), f"malformed budget {option}={value!r}", option.lstrip("-")
        )
    value = draw(st.sampled_from(["gpu", "tpu", "CUDA:0", "mps"]))
    return InvalidCase((*argv, "--device", value), f"unknown device {value!r}", "device")


# ---------------------------------------------------------------- primitives


def conv_primitives() -> st.SearchStrategy[P.Conv2d]:
    """A valid Conv2d primitive (shared-kernel ones included)."""
    return st.one_of(conv_specs(), depthwise_specs(), family_specs()).map(lambda spec: spec.conv())


# One strategy per primitive type: test_roundtrip checks this covers every builder.
PRIMITIVES: dict[type[P.Primitive], st.SearchStrategy[Any]] = {
    P.Conv2d: conv_primitives(),
    P.Linear: st.builds(P.Linear, st.integers(1, 64), st.integers(1, 64), st.booleans()),
    P.BatchNorm2d: st.builds(P.BatchNorm2d, st.integers(1, 64), st.booleans()),
    P.Activation: st.builds(P.Activation, st.sampled_from(P.ACTIVATIONS)),
    P.GlobalPool: st.builds(P.GlobalPool, st.sampled_from(["avg", "max"]), st.booleans()),
    P.ChannelPool: st.just(P.ChannelPool()),
    P.GateMultiply: st.just(P.GateMultiply()),
    P.Add: st.builds(P.Add, st.sampled_from(["add", "residual_add", "branch_add"])),
}


def primitives() -> st.SearchStrategy[P.Primitive]:
    """Any primitive convcalc builds."""
    return st.one_of(*PRIMITIVES.values())


# ---------------------------------------------------------------- ops read from a trace

Arity = int  # how many times the node reads the input (x + x, a @ a, attention(x, x, x))


def _size(low: int = 1, high: int = 6) -> st.SearchStrategy[int]:
    return st.integers(low, high)


@st.composite
def pointwise_ops(draw: st.DrawFn) -> tuple[O.Pointwise, Shape, Arity]:
    """An arithmetic op a forward writes: x + x, torch.exp(x)..."""
    function = draw(st.sampled_from(["add", "sub", "mul", "div", "neg", "exp", "sqrt",
                                     "rsqrt", "abs", "erf"]))  # fmt: skip
    shape = tuple(draw(st.lists(_size(), min_size=1, max_size=4)))
    return O.Pointwise(function), shape, 2 if function in ("add", "sub", "mul", "div") else 1


@st.composite
def matmul_ops(draw: st.DrawFn) -> tuple[O.MatMul, Shape, Arity]:
    """a @ a (square), mm, bmm, or F.linear(a, a): a product of two activations."""
    function = draw(st.sampled_from(["matmul", "mm", "bmm", "linear"]))
    n = draw(_size())
    if function in ("mm", "linear"):
        return O.MatMul(function, transpose_b=function == "linear"), (n, n), 2
    batch = tuple(draw(st.lists(_size(1, 3), min_size=1, max_size=1 if function == "bmm" else 2)))
    return O.MatMul(function), (*batch, n, n), 2


@st.composite
def einsum_ops(draw: st.DrawFn) -> tuple[O.Einsum, Shape, Arity]:
    """A two-operand einsum on a square (batched) operand."""
    n, b = draw(_size()), draw(_size(1, 3))
    if draw(st.booleans()):
        return O.Einsum("ij,jk->ik"), (n, n), 2
    return O.Einsum("bij,bjk->bik"), (b, n, n), 2


@st.composite
def attention_ops(draw: st.DrawFn) -> tuple[O.Attention, Shape, Arity]:
    """F.scaled_dot_product_attention(x, x, x)."""
    shape = (draw(_size(1, 2)), draw(_size(1, 3)), draw(_size(1, 8)), draw(_size(1, 8)))
    return O.Attention(), shape, 3


@st.composite
def norm_ops(draw: st.DrawFn) -> tuple[O.Norm, Shape, Arity]:
    """nn.LayerNorm over the last dims, or nn.GroupNorm."""
    if draw(st.booleans()):
        groups = draw(_size(1, 3))
        channels = groups * draw(_size(1, 3))
        affine = draw(st.booleans())
        grid: Shape = (draw(_size(1, 2)), channels, draw(_size(2, 6)), draw(_size()))
        return O.Norm("group_norm", (channels,), affine, affine, groups), grid, 1
    shape: Shape = tuple(draw(st.lists(_size(), min_size=2, max_size=4)))
    normalized = shape[-draw(st.integers(1, len(shape) - 1)) :]
    weight, bias = draw(st.sampled_from([(True, True), (True, False), (False, False)]))
    return O.Norm("layer_norm", normalized, weight, bias), shape, 1


@st.composite
def pool_ops(draw: st.DrawFn) -> tuple[O.Pool2d, Shape, Arity]:
    """Max or average pooling with padding, dilation (max) and ceil_mode."""
    mode: Literal["max", "avg"] = draw(st.sampled_from(["max", "avg"]))
    kernel = (draw(_size(1, 3)), draw(_size(1, 3)))
    stride = (draw(_size(1, 3)), draw(_size(1, 3)))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    dilation = (draw(_size(1, 2)), draw(_size(1, 2))) if mode == "max" else (1, 1)
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]
    shape: Shape = (1, draw(_size(1, 3)), spans[0] + draw(st.integers(0, 6)),
                    spans[1] + draw(st.integers(0, 6)))  # fmt: skip
    ceil = draw(st.booleans())
    include = True if mode == "max" else draw(st.booleans())
    return O.Pool2d(mode, kernel, stride, padding, dilation, ceil, include), shape, 1


@st.composite
def adaptive_ops(draw: st.DrawFn) -> tuple[O.AdaptivePool2d, Shape, Arity]:
    """Adaptive pooling to a size other than 1 x 1 (that one is a global pool)."""
    h, w = draw(_size(2, 9)), draw(_size(2, 9))
    output = (draw(st.integers(1, h)), draw(st.integers(2, w)))
    return O.AdaptivePool2d(draw(st.sampled_from(["max", "avg"])), output), (1, 2, h, w), 1


@st.composite
def interpolate_ops(draw: st.DrawFn) -> tuple[O.Interpolate, Shape, Arity]:
    """Nearest or bilinear resizing to a drawn size."""
    size = (draw(_size(1, 12)), draw(_size(1, 12)))
    mode = draw(st.sampled_from(["nearest", "bilinear"]))
    return O.Interpolate(mode, size), (1, 2, draw(_size(1, 8)), draw(_size(1, 8))), 1


@st.composite
def reduce_ops(draw: st.DrawFn) -> tuple[O.Reduce, Shape, Arity]:
    """A mean, max or sum over one dimension of a 3-D tensor (tokens)."""
    shape = (draw(_size()), draw(_size()), draw(_size()))
    dim = draw(st.integers(0, 2))
    return O.Reduce(draw(st.sampled_from(["mean", "amax", "sum"])), (dim,), draw(st.booleans())), \
        shape, 1  # fmt: skip


@st.composite
def weight_norm_ops(draw: st.DrawFn) -> tuple[WeightNorm, Shape, Arity]:
    """torch._weight_norm of a conv-like weight (its v and g the same tensor), its norm
    over every axis but one, or over all (-1)."""
    shape = (draw(_size()), draw(_size()), draw(_size()))
    return WeightNorm(draw(st.sampled_from([-1, 0, 1, 2]))), shape, 2


@st.composite
def traced_builtins(draw: st.DrawFn) -> tuple[P.Primitive, Shape, Arity]:
    """Built-in primitives whose module runs one torch call: conv, linear, BN, activations."""
    choice = draw(st.sampled_from(["conv", "linear", "bn", "act", "pool"]))
    if choice == "conv":
        spec = draw(st.one_of(conv_specs(), family_specs()))
        return spec.conv(), spec.input_shape, 1
    if choice == "linear":
        op = draw(PRIMITIVES[P.Linear])
        return op, (draw(_size(1, 3)), op.in_features), 1
    if choice == "bn":
        op = draw(PRIMITIVES[P.BatchNorm2d])
        return op, (2, op.channels, draw(_size()), draw(_size())), 1
    if choice == "act":
        op = draw(PRIMITIVES[P.Activation])
        return op, (2, 3, draw(_size()), draw(_size())), 1
    return P.GlobalPool(draw(st.sampled_from(["avg", "max"])), draw(st.booleans())), \
        (1, 3, draw(_size()), draw(_size())), 1  # fmt: skip


# Every primitive a model's forward is read into, with inputs that fit it.
TRACEABLE: dict[type[P.Primitive], st.SearchStrategy[Any]] = {
    O.Pointwise: pointwise_ops(),
    O.MatMul: matmul_ops(),
    O.Einsum: einsum_ops(),
    O.Attention: attention_ops(),
    O.Norm: norm_ops(),
    O.Pool2d: pool_ops(),
    O.AdaptivePool2d: adaptive_ops(),
    O.Interpolate: interpolate_ops(),
    O.Reduce: reduce_ops(),
    WeightNorm: weight_norm_ops(),
}

# Ops with a torch module, read back by extract() (measure/extract.py).
PRIMITIVES[O.Norm] = norm_ops().map(lambda case: case[0])
PRIMITIVES[O.Pool2d] = pool_ops().map(lambda case: case[0])
PRIMITIVES[O.AdaptivePool2d] = adaptive_ops().map(lambda case: case[0])
