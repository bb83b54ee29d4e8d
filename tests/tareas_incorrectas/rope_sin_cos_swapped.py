"""Seno y coseno cambiados."""

import torch


def apply_rope(x, positions, theta=10000.0):
    d = x.shape[-1]
    inv_freq = theta ** (-torch.arange(0, d, 2, dtype=x.dtype) / d)
    angles = positions.to(x.dtype)[:, None] * inv_freq
    angles = torch.cat([angles, angles], -1)
    x1, x2 = x.chunk(2, -1)
    return x * angles.sin() + torch.cat([-x2, x1], -1) * angles.cos()


EXERCISE = "rope"
EXPECTED = "seno y el coseno cambiados"
