"""After an op that mixes all positions, each unit has seen the whole input: the receptive
field is global (attention over every token, a product summing over the positions, a
flatten into a Linear, a reduction over the positions), and windows are not."""

from __future__ import annotations

import pytest

import convcalc
from convcalc.core.geometry.shapes import (
    Field,
    input_field,
    local_field,
    map_positions,
    mixed_field,
    token_field,
)
from convcalc.core.ops import traced as ops
from convcalc.core.ops.primitives import Linear


def _patches(side: int = 224, patch: int = 16) -> Field:
    """A ViT's patch embedding: a patch x patch window every patch pixels."""
    return local_field(input_field((side, side)), (patch, patch), (patch, patch), (1, 1), (0, 0))


def test_map_positions_is_the_extent_over_the_jump() -> None:
    """224 / 16 = 14 units per axis: 196 positions."""
    assert map_positions(_patches()) == 196


def test_attention_over_every_token_is_global_and_a_window_is_not() -> None:
    """197 keys (196 patches and a class token) cover the map; a 7 x 7 window does not."""
    field = _patches()
    attention = ops.Attention()
    q = (1, 3, 197, 64)
    assert attention.field((field,) * 3, (q, q, q)).whole
    window = (64, 3, 49, 32)
    small = _patches(patch=4)  # 56 x 56 positions
    assert not attention.field((small,) * 3, (window, window, window)).whole


def test_a_product_is_global_only_when_it_sums_over_the_positions() -> None:
    """attn @ v sums over 197 tokens: global; q @ k^T sums over a head's 64 features: not;
    a linear map with a computed weight sums over features: not."""
    field = _patches()
    scores, values = (1, 3, 197, 197), (1, 3, 197, 64)
    assert ops.MatMul().field((field, field), (scores, values)).whole
    q, k_t = (1, 3, 197, 64), (1, 3, 64, 197)
    assert not ops.MatMul().field((field, field), (q, k_t)).whole
    weights = (1, 64, 64)
    assert not ops.MatMul("linear", transpose_b=True).field((field, field), (q, weights)).whole


def test_a_parameter_sees_nothing_and_leaves_the_map_s_positions() -> None:
    """cat([class token, patches]): the token's field adds nothing; the patches' jump
    (and so the 196 positions) stays."""
    field = _patches()
    token = ops.Parameter((1, 1, 768)).field((input_field((224, 224)),), ((1, 3, 224, 224),))
    assert token.empty
    assert token.size == (0, 0)
    joined = ops.Opaque("cat", (1, 197, 768)).field((token, field), ((1, 1, 768), (1, 196, 768)))
    assert joined.jump == (16, 16)
    assert joined.size == (16, 16)


def test_flatten_into_a_linear_is_global() -> None:
    """(N, 512, 7, 7) flattened to (N, 25088): the positions are folded into features; the
    Linear reading them has seen the whole input. The flatten itself has not."""
    field = local_field(input_field((224, 224)), (150, 150), (32, 32), (1, 1), (0, 0))
    flat = ops.Opaque("flatten", (1, 25088)).field((field,), ((1, 512, 7, 7),))
    assert flat.folded
    assert not flat.whole
    assert Linear(25088, 4096).field((flat,), ((1, 25088),)).whole
    tokens = ops.Opaque("flatten", (1, 768, 196)).field((field,), ((1, 768, 14, 14),))
    assert not tokens.folded  # flatten(2): the positions stay an axis of their own


@pytest.mark.parametrize(
    ("shape", "axes", "whole"),
    [
        ((1, 64, 7, 7), {2, 3}, True),  # N C H W over H, W
        ((1, 7, 7, 64), {1, 2}, True),  # N H W C (channels last) over H, W
        ((1, 64, 7, 7), {1}, False),  # over the channels
        ((1, 7, 7, 64), {3}, False),
        ((1, 49, 64), {1}, True),  # tokens
        ((1, 49, 64), {2}, False),  # each token's features (a layer norm by hand)
        ((1, 12, 64), {1}, False),  # 12 of the 49 positions
    ],
)
def test_a_reduction_is_global_over_the_positions_only(
    shape: tuple[int, ...], axes: set[int], whole: bool
) -> None:
    """A mean over the positions (any layout) is global; over channels it is not."""
    field = local_field(input_field((224, 224)), (32, 32), (32, 32), (1, 1), (0, 0))
    assert map_positions(field) == 49
    assert mixed_field(field, shape, axes).whole is whole
    assert ops.Reduce("mean", tuple(axes)).field((field,), (shape,)).whole is whole


def test_token_field_needs_more_than_half_the_positions() -> None:
    field = _patches()
    assert token_field(field, 99).whole
    assert not token_field(field, 98).whole


torchvision = pytest.importorskip("torchvision")


def _first_global(name: str) -> tuple[str, dict[str, object]]:
    report = convcalc.profile(f"torchvision:{name}", (1, 3, 224, 224), verify=False)
    first = next(layer for layer in report.layers if layer.field.whole)
    return first.name, report.to_dict()["analytic"]


def test_vgg11_head_after_flatten_is_global() -> None:
    """VGG11's classifier reads the flattened 7 x 7 map: global from its first Linear on
    (the last conv's field was 150 x 150)."""
    first, analytic = _first_global("vgg11")
    assert first == "classifier.0"
    assert analytic["receptive_field_global"] is True
    assert analytic["receptive_field"] == [224, 224]


def test_vit_is_global_after_its_first_attention() -> None:
    """ViT-B/16: 16 x 16 after the patch embedding, global after the first attention."""
    first, analytic = _first_global("vit_b_16")
    assert first.startswith("encoder.layers.encoder_layer_0.self_attention")
    assert analytic["receptive_field_global"] is True


def test_swin_windows_are_not_global() -> None:
    """Swin attends within 7 x 7 windows: the field turns global at its average pool."""
    first, _ = _first_global("swin_t")
    assert first == "avgpool"
