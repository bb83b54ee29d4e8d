"""Gira x en su sitio (modifica la entrada)."""

import torch


def apply_rope(x, positions, theta=10000.0):
    d = x.shape[-1]
    inv_freq = theta ** (-torch.arange(0, d, 2, dtype=x.dtype) / d)
    angles = positions.to(x.dtype)[:, None] * inv_freq
    angles = torch.cat([angles, angles], -1)
    x1, x2 = x.chunk(2, -1)
    rotated = torch.cat([-x2, x1], -1)
    x.mul_(angles.cos()).add_(rotated * angles.sin())
    return x


EXERCISE = "rope"
EXPECTED = "modifica su entrada"
