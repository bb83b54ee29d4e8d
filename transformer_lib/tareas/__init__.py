"""Tareas del curso con corrección automática (capítulo «Tareas»).

Cada tarea es un cuaderno (``chapters/tareas/tarea_0N_*.ipynb``). Las funciones
``comprobar_*`` comparan tu código con la biblioteca en casos ocultos y te explican en
español qué falla; ``python -m transformer_lib.tareas comprobar CUADERNO.ipynb`` ejecuta
un cuaderno entero y lo califica (es lo que hace la integración continua).

- Tarea 1: :func:`comprobar_atencion`, :func:`comprobar_mascara_causal`.
- Tarea 2: :func:`comprobar_cabezas`, :func:`comprobar_multihead`.
- Tarea 3: :func:`comprobar_bloque`, :func:`comprobar_gpt`, :func:`comprobar_entrenamiento`.
"""

from ._nucleo import Resultado
from .atencion import comprobar_atencion, comprobar_mascara_causal
from .bloque_gpt import (
    UMBRAL_VALIDACION,
    comprobar_bloque,
    comprobar_entrenamiento,
    comprobar_gpt,
    perdida_validacion,
)
from .multihead import comprobar_cabezas, comprobar_multihead

__all__ = [
    "Resultado",
    "comprobar_atencion",
    "comprobar_mascara_causal",
    "comprobar_cabezas",
    "comprobar_multihead",
    "comprobar_bloque",
    "comprobar_gpt",
    "comprobar_entrenamiento",
    "perdida_validacion",
    "UMBRAL_VALIDACION",
]
