"""The convolution kinds of DOMAIN.md 1-7, each described as primitives.

``ConvSpec`` is what the user typed, after defaults. Each registered kind turns
a spec into a ``Network``; ``compare`` walks the registry, so a new kind is
written once and appears in ``convcalc compare`` and its tests for free.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Literal

from convcalc.core.geometry.shapes import Sizes
from convcalc.core.nets.graph import Network, Node, validate_input
from convcalc.core.ops.primitives import Conv, Padding, sizes_text
from convcalc.core.values.record import Record
from convcalc.errors import InvalidSpecError

KernelSpec = Sizes | Literal["global"]
PaddingSpec = Sizes | Literal["same", "valid"]


class ConvSpec(Record):
    """One convolution as the user specified it; defaults mirror ``nn.Conv2d``.

    Sizes hold one value per spatial axis: the input's length is the number of
    axes (1, 2 or 3; ``nn.Conv1d`` .. ``nn.Conv3d``), and every other size has as many.
    """

    cin: int
    cout: int
    kernel: KernelSpec = (3, 3)
    stride: Sizes = (1, 1)
    padding: PaddingSpec = (0, 0)
    dilation: Sizes = (1, 1)
    groups: int = 1
    bias: bool = True
    input: Sizes = (224, 224)
    batch: int = 1
    share_kernel: bool = False
    transposed: bool = False
    output_padding: Sizes = (0, 0)

    def __post_init__(self) -> None:
        for option, value in (("cin", self.cin), ("cout", self.cout), ("batch", self.batch)):
            if value <= 0:
                raise InvalidSpecError(f"{option}={value} must be a positive integer")
        if min(self.input) <= 0:
            raise InvalidSpecError(f"input={sizes_text(self.input)} must be positive")
        if self.kernel == "global" and self.padding not in ((0,) * self.dims, "valid"):
            raise InvalidSpecError(
                f"kernel=global spans the whole input and takes no padding "
                f"(got padding={sizes_text(self.padding)})"
            )
        if self.kernel == "global" and self.transposed:
            raise InvalidSpecError("kernel=global is not a transposed convolution's kernel")

    @property
    def dims(self) -> int:
        """Spatial axes: 1, 2 or 3 (the input's)."""
        return len(self.input)

    @property
    def resolved_kernel(self) -> Sizes:
        """The kernel, with ``global`` replaced by the input size."""
        return self.input if self.kernel == "global" else self.kernel

    @property
    def resolved_padding(self) -> Padding:
        """The padding as ``nn.Conv2d`` takes it (``valid`` is zero padding)."""
        return (0,) * self.dims if self.padding == "valid" else self.padding

    @property
    def input_shape(self) -> tuple[int, ...]:
        """(N, Cin, *spatial): (N, Cin, H, W) in 2-D."""
        return (self.batch, self.cin, *self.input)

    def conv(self, **changes: Any) -> Conv:
        """The spec's convolution, with any field changed (groups, cout, ...)."""
        fields: dict[str, Any] = {
            "cin": self.cin,
            "cout": self.cout,
            "kernel": self.resolved_kernel,
            "stride": self.stride,
            "padding": self.resolved_padding,
            "dilation": self.dilation,
            "groups": self.groups,
            "bias": self.bias,
            "shared_kernel": self.share_kernel,
            "transposed": self.transposed,
            "output_padding": self.output_padding,
        }
        fields.update(changes)
        return Conv(**fields)

    def to_dict(self) -> dict[str, Any]:
        """Every input, after defaults, as used (the JSON ``spec``); ``dims``,
        ``transposed`` and ``output_padding`` only where they are not 2-D's defaults."""
        document = {
            "cin": self.cin,
            "cout": self.cout,
            "kernel": "global" if self.kernel == "global" else list(self.kernel),
            "resolved_kernel": list(self.resolved_kernel),
            "stride": list(self.stride),
            "padding": self.padding if isinstance(self.padding, str) else list(self.padding),
            "dilation": list(self.dilation),
            "groups": self.groups,
            "bias": self.bias,
            "input": list(self.input),
            "batch": self.batch,
            "share_kernel": self.share_kernel,
        }
        if self.dims != 2:
            document["dims"] = self.dims
        if self.transposed:
            document["transposed"] = True
            document["output_padding"] = list(self.output_padding)
        return document


def conv_network(spec: ConvSpec) -> Network:
    """A single ``nn.Conv2d`` (or the shared-kernel depthwise module)."""
    validate_input(spec.input_shape)
    return Network("conv", spec.input_shape, (Node("conv", spec.conv()),))


def separable_network(spec: ConvSpec) -> Network:
    """Depthwise k x k (cin -> cin, groups=cin) then pointwise 1x1 (cin -> cout, groups=g)."""
    validate_input(spec.input_shape)
    depthwise = spec.conv(cout=spec.cin, groups=spec.cin, shared_kernel=False)
    ones = (1,) * spec.dims
    pointwise = Conv(spec.cin, spec.cout, ones, ones, (0,) * spec.dims, ones,
                     groups=spec.groups, bias=spec.bias)  # fmt: skip
    return Network(
        "separable",
        spec.input_shape,
        (Node("depthwise", depthwise), Node("pointwise", pointwise)),
    )


AXIS_NAMES = {1: ("k",), 2: ("kx1", "1xk"), 3: ("kx1x1", "1xkx1", "1x1xk")}


def spatial_network(spec: ConvSpec) -> Network:
    """The k x k (x k) split along its axes: k x 1 (cin -> cin) then 1 x k (cin -> cout);
    in 3-D three steps, one per axis.

    Stride, padding and dilation go to the axis each step spans.
    """
    validate_input(spec.input_shape)
    kernel, padding = spec.resolved_kernel, spec.resolved_padding
    nodes = []
    for axis, name in enumerate(AXIS_NAMES[spec.dims]):

        def only(sizes: Sizes, rest: int, axis: int = axis) -> Sizes:
            return tuple(v if a == axis else rest for a, v in enumerate(sizes))

        step_padding: Padding = "same" if padding == "same" else only(padding, 0)
        cout = spec.cout if axis == spec.dims - 1 else spec.cin
        step = Conv(
            spec.cin,
            cout,
            only(kernel, 1),
            only(spec.stride, 1),
            step_padding,
            only(spec.dilation, 1),
            spec.groups,
            spec.bias,
        )
        nodes.append(Node(name, step))
    return Network("spatial", spec.input_shape, tuple(nodes))


def standard_network(spec: ConvSpec) -> Network:
    """The standard (groups=1) convolution a variant is compared with."""
    validate_input(spec.input_shape)
    return Network(
        "standard", spec.input_shape, (Node("conv", spec.conv(groups=1, shared_kernel=False)),)
    )


def _grouped(spec: ConvSpec) -> Network:
    return Network("grouped", spec.input_shape, (Node("conv", spec.conv(shared_kernel=False)),))


def _depthwise(spec: ConvSpec, *, shared: bool = False) -> Network:
    if spec.cout % spec.cin:
        raise InvalidSpecError(
            f"depthwise needs cout={spec.cout} to be a multiple of cin={spec.cin} "
            "(the channel multiplier must be an integer)"
        )
    conv = spec.conv(groups=spec.cin, shared_kernel=shared)
    return Network(
        "shared-kernel" if shared else "depthwise", spec.input_shape, (Node("conv", conv),)
    )


# The variants ``convcalc compare`` shows, in order. Each takes the user's spec
# (its groups is the grouped variant's g) and describes one way to build it.
COMPARE_VARIANTS: dict[str, Callable[[ConvSpec], Network]] = {
    "standard": standard_network,
    "grouped": _grouped,
    "depthwise": _depthwise,
    "depthwise-separable": lambda spec: separable_network(
        replace(spec, groups=1, share_kernel=False)
    ),
    "spatially-separable": lambda spec: spatial_network(
        replace(spec, groups=1, share_kernel=False)
    ),
    "shared-kernel": lambda spec: _depthwise(spec, shared=True),
}


# With --transposed, ``compare`` shows the ways to upsample by the stride: the
# transposed convolution, and resampling to its output size followed by a
# stride-1 convolution with the same kernel ("same" padding keeps the size).
RESIZE_MODES = {1: "linear", 2: "bilinear", 3: "trilinear"}


def _upsample_then_conv(spec: ConvSpec, mode: str) -> Network:
    from convcalc.core.ops.traced import Interpolate  # the op table loads only where it is used

    size = spec.conv().out_shape((spec.input_shape,))[2:]
    ones = (1,) * spec.dims
    conv = Conv(spec.cin, spec.cout, spec.resolved_kernel, ones, "same", spec.dilation,
                spec.groups, spec.bias)  # fmt: skip
    return Network(
        f"{mode} + conv",
        spec.input_shape,
        (Node("resize", Interpolate(mode, size)), Node("conv", conv)),
    )


def _transposed(spec: ConvSpec) -> Network:
    return Network("transposed", spec.input_shape, (Node("conv", spec.conv()),))


def compare_variant(name: str, spec: ConvSpec) -> Network:
    """One registered variant, named by its registry key."""
    return replace(COMPARE_VARIANTS[name](spec), name=name)


def upsample_networks(spec: ConvSpec) -> list[Network]:
    """``compare --transposed``: the transposed convolution, then nearest and (bi/tri)linear
    resampling to its output size, each followed by a stride-1 conv with its kernel."""
    validate_input(spec.input_shape)
    modes = ("nearest", RESIZE_MODES[spec.dims])
    return [_transposed(spec), *(_upsample_then_conv(spec, mode) for mode in modes)]


def compare_networks(spec: ConvSpec, groups_given: bool) -> tuple[list[Network], list[str]]:
    """Every variant ``compare`` can build for this spec, and why any other was skipped.

    ``spec.groups`` is the grouped variant's g. A grouped variant that would be
    the depthwise one (g = cin, chosen by default) is skipped, as are depthwise
    kinds when cout is not a multiple of cin.
    """
    if spec.transposed:
        return upsample_networks(spec), []
    networks, skipped = [], []
    for name in COMPARE_VARIANTS:
        if name == "grouped" and spec.groups == 1 and groups_given:
            skipped.append("grouped (g=1 is the standard variant)")
        elif name == "grouped" and spec.groups == 1:
            skipped.append(f"grouped (cin={spec.cin} and cout={spec.cout} share no divisor > 1)")
        elif name == "grouped" and not groups_given and spec.groups == spec.cin:
            skipped.append(
                f"grouped (the only g > 1 dividing both is cin={spec.cin}: that is depthwise)"
            )
        elif name == "spatially-separable" and spec.dims == 1:
            skipped.append("spatially-separable (a 1-D kernel has no axes to split)")
        elif name in ("depthwise", "shared-kernel") and spec.cout % spec.cin:
            skipped.append(f"{name} (cout={spec.cout} is not a multiple of cin={spec.cin})")
        else:
            networks.append(compare_variant(name, spec))
    return networks, skipped


# Trial division stops here: beyond, a common divisor is proved prime or the user gives -g.
TRIAL_DIVISION_LIMIT = 100_000


def smallest_group(cin: int, cout: int) -> int | None:
    """The smallest g > 1 dividing both channel counts (compare's default grouping).

    That is the smallest prime factor of gcd(cin, cout): trial division up to
    100,000, then a primality test, so any channel counts answer at once. A
    gcd whose smallest factor is larger than that, but which is not prime
    (a product of two such primes), cannot be factored in reasonable time:
    InvalidSpecError asks for ``-g``.
    """
    common = math.gcd(cin, cout)
    factor = 2
    while factor * factor <= common and factor <= TRIAL_DIVISION_LIMIT:
        if common % factor == 0:
            return factor
        factor += 1
    if common <= 1:
        return None
    if factor * factor > common or _is_prime(common):
        return common
    raise InvalidSpecError(
        f"cin and cout share no divisor below {TRIAL_DIVISION_LIMIT:,} and their greatest common "
        "divisor is not prime: too slow to factor; give the grouped variant's g with -g"
    )


def _is_prime(n: int) -> bool:
    """Miller-Rabin with the first 20 primes as bases: exact below 3.3 x 10^24, and wrong
    beyond with a probability under 4^-20."""
    bases = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71)
    if n < 2:
        return False
    for p in bases:
        if n % p == 0:
            return n == p
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for a in bases:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True
