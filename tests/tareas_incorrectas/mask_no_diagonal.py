"""Olvida la diagonal."""

import torch


def causal_mask(T):
    return torch.ones(T, T, dtype=torch.bool).tril(-1)


EXERCISE = "mascara_causal"
EXPECTED = "Te falta la diagonal"
