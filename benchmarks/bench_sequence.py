"""Paralelismo sobre la secuencia (issue #12, parte 1): un paso de entrenamiento completo.

Compara, para T de 16 a 1024 y con 1 y 2 hilos, un paso de entrenamiento (pasada hacia delante
+ retropropagación) de:

- ``transformer``: un bloque decoder de la biblioteca (Pre-LN, GELU, FFN 4·d, atención causal
  con ``is_causal=True``): todas las posiciones a la vez, 1 paso secuencial por capa.
- ``lstm``: una capa ``nn.LSTM`` con el mismo número de parámetros (su bucle sobre el tiempo
  está en C++, pero sigue siendo de T pasos).
- ``loop``: la misma celda (``nn.LSTMCell``) avanzada a mano en un bucle de Python, T pasos.

Por cada caso guarda el tiempo por paso (mediana), los tokens/s, los pasos secuenciales y los
FLOP de lo que cada núcleo calcula de verdad: la atención causal solo calcula (más o menos) la
mitad inferior de la matriz T×T, así que se cuentan T(T+1)/2 productos y no T². La cuenta sin
descontar la mitad causal se contrasta con ``torch.utils.flop_counter.FlopCounterMode`` (que
cuenta la matriz entera).

Uso (la rejilla completa, en la máquina de 2 núcleos sin nada más corriendo; unos minutos):

    python benchmarks/bench_sequence.py --out results/sequence_parallelism.json

Prueba rápida: ``python benchmarks/bench_sequence.py --quick`` (no escribe nada sin ``--out``).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from transformer_lib.blocks import DecoderBlock
from transformer_lib.environment import describe_environment


def lstm_hidden_for(params: int, d_in: int) -> int:
    """El tamaño oculto H de una LSTM de entrada ``d_in`` con unos ``params`` parámetros.

    Una capa LSTM tiene 4·(d_in·H + H·H + 2·H) parámetros; se resuelve la cuadrática en H.
    """
    a, b, c = 4, 4 * (d_in + 2), -params
    return max(1, round((-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)))


class HandLSTM(nn.Module):
    """Una ``nn.LSTMCell`` avanzada paso a paso en un bucle de Python (T pasos secuenciales)."""

    def __init__(self, d_in: int, hidden: int):
        super().__init__()
        self.cell = nn.LSTMCell(d_in, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape  # x: (B, T, d_in)
        h = x.new_zeros(B, self.cell.hidden_size)
        c = torch.zeros_like(h)
        outs = []
        for t in range(T):
            h, c = self.cell(x[:, t], (h, c))  # (B, H)
            outs.append(h)
        return torch.stack(outs, dim=1)  # (B, T, H)


def build(kind: str, d: int, n_head: int) -> tuple[nn.Module, callable]:
    """El modelo y su función ``forward(x) -> salida``."""
    block = DecoderBlock(d, n_head, 4 * d, dropout=0.0, norm_first=True, activation="gelu", cross_attention=False)
    if kind == "transformer":
        return block, lambda x: block(x, is_causal=True)
    hidden = lstm_hidden_for(sum(p.numel() for p in block.parameters()), d)
    if kind == "lstm":
        lstm = nn.LSTM(d, hidden, batch_first=True)
        return lstm, lambda x: lstm(x)[0]
    loop = HandLSTM(d, hidden)
    return loop, loop


def analytic_flops(kind: str, model: nn.Module, B: int, T: int, d: int, causal: bool) -> float:
    """FLOP de un paso (hacia delante + atrás ≈ 3 × hacia delante) contando solo las matmul."""
    if kind == "transformer":
        linear = 2 * B * T * (12 * d * d)  # Q, K, V, O (4d²) y la FFN (8d²), 2 FLOP por producto
        pairs = T * (T + 1) / 2 if causal else T * T
        attention = 2 * 2 * B * pairs * d  # QKᵀ y pesos·V
        return 3 * (linear + attention)
    cell = model.cell if kind == "loop" else model
    hidden, d_in = cell.hidden_size, cell.input_size
    return 3 * 2 * B * T * 4 * hidden * (d_in + hidden)


def counted_flops(step, x: torch.Tensor) -> int:
    """FLOP de un paso según ``FlopCounterMode``.

    El contador no ve dentro del núcleo fusionado de atención de la CPU ni del de ``nn.LSTM``
    (da 0); con el núcleo «math» la atención se descompone en matmul que sí cuenta, con la
    matriz T×T entera (sin descontar la mitad causal).
    """
    from torch.nn.attention import SDPBackend, sdpa_kernel

    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        step(x)
    return counter.get_total_flops()


def time_step(step, x: torch.Tensor, reps: int, min_seconds: float) -> float:
    """Mediana de segundos por paso tras dos de calentamiento."""
    for _ in range(2):
        step(x)
    times = []
    t_end = time.perf_counter() + min_seconds
    while len(times) < reps or time.perf_counter() < t_end:
        t0 = time.perf_counter()
        step(x)
        times.append(time.perf_counter() - t0)
        if len(times) >= 10 * reps:
            break
    return statistics.median(times)


def measure(kind: str, d: int, n_head: int, B: int, T: int, threads: int, reps: int, min_seconds: float) -> dict:
    """Un caso de la rejilla."""
    torch.manual_seed(0)
    torch.set_num_threads(threads)
    model, forward = build(kind, d, n_head)
    x = torch.randn(B, T, d, requires_grad=True)  # como la salida de un embedding: también su gradiente

    def step(inp):
        model.zero_grad(set_to_none=True)
        forward(inp).float().pow(2).mean().backward()

    seconds = time_step(step, x, reps, min_seconds)
    full = analytic_flops(kind, model, B, T, d, causal=False)
    actual = analytic_flops(kind, model, B, T, d, causal=True)
    counted = counted_flops(step, x) if threads == 1 else None
    return {
        "model": kind, "T": T, "threads": threads, "B": B, "d_model": d,
        "params": sum(p.numel() for p in model.parameters()),
        "sequential_steps": 1 if kind == "transformer" else T,
        "ms_per_step": round(1000 * seconds, 3), "tokens_per_s": round(B * T / seconds, 1),
        "flops_actual": actual, "flops_full_matrix": full, "flops_counter": counted,
        "gflops_per_s": round(actual / seconds / 1e9, 3),
    }


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
    rows = []
    print(f"{'modelo':>11} {'T':>5} {'hilos':>5} {'pasos sec.':>10} {'ms/paso':>9} {'tokens/s':>10} "
          f"{'GFLOP/s':>8} {'FLOP/contador':>13}")
    for T in args.T:
        B = max(1, args.tokens // T)
        for threads in args.threads:
            for kind in args.models:
                r = measure(kind, args.d_model, args.n_head, B, T, threads, args.reps, args.min_seconds)
                rows.append(r)
                ratio = f"{r['flops_full_matrix'] / r['flops_counter']:.3f}" if r["flops_counter"] else "-"
                print(f"{kind:>11} {T:>5} {threads:>5} {r['sequential_steps']:>10} {r['ms_per_step']:9.2f} "
                      f"{r['tokens_per_s']:10.0f} {r['gflops_per_s']:8.2f} {ratio:>13}", flush=True)
    if args.out:
        results = {"command": " ".join(["python", "benchmarks/bench_sequence.py", *sys.argv[1:]]),
                   "settings": {k: v for k, v in vars(args).items() if k != "out"},
                   "environment": describe_environment(torch_threads=max(args.threads)), "rows": rows}
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(results, f, ensure_ascii=False, indent=1)
        print(f"Resultados en {args.out}")


if __name__ == "__main__":
    main()
