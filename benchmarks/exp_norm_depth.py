"""Con LayerNorm o sin normalización en pilas de 4, 12 y 24 bloques (capítulo 4, §4.5).

El modelo y la receta están en :mod:`transformer_lib.experiments.norm_depth`; este guion
recorre profundidad × tasa de aprendizaje × semilla × {con LN, sin LN} y guarda cada fila, de
forma atómica, en ``--out``.

Uso (unos 12 minutos en un núcleo de la CPU de 2 núcleos, con la máquina cargada):

    python benchmarks/exp_norm_depth.py --out results/norm_depth.json

Prueba rápida: ``python benchmarks/exp_norm_depth.py --quick`` (no escribe nada sin ``--out``).
"""

from __future__ import annotations

import argparse

import torch
from _results import ResultsLog

from transformer_lib.data import prepare_quijote
from transformer_lib.experiments.norm_depth import (
    DEPTHS,
    LEARNING_RATES,
    norm_depth_grid,
    norm_depth_row,
)
from transformer_lib.experiments.stability import unigram_loss


def main() -> None:
    p = argparse.ArgumentParser(description="Pérdida de validación final de un GPT profundo con LayerNorm "
                                            "y sin normalización, en varias tasas de aprendizaje.")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--depths", type=int, nargs="+", default=list(DEPTHS))
    p.add_argument("--lrs", type=float, nargs="+", default=list(LEARNING_RATES))
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--num-threads", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="pocos pasos, una semilla, 2 bloques y una tasa")
    p.add_argument("--out", default=None, help="archivo JSON (p. ej. results/norm_depth.json)")
    args = p.parse_args()
    if args.quick:
        args.seeds, args.steps, args.depths, args.lrs = [0], 5, [2], [1e-3]
    torch.set_num_threads(args.num_threads)
    data = prepare_quijote()
    unigram = unigram_loss(data.val, data.tokenizer.vocab_size)
    log = ResultsLog(args.out, {k: v for k, v in vars(args).items() if k != "out"}, threads=args.num_threads,
                     unigram_val_loss=unigram)
    print(f"Solo frecuencias de letras: {unigram:.3f} en validación; «diverge» = no baja de ahí o no es finita")
    for run in norm_depth_grid(args.seeds, args.steps, tuple(args.depths), tuple(args.lrs)):
        row = norm_depth_row(run, data, unigram)
        log.add(row)  # fila a fila y de forma atómica
        print(f"{run.label:>18}  lr={run.lr:g}  semilla {run.seed}: {row['final_val_loss']:.3f}"
              f"{'  diverge' if row['diverged'] else ''}  ({row['train_seconds']:.1f} s)", flush=True)
    log.finish()


if __name__ == "__main__":
    main()
