"""The outside check on timm: one model from every architecture module of timm's registry,
read by ``convcalc.profile`` at the model's own default input size, complete (no op without a
formula) and exact: parameters == ``sum(numel)`` of the built model, MACs == FlopCounterMode's
FLOPs / 2, and every torchinfo figure compared.

The sample: for each module that ``timm.list_modules()`` names, its model with the fewest
parameters (built on meta). Models nobody here wrote are the test: a new timm module that
is not covered fails ``test_every_timm_module_is_sampled`` until it is added.
"""

from __future__ import annotations

import os
import warnings

import pytest

if os.environ.get("CONVCALC_REQUIRE_ZOO"):
    import timm
else:
    timm = pytest.importorskip("timm")

import torch

import convcalc

SAMPLE = (
    "beit_base_patch16_224",  # beit
    "halonet_h1",  # byoanet
    "test_byobnet",  # byobnet
    "cait_xxs24_224",  # cait
    "coat_tiny",  # coat
    "convit_tiny",  # convit
    "convmixer_768_32",  # convmixer
    "test_convnext",  # convnext
    "cpubone_nano",  # cpubone
    "crossvit_tiny_240",  # crossvit
    "csatv2",  # csatv2
    "cs3darknet_focus_s",  # cspnet
    "cspnext_tiny",  # cspnext
    "davit_tiny",  # davit
    "deepseek_vit_412m",  # deepseek_vit
    "deit_tiny_patch16_224",  # deit
    "densenet121",  # densenet
    "dla46x_c",  # dla
    "dpn48b",  # dpn
    "edgenext_xx_small",  # edgenext
    "efficientformer_l1",  # efficientformer
    "efficientformerv2_s0",  # efficientformer_v2
    "test_efficientnet",  # efficientnet
    "efficientvim_m1",  # efficientvim
    "efficientvit_b0",  # efficientvit_mit
    "efficientvit_m0",  # efficientvit_msra
    "vit_tiny_patch16_dinov3_qkvb",  # eva
    "fasternet_t0",  # fasternet
    "fastvit_t8",  # fastvit
    "focalnet_tiny_srf",  # focalnet
    "gcvit_xxtiny",  # gcvit
    "gemma4_vit_167m",  # gemma4_vit
    "ghostnet_050",  # ghostnet
    "hardcorenas_b",  # hardcorenas
    "hgnetv2_b0",  # hgnet
    "hiera_tiny_224",  # hiera
    "sam2_hiera_tiny",  # hieradet_sam2
    "hrnet_w18_small",  # hrnet
    "iformer_t",  # iformer
    "inception_next_atto",  # inception_next
    "inception_resnet_v2",  # inception_resnet_v2
    "inception_v3",  # inception_v3
    "inception_v4",  # inception_v4
    "lcnetv2_small",  # lcnetv2
    "levit_128s",  # levit
    "lowformer_b0",  # lowformer
    "test_mambaout",  # mambaout
    "test_coatnet",  # maxxvit
    "poolformerv2_s12",  # metaformer
    "gmlp_ti16_224",  # mlp_mixer
    "mobilenetv3_small_050",  # mobilenetv3
    "mobilenetv5_base",  # mobilenetv5
    "mobilevit_xxs",  # mobilevit
    "mvitv2_tiny",  # mvitv2
    "naflexvit_base_patch16_parfac_gap",  # naflexvit
    "nasnetalarge",  # nasnet
    "nest_tiny",  # nest
    "nextvit_small",  # nextvit
    "test_nfnet",  # nfnet
    "pit_ti_224",  # pit
    "pnasnet5large",  # pnasnet
    "pvt_v2_b0",  # pvt_v2
    "qwen3_vit_88m",  # qwen3_vit
    "rdnet_tiny",  # rdnet
    "regnetx_002",  # regnet
    "repghostnet_050",  # repghost
    "repvit_m1",  # repvit
    "res2next50",  # res2net
    "resnest14d",  # resnest
    "test_resnet",  # resnet
    "resnetv2_18",  # resnetv2
    "rexnet_100",  # rexnet
    "selecsls42",  # selecsls
    "legacy_seresnet18",  # senet
    "sequencer2d_s",  # sequencer
    "shvit_s1",  # shvit
    "skresnet18",  # sknet
    "starnet_s050",  # starnet
    "swiftformer_xs",  # swiftformer
    "swin_tiny_patch4_window7_224",  # swin_transformer
    "swinv2_tiny_window8_256",  # swin_transformer_v2
    "swinv2_cr_tiny_224",  # swin_transformer_v2_cr
    "tiny_vit_5m_224",  # tiny_vit
    "tnt_s_legacy_patch16_224",  # tnt
    "tresnet_m",  # tresnet
    "twins_svt_small",  # twins
    "vgg11",  # vgg
    "visformer_tiny",  # visformer
    "test_vit",  # vision_transformer
    "vit_tiny_r_s16_p8_224",  # vision_transformer_hybrid
    "test_vit_relpos",  # vision_transformer_relpos
    "samvit_base_patch16_224",  # vision_transformer_sam
    "vitamin_small_224",  # vitamin
    "volo_d1_224",  # volo
    "ese_vovnet19b_slim_dw",  # vovnet
    "legacy_xception",  # xception
    "xception41p",  # xception_aligned
    "xcit_nano_12_p8_224",  # xcit
)


def test_every_timm_module_is_sampled() -> None:
    """Each architecture module of the installed timm has a model in the sample."""
    missing = [m for m in timm.list_modules() if not set(timm.list_models(module=m)) & set(SAMPLE)]
    assert not missing, sorted(missing)


def _params(name: str) -> int:
    with warnings.catch_warnings(), torch.device("meta"):
        warnings.simplefilter("ignore")
        model = timm.create_model(name, pretrained=False)
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", SAMPLE)
def test_timm_model_is_complete_and_exact(name: str) -> None:
    """Analytic == torchinfo == FlopCounterMode / 2, nothing uncounted, at timm's input size."""
    config = timm.get_pretrained_cfg(name)
    assert config is not None
    size = config.input_size
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # timm's own deprecation notes
        report = convcalc.profile(f"timm:{name}", (1, *size), cross_check=True)
    assert not report.totals.partial, report.totals.not_counted
    assert report.match is True, [(c.figure, c.analytic, c.measured) for c in report.failed_checks]
    assert report.params == _params(name)
    assert report.measured is not None
    assert report.measured.flop_counter_flops == 2 * report.macs
