"""Precisión numérica del entrenamiento: fp32 o autocast bf16, según lo que calcule el hardware."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager

import torch


def cpu_has_fast_bf16() -> bool:
    """Si la CPU multiplica matrices bf16 en hardware (instrucciones AVX512-BF16 o AMX)."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def resolve_precision(device: torch.device, precision: str = "auto") -> str:
    """Traduce ``precision="auto"`` a "bf16" o "fp32" según el dispositivo.

    Parámetros:
        device: el dispositivo del entrenamiento.
        precision: "fp32", "bf16" o "auto".

    Devuelve:
        "fp32" o "bf16".
    """
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    if device.type == "cpu":
        return "bf16" if cpu_has_fast_bf16() else "fp32"
    return "fp32"


def make_autocast(device: torch.device, precision: str) -> Callable[[], AbstractContextManager]:
    """Fábrica de contextos para la pasada hacia delante: autocast bf16 o nada.

    Parámetros:
        device: el dispositivo del entrenamiento.
        precision: "fp32", "bf16" o "auto" (ver :func:`resolve_precision`).

    Devuelve:
        Una función sin argumentos que devuelve un contexto nuevo cada vez (``with autocast():``).
    """
    precision = resolve_precision(device, precision)
    if precision == "bf16" and device.type in ("cpu", "cuda"):
        return lambda: torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext
