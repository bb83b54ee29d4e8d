"""Ajustes de leyes de potencia (capítulo 9).

- :func:`fit_power_law`: y = A·x^(−α), una recta por mínimos cuadrados en ejes log-log.
- :func:`fit_power_law_with_offset`: y = E + A·x^(−α), con un término irreducible E.
- :func:`fit_isoflop`: el enfoque 2 de Hoffmann et al. (2022), una parábola en log N por
  presupuesto de cómputo y las leyes N_opt ∝ C^a y D_opt ∝ C^b (un :class:`IsoFlopFit`).
- :func:`bootstrap`: intervalos de cualquier ajuste, remuestreando los entrenamientos.

Los dos primeros devuelven un :class:`PowerLawFit`, que se puede evaluar como una función.
La ley completa L(N, D) (enfoque 3) está en :mod:`~transformer_lib.scaling.chinchilla`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


@dataclass(frozen=True)
class IsoFlopFit:
    """El enfoque 2 de Hoffmann et al. (2022): una parábola por presupuesto y leyes para el óptimo.

    Para cada presupuesto C, la pérdida frente a log N es una parábola
    L ≈ c₂·(log N)² + c₁·log N + c₀ cuyo mínimo da N_opt(C) = exp(−c₁ / (2·c₂)) y
    D_opt(C) = C / (6·N_opt). Después, N_opt = k_N·C^a y D_opt = k_D·C^b (rectas en log-log).
    Como D_opt = C/(6·N_opt), a + b = 1 por construcción.

    Atributos:
        budgets: los presupuestos C (FLOPs), de menor a mayor.
        n_opt, d_opt, loss_opt: el mínimo de cada parábola: parámetros, tokens y pérdida.
        parabolas: los coeficientes (c₂, c₁, c₀) de cada parábola, en log N natural (ajustada a
            los tamaños de la ventana alrededor del mínimo medido; ver :func:`fit_isoflop`).
        extrapolated: si el mínimo de cada parábola cae fuera de los N medidos (el óptimo está
            extrapolado y no vale: ese presupuesto no entra en las rectas de a y b).
        a, k_n: N_opt = k_n·C^a, ajustada solo con los presupuestos no extrapolados.
        b, k_d: D_opt = k_d·C^b, ídem.
        tokens_per_parameter: D_opt / N_opt en cada presupuesto.
    """

    budgets: tuple[float, ...]
    n_opt: tuple[float, ...]
    d_opt: tuple[float, ...]
    loss_opt: tuple[float, ...]
    parabolas: tuple[tuple[float, float, float], ...]
    extrapolated: tuple[bool, ...]
    a: float
    k_n: float
    b: float
    k_d: float
    tokens_per_parameter: tuple[float, ...]

    @property
    def interior(self) -> tuple[float, ...]:
        """Los presupuestos cuyo óptimo cae dentro de los tamaños probados (los del ajuste de a y b)."""
        return tuple(c for c, out in zip(self.budgets, self.extrapolated) if not out)

    def optimal(self, compute: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(N_opt, D_opt)`` de las leyes ajustadas para el presupuesto ``compute`` (FLOPs)."""
        c = np.asarray(compute, dtype=float)
        return self.k_n * c**self.a, self.k_d * c**self.b

    def parabola(self, i: int, n: float | np.ndarray) -> np.ndarray:
        """La parábola del presupuesto ``budgets[i]`` evaluada en ``n`` parámetros."""
        return np.polyval(self.parabolas[i], np.log(np.asarray(n, dtype=float)))

    def to_dict(self) -> dict:
        """El ajuste como diccionario (para JSON; las tuplas quedan como listas)."""
        return json_ready(asdict(self))


def json_ready(value):
    """Convierte tuplas y números de NumPy en listas y números de Python (para JSON)."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def positive_columns(**columns) -> list[np.ndarray]:
    """Las columnas como arrays 1D de la misma longitud, finitas y positivas (o ValueError)."""
    arrays = [np.asarray(v, dtype=float).ravel() for v in columns.values()]
    sizes = {name: a.size for name, a in zip(columns, arrays)}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"{', '.join(columns)} deben tener el mismo número de puntos y tienen {sizes}.")
    for name, a in zip(columns, arrays):
        if not np.all(np.isfinite(a)) or np.any(a <= 0):
            raise ValueError(f"{name} debe ser finito y positivo en todos los puntos; tiene "
                             f"{a[~np.isfinite(a) | (a <= 0)][0]!r}.")
    return arrays


def fit_isoflop(
    budget: Sequence[float] | np.ndarray,
    n: Sequence[float] | np.ndarray,
    loss: Sequence[float] | np.ndarray,
    window: int | None = 4,
) -> IsoFlopFit:
    """Ajusta el enfoque 2 de Hoffmann et al. (2022) a unos entrenamientos de presupuesto fijo.

    Los entrenamientos se agrupan por su presupuesto nominal; los que repiten (C, N) con otra
    semilla se promedian antes de ajustar la parábola. Las rectas N_opt ∝ C^a y D_opt ∝ C^b
    usan solo los presupuestos cuyo mínimo cae dentro de los tamaños probados: un mínimo
    extrapolado (p. ej. por debajo del menor modelo) no es una medida.

    La parábola es una aproximación **local** del mínimo: se ajusta a los ``window`` tamaños
    consecutivos que rodean al de menor pérdida medida. Lejos del óptimo el perfil deja de ser
    simétrico (los modelos enormes con muy pocos pasos se aplanan cerca de la pérdida inicial)
    y una parábola por todos los puntos desplaza su vértice.

    Parámetros:
        budget: presupuesto C (FLOPs) de cada entrenamiento, el de la rejilla.
        n: parámetros de cada uno.
        loss: pérdida final de cada uno.
        window: tamaños por parábola (al menos 3), los más cercanos al mínimo medido; None =
            todos los del presupuesto.

    Devuelve:
        Un :class:`IsoFlopFit`.

    Formas:
        budget, n, loss: (k,); al menos 2 presupuestos con 3 tamaños distintos cada uno y
        con su mínimo dentro de los tamaños probados.
    """
    budget, n, loss = positive_columns(budget=budget, n=n, loss=loss)
    if window is not None and not (isinstance(window, int) and window >= 3):
        raise ValueError(f"window debe ser un entero >= 3 (o None) y es {window!r}.")
    budgets = np.unique(budget)
    if budgets.size < 2:
        raise ValueError(f"Hacen falta al menos 2 presupuestos para ajustar N_opt ∝ C^a y hay {budgets.size}.")
    rows = []
    for c in budgets:
        sizes = np.unique(n[budget == c])
        if sizes.size < 3:
            raise ValueError(f"El presupuesto C = {c:.3g} tiene {sizes.size} tamaños distintos: "
                             f"una parábola necesita al menos 3.")
        mean = np.array([loss[(budget == c) & (n == s)].mean() for s in sizes])
        if window is not None and sizes.size > window:  # los `window` tamaños alrededor del mínimo
            start = int(np.clip(np.argmin(mean) - (window - 1) // 2, 0, sizes.size - window))
            sizes, mean = sizes[start:start + window], mean[start:start + window]
        coefs = np.polyfit(np.log(sizes), mean, 2)
        if coefs[0] <= 0:
            raise ValueError(f"La parábola del presupuesto C = {c:.3g} no tiene mínimo (se abre hacia "
                             f"abajo, c₂ = {coefs[0]:.3g}): añade tamaños a los dos lados del óptimo.")
        log_opt = -coefs[1] / (2 * coefs[0])
        with np.errstate(over="ignore"):  # un mínimo muy extrapolado puede desbordar: queda marcado
            n_at_opt = float(np.exp(log_opt))
        rows.append((n_at_opt, float(np.polyval(coefs, log_opt)),
                     tuple(float(v) for v in coefs),
                     bool(not np.log(sizes[0]) <= log_opt <= np.log(sizes[-1]))))
    n_opt = np.array([r[0] for r in rows])
    with np.errstate(divide="ignore", over="ignore"):
        d_opt = budgets / (6.0 * n_opt)
    inside = np.array([not r[3] for r in rows])
    if inside.sum() < 2:
        outside = ", ".join(f"{c:.3g}" for c, ok in zip(budgets, inside) if not ok)
        raise ValueError(f"Solo {inside.sum()} presupuestos tienen su mínimo dentro de los tamaños probados "
                         f"(fuera: C = {outside}); hacen falta 2 para ajustar N_opt ∝ C^a. Añade tamaños "
                         f"hacia el lado del mínimo.")
    k_n, minus_a, _ = _loglog_fit(budgets[inside], n_opt[inside])
    k_d, minus_b, _ = _loglog_fit(budgets[inside], d_opt[inside])
    return IsoFlopFit(
        budgets=tuple(float(c) for c in budgets), n_opt=tuple(float(v) for v in n_opt),
        d_opt=tuple(float(v) for v in d_opt), loss_opt=tuple(r[1] for r in rows),
        parabolas=tuple(r[2] for r in rows), extrapolated=tuple(r[3] for r in rows),
        a=-minus_a, k_n=k_n, b=-minus_b, k_d=k_d,
        tokens_per_parameter=tuple(float(v) for v in np.divide(d_opt, n_opt, where=n_opt > 0,
                                                                out=np.full_like(d_opt, np.inf))),
    )


@dataclass(frozen=True)
class BootstrapResult:
    """Intervalos bootstrap de los números de un ajuste.

    Atributos:
        estimate: el ajuste con todos los datos (cada número por su nombre).
        low, high: percentiles (1 − level)/2 y (1 + level)/2 de los ajustes remuestreados.
        level: nivel de los intervalos (0,9 = 90 %).
        n_resamples: remuestreos que se ajustaron.
        n_failed: remuestreos en que el ajuste falló (p. ej. una parábola sin mínimo).
    """

    estimate: dict[str, float]
    low: dict[str, float]
    high: dict[str, float]
    level: float
    n_resamples: int
    n_failed: int

    def interval(self, name: str) -> tuple[float, float]:
        """``(low, high)`` del número ``name``."""
        if name not in self.estimate:
            raise KeyError(f"No hay intervalo para {name!r}; hay {sorted(self.estimate)}.")
        return self.low[name], self.high[name]

    def to_dict(self) -> dict:
        """El resultado como diccionario (para JSON)."""
        return asdict(self)


def _scalars(fit) -> dict[str, float]:
    values = fit.to_dict() if hasattr(fit, "to_dict") else dict(fit)
    return {k: float(v) for k, v in values.items()
            if isinstance(v, (int, float, np.number)) and not isinstance(v, bool)}


def bootstrap(
    fit: Callable[..., object],
    *columns: Sequence[float] | np.ndarray,
    n_resamples: int = 200,
    level: float = 0.9,
    seed: int = 0,
    groups: Sequence | np.ndarray | None = None,
) -> BootstrapResult:
    """Intervalos de confianza por bootstrap: se remuestrean los entrenamientos con reemplazo.

    Cada remuestreo elige, con reemplazo, tantos entrenamientos como hay (dentro de cada
    grupo si se da ``groups``, p. ej. el presupuesto en un IsoFLOP) y vuelve a ajustar. Los
    intervalos son los percentiles de los números de cada ajuste (los escalares de su
    ``to_dict()``). Con la misma semilla da siempre lo mismo.

    Parámetros:
        fit: la función de ajuste, p. ej. :func:`fit_isoflop` o ``fit_chinchilla``; recibe
            las columnas remuestreadas en el mismo orden.
        *columns: una columna por argumento de ``fit``, todas de la misma longitud.
        n_resamples: número de remuestreos.
        level: nivel de los intervalos, en (0, 1).
        seed: semilla del generador de NumPy.
        groups: etiqueta de cada entrenamiento; se remuestrea dentro de cada etiqueta.

    Devuelve:
        Un :class:`BootstrapResult`.
    """
    if not columns:
        raise ValueError("bootstrap necesita al menos una columna de datos.")
    cols = [np.asarray(c) for c in columns]
    size = cols[0].shape[0]
    if any(c.shape[0] != size for c in cols) or (groups is not None and len(groups) != size):
        raise ValueError(f"Las columnas (y groups) deben tener la misma longitud; tienen "
                         f"{[c.shape[0] for c in cols]}.")
    if not (isinstance(n_resamples, int) and n_resamples >= 2) or not 0 < level < 1:
        raise ValueError(f"n_resamples debe ser un entero >= 2 y level estar en (0, 1); son "
                         f"{n_resamples!r} y {level!r}.")
    labels = np.zeros(size) if groups is None else np.asarray(groups)
    members = [np.flatnonzero(labels == g) for g in np.unique(labels)]
    rng = np.random.default_rng(seed)
    estimate = _scalars(fit(*cols))
    samples, failed = [], 0
    for _ in range(n_resamples):
        idx = np.concatenate([rng.choice(m, size=m.size, replace=True) for m in members])
        try:
            samples.append(_scalars(fit(*(c[idx] for c in cols))))
        except ValueError:
            failed += 1
    if len(samples) < n_resamples / 2:
        raise ValueError(f"El ajuste falló en {failed} de {n_resamples} remuestreos: los datos no "
                         f"bastan para un intervalo.")
    q = 100 * np.array([(1 - level) / 2, (1 + level) / 2])
    low, high = {}, {}
    for name in estimate:
        low[name], high[name] = (float(v) for v in np.percentile([s[name] for s in samples], q))
    return BootstrapResult(estimate, low, high, level, len(samples), failed)
