"""Ajustes de leyes de potencia (capítulo 9).

- :func:`fit_power_law`: y = A·x^(−α), una recta por mínimos cuadrados en ejes log-log.
- :func:`fit_power_law_with_offset`: y = E + A·x^(−α), con un término irreducible E.

Los dos devuelven un :class:`PowerLawFit`, que se puede evaluar como una función.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class PowerLawFit:
    """Ley de potencia y = E + A·x^(−α) ajustada a unos datos.

    Atributos:
        a: coeficiente A.
        alpha: exponente α (positivo si y baja al crecer x).
        e: término irreducible E (0 en :func:`fit_power_law`).
        r2: coeficiente de determinación del ajuste en ejes log-log.
    """

    a: float
    alpha: float
    e: float = 0.0
    r2: float = float("nan")

    def __call__(self, x: float | np.ndarray) -> np.ndarray:
        """Evalúa la ley en ``x``."""
        return self.e + self.a * np.asarray(x, dtype=float) ** (-self.alpha)

    def to_dict(self) -> dict:
        """La ley como diccionario (para JSON)."""
        return asdict(self)


def _as_positive_arrays(x, y) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x e y deben tener el mismo número de puntos: {x.size} y {y.size}.")
    if x.size < 2:
        raise ValueError(f"Hacen falta al menos 2 puntos para ajustar una ley de potencia; hay {x.size}.")
    if np.any(x <= 0) or np.any(y <= 0) or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("x e y deben ser finitos y positivos para tomar logaritmos.")
    return x, y


def _loglog_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Recta log y = log A − α·log x por mínimos cuadrados; devuelve (A, α, R²)."""
    lx, ly = np.log(x), np.log(y)
    slope, intercept = np.polyfit(lx, ly, 1)
    resid = ly - (intercept + slope * lx)
    ss_tot = float(np.sum((ly - ly.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / ss_tot if ss_tot > 0 else 1.0
    return float(np.exp(intercept)), float(-slope), r2


def fit_power_law(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> PowerLawFit:
    """Ajusta y = A·x^(−α) con una recta por mínimos cuadrados en ejes log-log.

    En ejes logarítmicos una ley de potencia es una recta: log y = log A − α·log x; la
    pendiente es −α.

    Parámetros:
        x: variable de escala (parámetros, tokens, FLOPs), positiva.
        y: pérdida, positiva.

    Devuelve:
        Un :class:`PowerLawFit` con ``e = 0``.

    Formas:
        x, y: (n,) con n >= 2.
    """
    x, y = _as_positive_arrays(x, y)
    a, alpha, r2 = _loglog_fit(x, y)
    return PowerLawFit(a=a, alpha=alpha, e=0.0, r2=r2)


def fit_power_law_with_offset(
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    n_grid: int = 400,
) -> PowerLawFit:
    """Ajusta y = E + A·x^(−α), con un término irreducible E >= 0.

    Para cada E de una rejilla en [0, min(y)) se ajusta la recta log(y − E) frente a log x
    y se elige el E con menor error cuadrático en y; después se afina E alrededor del mejor
    valor. Con pocos puntos, E, A y α están muy correlacionados: trata el resultado como
    orientativo.

    Parámetros:
        x: variable de escala, positiva.
        y: pérdida, positiva.
        n_grid: puntos de la rejilla de E.

    Devuelve:
        Un :class:`PowerLawFit` (``r2`` es el de la recta log(y − E)).

    Formas:
        x, y: (n,) con n >= 3.
    """
    x, y = _as_positive_arrays(x, y)
    if x.size < 3:
        raise ValueError(f"El ajuste con término irreducible necesita al menos 3 puntos; hay {x.size}.")

    def sse(e: float) -> tuple[float, tuple[float, float, float]]:
        a, alpha, r2 = _loglog_fit(x, y - e)
        return float(np.sum((e + a * x ** (-alpha) - y) ** 2)), (a, alpha, r2)

    hi = float(y.min()) * (1.0 - 1e-6)
    grid = np.linspace(0.0, hi, n_grid, endpoint=False)
    errors = [sse(e)[0] for e in grid]
    k = int(np.argmin(errors))
    lo = grid[max(k - 1, 0)]
    up = grid[k + 1] if k + 1 < n_grid else hi
    for _ in range(60):  # búsqueda ternaria en el intervalo vecino
        m1, m2 = lo + (up - lo) / 3, up - (up - lo) / 3
        if sse(m1)[0] <= sse(m2)[0]:
            up = m2
        else:
            lo = m1
    e = 0.5 * (lo + up)
    _, (a, alpha, r2) = sse(e)
    return PowerLawFit(a=a, alpha=alpha, e=float(e), r2=r2)
