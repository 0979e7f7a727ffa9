"""What each counting tool counts, as rules over convcalc's own primitives (pure).

Peers print different numbers for the same model because they count different
things: MACs or FLOPs, bias adds in or out, norms and pools or not, functional
calls or only modules. Each convention here is one tool's rule, read from its
source, applied to the nodes convcalc already has: so ``--convention fvcore``
says what fvcore would print, layer by layer, and why it differs from the paper
figure, without running fvcore. The tests run the real tools and compare.

A rule sees one node: its primitive, its figures, and the torch function that
ran it (``Node.call``: "adaptive_avg_pool2d" or "mean" in a model read from a
trace; "" in a built network, whose modules run as ``BUILT_CALLS`` says).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from convcalc.core.figures import LayerFigures, NetworkFigures
from convcalc.core.graph import Node
from convcalc.core.primitives import ACTIVATION_CLASSES, numel
from convcalc.errors import InvalidSpecError

Rule = Callable[[Node, LayerFigures], tuple[int, str]]

# The torch function a built network's module runs for a primitive, where a
# rule depends on it (measure/build.py: GlobalPool2d runs x.mean / x.amax).
BUILT_CALLS = {"GlobalPool": {"avg": "mean", "max": "amax"}}


def _call(node: Node) -> str:
    if node.call:
        return node.call
    op: Any = node.op
    if type(op).__name__ == "AdaptivePool2d":  # nn.AdaptiveAvgPool2d and its kin
        return f"adaptive_{op.mode}_pool{len(op.output)}d"
    modes = BUILT_CALLS.get(type(op).__name__, {})
    return modes.get(str(getattr(op, "mode", "")), "")


def _is_conv(layer: LayerFigures) -> bool:
    return layer.type.startswith("Conv")


# ---------------------------------------------------------------- the rules


def _paper(_node: Node, layer: LayerFigures) -> tuple[int, str]:
    return layer.macs, ""


def _flopcounter(_node: Node, layer: LayerFigures) -> tuple[int, str]:
    return 2 * layer.macs, "2 x MACs" if layer.macs else ""


def _torchinfo(_node: Node, layer: LayerFigures) -> tuple[int, str]:
    if layer.torch_call is None:
        return 0, "functional call: torchinfo sees leaf modules only"
    if _is_conv(layer):
        return layer.torchinfo_mult_adds, "(weights + biases) x N x prod(out)"
    if layer.torchinfo_mult_adds:  # a shared module's second call counts again
        return layer.torchinfo_mult_adds, "params x out.shape[0]"
    return 0, "no parameters: 0"


def _hardware(_node: Node, layer: LayerFigures) -> tuple[int, str]:
    total = 2 * layer.macs + layer.bias_adds + layer.elementwise_ops
    parts = [
        text
        for value, text in (
            (layer.macs, "2 x MACs"),
            (layer.bias_adds, "bias adds"),
            (layer.elementwise_ops, "element-wise"),
        )
        if value
    ]
    return total, " + ".join(parts)


def _fvcore(node: Node, layer: LayerFigures) -> tuple[int, str]:
    """fvcore 0.1.5, FlopCountAnalysis's default handles (jit_handles.py): one per MAC
    for conv, linear, matmul, bmm, einsum; BN in eval 2 per element (1 without affine);
    layer/group norm 5 per element (4 without affine); nearest / bilinear 2-D upsampling
    1 / 4 per output element; adaptive_avg_pool2d 1 per input element. Everything else
    (activations, adds, max pooling, means, attention) has no handle: 0."""
    op, kind = node.op, layer.type
    if _is_conv(layer):
        return layer.macs, "MACs, bias not counted" if layer.bias_adds else "MACs"
    if kind in ("Linear", "MatMul", "Einsum"):
        return layer.macs, "MACs, bias not counted" if layer.bias_adds else "MACs"
    if kind == "BatchNorm2d":
        affine = bool(getattr(op, "affine", True))
        return numel(layer.input_shapes[0]) * (2 if affine else 1), "BN in eval"
    if kind == "Norm":
        affine = bool(getattr(op, "weight", False))
        return numel(layer.input_shapes[0]) * (5 if affine else 4), "5 per element"
    if kind == "Interpolate" and len(layer.output_shape) == 4:
        taps = {"nearest": 1, "bilinear": 4}.get(str(getattr(op, "mode", "")), 0)
        note = "upsample" if taps else "no handle for this mode"
        return taps * numel(layer.output_shape), note
    if _call(node) == "adaptive_avg_pool2d":
        return numel(layer.input_shapes[0]), "1 per input element"
    if kind == "Attention":
        return 0, "no handle for scaled_dot_product_attention"
    if layer.macs or layer.elementwise_ops:
        return 0, f"no handle for {_call(node) or layer.label}"
    return 0, ""


def _ptflops_aten(_node: Node, layer: LayerFigures) -> tuple[int, str]:
    """ptflops 0.7.5, backend='aten' (aten_ops.py): aten.convolution counts MACs plus its
    bias adds; addmm (a linear with bias) MACs plus bias adds; mm, matmul and bmm MACs.
    Nothing else, and not the CPU's fused attention kernel."""
    kind = layer.type
    if _is_conv(layer) or kind == "Linear":
        note = "MACs + bias adds" if layer.bias_adds else "MACs"
        return layer.macs + layer.bias_adds, note
    if kind in ("MatMul", "Einsum"):
        return layer.macs, "MACs (mm / bmm)"
    if kind == "Attention":
        return 0, "fused attention kernel: no aten op it counts"
    if layer.macs or layer.elementwise_ops:
        return 0, "not an op it counts"
    return 0, ""


def _built_module(op: Any) -> str:
    """The torch.nn class measure/build.py makes for a primitive (convcalc's own modules,
    a pool over the whole map, gates and functional ops, are "Module": no tool hooks them)."""
    kind = type(op).__name__
    if kind == "Conv":
        return "Module" if op.shared_kernel else str(op.kind)
    if kind in ("Linear", "BatchNorm2d"):
        return kind
    if kind == "Activation":
        return ACTIVATION_CLASSES.get(op.function, "Module")
    if kind == "Pool2d":
        return f"{op.mode.capitalize()}Pool{len(op.kernel)}d"
    if kind == "AdaptivePool2d":
        return f"Adaptive{op.mode.capitalize()}Pool{len(op.output)}d"
    if kind == "Norm":
        return "GroupNorm" if op.function == "group_norm" else "LayerNorm"
    return "Module"


def module_class(node: Node) -> str:
    """The torch.nn class of the leaf module the node ran in ("" for none)."""
    return _built_module(node.op) if node.module is None else node.module


def _avg_pool_reads(op: Any, shape: tuple[int, ...], out: tuple[int, ...]) -> int:
    """Elements the windows of an average pool really cover (padding counted only with
    count_include_pad), per sample and channel: thop's exact window count."""
    dims = len(op.kernel)
    reads = 1
    for size, n_out, k, s, p in zip(shape[-dims:], out[-dims:], op.kernel, op.stride,
                                    op.padding, strict=True):  # fmt: skip
        lower, upper = (-p, size + p) if op.count_include_pad else (0, size)
        reads *= sum(max(min(i * s - p + k, upper) - max(i * s - p, lower), 0)
                     for i in range(n_out))  # fmt: skip
    return reads


UPSAMPLE_OPS = {"nearest": 0, "nearest-exact": 0, "linear": 5, "bilinear": 11, "bicubic": 259,
                "trilinear": 31}  # fmt: skip


def _thop(node: Node, layer: LayerFigures) -> tuple[int, str]:
    """ultralytics-thop 2.2.3 (thop.profile): forward hooks on modules, by their torch.nn
    class: conv and linear count MACs (no bias); batch, layer and group norm 2 per
    element, 4 with affine; average pooling the elements its windows cover plus one
    divide per output; adaptive average pooling likewise; upsampling modules per output
    element by mode. ReLU, max pooling and anything not in a hooked module (functional
    calls, additions, a model's own modules): 0."""
    module = module_class(node)
    work = layer.macs or layer.elementwise_ops
    if not module:
        return 0, "not in a module: no hook sees it" if work else ""
    op: Any = node.op
    shape, out = (layer.input_shapes[0] if layer.input_shapes else ()), layer.output_shape
    if module.startswith(("Conv", "ConvTranspose")) or module == "Linear":
        return layer.macs, f"{module}: MACs, bias not counted" if layer.bias_adds else "MACs"
    if module.startswith(("BatchNorm", "InstanceNorm")) or module in ("LayerNorm", "GroupNorm"):
        affine = bool(getattr(op, "affine", getattr(op, "weight", False)))
        return numel(shape) * (4 if affine else 2), f"{module}: 2 per element, x2 affine"
    if module.startswith("AvgPool"):
        reads = _avg_pool_reads(op, shape, out) * numel(shape[: -len(op.kernel)])
        return reads + numel(out), "window elements + 1 divide per output"
    if module.startswith("AdaptiveAvgPool"):
        # convcalc's own work for it is one op per window element read: the same reads
        return layer.elementwise_ops + numel(out), "window elements + 1 divide"
    if module.startswith("Upsampl"):
        return UPSAMPLE_OPS.get(str(getattr(op, "mode", "")), 0) * numel(out), "upsample"
    return 0, f"{module}: 0 (no rule, or zero_ops)" if work else ""


@dataclass(frozen=True)
class Convention:
    """One tool's way of counting: its unit, what it counts, and the per-node rule."""

    name: str
    tool: str
    unit: str  # "MACs" or "FLOPs": the figure whose total the tool prints
    rule: Rule
    counts: dict[str, str]  # aspect -> what the tool does with it (the conventions table)
    checked: str  # how this convention is checked against the tool


ASPECTS = (
    "unit",
    "conv and linear weights",
    "conv and linear bias",
    "transposed conv",
    "matmul / einsum",
    "attention (sdpa)",
    "batch norm",
    "layer / group norm",
    "activations",
    "pooling",
    "upsampling",
    "add / multiply",
    "sees",
)

CONVENTIONS: dict[str, Convention] = {
    c.name: c
    for c in (
        Convention(
            "paper", "convcalc", "MACs", _paper,
            dict(zip(ASPECTS, (
                "MACs", "1 per MAC", "not counted (own figure)", "MACs on the input",
                "1 per MAC", "2 products as MACs", "not counted (element-wise figure)",
                "not counted (element-wise figure)", "not counted (element-wise figure)",
                "not counted (element-wise figure)", "not counted (element-wise figure)",
                "not counted (element-wise figure)", "every torch call",
            ), strict=True)),
            "the default; every figure is checked against torch and torchinfo",
        ),
        Convention(
            "flopcounter", "torch.utils.flop_counter.FlopCounterMode", "FLOPs", _flopcounter,
            dict(zip(ASPECTS, (
                "FLOPs", "2 per MAC", "0", "2 per MAC on the input", "2 per MAC",
                "2 per MAC of its 2 products", "0", "0", "0", "0", "0", "0",
                "every aten op",
            ), strict=True)),
            "run on every model checked with --cross-check (all tests)",
        ),
        Convention(
            "torchinfo", "torchinfo 1.8", "MACs", _torchinfo,
            dict(zip(ASPECTS, (
                "mult-adds", "params x N x prod(out) (conv), params x out.shape[0] (other)",
                "in the same product", "params x N x prod(out): ~stride^2 too many",
                "0 (no parameters)", "0", "2C x N", "params x out.shape[0]", "0", "0", "0",
                "0", "leaf modules only",
            ), strict=True)),
            "compared per module call on every verified run",
        ),
        Convention(
            "hardware", "convcalc", "FLOPs", _hardware,
            dict(zip(ASPECTS, (
                "FLOPs", "2 per MAC", "1 per output element", "2 per MAC on the input",
                "2 per MAC", "2 per MAC + scale and softmax", "2 per element",
                "6 per element", "1 per element", "1 per window element",
                "4 per output (bilinear)", "1 per element", "every torch call",
            ), strict=True)),
            "convcalc's own figures: 2 x MACs + bias adds + element-wise ops",
        ),
        Convention(
            "fvcore", "fvcore 0.1.5 FlopCountAnalysis", "MACs", _fvcore,
            dict(zip(ASPECTS, (
                "MACs (it calls them flops)", "1 per MAC", "not counted",
                "1 per MAC on the input", "1 per MAC", "0 (no handle)",
                "2 per element in eval (1 without affine)", "5 per element (4 without affine)",
                "0 (no handle)", "adaptive_avg_pool2d 1 per input; others 0",
                "nearest 1, bilinear 4 per output (2-D only)", "0 (ignored)",
                "every aten op of a jit trace",
            ), strict=True)),
            "the real tool on torchvision models and built-in networks (tests)",
        ),
        Convention(
            "ptflops", "ptflops 0.7.5, backend='aten'", "MACs", _ptflops_aten,
            dict(zip(ASPECTS, (
                "MACs", "1 per MAC", "1 per output element", "1 per MAC on the input",
                "1 per MAC (mm, bmm)", "0 (fused kernel)", "0", "0", "0", "0", "0", "0",
                "every aten op",
            ), strict=True)),
            "the real tool on torchvision models and built-in networks (tests)",
        ),
        Convention(
            "thop", "ultralytics-thop 2.2.3 (thop.profile)", "MACs", _thop,
            dict(zip(ASPECTS, (
                "MACs (it calls them ops)", "1 per MAC (nn.Conv*, nn.Linear modules)",
                "not counted", "1 per MAC on the input", "0 (functional)", "0 (functional)",
                "4 per element (2 without affine)", "4 per element (2 without affine)",
                "0", "avg: window elements + 1 per output; max 0",
                "nn.Upsample: 0 nearest, 11 bilinear per output", "0 (functional)",
                "leaf modules only, by torch.nn class",
            ), strict=True)),
            "the real tool on torchvision models and built-in networks (tests)",
        ),
    )
}  # fmt: skip

# Tools whose rules are not reproduced yet: asked for, they say so (exit 2).
PENDING = {
    "ptflops-pytorch": "ptflops' default (module hooks + patched functionals) backend",
    "torchscan": "torchscan (not installable from this project's package index)",
}


def convention(name: str) -> Convention:
    """The convention called ``name`` (InvalidSpecError naming the known ones)."""
    found = CONVENTIONS.get(name)
    if found is not None:
        return found
    known = ", ".join(CONVENTIONS)
    if name in PENDING:
        raise InvalidSpecError(
            f"convention {name!r} ({PENDING[name]}) is not reproduced yet; known: {known}"
        )
    raise InvalidSpecError(f"unknown convention {name!r}; known: {known}")


@dataclass(frozen=True)
class LayerCount:
    """One node under a convention."""

    name: str
    paper: int
    count: int
    note: str


@dataclass(frozen=True)
class ConventionCount:
    """A network counted the way one tool counts it, beside the paper MACs."""

    convention: Convention
    layers: tuple[LayerCount, ...]
    paper: int

    @property
    def total(self) -> int:
        return sum(layer.count for layer in self.layers)

    @property
    def difference(self) -> int:
        """The tool's total minus the paper MACs (in the tool's own unit)."""
        return self.total - self.paper

    def value(self, figure: str) -> int:
        """``--value macs`` / ``flops`` under this convention: its total, in its own unit."""
        if figure != self.convention.unit.lower():
            raise InvalidSpecError(
                f"--value {figure} under --convention {self.convention.name}: "
                f"{self.convention.tool} prints {self.convention.unit}; use "
                f"--value {self.convention.unit.lower()}"
            )
        return self.total

    def to_dict(self) -> dict[str, Any]:
        c = self.convention
        return {
            "name": c.name,
            "tool": c.tool,
            "unit": c.unit,
            "total": self.total,
            "paper_macs": self.paper,
            "difference": self.difference,
            "layers": [
                {"name": x.name, "paper_macs": x.paper, "count": x.count, "note": x.note}
                for x in self.layers
            ],
        }


def count(figures: NetworkFigures, name: str) -> ConventionCount:
    """Every node of a network under the convention ``name``."""
    chosen = convention(name)
    nodes = figures.network.nodes
    layers = tuple(
        LayerCount(layer.name, layer.macs, *chosen.rule(nodes[layer.index], layer))
        for layer in figures.layers
    )
    return ConventionCount(chosen, layers, figures.totals.macs)
