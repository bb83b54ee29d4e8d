"""Máscara de unos y ceros en float."""

import torch


def causal_mask(T):
    return torch.ones(T, T).tril()


EXERCISE = "mascara_causal"
EXPECTED = "debe ser booleana"
