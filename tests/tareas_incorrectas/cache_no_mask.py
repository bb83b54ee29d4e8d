"""Sin máscara causal: los tokens nuevos ven a los nuevos posteriores."""

import math

import torch


def attend_with_cache(q, k, v, past_k, past_v):
    k_all, v_all = torch.cat([past_k, k], dim=2), torch.cat([past_v, v], dim=2)
    scores = q @ k_all.transpose(-2, -1) / math.sqrt(q.shape[-1])
    return torch.softmax(scores, dim=-1) @ v_all, k_all, v_all


EXERCISE = "cache_kv"
EXPECTED = "falta la máscara causal dentro"
