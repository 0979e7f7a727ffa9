"""--convention NAME says what another tool prints for the same model: checked by running
the real tools (fvcore, ptflops, FlopCounterMode, torchinfo) on the same modules."""

from __future__ import annotations

import contextlib
import io
import json
import os
import warnings
from typing import Any

import pytest
import torch
import torch.nn.functional as F  # noqa: N812 - the usual torch alias
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

import convcalc
from convcalc.core.count.conventions import CONVENTIONS, count
from convcalc.core.designs import conv_design
from convcalc.core.documents.report import Report
from convcalc.measure.build import GraphModule
from tests.model.nets import CallStyles, SelfAttention
from tests.strategies import family_specs, measured_examples
from tests.test_cli import error_line, invoke

with warnings.catch_warnings():
    # fvcore scripts a loss with torch.jit.script at import, which torch 2.14 deprecates.
    warnings.simplefilter("ignore", FutureWarning)
    if os.environ.get("CONVCALC_REQUIRE_ZOO"):  # CI: the outside checks never skip
        import fvcore.nn as fvcore_nn
        import ptflops
        import thop
        import torchscan
        import torchvision
    else:
        fvcore_nn = pytest.importorskip("fvcore.nn", reason="the bench extra runs the tools")
        ptflops = pytest.importorskip("ptflops", reason="the bench extra runs the real tools")
        thop = pytest.importorskip("thop", reason="the bench extra runs the real tools")
        torchscan = pytest.importorskip("torchscan", reason="the bench extra runs the tools")
        torchvision = pytest.importorskip("torchvision")


def _fvcore(model: nn.Module, x: torch.Tensor) -> int:
    analysis = fvcore_nn.FlopCountAnalysis(model, x)
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    return int(analysis.total())


def _ptflops(model: nn.Module, x: torch.Tensor, backend: str = "aten") -> int:
    """ptflops on this very input (its own would be a batch of one)."""
    with contextlib.redirect_stdout(io.StringIO()):
        macs, _ = ptflops.get_model_complexity_info(
            model, tuple(x.shape[1:]), backend=backend, as_strings=False,
            print_per_layer_stat=False, verbose=False, input_constructor=lambda _shape: x,
        )  # fmt: skip
    return int(macs)


def _ptflops_pytorch(model: nn.Module, x: torch.Tensor) -> int:
    return _ptflops(model, x, backend="pytorch")


def _torchscan(model: nn.Module, x: torch.Tensor, total: str = "module_flops") -> int:
    with contextlib.redirect_stdout(io.StringIO()):
        report = torchscan.crawl_module(model, args=(x,))
    return int(report["totals"][total]["known_value"])


def _torchscan_macs(model: nn.Module, x: torch.Tensor) -> int:
    return _torchscan(model, x, "macs")


def _flopcounter(model: nn.Module, x: torch.Tensor) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        model(x)
    return int(counter.get_total_flops())


def _thop(model: nn.Module, x: torch.Tensor) -> int:
    with contextlib.redirect_stdout(io.StringIO()):
        ops, _ = thop.profile(model, inputs=(x,), verbose=False)
    return int(ops)


def _torchinfo(model: nn.Module, x: torch.Tensor) -> int:
    import torchinfo

    return int(torchinfo.summary(model, input_data=x, verbose=0).total_mult_adds)


TOOLS = {"fvcore": _fvcore, "ptflops": _ptflops, "flopcounter": _flopcounter,
         "torchinfo": _torchinfo, "thop": _thop, "ptflops-pytorch": _ptflops_pytorch,
         "torchscan": _torchscan, "torchscan-macs": _torchscan_macs}  # fmt: skip


def _torchvision(name: str, shape: tuple[int, ...] = (1, 3, 224, 224)) -> tuple[nn.Module, Report]:
    model = torchvision.models.get_model(name, weights=None).eval()
    return model, convcalc.profile(model, shape, verify=False)


def _built(design: Any) -> tuple[nn.Module, Report]:
    report = convcalc.analyze(design)
    return GraphModule(report.figures.network).eval(), report


CASES = {
    "torchvision:mobilenet_v2": lambda: _torchvision("mobilenet_v2"),
    "torchvision:resnet18": lambda: _torchvision("resnet18"),
    "torchvision:efficientnet_b0": lambda: _torchvision("efficientnet_b0"),
    "torchvision:densenet121": lambda: _torchvision("densenet121"),
    "torchvision:r3d_18": lambda: _torchvision("r3d_18", (1, 3, 4, 32, 32)),
    "se": lambda: _built(convcalc.se(64, 16, input=56)),
    "cbam": lambda: _built(convcalc.cbam(64, 16, input=28)),
    "mobilenet v2 (built)": lambda: _built(convcalc.mobilenet(2, 1.0, 160)),
    "resnet50 (built)": lambda: _built(convcalc.resnet(50, resolution=128)),
    "transposed conv": lambda: _built(convcalc.conv(4, 8, 3, stride=2, padding=1,
                                                    transposed=True, output_padding=1, input=16)),
    "avg pool ceil": lambda: _built(convcalc.pool(3, "avg", 3, 2, 1, ceil_mode=True,
                                                  count_include_pad=False, input=8)),
    "adaptive avg": lambda: _built(convcalc.pool(3, "avg", output=(3, 5), input=(7, 10))),
}  # fmt: skip


@pytest.fixture(scope="module", params=list(CASES))
def case(request: pytest.FixtureRequest) -> tuple[nn.Module, Report, torch.Tensor]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, report = CASES[request.param]()
    return model, report, torch.zeros(report.figures.network.input_shape)


@pytest.mark.parametrize("tool", list(TOOLS))
def test_each_convention_is_the_tool_s_own_total(
    case: tuple[nn.Module, Report, torch.Tensor], tool: str
) -> None:
    """The real tool on the same module prints exactly the convention's total."""
    model, report, x = case
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        printed = TOOLS[tool](model, x)
    assert count(report.figures, tool).total == printed


MODULE_HOOK_TOOLS = ("ptflops-pytorch", "torchscan", "torchscan-macs", "thop")


def _timm_vit(fused: bool) -> nn.Module:
    """timm's ViT, whose Attention ptflops hooks (its own count, not its Linear modules'),
    on timm's fused attention (one sdpa) or its unfused q @ k path."""
    timm = pytest.importorskip("timm")
    model: nn.Module = timm.create_model("vit_tiny_patch16_224", pretrained=False)
    for block in model.blocks:  # type: ignore[union-attr]
        block.attn.fused_attn = fused
    return model


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: (CallStyles(), (1, 3, 16, 16)), id="call styles"),
        *(pytest.param(lambda first=first, weights=weights: (
            SelfAttention(first, weights), (1, 10, 16)), id=f"mha first={first} w={weights}")
          for first in (False, True) for weights in (False, True)),
        pytest.param(lambda: (torchvision.models.vit_b_16(), (1, 3, 224, 224)), id="vit_b_16"),
        pytest.param(lambda: (torchvision.models.swin_t(), (1, 3, 224, 224)), id="swin_t"),
        *(pytest.param(lambda fused=fused: (_timm_vit(fused), (1, 3, 224, 224)),
                       id=f"timm vit_tiny fused={fused}") for fused in (True, False)),
    ],
)  # fmt: skip
def test_module_hook_tools_on_attention_and_functional_code(make: Any) -> None:
    """The tools whose counts depend on how a call was made: ptflops' default backend
    (exact torch.nn classes hooked, F.relu & co. replaced, so nn.ReLU counts twice;
    x.add(y) counted, x + y not), torchscan's module formulas (MultiheadAttention's,
    a dropout with p > 0, MaxPool2d(2)'s int kernel; timm's ViT Attention, hooked whole
    by ptflops) and thop's (softmax modules, MultiheadAttention, and the matmul, einsum
    and sdpa products no counting module runs). Run as users run them: with
    gradients on, where nn.MultiheadAttention takes its Python path."""
    model, shape = make()
    model = model.eval()
    report = convcalc.profile(model, shape, verify=False)
    x = torch.zeros(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        printed = {tool: TOOLS[tool](model, x) for tool in MODULE_HOOK_TOOLS}
    assert {tool: count(report.figures, tool).total for tool in MODULE_HOOK_TOOLS} == printed


class _ThopRules(nn.Module):
    """Every rule ultralytics-thop has beyond convolutions and norms: each softmax module
    (an axis given, implicit, Softmax2d's), PReLU, RMSNorm, an affine InstanceNorm, an
    embedding, a 2-layer bidirectional LSTM, a GRU cell, a bilinear map; functional
    products outside any counting module (a @ b, torch.bmm, einsum, F.linear on a computed
    weight, sdpa) and those it leaves out (torch.mm, baddbmm, a softmax call)."""

    def __init__(self) -> None:
        super().__init__()
        self.soft, self.log, self.min = nn.Softmax(-1), nn.LogSoftmax(dim=2), nn.Softmin(1)
        self.soft2d, self.implicit, self.prelu = nn.Softmax2d(), nn.Softmax(), nn.PReLU()
        self.rms, self.instance = nn.RMSNorm(7), nn.InstanceNorm2d(3, affine=True)
        self.embed, self.cell = nn.Embedding(10, 6), nn.GRUCell(10, 4)
        self.lstm = nn.LSTM(6, 5, num_layers=2, bidirectional=True)
        self.bilinear, self.proj = nn.Bilinear(6, 6, 3), nn.Linear(7, 7)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.soft(x) + self.log(x) + self.min(x) + self.soft2d(x) + self.implicit(x)
        y = self.prelu(y) + self.rms(y) + self.instance(y)
        t = self.embed(torch.zeros(2, 4, dtype=torch.long, device=x.device))
        out, _ = self.lstm(t)
        cell = self.cell(out.reshape(4, 20)[:, :10])
        q = self.proj(y).flatten(0, 1)  # (6, 5, 7)
        scores = (q @ q.transpose(1, 2)).softmax(-1)
        mixed = torch.bmm(scores, q) + torch.einsum("bij,bjk->bik", scores, q)
        mixed = F.linear(mixed, q[0, :, :].t().matmul(q[0, :, :]))
        mixed = mixed + torch.baddbmm(mixed, scores, q) + F.scaled_dot_product_attention(q, q, q)
        flat = torch.mm(mixed[0], mixed[1].t())
        total: torch.Tensor = y.sum() + cell.sum() + self.bilinear(t, t).sum() + mixed.sum()
        return total + flat.sum()


def test_thop_convention_is_thop_s_total_on_each_of_its_rules() -> None:
    """ultralytics-thop counts functional products no counting module runs (YOLO11's
    C2PSA attention: get_flops was 0.23% over the module-only convention) and rules for
    softmax, PReLU, RMS and instance norm, recurrent layers and bilinear maps: the
    convention is its total exactly."""
    model, x = _ThopRules().eval(), torch.zeros(2, 3, 5, 7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's note on the implicit softmax axis
        report = convcalc.profile(model, x, verify=False)
        printed = _thop(model, x)
    counted = count(report.figures, "thop")
    assert counted.total == printed
    assert counted.total > count(report.figures, "paper").total  # softmax & co. are in it


@st.composite
def _pool_designs(draw: st.DrawFn) -> convcalc.Design:
    """A random valid pooling: max or average, 1-D to 3-D, ceil_mode and padding included,
    or adaptive; a batch of one or two."""
    dims, size = draw(st.integers(1, 3)), draw(st.integers(4, 10))
    mode, batch = draw(st.sampled_from(["max", "avg"])), draw(st.integers(1, 2))
    if draw(st.booleans()):
        return convcalc.pool(3, mode, output=draw(st.integers(1, size)), input=size, dims=dims,
                             batch=batch)  # fmt: skip
    kernel = draw(st.integers(1, 4))
    stride, padding = draw(st.integers(1, 3)), draw(st.integers(0, kernel // 2))
    return convcalc.pool(3, mode, kernel, stride, padding, ceil_mode=draw(st.booleans()),
                         count_include_pad=draw(st.booleans()), input=size, dims=dims,
                         batch=batch)  # fmt: skip


@settings(max_examples=measured_examples(), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(st.one_of(family_specs().map(conv_design), _pool_designs()))
def test_every_convention_is_its_tool_s_total_on_random_layers(design: Any) -> None:
    """Random convolutions (1-D to 3-D, grouped, dilated, transposed) and poolings: every
    real tool prints exactly its convention's total, batch of two included."""
    report = convcalc.analyze(design)
    model = GraphModule(report.figures.network).eval()
    x = torch.zeros(report.figures.network.input_shape)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        printed = {tool: run(model, x) for tool, run in TOOLS.items()}
    assert {tool: count(report.figures, tool).total for tool in TOOLS} == printed


def test_the_differences_are_the_ones_stated() -> None:
    """resnet18: fvcore adds BN (2 per element) and the average pool to the paper MACs;
    ptflops adds the conv and linear bias adds (only fc has one); FlopCounterMode doubles."""
    _, report = _torchvision("resnet18")
    totals = report.totals
    bn = sum(x.elementwise_ops for x in report.layers if x.type == "BatchNorm2d")
    pool = next(x for x in report.layers if x.type == "GlobalPool").input_shapes[0]
    assert count(report.figures, "fvcore").total == totals.macs + bn + 512 * 7 * 7
    assert pool == (1, 512, 7, 7)
    assert count(report.figures, "ptflops").total == totals.macs + 1000
    assert count(report.figures, "flopcounter").total == 2 * totals.macs
    assert count(report.figures, "hardware").total == (
        2 * totals.macs + totals.bias_adds + totals.elementwise_ops
    )


def test_value_under_a_convention_prints_the_tool_s_number() -> None:
    """convcalc model torchvision:mobilenet_v2 --convention NAME --value macs: the number
    fvcore / ptflops (both backends) / torchscan print; --value flops for FLOPs tools;
    the other unit is refused, naming the convention that has it."""
    model = torchvision.models.get_model("mobilenet_v2", weights=None).eval()
    x = torch.zeros(1, 3, 224, 224)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        names = ("fvcore", "ptflops", "ptflops-pytorch", "torchscan", "torchscan-macs")
        expected = {name: TOOLS[name](model, x) for name in names}
    for name, value in expected.items():
        unit = CONVENTIONS[name].unit.lower()
        result = invoke("model", "torchvision:mobilenet_v2", "--convention", name,
                        "--value", unit, "--no-verify")  # fmt: skip
        assert result.exit_code == 0, result.stderr
        assert int(result.stdout) == value
    flops = invoke("se", "--channels", "64", "--convention", "flopcounter", "--value", "flops")
    assert int(flops.stdout) == 2 * 512
    refused = invoke("se", "--channels", "64", "--convention", "fvcore", "--value", "flops")
    assert "fvcore 0.1.5 FlopCountAnalysis prints MACs; use --value macs" in error_line(refused, 2)
    refused = invoke("se", "--channels", "64", "--convention", "torchscan", "--value", "macs")
    assert "use --value flops (its MACs: --convention torchscan-macs)" in error_line(refused, 2)


def test_json_carries_the_convention_per_layer() -> None:
    result = invoke("se", "--channels", "64", "-i", "8", "--convention", "hardware",
                    "--format", "json", "--no-verify")  # fmt: skip
    document = json.loads(result.stdout)
    counted = document["convention"]
    assert counted["name"] == "hardware"
    assert counted["unit"] == "FLOPs"
    assert counted["total"] == sum(layer["count"] for layer in counted["layers"])
    assert counted["paper_macs"] == document["analytic"]["macs"]
    assert counted["difference"] == counted["total"] - counted["paper_macs"]
    plain = json.loads(invoke("se", "--channels", "64", "-i", "8", "--format", "json",
                              "--no-verify").stdout)  # fmt: skip
    assert "convention" not in plain  # the default adds nothing


def test_unknown_conventions_exit_2() -> None:
    message = "unknown convention 'nope'; known: paper, flopcounter, torchinfo"
    assert message in error_line(invoke("se", "--channels", "8", "--convention", "nope"), 2)


def test_conventions_lists_what_each_counts() -> None:
    """Every convention, every aspect."""
    document = json.loads(invoke("conventions", "--format", "json").stdout)
    assert [c["name"] for c in document["conventions"]] == list(CONVENTIONS)
    assert document["not_reproduced_yet"] == {}  # every peer is reproduced
    table = invoke("conventions").stdout
    assert "fvcore" in table
    assert "batch norm" in table


def test_every_tool_module_is_registered() -> None:
    """Each module of the conventions package but ``base`` is one tool, named in TOOLS:
    a module added and never registered would count nothing, silently."""
    import pkgutil

    from convcalc.core.count import conventions

    found = {m.name for m in pkgutil.iter_modules(conventions.__path__)} - {"base"}
    registered = [tool.__name__.rpartition(".")[2] for tool in conventions.TOOLS]
    assert sorted(registered) == sorted(found)
    named = [c.name for tool in conventions.TOOLS for c in tool.CONVENTIONS]
    assert len(named) == len(set(named)) == len(CONVENTIONS)


# Recurrent layers ---------------------------------------------------------------------

# Every tool with a rule (or, torchscan, none) for nn.LSTM/GRU/RNN and their cells; not
# FlopCounterMode, which counts 0 for an nn.LSTM the CPU runs fused (it counts it on meta,
# where convcalc runs it: tests/model/test_recurrent.py).
RECURRENT_TOOLS = ("fvcore", "ptflops", "ptflops-pytorch", "thop", "torchscan", "torchscan-macs",
                   "torchinfo")  # fmt: skip


class _First(nn.Module):
    """A recurrent module's first result (its sequence, or a cell's h)."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x: torch.Tensor) -> Any:
        out = self.layer(x)
        return out[0] if isinstance(out, tuple) else out


@st.composite
def _recurrent_models(draw: st.DrawFn) -> tuple[nn.Module, tuple[int, ...]]:
    """A random nn.LSTM / GRU / RNN (layers, directions, LSTM's projection, bias, batch
    first; batched or an unbatched (T, I)) or cell (a batch), and its input's shape."""
    kind = draw(st.sampled_from(["LSTM", "GRU", "RNN", "LSTMCell", "GRUCell", "RNNCell"]))
    size, hidden = draw(st.integers(1, 8)), draw(st.integers(2, 8))
    bias, batch = draw(st.booleans()), draw(st.integers(1, 3))
    if kind.endswith("Cell"):
        return _First(getattr(nn, kind)(size, hidden, bias=bias)), (batch, size)
    options: dict[str, Any] = {"num_layers": draw(st.integers(1, 3)),
                               "bidirectional": draw(st.booleans()), "bias": bias,
                               "batch_first": draw(st.booleans())}  # fmt: skip
    if kind == "LSTM" and draw(st.booleans()):
        options["proj_size"] = draw(st.integers(1, hidden - 1))
    if kind == "RNN":
        options["nonlinearity"] = draw(st.sampled_from(["tanh", "relu"]))
    steps = draw(st.integers(1, 5))
    if draw(st.booleans()):
        shape: tuple[int, ...] = (steps, size)  # unbatched
    else:
        shape = (batch, steps, size) if options["batch_first"] else (steps, batch, size)
    return _First(getattr(nn, kind)(size, hidden, **options)), shape


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_recurrent_models())
def test_every_convention_is_its_tool_s_total_on_random_recurrent_layers(
    case: tuple[nn.Module, tuple[int, ...]],
) -> None:
    """Random recurrent layers and cells: thop (rnn_hooks per cell step), ptflops' two
    backends (the aten one's addmm per step, 0 for the CPU's fused nn.LSTM; the default
    one's rnn hook, which reads input.shape[0] x shape[1] whatever they are), fvcore (a
    cell's linear maps; no handle for aten::lstm), torchscan (no formula) and torchinfo
    (weight_ih & co. by the output's first two sizes) print their convention's total."""
    model, shape = case
    model = model.eval()
    report = convcalc.profile(model, shape, verify=False)
    x = torch.rand(shape)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        printed = {tool: TOOLS[tool](model, x) for tool in RECURRENT_TOOLS}
    assert {tool: count(report.figures, tool).total for tool in RECURRENT_TOOLS} == printed
    assert printed["thop"] > 0  # a rule of its own, not a 0 by default


def _ptflops_default(model: nn.Module, x: torch.Tensor) -> int | None:
    """ptflops' default backend as users call it; None where it fails (it prints the error
    and returns no total)."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        macs, _ = ptflops.get_model_complexity_info(
            model, (1,), as_strings=False, print_per_layer_stat=False, verbose=False,
            input_constructor=lambda _shape: x,
        )  # fmt: skip
    return None if macs is None else int(macs)


class _Packed(nn.Module):
    """A bidirectional LSTM over a padded batch packed by lengths 7, 5 and 3."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(6, 5, batch_first=True, bidirectional=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

        packed = pack_padded_sequence(x, torch.tensor([7, 5, 3]), batch_first=True)
        return pad_packed_sequence(self.lstm(packed)[0], batch_first=True)[0]


@pytest.mark.parametrize(
    ("model", "shape"),
    [(_Packed(), (3, 7, 6)), (_First(nn.GRUCell(6, 5)), (6,))],
    ids=["packed lstm", "unbatched cell"],
)
def test_where_ptflops_fails_on_a_recurrent_layer_the_convention_says_so(
    model: nn.Module, shape: tuple[int, ...]
) -> None:
    """ptflops' rnn hooks read input.shape (a PackedSequence has none) and shape[1] (an
    unbatched cell has none): the real tool prints no total; the convention counts 0 for
    that layer and says ptflops prints none. thop counts the packed steps (15, not 21)."""
    model = model.eval()
    x = torch.rand(shape)
    report = convcalc.profile(model, shape, verify=False)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        assert _ptflops_default(model, x) is None
        thop_ops = _thop(model, x)
    (layer,) = [x for x in count(report.figures, "ptflops-pytorch").layers if x.paper]
    assert layer.count == 0
    assert "no total" in layer.note
    assert count(report.figures, "thop").total == thop_ops > 0


class Conv1D(nn.Module):
    """GPT-2's Conv1D: a linear map by addmm on a weight of (in, out)."""

    def __init__(self, features: int, inputs: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(inputs, features))
        self.bias = nn.Parameter(torch.zeros(features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight)
        return out.view(*x.shape[:-1], -1)


class _Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.c_attn = Conv1D(24, 8)
        self.lstm = nn.LSTM(24, 4, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.lstm(self.c_attn(x))[0]
        return out


def test_torchinfo_s_rules_are_named_as_it_applies_them() -> None:
    """--convention torchinfo states the rule torchinfo applies: a class with "Conv" in its
    name by its convolution rule (GPT-2's Conv1D: params x N x prod(out[2:])), an LSTM's
    weight_ih & co. by the output's first two sizes; the total is torchinfo's own."""
    model = _Block().eval()
    report = convcalc.profile(model, (2, 5, 8), verify=False)
    notes = {x.name.partition("#")[0]: x.note for x in count(report.figures, "torchinfo").layers
             if x.count}  # fmt: skip
    assert '"Conv" in its class name: params x N x prod(out[2:])' in notes["c_attn"]
    assert "out.shape[0]" not in notes["c_attn"]
    assert "params x prod(out.shape[:2])" in notes["lstm"]
    with torch.no_grad():
        assert count(report.figures, "torchinfo").total == _torchinfo(model, torch.rand(2, 5, 8))
