"""Post-LN frente a Pre-LN al entrenar (capítulo 4, §4.5): el modelo, la receta y el barrido.

El capítulo entrena cuatro combinaciones con una semilla y dibuja sus curvas; el barrido
completo (Post-LN o Pre-LN × inicialización × profundidad × tasa de aprendizaje ×
calentamiento, con varias semillas) lo corre ``benchmarks/exp_stability.py`` con estas mismas
funciones y lo guarda en ``results/stability.json``, que el capítulo lee.

Un entrenamiento «se atasca» cuando su pérdida de validación final no baja de la de un modelo
que solo sabe las frecuencias de las letras (:func:`unigram_loss`) menos ``STUCK_MARGIN``.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

import torch
from torch import nn

from ..models import GPT, GPTConfig
from ..training import History, TrainConfig, train
from ..utils import set_seed

__all__ = ["STUCK_MARGIN", "StabilityRun", "stability_model", "stability_config", "train_stability",
           "stability_grid", "stability_row", "unigram_loss"]

#: Margen bajo la pérdida de las frecuencias de letras a partir del cual un modelo ha aprendido algo.
STUCK_MARGIN = 0.1


@dataclass(frozen=True)
class StabilityRun:
    """Un entrenamiento del barrido.

    Atributos:
        norm_first: True = Pre-LN, False = Post-LN.
        n_layer: bloques del GPT (d_model = 64, 4 cabezas, contexto de 32 caracteres).
        emb_std: None = la inicialización de GPT-2 (N(0, 0,02)); un número re-inicializa con esa
            desviación típica el embedding de tokens (que también es la capa de salida).
        lr, warmup: tasa de aprendizaje máxima y pasos de calentamiento.
        steps: pasos de entrenamiento (lotes de 16).
        seed: semilla del modelo y de los lotes.
    """

    norm_first: bool
    n_layer: int
    emb_std: float | None = None
    lr: float = 1e-3
    warmup: int = 100
    steps: int = 250
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("n_layer", "steps"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(f"{name} debe ser un entero >= 1 y es {value!r}.")
        if not (isinstance(self.warmup, int) and self.warmup >= 0):
            raise ValueError(f"warmup debe ser un entero >= 0 y es {self.warmup!r}.")
        if not self.lr > 0:
            raise ValueError(f"lr debe ser positiva y es {self.lr!r}.")
        if self.emb_std is not None and not self.emb_std > 0:
            raise ValueError(f"emb_std debe ser None o positiva y es {self.emb_std!r}.")

    @property
    def label(self) -> str:
        """Nombre corto, p. ej. «Post-LN, 8 bloques, GPT-2»."""
        init = "GPT-2" if self.emb_std is None else f"σ = {self.emb_std:g}"
        return f"{'Pre-LN' if self.norm_first else 'Post-LN'}, {self.n_layer} bloques, {init}"


def stability_model(run: StabilityRun, vocab_size: int) -> GPT:
    """El GPT de ``run``, inicializado con su semilla."""
    set_seed(run.seed)
    model = GPT(GPTConfig(vocab_size=vocab_size, block_size=32, n_layer=run.n_layer, n_head=4, d_model=64,
                          norm_first=run.norm_first))
    if run.emb_std is not None:
        nn.init.normal_(model.tok_emb.weight, std=run.emb_std)  # la única diferencia con GPT-2
    return model


def stability_config(run: StabilityRun, device: str | None = "cpu") -> TrainConfig:
    """La receta de ``run``: AdamW, coseno, recorte a norma 1, lotes de 16 y evaluación solo al final."""
    return TrainConfig(max_iters=run.steps, batch_size=16, block_size=32, lr=run.lr, warmup_iters=run.warmup,
                       eval_interval=0, eval_iters=10, final_eval_iters=10, seed=run.seed, device=device,
                       progress=False)


def train_stability(run: StabilityRun, data, device: str | None = "cpu",
                    callback: Callable | None = None) -> tuple[GPT, History | None]:
    """Entrena ``run`` sobre ``data`` (un ``QuijoteData``); History es None si divergió."""
    model = stability_model(run, data.tokenizer.vocab_size)
    try:
        return model, train(model, stability_config(run, device), (data.train, data.val), callback=callback)
    except FloatingPointError:  # la pérdida dejó de ser finita
        return model, None


def unigram_loss(ids: torch.Tensor, vocab_size: int) -> float:
    """Entropía (en nats) de las frecuencias de los tokens de ``ids``: la pérdida sin contexto."""
    counts = torch.bincount(ids, minlength=vocab_size).double()
    p = counts[counts > 0] / counts.sum()
    return float(-(p * p.log()).sum())


def stability_grid(seeds: list[int], steps: int = 400) -> Iterator[StabilityRun]:
    """Las 32 combinaciones del capítulo × ``seeds``, en el orden en que el capítulo las tabula."""
    for n_layer, emb_std, lr, warmup, seed, norm_first in itertools.product(
            (2, 8), (None, 1.0), (1e-3, 3e-3), (0, 100), seeds, (False, True)):
        yield StabilityRun(norm_first, n_layer, emb_std, lr, warmup, steps, seed)


def stability_row(run: StabilityRun, data, threshold: float) -> dict:
    """Entrena ``run`` y devuelve su fila para el archivo de resultados."""
    t0 = time.perf_counter()
    _, history = train_stability(run, data)
    loss = history.final_val_loss if history is not None else math.nan
    return {**asdict(run), "label": run.label, "final_val_loss": loss,
            "stuck": not loss < threshold, "train_seconds": round(time.perf_counter() - t0, 2)}
