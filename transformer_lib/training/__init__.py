"""Entrenamiento (capítulos 7, 9 y 10): bucle con AdamW, calentamiento y decaimiento coseno.

Un módulo por idea:

- ``config``: :class:`TrainConfig` (todos los hiperparámetros en un dataclass) y :func:`lr_at`
  (el calendario de la tasa de aprendizaje).
- ``precision``: fp32, tf32, autocast bf16 y la elección midiendo de ``"auto"``
  (:class:`PrecisionPlan`, :func:`candidate_precisions`, :func:`choose_precision`,
  :func:`measure_precisions`, :func:`resolve_precision`, :func:`cpu_has_fast_bf16`).
- ``sources``: de dónde salen los lotes (texto o una función ``get_batch(split)``).
- ``loop``: :func:`train`, el bucle. Por defecto entrena un GPT sobre texto
  (``data=(train_ids, val_ids)``), pero acepta cualquier fuente de lotes ``get_batch(split)`` y
  cualquier pérdida ``loss_fn(model, batch)``, así que sirve igual para el Transformer
  encoder-decoder del capítulo 7 o para un barrido de tamaños del capítulo 9. También
  :func:`estimate_loss` y :func:`make_optimizer`.
- ``distributed``: paralelismo de datos con ``torch.distributed`` (``torchrun``): el grupo de
  procesos (:func:`process_group`), qué proceso soy (:func:`distributed_env`,
  :func:`is_main_process`) y cómo se reparte el lote global (:func:`shard`).
- ``sharding``: la memoria de entrenar (≈ 16 bytes por parámetro con AdamW en precisión
  mixta) y cómo la reparten ZeRO y FSDP2 (:func:`training_memory`, :func:`run_sharded`).
- ``history``: :class:`History`, lo que pasó durante el entrenamiento (la figura está en
  :func:`transformer_lib.plots.plot_history`).
- ``checkpoint``: :func:`save_checkpoint` / :func:`load_checkpoint`: pesos, configuración y
  tokenizador en una carpeta; los pesos se leen con ``torch.load(..., weights_only=True)`` (sin
  código serializado) y el resto es JSON. La escritura es atómica: o queda la carpeta completa
  o no queda nada; solo reemplaza un checkpoint nuestro y solo con ``overwrite=True``
  (:func:`check_checkpoint_path` lo comprueba antes de entrenar, :func:`is_checkpoint` dice si
  una carpeta lo es). :func:`load_weights` carga los pesos en un modelo que ya tienes.
- ``weights``: leer ``model.pt`` sin confiar en él, con errores en español que nombran el
  archivo (truncado, manipulado, de otro modelo).

Receta por defecto: AdamW con β = (0.9, 0.99), 100 pasos de calentamiento lineal, decaimiento
coseno hasta lr/2 y recorte del gradiente a norma 1. Parte de la receta de nanoGPT para CPU
(que baja hasta lr/10 y usa decaimiento de pesos 0.1), ajustada a nuestros entrenamientos
cortos, de menos de una época: el modelo está lejos de converger y no sobreajusta, así que ni
frenar tanto la tasa al final ni el decaimiento de pesos le ayudan. Con el GPT de referencia
(2000 pasos sobre el Quijote, 3 semillas) cada cambio bajó la pérdida de validación en torno
a 0.01.
"""

from __future__ import annotations

from .checkpoint import (
    Checkpoint,
    check_checkpoint_path,
    is_checkpoint,
    load_checkpoint,
    load_weights,
    save_checkpoint,
)
from .config import TrainConfig, lr_at
from .distributed import (
    DistributedEnv,
    broadcast_from_main,
    check_batch_split,
    distributed_env,
    is_main_process,
    main_first,
    process_group,
    shard,
)
from .evaluation import estimate_loss
from .history import History
from .loop import make_optimizer, train
from .precision import (
    PRECISIONS,
    PrecisionPlan,
    candidate_precisions,
    choose_precision,
    cpu_has_fast_bf16,
    measure_precisions,
    resolve_precision,
)
from .resume import Resume
from .sharding import BYTES_PER_PARAMETER, MemoryPerRank, run_sharded, training_memory

__all__ = [
    "PRECISIONS",
    "TrainConfig",
    "lr_at",
    "cpu_has_fast_bf16",
    "resolve_precision",
    "BYTES_PER_PARAMETER",
    "MemoryPerRank",
    "run_sharded",
    "training_memory",
    "PrecisionPlan",
    "candidate_precisions",
    "choose_precision",
    "measure_precisions",
    "make_optimizer",
    "estimate_loss",
    "train",
    "Resume",
    "History",
    "save_checkpoint",
    "load_checkpoint",
    "load_weights",
    "is_checkpoint",
    "check_checkpoint_path",
    "Checkpoint",
    "DistributedEnv",
    "distributed_env",
    "is_main_process",
    "process_group",
    "main_first",
    "broadcast_from_main",
    "check_batch_split",
    "shard",
]

