"""Dependencias globales, aprendidas (capítulo 9, §9.2): recordar un símbolo k pasos atrás.

La tarea: en una secuencia de símbolos al azar aparece un marcador ``M`` seguido del símbolo
``s`` que hay que recordar; k posiciones después de ``s`` llega la pregunta ``Q``, y la
respuesta correcta en esa posición es ``s``. Entre ``s`` y ``Q`` hay k − 1 distractores (de los
mismos símbolos), y el marcador cae en una posición al azar de las primeras k/4, así que no
basta con mirar siempre el mismo sitio::

    … d d M s d d d … d Q …      (s está k posiciones antes de Q)

Para cada k se entrena desde cero un GPT de la biblioteca (con posiciones aprendidas, como
GPT-2, o con RoPE) y una LSTM con un número parecido de parámetros, con el mismo presupuesto (mismos pasos y mismos lotes), y se mide la exactitud
en la posición de ``Q`` sobre secuencias nuevas. El azar, 1/n_symbols, es el suelo. La curva
completa la corre ``benchmarks/exp_long_range.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..models import GPT, GPTConfig

__all__ = ["RECALL_MODELS", "RecallConfig", "recall_length", "make_recall_batch", "RecurrentLM", "recall_model", "fit_answers", "train_recall"]


@dataclass(frozen=True)
class RecallConfig:
    """El presupuesto y los modelos de la tarea de recuerdo.

    Atributos:
        steps, batch_size, lr: pasos de AdamW, secuencias por paso y tasa de aprendizaje
            (con 100 pasos de calentamiento lineal).
        d_model, layers: anchura y capas del GPT (4 cabezas) y de la LSTM (entrada d_model).
        n_symbols: símbolos distintos (más el marcador y la pregunta).
        eval_batches: lotes nuevos para medir la exactitud.
    """

    steps: int = 1500
    batch_size: int = 32
    lr: float = 1e-3
    d_model: int = 64
    layers: int = 2
    n_symbols: int = 16
    eval_batches: int = 32

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "d_model", "layers", "eval_batches"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(f"{name} debe ser un entero >= 1 y es {value!r}.")
        if not (isinstance(self.n_symbols, int) and self.n_symbols >= 2):
            raise ValueError(f"n_symbols debe ser un entero >= 2 y es {self.n_symbols!r}.")
        if not self.lr > 0:
            raise ValueError(f"lr debe ser positiva y es {self.lr!r}.")

    def to_dict(self) -> dict:
        """La configuración como diccionario (para JSON)."""
        return asdict(self)


def recall_length(k: int) -> int:
    """Longitud T de las secuencias de la distancia ``k``: k + k // 4 + 3."""
    if not (isinstance(k, int) and k >= 1):
        raise ValueError(f"La distancia k debe ser un entero >= 1 y es {k!r}.")
    return k + k // 4 + 3


def make_recall_batch(k: int, batch: int, n_symbols: int,
                      generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Un lote de la tarea de recuerdo a distancia ``k``.

    Devuelve:
        ``(x, query_pos, answer)``: las secuencias, la posición de ``Q`` en cada una y el
        símbolo que hay que responder allí. El marcador es el id ``n_symbols`` y la pregunta
        ``n_symbols + 1``.

    Formas:
        x: (B, T) con T = :func:`recall_length` (k); query_pos, answer: (B,).
    """
    marker, query = n_symbols, n_symbols + 1
    T = recall_length(k)
    x = torch.randint(n_symbols, (batch, T), generator=generator)  # (B, T) distractores
    start = torch.randint(k // 4 + 1, (batch,), generator=generator)  # (B,) posición de M
    rows = torch.arange(batch)
    answer = x[rows, start + 1].clone()  # (B,) el símbolo que sigue a M
    x[rows, start] = marker
    query_pos = start + 1 + k
    x[rows, query_pos] = query
    return x, query_pos, answer


class RecurrentLM(nn.Module):
    """Embedding → LSTM → proyección al vocabulario: el rival recurrente del GPT."""

    def __init__(self, vocab: int, d: int, hidden: int, layers: int):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.lstm = nn.LSTM(d, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self.lstm(self.emb(x))  # (B, T) -> (B, T, H)
        return self.head(h)  # (B, T, H) -> (B, T, V)


RECALL_MODELS = ("transformer", "transformer-rope", "lstm")


def recall_model(kind: str, vocab: int, T: int, d: int, layers: int) -> nn.Module:
    """Uno de los modelos de :data:`RECALL_MODELS`, con ``layers`` capas y anchura ``d``.

    - ``"transformer"``: el GPT de la biblioteca (GPT-2: posiciones aprendidas), 4 cabezas;
    - ``"transformer-rope"``: el mismo con RoPE (``position="rope"``, capítulo 11), que codifica
      la distancia entre posiciones en lugar de la posición absoluta;
    - ``"lstm"``: una LSTM cuyo tamaño oculto da los parámetros que más se acercan a los del
      GPT sin embeddings (se construye primero el GPT, así que todos consumen el mismo azar).
    """
    if kind not in RECALL_MODELS:
        raise ValueError(f"kind debe ser uno de {RECALL_MODELS} y es {kind!r}.")
    position = "rope" if kind == "transformer-rope" else "learned"
    gpt = GPT(GPTConfig(vocab_size=vocab, block_size=T, n_layer=layers, n_head=4, d_model=d, dropout=0.0,
                        position=position))
    if kind != "lstm":
        return gpt
    target = gpt.count_parameters().non_embedding
    hidden = min(range(8, 4 * d), key=lambda h: abs(
        sum(p.numel() for p in nn.LSTM(d, h, num_layers=layers).parameters()) - target))
    return RecurrentLM(vocab, d, hidden, layers)


def _logits(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    out = model(x)
    return out[0] if isinstance(out, tuple) else out  # (B, T, V)


def fit_answers(model: nn.Module, batches: Callable[[], tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
                steps: int, lr: float) -> tuple[float, float]:
    """Entrena ``model`` solo en la posición de la pregunta de cada secuencia.

    AdamW sin decaimiento de pesos, ``lr`` con 100 pasos de calentamiento lineal y recorte del
    gradiente a norma 1. Lo usan la tarea de la distancia fija (:func:`train_recall`) y la de la
    aguja (:mod:`transformer_lib.experiments.retrieval`).

    Parámetros:
        model: un modelo de :func:`recall_model`.
        batches: devuelve un lote nuevo ``(x, qpos, answer)`` en cada llamada.
        steps: pasos de entrenamiento.
        lr: tasa de aprendizaje tras el calentamiento.

    Devuelve:
        ``(pérdida del último lote, segundos)``.

    Formas:
        x: (B, T); qpos, answer: (B,).
    """
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    t0 = time.perf_counter()
    loss = torch.tensor(float("nan"))
    for step in range(steps):
        for group in opt.param_groups:  # calentamiento lineal corto
            group["lr"] = lr * min(1.0, (step + 1) / 100)
        x, qpos, answer = batches()
        rows = torch.arange(x.shape[0])
        loss = F.cross_entropy(_logits(model, x)[rows, qpos], answer)  # solo la posición de Q
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return loss.item(), time.perf_counter() - t0


def train_recall(kind: str, k: int, seed: int, config: RecallConfig | None = None) -> dict:
    """Entrena ``kind`` (uno de :data:`RECALL_MODELS`) en la distancia ``k`` y mide su exactitud.

    Devuelve:
        Un diccionario con ``model``, ``k``, ``seed``, ``accuracy`` (sobre
        ``eval_batches × batch_size`` secuencias nuevas), ``chance``, ``params``,
        ``final_train_loss``, ``steps``, ``batch_size`` y ``train_seconds``.
    """
    config = config or RecallConfig()
    torch.manual_seed(seed)
    vocab = config.n_symbols + 2
    model = recall_model(kind, vocab, recall_length(k), config.d_model, config.layers)
    gen = torch.Generator().manual_seed(1000 + seed)
    rows = torch.arange(config.batch_size)
    final_loss, seconds = fit_answers(
        model, lambda: make_recall_batch(k, config.batch_size, config.n_symbols, gen), config.steps, config.lr)
    model.eval()
    test_gen = torch.Generator().manual_seed(10_000 + seed)
    correct = 0
    with torch.no_grad():
        for _ in range(config.eval_batches):
            x, qpos, answer = make_recall_batch(k, config.batch_size, config.n_symbols, test_gen)
            correct += int((_logits(model, x)[rows, qpos].argmax(-1) == answer).sum())
    return {"model": kind, "k": k, "seed": seed,
            "accuracy": correct / (config.eval_batches * config.batch_size),
            "chance": 1 / config.n_symbols, "params": sum(p.numel() for p in model.parameters()),
            "final_train_loss": round(final_loss, 4), "steps": config.steps,
            "batch_size": config.batch_size, "train_seconds": round(seconds, 1)}
