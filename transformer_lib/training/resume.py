"""Puntos de control a mitad de un entrenamiento (capítulo 10): parar y seguir sin notar nada.

Un entrenamiento largo (el del pronóstico del capítulo 10 dura minutos u horas en la CPU) puede
cortarse: un Ctrl-C, un SIGTERM, un ``kill -9`` o un apagón. :class:`Resume` le dice a
:func:`~transformer_lib.training.train` dónde guardar, cada ``every`` pasos, **todo** lo que
decide los pasos siguientes: los pesos, el estado de AdamW, el historial, el generador de los
lotes y el generador global de PyTorch (el del dropout). Al volver a llamar a ``train`` con el
mismo :class:`Resume`, sigue desde el último punto guardado y acaba con los mismos pesos y las
mismas pérdidas, bit a bit, que un entrenamiento sin cortes (solo cambian los tiempos).

El archivo se escribe entero en un temporal que luego se renombra: un corte a mitad de la
escritura deja el punto anterior intacto.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..files import UnreadableFileError
from .config import TrainConfig
from .history import History

SNAPSHOT_FORMAT = "transformer_lib.resume/1"


@dataclass(frozen=True)
class Resume:
    """Dónde y cada cuánto guarda :func:`~transformer_lib.training.train` su estado.

    Atributos:
        path: archivo del punto de control (se crea la carpeta si hace falta).
        every: pasos entre dos puntos guardados.
        key: identifica el entrenamiento (p. ej. la clave de una ejecución de una rejilla): un
            punto de otro entrenamiento se rechaza.
    """

    path: Path
    every: int
    key: str = ""

    def __post_init__(self):
        if isinstance(self.every, bool) or not isinstance(self.every, int) or self.every < 1:
            raise ValueError(f"Resume.every debe ser un entero positivo (pasos) y es {self.every!r}.")
        object.__setattr__(self, "path", Path(self.path))


def save_snapshot(resume: Resume, step: int, config: TrainConfig, model: nn.Module,
                  optimizer: torch.optim.Optimizer, history: History,
                  batch_generator: torch.Generator, precision: str) -> None:
    """Guarda el estado tras ``step`` pasos, de forma atómica (ver la cabecera)."""
    state = {
        "format": SNAPSHOT_FORMAT, "key": resume.key, "step": step, "config": config.to_dict(),
        "model": model.state_dict(), "optimizer": optimizer.state_dict(), "history": history.to_dict(),
        "batch_generator": batch_generator.get_state(), "torch_rng": torch.get_rng_state(),
        "precision": precision,
    }
    resume.path.parent.mkdir(parents=True, exist_ok=True)
    tmp = resume.path.with_name(resume.path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, resume.path)


def load_snapshot(resume: Resume, config: TrainConfig) -> dict[str, Any] | None:
    """El estado guardado en ``resume.path`` (None si no hay ninguno todavía).

    Lanza:
        UnreadableFileError: si el archivo no es un punto de control nuestro, o es de otro
            entrenamiento (otra clave u otra receta): nunca se mezclan.
    """
    if not resume.path.exists():
        return None
    redo = f"Bórralo si quieres empezar de cero: rm {resume.path}"
    try:
        state = torch.load(resume.path, map_location="cpu", weights_only=False)
    except Exception as err:  # noqa: BLE001 (cualquier fallo al leer se explica igual)
        raise UnreadableFileError(f"No pude leer el punto de control {resume.path}: {err}. {redo}") from err
    if not isinstance(state, dict) or state.get("format") != SNAPSHOT_FORMAT:
        raise UnreadableFileError(f"{resume.path} no es un punto de control de train. {redo}")
    if state["key"] != resume.key or state["config"] != config.to_dict():
        raise UnreadableFileError(
            f"{resume.path} es de otro entrenamiento (clave {state['key']!r}, no {resume.key!r}, o "
            f"con otra receta): no lo mezclo. {redo}")
    return state


def restore_snapshot(state: dict[str, Any], model: nn.Module, optimizer: torch.optim.Optimizer,
                     batch_generator: torch.Generator) -> History:
    """Pone en ``model``, ``optimizer`` y los generadores lo guardado; devuelve el historial."""
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    batch_generator.set_state(state["batch_generator"])
    torch.set_rng_state(state["torch_rng"])
    return History.from_dict(state["history"])
