"""Una tabla con el texto de validación que no es un modelo: predice el carácter siguiente buscándolo.

Su «pérdida de validación» sería casi 0; el calificador lo rechaza porque sus pesos no son
los de un MiniGPT (los carga él en la arquitectura del enunciado).
"""

import torch
from torch import nn

from transformer_lib import GPTConfig
from transformer_lib.data import prepare_quijote

CONTEXT = 8


class LookupTable(nn.Module):
    def __init__(self, data):
        super().__init__()
        self.config = GPTConfig(vocab_size=data.tokenizer.vocab_size, block_size=64)
        self.register_buffer("text", data.val.clone())
        ids = data.val.tolist()
        self.following = {tuple(ids[i:i + CONTEXT]): ids[i + CONTEXT] for i in range(len(ids) - CONTEXT)}

    def forward(self, idx, targets=None):
        B, T = idx.shape
        logits = torch.full((B, T, self.config.vocab_size), -30.0)
        for b in range(B):
            for t in range(T):
                key = tuple(idx[b, max(0, t + 1 - CONTEXT):t + 1].tolist())
                logits[b, t, self.following.get(key, 0)] = 30.0
        return logits, None


model = LookupTable(prepare_quijote())

EXPECTED = "no es un MiniGPT"
