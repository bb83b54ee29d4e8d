"""Paralelismo sobre la secuencia (capítulo 9, §9.1): un paso de entrenamiento, medido.

Compara un paso de entrenamiento completo (pasada hacia delante + retropropagación) de:

- ``"transformer"``: un bloque decoder de la biblioteca (Pre-LN, GELU, FFN 4·d, atención
  causal con ``is_causal=True``): todas las posiciones a la vez, 1 paso secuencial por capa;
- ``"lstm"``: una capa ``nn.LSTM`` con (casi) los mismos parámetros; su bucle sobre el tiempo
  está en C++, pero sigue siendo de T pasos encadenados;
- ``"loop"``: la misma celda (``nn.LSTMCell``) avanzada a mano en un bucle de Python.

Los FLOPs se cuentan para lo que cada núcleo calcula de verdad: la atención causal calcula
(más o menos) la mitad inferior de la matriz T×T, T(T+1)/2 productos y no T². La cuenta de la
matriz entera se contrasta con ``torch.utils.flop_counter.FlopCounterMode``, que no descuenta
la mitad causal. La rejilla completa la corre ``benchmarks/bench_sequence.py``.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ..blocks import DecoderBlock

__all__ = ["SEQUENCE_MODELS", "lstm_hidden_for", "HandLSTM", "sequence_model", "step_flops",
           "counted_step_flops", "time_step", "measure_sequence_step"]

SEQUENCE_MODELS = ("transformer", "lstm", "loop")


def lstm_hidden_for(params: int, d_in: int) -> int:
    """El tamaño oculto H de una capa LSTM de entrada ``d_in`` con unos ``params`` parámetros.

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
        for t in range(T):  # cada paso espera al anterior
            h, c = self.cell(x[:, t], (h, c))  # (B, H)
            outs.append(h)
        return torch.stack(outs, dim=1)  # (B, T, H)


def sequence_model(kind: str, d: int, n_head: int) -> tuple[nn.Module, Callable[[torch.Tensor], torch.Tensor]]:
    """El modelo ``kind`` (uno de :data:`SEQUENCE_MODELS`) y su función ``forward(x) -> salida``.

    La LSTM y el bucle tienen el tamaño oculto que iguala los parámetros del bloque.
    """
    if kind not in SEQUENCE_MODELS:
        raise ValueError(f"kind debe ser uno de {SEQUENCE_MODELS} y es {kind!r}.")
    block = DecoderBlock(d, n_head, 4 * d, dropout=0.0, norm_first=True, activation="gelu", cross_attention=False)
    if kind == "transformer":
        return block, lambda x: block(x, is_causal=True)  # (B, T, d) -> (B, T, d)
    hidden = lstm_hidden_for(sum(p.numel() for p in block.parameters()), d)
    if kind == "lstm":
        lstm = nn.LSTM(d, hidden, batch_first=True)
        return lstm, lambda x: lstm(x)[0]  # (B, T, d) -> (B, T, H)
    loop = HandLSTM(d, hidden)
    return loop, loop


def step_flops(kind: str, model: nn.Module, B: int, T: int, d: int, causal: bool = True) -> float:
    """FLOPs de un paso de entrenamiento (hacia delante + atrás ≈ 3 × hacia delante), solo matmul.

    Parámetros:
        kind, model: como los da :func:`sequence_model`.
        B, T, d: lote, longitud y anchura de la entrada.
        causal: contar solo la mitad causal de la matriz de atención, T(T+1)/2 pares (lo que
            calcula ``is_causal=True``), o la matriz entera, T² (lo que cuenta ``FlopCounterMode``).
    """
    if kind == "transformer":
        linear = 2 * B * T * (12 * d * d)  # Q, K, V, O (4d²) y la FFN (8d²), 2 FLOPs por producto
        pairs = T * (T + 1) / 2 if causal else T * T
        attention = 2 * 2 * B * pairs * d  # QKᵀ y pesos·V
        return 3 * (linear + attention)
    cell = model.cell if kind == "loop" else model
    hidden, d_in = cell.hidden_size, cell.input_size
    return 3 * 2 * B * T * 4 * hidden * (d_in + hidden)


def counted_step_flops(step: Callable[[torch.Tensor], object], x: torch.Tensor) -> int:
    """FLOPs de ``step(x)`` según ``FlopCounterMode``.

    El contador no ve dentro del kernel fusionado de atención de la CPU ni del de ``nn.LSTM``
    (da 0 en ellos); con el núcleo «math» la atención se descompone en matmul que sí cuenta,
    con la matriz T×T entera (sin descontar la mitad causal).
    """
    from torch.nn.attention import SDPBackend, sdpa_kernel

    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        step(x)
    return counter.get_total_flops()


def time_step(step: Callable[[torch.Tensor], object], x: torch.Tensor, reps: int = 5,
              min_seconds: float = 1.0) -> float:
    """Mediana de los segundos por llamada a ``step(x)`` tras dos de calentamiento.

    Mide al menos ``reps`` llamadas y al menos ``min_seconds`` segundos (hasta 10·reps).
    """
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


def measure_sequence_step(kind: str, d: int, n_head: int, B: int, T: int, threads: int = 1,
                          reps: int = 5, min_seconds: float = 1.0, count: bool = True) -> dict:
    """Un paso de entrenamiento de ``kind`` con ``threads`` hilos: tiempo, tokens/s y FLOPs.

    Parámetros:
        kind: uno de :data:`SEQUENCE_MODELS`.
        d, n_head: anchura y cabezas del bloque (la LSTM iguala sus parámetros).
        B, T: lote y longitud.
        threads: hilos de PyTorch durante la medida (se restauran al terminar).
        reps, min_seconds: como en :func:`time_step`.
        count: contrastar los FLOPs con ``FlopCounterMode`` (solo con 1 hilo).

    Devuelve:
        Un diccionario con ``model``, ``T``, ``threads``, ``B``, ``d_model``, ``params``,
        ``sequential_steps``, ``ms_per_step``, ``tokens_per_s``, ``flops_actual`` (mitad
        causal), ``flops_full_matrix``, ``flops_counter`` (None si no se contó) y ``gflops_per_s``.
    """
    if not (isinstance(threads, int) and threads >= 1):
        raise ValueError(f"threads debe ser un entero >= 1 y es {threads!r}.")
    previous = torch.get_num_threads()
    torch.manual_seed(0)
    torch.set_num_threads(threads)
    try:
        model, forward = sequence_model(kind, d, n_head)
        x = torch.randn(B, T, d, requires_grad=True)  # como la salida de un embedding: también su gradiente

        def step(inp: torch.Tensor) -> None:
            model.zero_grad(set_to_none=True)
            forward(inp).float().pow(2).mean().backward()

        seconds = time_step(step, x, reps, min_seconds)
        counted = counted_step_flops(step, x) if count and threads == 1 else None
    finally:
        torch.set_num_threads(previous)
    actual = step_flops(kind, model, B, T, d, causal=True)
    return {
        "model": kind, "T": T, "threads": threads, "B": B, "d_model": d,
        "params": sum(p.numel() for p in model.parameters()),
        "sequential_steps": 1 if kind == "transformer" else T,
        "ms_per_step": round(1000 * seconds, 3), "tokens_per_s": round(B * T / seconds, 1),
        "flops_actual": actual, "flops_full_matrix": step_flops(kind, model, B, T, d, causal=False),
        "flops_counter": counted, "gflops_per_s": round(actual / seconds / 1e9, 3),
    }
