"""Multiplica los pesos por la máscara después de la softmax."""

import math

import torch


def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    w = torch.softmax(scores, dim=-1)
    if mask is not None:
        w = w * mask
    return w @ v


EXERCISE = "atencion"
EXPECTED = "después de la softmax"
