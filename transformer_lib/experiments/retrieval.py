"""Dependencias globales por contenido (capítulo 9, §9.2): la aguja a distancia al azar.

La tarea está en :mod:`transformer_lib.data.needle`: una aguja marcada, a una distancia que se
sortea en cada secuencia, cuyo símbolo hay que repetir al final. Se entrena desde cero el GPT
de la biblioteca (posiciones aprendidas, como GPT-2) y una LSTM con un número parecido de
parámetros (los modelos de :func:`transformer_lib.scaling.long_range.recall_model`), con el
mismo presupuesto, y se mide la exactitud en cada tramo de distancias sobre secuencias nuevas.
``benchmarks/exp_retrieval.py`` corre las semillas y lo guarda en ``results/retrieval.json``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .._checks import check_int
from ..data.needle import make_needle_batch, needle_vocab_size
from ..scaling.long_range import fit_answers, recall_model

__all__ = ["RETRIEVAL_MODELS", "RetrievalConfig", "distance_bins", "train_retrieval"]

#: Los modelos que se comparan (nombres de :func:`~transformer_lib.scaling.long_range.recall_model`).
RETRIEVAL_MODELS = ("transformer", "lstm")


@dataclass(frozen=True)
class RetrievalConfig:
    """El presupuesto, la tarea y los modelos.

    Atributos:
        length: tokens por secuencia; la aguja está a distancia 1 … length − 1 de la pregunta.
        n_symbols: símbolos distintos (el azar es 1/n_symbols).
        steps, batch_size, lr: pasos de AdamW (100 de calentamiento lineal), secuencias por
            paso y tasa de aprendizaje.
        d_model, layers: anchura y capas del GPT (4 cabezas) y de la LSTM.
        eval_per_bin: secuencias nuevas por tramo de distancias al medir.
    """

    length: int = 128
    n_symbols: int = 16
    steps: int = 500
    batch_size: int = 16
    lr: float = 1e-3
    d_model: int = 64
    layers: int = 2
    eval_per_bin: int = 128

    def __post_init__(self) -> None:
        for name in ("length", "n_symbols"):
            check_int(getattr(self, name), name, minimum=2)
        for name in ("steps", "batch_size", "d_model", "layers", "eval_per_bin"):
            check_int(getattr(self, name), name)
        if not self.lr > 0:
            raise ValueError(f"lr debe ser positiva y es {self.lr!r}.")


def distance_bins(length: int) -> list[tuple[int, int]]:
    """Tramos de distancias que doblan su extremo: (1, 8), (9, 16), (17, 32), … hasta length − 1."""
    bins, low, high = [], 1, 8
    while low <= length - 1:
        bins.append((low, min(high, length - 1)))
        low, high = high + 1, 2 * high
    return bins


def _answer_logits(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    out = model(x)
    logits = out[0] if isinstance(out, tuple) else out  # (B, T, V)
    return logits[:, -1]  # (B, V): la posición de Q


def train_retrieval(kind: str, seed: int, config: RetrievalConfig | None = None) -> dict:
    """Entrena ``kind`` (uno de :data:`RETRIEVAL_MODELS`) y mide su exactitud por tramo de distancia.

    Devuelve:
        Un diccionario con ``model``, ``seed``, ``bins`` (los tramos), ``accuracy_by_bin``,
        ``accuracy`` (media de los tramos), ``chance``, ``params``, ``final_train_loss``,
        ``steps`` y ``train_seconds``.
    """
    if kind not in RETRIEVAL_MODELS:
        raise ValueError(f"kind debe ser uno de {RETRIEVAL_MODELS} y es {kind!r}.")
    config = config or RetrievalConfig()
    torch.manual_seed(seed)
    model = recall_model(kind, needle_vocab_size(config.n_symbols), config.length, config.d_model, config.layers)
    gen = torch.Generator().manual_seed(1000 + seed)
    last = torch.full((config.batch_size,), config.length - 1)  # la pregunta, al final

    def batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x, _, answer = make_needle_batch(config.batch_size, config.length, config.n_symbols, gen)
        return x, last, answer

    final_loss, seconds = fit_answers(model, batch, config.steps, config.lr)
    model.eval()
    test_gen = torch.Generator().manual_seed(10_000 + seed)
    bins = distance_bins(config.length)
    accuracy = []
    with torch.no_grad():
        for low, high in bins:  # distancias uniformes dentro de cada tramo
            n = config.eval_per_bin
            distance = torch.randint(low, high + 1, (n,), generator=test_gen)
            x, _, answer = make_needle_batch(n, config.length, config.n_symbols, test_gen, distance)
            accuracy.append(float((_answer_logits(model, x).argmax(-1) == answer).float().mean()))
    return {"model": kind, "seed": seed, "bins": [list(b) for b in bins], "accuracy_by_bin": accuracy,
            "accuracy": sum(accuracy) / len(accuracy), "chance": 1 / config.n_symbols,
            "params": sum(p.numel() for p in model.parameters()), "final_train_loss": round(final_loss, 4),
            "steps": config.steps, "train_seconds": round(seconds, 1)}
