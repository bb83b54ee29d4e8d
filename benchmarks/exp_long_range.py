"""Dependencias globales, aprendidas (issue #12, parte 3): recordar un símbolo k pasos atrás.

La tarea: en una secuencia de símbolos al azar aparece un marcador ``M`` seguido del símbolo
``s`` que hay que recordar; k posiciones después de ``s`` llega la pregunta ``Q`` y la respuesta
correcta en esa posición es ``s``. Entre ``s`` y ``Q`` hay k - 1 distractores (de los mismos
símbolos), y el marcador empieza en una posición al azar de las primeras k/4, así que no basta
con mirar una posición fija::

    … d d M s d d d … d Q d …      (s está k posiciones antes de Q)

Para cada k se entrena desde cero un GPT de la biblioteca y una LSTM con un número parecido de
parámetros, con el mismo presupuesto (pasos × lote, mismos ejemplos), y se mide la exactitud
en la posición de ``Q`` sobre secuencias nuevas. El azar (1/n_symbols) es el suelo.

Uso (la curva completa, unos minutos por caso en la CPU de 2 núcleos):

    python benchmarks/exp_long_range.py --out results/long_range.json

Prueba rápida: ``python benchmarks/exp_long_range.py --quick`` (no escribe nada sin ``--out``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

from transformer_lib import GPT, GPTConfig
from transformer_lib.environment import describe_environment, git_commit
from transformer_lib.files import write_json_atomic


def make_batch(k: int, batch: int, n_symbols: int, generator: torch.Generator) -> tuple[torch.Tensor, ...]:
    """Un lote de la tarea de recuerdo a distancia ``k``.

    Devuelve:
        ``(x, query_pos, answer)``: las secuencias, la posición de ``Q`` en cada una y el símbolo
        que hay que responder allí.

    Formas:
        x: (B, T) con T = k + k // 4 + 3; query_pos, answer: (B,).
    """
    marker, query = n_symbols, n_symbols + 1
    T = k + k // 4 + 3
    x = torch.randint(n_symbols, (batch, T), generator=generator)
    start = torch.randint(k // 4 + 1, (batch,), generator=generator)  # posición de M
    rows = torch.arange(batch)
    answer = x[rows, start + 1].clone()
    x[rows, start] = marker
    query_pos = start + 1 + k
    x[rows, query_pos] = query
    return x, query_pos, answer


class LSTMModel(nn.Module):
    """Embedding → LSTM → proyección al vocabulario."""

    def __init__(self, vocab: int, d: int, hidden: int, layers: int):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.lstm = nn.LSTM(d, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.lstm(self.emb(x))  # (B, T, H)
        return self.head(h)  # (B, T, V)


def build(kind: str, vocab: int, T: int, d: int, layers: int) -> nn.Module:
    """El GPT (``n_layer=layers``, ``d_model=d``) o una LSTM de ``layers`` capas con los mismos
    parámetros, más o menos (se busca el tamaño oculto que más se acerca)."""
    gpt = GPT(GPTConfig(vocab_size=vocab, block_size=T, n_layer=layers, n_head=4, d_model=d, dropout=0.0))
    if kind == "transformer":
        return gpt
    target = gpt.count_parameters().non_embedding
    hidden = min(range(8, 4 * d), key=lambda h: abs(
        sum(p.numel() for p in nn.LSTM(d, h, num_layers=layers).parameters()) - target))
    return LSTMModel(vocab, d, hidden, layers)


def logits_of(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    out = model(x)
    return out[0] if isinstance(out, tuple) else out  # (B, T, V)


def run(kind: str, k: int, seed: int, args) -> dict:
    """Entrena un modelo para una distancia ``k`` y mide su exactitud."""
    torch.manual_seed(seed)
    vocab = args.n_symbols + 2
    T = k + k // 4 + 3
    model = build(kind, vocab, T, args.d_model, args.layers)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    gen = torch.Generator().manual_seed(1000 + seed)
    rows = torch.arange(args.batch_size)
    t0 = time.perf_counter()
    for step in range(args.steps):
        for group in opt.param_groups:  # calentamiento lineal corto
            group["lr"] = args.lr * min(1.0, (step + 1) / 100)
        x, qpos, answer = make_batch(k, args.batch_size, args.n_symbols, gen)
        loss = F.cross_entropy(logits_of(model, x)[rows, qpos], answer)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    seconds = time.perf_counter() - t0
    model.eval()
    test_gen = torch.Generator().manual_seed(10_000 + seed)
    correct = 0
    with torch.no_grad():
        for _ in range(args.eval_batches):
            x, qpos, answer = make_batch(k, args.batch_size, args.n_symbols, test_gen)
            pred = logits_of(model, x)[rows, qpos].argmax(-1)
            correct += int((pred == answer).sum())
    return {"model": kind, "k": k, "seed": seed, "accuracy": correct / (args.eval_batches * args.batch_size),
            "chance": 1 / args.n_symbols, "params": sum(p.numel() for p in model.parameters()),
            "final_train_loss": round(loss.item(), 4), "steps": args.steps, "batch_size": args.batch_size,
            "train_seconds": round(seconds, 1)}


def main() -> None:
    p = argparse.ArgumentParser(description="Exactitud frente a la distancia k de una LSTM y un Transformer "
                                            "de tamaño parecido en una tarea de recuerdo entre distractores.")
    p.add_argument("--k", type=int, nargs="+", default=[4, 16, 64, 128, 256])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--models", nargs="+", default=["transformer", "lstm"])
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--d-model", type=int, default=64)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--n-symbols", type=int, default=16)
    p.add_argument("--eval-batches", type=int, default=32)
    p.add_argument("--num-threads", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="casos diminutos para comprobar que funciona")
    p.add_argument("--out", default=None, help="archivo JSON (p. ej. results/long_range.json)")
    args = p.parse_args()
    if args.quick:
        args.k, args.seeds, args.steps, args.eval_batches = [4, 16], [0], 30, 2
    torch.set_num_threads(args.num_threads)
    results = {"command": " ".join(["python", "benchmarks/exp_long_range.py", *sys.argv[1:]]),
               "settings": {k: v for k, v in vars(args).items() if k != "out"},
               "environment": {**describe_environment(torch_threads=args.num_threads), "git_commit": git_commit()},
               "rows": [], "complete": False}
    t0 = time.perf_counter()
    print(f"{'modelo':>11} {'k':>4} {'semilla':>7} {'exactitud':>9} {'parámetros':>10} {'s':>6}")
    for k in args.k:
        for seed in args.seeds:
            for kind in args.models:
                r = run(kind, k, seed, args)
                results["rows"].append(r)
                print(f"{kind:>11} {k:>4} {seed:>7} {r['accuracy']:9.3f} {r['params']:>10} "
                      f"{r['train_seconds']:6.1f}", flush=True)
                if args.out:  # fila a fila y de forma atómica: una interrupción no deja nada a medias
                    write_json_atomic(args.out, {**results, "wall_seconds": round(time.perf_counter() - t0, 1)})
    if args.out:
        results.update(complete=True, wall_seconds=round(time.perf_counter() - t0, 1))
        write_json_atomic(args.out, results)
        print(f"Resultados en {args.out} ({results['wall_seconds'] / 60:.1f} minutos)")

if __name__ == "__main__":
    main()
