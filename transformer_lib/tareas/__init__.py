"""Tareas del curso con corrección automática (capítulo «Tareas»).

Cada tarea es un cuaderno (``chapters/tareas/tarea_0N_*.ipynb``). Las funciones
``check_*`` comparan tu código con la biblioteca en casos ocultos y te explican en
español qué falla; ``python -m transformer_lib.tareas comprobar CUADERNO.ipynb`` ejecuta
un cuaderno entero y lo califica (es lo que hace la integración continua).

- Tarea 1: :func:`check_attention`, :func:`check_causal_mask`.
- Tarea 2: :func:`check_heads`, :func:`check_multihead`.
- Tarea 3: :func:`check_block`, :func:`check_gpt`, :func:`check_training`.
- Tarea 4: :func:`check_rope`, :func:`check_kv_cache`.
"""

from .core import Result
from .task1_attention import check_attention
from .task1_mask import check_causal_mask
from .task2_heads import check_heads
from .task2_multihead import check_multihead
from .task3_block import check_block
from .task3_gpt import check_gpt
from .task3_training import (
    MAX_VALIDATION_ADVANTAGE,
    VALIDATION_THRESHOLD,
    check_training,
    required_weights,
    validation_loss,
)
from .task4_cache import check_kv_cache
from .task4_rope import check_rope

__all__ = [
    "Result",
    "check_attention",
    "check_causal_mask",
    "check_heads",
    "check_multihead",
    "check_block",
    "check_gpt",
    "check_training",
    "check_rope",
    "check_kv_cache",
    "validation_loss",
    "required_weights",
    "VALIDATION_THRESHOLD",
    "MAX_VALIDATION_ADVANTAGE",
]
