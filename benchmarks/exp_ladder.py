"""La escalera de ablación y la FFN entrenada, con varias semillas (introducción, capítulos 5, 6 y 10).

Los modelos y la receta están en :mod:`transformer_lib.experiments.ladder`; este guion entrena
cada peldaño (y el par con y sin FFN) con cada semilla y guarda cada fila, de forma atómica, en
``--out``.

Uso (unos 25 minutos en un núcleo de la CPU de 2 núcleos):

    python benchmarks/exp_ladder.py --out results/ladder.json

Prueba rápida: ``python benchmarks/exp_ladder.py --quick`` (no escribe nada sin ``--out``).
"""

from __future__ import annotations

import argparse

import torch
from _results import ResultsLog

from transformer_lib.data import prepare_quijote
from transformer_lib.experiments.ladder import (
    RUNGS,
    LadderRecipe,
    ffn_pair,
    rung_config,
    train_rung,
)


def main() -> None:
    p = argparse.ArgumentParser(description="Pérdida de validación de cada peldaño de la escalera de "
                                            "ablación y del GPT con y sin FFN, con varias semillas.")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--eval-iters", type=int, default=50)
    p.add_argument("--num-threads", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="pocos pasos y una semilla, para comprobar que funciona")
    p.add_argument("--out", default=None, help="archivo JSON (p. ej. results/ladder.json)")
    args = p.parse_args()
    if args.quick:
        args.seeds, args.steps, args.eval_iters = [0], 20, 2
    torch.set_num_threads(args.num_threads)
    data = prepare_quijote()
    vocab = data.tokenizer.vocab_size
    recipe = LadderRecipe(steps=args.steps, batch_size=args.batch_size, lr=args.lr, eval_iters=args.eval_iters)
    log = ResultsLog(args.out, {k: v for k, v in vars(args).items() if k != "out"}, threads=args.num_threads,
                     rungs=[[key, label] for key, label, _ in RUNGS])
    print(f"{'experimento':>10} {'modelo':>26} {'semilla':>7} {'pasos':>6} {'validación':>10} {'s':>6}")
    jobs = [("ladder", label, rung_config(key, vocab), None, key) for key, label, _ in RUNGS]
    jobs += [("ffn", name, config, steps, name) for name, config, steps in ffn_pair(vocab, steps=args.steps,
                                                                                    batch_size=args.batch_size)]
    for seed in args.seeds:
        for experiment, label, config, steps, key in jobs:
            row = train_rung(config, data, seed, recipe, steps)
            log.add({"experiment": experiment, "key": key, "label": label, **row})  # fila a fila, atómico
            print(f"{experiment:>10} {label:>26} {seed:>7} {row['steps']:>6} {row['val_loss']:10.4f} "
                  f"{row['train_seconds']:6.1f}", flush=True)
    log.finish()


if __name__ == "__main__":
    main()
