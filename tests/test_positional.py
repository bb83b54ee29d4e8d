"""Codificaciones posicionales sinusoidales y aprendidas."""

from __future__ import annotations

import math

import torch

from transformer_lib import (
    LearnedPositionalEncoding,
    SinusoidalPositionalEncoding,
    sinusoidal_encoding,
)


def test_sinusoidal_formula():
    pe = sinusoidal_encoding(50, 16)
    assert pe.shape == (50, 16)
    for pos in (0, 1, 7, 49):
        for i in range(8):
            angle = pos / 10000 ** (2 * i / 16)
            assert math.isclose(pe[pos, 2 * i].item(), math.sin(angle), abs_tol=1e-5)
            assert math.isclose(pe[pos, 2 * i + 1].item(), math.cos(angle), abs_tol=1e-5)


def test_sinusoidal_properties():
    pe = sinusoidal_encoding(100, 32)
    assert pe.abs().max() <= 1.0
    assert torch.equal(pe[0, 0::2], torch.zeros(16)) and torch.equal(pe[0, 1::2], torch.ones(16))
    # posiciones distintas, vectores distintos
    assert torch.cdist(pe, pe).fill_diagonal_(1.0).min() > 1e-3
    # cada par (sin, cos) tiene norma 1: la posición vive en círculos
    torch.testing.assert_close(pe[:, 0::2] ** 2 + pe[:, 1::2] ** 2, torch.ones(100, 16))


def test_sinusoidal_relative_offset_is_a_rotation():
    """PE[pos + k] es una rotación fija (que solo depende de k) de PE[pos]."""
    d, k = 8, 3
    pe = sinusoidal_encoding(40, d)
    freqs = 1.0 / 10000 ** (torch.arange(0, d, 2) / d)
    c, s = torch.cos(k * freqs), torch.sin(k * freqs)
    sin_, cos_ = pe[:-k, 0::2], pe[:-k, 1::2]
    torch.testing.assert_close(pe[k:, 0::2], sin_ * c + cos_ * s, atol=1e-5, rtol=0)
    torch.testing.assert_close(pe[k:, 1::2], cos_ * c - sin_ * s, atol=1e-5, rtol=0)


def test_sinusoidal_module_adds_the_table_without_parameters():
    mod = SinusoidalPositionalEncoding(16, max_len=20)
    assert sum(p.numel() for p in mod.parameters()) == 0
    x = torch.randn(2, 7, 16)
    torch.testing.assert_close(mod(x), x + sinusoidal_encoding(20, 16)[:7], rtol=0, atol=0)


def test_learned_module_adds_its_embedding():
    torch.manual_seed(0)
    mod = LearnedPositionalEncoding(16, max_len=10)
    assert sum(p.numel() for p in mod.parameters()) == 10 * 16
    x = torch.randn(3, 4, 16)
    torch.testing.assert_close(mod(x), x + mod.embedding.weight[:4], rtol=0, atol=0)
    mod(x).sum().backward()
    assert mod.embedding.weight.grad[4:].abs().sum() == 0  # las posiciones no usadas no aprenden
