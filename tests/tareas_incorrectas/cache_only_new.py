"""Amplía la caché pero atiende solo a los tokens nuevos."""

import math

import torch


def attend_with_cache(q, k, v, past_k, past_v):
    t = q.shape[2]
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    allowed = torch.ones(t, t, dtype=torch.bool).tril()
    out = torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1) @ v
    return out, torch.cat([past_k, k], dim=2), torch.cat([past_v, v], dim=2)


EXERCISE = "cache_kv"
EXPECTED = "solo atienden a los nuevos"
