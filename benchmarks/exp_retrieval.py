"""Dependencias globales por contenido (capítulo 9, §9.2): exactitud frente a la distancia de la aguja.

La tarea está en :mod:`transformer_lib.data.needle` y los modelos y la receta en
:mod:`transformer_lib.experiments.retrieval`; este guion recorre las semillas y los modelos y
guarda cada fila (de forma atómica) en ``--out``.

Uso (unos 5 minutos en un núcleo de la CPU de 2 núcleos, con la máquina cargada):

    python benchmarks/exp_retrieval.py --out results/retrieval.json

Prueba rápida: ``python benchmarks/exp_retrieval.py --quick`` (no escribe nada sin ``--out``).
"""

from __future__ import annotations

import argparse
from dataclasses import asdict

import torch
from _results import ResultsLog

from transformer_lib.experiments.retrieval import RETRIEVAL_MODELS, RetrievalConfig, train_retrieval


def main() -> None:
    defaults = RetrievalConfig()
    p = argparse.ArgumentParser(description="Exactitud frente a la distancia de un GPT y una LSTM de tamaño "
                                            "parecido al recuperar una aguja marcada a distancia al azar.")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--models", nargs="+", default=list(RETRIEVAL_MODELS), choices=RETRIEVAL_MODELS)
    p.add_argument("--length", type=int, default=defaults.length)
    p.add_argument("--steps", type=int, default=defaults.steps)
    p.add_argument("--batch-size", type=int, default=defaults.batch_size)
    p.add_argument("--lr", type=float, default=defaults.lr)
    p.add_argument("--num-threads", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="secuencias cortas y pocos pasos para comprobar que funciona")
    p.add_argument("--out", default=None, help="archivo JSON (p. ej. results/retrieval.json)")
    args = p.parse_args()
    if args.quick:
        args.seeds, args.length, args.steps = [0], 16, 20
    torch.set_num_threads(args.num_threads)
    config = RetrievalConfig(length=args.length, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                             eval_per_bin=8 if args.quick else defaults.eval_per_bin)
    log = ResultsLog(args.out, {k: v for k, v in vars(args).items() if k != "out"}, threads=args.num_threads,
                     config=asdict(config))
    for seed in args.seeds:
        for kind in args.models:
            r = train_retrieval(kind, seed, config)
            log.add(r)  # fila a fila y de forma atómica
            bins = "  ".join(f"{lo}–{hi}: {a:.2f}" for (lo, hi), a in zip(r["bins"], r["accuracy_by_bin"]))
            print(f"{kind:>11} semilla {seed}: {bins}  ({r['train_seconds']:.0f} s)", flush=True)
    log.finish()


if __name__ == "__main__":
    main()
