"""¿Una cabeza o varias? (capítulo 2, §2.1-2.3): la tarea de las dos relaciones y su barrido.

Cada posición tiene que decir a la vez el dígito **anterior** (una relación de posición) y el
dígito **marcado** de la secuencia (una de contenido). El capítulo construye la tarea y el
modelo a mano y comprueba que coinciden con estos; ``benchmarks/exp_heads.py`` repite el
entrenamiento con muchas semillas y guarda en ``results/heads.json`` la tabla que el capítulo lee.

Formas:
    x, mark, y: (B, T); y es la pareja (anterior, marcado) como una clase de K·K, o IGNORE.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..multihead import MultiHeadAttention

__all__ = ["DIGITS", "LENGTH", "IGNORE", "HeadsRun", "digits_batch", "AttentionOnly", "train_heads",
           "pair_accuracy", "heads_row"]

DIGITS, LENGTH = 8, 16  # dígitos distintos (K) y longitud de la secuencia (T)
IGNORE = -100  # etiqueta que F.cross_entropy no cuenta


def digits_batch(batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, ...]:
    """Un lote de la tarea: x (B, T), marca (B, T) 0/1, y (B, T) y la posición marcada (B,)."""
    x = torch.randint(0, DIGITS, (batch_size, LENGTH), generator=generator)  # (B, T)
    marked_at = torch.randint(0, LENGTH, (batch_size,), generator=generator)  # (B,)
    rows = torch.arange(batch_size)
    mark = torch.zeros(batch_size, LENGTH, dtype=torch.long)
    mark[rows, marked_at] = 1
    target = torch.roll(x, shifts=1, dims=1) * DIGITS + x[rows, marked_at][:, None]  # (B, T)
    t = torch.arange(LENGTH)[None, :]
    scored = (t >= 1) & (t != marked_at[:, None]) & (t - 1 != marked_at[:, None])
    return x, mark, torch.where(scored, target, IGNORE), marked_at


class AttentionOnly(nn.Module):
    """Embedding (dígito + marca + posición) → :class:`MultiHeadAttention` → lineal a K·K clases.

    Sin red feed-forward ni conexión residual: todo lo que una posición sabe de las demás le
    llega por la atención. Los parámetros no dependen de ``n_heads``.
    """

    def __init__(self, n_heads: int, d_model: int = 32):
        super().__init__()
        self.digit = nn.Embedding(DIGITS, d_model)
        self.mark = nn.Embedding(2, d_model)
        self.position = nn.Embedding(LENGTH, d_model)
        self.attention = MultiHeadAttention(d_model, n_heads)
        self.readout = nn.Linear(d_model, DIGITS * DIGITS)

    def forward(self, x: torch.Tensor, mark: torch.Tensor) -> torch.Tensor:
        e = self.digit(x) + self.mark(mark) + self.position.weight  # (B, T, d_model)
        return self.readout(self.attention(e, e, e))  # (B, T, K·K)


@dataclass(frozen=True)
class HeadsRun:
    """Un entrenamiento: ``n_heads`` cabezas, semilla ``seed`` (modelo y lotes), Adam con ``lr``."""

    n_heads: int
    seed: int = 0
    steps: int = 400
    batch_size: int = 64
    lr: float = 3e-3

    def __post_init__(self) -> None:
        for name in ("n_heads", "steps", "batch_size"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 1):
                raise ValueError(f"{name} debe ser un entero >= 1 y es {value!r}.")
        if 32 % self.n_heads:
            raise ValueError(f"n_heads={self.n_heads} debe dividir a d_model = 32.")


def train_heads(run: HeadsRun) -> tuple[AttentionOnly, list[float]]:
    """Entrena el modelo de ``run``; devuelve el modelo y la pérdida de cada paso."""
    torch.manual_seed(run.seed)
    model = AttentionOnly(run.n_heads)
    optimizer = torch.optim.Adam(model.parameters(), lr=run.lr)
    batches = torch.Generator().manual_seed(1000 + run.seed)  # los mismos lotes con cualquier h
    losses = []
    for _ in range(run.steps):
        x, mark, y, _ = digits_batch(run.batch_size, batches)
        logits = model(x, mark)  # (B, T, K·K)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten(), ignore_index=IGNORE)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model, losses


@torch.no_grad()
def pair_accuracy(model: nn.Module, n: int = 2000) -> tuple[float, float, float]:
    """Exactitud en la pareja, en el dígito anterior y en el marcado, sobre ``n`` secuencias nuevas."""
    x, mark, y, _ = digits_batch(n, torch.Generator().manual_seed(999))
    predicted = model(x, mark).argmax(-1)  # (n, T)
    scored = y != IGNORE
    hits = [predicted == y, predicted // DIGITS == y // DIGITS, predicted % DIGITS == y % DIGITS]
    return tuple(h[scored].float().mean().item() for h in hits)


def heads_row(run: HeadsRun) -> dict:
    """Entrena ``run`` y devuelve su fila: pérdida final (media de 20 pasos) y exactitudes."""
    t0 = time.perf_counter()
    model, losses = train_heads(run)
    pair, previous, marked = pair_accuracy(model)
    return {"n_heads": run.n_heads, "seed": run.seed, "steps": run.steps, "final_loss": sum(losses[-20:]) / 20,
            "pair": pair, "previous": previous, "marked": marked, "solved": pair > 0.99,
            "train_seconds": round(time.perf_counter() - t0, 2)}
