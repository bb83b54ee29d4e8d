"""Compara la velocidad de transformer_lib con las piezas equivalentes de torch.nn (en CPU).

Dos medidas, cada una frente a su referencia de PyTorch:

1. Atención multicabeza, forward + backward: nuestra ``MultiHeadAttention`` frente a
   ``nn.MultiheadAttention`` (autoatención, ``need_weights=False``; B=16, T=128,
   d_model=256, 8 cabezas).
2. Un paso de entrenamiento completo (forward, backward y AdamW) del GPT bebé (vocabulario
   92, block_size 64, lote 12, 4 capas, 4 cabezas, d_model 128, dropout 0) frente a un modelo
   con los mismos parámetros construido con ``nn.TransformerEncoderLayer(norm_first=True,
   activation="gelu", batch_first=True)`` y máscara causal.

Las dos variantes se miden intercaladas (A B B A A B …) después de un calentamiento, para
que el ruido de una máquina compartida afecte a las dos por igual; se informa de las
medianas y de su cociente. El objetivo es un cociente ≤ 1,05.

Uso::

    python benchmarks/bench_speed.py          # medida completa (≈ 1 minuto)
    python benchmarks/bench_speed.py --quick  # comprobación rápida (≈ 10 s), más ruidosa
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from transformer_lib import GPT, GPTConfig, MultiHeadAttention

TARGET = 1.05


# ----------------------------------------------------------------------------------------
# Modelo de referencia hecho con torch.nn
# ----------------------------------------------------------------------------------------


class TorchGPT(nn.Module):
    """El GPT bebé con bloques ``nn.TransformerEncoderLayer`` (Pre-LN, GELU, máscara causal).

    Mismos parámetros que nuestro :class:`GPT`: embeddings de tokens y posiciones,
    n_layer bloques, LayerNorm final y proyección atada a los embeddings.

    Formas:
        idx: (B, T); logits: (B, T, vocab_size).
    """

    def __init__(self, c: GPTConfig):
        super().__init__()
        self.tok_emb = nn.Embedding(c.vocab_size, c.d_model)
        self.pos_emb = nn.Embedding(c.block_size, c.d_model)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(c.d_model, c.n_head, c.d_ff, dropout=c.dropout,
                                       activation="gelu", batch_first=True, norm_first=True)
            for _ in range(c.n_layer)
        )
        self.ln_f = nn.LayerNorm(c.d_model)
        self.lm_head = nn.Linear(c.d_model, c.vocab_size, bias=False)
        self.lm_head.weight = self.tok_emb.weight  # pesos atados
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(c.block_size))

    def forward(self, idx: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        T = idx.shape[1]
        x = self.tok_emb(idx) + self.pos_emb.weight[:T]  # (B, T, d_model)
        mask = self.mask[:T, :T]
        for block in self.blocks:
            x = block(x, src_mask=mask, is_causal=True)
        logits = self.lm_head(self.ln_f(x))  # (B, T, vocab_size)
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.reshape(-1))


# ----------------------------------------------------------------------------------------
# Medición intercalada
# ----------------------------------------------------------------------------------------


def interleaved(
    fn_a: Callable[[], object], fn_b: Callable[[], object], rounds: int, inner: int, warmup: int
) -> tuple[list[float], list[float]]:
    """Mide ``fn_a`` y ``fn_b`` alternándolas; devuelve los ms por llamada de cada ronda."""
    for _ in range(warmup):
        fn_a()
        fn_b()
    times_a, times_b = [], []
    for r in range(rounds):
        order = ((fn_a, times_a), (fn_b, times_b))
        if r % 2:  # A B, luego B A: ninguna de las dos va siempre primero
            order = order[::-1]
        for fn, times in order:
            t0 = time.perf_counter()
            for _ in range(inner):
                fn()
            times.append((time.perf_counter() - t0) * 1e3 / inner)
    return times_a, times_b


def report(title: str, ours: list[float], ref: list[float], ref_name: str) -> float:
    """Imprime medianas y cocientes; devuelve el cociente de medianas."""
    med_ours, med_ref = statistics.median(ours), statistics.median(ref)
    ratio = med_ours / med_ref
    paired = statistics.median(a / b for a, b in zip(ours, ref))
    verdict = "CUMPLE" if ratio <= TARGET else "NO CUMPLE"
    print(f"\n{title}")
    print(f"  transformer_lib : mediana {med_ours:8.2f} ms  ({len(ours)} rondas)")
    print(f"  {ref_name:<15} : mediana {med_ref:8.2f} ms")
    print(f"  cociente de medianas: {ratio:.3f}  (mediana de cocientes por ronda: {paired:.3f})")
    print(f"  objetivo ≤ {TARGET:.2f}: {verdict}")
    return ratio


def bench_attention(rounds: int, inner: int, warmup: int) -> float:
    B, T, d_model, n_heads = 16, 128, 256, 8
    torch.manual_seed(0)
    ours = MultiHeadAttention(d_model, n_heads)
    ref = nn.MultiheadAttention(d_model, n_heads, batch_first=True)
    x = torch.randn(B, T, d_model, requires_grad=True)

    def step_ours():
        ours(x, x, x).sum().backward()

    def step_ref():
        ref(x, x, x, need_weights=False)[0].sum().backward()

    t_ours, t_ref = interleaved(step_ours, step_ref, rounds, inner, warmup)
    title = f"Atención multicabeza, forward + backward (B={B}, T={T}, d_model={d_model}, h={n_heads})"
    return report(title, t_ours, t_ref, "nn.MHA")


def bench_gpt(rounds: int, inner: int, warmup: int) -> float:
    config = GPTConfig(vocab_size=92, block_size=64, n_layer=4, n_head=4, d_model=128, dropout=0.0)
    batch = 12
    torch.manual_seed(0)
    ours, ref = GPT(config), TorchGPT(config)
    n_ours = ours.count_parameters().total
    n_ref = sum(p.numel() for p in ref.parameters())
    if n_ours != n_ref:
        raise RuntimeError(f"Los modelos no son comparables: {n_ours} frente a {n_ref} parámetros.")
    opt_ours = torch.optim.AdamW(ours.parameters(), lr=1e-3)
    opt_ref = torch.optim.AdamW(ref.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, config.vocab_size, (batch, config.block_size), generator=gen)
    y = torch.randint(0, config.vocab_size, (batch, config.block_size), generator=gen)

    def step_ours():
        _, loss = ours(x, y)
        opt_ours.zero_grad(set_to_none=True)
        loss.backward()
        opt_ours.step()

    def step_ref():
        loss = ref(x, y)
        opt_ref.zero_grad(set_to_none=True)
        loss.backward()
        opt_ref.step()

    t_ours, t_ref = interleaved(step_ours, step_ref, rounds, inner, warmup)
    n_txt = f"{n_ours:,}".replace(",", ".")  # separador de miles en español
    title = f"Paso de entrenamiento del GPT bebé con AdamW ({n_txt} parámetros, lote {batch}, T={config.block_size})"
    return report(title, t_ours, t_ref, "torch.nn")


def main() -> None:
    parser = argparse.ArgumentParser(description="Velocidad de transformer_lib frente a torch.nn en CPU.")
    parser.add_argument("--quick", action="store_true", help="menos rondas: más rápido y más ruidoso")
    parser.add_argument("--solo", choices=("atencion", "gpt"), help="mide solo una de las dos pruebas")
    args = parser.parse_args()
    rounds, inner, warmup = (6, 3, 3) if args.quick else (20, 5, 10)
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} hilos"
          f"{' (modo rápido)' if args.quick else ''}")
    ratios = {}
    if args.solo in (None, "atencion"):
        ratios["atención"] = bench_attention(rounds, inner, warmup)
    if args.solo in (None, "gpt"):
        ratios["GPT"] = bench_gpt(rounds, inner, warmup)
    summary = ", ".join(f"{k} {v:.3f}" for k, v in ratios.items())
    ok = all(v <= TARGET for v in ratios.values())
    print(f"\nResumen (cociente transformer_lib / torch.nn): {summary} -> "
          f"{'todo dentro del objetivo' if ok else 'hay cocientes por encima del objetivo'}.")


if __name__ == "__main__":
    main()
