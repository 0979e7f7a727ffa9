"""Ops real models run, each read from the trace with a formula: GPT-2's addmm, the batched
products, deformable convolution, the ops timm's models need, a functional batch_norm
with no parameters of its own, and fvcore's convention on padding='same'."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
import torch
import torch.nn.functional as F  # noqa: N812 - torch's own spelling
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import convcalc
from convcalc.core.count.conventions import count


def _flop_counter_macs(model: nn.Module, *inputs: torch.Tensor) -> int:
    """FlopCounterMode's FLOPs / 2 of the model run on meta."""
    meta = model.to("meta").eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        meta(*(x.to("meta") for x in inputs))
    return int(counter.get_total_flops()) // 2


def _params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_gpt2_conv1d_addmm_is_counted() -> None:
    """GPT-2's Conv1D is torch.addmm(bias, x, weight): two layers built from GPT2Config
    (never from_pretrained) are counted whole, as FlopCounterMode counts them."""
    transformers = pytest.importorskip("transformers")
    transformers.logging.set_verbosity_error()
    with torch.device("meta"):
        model = transformers.GPT2Model(transformers.GPT2Config(n_layer=2))
    report = convcalc.profile(model, (1, 128), input_dtype="long", verify=False)
    assert report.totals.not_counted == {}
    assert report.params == _params(model)
    tokens = torch.zeros(1, 128, dtype=torch.long)
    assert report.macs == _flop_counter_macs(model, tokens)
    conv1d = [x for x in report.layers if x.group == "h.0.attn.c_attn"]
    assert sum(x.macs for x in conv1d) == 128 * 768 * 3 * 768  # rows x in x out
    assert sum(x.params for x in conv1d) == 768 * 3 * 768 + 3 * 768  # weight (in, out)


def test_gpt2_conv1d_verifies_against_torchinfo_s_conv_rule() -> None:
    """torchinfo counts Conv1D (a class named "Conv") as a convolution on the module's
    output, params x N x out features: predicted per call, so every check agrees."""
    transformers = pytest.importorskip("transformers")
    transformers.logging.set_verbosity_error()
    config = transformers.GPT2Config(n_layer=2, n_embd=32, n_head=4, vocab_size=50,
                                     n_positions=16)  # fmt: skip
    report = convcalc.profile(transformers.GPT2Model(config), (2, 16), input_dtype="long",
                              cross_check=True)  # fmt: skip
    assert report.match is True, report.failed_checks
    conv1d = [x for x in report.layers if x.group == "h.0.mlp.c_fc" and x.params]
    assert conv1d[0].torchinfo_mult_adds == (32 * 128 + 128) * 2 * 128


class Products(nn.Module):
    """addmm with a parameter weight and with an activation, baddbmm and addbmm."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(6, 5))
        self.bias = nn.Parameter(torch.zeros(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (4, 6)
        y = torch.addmm(self.bias, x, self.weight)  # (4, 5): a linear map
        z = torch.addmm(y, x, x.t() @ y)  # (4, 5): a product of activations, y added
        batched = torch.baddbmm(z.unsqueeze(0), x.expand(3, 4, 6), x.t().expand(3, 6, 4) @ z)
        summed = torch.addbmm(z, x.expand(3, 4, 6), self.weight.expand(3, 6, 5))
        return batched.sum(0) + summed


def test_addmm_baddbmm_and_addbmm_by_hand() -> None:
    """Each product's MACs (out x k), its addend its own element-wise add; params once.
    FlopCounterMode counts all but addbmm (3 x 4 x 6 x 5), for which it has no formula."""
    report = convcalc.profile(Products(), (4, 6), verify=False)
    assert report.totals.not_counted == {}
    assert report.params == 6 * 5 + 5
    addbmm = 3 * 4 * 6 * 5
    by_hand = 4 * 6 * 5 + (6 * 4 * 5 + 4 * 6 * 5) + 3 * (6 * 4 * 5 + 4 * 6 * 5) + addbmm
    assert report.macs == by_hand == _flop_counter_macs(Products(), torch.zeros(4, 6)) + addbmm


class Deformable(nn.Module):
    """A plain conv predicting offsets (and a mask) for torchvision's deformable conv."""

    def __init__(self, mask: bool) -> None:
        super().__init__()
        self.mask = mask
        self.offset = nn.Conv2d(4, 2 * 9, 3, padding=1)
        self.modulator = nn.Conv2d(4, 9, 3, padding=1)
        self.deform = pytest.importorskip("torchvision").ops.DeformConv2d(4, 8, 3, padding=1,
                                                                          stride=2)  # fmt: skip

    def forward(self, x: torch.Tensor) -> Any:
        offset = self.offset(x)[:, :, ::2, ::2]
        mask = self.modulator(x)[:, :, ::2, ::2].sigmoid() if self.mask else None
        return self.deform(x, offset, mask)


@pytest.mark.parametrize("mask", [False, True], ids=["v1", "v2 masked"])
def test_deform_conv2d_by_hand(mask: bool) -> None:
    """deform_conv2d: the convolution's MACs (N x Hout x Wout x Cout x Cin x k x k) and its
    bilinear sampling (4 ops for each of N x Cin x k x k x Hout x Wout values read, plus
    the mask's scaling); FlopCounterMode has no formula for it and counts only the
    offset convs."""
    model = Deformable(mask)
    report = convcalc.profile(model, (2, 4, 10, 10), cross_check=True)
    assert report.totals.not_counted == {}
    assert report.params == _params(model)
    (layer,) = [x for x in report.layers if x.type == "DeformConv2d"]
    sampled = 2 * 4 * 9 * 5 * 5
    assert layer.output_shape == (2, 8, 5, 5)
    assert layer.macs == 2 * 5 * 5 * 8 * 4 * 9
    assert layer.elementwise == {"bilinear_sample": 4 * sampled} | (
        {"mask": sampled} if mask else {})  # fmt: skip
    offsets = 2 * 10 * 10 * (18 + 9 * mask) * 4 * 9
    assert _flop_counter_macs(Deformable(mask), torch.zeros(2, 4, 10, 10)) == offsets
    assert report.macs == offsets + layer.macs


class TimmOps(nn.Module):
    """Every op timm's partial models ran with no formula, around a conv and a linear."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.norm = nn.RMSNorm(8)
        self.head = nn.Linear(8 * 9, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, 3, 6, 6)
        y = self.conv(x)
        rows, cols = torch.meshgrid(torch.arange(6, device=x.device),
                                    torch.arange(6, device=x.device), indexing="ij")  # fmt: skip
        y = y + (rows + cols).to(y.dtype)
        patches = F.unfold(y, 3, padding=1)  # (N, 72, 36)
        back = F.fold(patches, (6, 6), 3, padding=1)
        windows = y.unfold(3, 2, 2).mean(-1)  # Tensor.unfold: a view
        spread = y.var(dim=1, keepdim=True) + y.std(dim=(2, 3), keepdim=True)
        normed = self.norm(y.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        powered = y.pow(2) + 2**y + y.square()
        summed = torch.addcmul(y.cumsum(dim=1), normed, powered, value=0.5)
        largest = y.max(dim=1, keepdim=True)[0] + torch.max(y, normed) + y.max()
        size = y.norm(dim=1, keepdim=True)
        negative = (~(y > 0)).to(y.dtype)
        codes = F.one_hot(torch.zeros(y.shape[0], dtype=torch.long, device=x.device), 4)
        mixed = back + spread + summed + largest + size + negative + windows.repeat(1, 1, 1, 2)
        head: torch.Tensor = self.head(patches.transpose(1, 2))
        total: torch.Tensor = head.sum(1) + codes + mixed.mean((1, 2, 3))[:, None]
        return total


def test_timm_ops_are_counted_by_hand() -> None:
    """meshgrid, unfold (F. and Tensor.), fold, var, std, pow, rms_norm, cumsum, norm,
    addcmul, max (reduction and element-wise), one_hot and ~: nothing left uncounted,
    MACs as FlopCounterMode's, each op's element-wise work by its stated rule."""
    model = TimmOps()
    report = convcalc.profile(model, (2, 3, 6, 6), cross_check=True)
    assert report.totals.not_counted == {}
    assert report.params == _params(model)
    assert report.macs == 2 * 36 * 8 * 3 * 9 + 2 * 36 * 72 * 4
    assert report.macs == _flop_counter_macs(TimmOps(), torch.zeros(2, 3, 6, 6))
    y = 2 * 8 * 6 * 6
    work = report.totals.elementwise
    assert work["fold"] == 2 * 72 * 36  # each column element added once
    assert work["var"] == work["std"] == 4 * y
    assert work["rms_norm"] == (3 + 1) * y  # square, sum, scale; its weight
    assert work["norm"] == 2 * y
    assert work["cumsum"] == y
    assert work["addcmul"] == 2 * y
    assert work["maximum"] == y
    assert work["max"] == 2 * y  # over the channels, and over everything
    assert work["not"] == y
    assert report.match is True, report.failed_checks


# Models of timm that were partial or off (ops with no formula, a batch_norm's phantom
# parameters), one per architecture module; each exact now at its default input size.
TIMM_SAMPLE = {
    "edgenext_xx_small": "cumsum, ~, 2 ** x",
    "xcit_nano_12_p16_224": "2 ** x",
    "caformer_s18": "square",
    "csatv2": "norm, addcmul",
    "volo_d1_224": "F.unfold, F.fold, max",
    "tnt_s_patch16_224": "F.unfold",
    "sequencer2d_s": "bidirectional LSTM",
    "bat_resnext26ts": "eye, dropout2d",
    "qwen3_vit_88m": "meshgrid",
    "gemma4_vit_167m": "rms_norm, one_hot, meshgrid",
    "nf_regnet_b0": "ScaledStdConv2d's functional batch_norm",
    "dm_nfnet_f0": "ScaledStdConv2d's functional batch_norm",
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(TIMM_SAMPLE))
def test_timm_models_that_were_partial_are_exact(name: str) -> None:
    """params == sum(numel), MACs == FlopCounterMode / 2 on meta, nothing uncounted."""
    timm = pytest.importorskip("timm")
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = timm.create_model(name, pretrained=False)
    shape = (1, *model.pretrained_cfg["input_size"])
    report = convcalc.profile(model, shape, verify=False)
    assert report.totals.not_counted == {}, TIMM_SAMPLE[name]
    assert report.params == _params(model)
    assert report.macs == _flop_counter_macs(model, torch.zeros(shape, device="meta"))


class StandardisedConv(nn.Module):
    """NFNet's ScaledStdConv2d: its weight standardised by F.batch_norm with no running
    statistics, scaled by a computed gain (or by none), and a bias of its own."""

    def __init__(self, gain: bool) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(8, 4, 3, 3))
        self.bias = nn.Parameter(torch.zeros(8))
        self.gain = nn.Parameter(torch.ones(8, 1, 1, 1)) if gain else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = (self.gain * 0.5).view(-1) if self.gain is not None else None
        weight = F.batch_norm(self.weight.reshape(1, 8, -1), None, None, weight=scale,
                              training=True, momentum=0.0, eps=1e-6)  # fmt: skip
        return F.conv2d(x, weight.reshape_as(self.weight), self.bias, padding=1)


@pytest.mark.parametrize("gain", [False, True], ids=["no gain", "computed gain"])
def test_functional_batch_norm_counts_only_real_parameters(gain: bool) -> None:
    """No affine parameter exists for a batch_norm given none or a computed weight: the
    params are the weight, the gain and the conv's bias, nothing per channel added."""
    model = StandardisedConv(gain)
    report = convcalc.profile(model, (1, 4, 8, 8), verify=False)
    assert report.params == _params(model) == 8 * 4 * 9 + 8 + 8 * gain
    assert report.macs == 8 * 8 * 8 * 4 * 9


class SamePadding(nn.Module):
    """ConvMixer's 'same' depthwise conv, a 'valid' one, and an ordinary padded conv."""

    def __init__(self) -> None:
        super().__init__()
        self.same = nn.Conv2d(8, 8, 5, padding="same", groups=8)
        self.valid = nn.Conv2d(8, 8, 3, padding="valid")
        self.plain = nn.Conv2d(8, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.plain(self.valid(self.same(x) + x))
        return out


def test_fvcore_convention_skips_same_and_valid_padding_as_fvcore_does() -> None:
    """torch runs a conv given padding as a string through aten::_convolution_mode, which
    fvcore has no handle for: the real fvcore counts only the plain conv."""
    fvcore_nn = pytest.importorskip("fvcore.nn")
    model = SamePadding().eval()
    x = torch.zeros(1, 8, 12, 12)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        analysis = fvcore_nn.FlopCountAnalysis(model, x)
        analysis.unsupported_ops_warnings(False)
        printed = analysis.total()
    report = convcalc.profile(model, tuple(x.shape), verify=False)
    counted = count(report.figures, "fvcore")
    assert counted.total == printed == 10 * 10 * 4 * 8
    notes = {layer.name: layer.note for layer in counted.layers}
    assert "padding='same'" in notes["same"]
    assert "padding='valid'" in notes["valid"]
