"""Benchmark del entrenamiento de referencia (issue #4): el GPT pequeño sobre el Quijote.

Ejecuta exactamente la orden de la línea de órdenes (en un proceso aparte, como lo haría una
persona) y resume la última línea JSON:

    python -m transformer_lib train --data quijote --n-layer 4 --n-head 4 --d-model 128 \\
        --block-size 64 --batch-size 12 --max-iters 2000 --lr 1e-3 --dropout 0 --seed 1337 --out DIR

Objetivo: pérdida de validación <= 1.70 tras 2000 pasos en <= 70 s de entrenamiento en la CPU de
2 núcleos del proyecto (nanoGPT: 1.689 en 71 s). Uso:

    TRANSFORMER_LIB_DATA=/ruta/a/data python benchmarks/bench_train.py [--precision fp32 bf16] \\
        [--repeat 1] [--max-iters 2000] [--threads 2]

No es un test: tarda alrededor de un minuto por ejecución y su tiempo depende de la máquina.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

RECIPE = ["--data", "quijote", "--n-layer", "4", "--n-head", "4", "--d-model", "128",
          "--block-size", "64", "--batch-size", "12", "--lr", "1e-3", "--dropout", "0",
          "--seed", "1337"]


def run_once(precision: str, max_iters: int, threads: int | None, extra: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "transformer_lib", "train", *RECIPE, "--max-iters", str(max_iters),
               "--precision", precision, "--out", out, "--no-progress", *extra]
        if threads:
            cmd += ["--num-threads", str(threads)]
        env = dict(os.environ, TQDM_DISABLE="1")
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"La orden falló ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = round(wall, 2)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description="Benchmark del GPT de referencia sobre el Quijote.")
    p.add_argument("--precision", nargs="+", default=["auto"], help="precisiones a comparar")
    p.add_argument("--repeat", type=int, default=1, help="repeticiones de cada variante")
    p.add_argument("--max-iters", type=int, default=2000)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("extra", nargs="*", help="opciones adicionales para train (tras --)")
    args = p.parse_args()
    print(f"{'precisión':>9} {'val':>7} {'train':>7} {'s entren.':>9} {'s total':>8} "
          f"{'ms/paso':>8} {'tokens/s':>9}")
    for _ in range(args.repeat):
        for precision in args.precision:
            r = run_once(precision, args.max_iters, args.threads, args.extra)
            print(f"{precision:>9} {r['val_loss']:7.4f} {r['train_loss']:7.4f} {r['seconds']:9.1f} "
                  f"{r['wall_seconds']:8.1f} {r['ms_per_iter']:8.2f} {r['tokens_per_s']:9.0f}", flush=True)
            print(json.dumps(r, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
