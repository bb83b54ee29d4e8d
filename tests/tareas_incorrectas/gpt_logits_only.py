"""Devuelve solo los logits."""

import torch
from _base import PreLNBlock
from torch import nn

from transformer_lib import LayerNorm


class MiniGPT(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = c = config
        self.tok_emb = nn.Embedding(c.vocab_size, c.d_model)
        self.pos_emb = nn.Embedding(c.block_size, c.d_model)
        self.blocks = nn.ModuleList(PreLNBlock(c.d_model, c.n_head, c.d_ff) for _ in range(c.n_layer))
        self.ln_f = LayerNorm(c.d_model)
        self.lm_head = nn.Linear(c.d_model, c.vocab_size, bias=False)

    def forward(self, idx, targets=None):
        x = self.tok_emb(idx) + self.pos_emb(torch.arange(idx.shape[1], device=idx.device))
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        return logits


EXERCISE = "gpt"
EXPECTED = "tupla `(logits, loss)`"
