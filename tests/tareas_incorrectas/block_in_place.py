"""Suma in-place sobre la entrada (x += …)."""

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
        h = self.ln_1(x)
        x += self.attn(h, h, h, is_causal=True)
        return x + self.ff(self.ln_2(x))


EXERCISE = "bloque"
EXPECTED = "modifica su entrada"
