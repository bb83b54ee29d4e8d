"""Utilidades generales: semillas y elección de dispositivo."""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def set_seed(seed: int) -> None:
    """Fija las semillas de Python, NumPy y PyTorch (CPU y GPU) para resultados repetibles.

    Parámetros:
        seed: la semilla.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))


def get_device(prefer: str | None = None) -> torch.device:
    """Elige el mejor dispositivo disponible: CUDA, luego Apple MPS, luego CPU.

    Parámetros:
        prefer: fuerza un dispositivo concreto ("cpu", "cuda", "mps"); None elige solo.

    Devuelve:
        El ``torch.device`` elegido.
    """
    if prefer is not None:
        device = torch.device(prefer)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("Pediste device='cuda' pero PyTorch no ve ninguna GPU CUDA.")
        if device.type == "mps" and not _mps_available():
            raise ValueError("Pediste device='mps' pero este equipo no tiene Apple MPS.")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def describe_device(device: torch.device) -> str:
    """Describe el dispositivo en una línea en español (nombre de la GPU, o núcleos de CPU)."""
    if device.type == "cuda":
        return f"GPU CUDA: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "GPU de Apple (MPS)"
    return f"CPU ({torch.get_num_threads()} hilos de PyTorch)"


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())
