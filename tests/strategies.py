"""Hypothesis strategies: valid convolution specs and invalid command lines (with reasons).

Sizes stay small so a real forward pass of every drawn spec takes milliseconds.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from hypothesis import settings
from hypothesis import strategies as st

from convcalc.core.geometry.shapes import Pair, conv_output_size, effective_kernel
from convcalc.core.nets.layers import ConvSpec, PaddingSpec
from convcalc.core.ops import primitives as P  # noqa: N812
from convcalc.core.ops import traced as O  # noqa: N812 - as in the build table
from convcalc.core.ops import vision as V  # noqa: N812
from convcalc.core.ops.primitives import Shape
from convcalc.core.ops.weight_norm import WeightNorm

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


class Traced(NamedTuple):
    """A primitive a trace reads, built and run on inputs that fit it.

    ``shapes`` are the inputs (the first the network's own, the others ``input#2``
    on); the built module is called with ``calls`` (indices into them, repeats
    allowed: x + x); the read node reads ``reads``, each traced back through free
    nodes (a state torch makes itself, a view) to an input. ``device`` is "cpu"
    for an op whose output size depends on the values (nonzero, nms), which meta
    cannot run; ``dtypes`` "quint8" for int8 ops. Inputs are zeros, so such an
    op's output size is known: every element zero, every box empty."""

    op: P.Primitive
    shapes: tuple[Shape, ...]
    calls: tuple[int, ...]
    reads: tuple[int, ...]
    device: str = "meta"
    dtypes: tuple[str, ...] = ()  # one per input; "float32" where none is given


def one(op: P.Primitive, shape: Shape, arity: Arity = 1, *, reads: int | None = None,
        device: str = "meta", dtype: str = "float32") -> Traced:  # fmt: skip
    """An op given the one input ``arity`` times (and reading it ``reads`` times: a state
    it makes itself counts as a read of the input, where the graph places it)."""
    return Traced(op, (shape,), (0,) * arity, (0,) * (arity if reads is None else reads),
                  device, (dtype,))  # fmt: skip


def several(op: P.Primitive, *shapes: Shape, device: str = "meta",
            dtypes: tuple[str, ...] = ()) -> Traced:  # fmt: skip
    """An op given each input once, in order, and reading each."""
    order = tuple(range(len(shapes)))
    return Traced(op, shapes, order, order, device, dtypes)


def _size(low: int = 1, high: int = 6) -> st.SearchStrategy[int]:
    return st.integers(low, high)


@st.composite
def pointwise_ops(draw: st.DrawFn) -> Traced:
    """An arithmetic op a forward writes: x + x, torch.exp(x)..."""
    function = draw(st.sampled_from(["add", "sub", "mul", "div", "neg", "exp", "sqrt",
                                     "rsqrt", "abs", "erf"]))  # fmt: skip
    shape = tuple(draw(st.lists(_size(), min_size=1, max_size=4)))
    return one(O.Pointwise(function), shape, 2 if function in ("add", "sub", "mul", "div") else 1)


@st.composite
def matmul_ops(draw: st.DrawFn) -> Traced:
    """a @ a (square), mm, bmm, or F.linear(a, a): a product of two activations."""
    function = draw(st.sampled_from(["matmul", "mm", "bmm", "linear"]))
    n = draw(_size())
    if function in ("mm", "linear"):
        return one(O.MatMul(function, transpose_b=function == "linear"), (n, n), 2)
    batch = tuple(draw(st.lists(_size(1, 3), min_size=1, max_size=1 if function == "bmm" else 2)))
    return one(O.MatMul(function), (*batch, n, n), 2)


@st.composite
def einsum_ops(draw: st.DrawFn) -> Traced:
    """A two-operand einsum on a square (batched) operand."""
    n, b = draw(_size()), draw(_size(1, 3))
    if draw(st.booleans()):
        return one(O.Einsum("ij,jk->ik"), (n, n), 2)
    return one(O.Einsum("bij,bjk->bik"), (b, n, n), 2)


@st.composite
def attention_ops(draw: st.DrawFn) -> Traced:
    """F.scaled_dot_product_attention(x, x, x)."""
    shape = (draw(_size(1, 2)), draw(_size(1, 3)), draw(_size(1, 8)), draw(_size(1, 8)))
    return one(O.Attention(), shape, 3)


@st.composite
def norm_ops(draw: st.DrawFn) -> Traced:
    """nn.LayerNorm over the last dims, or nn.GroupNorm."""
    if draw(st.booleans()):
        groups = draw(_size(1, 3))
        channels = groups * draw(_size(1, 3))
        affine = draw(st.booleans())
        grid: Shape = (draw(_size(1, 2)), channels, draw(_size(2, 6)), draw(_size()))
        return one(O.Norm("group_norm", (channels,), affine, affine, groups), grid)
    shape: Shape = tuple(draw(st.lists(_size(), min_size=2, max_size=4)))
    normalized = shape[-draw(st.integers(1, len(shape) - 1)) :]
    weight, bias = draw(st.sampled_from([(True, True), (True, False), (False, False)]))
    return one(O.Norm("layer_norm", normalized, weight, bias), shape)


@st.composite
def pool_ops(draw: st.DrawFn) -> Traced:
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
    return one(O.Pool2d(mode, kernel, stride, padding, dilation, ceil, include), shape)


@st.composite
def adaptive_ops(draw: st.DrawFn) -> Traced:
    """Adaptive pooling to a size other than 1 x 1 (that one is a global pool)."""
    h, w = draw(_size(2, 9)), draw(_size(2, 9))
    output = (draw(st.integers(1, h)), draw(st.integers(2, w)))
    return one(O.AdaptivePool2d(draw(st.sampled_from(["max", "avg"])), output), (1, 2, h, w))


@st.composite
def interpolate_ops(draw: st.DrawFn) -> Traced:
    """Nearest or bilinear resizing to a drawn size."""
    size = (draw(_size(1, 12)), draw(_size(1, 12)))
    mode = draw(st.sampled_from(["nearest", "bilinear"]))
    return one(O.Interpolate(mode, size), (1, 2, draw(_size(1, 8)), draw(_size(1, 8))))


@st.composite
def reduce_ops(draw: st.DrawFn) -> Traced:
    """A mean, max or sum over one dimension of a 3-D tensor (tokens)."""
    shape = (draw(_size()), draw(_size()), draw(_size()))
    dim = draw(st.integers(0, 2))
    function = draw(st.sampled_from(["mean", "amax", "sum"]))
    return one(O.Reduce(function, (dim,), draw(st.booleans())), shape)


@st.composite
def weight_norm_ops(draw: st.DrawFn) -> Traced:
    """torch._weight_norm of a conv-like weight (its v and g the same tensor), its norm
    over every axis but one, or over all (-1)."""
    shape = (draw(_size()), draw(_size()), draw(_size()))
    return one(WeightNorm(draw(st.sampled_from([-1, 0, 1, 2]))), shape, 2)


@st.composite
def traced_builtins(draw: st.DrawFn) -> Traced:
    """Built-in primitives whose module runs one torch call: conv, linear, BN, activations."""
    choice = draw(st.sampled_from(["conv", "linear", "bn", "act", "pool"]))
    if choice == "conv":
        spec = draw(st.one_of(conv_specs(), family_specs()))
        return one(spec.conv(), spec.input_shape)
    if choice == "linear":
        op = draw(PRIMITIVES[P.Linear])
        return one(op, (draw(_size(1, 3)), op.in_features))
    if choice == "bn":
        bn = draw(PRIMITIVES[P.BatchNorm2d])
        # without affine, nothing is learned: the trace says (False, False), where a built
        # primitive keeps the default (the figures are the same: 0 parameters either way)
        bn = dataclasses.replace(bn, learned=(bn.affine, bn.affine))
        return one(bn, (2, bn.channels, draw(_size()), draw(_size())))
    if choice == "act":
        op = draw(PRIMITIVES[P.Activation])
        return one(op, (2, 3, draw(_size()), draw(_size())))
    pool = P.GlobalPool(draw(st.sampled_from(["avg", "max"])), draw(st.booleans()))
    return one(pool, (1, 3, draw(_size()), draw(_size())))


@st.composite
def recurrent_ops(draw: st.DrawFn) -> Traced:
    """nn.LSTM, nn.GRU or nn.RNN (layers, directions, LSTM's projection, bias, batch first,
    unbatched, or a packed sequence's data) or one of their cells, on a sequence that fits.
    Each reads its input and the zero state torch makes for it (LSTM's h and c)."""
    mode = draw(st.sampled_from(list(O.RECURRENT_GATES)))
    size, hidden, bias = draw(_size(1, 5)), draw(_size(1, 5)), draw(st.booleans())
    reads = 1 + (2 if mode == "lstm" else 1)
    shape: Shape
    if draw(st.integers(0, 3)) == 0:  # a cell: one step of a batch
        op = O.Recurrent(mode, size, hidden, bias=bias, cell=True)  # type: ignore[arg-type]
        return one(op, (draw(_size(1, 3)), size), reads=reads)
    layers, bidirectional = draw(_size(1, 2)), draw(st.booleans())
    proj = draw(st.integers(0, hidden - 1)) if mode == "lstm" else 0
    steps, batch = draw(_size(1, 4)), draw(_size(1, 3))
    form = draw(st.sampled_from(["batched", "unbatched", "packed"]))
    first = form != "packed" and draw(st.booleans())
    op = O.Recurrent(mode, size, hidden, layers, bias, bidirectional, proj,  # type: ignore[arg-type]
                     batch_first=first, packed=form == "packed")  # fmt: skip
    if form == "packed":  # its data: rows of (time step, sample) pairs
        shape = (steps * batch, size)
    elif form == "unbatched":
        shape = (steps, size)
    else:
        shape = (batch, steps, size) if first else (steps, batch, size)
    return one(op, shape, reads=reads)


@st.composite
def conv_named_linear_ops(draw: st.DrawFn) -> Traced:
    """GPT-2's Conv1D (addmm on an (in, out) weight, with its bias) on a batch of rows, or
    a "Conv" module running F.linear without one on (rows, in) or (N, T, in); torchinfo's
    positions are its output's N x prod(out[2:])."""
    in_features, out_features, bias = draw(_size(1, 8)), draw(_size(1, 8)), draw(st.booleans())
    lead = (draw(_size(1, 4)),) if bias else tuple(draw(st.lists(_size(1, 3), min_size=1,
                                                                 max_size=2)))  # fmt: skip
    out = (*lead, out_features)
    positions = math.prod(out[:1] + out[2:])
    return one(O.ConvNamedLinear(in_features, out_features, bias, positions), (*lead, in_features))


@st.composite
def fold_ops(draw: st.DrawFn) -> Traced:
    """F.fold of (N, C x kh x kw, L) stride-1 patches into (N, C, H, W), overlapping."""
    n, c, h, w = draw(_size(1, 2)), draw(_size(1, 3)), draw(_size(1, 5)), draw(_size(1, 5))
    kh, kw = draw(st.integers(1, h)), draw(st.integers(1, w))
    return one(O.Fold((n, c, h, w)), (n, c * kh * kw, (h - kh + 1) * (w - kw + 1)))


@st.composite
def deform_conv_ops(draw: st.DrawFn) -> Traced:
    """torchvision's DeformConv2d(input, offset[, mask]): offsets (and a mask, DCNv2) for
    each of offset_groups x kh x kw taps at every output position."""
    cin, cout, groups = draw(channels_and_groups(max_channels=6))
    kernel = (draw(_size(1, 3)), draw(_size(1, 3)))
    stride, dilation = (
        (draw(_size(1, 2)), draw(_size(1, 2))),
        (draw(_size(1, 2)), draw(_size(1, 2))),
    )
    padding = (draw(st.integers(0, 1)), draw(st.integers(0, 1)))
    size = [draw(st.integers(max(1, effective_kernel(k, d) - 2 * p), effective_kernel(k, d) + 4))
            for k, d, p in zip(kernel, dilation, padding, strict=True)]  # fmt: skip
    axes = zip(size, kernel, stride, padding, dilation, strict=True)
    out = [conv_output_size(i, k, s, p, d) for i, k, s, p, d in axes]
    offset_groups = draw(st.sampled_from([g for g in range(1, cin + 1) if cin % g == 0]))
    taps, n, mask = offset_groups * kernel[0] * kernel[1], draw(_size(1, 2)), draw(st.booleans())
    op = O.DeformConv(
        cin, cout, kernel, stride, padding, dilation, groups, draw(st.booleans()), mask
    )
    shapes = [(n, cin, *size), (n, 2 * taps, *out)] + ([(n, taps, *out)] if mask else [])
    return several(op, *shapes)


@st.composite
def select_ops(draw: st.DrawFn) -> Traced:
    """topk, unique, nonzero, argwhere, where(condition) and masked_select of zeros: all
    but topk (any values, on meta) are sized by the values, so they run on the CPU, where
    zeros give one unique value and no nonzero element."""
    function = draw(st.sampled_from(list(V.SELECT_OPS)))
    shape: Shape = tuple(draw(st.lists(_size(1, 4), min_size=1, max_size=3)))
    reads = math.prod(shape)
    if function == "topk":
        k = draw(st.integers(1, shape[-1]))
        return one(V.Select(function, (*shape[:-1], k), reads), shape)
    out: Shape = {"unique": (1,), "unique_consecutive": (1,), "nonzero": (0, len(shape)),
                  "argwhere": (0, len(shape))}.get(function, (0,))  # fmt: skip
    op = V.Select(function, out, reads)
    if function == "masked_select":  # the mask is given, not compared
        return Traced(op, (shape, shape), (0, 1), (0,), "cpu", ("float32", "bool"))
    return one(op, shape, device="cpu")


@st.composite
def nms_ops(draw: st.DrawFn) -> Traced:
    """torchvision's nms(boxes, scores) of empty boxes (zeros): none overlaps, all kept."""
    n = draw(_size(1, 8))
    return several(V.NMS(n, (n,)), (n, 4), (n,), device="cpu")


@st.composite
def roi_align_ops(draw: st.DrawFn) -> Traced:
    """torchvision's roi_align(features, rois) of K boxes (batch index, x1, y1, x2, y2)."""
    features = (draw(_size(1, 2)), draw(_size(1, 3)), draw(_size(1, 6)), draw(_size(1, 6)))
    output = (draw(_size(1, 3)), draw(_size(1, 3)))
    op = V.RoIAlign(output, draw(_size(1, 3)))
    return several(op, features, (draw(_size(1, 4)), 5))


@st.composite
def instance_norm_ops(draw: st.DrawFn) -> Traced:
    """F.instance_norm on (N, C, 2+ positions over 1 to 3 axes), affine or not, each sample's
    statistics or the running ones."""
    channels = draw(_size(1, 4))
    spatial: Shape = tuple(draw(st.lists(_size(1, 4), min_size=1, max_size=3)))
    spatial = (*spatial[:-1], spatial[-1] + 1)  # more than one position: torch's rule
    op = V.InstanceNorm(channels, draw(st.booleans()), draw(st.booleans()))
    return one(op, (draw(_size(1, 2)), channels, *spatial))


@st.composite
def grid_sample_ops(draw: st.DrawFn) -> Traced:
    """F.grid_sample(x, grid): bilinear, nearest or bicubic at each grid position."""
    n = draw(_size(1, 2))
    x = (n, draw(_size(1, 3)), draw(_size(1, 6)), draw(_size(1, 6)))
    grid = (n, draw(_size(1, 5)), draw(_size(1, 5)), 2)
    return several(V.GridSample(draw(st.sampled_from(["bilinear", "nearest", "bicubic"]))), x, grid)


@st.composite
def quantize_ops(draw: st.DrawFn) -> Traced:
    """quantize_per_tensor, quantize_per_channel (axis 1) of floats, dequantize of int8."""
    function = draw(st.sampled_from(list(V.QUANTIZE_OPS)))
    shape: Shape = tuple(draw(st.lists(_size(1, 4), min_size=2, max_size=4)))
    dtype = "quint8" if function == "dequantize" else "float32"
    return one(V.Quantize(function), shape, device="cpu", dtype=dtype)


@st.composite
def packed_ops(draw: st.DrawFn) -> Traced:
    """torch.ao's int8 Conv2d, Conv3d (ConvReLU fused), ConvTranspose2d, ConvTranspose3d and
    Linear (LinearReLU), on an int8 input."""
    if draw(st.booleans()):
        linear = draw(PRIMITIVES[P.Linear].filter(lambda op: op.in_features <= 16))
        shape: Shape = (draw(_size(1, 3)), linear.in_features)
        return one(V.Packed(linear, draw(st.booleans())), shape, device="cpu", dtype="quint8")
    # 2-D and 3-D: an int8 Conv1d packs its weight as a 2-D conv's, which the reader
    # (read_vision._packed_conv) does not read yet (it is "not counted")
    spec = draw(family_specs().filter(lambda spec: len(spec.kernel) > 1))
    relu = not spec.transposed and draw(st.booleans())
    return one(V.Packed(spec.conv(), relu), spec.input_shape, device="cpu", dtype="quint8")


@st.composite
def fused_pointwise_ops(draw: st.DrawFn) -> Traced:
    """torch.ops.quantized.add_relu(x, x) of an int8 tensor."""
    shape: Shape = tuple(draw(st.lists(_size(1, 4), min_size=1, max_size=4)))
    return one(V.FusedPointwise("add_relu", 2), shape, 2, device="cpu", dtype="quint8")


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
    O.Recurrent: recurrent_ops(),
    O.ConvNamedLinear: conv_named_linear_ops(),
    O.Fold: fold_ops(),
    O.DeformConv: deform_conv_ops(),
    V.Select: select_ops(),
    V.NMS: nms_ops(),
    V.RoIAlign: roi_align_ops(),
    V.InstanceNorm: instance_norm_ops(),
    V.GridSample: grid_sample_ops(),
    V.Quantize: quantize_ops(),
    V.Packed: packed_ops(),
    V.FusedPointwise: fused_pointwise_ops(),
}

# Ops with a torch module, read back by extract() (measure/extract.py).
PRIMITIVES[O.Norm] = norm_ops().map(lambda case: case[0])
PRIMITIVES[O.Pool2d] = pool_ops().map(lambda case: case[0])
PRIMITIVES[O.AdaptivePool2d] = adaptive_ops().map(lambda case: case[0])
