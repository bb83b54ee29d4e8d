"""Un MiniGPT sin máscara causal entrenado 250 pasos: «ve» el carácter que tiene que predecir.

Su propia pérdida de validación es bajísima porque copia el futuro; el calificador lo
rechaza por lo que hace el modelo (mira al futuro), no por el número que imprimiría.
"""

import torch
import torch.nn.functional as F
from torch import nn

from transformer_lib import FeedForward, GPTConfig, LayerNorm, MultiHeadAttention, set_seed
from transformer_lib.data import prepare_quijote
from transformer_lib.training import TrainConfig, train


class PreLNBlock(nn.Module):
    def __init__(self, d_model, n_heads, d_ff):
        super().__init__()
        self.ln_1 = LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_heads)
        self.ln_2 = LayerNorm(d_model)
        self.ff = FeedForward(d_model, d_ff, activation="gelu")

    def forward(self, x):
        h = self.ln_1(x)
        x = x + self.attn(h, h, h)  # sin is_causal: cada posición ve toda la secuencia
        return x + self.ff(self.ln_2(x))


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
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        return logits, loss


data = prepare_quijote()
config = GPTConfig(vocab_size=data.tokenizer.vocab_size, block_size=32, n_layer=2, n_head=2, d_model=64)
set_seed(0)
model = MiniGPT(config)
history = train(model, TrainConfig(max_iters=250, batch_size=12, block_size=config.block_size, lr=1e-3,
                                   eval_interval=0, eval_iters=5, final_eval_iters=5, progress=False), data=data)
OWN_VALIDATION_LOSS = history.final_val_loss  # la que imprimiría el cuaderno: muy por debajo del umbral

EXPECTED = "mira al futuro"
