"""The public library: constructors for every built-in, ``analyze`` and ``verify``.

Importing this module (and ``convcalc``) never imports torch: ``analyze`` is
pure arithmetic; ``verify`` imports torch and torchinfo on its first call.
Every function raises the project's errors (``convcalc.errors``) with the
user's values in the message; nothing here prints or exits.

    >>> import convcalc
    >>> report = convcalc.analyze(convcalc.conv(4, 8, groups=2))
    >>> report.params, report.macs
    (152, 7096896)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from convcalc.core.count.figures import DTYPE_BYTES
from convcalc.core.designs import (
    Comparison,
    Design,
    Sweep,
    compare_design,
    conv_design,
    network_design,
    separable_design,
    spatial_design,
    sweep_design,
)
from convcalc.core.documents.report import CompareReport, Report, SweepReport
from convcalc.core.geometry.shapes import Pair, Sizes
from convcalc.core.nets import registry
from convcalc.core.nets.graph import Network, Node
from convcalc.core.nets.registry import network_entry
from convcalc.core.values.parse import check_dims
from convcalc.errors import EnvironmentUnavailableError, InvalidSpecError
from convcalc.render import display  # noqa: F401  (registers how a notebook shows a report)

if TYPE_CHECKING:
    from typing import TypedDict

    from typing_extensions import Unpack  # in typing from 3.11; only for the checker here

    from convcalc.core.nets.layers import ConvSpec, KernelSpec, PaddingSpec
    from convcalc.core.nets.mobilenet import MobileNetSpec

# The blocks', networks' and ops' modules load in the constructors that use them, so
# that a command's start-up pays only for what it builds (SPEC "Performance").

DEVICES = ("auto", "cpu", "cuda", "meta")

Size = int | tuple[int, ...]
# The registry: every built-in network by name, its module loaded when it is first used.
NETWORKS = registry.NETWORKS
Notify = Callable[[str], None]
AnyReport = Report | CompareReport | SweepReport
ReportT_co = TypeVar("ReportT_co", Report, CompareReport, SweepReport, covariant=True)
ReportT = TypeVar("ReportT", Report, CompareReport, SweepReport)


class Analyzable(Protocol[ReportT_co]):
    """A design, comparison or sweep: anything ``analyze`` takes."""

    def analyze(self, dtype: str = ..., device: str = ...) -> ReportT_co:
        """Every analytic figure."""
        ...


# ---------------------------------------------------------------- arguments


def _integer(value: Any, option: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidSpecError(f"{option}={value!r} must be an integer")
    return value


def _sizes(value: Any, option: str, dims: int) -> Sizes:
    """An int, or one int per spatial axis, exactly as ``nn.Conv1d``..``3d`` take sizes."""
    if isinstance(value, tuple | list) and len(value) == dims:
        return tuple(_integer(v, option) for v in value)
    if isinstance(value, tuple | list):
        axes = {1: "(L,)", 2: "(H, W)", 3: "(D, H, W)"}.get(dims, "")
        raise InvalidSpecError(
            f"{option}={value!r} must be an integer or {dims} integers {axes} for "
            f"a {dims}-D convolution"
        )
    size = _integer(value, option)
    return (size,) * dims


def _pair(value: Any, option: str) -> Pair:
    """An int, or an (H, W) pair of ints, exactly as ``nn.Conv2d`` takes its sizes."""
    height, width = _sizes(value, option, 2)
    return height, width


def _dims(given: Any, *sizes: Any) -> int:
    """The number of spatial axes: given, or the length of the sizes given per axis (2
    when every size is one int)."""
    if given is not None:
        return check_dims(_integer(given, "dims"))
    lengths = {len(v) for v in sizes if isinstance(v, tuple | list)}
    if len(lengths) > 1:
        raise InvalidSpecError(
            f"sizes with {' and '.join(map(str, sorted(lengths)))} values: give one value per "
            "axis of the same number of axes (or dims=)"
        )
    return lengths.pop() if lengths else 2


def _kernel(value: Any, dims: int) -> KernelSpec:
    return "global" if value == "global" else _sizes(value, "kernel", dims)


def _padding(value: Any, dims: int) -> PaddingSpec:
    if value in ("same", "valid"):
        return value  # type: ignore[no-any-return]
    return _sizes(value, "padding", dims)


if TYPE_CHECKING:  # what the keyword arguments are, for the checker (a TypedDict costs start-up)

    class ConvShape(TypedDict, total=False):
        """The shape arguments of ``separable``, ``spatial`` and ``compare``, as ``conv`` names
        them (ints or (H, W) pairs): stride, padding, dilation, bias, input, batch."""

        stride: Size
        padding: Size | Literal["same", "valid"]
        dilation: Size
        bias: bool
        input: Size
        batch: int
        dims: int | None

    class GroupedShape(ConvShape, total=False):
        """``ConvShape`` and the groups of the block's own convolution."""

        groups: int

    class ConvArgs(GroupedShape, total=False):
        """Every argument of ``conv`` after the kernel."""

        share_kernel: bool
        transposed: bool
        output_padding: Size


Kernel = Size | Literal["global"]


def conv_spec(cin: int, cout: int, kernel: Kernel = 3, **args: Unpack[ConvArgs]) -> ConvSpec:
    """A validated convolution spec, from ints or one int per axis (``(H, W)``, ``(D, H,
    W)``) as ``nn.Conv1d``..``3d`` take them; ``dims`` defaults to the sizes' length, or 2."""
    stride, padding = args.get("stride", 1), args.get("padding", 0)
    dilation, size = args.get("dilation", 1), args.get("input", 224)
    output_padding = args.get("output_padding", 0)
    dims = _dims(args.get("dims"), kernel, stride, padding, dilation, size, output_padding)
    from convcalc.core.nets.layers import ConvSpec  # the layer commands' (start-up)

    return ConvSpec(
        cin=_integer(cin, "cin"),
        cout=_integer(cout, "cout"),
        kernel=_kernel(kernel, dims),
        stride=_sizes(stride, "stride", dims),
        padding=_padding(padding, dims),
        dilation=_sizes(dilation, "dilation", dims),
        groups=_integer(args.get("groups", 1), "groups"),
        bias=bool(args.get("bias", True)),
        input=_sizes(size, "input", dims),
        batch=_integer(args.get("batch", 1), "batch"),
        share_kernel=bool(args.get("share_kernel", False)),
        transposed=bool(args.get("transposed", False)),
        output_padding=_sizes(output_padding, "output padding", dims),
    )


# ---------------------------------------------------------------- constructors


def conv(
    cin: int,
    cout: int,
    kernel: Size | Literal["global"] = 3,
    stride: Size = 1,
    padding: Size | Literal["same", "valid"] = 0,
    dilation: Size = 1,
    groups: int = 1,
    bias: bool = True,
    input: Size = 224,
    batch: int = 1,
    share_kernel: bool = False,
    transposed: bool = False,
    output_padding: Size = 0,
    dims: int | None = None,
) -> Design:
    """One convolution: standard, grouped, depthwise (x multiplier), global, dilated;
    1-D to 3-D (``dims``, or sizes given per axis); ``transposed`` as
    ``nn.ConvTranspose2d`` (with ``output_padding``).

    ``share_kernel`` gives the shared-kernel depthwise module (needs groups=cin).
    """
    return conv_design(
        conv_spec(cin, cout, kernel, stride=stride, padding=padding, dilation=dilation,
                  groups=groups, bias=bias, input=input, batch=batch, share_kernel=share_kernel,
                  transposed=transposed, output_padding=output_padding, dims=dims)
    )  # fmt: skip


def separable(cin: int, cout: int, kernel: Kernel = 3, **shape: Unpack[GroupedShape]) -> Design:
    """Depthwise k x k (groups=cin), then pointwise 1x1 (``groups``) to cout."""
    return separable_design(conv_spec(cin, cout, kernel, **shape))


def spatial(cin: int, cout: int, kernel: Kernel = 3, **shape: Unpack[GroupedShape]) -> Design:
    """Spatially separable: k x 1 (cin -> cin) then 1 x k (cin -> cout)."""
    return spatial_design(conv_spec(cin, cout, kernel, **shape))


def compare(
    cin: int,
    cout: int,
    kernel: Kernel = 3,
    *,
    groups: int | None = None,
    transposed: bool = False,
    output_padding: Size = 0,
    **shape: Unpack[ConvShape],
) -> Comparison:
    """Standard, grouped, depthwise, separable, spatial and shared-kernel side by side.

    ``groups`` is the grouped variant's g; by default the smallest g > 1 dividing
    both channel counts. With ``transposed``: the ways to upsample instead, the
    transposed convolution beside nearest and (bi/tri)linear resampling to its
    output size, each followed by a stride-1 convolution (``groups`` default 1).
    """
    chosen = groups
    if chosen is None and transposed:
        chosen = 1
    if chosen is None:
        from convcalc.core.nets.layers import smallest_group

        chosen = smallest_group(_integer(cin, "cin"), _integer(cout, "cout")) or 1
    spec = conv_spec(cin, cout, kernel, groups=chosen, transposed=transposed,
                     output_padding=output_padding, **shape)  # fmt: skip
    return compare_design(spec, groups_given=groups is not None)


def se(
    channels: int,
    reduction: int = 16,
    bias: bool = False,
    input: Size = 224,
    batch: int = 1,
) -> Design:
    """Squeeze-and-Excitation: pool, FC C -> C/r, ReLU, FC C/r -> C, sigmoid, x * gate."""
    from convcalc.core.nets.mobilenet import se_block

    size = _pair(input, "input")
    network = se_block(_integer(channels, "channels"), _integer(reduction, "reduction"), size,
                       _integer(batch, "batch"), bool(bias))  # fmt: skip
    spec = {"channels": channels, "reduction": reduction, "bias": bool(bias),
            "input": list(size), "batch": batch}  # fmt: skip
    return Design("se", spec, network, "squeeze-and-excitation")


def pool(
    channels: int,
    mode: str = "max",
    kernel: Size = 2,
    stride: Size | None = None,
    padding: Size = 0,
    dilation: Size = 1,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    output: Size | None = None,
    input: Size = 224,
    batch: int = 1,
    dims: int | None = None,
) -> Design:
    """Max or average pooling (``nn.MaxPool1d``..``3d``, ``nn.AvgPool*``), or adaptive
    pooling to ``output`` (``nn.AdaptiveMaxPool*``, ``nn.AdaptiveAvgPool*``).

    ``stride`` defaults to the kernel, as in torch; ``dilation`` is max pooling's,
    ``count_include_pad`` average pooling's; ``ceil_mode`` rounds the output size up
    while the last window still starts inside the input or its left padding.
    """
    from convcalc.core.ops.pooling import POOL_MODES, AdaptivePool2d, Pool2d

    if mode not in POOL_MODES:
        raise InvalidSpecError(f"mode={mode!r} is not max or avg")
    given = stride if stride is not None else kernel
    n = _dims(dims, kernel, given, padding, dilation, input, output)
    size = _sizes(input, "input", n)
    shape = (_integer(batch, "batch"), _integer(channels, "channels"), *size)
    for option, value in (("channels", shape[1]), ("batch", shape[0])):
        if value <= 0:
            raise InvalidSpecError(f"{option}={value} must be a positive integer")
    if min(size) <= 0:
        raise InvalidSpecError(f"input={list(size)} must be positive")
    spec: dict[str, Any] = {"channels": channels, "mode": mode, "input": list(size),
                            "batch": batch}  # fmt: skip
    op: Any
    if output is not None:
        target = _sizes(output, "output", n)
        if min(target) <= 0:
            raise InvalidSpecError(f"output={list(target)} must be positive")
        op = AdaptivePool2d(mode, target)  # type: ignore[arg-type]
        spec["output"] = list(target)
        kind = f"adaptive {mode} pooling"
    else:
        kernels, strides = _sizes(kernel, "kernel", n), _sizes(given, "stride", n)
        pads, dilations = _sizes(padding, "padding", n), _sizes(dilation, "dilation", n)
        for option, values in (("kernel", kernels), ("stride", strides), ("dilation", dilations)):
            if min(values) <= 0:
                raise InvalidSpecError(f"{option}={list(values)} must be positive")
        if min(pads) < 0:
            raise InvalidSpecError(f"padding={list(pads)} must be zero or more")
        if mode == "avg" and set(dilations) != {1}:
            raise InvalidSpecError("dilation is max pooling's: average pooling has none")
        op = Pool2d(mode, kernels, strides, pads, dilations, bool(ceil_mode),  # type: ignore[arg-type]
                    bool(count_include_pad))  # fmt: skip
        spec |= {"kernel": list(kernels), "stride": list(strides), "padding": list(pads),
                 "dilation": list(dilations), "ceil_mode": bool(ceil_mode),
                 "count_include_pad": bool(count_include_pad)}  # fmt: skip
        kind = f"{mode} pooling"
    if n != 2:
        spec["dims"] = n
    op.out_shape((shape,))  # a window larger than the padded input: said now
    network = Network("pool", shape, (Node("pool", op),))
    return Design("pool", spec, network, f"{n}-D {kind}" if n != 2 else kind)


def cbam(
    channels: int,
    reduction: int = 16,
    spatial_kernel: int = 7,
    mlp_bias: bool = True,
    spatial_bn: bool = True,
    input: Size = 224,
    batch: int = 1,
) -> Design:
    """CBAM: channel gate (shared MLP on avg- and max-pooled), then spatial gate (k x k conv)."""
    from convcalc.core.nets.mobilenet import cbam_block

    size = _pair(input, "input")
    network = cbam_block(
        _integer(channels, "channels"),
        _integer(reduction, "reduction"),
        size,
        _integer(batch, "batch"),
        spatial_kernel=_integer(spatial_kernel, "spatial-kernel"),
        mlp_bias=bool(mlp_bias),
        spatial_bn=bool(spatial_bn),
    )
    spec = {"channels": channels, "reduction": reduction, "spatial_kernel": spatial_kernel,
            "mlp_bias": bool(mlp_bias), "spatial_bn": bool(spatial_bn), "input": list(size),
            "batch": batch}  # fmt: skip
    return Design("cbam", spec, network, "convolutional block attention")


def mobilenet(
    version: int = 1,
    width: float = 1.0,
    resolution: int = 224,
    classes: int = 1000,
    batch: int = 1,
    size: str | None = None,
) -> Design:
    """MobileNet V1, V2 or V3 (``size`` large or small) with a width multiplier (alpha)
    and an input side."""
    if version == 3 and not isinstance(version, bool):
        from convcalc.core.nets.mobilenet_v3 import MobileNetV3Spec

        v3 = MobileNetV3Spec(size or "large", _width(width), _integer(resolution, "resolution"),
                             _integer(classes, "classes"), _integer(batch, "batch"))  # fmt: skip
        return network_design(f"mobilenet_v3_{v3.size}", v3)
    if size is not None:
        raise InvalidSpecError(f"size={size!r} applies to version 3 only (got version={version})")
    spec = _mobilenet_spec(version, width, resolution, classes, batch)
    return network_design(f"mobilenet_v{spec.version}", spec)


def resnet(
    depth: int = 50,
    variant: str = "v1.5",
    groups: int = 1,
    width_per_group: int = 64,
    attention: str | None = None,
    reduction: int = 16,
    attention_bias: bool = True,
    width: float = 1.0,
    resolution: int = 224,
    classes: int = 1000,
    batch: int = 1,
) -> Design:
    """ResNet-18..152 (v1 or v1.5), ResNeXt (``groups``, ``width_per_group``), Wide ResNet
    (``width_per_group=128``), SE- or CBAM-ResNet (``attention``, ``reduction``)."""
    from convcalc.core.nets.resnet import ResNetSpec

    spec = ResNetSpec(
        depth=_integer(depth, "depth"),
        variant=str(variant),
        groups=_integer(groups, "groups"),
        width_per_group=_integer(width_per_group, "width-per-group"),
        attention=attention,
        reduction=_integer(reduction, "reduction"),
        attention_bias=bool(attention_bias),
        width=_width(width),
        resolution=_integer(resolution, "resolution"),
        classes=_integer(classes, "classes"),
        batch=_integer(batch, "batch"),
    )
    return network_design("resnet", spec)


def sweep(
    network: str,
    widths: Sequence[float],
    resolutions: Sequence[int],
    **fields: Any,
) -> Sweep:
    """A registered network (``mobilenet_v1``) at every (width, resolution) combination.

    ``fields`` are the spec's other fields (``classes``, ``batch``); ratios are
    taken to the registry's reference point (width 1.0 at 224).
    """
    entry = network_entry(network)
    if not widths or not resolutions:
        raise InvalidSpecError("a sweep needs at least one width and one resolution")
    fields = entry.defaults | fields  # the fields that tell this network apart (size)
    specs = [
        entry.spec_type(width=_width(w), resolution=_integer(r, "resolution"), **fields)
        for w in widths
        for r in resolutions
    ]
    return sweep_design(network, specs)


def _width(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidSpecError(f"width={value!r} must be a number")
    if not 0 < value < float("inf"):
        raise InvalidSpecError(f"width={value} must be a finite number greater than 0")
    return float(value)


def _mobilenet_spec(
    version: int, width: float, resolution: int, classes: int, batch: int
) -> MobileNetSpec:
    from convcalc.core.nets.mobilenet import MobileNetSpec

    return MobileNetSpec(
        version=_integer(version, "version"),
        width=_width(width),
        resolution=_integer(resolution, "resolution"),
        classes=_integer(classes, "classes"),
        batch=_integer(batch, "batch"),
    )


# ---------------------------------------------------------------- analysis


def _check_run_options(dtype: str, device: str) -> None:
    if dtype not in DTYPE_BYTES:
        raise InvalidSpecError(f"dtype={dtype!r} is not one of {', '.join(DTYPE_BYTES)}")
    if device not in DEVICES:
        raise InvalidSpecError(f"device={device!r} is not one of {', '.join(DEVICES)}")


def analyze(subject: Analyzable[ReportT], dtype: str = "float32", device: str = "auto") -> ReportT:
    """Every analytic figure of a design, comparison or sweep; pure, never imports torch.

    ``device`` is only recorded in the report's spec (what ``verify`` will use).
    """
    _check_run_options(dtype, device)
    return subject.analyze(dtype, device)


def verify(
    subject: Analyzable[ReportT] | ReportT,
    device: str = "auto",
    *,
    dtype: str = "float32",
    cross_check: bool = False,
    backward: bool = False,
    notify: Notify | None = None,
) -> ReportT:
    """Analyze (unless given a report), build the same graph in torch, measure, compare.

    ``device``: ``auto`` (CUDA when present, else CPU), ``cpu``, ``cuda`` or
    ``meta``; a forward pass too large for real memory runs on ``meta`` and
    ``notify`` (if given) is told so. ``cross_check`` adds FlopCounterMode
    (about 1-2 s on first use); with ``backward`` too, FlopCounterMode around a
    training step (forward + every parameter's gradient, on the meta device), checked
    against the analytic backward pass. The report's ``match`` says whether every
    compared figure agreed; ``checks`` lists them.
    """
    _check_run_options(dtype, device)
    report = subject if isinstance(subject, AnyReport) else subject.analyze(dtype, device)
    try:
        from convcalc.measure.probe import verify_report
    except ImportError as exc:
        raise EnvironmentUnavailableError(
            f"verification needs torch and torchinfo ({exc.name} is missing); "
            "install them, or use analyze() (the CLI's --no-verify) for the analytic figures"
        ) from exc

    def one(r: Report) -> Report:
        return verify_report(r, device, cross_check=cross_check, backward=backward, notify=notify)

    if isinstance(report, Report):
        return one(report)  # type: ignore[return-value]  # mypy checks each constraint apart
    return replace(report, reports=tuple(one(r) for r in report.reports))


# ---------------------------------------------------------------- any model

Profile = TypeVar("Profile", bound=Callable[..., Report])


def _warnings_said(function: Profile) -> Profile:
    """The model's own warnings, while ``profile`` builds and runs it, told to
    ``notify`` as one notice (``measure.target.warnings_as_notice``), never printed
    raw; without ``notify`` they stay Python's warnings."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Report:
        notify = kwargs.get("notify")
        try:
            from convcalc.measure.target import warnings_as_notice
        except ImportError:  # no torch: profile says so itself
            notify = None
        if notify is None:
            return function(*args, **kwargs)
        with warnings_as_notice(notify):
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@_warnings_said
def profile(
    model: Any,
    *example: Any,
    input_shape: Sequence[int] | None = None,
    inputs: Any = None,
    args: dict[str, Any] | None = None,
    input_dtype: str = "float32",
    dtype: str | None = None,
    device: str = "meta",
    verify: bool = True,
    cross_check: bool = False,
    backward: bool = False,
    notify: Notify | None = None,
    measure_time: Any = False,
    **keyword_inputs: Any,
) -> Report:
    """Any ``nn.Module`` (or a factory, called with ``args``, or a target string such as
    ``"torchvision:resnet50"`` or ``"pkg.mod:build"``), per layer, on the meta device.

    Its inputs, as its forward takes them: ``profile(model, *example, **keyword_inputs)``
    calls ``model(*example, **keyword_inputs)``. Each tensor may be given as a tensor
    (on meta, a meta tensor of its shape and dtype is used; on a real device, its
    values) or, positionally, as a shape (``(1, 3, 224, 224)``, ``"1x128:long"``);
    tuples, lists and dicts of tensors nest; anything else is passed as it is.
    ``inputs`` takes them at once: a tuple of positional inputs, a dict of keyword
    inputs, an ``(args, kwargs)`` pair, a function returning one, or a
    ``"file.py:function"`` / ``"pkg.mod:function"`` target naming that function.
    With none of these (nor ``input_shape``), a zoo target's own input (timm's and
    torchvision's default size, detection's list of images, RAFT's two frames:
    ``notify`` is told), else one 1x3x224x224 image. A shape's dtype defaults to
    ``input_dtype`` (``long`` for token ids: on a real device, ids below the first
    ``nn.Embedding``'s vocabulary); ``dtype`` is the model's (default float32, or
    ``input_dtype`` when it is a float).

    Every op its forward pass runs is read into convcalc's primitives and
    analysed; with ``verify``, torchinfo runs on the same model and each module
    call is compared (``cross_check`` adds FlopCounterMode; with ``backward``, around
    a training step of a meta copy too). Ops with no formula
    are listed in ``report.totals.not_counted``, never counted as 0. Imports torch.
    The model is never changed: one on another device is copied to meta
    structurally, its weights never copied. The user's code (import, factory, inputs
    function, forward) prints to stderr, and cannot reach the network: an attempt to
    download fails at once, with a hint.
    """
    if device not in DEVICES:
        raise InvalidSpecError(f"device={device!r} is not one of {', '.join(DEVICES)}")
    timing = _timing(measure_time, device)
    given_ways = [name for name, given in (("positional inputs", example or keyword_inputs),
                  ("input_shape", input_shape is not None), ("inputs", inputs is not None))
                  if given]  # fmt: skip
    if len(given_ways) > 1:
        raise InvalidSpecError(f"give the model's inputs one way, not {' and '.join(given_ways)}")
    try:
        from convcalc.measure import inputs as example_inputs
        from convcalc.measure.profile import profile_model
        from convcalc.measure.target import (
            build_model,
            built_off_meta,
            find_factory,
            guarded,
            off_meta,
            resolve_device,
            zoo_inputs,
        )
    except ImportError as exc:
        raise EnvironmentUnavailableError(
            f"profiling a model needs torch and torchinfo ({exc.name} is missing)"
        ) from exc
    example_inputs.check_dtype(input_dtype)
    say = notify or (lambda _message: None)
    spec: dict[str, Any] = {"args": dict(args or {})}
    notes: list[str] = []
    kind = ""
    instance = hasattr(model, "named_modules") and not isinstance(model, type)
    with guarded():
        if isinstance(model, str):
            factory, where = find_factory(model)
            spec["target"] = model
            kind = where
        elif instance:
            factory = None
            spec["target"] = type(model).__name__
        elif callable(model):  # a factory function or a module class
            factory, where = model, getattr(model, "__qualname__", repr(model))
            spec["target"] = where
        else:
            raise InvalidSpecError(
                f"profile() takes a model, a factory or a target string, "
                f"not a {type(model).__name__}"
            )
        if factory is not None:
            on = resolve_device(device)
            known = off_meta(spec["target"]) if on == "meta" else None
            model, built_on = build_model(factory, dict(args or {}), where, notes.append,
                                          "cpu" if known else on)  # fmt: skip
            if known:
                built_off_meta(model, known)
            spec["built_on"] = built_on
        if example or keyword_inputs:
            given = _example(example, keyword_inputs, input_dtype)
        elif input_shape is not None:
            given = example_inputs.ExampleInputs(
                (example_inputs.TensorSpec(tuple(input_shape)),), {}, input_dtype
            )
        elif inputs is not None:
            given = _inputs_value(inputs, input_dtype)
        else:
            given = None
        zoo_given, notice = zoo_inputs(spec["target"], model, given, input_dtype)
        if notice:
            notes.append(notice)
        for note in notes:
            say(note)
        return profile_model(
            model,
            (1, 3, 224, 224),  # when neither the user nor the zoo names the inputs
            inputs=zoo_given,
            input_dtype=input_dtype,
            dtype=dtype,
            device=device,
            verify=verify,
            cross_check=cross_check,
            backward=backward,
            spec=spec,
            kind=kind,
            notes=[n.removeprefix("notice: ") for n in notes],
            owned=factory is not None,
            notify=say,
            # where the forward cannot run on meta: the factory again, on the CPU
            rebuild=None
            if factory is None
            else lambda: build_model(factory, dict(args or {}), where, say, "cpu")[0],
            measure_time=timing,
        )


def _example(example: tuple[Any, ...], keyword_inputs: dict[str, Any], input_dtype: str) -> Any:
    """``profile``'s positional and keyword inputs: a sequence of ints or a ``1x128:long``
    string given positionally is a shape; anything else is as given."""
    from convcalc.measure.inputs import ExampleInputs, TensorSpec, parse_spec

    def positional(item: Any) -> Any:
        if isinstance(item, str):
            return parse_spec(item)
        if (
            isinstance(item, tuple | list)
            and item
            and all(isinstance(size, int) and not isinstance(size, bool) for size in item)
        ):
            return TensorSpec(tuple(item))
        return item

    return ExampleInputs(tuple(positional(a) for a in example), dict(keyword_inputs), input_dtype)


def _inputs_value(inputs: Any, input_dtype: str) -> Any:
    """``profile``'s ``inputs=``: a value, a function returning one, or a target naming it."""
    from convcalc.measure.inputs import from_value
    from convcalc.measure.target import describe_exception, find_inputs_function

    where = "inputs"
    if isinstance(inputs, str):
        inputs, where = find_inputs_function(inputs)
    if callable(inputs) and not hasattr(inputs, "shape"):
        where = getattr(inputs, "__qualname__", where)
        try:
            inputs = inputs()
        except Exception as exc:  # the user's inputs function: its own words
            raise InvalidSpecError(f"{where}() raised {describe_exception(exc)}") from exc
        where = f"{where}()"
    return from_value(inputs, input_dtype, where)


def _timing(measure_time: Any, device: str) -> Any:
    """``profile``'s ``measure_time`` as a core.count.timing.TimingOptions (None: not timed)."""
    if measure_time is False or measure_time is None:
        return None
    from convcalc.core.count.timing import TimingOptions

    if measure_time is True:
        measure_time = TimingOptions()
    if not isinstance(measure_time, TimingOptions):
        raise InvalidSpecError(
            "measure_time must be True, False or a core.count.timing.TimingOptions"
        )
    if device == "meta":
        raise InvalidSpecError(
            "measure_time runs the model for real: give device='cpu', 'cuda' or 'auto'"
        )
    return measure_time
