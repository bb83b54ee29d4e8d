"""Calcula los ángulos en float32 aunque x sea float64."""

import torch


def apply_rope(x, positions, theta=10000.0):
    d = x.shape[-1]
    inv_freq = theta ** (-torch.arange(0, d, 2).float() / d)
    angles = positions.float()[:, None] * inv_freq
    angles = torch.cat([angles, angles], -1)
    x1, x2 = x.chunk(2, -1)
    return x * angles.cos().to(x.dtype) + torch.cat([-x2, x1], -1) * angles.sin().to(x.dtype)


EXERCISE = "rope"
EXPECTED = "ángulos en float32"
