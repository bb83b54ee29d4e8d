"""Escribe en la caché que recibe (modifica past_k)."""

import math

import torch


def attend_with_cache(q, k, v, past_k, past_v):
    past_k.mul_(1.0)  # «normaliza» la caché en su sitio
    past_v.add_(0.0)
    k.mul_(2.0).div_(2.0)
    k_all, v_all = torch.cat([past_k, k], dim=2), torch.cat([past_v, v], dim=2)
    S, t = past_k.shape[2], q.shape[2]
    q.mul_(1.0 / math.sqrt(q.shape[-1]))
    scores = q @ k_all.transpose(-2, -1)
    allowed = torch.ones(t, S + t, dtype=torch.bool).tril(S)
    return torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1) @ v_all, k_all, v_all


EXERCISE = "cache_kv"
EXPECTED = "modifica sus entradas"
