"""Olvida la diagonal."""

import torch


def causal_mask(T):
    return torch.ones(T, T, dtype=torch.bool).tril(-1)


EJERCICIO = "mascara_causal"
ESPERADO = "Te falta la diagonal"
