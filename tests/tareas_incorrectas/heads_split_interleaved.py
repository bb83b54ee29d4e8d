"""Parte con view(B, T, d_k, h): intercala columnas."""

def split_heads(x, n_heads):
    B, T, D = x.shape
    return x.view(B, T, D // n_heads, n_heads).permute(0, 3, 1, 2)


def merge_heads(x):
    B, h, T, d_k = x.shape
    return x.transpose(1, 2).reshape(B, T, h * d_k)


EXERCISE = "cabezas"
EXPECTED = "intercala"
