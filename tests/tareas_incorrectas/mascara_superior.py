"""Triangular superior: deja ver el futuro."""

import torch


def causal_mask(T):
    return torch.ones(T, T, dtype=torch.bool).triu()


EJERCICIO = "mascara_causal"
ESPERADO = "triangular superior"
