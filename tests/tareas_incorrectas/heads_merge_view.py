"""Junta con view sobre un tensor no contiguo."""

def split_heads(x, n_heads):
    B, T, D = x.shape
    return x.view(B, T, n_heads, D // n_heads).transpose(1, 2)


def merge_heads(x):
    B, h, T, d_k = x.shape
    return x.transpose(1, 2).view(B, T, h * d_k)


EXERCISE = "cabezas"
EXPECTED = "no funciona sobre tensores no contiguos"
