"""La escalera de ablación (introducción y capítulo 10) y la FFN entrenada (capítulos 5 y 6).

Cada peldaño añade **una** pieza al anterior, con los mismos datos (el Quijote, carácter a
carácter), la misma receta y los mismos pasos:

    bigrama → + autoatención (una cabeza) → + conexiones residuales → + multicabeza
            → + feed-forward → + LayerNorm → + posiciones

Las residuales van justo después de la atención porque es la pregunta de la introducción:
¿por qué la atención, por sí sola, no basta? Sin ellas, cada capa sustituye el vector de cada
token por una mezcla de los vectores anteriores, y no hay camino que lleve el token actual tal
cual hasta la salida.

El último peldaño es el bloque de GPT (Pre-LN) con la arquitectura de :class:`GPT` (sin
compartir embeddings); las pruebas lo comprueban copiando sus pesos. Todos los peldaños usan la
inicialización por defecto de PyTorch, no la de GPT-2: la de GPT-2 está pensada para redes con
residuales (escala las proyecciones por 1/√(2L)) y apagaría la señal de los peldaños que no
los tienen, que entonces medirían la inicialización y no la pieza.

La comparación de la FFN (:func:`ffn_pair`) entrena el GPT completo frente al mismo bloque sin
FFN y con más capas, con los mismos parámetros; los pasos del segundo se ajustan para que los
dos hagan los mismos FLOPs (contados con ``FlopCounterMode``).

Formas:
    idx, targets: (B, T); logits: (B, T, vocab_size).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..feedforward import FeedForward
from ..multihead import MultiHeadAttention
from ..normalization import LayerNorm
from ..positional import LearnedPositionalEncoding
from ..scaling.counting import measure_flops
from ..training import TrainConfig, train
from ..utils import set_seed

__all__ = ["LadderConfig", "LadderModel", "RUNGS", "rung_config", "LadderRecipe", "train_rung",
           "step_flops", "ffn_pair"]


@dataclass(frozen=True)
class LadderConfig:
    """Qué piezas lleva el modelo.

    Atributos:
        vocab_size, block_size, d_model, n_layer: como en :class:`GPTConfig`.
        n_head: cabezas con ``multihead=True`` (con False, una sola cabeza de d_model).
        attention: si hay capas de autoatención causal (sin ellas, un bigrama).
        multihead, ffn, residual, norm, positions: cada pieza de la escalera.
    """

    vocab_size: int
    block_size: int = 64
    d_model: int = 64
    n_layer: int = 4
    n_head: int = 4
    attention: bool = True
    multihead: bool = True
    ffn: bool = True
    residual: bool = True
    norm: bool = True
    positions: bool = True

    def __post_init__(self) -> None:
        for name in ("vocab_size", "block_size", "d_model", "n_layer", "n_head"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(f"LadderConfig.{name} debe ser un entero >= 1 y es {value!r}.")
        if self.d_model % self.n_head:
            raise ValueError(f"LadderConfig.n_head={self.n_head} debe dividir a d_model={self.d_model}.")
        if not self.attention and (self.multihead or self.ffn or self.residual or self.norm):
            raise ValueError("Sin atención (attention=False) el modelo es un bigrama: multihead, ffn, "
                             "residual y norm tienen que ser False.")

    @property
    def heads(self) -> int:
        """Cabezas de cada capa de atención."""
        return self.n_head if self.multihead else 1


class _LadderLayer(nn.Module):
    """Autoatención causal y, si toca, FFN; cada una con o sin residual y con o sin LayerNorm previa."""

    def __init__(self, c: LadderConfig):
        super().__init__()
        self.residual = c.residual
        self.norm1 = LayerNorm(c.d_model) if c.norm else nn.Identity()
        self.self_attn = MultiHeadAttention(c.d_model, c.heads)
        self.norm2 = LayerNorm(c.d_model) if c.norm and c.ffn else nn.Identity()
        self.ff = FeedForward(c.d_model, 4 * c.d_model, activation="gelu") if c.ffn else None

    def _sublayer(self, x: torch.Tensor, norm: nn.Module, f) -> torch.Tensor:
        y = f(norm(x))  # (B, T, d_model)
        return x + y if self.residual else y

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._sublayer(x, self.norm1, lambda y: self.self_attn(y, y, y, is_causal=True))  # (B, T, d_model)
        return x if self.ff is None else self._sublayer(x, self.norm2, self.ff)


class LadderModel(nn.Module):
    """Un peldaño de la escalera: embeddings → capas (:class:`LadderConfig`) → proyección.

    Con todas las piezas es el GPT Pre-LN de la biblioteca (``tie_weights=False``).

    Formas:
        idx: (B, T) con T <= block_size; targets: (B, T) o None;
        salida: (logits (B, T, vocab_size), loss escalar o None).
    """

    def __init__(self, config: LadderConfig):
        super().__init__()
        self.config = c = config
        self.tok_emb = nn.Embedding(c.vocab_size, c.d_model)
        self.pos_emb = LearnedPositionalEncoding(c.d_model, c.block_size) if c.positions else None
        self.layers = nn.ModuleList(_LadderLayer(c) for _ in range(c.n_layer if c.attention else 0))
        self.ln_f = LayerNorm(c.d_model) if c.norm else nn.Identity()
        self.lm_head = nn.Linear(c.d_model, c.vocab_size, bias=False)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        if idx.dim() != 2 or idx.shape[1] > self.config.block_size:
            raise ValueError(f"idx debe tener forma (B, T) con T <= {self.config.block_size} y tiene "
                             f"{tuple(idx.shape)}.")
        x = self.tok_emb(idx)  # (B, T) -> (B, T, d_model)
        if self.pos_emb is not None:
            x = self.pos_emb(x)
        for layer in self.layers:
            x = layer(x)  # (B, T, d_model)
        logits = self.lm_head(self.ln_f(x))  # (B, T, vocab_size)
        loss = None if targets is None else F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return logits, loss


#: Los peldaños, en orden: (clave, nombre en el libro, la pieza que añade). Cada uno lleva las
#: piezas de todos los anteriores; el primero, ninguna.
RUNGS: tuple[tuple[str, str, str | None], ...] = (
    ("bigram", "bigrama", None),
    ("attention", "+ autoatención (1 cabeza)", "attention"),
    ("residual", "+ residuales", "residual"),
    ("multihead", "+ multicabeza", "multihead"),
    ("ffn", "+ feed-forward", "ffn"),
    ("norm", "+ LayerNorm", "norm"),
    ("positions", "+ posiciones", "positions"),
)
_PIECES = ("attention", "residual", "multihead", "ffn", "norm", "positions")


def rung_config(key: str, vocab_size: int, **sizes) -> LadderConfig:
    """La configuración del peldaño ``key`` (``"bigram"``, …, ``"positions"``): sus piezas y las de
    los anteriores; ``sizes`` cambia block_size, d_model, n_layer o n_head."""
    keys = [k for k, _, _ in RUNGS]
    if key not in keys:
        raise ValueError(f"Peldaño desconocido {key!r}: usa uno de {', '.join(keys)}.")
    added = {piece for _, _, piece in RUNGS[: keys.index(key) + 1] if piece}
    return LadderConfig(vocab_size=vocab_size, **sizes, **{p: p in added for p in _PIECES})


@dataclass(frozen=True)
class LadderRecipe:
    """La receta común: AdamW con calentamiento y coseno, recorte a norma 1, sin dropout."""

    steps: int = 1000
    batch_size: int = 32
    lr: float = 1e-3
    warmup: int = 100
    eval_iters: int = 50

    def train_config(self, seed: int, block_size: int, steps: int | None = None) -> TrainConfig:
        """El :class:`TrainConfig` de un entrenamiento (``steps`` None = los de la receta)."""
        return TrainConfig(max_iters=steps or self.steps, batch_size=self.batch_size, block_size=block_size,
                           lr=self.lr, warmup_iters=self.warmup, eval_interval=0, eval_iters=self.eval_iters,
                           final_eval_iters=self.eval_iters, seed=seed, device="cpu", progress=False)


def train_rung(config: LadderConfig, data, seed: int, recipe: LadderRecipe = LadderRecipe(),
               steps: int | None = None) -> dict:
    """Entrena el modelo de ``config`` sobre ``data`` (un ``QuijoteData``) y devuelve su fila."""
    set_seed(seed)
    model = LadderModel(config)
    t0 = time.perf_counter()
    cfg = recipe.train_config(seed, config.block_size, steps)
    history = train(model, cfg, (data.train, data.val))
    return {"config": asdict(config), "seed": seed, "steps": cfg.max_iters,
            "params": sum(p.numel() for p in model.parameters()),
            "val_loss": history.final_val_loss, "train_loss": history.train_loss[-1],
            "train_seconds": round(time.perf_counter() - t0, 2)}


def step_flops(config: LadderConfig, batch_size: int) -> int:
    """FLOPs de un paso (ida y vuelta) del modelo de ``config``, contados con ``FlopCounterMode``."""
    model = LadderModel(config)
    idx = torch.zeros(batch_size, config.block_size, dtype=torch.long)
    return measure_flops(model, idx, idx).total


def ffn_pair(vocab_size: int, block_size: int = 64, d_model: int = 64, n_head: int = 4, n_layer: int = 2,
             steps: int = 1000, batch_size: int = 32) -> list[tuple[str, LadderConfig, int]]:
    """El GPT de ``n_layer`` bloques y el mismo sin FFN con 3·n_layer capas (los mismos
    parámetros: 12·d² frente a 3 × 4·d² por bloque), con los pasos de cada uno para igualar FLOPs.

    Devuelve:
        ``[(nombre, configuración, pasos), …]``: primero con FFN, después sin ella.
    """
    sizes = dict(vocab_size=vocab_size, block_size=block_size, d_model=d_model, n_head=n_head)
    with_ffn = LadderConfig(n_layer=n_layer, **sizes)
    without = LadderConfig(n_layer=3 * n_layer, ffn=False, **sizes)
    ratio = step_flops(with_ffn, batch_size) / step_flops(without, batch_size)
    return [("con FFN", with_ffn, steps), ("sin FFN", without, round(steps * ratio))]
