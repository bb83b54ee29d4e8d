"""Benchmark del paralelismo de datos (issue #12): ¿qué compra un segundo núcleo?

Entrena el mismo GPT con el mismo lote global de tres formas, cada una en su proceso aparte y
con la orden de la línea de órdenes, como lo haría una persona:

- ``1×1``: un proceso con un hilo (``--num-threads 1``).
- ``1×2``: un proceso con dos hilos (el paralelismo dentro de cada multiplicación de matrices).
- ``2×1``: dos procesos de un hilo con DDP (``torchrun --standalone --nproc_per_node=2``): cada
  uno calcula medio lote y se promedian los gradientes (all-reduce por gloo).

Cada ronda ejecuta las tres variantes en un orden que rota (para que una carga pasajera de la
máquina no castigue siempre a la misma) y al final imprime la mediana de tokens/s de
entrenamiento (sin la evaluación ni el arranque) de cada una y la eficiencia de escalado:
tokens/s con dos núcleos / (2 × tokens/s con uno). Uso (en la máquina de 2 núcleos, sin nada
más corriendo):

    TRANSFORMER_LIB_DATA=/ruta/a/data python benchmarks/bench_ddp.py --out results/ddp.json

Una prueba rápida de que funciona (no mide nada útil):

    python benchmarks/bench_ddp.py --rounds 1 --max-iters 10 -- --n-layer 1 --d-model 32

No es un test: tarda unos minutos y su resultado depende de la máquina.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from _results import ResultsLog

RECIPE = ["--data", "quijote", "--n-layer", "4", "--n-head", "4", "--d-model", "128", "--block-size", "64",
          "--batch-size", "12", "--lr", "1e-3", "--dropout", "0", "--seed", "1337", "--device", "cpu",
          "--eval-interval", "0", "--final-eval-iters", "1", "--eval-iters", "1", "--no-progress",
          "--precision", "fp32"]  # la de results/ddp.json (entonces, la de train por defecto)
VARIANTS = {  # nombre: (procesos, hilos por proceso)
    "1×1": (1, 1),
    "1×2": (1, 2),
    "2×1": (2, 1),
}


def command(processes: int, threads: int, max_iters: int, extra: list[str]) -> list[str]:
    """La orden de una variante."""
    args = ["train", *RECIPE, "--max-iters", str(max_iters), "--num-threads", str(threads), *extra]
    if processes == 1:
        return [sys.executable, "-m", "transformer_lib", *args]
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
            "-m", "transformer_lib", *args]


def run_once(processes: int, threads: int, max_iters: int, extra: list[str]) -> dict:
    """Ejecuta una variante y devuelve su resumen JSON (con ``wall_seconds``, el total con arranque)."""
    env = dict(os.environ, TQDM_DISABLE="1", OMP_NUM_THREADS=str(threads))
    t0 = time.perf_counter()
    proc = subprocess.run(command(processes, threads, max_iters, extra), capture_output=True, text=True,
                          env=env, timeout=3600)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"La variante {processes}×{threads} falló ({proc.returncode}): "
                         f"{proc.stderr.strip()[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = round(wall, 2)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description="Tokens/s con 1 proceso × 1 hilo, 1 × 2 hilos y 2 procesos × 1 "
                                            "hilo (DDP), y la eficiencia de escalado.")
    p.add_argument("--rounds", type=int, default=5, help="rondas (cada una ejecuta las tres variantes)")
    p.add_argument("--max-iters", type=int, default=300, help="pasos de cada entrenamiento")
    p.add_argument("--out", default=None, help="archivo JSON de resultados (p. ej. results/ddp.json)")
    p.add_argument("extra", nargs="*", help="opciones adicionales para train (tras --), p. ej. el tamaño")
    args = p.parse_args()
    names = list(VARIANTS)
    log = ResultsLog(args.out, {"rounds": args.rounds, "max_iters": args.max_iters, "extra": args.extra},
                     threads=2, recipe=RECIPE)
    rates: dict[str, list[float]] = {name: [] for name in names}
    losses: dict[str, list[float]] = {name: [] for name in names}
    print(f"{'ronda':>5} {'variante':>8} {'tokens/s':>9} {'ms/paso':>8} {'s total':>8} {'val':>7}")
    for i in range(args.rounds):
        for name in names[i % len(names):] + names[:i % len(names)]:  # el orden rota en cada ronda
            r = run_once(*VARIANTS[name], args.max_iters, args.extra)
            log.add({"round": i + 1, "variant": name, "processes": VARIANTS[name][0],
                     "threads": VARIANTS[name][1], **r})
            rates[name].append(r["tokens_per_s"])
            losses[name].append(r["val_loss"])
            print(f"{i + 1:>5} {name:>8} {r['tokens_per_s']:9.0f} {r['ms_per_iter']:8.2f} "
                  f"{r['wall_seconds']:8.1f} {r['val_loss']:7.4f}", flush=True)
    median = {name: statistics.median(v) for name, v in rates.items()}
    print("\nMediana de tokens/s de entrenamiento:")
    for name in names:
        print(f"  {name}: {median[name]:9.0f}  (val = {statistics.median(losses[name]):.4f})")
    base = median["1×1"]
    summary = {
        "tokens_per_s": {name: round(v, 1) for name, v in median.items()},
        "efficiency_threads": round(median["1×2"] / (2 * base), 3),
        "efficiency_ddp": round(median["2×1"] / (2 * base), 3),
        "rounds": args.rounds, "max_iters": args.max_iters, "extra": args.extra,
    }
    print(f"Eficiencia de escalado con 2 núcleos (tokens/s ÷ (2 × los de 1×1)): "
          f"2 hilos {summary['efficiency_threads']:.0%}, 2 procesos DDP {summary['efficiency_ddp']:.0%}")
    print(json.dumps(summary, ensure_ascii=False))
    log.finish(summary=summary)

if __name__ == "__main__":
    main()
