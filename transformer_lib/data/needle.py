"""La aguja en el pajar (capítulo 9, §9.2): recuperar un símbolo por su contenido, a distancia al azar.

Cada secuencia mide ``length`` tokens: símbolos de relleno al azar (ids ``0 … n_symbols − 1``)
y, en una sola posición, la **aguja**: un símbolo marcado (id ``n_symbols + s``, la versión
marcada del símbolo ``s``). El último token es la pregunta ``Q`` (id ``2·n_symbols``) y la
respuesta correcta en esa posición es ``s``, el símbolo sin marcar::

    d d d d s' d d d … d d Q      (s' está a distancia d de Q; la respuesta es s)

La distancia d entre la aguja y ``Q`` se sortea en cada secuencia (de 1 a ``length − 1``), así
que no hay un sitio fijo que mirar: hay que encontrar la aguja por lo que es, no por dónde está.
La tarea de :mod:`transformer_lib.scaling.long_range` fija en cambio la distancia k.
"""

from __future__ import annotations

import torch

__all__ = ["needle_vocab_size", "make_needle_batch"]


def needle_vocab_size(n_symbols: int) -> int:
    """Tamaño del vocabulario: los ``n_symbols`` de relleno, sus versiones marcadas y ``Q``."""
    return 2 * n_symbols + 1


def make_needle_batch(batch: int, length: int, n_symbols: int, generator: torch.Generator,
                      distance: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Un lote de la tarea de la aguja.

    Parámetros:
        batch: secuencias del lote.
        length: tokens por secuencia (la pregunta es el último).
        n_symbols: símbolos distintos (>= 2).
        generator: el generador de números aleatorios (el lote depende solo de él).
        distance: las distancias aguja → pregunta, (B,) enteros en ``[1, length − 1]``;
            None = uniformes en ese intervalo.

    Devuelve:
        ``(x, distance, answer)``: las secuencias, la distancia de cada aguja a ``Q`` y el
        símbolo (sin marcar) que hay que responder en la última posición.

    Formas:
        x: (B, T) con T = length; distance, answer: (B,).
    """
    if not (isinstance(length, int) and length >= 2):
        raise ValueError(f"length debe ser un entero >= 2 y es {length!r}.")
    if not (isinstance(n_symbols, int) and n_symbols >= 2):
        raise ValueError(f"n_symbols debe ser un entero >= 2 y es {n_symbols!r}.")
    if distance is None:
        distance = torch.randint(1, length, (batch,), generator=generator)  # (B,)
    elif distance.shape != (batch,) or int(distance.min()) < 1 or int(distance.max()) > length - 1:
        raise ValueError(f"distance debe tener forma ({batch},) y valores entre 1 y {length - 1}.")
    x = torch.randint(n_symbols, (batch, length), generator=generator)  # (B, T) relleno
    answer = torch.randint(n_symbols, (batch,), generator=generator)  # (B,) el símbolo escondido
    rows = torch.arange(batch)
    x[rows, length - 1 - distance] = n_symbols + answer  # la aguja: la versión marcada
    x[:, -1] = 2 * n_symbols  # Q
    return x, distance, answer
