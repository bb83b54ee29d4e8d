"""Máscara de unos y ceros en float."""

import torch


def causal_mask(T):
    return torch.ones(T, T).tril()


EJERCICIO = "mascara_causal"
ESPERADO = "debe ser booleana"
