"""Triangular superior: deja ver el futuro."""

import torch


def causal_mask(T):
    return torch.ones(T, T, dtype=torch.bool).triu()


EXERCISE = "mascara_causal"
EXPECTED = "triangular superior"
