"""Máscara al revés en el bloque: cada posición atiende solo a las siguientes (el futuro)."""

import torch
from torch import nn

from transformer_lib import FeedForward, LayerNorm, MultiHeadAttention


class PreLNBlock(nn.Module):
    def __init__(self, d_model, n_heads, d_ff):
        super().__init__()
        self.ln_1 = LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_heads)
        self.ln_2 = LayerNorm(d_model)
        self.ff = FeedForward(d_model, d_ff, activation="gelu")

    def forward(self, x):
        T = x.shape[1]
        future = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)  # j > i
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, mask=future)
        return x + self.ff(self.ln_2(x))


EXERCISE = "bloque"
EXPECTED = "mira al futuro"
