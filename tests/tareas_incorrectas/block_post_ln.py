"""Post-LN en lugar de Pre-LN."""

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
        x = self.ln_1(x + self.attn(x, x, x, is_causal=True))
        return self.ln_2(x + self.ff(x))


EXERCISE = "bloque"
EXPECTED = "Post-LN"
