"""Cuánto acelera la caché KV la generación (capítulo 11): tiempo por token con y sin caché.

Sin caché, cada token nuevo vuelve a pasar todo el contexto por el modelo (O(T) trabajo por
token, O(T²) en total); con ``GPT.generate(..., use_cache=True)`` solo pasa el token nuevo y
reutiliza las claves y valores guardados. Para 64, 128, 256, 512 y 1024 tokens nuevos se
mide el tiempo por token generado de las dos variantes, intercaladas (A B B A …) para que el
ruido de una máquina compartida afecte a las dos por igual, y se informa de las medianas y
del cociente sin caché / con caché. Las dos variantes generan los mismos tokens (voraz).

El modelo es un GPT del tamaño del curso (4 capas, 4 cabezas, d_model 128, vocabulario 92)
con ``block_size`` suficiente para no recortar el contexto (un recorte haría que la caché
se abandonase; ver el docstring de ``GPT.generate``).

Uso::

    python benchmarks/bench_kv_cache.py                  # medida completa (varios minutos)
    python benchmarks/bench_kv_cache.py --quick          # comprobación rápida: 16 y 32 tokens
    python benchmarks/bench_kv_cache.py --position rope --n-kv-head 1
    python benchmarks/bench_kv_cache.py --out results/kv_cache.json   # la medida del libro
    python benchmarks/bench_kv_cache.py --device cuda    # la mitad CUDA (tools/gpu_check.sh)

En CUDA cada medida espera a la GPU (``torch.cuda.synchronize``) antes de parar el reloj.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import ResultsLog  # noqa: E402

from transformer_lib import GPT, GPTConfig  # noqa: E402

NEW_TOKENS = (64, 128, 256, 512, 1024)
PROMPT = 16


def synchronize(device: torch.device) -> None:
    """Espera a que la GPU termine lo encolado (en CPU no hace nada)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_generation(model: GPT, prompt: torch.Tensor, n_new: int, use_cache: bool) -> float:
    """Segundos por token generado de una llamada a ``generate`` (voraz)."""
    synchronize(prompt.device)
    start = time.perf_counter()
    model.generate(prompt, n_new, temperature=0, use_cache=use_cache)
    synchronize(prompt.device)
    return (time.perf_counter() - start) / n_new


def measure(model: GPT, n_new: int, repeats: int) -> dict:
    """Medianas intercaladas del tiempo por token, sin y con caché, para ``n_new`` tokens."""
    prompt = torch.randint(0, model.config.vocab_size, (1, PROMPT), generator=torch.Generator().manual_seed(0))
    prompt = prompt.to(next(model.parameters()).device)
    same = torch.equal(model.generate(prompt, n_new, temperature=0),
                       model.generate(prompt, n_new, temperature=0, use_cache=True))
    times: dict[bool, list[float]] = {False: [], True: []}
    for i in range(repeats):
        order = (False, True) if i % 2 == 0 else (True, False)  # A B, B A, …
        for use_cache in order:
            times[use_cache].append(time_generation(model, prompt, n_new, use_cache))
    no_cache, cache = statistics.median(times[False]), statistics.median(times[True])
    return {"new_tokens": n_new, "ms_per_token_no_cache": round(1e3 * no_cache, 3),
            "ms_per_token_cache": round(1e3 * cache, 3), "speedup": round(no_cache / cache, 2),
            "same_tokens": same}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="solo 16 y 32 tokens, 1 repetición")
    parser.add_argument("--repeats", type=int, default=3, help="repeticiones de cada variante")
    parser.add_argument("--position", default="learned", choices=("learned", "rope"))
    parser.add_argument("--n-kv-head", type=int, default=None)
    parser.add_argument("--threads", type=int, default=1, help="hilos de PyTorch")
    parser.add_argument("--device", default="cpu", help="cpu (por defecto) o cuda")
    parser.add_argument("--out", default=None, help="archivo JSON de resultados (p. ej. results/kv_cache.json)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"--device {args.device}: no hay GPU CUDA en esta máquina.")
    sizes, repeats = ((16, 32), 1) if args.quick else (NEW_TOKENS, args.repeats)
    torch.manual_seed(0)
    config = GPTConfig(vocab_size=92, block_size=PROMPT + max(sizes), n_layer=4, n_head=4, d_model=128,
                       position=args.position, n_kv_head=args.n_kv_head)
    model = GPT(config).to(device).eval()
    model.generate(torch.zeros(1, 4, dtype=torch.long, device=device), 8, temperature=0, use_cache=True)  # calentamiento
    log = ResultsLog(args.out, vars(args) | {"repeats": repeats, "prompt": PROMPT}, args.threads,
                     config=config.to_dict(), device=torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu")
    print(f"{'tokens':>7} {'sin caché (ms/token)':>21} {'con caché (ms/token)':>21} {'aceleración':>12}")
    for n_new in sizes:
        row = measure(model, n_new, repeats)
        log.add(row)
        print(f"{n_new:>7} {row['ms_per_token_no_cache']:>21.3f} {row['ms_per_token_cache']:>21.3f} "
              f"{row['speedup']:>11.2f}×" + ("" if row["same_tokens"] else "  ¡tokens distintos!"), flush=True)
    log.finish()
    return 0 if all(r["same_tokens"] for r in log.rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
