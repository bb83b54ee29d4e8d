"""Fuentes de lotes del entrenamiento: de dónde salen los lotes de cada paso y los de evaluación.

Una fuente es un par ``(source, fixed)``: ``source(split)`` da el siguiente lote de "train" o
"val" tal como sale (el bucle lo reparte entre procesos y microlotes y lo lleva al
dispositivo con :func:`to_device`), y ``fixed(n_batches, seed)`` da, por split, una lista fija
de lotes ya en el dispositivo para estimar la pérdida siempre sobre los mismos datos.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from .._checks import check_token_ids, token_ids_checked
from ..data import get_batch as text_batch

Source = Callable[[str], Any]
FixedBatches = Callable[[int, int], dict[str, list]]


def default_loss(model: nn.Module, batch) -> torch.Tensor:
    """Pérdida por defecto: la que devuelve ``model(x, y)`` (un GPT) para el lote ``(x, y)``."""
    x, y = batch
    _, loss = model(x, y)
    return loss


def count_tokens(batch) -> int:
    """Tokens de entrada de un lote (tensor, tupla/lista de tensores u objeto con ``src``/``x``)."""
    if isinstance(batch, torch.Tensor):
        return batch.numel()
    if isinstance(batch, (tuple, list)) and batch and isinstance(batch[0], torch.Tensor):
        return batch[0].numel()
    for name in ("src", "x", "input_ids"):
        t = getattr(batch, name, None)
        if isinstance(t, torch.Tensor):
            return t.numel()
    return 0


def to_device(batch, device: torch.device):
    """Mueve un lote (tensor, tupla, lista, dict u objeto con ``.to``) al dispositivo."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, (tuple, list)):
        return type(batch)(to_device(b, device) for b in batch)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if hasattr(batch, "to"):
        return batch.to(device)
    return batch


def _text_splits(data) -> dict[str, torch.Tensor]:
    if isinstance(data, dict):
        return {"train": data["train"], "val": data["val"]}
    if hasattr(data, "train") and hasattr(data, "val"):
        return {"train": data.train, "val": data.val}
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return {"train": data[0], "val": data[1]}
    raise TypeError(
        "data debe ser (train_ids, val_ids), un dict con 'train' y 'val' o un QuijoteData; "
        f"recibí {type(data).__name__}."
    )


def text_sources(data, block_size: int, batch_size: int, seed: int,
                 device: torch.device) -> tuple[Source, FixedBatches]:
    """Ventanas al azar de ``block_size`` tokens de ``data`` = (train_ids, val_ids).

    Los lotes de entrenamiento salen de un ``torch.Generator`` propio sembrado con ``seed`` (no
    del generador global; queda en ``source.generator`` para guardarlo en un punto de control);
    los fijos, de otro sembrado con la semilla que se les pase.
    """
    splits = _text_splits(data)
    gen = torch.Generator().manual_seed(seed)

    def source(split: str):
        x, y = text_batch(splits[split], block_size, batch_size, gen)
        if device.type == "cuda":  # memoria fija: la copia a la GPU no hace esperar a cada paso
            return x.pin_memory(), y.pin_memory()
        return x, y

    source.generator = gen  # type: ignore[attr-defined]

    def fixed(n_batches: int, fixed_seed: int):
        """n_batches·B ventanas fijas por split, agrupadas en lotes grandes para ir más rápido."""
        g = torch.Generator().manual_seed(fixed_seed)
        out = {}
        for split, ids in splits.items():
            x, y = text_batch(ids, block_size, n_batches * batch_size, g)
            rows = max(batch_size, 4096 // block_size)
            out[split] = [(x[i:i + rows].to(device), y[i:i + rows].to(device))
                          for i in range(0, len(x), rows)]
        return out

    return source, fixed


def generic_sources(get_batch: Callable[[str], Any], device: torch.device) -> tuple[Source, FixedBatches]:
    """Lotes de una función ``get_batch(split)`` cualquiera; los fijos son sus primeros lotes."""

    def fixed(n_batches: int, seed: int):
        return {split: [to_device(get_batch(split), device) for _ in range(n_batches)]
                for split in ("train", "val")}

    return get_batch, fixed


def checked_text_data(model: nn.Module, data) -> contextlib.AbstractContextManager:
    """Comprueba una vez que los ids de texto caben en el vocabulario del modelo; si es así, el
    bucle ya no los vuelve a leer en cada paso (:func:`~transformer_lib._checks.token_ids_checked`)."""
    vocab = getattr(getattr(model, "config", None), "vocab_size", None)
    if not isinstance(vocab, int):
        return contextlib.nullcontext()
    for split, ids in _text_splits(data).items():
        check_token_ids(ids, vocab, f"data ({split})")
    return token_ids_checked()
