"""Recuento de parámetros de un modelo (capítulos 9 y 10)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ParameterCount:
    """Recuento de parámetros de un modelo.

    ``embedding`` son los embeddings de tokens y de posiciones (con los pesos atados,
    la proyección de salida comparte la matriz de tokens y no suma nada);
    ``non_embedding`` es el resto, la N de las leyes de escalado de Kaplan et al. (2020).
    """

    total: int
    embedding: int
    non_embedding: int
