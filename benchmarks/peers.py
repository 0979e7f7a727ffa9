"""One peer tool on one benchmark workload, in a fresh process (its import cost counts).

Run by ``benchmarks/run.py`` as ``python benchmarks/peers.py TOOL WORKLOAD``; it
prints one JSON line on stdout: the parameters and the count the tool reports,
in the tool's own unit, summed over the workload's models (a sweep has 16).

TOOL is one of ``TOOLS``; WORKLOAD one of ``WORKLOADS``. Each tool is called the
way its documentation shows, on the CPU with a real input, except
``torchinfo-meta``: module and input created on the meta device, ``input_data=``
(torchinfo's ``input_size=`` path allocates on the CPU first).

MobileNets come from convcalc's own description (``convcalc.core.nets.mobilenet`` and
``convcalc.measure.build.GraphModule``) when it is importable, else from the
plain-torch definitions below (V1 per the paper's Table 1 with BN + ReLU and
TF-slim's channel rounding; V2 like torchvision's ``mobilenet_v2``).
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

Shape = tuple[int, int, int, int]

# (width, resolution) points of the MobileNet V1 sweep.
SWEEP_WIDTHS = (0.25, 0.5, 0.75, 1.0)
SWEEP_RESOLUTIONS = (128, 160, 192, 224)


# ---------------------------------------------------------------- plain-torch MobileNets


def _make_divisible(value: float, divisor: int = 8) -> int:
    """torchvision's ``_make_divisible``: nearest multiple of 8, never more than 10% down."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def _conv_bn(
    cin: int, cout: int, kernel: int, stride: int, groups: int, act: type[nn.Module] | None
) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
    ]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


def plain_mobilenet_v1(width: float, classes: int = 1000) -> nn.Module:
    """MobileNet V1, paper Table 1: BN + ReLU after every conv; TF-slim's ``max(int(c*a), 8)``."""

    def depth(channels: int) -> int:
        return max(int(channels * width), 8)

    blocks = (
        (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
        (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1),
    )  # fmt: skip
    cin = depth(32)
    layers: list[nn.Module] = [_conv_bn(3, cin, 3, 2, 1, nn.ReLU)]
    for channels, stride in blocks:
        cout = depth(channels)
        layers += [
            _conv_bn(cin, cin, 3, stride, cin, nn.ReLU),
            _conv_bn(cin, cout, 1, 1, 1, nn.ReLU),
        ]
        cin = cout
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(1), nn.Linear(cin, classes))


class _InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(_conv_bn(cin, hidden, 1, 1, 1, nn.ReLU6))
        layers += [
            _conv_bn(hidden, hidden, 3, stride, hidden, nn.ReLU6),
            _conv_bn(hidden, cout, 1, 1, 1, None),
        ]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.block(x)
        return x + out if self.residual else out


def plain_mobilenet_v2(width: float, classes: int = 1000) -> nn.Module:
    """MobileNet V2 as torchvision's ``mobilenet_v2`` builds it (dropout left out)."""
    settings = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))  # fmt: skip
    cin = _make_divisible(32 * width)
    last = _make_divisible(1280 * max(1.0, width))
    layers: list[nn.Module] = [_conv_bn(3, cin, 3, 2, 1, nn.ReLU6)]
    for expand, channels, repeats, first_stride in settings:
        cout = _make_divisible(channels * width)
        for index in range(repeats):
            layers.append(_InvertedResidual(cin, cout, first_stride if index == 0 else 1, expand))
            cin = cout
    layers.append(_conv_bn(cin, last, 1, 1, 1, nn.ReLU6))
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(1), nn.Linear(last, classes))


MODEL_SOURCE = "plain torch (benchmarks/peers.py)"


def mobilenet(version: int, width: float, resolution: int) -> nn.Module:
    """convcalc's own description when it imports, else the plain-torch definition."""
    global MODEL_SOURCE  # noqa: PLW0603 - reported once in the output line
    try:
        from convcalc.core.nets.mobilenet import MobileNetSpec
        from convcalc.core.nets.mobilenet import mobilenet as describe
        from convcalc.measure.build import GraphModule

        module: nn.Module = GraphModule(describe(MobileNetSpec(version, width, resolution)))
    except Exception:  # any import or API drift: plain torch
        MODEL_SOURCE = "plain torch (benchmarks/peers.py)"
        return plain_mobilenet_v1(width) if version == 1 else plain_mobilenet_v2(width)
    MODEL_SOURCE = "convcalc.core.nets.mobilenet + convcalc.measure.build.GraphModule"
    return module


# ---------------------------------------------------------------- workloads

Factory = Callable[[], nn.Module]


@dataclass(frozen=True)
class Example:
    """A model's example inputs, the same for every tool.

    ``shape``: one float image batch, given to the tools that take a shape the way
    their documentation shows (torchinfo's ``input_size=``, ptflops' resolution);
    ``build``: the positional inputs themselves on a device (token ids, a list of
    images), given to every tool as real tensors (meta tensors on ``meta``).
    """

    shape: Shape | None = None
    build: Callable[[str], tuple[Any, ...]] | None = None

    def args(self, device: str = "cpu") -> tuple[Any, ...]:
        """The positional inputs on ``device``: floats uniform in [0, 1) on the CPU, seeded."""
        if self.build is not None:
            return self.build(device)
        if self.shape is None:
            raise ValueError("an example needs a shape or a build function")
        if device == "meta":
            return (torch.empty(self.shape, device="meta"),)
        return (torch.randn(self.shape),)


def image(shape: Shape) -> Example:
    return Example(shape=shape)


def image_list(channels: int, height: int, width: int) -> Example:
    """A torchvision detection model's input: a list of one CxHxW image, uniform in [0, 1)."""

    def build(device: str) -> tuple[Any, ...]:
        if device == "meta":
            return ([torch.empty(channels, height, width, device="meta")],)
        generator = torch.Generator().manual_seed(0)
        return ([torch.rand(channels, height, width, generator=generator)],)

    return Example(build=build)


def _timm_size(name: str) -> Shape:
    """timm's default input size for ``name`` (its pretrained_cfg), as convcalc takes it."""
    import timm

    cfg = timm.models.get_pretrained_cfg(name)
    if cfg is None:  # a tagged or unknown name: the built model's own cfg
        built: Any = timm.create_model(name, pretrained=False)
        size = tuple(built.pretrained_cfg["input_size"])
    else:
        size = tuple(cfg.input_size)
    channels, height, width = (int(v) for v in size)
    return (1, channels, height, width)


def _on(device: str, value: Any) -> Any:
    """``value`` with every tensor in it on ``device`` (an empty one of its shape on meta)."""
    if isinstance(value, torch.Tensor):
        if device == "meta":
            return torch.empty(value.shape, dtype=value.dtype, device="meta")
        return value.to(device)
    if isinstance(value, (list, tuple)):
        return type(value)(_on(device, item) for item in value)
    if isinstance(value, dict):
        return {key: _on(device, item) for key, item in value.items()}
    return value


def _outside(name: str) -> tuple[Factory, Example]:
    """A model of ``benchmarks/models.py`` and its inputs: the function convcalc's case reads
    with ``--inputs benchmarks/models.py:NAME_inputs``."""
    import models

    factory: Factory | None = getattr(models, name, None)
    inputs: Callable[[], tuple[Any, ...]] | None = getattr(models, f"{name}_inputs", None)
    if factory is None or inputs is None:
        raise SystemExit(f"benchmarks/models.py has no {name} and {name}_inputs")
    return factory, Example(build=lambda device: _on(device, inputs()))


# torchvision models that take a list of 3xHxW images (convcalc's shorthand gives one 224x224).
DETECTION_PREFIXES = ("fasterrcnn", "maskrcnn", "keypointrcnn", "retinanet", "fcos", "ssd")


def workload(name: str) -> Iterator[tuple[Factory, Example]]:
    """The (model factory, example inputs) pairs of a workload."""
    if name == "seed":
        yield (lambda: nn.Conv2d(4, 8, 3, groups=2)), image((1, 4, 224, 224))
    elif name == "big":
        yield (lambda: nn.Conv2d(256, 256, 3, padding=1)), image((64, 256, 1024, 1024))
    elif name in ("v1", "v2"):
        version = int(name[1])
        yield (lambda: mobilenet(version, 1.0, 224)), image((1, 3, 224, 224))
    elif name.startswith("tv:"):
        import torchvision

        model_name = name[3:]
        detection = model_name.startswith(DETECTION_PREFIXES)
        example = image_list(3, 224, 224) if detection else image((1, 3, 224, 224))
        # a detector's backbone has its own weights, downloaded unless told not to
        options: dict[str, Any] = {"weights_backbone": None} if detection else {}
        yield (lambda: torchvision.models.get_model(model_name, weights=None, **options)), example
    elif name.startswith("timm:"):
        import timm

        model_name = name[5:]
        yield (
            (lambda: timm.create_model(model_name, pretrained=False)),
            image(_timm_size(model_name)),
        )
    elif name.startswith("py:"):
        yield _outside(name[3:])
    elif name == "sweep":
        for width in SWEEP_WIDTHS:
            for resolution in SWEEP_RESOLUTIONS:
                shape: Shape = (1, 3, resolution, resolution)
                yield functools.partial(mobilenet, 1, width, resolution), image(shape)
    else:
        raise SystemExit(f"unknown workload {name!r}; use one of {', '.join(WORKLOADS)}")


WORKLOADS = ("seed", "big", "v1", "v2", "sweep", "tv:NAME", "timm:NAME", "py:NAME")


# ---------------------------------------------------------------- tools
# Each returns (params, count) as the tool reports them. A tool that cannot take the
# model's inputs raises; the driver reports the failure and does not time it.

Result = tuple[int, int]


def run_torchinfo(factory: Factory, example: Example) -> Result:
    import torchinfo

    if example.shape is not None:  # an image batch: input_size=, as torchinfo's README shows
        stats = torchinfo.summary(factory(), input_size=example.shape, verbose=0)
    else:
        stats = torchinfo.summary(factory(), input_data=list(example.args()), verbose=0)
    return int(stats.total_params), int(stats.total_mult_adds)


def run_torchinfo_meta(factory: Factory, example: Example) -> Result:
    import torchinfo

    with torch.device("meta"):
        model = factory()
    args = list(example.args("meta"))
    stats = torchinfo.summary(model, input_data=args, device="meta", verbose=0)
    return int(stats.total_params), int(stats.total_mult_adds)


def ptflops_backend() -> str:
    """``aten`` where this ptflops has it (0.7.3 and later), else ``pytorch``."""
    from ptflops import flops_counter

    backends = getattr(flops_counter, "FLOPS_BACKEND", None)
    return "aten" if backends is not None and hasattr(backends, "ATEN") else "pytorch"


def run_ptflops(factory: Factory, example: Example) -> Result:
    from ptflops import get_model_complexity_info

    backend = ptflops_backend()
    extra: dict[str, Any] = {"backend": backend} if backend == "aten" else {}
    args = example.args()
    if len(args) != 1:
        raise RuntimeError("ptflops passes one input to the model")
    # ptflops builds the input from input_constructor (a resolution it only passes on).
    resolution = example.shape[1:] if example.shape is not None else (1,)
    macs, params = get_model_complexity_info(
        factory(),
        resolution,
        as_strings=False,
        print_per_layer_stat=False,
        input_constructor=lambda _res: args[0],
        **extra,
    )
    if macs is None or params is None:
        # ptflops prints the exception and returns None: make that a failure.
        raise RuntimeError("ptflops returned None (its estimation raised; see above)")
    return int(params), int(macs)


def run_thop(factory: Factory, example: Example) -> Result:
    from thop import profile

    macs, params = profile(factory(), inputs=example.args(), verbose=False)
    return int(params), int(macs)


def run_torchscan(factory: Factory, example: Example, device: str = "cpu") -> Result:
    import contextlib
    import io

    from torchscan import crawl_module

    with torch.device(device):
        model = factory()
    args = example.args(device)
    with contextlib.redirect_stdout(io.StringIO()):
        report = crawl_module(model, args=args)
    totals = report["totals"]
    return int(totals["parameters"]["value"]), int(totals["module_flops"]["known_value"])


def run_torchscan_meta(factory: Factory, example: Example) -> Result:
    return run_torchscan(factory, example, "meta")


def run_fvcore(factory: Factory, example: Example) -> Result:
    from fvcore.nn import FlopCountAnalysis, parameter_count

    model = factory()
    analysis = FlopCountAnalysis(model, example.args())
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return int(parameter_count(model)[""]), int(analysis.total())


def run_flopcounter(factory: Factory, example: Example) -> Result:
    from torch.utils.flop_counter import FlopCounterMode

    model = factory()
    args = example.args()
    with FlopCounterMode(display=False) as counter:
        model(*args)
    return _unique_params(model), int(counter.get_total_flops())


def run_flopcounter_meta(factory: Factory, example: Example) -> Result:
    from torch.utils.flop_counter import FlopCounterMode

    with torch.device("meta"):
        model = factory()
    args = example.args("meta")
    with FlopCounterMode(display=False) as counter:
        model(*args)
    return _unique_params(model), int(counter.get_total_flops())


def _unique_params(model: nn.Module) -> int:
    """Parameters counted once (``parameters()`` skips a tied weight's second name)."""
    return sum(p.numel() for p in model.parameters())


# tool -> (function, what its count is)
TOOLS: dict[str, tuple[Callable[[Factory, Example], Result], str]] = {
    "torchinfo": (run_torchinfo, "mult-adds"),
    "torchinfo-meta": (run_torchinfo_meta, "mult-adds"),
    "ptflops": (run_ptflops, "MACs"),
    "thop": (run_thop, "MACs"),
    "torchscan": (run_torchscan, "module-formula FLOPs"),
    "torchscan-meta": (run_torchscan_meta, "module-formula FLOPs"),
    "fvcore": (run_fvcore, "flops (1 per MAC)"),
    "flopcounter": (run_flopcounter, "FLOPs (2 per MAC)"),
    "flopcounter-meta": (run_flopcounter_meta, "FLOPs (2 per MAC)"),
}


def _eval(factory: Factory) -> nn.Module:
    return factory().eval()


def main(argv: list[str]) -> None:
    """``peers.py TOOL WORKLOAD``: print one JSON line with the tool's figures."""
    if len(argv) != 2 or argv[0] not in TOOLS:
        raise SystemExit(f"usage: peers.py {{{','.join(TOOLS)}}} {{{','.join(WORKLOADS)}}}")
    tool, name = argv
    function, unit = TOOLS[tool]
    params = count = points = 0
    # Inference, as each tool's documentation measures it (torchinfo does both itself).
    with torch.no_grad():
        for factory, example in workload(name):
            p, c = function(functools.partial(_eval, factory), example)
            params, count, points = params + p, count + c, points + 1
    note = f"ptflops backend={ptflops_backend()}" if tool == "ptflops" else ""
    if name in ("v1", "v2", "sweep"):
        note = f"{note}; model: {MODEL_SOURCE}".lstrip("; ")
    line = {"tool": tool, "workload": name, "points": points, "params": params,
            "count": count, "unit": unit, "note": note}  # fmt: skip
    sys.stdout.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
