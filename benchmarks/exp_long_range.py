"""Dependencias globales, aprendidas (capítulo 9, §9.2): exactitud frente a la distancia k.

La tarea y los modelos están en :mod:`transformer_lib.scaling.long_range`; este guion recorre
k, las semillas y los dos modelos, y guarda cada fila (de forma atómica) en ``--out``.

Uso (la curva completa, unos 40 minutos en un núcleo de la CPU de 2 núcleos):

    python benchmarks/exp_long_range.py --out results/long_range.json

Prueba rápida: ``python benchmarks/exp_long_range.py --quick`` (no escribe nada sin ``--out``).
"""

from __future__ import annotations

import argparse

import torch
from _results import ResultsLog

from transformer_lib.scaling.long_range import RECALL_MODELS, RecallConfig, train_recall


def main() -> None:
    p = argparse.ArgumentParser(description="Exactitud frente a la distancia k de una LSTM y un Transformer "
                                            "de tamaño parecido en una tarea de recuerdo entre distractores.")
    p.add_argument("--k", type=int, nargs="+", default=[4, 16, 64, 128, 256])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--models", nargs="+", default=list(RECALL_MODELS), choices=RECALL_MODELS)
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
    config = RecallConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, d_model=args.d_model,
                          layers=args.layers, n_symbols=args.n_symbols, eval_batches=args.eval_batches)
    log = ResultsLog(args.out, {k: v for k, v in vars(args).items() if k != "out"}, threads=args.num_threads)
    print(f"{'modelo':>16} {'k':>4} {'semilla':>7} {'exactitud':>9} {'parámetros':>10} {'s':>6}")
    for k in args.k:
        for seed in args.seeds:
            for kind in args.models:
                r = train_recall(kind, k, seed, config)
                log.add(r)  # fila a fila y de forma atómica: una interrupción no deja nada a medias
                print(f"{kind:>16} {k:>4} {seed:>7} {r['accuracy']:9.3f} {r['params']:>10} "
                      f"{r['train_seconds']:6.1f}", flush=True)
    log.finish()


if __name__ == "__main__":
    main()
