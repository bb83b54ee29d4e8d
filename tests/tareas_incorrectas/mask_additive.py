"""Devuelve la máscara aditiva 0/−∞."""

import torch


def causal_mask(T):
    return torch.zeros(T, T).masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf"))


EXERCISE = "mascara_causal"
EXPECTED = "máscara aditiva"
