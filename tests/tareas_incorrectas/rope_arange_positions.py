"""Ignora las posiciones que recibe y usa 0 … T − 1."""

import torch


def apply_rope(x, positions, theta=10000.0):
    d, T = x.shape[-1], x.shape[-2]
    inv_freq = theta ** (-torch.arange(0, d, 2, dtype=x.dtype) / d)
    angles = torch.arange(T, dtype=x.dtype)[:, None] * inv_freq
    angles = torch.cat([angles, angles], -1)
    x1, x2 = x.chunk(2, -1)
    return x * angles.cos() + torch.cat([-x2, x1], -1) * angles.sin()


EXERCISE = "rope"
EXPECTED = "Ignoras `positions`"
