"""La receta de entrenamiento: :class:`TrainConfig` y el calendario de la tasa :func:`lr_at`."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .._checks import check_int
from ..utils import DictConvertible
from .precision import PRECISIONS


@dataclass
class TrainConfig(DictConvertible):
    """Hiperparámetros de :func:`~transformer_lib.training.train`.

    Atributos:
        max_iters: número de pasos de entrenamiento.
        batch_size: lote B (ventanas por paso, en el caso de texto). Es el lote **global** de
            cada paso de AdamW: con varios procesos (``torchrun``) o con acumulación de gradiente
            se reparte entre ellos, así que el entrenamiento es el mismo.
        block_size: longitud T de cada ventana (caso de texto).
        lr: tasa de aprendizaje máxima (tras el calentamiento).
        min_lr: tasa final del decaimiento coseno; None = lr / 2.
        warmup_iters: pasos de calentamiento lineal desde 0 hasta ``lr``.
        lr_decay_iters: paso en que el coseno llega a ``min_lr``; None = ``max_iters``.
        weight_decay: decaimiento de pesos de AdamW (solo matrices y embeddings, no sesgos ni
            LayerNorm); 0 por defecto (ver la cabecera de :mod:`transformer_lib.training`).
        beta1, beta2: β de AdamW.
        grad_clip: norma máxima del gradiente (0 = sin recorte).
        grad_accum_steps: microlotes en que se parte el lote de cada proceso en cada paso (sus
            gradientes se suman antes del paso de AdamW): ahorra memoria sin cambiar la
            cuenta, porque la pérdida es una media. ``batch_size`` debe ser múltiplo de
            procesos × ``grad_accum_steps``.
        precision: "fp32"; "tf32" (solo CUDA); "bf16" (autocast bf16 en CPU o GPU);
            "bf16-math" (bf16 con la atención «math», más rápida en CPU con contextos cortos) o
            "auto": cronometra unos pasos de cada candidata en esta máquina y se queda con la
            más rápida (ver :mod:`~transformer_lib.training.precision`; el historial dice cuál).
        compile: compilar el paso con ``torch.compile`` (la primera vez tarda; el historial
            separa ese tiempo en ``compile_seconds``). En la CPU del curso no acelera: por
            defecto, no.
        eval_interval: cada cuántos pasos se estima la pérdida (0 = solo al final).
        eval_iters: lotes con los que se estima la pérdida durante el entrenamiento (siempre los
            mismos, fijados con la semilla, para que la curva no tiemble por el muestreo).
        final_eval_iters: lotes de la evaluación final, más precisa (0 = usar ``eval_iters``).
        seed: semilla de los lotes, de la evaluación y del generador global de PyTorch durante
            el entrenamiento (el dropout); la inicialización del modelo es cosa tuya, antes.
        device: "cpu", "cuda", "mps" o None para elegir solo.
        num_threads: hilos de PyTorch en CPU durante el entrenamiento (al terminar se restauran
            los de antes); None deja los que haya.
        progress: si se muestra la barra de progreso (``TQDM_DISABLE=1`` también la apaga).
    """

    max_iters: int = 2000
    batch_size: int = 12
    block_size: int = 64
    lr: float = 1e-3
    min_lr: float | None = None
    warmup_iters: int = 100
    lr_decay_iters: int | None = None
    weight_decay: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.99
    grad_clip: float = 1.0
    grad_accum_steps: int = 1
    precision: str = "fp32"
    compile: bool = False
    eval_interval: int = 500
    eval_iters: int = 20
    final_eval_iters: int = 200
    seed: int = 1337
    device: str | None = None
    num_threads: int | None = None
    progress: bool = True

    def __post_init__(self):
        for name in ("max_iters", "batch_size", "block_size", "eval_iters", "grad_accum_steps"):
            check_int(getattr(self, name), f"TrainConfig.{name}")
        for name in ("warmup_iters", "eval_interval", "final_eval_iters"):
            check_int(getattr(self, name), f"TrainConfig.{name}", minimum=0)
        if not (isinstance(self.lr, (int, float)) and self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"TrainConfig.lr debe ser un número positivo y es {self.lr!r}.")
        if self.min_lr is not None and not 0 <= self.min_lr <= self.lr:
            raise ValueError(f"TrainConfig.min_lr debe estar en [0, lr={self.lr}] y es {self.min_lr!r}.")
        if self.weight_decay < 0 or self.grad_clip < 0:
            raise ValueError(
                f"weight_decay y grad_clip deben ser >= 0 y son {self.weight_decay!r}, {self.grad_clip!r}."
            )
        if self.batch_size % self.grad_accum_steps:
            raise ValueError(f"TrainConfig.batch_size={self.batch_size} debe ser múltiplo de "
                             f"grad_accum_steps={self.grad_accum_steps}.")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision debe ser una de {PRECISIONS} y es {self.precision!r}.")
        if not isinstance(self.compile, bool):
            raise ValueError(f"TrainConfig.compile debe ser True o False y es {self.compile!r}.")


def lr_at(step: int, config: TrainConfig) -> float:
    """Tasa de aprendizaje en el paso ``step``: calentamiento lineal y luego coseno hasta ``min_lr``.

    Parámetros:
        step: paso (0 = el primero).
        config: la configuración.

    Devuelve:
        La tasa de aprendizaje de ese paso.
    """
    min_lr = config.lr / 2 if config.min_lr is None else config.min_lr
    decay_iters = config.max_iters if config.lr_decay_iters is None else config.lr_decay_iters
    if step < config.warmup_iters:
        return config.lr * (step + 1) / config.warmup_iters
    if step >= decay_iters:
        return min_lr
    progress = (step - config.warmup_iters) / max(1, decay_iters - config.warmup_iters)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (config.lr - min_lr)
