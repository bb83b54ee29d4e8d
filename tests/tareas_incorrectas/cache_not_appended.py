"""Atiende bien pero devuelve la caché sin los tokens nuevos."""

import math

import torch


def attend_with_cache(q, k, v, past_k, past_v):
    k_all, v_all = torch.cat([past_k, k], dim=2), torch.cat([past_v, v], dim=2)
    S, t = past_k.shape[2], q.shape[2]
    scores = q @ k_all.transpose(-2, -1) / math.sqrt(q.shape[-1])
    allowed = torch.ones(t, S + t, dtype=torch.bool).tril(S)
    out = torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1) @ v_all
    return out, past_k, past_v


EXERCISE = "cache_kv"
EXPECTED = "No añades las claves y valores nuevos"
