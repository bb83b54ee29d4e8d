"""Post-LN frente a Pre-LN: el barrido de 32 combinaciones, con varias semillas (capítulo 4, §4.5).

El modelo y la receta están en :mod:`transformer_lib.experiments.stability` (los mismos que usa
el capítulo); este guion recorre {Post-LN, Pre-LN} × {inicialización GPT-2, σ = 1} × {2, 8
bloques} × {lr 1e-3, 3e-3} × {calentamiento 0, 100} con cada semilla y guarda cada fila, de
forma atómica, en ``--out``.

Uso (unos 20 minutos en un núcleo de la CPU de 2 núcleos):

    python benchmarks/exp_stability.py --out results/stability.json

Prueba rápida: ``python benchmarks/exp_stability.py --quick`` (no escribe nada sin ``--out``).
"""

from __future__ import annotations

import argparse

import torch
from _results import ResultsLog

from transformer_lib.data import prepare_quijote
from transformer_lib.experiments.stability import (
    STUCK_MARGIN,
    stability_grid,
    stability_row,
    unigram_loss,
)


def main() -> None:
    p = argparse.ArgumentParser(description="Pérdida de validación final de Post-LN y Pre-LN en 32 "
                                            "combinaciones de inicialización, profundidad, tasa y calentamiento.")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--num-threads", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="pocos pasos, una semilla y solo 2 bloques")
    p.add_argument("--out", default=None, help="archivo JSON (p. ej. results/stability.json)")
    args = p.parse_args()
    if args.quick:
        args.seeds, args.steps = [0], 10
    torch.set_num_threads(args.num_threads)
    data = prepare_quijote()
    unigram = unigram_loss(data.val, data.tokenizer.vocab_size)
    threshold = unigram - STUCK_MARGIN
    log = ResultsLog(args.out, {k: v for k, v in vars(args).items() if k != "out"}, threads=args.num_threads,
                     unigram_val_loss=unigram, stuck_below=threshold)
    print(f"Solo frecuencias de letras: {unigram:.3f} en validación; «atascado» = no baja de {threshold:.3f}")
    for run in stability_grid(args.seeds, args.steps):
        if args.quick and run.n_layer > 2:
            continue
        row = stability_row(run, data, threshold)
        log.add(row)  # fila a fila y de forma atómica
        print(f"{run.label:>27}  lr={run.lr:g}  calentamiento={run.warmup:>3}  semilla {run.seed}: "
              f"{row['final_val_loss']:.3f}{'  atascado' if row['stuck'] else ''}  ({row['train_seconds']:.1f} s)",
              flush=True)
    log.finish()


if __name__ == "__main__":
    main()
