"""Utilidades generales: semillas, hilos, elección de dispositivo y configuraciones en JSON."""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator
from dataclasses import asdict, fields
from typing import Any, TypeVar

import numpy as np
import torch

_T = TypeVar("_T", bound="DictConvertible")


class DictConvertible:
    """Mezcla para dataclasses que se guardan en JSON: :meth:`to_dict` y :meth:`from_dict`.

    La usan las configuraciones (``GPTConfig``, ``TransformerConfig``, ``TrainConfig``) y el
    ``History`` del entrenamiento, que viajan en los checkpoints.
    """

    def to_dict(self) -> dict[str, Any]:
        """Los campos como diccionario (para guardarlo en JSON o en un checkpoint)."""
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[_T], d: dict[str, Any]) -> _T:
        """Inverso de :meth:`to_dict`; ignora las claves que no son campos (p. ej. de otra versión)."""
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in d.items() if k in names})


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


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Usa ``n`` hilos de PyTorch dentro del bloque ``with`` y al salir deja los que había.

    Parámetros:
        n: número de hilos; None (o 0) no toca nada.
    """
    if not n:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def seeded_torch_rng(seed: int, device: torch.device | str = "cpu") -> Iterator[None]:
    """Siembra el generador global de PyTorch dentro del bloque y al salir lo deja como estaba.

    Sirve para lo que usa el generador global sin que se lo pidas (el dropout, sobre todo):
    dentro del bloque todo es repetible y fuera nadie nota nada. Solo toca PyTorch (no
    ``random`` ni NumPy): en la CPU, su generador; en una GPU CUDA o MPS, también los de ese
    tipo de dispositivo.

    Parámetros:
        seed: la semilla.
        device: el dispositivo donde se va a calcular.
    """
    device = torch.device(device)
    cpu_state = torch.get_rng_state()
    cuda_states = torch.cuda.get_rng_state_all() if device.type == "cuda" else None
    mps_state = torch.mps.get_rng_state() if device.type == "mps" else None
    if device.type == "cpu":
        torch.default_generator.manual_seed(seed)
    else:
        torch.manual_seed(seed)  # la CPU y las GPU
    try:
        yield
    finally:
        torch.set_rng_state(cpu_state)
        if cuda_states is not None:
            torch.cuda.set_rng_state_all(cuda_states)
        if mps_state is not None:
            torch.mps.set_rng_state(mps_state)


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
