"""Una cabeza frente a varias, con muchas semillas (capítulo 2, §2.3).

La tarea, el modelo y el entrenamiento están en :mod:`transformer_lib.experiments.heads` (el
capítulo comprueba que son los suyos); este guion los repite con cada semilla y cada número de
cabezas y guarda cada fila, de forma atómica, en ``--out``.

Uso (un par de minutos en un núcleo):

    python benchmarks/exp_heads.py --out results/heads.json

Prueba rápida: ``python benchmarks/exp_heads.py --quick`` (no escribe nada sin ``--out``).
"""

from __future__ import annotations

import argparse

import torch
from _results import ResultsLog

from transformer_lib.experiments.heads import HeadsRun, heads_row


def main() -> None:
    p = argparse.ArgumentParser(description="Exactitud de los modelos de 1, 2 y 4 cabezas en la tarea "
                                            "de las dos relaciones, con varias semillas.")
    p.add_argument("--heads", type=int, nargs="+", default=[1, 2, 4, 8])
    p.add_argument("--seeds", type=int, nargs="+", default=list(range(12)))
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--num-threads", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="pocos pasos y dos semillas")
    p.add_argument("--out", default=None, help="archivo JSON (p. ej. results/heads.json)")
    args = p.parse_args()
    if args.quick:
        args.seeds, args.steps = [0, 1], 20
    torch.set_num_threads(args.num_threads)
    log = ResultsLog(args.out, {k: v for k, v in vars(args).items() if k != "out"}, threads=args.num_threads)
    print(f"{'cabezas':>7} {'semilla':>7} {'pérdida':>8} {'pareja':>7} {'resuelta':>8} {'s':>5}")
    for seed in args.seeds:
        for n_heads in args.heads:
            row = heads_row(HeadsRun(n_heads, seed, steps=args.steps))
            log.add(row)  # fila a fila y de forma atómica
            print(f"{n_heads:>7} {seed:>7} {row['final_loss']:8.3f} {row['pair']:7.2f} {str(row['solved']):>8} "
                  f"{row['train_seconds']:5.1f}", flush=True)
    log.finish()


if __name__ == "__main__":
    main()
