"""MultiHeadAttention frente a nn.MultiheadAttention, y sus dos rutas entre sí."""

from __future__ import annotations

import pytest
import torch
from _helpers import assert_parity, nn_causal, nn_key_padding
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from transformer_lib import (
    MultiHeadAttention,
    attention_weights,
    causal_mask,
    from_torch,
    padding_mask,
)
from transformer_lib.interop import mask_from_torch

D, H = 32, 4


def _pair(bias=True, seed=0):
    torch.manual_seed(seed)
    ref = nn.MultiheadAttention(D, H, bias=bias, batch_first=True)
    nn.init.normal_(ref.in_proj_weight, std=0.3)
    if bias:
        nn.init.normal_(ref.in_proj_bias, std=0.1)
        nn.init.normal_(ref.out_proj.bias, std=0.1)
    return from_torch(ref), ref


def _x(B=3, T=6, seed=1):
    return torch.randn(B, T, D, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("bias", [True, False])
def test_self_attention_matches_nn(bias):
    ours, ref = _pair(bias)
    x = _x()
    assert_parity(ours(x, x, x), ref(x, x, x, need_weights=False)[0])


def test_cross_attention_matches_nn():
    ours, ref = _pair()
    x, mem = _x(T=5), _x(T=9, seed=2)
    assert_parity(ours(x, mem, mem), ref(x, mem, mem, need_weights=False)[0])


@pytest.mark.parametrize("need_weights", [False, True])
def test_causal_and_padding_masks_match_nn(need_weights):
    ours, ref = _pair()
    x = _x(T=7)
    lengths = [7, 4, 6]
    kpm, am = nn_key_padding(lengths, 7), nn_causal(7)  # convención nn: True = prohibido
    mask = causal_mask(7) & padding_mask(lengths, 7)  # la nuestra: True = puede atender
    assert torch.equal(mask, mask_from_torch(am, kpm))
    out = ours(x, x, x, mask=mask, need_weights=need_weights)
    out = out[0] if need_weights else out
    assert_parity(out, ref(x, x, x, key_padding_mask=kpm, attn_mask=am, need_weights=False)[0])


def test_weights_match_nn_per_head():
    ours, ref = _pair()
    x, mem = _x(T=5), _x(T=8, seed=2)
    kpm = nn_key_padding([8, 3, 5], 8)
    out, w = ours(x, mem, mem, mask=padding_mask([8, 3, 5], 8), need_weights=True)
    ref_out, ref_w = ref(x, mem, mem, key_padding_mask=kpm, need_weights=True, average_attn_weights=False)
    assert w.shape == (3, H, 5, 8)
    assert_parity(w, ref_w)
    assert_parity(out, ref_out)


@pytest.mark.parametrize("masked", ["none", "causal", "padding", "is_causal"])
def test_fast_and_explicit_paths_agree(masked):
    ours, _ = _pair()
    x = _x(T=6)
    kwargs = {
        "none": {},
        "causal": {"mask": causal_mask(6)},
        "padding": {"mask": padding_mask([6, 2, 0], 6)},  # incluye una secuencia sin claves
        "is_causal": {"is_causal": True},
    }[masked]
    fast = ours(x, x, x, **kwargs)
    explicit, w = ours(x, x, x, need_weights=True, **kwargs)
    assert_parity(fast, explicit)
    if masked in ("causal", "is_causal"):
        assert torch.equal(w.triu(1), torch.zeros_like(w))  # nada del futuro


def test_is_causal_equals_causal_mask_both_paths():
    ours, _ = _pair()
    x = _x(T=6)
    for need_weights in (False, True):
        a = ours(x, x, x, is_causal=True, need_weights=need_weights)
        b = ours(x, x, x, mask=causal_mask(6), need_weights=need_weights)
        a, b = (a[0], b[0]) if need_weights else (a, b)
        assert_parity(a, b)


def test_weights_are_attention_weights_of_projected_heads():
    ours, _ = _pair()
    x = _x()
    _, w = ours(x, x, x, need_weights=True)
    q = ours.split_heads(ours.w_q(x))
    k = ours.split_heads(ours.w_k(x))
    assert_parity(w, attention_weights(q, k))


def test_packed_self_attention_equals_separate_projections():
    ours, _ = _pair()
    x = _x()
    packed = ours(x, x, x)  # query is key is value: una sola matmul
    separate = ours(x, x.clone(), x.clone())  # tres proyecciones
    assert_parity(packed, separate)


def test_each_head_is_its_own_slice_of_w_q():
    """Partir la salida de w_q en h trozos = aplicar h matrices W_i^Q de d_model × d_k."""
    ours, _ = _pair()
    x = _x()
    heads = ours.split_heads(ours.w_q(x))  # (B, h, T, d_k)
    d_k = D // H
    for i in range(H):
        w_i = ours.w_q.weight[i * d_k:(i + 1) * d_k]  # (d_k, d_model)
        b_i = ours.w_q.bias[i * d_k:(i + 1) * d_k]
        assert_parity(heads[:, i], x @ w_i.T + b_i)


def test_gradients_match_nn():
    ours, ref = _pair()
    x = _x(T=7)
    kpm = nn_key_padding([7, 5, 3], 7)
    mask = mask_from_torch(nn_causal(7), kpm)
    g = torch.randn(3, 7, D, generator=torch.Generator().manual_seed(5))
    (ours(x, x, x, mask=mask) * g).sum().backward()
    (ref(x, x, x, attn_mask=nn_causal(7), key_padding_mask=kpm, need_weights=False)[0] * g).sum().backward()
    ours_in = torch.cat([ours.w_q.weight.grad, ours.w_k.weight.grad, ours.w_v.weight.grad])
    assert_parity(ours_in, ref.in_proj_weight.grad)
    ours_b = torch.cat([ours.w_q.bias.grad, ours.w_k.bias.grad, ours.w_v.bias.grad])
    assert_parity(ours_b, ref.in_proj_bias.grad)
    assert_parity(ours.w_o.weight.grad, ref.out_proj.weight.grad)


def test_dropout_only_in_training():
    mha = MultiHeadAttention(D, H, dropout=0.5)
    x = _x()
    mha.eval()
    assert torch.equal(mha(x, x, x), mha(x, x, x))
    mha.train()
    torch.manual_seed(0)
    a = mha(x, x, x)
    torch.manual_seed(0)
    b = mha(x, x, x)
    assert torch.equal(a, b)  # con semilla, repetible
    mha.eval()
    assert not torch.allclose(a, mha(x, x, x))


def test_parameter_count():
    assert sum(p.numel() for p in MultiHeadAttention(D, H).parameters()) == 4 * D * D + 4 * D
    assert sum(p.numel() for p in MultiHeadAttention(D, H, bias=False).parameters()) == 4 * D * D


@settings(max_examples=25, deadline=None)
@given(B=st.integers(1, 3), T=st.integers(1, 7), h=st.sampled_from([1, 2, 4, 8]), d_k=st.integers(1, 5))
def test_property_split_merge_are_inverse(B, T, h, d_k):
    mha = MultiHeadAttention(h * d_k, h)
    x = torch.randn(B, T, h * d_k)
    heads = mha.split_heads(x)
    assert heads.shape == (B, h, T, d_k)
    assert torch.equal(mha.merge_heads(heads), x)
    y = torch.randn(B, h, T, d_k)
    assert torch.equal(mha.split_heads(mha.merge_heads(y)), y)


@settings(max_examples=20, deadline=None)
@given(T_q=st.integers(1, 6), T_k=st.integers(1, 6), seed=st.integers(0, 1000), p=st.floats(0.2, 1.0))
def test_property_matches_nn_with_random_padding(T_q, T_k, seed, p):
    ours, ref = _pair(seed=seed % 3)
    g = torch.Generator().manual_seed(seed)
    x, mem = torch.randn(2, T_q, D, generator=g), torch.randn(2, T_k, D, generator=g)
    real = torch.rand(2, T_k, generator=g) < p
    real[:, 0] = True  # nn.MultiheadAttention da NaN si una consulta no ve ninguna clave
    out, w = ours(x, mem, mem, mask=real[:, None, None, :], need_weights=True)
    ref_out, ref_w = ref(x, mem, mem, key_padding_mask=~real, average_attn_weights=False)
    assert_parity(out, ref_out)
    assert_parity(w, ref_w)
