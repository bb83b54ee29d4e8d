"""Atención por producto escalado y máscaras frente a F.scaled_dot_product_attention."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from _helpers import assert_parity
from hypothesis import given, settings
from hypothesis import strategies as st

from transformer_lib import (
    additive_mask,
    attention_weights,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
)


def _qkv(B=2, h=3, T_q=5, T_k=7, d_k=8, d_v=6, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(B, h, T_q, d_k, generator=g, dtype=dtype)
    k = torch.randn(B, h, T_k, d_k, generator=g, dtype=dtype)
    v = torch.randn(B, h, T_k, d_v, generator=g, dtype=dtype)
    return q, k, v


def test_without_mask_matches_torch():
    q, k, v = _qkv()
    assert_parity(scaled_dot_product_attention(q, k, v), F.scaled_dot_product_attention(q, k, v))


def test_weights_are_softmax_of_scaled_scores():
    q, k, _ = _qkv()
    w = attention_weights(q, k)
    expected = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
    assert_parity(w, expected)
    torch.testing.assert_close(w.sum(-1), torch.ones(w.shape[:-1]))


@pytest.mark.parametrize(
    "mask_shape", [(5, 7), (2, 1, 1, 7), (2, 3, 5, 7), (1, 3, 5, 1)], ids=["TqTk", "padding", "full", "heads"]
)
def test_boolean_masks_match_torch(mask_shape):
    q, k, v = _qkv()
    mask = torch.rand(mask_shape, generator=torch.Generator().manual_seed(1)) > 0.3
    ours = scaled_dot_product_attention(q, k, v, mask=mask)
    assert_parity(ours, F.scaled_dot_product_attention(q, k, v, attn_mask=mask))


@pytest.mark.parametrize("T_q,T_k", [(6, 6), (4, 7), (7, 4)])
def test_is_causal_matches_torch(T_q, T_k):
    q, k, v = _qkv(T_q=T_q, T_k=T_k)
    ours = scaled_dot_product_attention(q, k, v, is_causal=True)
    assert_parity(ours, F.scaled_dot_product_attention(q, k, v, is_causal=True))


def test_is_causal_equals_causal_mask():
    q, k, v = _qkv(T_q=6, T_k=6)
    torch.testing.assert_close(
        scaled_dot_product_attention(q, k, v, is_causal=True),
        scaled_dot_product_attention(q, k, v, mask=causal_mask(6)),
        rtol=0, atol=0,
    )


def test_fully_masked_rows_give_zero_like_torch():
    q, k, v = _qkv()
    mask = torch.ones(2, 3, 5, 7, dtype=torch.bool)
    mask[0, 1, 2] = False  # una consulta sin ninguna clave visible
    mask[1, :, 4] = False
    w = attention_weights(q, k, mask)
    assert not torch.isnan(w).any()
    assert torch.equal(w[0, 1, 2], torch.zeros(7))
    torch.testing.assert_close(w[0, 0].sum(-1), torch.ones(5))
    ours = scaled_dot_product_attention(q, k, v, mask=mask)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert torch.equal(ours[0, 1, 2], torch.zeros(6))
    assert torch.equal(ours[1, :, 4], torch.zeros(3, 6))
    assert_parity(ours, ref)


def test_gradients_match_torch_and_have_no_nan_on_empty_rows():
    q, k, v = _qkv()
    mask = torch.rand(2, 1, 5, 7, generator=torch.Generator().manual_seed(3)) > 0.4
    mask[0, 0, 1] = False
    grads = []
    for fn in (
        lambda a, b, c: scaled_dot_product_attention(a, b, c, mask=mask),
        lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=mask),
    ):
        leaves = [t.clone().requires_grad_() for t in (q, k, v)]
        (fn(*leaves) * torch.linspace(-1, 1, 6)).sum().backward()
        grads.append([t.grad for t in leaves])
    for ours, ref in zip(*grads):
        assert_parity(ours, ref)


def test_masked_keys_get_exactly_zero_weight():
    q, k, _ = _qkv()
    mask = padding_mask([3, 7], 7)  # (2, 1, 1, 7)
    w = attention_weights(q, k, mask)
    assert torch.equal(w[0, :, :, 3:], torch.zeros(3, 5, 4))


def test_additive_mask_is_the_slides_formula():
    q, k, _ = _qkv()
    mask = causal_mask(7)[:5]
    add = additive_mask(mask)
    assert add.dtype == torch.float32
    assert set(add.unique().tolist()) == {0.0, float("-inf")}
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]) + add  # QKᵀ/√d_k + M
    assert_parity(attention_weights(q, k, mask), torch.softmax(scores, dim=-1))


def test_causal_mask_values():
    m = causal_mask(4)
    assert m.dtype == torch.bool and m.shape == (4, 4)
    for i in range(4):
        for j in range(4):
            assert bool(m[i, j]) == (j <= i)


def test_padding_mask_shape_and_values():
    m = padding_mask(torch.tensor([2, 0, 4]), 4)
    assert m.shape == (3, 1, 1, 4) and m.dtype == torch.bool
    assert m[:, 0, 0].tolist() == [
        [True, True, False, False],
        [False, False, False, False],
        [True, True, True, True],
    ]


def test_dropout_is_seeded_and_only_active_when_positive():
    q, k, v = _qkv()
    torch.manual_seed(0)
    a = scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    torch.manual_seed(0)
    b = scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    assert torch.equal(a, b)
    assert not torch.allclose(a, scaled_dot_product_attention(q, k, v))


def test_float64_exact():
    q, k, v = _qkv(dtype=torch.float64)
    mask = causal_mask(7)[:5]
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(scaled_dot_product_attention(q, k, v, mask=mask), ref, rtol=0, atol=1e-12)


# ---------------------------------------------------------------- propiedades (hypothesis)

dims = st.integers(min_value=1, max_value=6)


@settings(max_examples=30, deadline=None)
@given(B=st.integers(1, 3), h=st.integers(1, 3), T_q=dims, T_k=dims, d_k=st.integers(1, 16),
       d_v=st.integers(1, 9), seed=st.integers(0, 2**16), p=st.floats(0.0, 1.0),
       broadcast=st.sampled_from(["full", "padding", "square", "none"]))
def test_property_matches_torch_sdpa(B, h, T_q, T_k, d_k, d_v, seed, p, broadcast):
    q, k, v = _qkv(B, h, T_q, T_k, d_k, d_v, seed)
    g = torch.Generator().manual_seed(seed + 1)
    shape = {"full": (B, h, T_q, T_k), "padding": (B, 1, 1, T_k), "square": (T_q, T_k)}.get(broadcast)
    mask = None if shape is None else torch.rand(shape, generator=g) < p  # puede dejar filas vacías
    ours = scaled_dot_product_attention(q, k, v, mask=mask)
    assert_parity(ours, F.scaled_dot_product_attention(q, k, v, attn_mask=mask))
    w = attention_weights(q, k, mask)
    row_sums = w.sum(-1)  # 1 en las filas con alguna clave visible, 0 en las vacías
    assert torch.all(((row_sums - 1).abs() < 1e-5) | (row_sums == 0))


@settings(max_examples=30, deadline=None)
@given(lengths=st.lists(st.integers(0, 9), min_size=1, max_size=5), extra=st.integers(0, 3))
def test_property_padding_mask(lengths, extra):
    T = max(lengths) + extra
    if T == 0:
        T = 1
    m = padding_mask(lengths, T)
    assert m.shape == (len(lengths), 1, 1, T)
    assert m.sum(dim=-1).flatten().tolist() == lengths
    # las posiciones reales son un prefijo: nunca hay un True después de un False
    assert torch.equal(m, m.cummin(dim=-1).values)
