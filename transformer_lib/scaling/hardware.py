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

    MFU = tokens/s · flops_per_token(config) / pico (PaLM, apéndice B). Solo cuenta los FLOPs
    que el modelo necesita (6·N + atención), no los que se repiten por recomputación.

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
    return tokens_per_s * flops_per_token(config, seq_len=seq_len) / peak_flops


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
