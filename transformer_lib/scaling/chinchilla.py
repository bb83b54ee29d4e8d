"""La ley completa L(N, D) = E + A/N^α + B/D^β, ajustada como Hoffmann et al. (2022, enfoque 3).

- :class:`ChinchillaFit`: las cinco constantes ajustadas, con :meth:`~ChinchillaFit.predict`
  y el reparto óptimo de un presupuesto :meth:`~ChinchillaFit.optimal`.
- :func:`fit_chinchilla`: el ajuste. Se minimiza la pérdida de Huber (δ = 10⁻³) entre el
  logaritmo de la pérdida predicha y el de la observada, con L-BFGS-B desde una rejilla de
  valores iniciales. E, A y B se escriben como exponenciales, E = eᵉ, A = eᵃ, B = eᵇ, para
  que sean positivas sin restricciones, y el logaritmo de la predicción es un
  log-sum-exp: log L = LSE(a − α·log N, b − β·log D, e), como en el artículo.

La rejilla de valores iniciales es la del artículo: α, β ∈ {0, 0,5, …, 2}, e ∈ {−1, −0,5, …, 1}
y a, b ∈ {0, 5, …, 25} (4 500 combinaciones). El objetivo se evalúa en todas (es barato) y
L-BFGS-B arranca desde las ``n_starts`` mejores; gana el mínimo más bajo.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from .fitting import positive_columns
from .laws import ChinchillaConstants, chinchilla_loss, chinchilla_optimal

__all__ = ["ChinchillaFit", "fit_chinchilla", "HOFFMANN_INIT_GRID"]

N_CHINCHILLA_PARAMS = 5
HUBER_DELTA = 1e-3

# Valores iniciales de Hoffmann et al. (2022), apéndice D.2: (α, β, e, a, b).
HOFFMANN_INIT_GRID: dict[str, tuple[float, ...]] = {
    "alpha": (0.0, 0.5, 1.0, 1.5, 2.0),
    "beta": (0.0, 0.5, 1.0, 1.5, 2.0),
    "e": (-1.0, -0.5, 0.0, 0.5, 1.0),
    "a": (0.0, 5.0, 10.0, 15.0, 20.0, 25.0),
    "b": (0.0, 5.0, 10.0, 15.0, 20.0, 25.0),
}

# Cotas de L-BFGS-B, en el orden (e, a, b, α, β): amplias, solo evitan desbordamientos.
_BOUNDS = [(-20.0, 10.0), (-50.0, 100.0), (-50.0, 100.0), (0.0, 5.0), (0.0, 5.0)]


@dataclass(frozen=True)
class ChinchillaFit:
    """L(N, D) = E + A/N^α + B/D^β ajustada a unos datos.

    Atributos:
        E: pérdida irreducible (la del modelo infinito con datos infinitos).
        A, alpha: coeficiente y exponente del término de los parámetros.
        B, beta: coeficiente y exponente del término de los datos.
        objective: valor final del objetivo (suma de las pérdidas de Huber dividida por δ;
            None si no viene de :func:`fit_chinchilla`).
        n_points: puntos con que se ajustó.
    """

    E: float  # los nombres del artículo
    A: float
    B: float
    alpha: float
    beta: float
    objective: float | None = None
    n_points: int = 0

    def constants(self, name: str = "nuestro ajuste") -> ChinchillaConstants:
        """Las constantes en el formato de :mod:`~transformer_lib.scaling.laws`."""
        return ChinchillaConstants(self.E, self.A, self.B, self.alpha, self.beta, name)

    def predict(self, n: float | np.ndarray, d: float | np.ndarray) -> np.ndarray:
        """Pérdida predicha para N parámetros y D tokens (difundibles entre sí).

        Parámetros:
            n: parámetros.
            d: tokens de entrenamiento.

        Devuelve:
            E + A/N^α + B/D^β, con la forma difundida de ``n`` y ``d``.
        """
        return chinchilla_loss(n, d, self.constants())

    def optimal(self, compute: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Reparto óptimo de un presupuesto C = 6·N·D (ver :func:`~transformer_lib.scaling.chinchilla_optimal`).

        Parámetros:
            compute: C en FLOPs.

        Devuelve:
            ``(n_opt, d_opt)``, con la forma de ``compute``.
        """
        return chinchilla_optimal(compute, self.constants())

    def to_dict(self) -> dict:
        """El ajuste como diccionario (para JSON)."""
        return asdict(self)


def _check_inputs(n, d, loss) -> list[np.ndarray]:
    arrays = positive_columns(n=n, d=d, loss=loss)
    if arrays[0].size < N_CHINCHILLA_PARAMS:
        raise ValueError(f"Hacen falta al menos {N_CHINCHILLA_PARAMS} puntos para ajustar los "
                         f"{N_CHINCHILLA_PARAMS} parámetros de L(N, D) y hay {arrays[0].size}.")
    return arrays


def _objective(theta: np.ndarray, log_n: np.ndarray, log_d: np.ndarray, log_loss: np.ndarray,
               delta: float) -> tuple[np.ndarray, np.ndarray]:
    """Suma de Huber(LSE − log L)/δ y su gradiente, para una o varias θ = (e, a, b, α, β).

    Formas:
        theta: (k, 5) o (5,); log_n, log_d, log_loss: (n,). Devuelve (k,) y (k, 5).
    """
    theta = np.atleast_2d(theta)
    e, a, b, alpha, beta = (theta[:, i : i + 1] for i in range(5))  # (k, 1) cada uno
    terms = np.stack([np.broadcast_to(e, (len(e), log_n.size)),
                      a - alpha * log_n, b - beta * log_d])  # (3, k, n)
    top = terms.max(axis=0)
    w = np.exp(terms - top)  # (3, k, n)
    total = w.sum(axis=0)
    r = top + np.log(total) - log_loss  # (k, n): residuo en escala logarítmica
    w /= total  # pesos softmax: derivadas de LSE respecto a cada término
    huber = np.where(np.abs(r) <= delta, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta))
    dr = np.clip(r, -delta, delta) / delta  # (k, n)
    grad = np.stack([(dr * w[0]).sum(1), (dr * w[1]).sum(1), (dr * w[2]).sum(1),
                     -(dr * w[1] * log_n).sum(1), -(dr * w[2] * log_d).sum(1)], axis=1)
    return huber.sum(axis=1) / delta, grad


def fit_chinchilla(
    n: Sequence[float] | np.ndarray,
    d: Sequence[float] | np.ndarray,
    loss: Sequence[float] | np.ndarray,
    n_starts: int | None = 16,
    delta: float = HUBER_DELTA,
) -> ChinchillaFit:
    """Ajusta L(N, D) = E + A/N^α + B/D^β como Hoffmann et al. (2022), enfoque 3.

    Minimiza Σ Huber_δ(LSE(a − α·log N, b − β·log D, e) − log L) con L-BFGS-B (SciPy), con
    E = eᵉ, A = eᵃ, B = eᵇ, desde los mejores puntos de la rejilla :data:`HOFFMANN_INIT_GRID`.
    La pérdida de Huber se comporta como el cuadrado con residuos pequeños y como el valor
    absoluto con los grandes: un punto raro (un entrenamiento que se torció) pesa poco.

    Parámetros:
        n: parámetros de cada entrenamiento.
        d: tokens de entrenamiento de cada uno.
        loss: pérdida final de cada uno.
        n_starts: cuántos puntos de la rejilla (los de menor objetivo) sirven de arranque
            a L-BFGS-B; None = todos (4 500, lento).
        delta: umbral δ de la pérdida de Huber (10⁻³ en el artículo).

    Devuelve:
        Un :class:`ChinchillaFit`.

    Formas:
        n, d, loss: (k,) con k >= 5.
    """
    from scipy.optimize import minimize

    n, d, loss = _check_inputs(n, d, loss)
    if n_starts is not None and (not isinstance(n_starts, int) or n_starts < 1):
        raise ValueError(f"n_starts debe ser un entero positivo o None y es {n_starts!r}.")
    if not delta > 0:
        raise ValueError(f"delta debe ser positivo y es {delta!r}.")
    data = (np.log(n), np.log(d), np.log(loss), delta)
    g = HOFFMANN_INIT_GRID
    grid = np.array([(e, a, b, al, be) for al, be, e, a, b in
                     itertools.product(g["alpha"], g["beta"], g["e"], g["a"], g["b"])])
    values = _objective(grid, *data)[0]
    order = np.argsort(values, kind="stable")[: n_starts or len(grid)]
    best = None
    for theta0 in grid[order]:
        res = minimize(lambda t: tuple(v[0] for v in _objective(t, *data)), theta0, jac=True,
                       method="L-BFGS-B", bounds=_BOUNDS,
                       options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-10})
        if best is None or res.fun < best.fun:
            best = res
    e, a, b, alpha, beta = (float(v) for v in best.x)
    return ChinchillaFit(E=float(np.exp(e)), A=float(np.exp(a)), B=float(np.exp(b)),
                         alpha=alpha, beta=beta, objective=float(best.fun), n_points=int(n.size))
