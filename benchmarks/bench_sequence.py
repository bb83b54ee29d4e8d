"""Paralelismo sobre la secuencia (capítulo 9, §9.1): un paso de entrenamiento frente a T.

Para T de 16 a 1024 y con 1 y 2 hilos, mide un paso de entrenamiento (hacia delante + atrás)
de un bloque Transformer de la biblioteca, una ``nn.LSTM`` con los mismos parámetros y la
misma celda en un bucle de Python (:mod:`transformer_lib.scaling.sequence`), con lotes de
``--tokens`` tokens. Por caso: mediana del tiempo por paso, tokens/s, pasos secuenciales y
FLOPs de lo que cada núcleo calcula (la mitad causal de la atención), contrastados con
``FlopCounterMode`` (que cuenta la matriz T×T entera).

Uso (la rejilla completa, con la máquina de 2 núcleos sin nada más corriendo; unos minutos):

    python benchmarks/bench_sequence.py --out results/sequence_parallelism.json

Prueba rápida: ``python benchmarks/bench_sequence.py --quick`` (no escribe nada sin ``--out``).
"""

from __future__ import annotations

import argparse

from _results import ResultsLog

from transformer_lib.scaling.sequence import measure_sequence_step


def main() -> None:
    p = argparse.ArgumentParser(description="Un paso de entrenamiento de un bloque Transformer frente a una "
                                            "LSTM y un bucle recurrente, para T de 16 a 1024, con 1 y 2 hilos.")
    p.add_argument("--T", type=int, nargs="+", default=[16, 32, 64, 128, 256, 512, 1024])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--tokens", type=int, default=4096, help="tokens por lote: B = tokens / T (al menos 1)")
    p.add_argument("--reps", type=int, default=5, help="pasos medidos por caso (al menos)")
    p.add_argument("--min-seconds", type=float, default=1.0, help="segundos medidos por caso (al menos)")
    p.add_argument("--models", nargs="+", default=["transformer", "lstm", "loop"])
    p.add_argument("--quick", action="store_true", help="rejilla diminuta para comprobar que funciona")
    p.add_argument("--out", default=None, help="archivo JSON de resultados (p. ej. results/sequence_parallelism.json)")
    args = p.parse_args()
    if args.quick:
        args.T, args.reps, args.min_seconds, args.d_model, args.tokens = [16, 64], 2, 0.0, 32, 256
    log = ResultsLog(args.out, {k: v for k, v in vars(args).items() if k != "out"}, threads=max(args.threads))
    print(f"{'modelo':>11} {'T':>5} {'hilos':>5} {'pasos sec.':>10} {'ms/paso':>9} {'tokens/s':>10} "
          f"{'GFLOP/s':>8} {'FLOP/contador':>13}")
    for T in args.T:
        B = max(1, args.tokens // T)
        for threads in args.threads:
            for kind in args.models:
                r = measure_sequence_step(kind, args.d_model, args.n_head, B, T, threads, args.reps,
                                          args.min_seconds)
                log.add(r)  # caso a caso y de forma atómica: una interrupción no deja nada a medias
                ratio = f"{r['flops_full_matrix'] / r['flops_counter']:.3f}" if r["flops_counter"] else "-"
                print(f"{kind:>11} {T:>5} {threads:>5} {r['sequential_steps']:>10} {r['ms_per_step']:9.2f} "
                      f"{r['tokens_per_s']:10.0f} {r['gflops_per_s']:8.2f} {ratio:>13}", flush=True)
    log.finish()


if __name__ == "__main__":
    main()
