"""Parte con un view directo a (B, h, T, d_k): mezcla cabezas."""

def split_heads(x, n_heads):
    B, T, D = x.shape
    return x.view(B, n_heads, T, D // n_heads)


def merge_heads(x):
    B, h, T, d_k = x.shape
    return x.transpose(1, 2).reshape(B, T, h * d_k)


EXERCISE = "cabezas"
EXPECTED = "Mezclas las cabezas al partir"
