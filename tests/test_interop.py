"""transformer_lib.interop: from_torch, mask_from_torch y gpt_from_hf (Hugging Face GPT-2)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from _helpers import assert_parity, nn_causal, nn_key_padding
from torch import nn

from transformer_lib import (
    GPT,
    DecoderBlock,
    EncoderBlock,
    LayerNorm,
    MultiHeadAttention,
    causal_mask,
    from_torch,
    gpt_from_hf,
    padding_mask,
)
from transformer_lib.interop import mask_from_torch

transformers = pytest.importorskip("transformers")

D, H = 32, 4


def _x(B=2, T=6, seed=0):
    return torch.randn(B, T, D, generator=torch.Generator().manual_seed(seed))


# ------------------------------------------------------------------------ from_torch


def test_from_torch_returns_our_classes():
    assert isinstance(from_torch(nn.MultiheadAttention(D, H, batch_first=True)), MultiHeadAttention)
    enc = from_torch(nn.TransformerEncoderLayer(D, H, 64, batch_first=True))
    assert isinstance(enc, EncoderBlock)
    dec = from_torch(nn.TransformerDecoderLayer(D, H, 64, batch_first=True))
    assert isinstance(dec, DecoderBlock) and dec.cross_attn is not None
    assert isinstance(from_torch(nn.LayerNorm(D)), LayerNorm)


def test_from_torch_copies_the_configuration():
    ref = nn.TransformerEncoderLayer(D, H, 48, dropout=0.2, activation="gelu", layer_norm_eps=1e-6,
                                     batch_first=True, norm_first=True)
    ours = from_torch(ref)
    assert ours.res_attn.norm_first and ours.res_ff.norm_first
    assert ours.res_attn.norm.eps == 1e-6 and ours.res_ff.norm.eps == 1e-6
    assert ours.ff.activation_name == "gelu" and ours.ff.linear1.out_features == 48
    assert ours.self_attn.dropout == 0.2 and ours.ff.dropout.p == 0.2 and ours.res_ff.dropout.p == 0.2
    assert ours.training  # nn crea las capas en modo entrenamiento
    assert not from_torch(ref.eval()).training
    n_ref = sum(p.numel() for p in ref.parameters())
    assert sum(p.numel() for p in ours.parameters()) == n_ref


def test_from_torch_keeps_dtype():
    ref = nn.MultiheadAttention(D, H, batch_first=True).double()
    ours = from_torch(ref)
    assert ours.w_q.weight.dtype == torch.float64
    x = _x().double()
    torch.testing.assert_close(ours(x, x, x), ref(x, x, x, need_weights=False)[0], rtol=0, atol=1e-12)


@pytest.mark.parametrize("activation", [nn.ReLU(), nn.GELU(), nn.GELU(approximate="tanh")],
                         ids=["ReLU", "GELU", "GELU-tanh"])
def test_from_torch_accepts_activation_modules(activation):
    torch.manual_seed(0)
    ref = nn.TransformerEncoderLayer(D, H, 64, dropout=0.0, activation=activation, batch_first=True).eval()
    x = _x()
    assert_parity(from_torch(ref)(x), ref(x))


@pytest.mark.parametrize("norm_first", [False, True])
def test_from_torch_without_bias(norm_first):
    torch.manual_seed(0)
    ref = nn.TransformerDecoderLayer(D, H, 64, dropout=0.0, bias=False, batch_first=True,
                                     norm_first=norm_first).eval()
    ours = from_torch(ref)
    assert ours.self_attn.w_q.bias is None and ours.ff.linear1.bias is None
    x, mem = _x(), _x(T=4, seed=1)
    assert_parity(ours(x, mem, is_causal=True), ref(x, mem, tgt_mask=nn_causal(6), tgt_is_causal=True))


def test_from_torch_layernorm_without_affine():
    ref = nn.LayerNorm(D, elementwise_affine=False, eps=1e-3)
    x = _x() * 5
    assert_parity(from_torch(ref)(x), ref(x))


# ------------------------------------------------------------------- mask_from_torch


def test_mask_from_torch_boolean_and_additive():
    am, kpm = nn_causal(5), nn_key_padding([5, 3], 5)
    ours = mask_from_torch(am, kpm)
    assert ours.shape == (2, 1, 5, 5)
    assert torch.equal(ours, causal_mask(5) & padding_mask([5, 3], 5))
    additive = torch.zeros(5, 5).masked_fill(am, float("-inf"))
    kpm_add = torch.zeros(2, 5).masked_fill(kpm, float("-inf"))
    assert torch.equal(mask_from_torch(additive, kpm_add), ours)
    assert torch.equal(mask_from_torch(am), causal_mask(5))
    assert mask_from_torch() is None


# ----------------------------------------------------------------------- gpt_from_hf


def _hf(n_layer=2, n_embd=64, n_head=4, vocab=97, n_positions=32, impl="eager", **kw):
    torch.manual_seed(0)
    cfg = transformers.GPT2Config(n_layer=n_layer, n_embd=n_embd, n_head=n_head, vocab_size=vocab,
                                  n_positions=n_positions, bos_token_id=0, eos_token_id=0, **kw)
    return transformers.GPT2LMHeadModel._from_config(cfg, attn_implementation=impl).eval()


@pytest.mark.parametrize(
    "kw",
    [
        dict(n_layer=2, n_embd=64, n_head=4),
        dict(n_layer=3, n_embd=48, n_head=6, impl="sdpa"),
        dict(n_layer=1, n_embd=96, n_head=8, n_inner=80),
        dict(n_layer=2, n_embd=32, n_head=2, layer_norm_epsilon=1e-3, activation_function="gelu"),
        dict(n_layer=2, n_embd=32, n_head=4, activation_function="relu", tie_word_embeddings=False),
    ],
    ids=["L2-d64", "L3-d48-sdpa", "L1-d96-n_inner", "eps-gelu", "relu-untied"],
)
def test_gpt_from_hf_logits_match(kw):
    hf = _hf(**kw)
    ours = gpt_from_hf(hf)
    assert isinstance(ours, GPT) and not ours.training
    assert ours.config.tie_weights == kw.get("tie_word_embeddings", True)
    idx = torch.randint(0, 97, (3, 32), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert_parity(ours(idx)[0], hf(idx).logits)
        assert_parity(ours(idx[:, :7])[0], hf(idx[:, :7]).logits)
    assert ours.count_parameters().total == sum(p.numel() for p in hf.parameters())


def test_gpt_from_hf_loss_matches():
    hf = _hf()
    ours = gpt_from_hf(hf)
    idx = torch.randint(0, 97, (2, 16), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        # HF desplaza las etiquetas dentro; nosotros recibimos los objetivos ya desplazados
        hf_loss = hf(idx, labels=idx).loss
        _, loss = ours(idx[:, :-1], idx[:, 1:])
    assert abs(hf_loss.item() - loss.item()) < 1e-5


def test_gpt_from_hf_weight_layout():
    hf = _hf()
    ours = gpt_from_hf(hf)
    assert ours.lm_head.weight is ours.tok_emb.weight  # atados, como en GPT-2
    assert ours.config.activation == "gelu_tanh" and ours.config.d_ff == 4 * 64
    c_attn = hf.transformer.h[1].attn.c_attn.weight  # (d_model, 3·d_model), Conv1D traspuesta
    torch.testing.assert_close(ours.blocks[1].self_attn.w_k.weight, c_attn[:, 64:128].T, rtol=0, atol=0)


def test_gpt_from_hf_greedy_generation_matches():
    hf = _hf()
    ours = gpt_from_hf(hf)
    idx = torch.randint(0, 97, (2, 4), generator=torch.Generator().manual_seed(3))
    out = ours.generate(idx, max_new_tokens=6, temperature=0)
    with torch.no_grad():
        ref = idx
        for _ in range(6):
            ref = torch.cat([ref, hf(ref).logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    assert torch.equal(out, ref)


@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(scale_attn_by_inverse_layer_idx=True), "scale_attn_by_inverse_layer_idx"),
        (dict(activation_function="silu"), "'silu'"),
        (dict(resid_pdrop=0.1, attn_pdrop=0.0), "attn_pdrop=0.0"),
        (dict(scale_attn_weights=False), "scale_attn_weights"),
    ],
)
def test_gpt_from_hf_rejects_unsupported_configs(kw, match):
    with pytest.raises(ValueError, match=match):
        gpt_from_hf(_hf(**kw))


def test_gpt_from_hf_rejects_other_models():
    with pytest.raises(TypeError, match="GPT2LMHeadModel.*Linear"):
        gpt_from_hf(nn.Linear(3, 3))


def test_package_imports_without_transformers():
    code = "import sys, transformer_lib; print('transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
