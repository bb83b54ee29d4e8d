"""Empareja componentes vecinas (2i, 2i + 1), como el artículo, en lugar de (i, i + d/2)."""

import torch


def apply_rope(x, positions, theta=10000.0):
    d = x.shape[-1]
    inv_freq = theta ** (-torch.arange(0, d, 2, dtype=x.dtype) / d)
    angles = positions.to(x.dtype)[:, None] * inv_freq  # (T, d/2)
    even, odd = x[..., 0::2], x[..., 1::2]
    rotated = torch.stack([even * angles.cos() - odd * angles.sin(), odd * angles.cos() + even * angles.sin()], -1)
    return rotated.flatten(-2)


EXERCISE = "rope"
EXPECTED = "componentes vecinas"
