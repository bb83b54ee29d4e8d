"""Envuelve nn.MultiheadAttention."""

from torch import nn


class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.mha = nn.MultiheadAttention(d_model, n_heads, batch_first=True)

    def forward(self, query, key, value, mask=None):
        return self.mha(query, key, value, attn_mask=None if mask is None else ~mask)[0]


EXERCISE = "multihead"
EXPECTED = "escribirla tú"
