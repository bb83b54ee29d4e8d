"""EncoderBlock y DecoderBlock frente a nn.TransformerEncoderLayer / nn.TransformerDecoderLayer."""

from __future__ import annotations

import pytest
import torch
from _helpers import assert_parity, nn_causal, nn_key_padding
from torch import nn

from transformer_lib import DecoderBlock, EncoderBlock, causal_mask, from_torch, padding_mask
from transformer_lib.interop import mask_from_torch

D, H, FF = 32, 4, 64
configs = pytest.mark.parametrize(
    "norm_first,activation", [(False, "relu"), (False, "gelu"), (True, "relu"), (True, "gelu")]
)


def _x(B=3, T=7, seed=0):
    return torch.randn(B, T, D, generator=torch.Generator().manual_seed(seed))


def _perturb(module: nn.Module, seed: int = 0) -> nn.Module:
    """Sesgos y γ, β aleatorios: con los valores iniciales (0 y 1) un error se escondería."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            if p.dim() == 1:
                p.add_(0.2 * torch.randn(p.shape, generator=g))
    return module


def _encoder(norm_first, activation, **kw):
    torch.manual_seed(0)
    ref = nn.TransformerEncoderLayer(D, H, FF, dropout=0.0, activation=activation,
                                     batch_first=True, norm_first=norm_first, **kw)
    return from_torch(_perturb(ref.eval())), ref


def _decoder(norm_first, activation, **kw):
    torch.manual_seed(0)
    ref = nn.TransformerDecoderLayer(D, H, FF, dropout=0.0, activation=activation,
                                     batch_first=True, norm_first=norm_first, **kw)
    return from_torch(_perturb(ref.eval())), ref


@configs
@pytest.mark.parametrize("masks", ["none", "causal", "padding", "both"])
def test_encoder_matches_nn(norm_first, activation, masks):
    ours, ref = _encoder(norm_first, activation)
    x = _x()
    am = nn_causal(7) if masks in ("causal", "both") else None
    kpm = nn_key_padding([7, 3, 5], 7) if masks in ("padding", "both") else None
    expected = ref(x, src_mask=am, src_key_padding_mask=kpm)
    assert_parity(ours(x, mask=mask_from_torch(am, kpm)), expected)


@configs
def test_encoder_matches_nn_fast_path(norm_first, activation):
    """Sin gradientes y en eval, nn usa su ruta rápida de inferencia; en ella las posiciones
    de relleno salen a cero, así que comparamos solo las reales."""
    ours, ref = _encoder(norm_first, activation)
    x = _x()
    kpm = nn_key_padding([7, 3, 5], 7)
    with torch.no_grad():
        expected = ref(x, src_key_padding_mask=kpm)
        out = ours(x, mask=mask_from_torch(None, kpm))
    assert_parity(out[~kpm], expected[~kpm])


@configs
def test_encoder_padding_matches_nn_slow_path(norm_first, activation):
    """En modo entrenamiento (dropout 0) nn usa su ruta general: coincide en todas las posiciones."""
    ours, ref = _encoder(norm_first, activation)
    ours.train(), ref.train()
    x = _x()
    kpm = nn_key_padding([7, 3, 5], 7)
    assert_parity(ours(x, mask=mask_from_torch(None, kpm)), ref(x, src_key_padding_mask=kpm))


@configs
@pytest.mark.parametrize("masks", ["none", "causal", "causal+padding"])
def test_decoder_matches_nn(norm_first, activation, masks):
    ours, ref = _decoder(norm_first, activation)
    x, mem = _x(T=6), _x(T=9, seed=1)
    am = nn_causal(6) if masks != "none" else None
    tgt_kpm = nn_key_padding([6, 4, 2], 6) if "padding" in masks else None
    mem_kpm = nn_key_padding([9, 5, 7], 9) if "padding" in masks else None
    expected = ref(x, mem, tgt_mask=am, tgt_key_padding_mask=tgt_kpm, memory_key_padding_mask=mem_kpm)
    out = ours(x, mem, self_mask=mask_from_torch(am, tgt_kpm), memory_mask=mask_from_torch(None, mem_kpm))
    assert_parity(out, expected)


@configs
def test_decoder_is_causal_matches_nn(norm_first, activation):
    ours, ref = _decoder(norm_first, activation)
    x, mem = _x(T=6), _x(T=4, seed=1)
    expected = ref(x, mem, tgt_mask=nn_causal(6), tgt_is_causal=True)
    assert_parity(ours(x, mem, is_causal=True), expected)
    assert_parity(ours(x, mem, self_mask=causal_mask(6)), expected)


def test_gradients_match_nn_in_training():
    ours, ref = _decoder(True, "gelu")
    ours.train(), ref.train()
    x, mem = _x(T=6), _x(T=5, seed=1)
    g = torch.randn(3, 6, D, generator=torch.Generator().manual_seed(3))
    (ours(x, mem, is_causal=True) * g).sum().backward()
    (ref(x, mem, tgt_mask=nn_causal(6), tgt_is_causal=True) * g).sum().backward()
    assert_parity(ours.ff.linear1.weight.grad, ref.linear1.weight.grad)
    assert_parity(ours.res_cross.norm.weight.grad, ref.norm2.weight.grad)
    assert_parity(ours.cross_attn.w_o.weight.grad, ref.multihead_attn.out_proj.weight.grad)
    ours_in = torch.cat([ours.self_attn.w_q.weight.grad, ours.self_attn.w_k.weight.grad,
                         ours.self_attn.w_v.weight.grad])
    assert_parity(ours_in, ref.self_attn.in_proj_weight.grad)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("how", ["is_causal", "mask"])
def test_decoder_block_is_causal(norm_first, how):
    """Cambiar los tokens posteriores a t no cambia las salidas hasta t."""
    torch.manual_seed(0)
    block = DecoderBlock(D, H, FF, dropout=0.0, norm_first=norm_first).eval()
    x, mem = _x(T=8), _x(T=5, seed=1)
    kw = {"is_causal": True} if how == "is_causal" else {"self_mask": causal_mask(8)}
    y = block(x, mem, **kw)
    for t in range(7):
        x2 = x.clone()
        x2[:, t + 1:] = torch.randn(3, 7 - t, D)
        y2 = block(x2, mem, **kw)
        assert torch.allclose(y[:, : t + 1], y2[:, : t + 1], atol=1e-6, rtol=0)
        assert not torch.allclose(y[:, t + 1:], y2[:, t + 1:])


def test_encoder_block_sees_the_future_without_mask():
    torch.manual_seed(0)
    block = EncoderBlock(D, H, FF, dropout=0.0).eval()
    x = _x()
    x2 = x.clone()
    x2[:, -1] += 1.0
    assert not torch.allclose(block(x)[:, 0], block(x2)[:, 0])


def test_padding_keys_do_not_change_real_outputs():
    torch.manual_seed(0)
    block = EncoderBlock(D, H, FF, dropout=0.0).eval()
    x = _x()
    x2 = x.clone()
    x2[1, 3:] = torch.randn(4, D)  # solo cambia el relleno de la secuencia 1 (longitud 3)
    mask = padding_mask([7, 3, 7], 7)
    assert torch.allclose(block(x, mask)[1, :3], block(x2, mask)[1, :3], atol=1e-6, rtol=0)


def test_decoder_without_cross_attention():
    block = DecoderBlock(D, H, FF, cross_attention=False)
    assert block.cross_attn is None and block.res_cross is None
    assert not any("cross" in name for name, _ in block.named_parameters())
    n = sum(p.numel() for p in block.parameters())
    assert n == 4 * D * D + 4 * D + 2 * D * FF + FF + D + 2 * 2 * D
    with pytest.raises(ValueError, match="cross_attention=False"):
        block(_x(), memory=_x(seed=1))


def test_block_parameter_counts_match_nn():
    assert sum(p.numel() for p in EncoderBlock(D, H, FF).parameters()) == sum(
        p.numel() for p in nn.TransformerEncoderLayer(D, H, FF).parameters())
    assert sum(p.numel() for p in DecoderBlock(D, H, FF).parameters()) == sum(
        p.numel() for p in nn.TransformerDecoderLayer(D, H, FF).parameters())
