"""LayerNorm o nada en pilas profundas (capítulo 4, §4.5): el modelo, la receta y el barrido.

El capítulo 4 compara dónde va LayerNorm (Pre-LN o Post-LN, :mod:`.stability`); aquí la
pregunta es si hace falta: el mismo GPT Pre-LN de 4, 12 y 24 bloques (d_model = 64) se entrena con
LayerNorm y sin ninguna normalización (``GPTConfig(norm="none")``: cada normalización, también
la final, es ``nn.Identity``) en varias tasas de aprendizaje y semillas, sobre los caracteres de
Don Quijote. ``benchmarks/exp_norm_depth.py`` corre el barrido y lo guarda en
``results/norm_depth.json``, que el capítulo lee.

Un entrenamiento **diverge** cuando su pérdida de validación final no es finita o no baja de
la de un modelo que solo sabe las frecuencias de las letras (:func:`.stability.unigram_loss`).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from .._checks import check_int
from ..models import GPT, GPTConfig
from ..training import History, TrainConfig, train
from ..utils import set_seed

__all__ = ["NormDepthRun", "norm_depth_model", "norm_depth_config", "train_norm_depth", "norm_depth_grid",
           "norm_depth_row", "DEPTHS", "LEARNING_RATES"]

#: Profundidades y tasas de aprendizaje del barrido.
DEPTHS = (4, 12, 24)
LEARNING_RATES = (1e-3, 3e-3, 1e-2)


@dataclass(frozen=True)
class NormDepthRun:
    """Un entrenamiento del barrido.

    Atributos:
        layernorm: True = Pre-LN de GPT-2; False = la misma pila sin ninguna normalización.
        n_layer: bloques (d_model = 64, 4 cabezas, contexto de 32 caracteres).
        lr, warmup: tasa de aprendizaje máxima y pasos de calentamiento (luego, coseno).
        steps: pasos de entrenamiento (lotes de 16).
        seed: semilla del modelo y de los lotes.
    """

    layernorm: bool
    n_layer: int
    lr: float = 1e-3
    warmup: int = 20
    steps: int = 100
    seed: int = 0

    def __post_init__(self) -> None:
        check_int(self.n_layer, "n_layer")
        check_int(self.steps, "steps")
        check_int(self.warmup, "warmup", minimum=0)
        if not self.lr > 0:
            raise ValueError(f"lr debe ser positiva y es {self.lr!r}.")

    @property
    def label(self) -> str:
        """Nombre corto, p. ej. «sin LN, 24 bloques»."""
        return f"{'con LN' if self.layernorm else 'sin LN'}, {self.n_layer} bloques"


def norm_depth_model(run: NormDepthRun, vocab_size: int) -> GPT:
    """El GPT de ``run``, inicializado con su semilla (con o sin LayerNorm, el mismo azar)."""
    set_seed(run.seed)
    return GPT(GPTConfig(vocab_size=vocab_size, block_size=32, n_layer=run.n_layer, n_head=4, d_model=64,
                         norm="layernorm" if run.layernorm else "none"))


def norm_depth_config(run: NormDepthRun, device: str | None = "cpu") -> TrainConfig:
    """La receta: AdamW, calentamiento y coseno, recorte a norma 1, lotes de 16, evaluación al final."""
    return TrainConfig(max_iters=run.steps, batch_size=16, block_size=32, lr=run.lr, warmup_iters=run.warmup,
                       eval_interval=0, eval_iters=10, final_eval_iters=20, seed=run.seed, device=device,
                       progress=False)


def train_norm_depth(run: NormDepthRun, data, device: str | None = "cpu") -> tuple[GPT, History | None]:
    """Entrena ``run`` sobre ``data`` (un ``QuijoteData``); History es None si la pérdida dejó de ser finita."""
    model = norm_depth_model(run, data.tokenizer.vocab_size)
    try:
        return model, train(model, norm_depth_config(run, device), (data.train, data.val))
    except FloatingPointError:
        return model, None


def norm_depth_grid(seeds: list[int], steps: int = 100, depths: tuple[int, ...] = DEPTHS,
                    lrs: tuple[float, ...] = LEARNING_RATES) -> Iterator[NormDepthRun]:
    """Profundidad × tasa × semilla × {con LN, sin LN}, en este orden."""
    for n_layer, lr, seed, layernorm in itertools.product(depths, lrs, seeds, (True, False)):
        yield NormDepthRun(layernorm, n_layer, lr, steps=steps, seed=seed)


def norm_depth_row(run: NormDepthRun, data, unigram: float) -> dict:
    """Entrena ``run`` y devuelve su fila; ``diverged`` si la pérdida final no es finita o no baja de ``unigram``."""
    t0 = time.perf_counter()
    _, history = train_norm_depth(run, data)
    loss = history.final_val_loss if history is not None else math.nan
    return {**asdict(run), "label": run.label, "final_val_loss": loss,
            "diverged": not (math.isfinite(loss) and loss < unigram),
            "train_seconds": round(time.perf_counter() - t0, 2)}
