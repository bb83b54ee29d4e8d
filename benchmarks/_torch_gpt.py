"""La referencia de ``bench_train.py`` cuando no hay copia de nanoGPT: el mismo GPT con ``torch.nn``.

Embeddings de tokens y posiciones, ``nn.TransformerEncoder`` de capas
``nn.TransformerEncoderLayer`` (Pre-LN, GELU, máscara causal), LayerNorm final y salida atada a
los embeddings; AdamW con calentamiento lineal y coseno, recorte del gradiente, ventanas al
azar del Quijote. Solo usa de ``transformer_lib`` los datos (los mismos ids). Imprime una
línea JSON con ``val_loss`` y ``ms_per_iter``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from transformer_lib.data import prepare_quijote  # noqa: E402


class TorchGPT(nn.Module):
    def __init__(self, vocab: int, block: int, n_layer: int, n_head: int, d_model: int, dropout: float):
        super().__init__()
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(block, d_model)
        layer = nn.TransformerEncoderLayer(d_model, n_head, 4 * d_model, dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, n_layer, enable_nested_tensor=False)
        self.ln = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab, bias=False)
        self.head.weight = self.tok.weight
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(block), persistent=False)
        self.reset_parameters(n_layer)

    @torch.no_grad()
    def reset_parameters(self, n_layer: int) -> None:
        """La inicialización de GPT-2 (la de nanoGPT y la nuestra): N(0, 0,02) en matrices y
        embeddings (torch.nn usaría N(0, 1) en el embedding atado), sesgos a cero y las
        proyecciones que vuelven a la vía residual con 0,02/√(2L)."""
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                std = 0.02 / math.sqrt(2 * n_layer) if name.endswith(("out_proj.weight", "linear2.weight")) else 0.02
                nn.init.normal_(p, 0.0, std)
            elif "norm" in name or name.startswith("ln"):
                nn.init.ones_(p) if name.endswith("weight") else nn.init.zeros_(p)
            else:
                nn.init.zeros_(p)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        T = idx.shape[1]
        x = self.tok(idx) + self.pos(torch.arange(T, device=idx.device))  # (B, T, d_model)
        x = self.blocks(x, mask=self.mask[:T, :T], is_causal=True)
        logits = self.head(self.ln(x))  # (B, T, vocab)
        return F.cross_entropy(logits.flatten(0, 1), targets.flatten())


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--max-iters", type=int, default=2000)
    p.add_argument("--recipe", required=True, help="JSON con el modelo y la receta")
    args = p.parse_args()
    r = json.loads(args.recipe)
    torch.manual_seed(r["seed"])
    data = prepare_quijote()
    model = TorchGPT(data.tokenizer.vocab_size, r["block_size"], r["n_layer"], r["n_head"], r["d_model"],
                     r["dropout"])
    opt = torch.optim.AdamW(model.parameters(), lr=r["lr"], betas=(0.9, r["beta2"]),
                            weight_decay=r["weight_decay"])
    gen = torch.Generator().manual_seed(r["seed"])
    B, T = r["batch_size"], r["block_size"]

    def batch(ids: torch.Tensor):
        start = torch.randint(len(ids) - T - 1, (B,), generator=gen)
        rows = torch.stack([ids[s:s + T + 1] for s in start.tolist()])
        return rows[:, :-1], rows[:, 1:]

    def lr_at(step: int) -> float:
        if step < r["warmup_iters"]:
            return r["lr"] * (step + 1) / r["warmup_iters"]
        frac = (step - r["warmup_iters"]) / max(1, args.max_iters - r["warmup_iters"])
        return r["min_lr"] + 0.5 * (1 + math.cos(math.pi * frac)) * (r["lr"] - r["min_lr"])

    @torch.no_grad()
    def evaluate(ids: torch.Tensor) -> float:
        model.eval()
        loss = sum(float(model(*batch(ids))) for _ in range(r["eval_iters"])) / r["eval_iters"]
        model.train()
        return loss

    evaluate(data.train), evaluate(data.val)  # como los demás, evalúa también al principio
    t0 = time.perf_counter()
    for step in range(args.max_iters):
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        loss = model(*batch(data.train))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), r["grad_clip"])
        opt.step()
    seconds = time.perf_counter() - t0
    result = {"val_loss": round(evaluate(data.val), 4), "train_loss": round(evaluate(data.train), 4),
              "ms_per_iter": round(1e3 * seconds / args.max_iters, 2)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
