"""Hardware: el pico de FLOP/s de las GPU habituales y la utilización de FLOPs del modelo (MFU).

- :data:`GPU_PEAK_FLOPS` y :func:`gpu_peak_flops`: pico denso BF16/FP16 según las hojas de
  datos de NVIDIA.
- :func:`mfu`: FLOPs útiles por segundo divididos entre el pico del hardware (capítulo 10).
"""

from __future__ import annotations

import torch

from ..models import GPTConfig
from .counting import flops_per_token

# Pico denso (sin dispersidad) en BF16/FP16 con núcleos tensoriales, FLOP/s, según las
# hojas de datos de NVIDIA. Se busca la primera clave contenida en el nombre de la GPU.
GPU_PEAK_FLOPS: dict[str, float] = {
    "H100 PCIe": 756e12,
    "H100 NVL": 835e12,
    "H100": 989e12,  # SXM
    "H200": 989e12,
    "GH200": 989e12,
    "A100": 312e12,
    "L40S": 362e12,
    "L40": 181e12,  # antes que «L4»: «L40» contiene «L4»
    "A10G": 70e12,
    "A10": 125e12,
    "L4": 121e12,
    "T4": 65e12,
    "V100": 125e12,
}

def mfu(
    tokens_per_s: float,
    config: GPTConfig,
    peak_flops: float,
    seq_len: int | None = None,
) -> float:
    """Utilización de FLOPs del modelo (MFU): FLOPs útiles por segundo / pico del hardware.

    MFU = tokens/s · FLOPs por token / pico (PaLM, apéndice B), con la cuenta completa del curso
    (6·N + atención + capa de salida atada; :func:`~transformer_lib.scaling.flops_per_token` con
    ``include_lm_head=True``). Solo cuenta los FLOPs que el modelo necesita, no los que se repiten
    por recomputación.

    Parámetros:
        tokens_per_s: tokens de entrenamiento procesados por segundo.
        config: configuración del GPT.
        peak_flops: pico del hardware en FLOP/s (p. ej. 989e12 para una H100 SXM en BF16).
        seq_len: longitud de contexto; None usa ``config.block_size``.

    Devuelve:
        La fracción del pico (entre 0 y 1 en la práctica).
    """
    if peak_flops <= 0:
        raise ValueError(f"peak_flops debe ser positivo y es {peak_flops!r}.")
    if tokens_per_s < 0:
        raise ValueError(f"tokens_per_s no puede ser negativo y es {tokens_per_s!r}.")
    return tokens_per_s * flops_per_token(config, seq_len=seq_len, include_lm_head=True) / peak_flops


def gpu_peak_flops(name: str | None = None, default: float | None = None) -> float | None:
    """Pico denso BF16/FP16 de una GPU por su nombre (tabla :data:`GPU_PEAK_FLOPS`).

    Parámetros:
        name: nombre de la GPU (p. ej. ``torch.cuda.get_device_name()``); None lo pregunta
            a PyTorch si hay CUDA.
        default: valor devuelto si la GPU no está en la tabla.

    Devuelve:
        FLOP/s, o ``default`` si no se reconoce.
    """
    if name is None:
        if not torch.cuda.is_available():
            return default
        name = torch.cuda.get_device_name()
    for key, peak in GPU_PEAK_FLOPS.items():
        if key.lower() in name.lower():
            return peak
    return default


def matmul_rate(dtype: torch.dtype = torch.float32, size: int = 1024, repeats: int = 20,
                device: str | torch.device = "cpu") -> float:
    """Ritmo medido de esta máquina multiplicando matrices cuadradas, en FLOP/s.

    Es la referencia honesta de una CPU, que no tiene hoja de datos con su pico: la mediana
    de ``repeats`` productos ``size × size`` (2·size³ FLOPs cada uno) con los hilos actuales de
    PyTorch, tras dos de calentamiento.

    Parámetros:
        dtype: ``torch.float32``, ``torch.bfloat16`` o ``torch.float16``.
        size: lado de las matrices.
        repeats: productos cronometrados.
        device: dónde multiplicar.

    Devuelve:
        FLOP/s (la mediana).
    """
    import statistics
    import time

    if dtype not in (torch.float32, torch.bfloat16, torch.float16):
        raise ValueError(f"matmul_rate mide float32, bfloat16 o float16, no {dtype}.")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"size debe ser un entero positivo y es {size!r}.")
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats debe ser un entero positivo y es {repeats!r}.")
    device = torch.device(device)
    gen = torch.Generator().manual_seed(0)
    a, b = (torch.randn(size, size, generator=gen).to(device=device, dtype=dtype) for _ in range(2))
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    times = []
    for i in range(repeats + 2):
        sync()
        t0 = time.perf_counter()
        a @ b
        sync()
        if i >= 2:
            times.append(time.perf_counter() - t0)
    return 2 * size**3 / statistics.median(times)
