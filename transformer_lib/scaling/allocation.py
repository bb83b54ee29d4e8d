"""La asignación óptima N_opt ∝ C^a contada de varias formas (capítulos 9b y 10).

Kaplan et al. (2020) midieron a ≈ 0,73; Hoffmann et al. (2022, «Chinchilla»), a ≈ 0,50. Pearce
y Song (2024) y Porian et al. (2024) mostraron que buena parte de la diferencia está en **cómo
se cuenta**: N sin embeddings frente a N total, C = 6·N·D frente a los FLOPs de verdad
(atención y capa de salida), un calendario de la tasa común frente a uno ajustado a cada
entrenamiento y una tasa para todos los tamaños frente a una por tamaño.

:func:`fit_allocation` lee el óptimo de cada presupuesto de una rejilla IsoFLOP (una parábola
de la pérdida frente a log N alrededor del mínimo medido, como el enfoque 2 de Hoffmann) con
el recuento de parámetros y la convención de FLOPs que se pidan, y ajusta la recta
log N_opt = log k + a·log C. Con ``flops="kaplan"`` el presupuesto de cada óptimo se vuelve a
contar como 6·N_sin_emb·D de ese mismo óptimo (los mismos entrenamientos, contados como Kaplan):
así se aísla el efecto del recuento sin entrenar nada más. :func:`allocation_bootstrap` da sus
intervalos y :func:`reconciliation_table`, la tabla que cambia una cosa cada vez.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .counting import FLOP_CONVENTIONS
from .fitting import BootstrapResult, bootstrap, json_ready

__all__ = ["PARAM_COUNTS", "AllocationFit", "fit_allocation", "allocation_columns", "allocation_bootstrap",
           "RECONCILIATION_STEPS", "reconciliation_table"]

PARAM_COUNTS = ("total", "non_embedding")
_PARAM_FIELD = {"total": "params_total", "non_embedding": "params_non_embedding"}


@dataclass(frozen=True)
class AllocationFit:
    """El óptimo de cada presupuesto y la recta N_opt = k·C^a.

    Atributos:
        params, flops: cómo se contaron N (``"total"`` o ``"non_embedding"``) y C (``"full"`` o
            ``"kaplan"``).
        budgets: presupuestos de la rejilla (FLOPs reales), de menor a mayor.
        compute: el cómputo de cada óptimo con la convención ``flops``.
        n_opt, d_opt, loss_opt: parámetros, tokens y pérdida en el mínimo de cada parábola.
        extrapolated: si el mínimo cae fuera de los tamaños medidos, o la parábola no tiene
            mínimo (entonces ``n_opt`` es el mejor tamaño medido); ese presupuesto no entra en la
            recta.
        a, k: N_opt = k·C^a con los presupuestos no extrapolados.
        curvature: la media de los c₂ de las parábolas (pérdida por unidad de (ln N)²).
        parabolas: los coeficientes (c₂, c₁, c₀) de cada parábola en ln N.
        tokens_per_parameter: D_opt / N_opt en cada presupuesto.
    """

    params: str
    flops: str
    budgets: tuple[float, ...]
    compute: tuple[float, ...]
    n_opt: tuple[float, ...]
    d_opt: tuple[float, ...]
    loss_opt: tuple[float, ...]
    extrapolated: tuple[bool, ...]
    a: float
    k: float
    curvature: float
    tokens_per_parameter: tuple[float, ...]
    parabolas: tuple[tuple[float, float, float], ...] = ()

    def n_at(self, compute: float | np.ndarray) -> np.ndarray:
        """N_opt de la recta para un cómputo (con la convención de ``flops``)."""
        return self.k * np.asarray(compute, dtype=float) ** self.a

    def to_dict(self) -> dict:
        """El ajuste como diccionario (para JSON)."""
        return json_ready(asdict(self))


def allocation_columns(runs: list[dict], params: str = "total") -> list[np.ndarray]:
    """Las columnas (presupuesto, N, pérdida, tokens, N sin embeddings) de unas ejecuciones IsoFLOP."""
    if params not in PARAM_COUNTS:
        raise ValueError(f"params debe ser uno de {PARAM_COUNTS} y es {params!r}.")
    field = _PARAM_FIELD[params]
    return [np.array([r[k] for r in runs], dtype=float)
            for k in ("budget", field, "val_loss", "tokens", "params_non_embedding")]


def _profile(n, loss, tokens, n_ne, window):
    """El mínimo de un perfil: (ln N*, pérdida*, ln D*, ln N_sin_emb*, (c₂, c₁, c₀), extrapolado)."""
    sizes = np.unique(n)
    if sizes.size < 3:
        raise ValueError(f"Un presupuesto tiene {sizes.size} tamaños distintos: la parábola necesita 3.")
    mean = np.array([loss[n == s].mean() for s in sizes])
    log_d = np.log([tokens[n == s][0] for s in sizes])
    log_ne = np.log([n_ne[n == s][0] for s in sizes])
    log_n = np.log(sizes)
    if sizes.size > window:  # los `window` tamaños alrededor del mínimo medido
        start = int(np.clip(np.argmin(mean) - (window - 1) // 2, 0, sizes.size - window))
        sl = slice(start, start + window)
    else:
        sl = slice(None)
    c2, c1, c0 = np.polyfit(log_n[sl], mean[sl], 2)
    if c2 <= 0:  # sin mínimo (el ruido puede más que la curvatura): el perfil no dice dónde está el óptimo
        best = int(np.argmin(mean))
        return log_n[best], mean[best], log_d[best], log_ne[best], (c2, c1, c0), True
    x = -c1 / (2 * c2)
    outside = not log_n[sl][0] <= x <= log_n[sl][-1]
    return x, c0 - c1**2 / (4 * c2), np.interp(x, log_n, log_d), np.interp(x, log_n, log_ne), (c2, c1, c0), outside


def _fit_columns(budget, n, loss, tokens, n_ne, params="total", flops="full", window=4) -> AllocationFit:
    if flops not in FLOP_CONVENTIONS:
        raise ValueError(f"flops debe ser una de {FLOP_CONVENTIONS} y es {flops!r}.")
    budgets = np.unique(budget)
    rows = [_profile(n[budget == c], loss[budget == c], tokens[budget == c], n_ne[budget == c], window)
            for c in budgets]
    log_n, loss_opt, log_d, log_ne, coefs, outside = (np.array(v) for v in zip(*rows))
    compute = budgets if flops == "full" else 6.0 * np.exp(log_ne + log_d)
    inside = ~outside.astype(bool)
    if inside.sum() < 2:
        raise ValueError(f"Solo {inside.sum()} presupuestos tienen su mínimo dentro de los tamaños: "
                         f"hacen falta 2 para la recta N_opt ∝ C^a.")
    a, log_k = np.polyfit(np.log(compute[inside]), log_n[inside], 1)
    with np.errstate(over="ignore"):  # un vértice muy extrapolado desborda: queda marcado como tal
        n_opt, d_opt, per_param = np.exp(log_n), np.exp(log_d), np.exp(log_d - log_n)
    return AllocationFit(
        params=params, flops=flops, budgets=tuple(budgets.tolist()), compute=tuple(compute.tolist()),
        n_opt=tuple(n_opt.tolist()), d_opt=tuple(d_opt.tolist()),
        loss_opt=tuple(loss_opt.tolist()), extrapolated=tuple(bool(v) for v in outside),
        a=float(a), k=float(np.exp(log_k)), curvature=float(coefs[:, 0].mean()),
        tokens_per_parameter=tuple(per_param.tolist()),
        parabolas=tuple(tuple(float(v) for v in c) for c in coefs))


def fit_allocation(results: dict, params: str = "total", flops: str = "full", window: int = 4) -> AllocationFit:
    """La asignación óptima de una rejilla IsoFLOP contada con ``params`` y ``flops``.

    Parámetros:
        results: un barrido IsoFLOP de :func:`~transformer_lib.scaling.run_grid`.
        params: ``"total"`` (Hoffmann et al.) o ``"non_embedding"`` (Kaplan et al.).
        flops: ``"full"`` (los FLOPs reales, con los que se fijó cada presupuesto) o ``"kaplan"``
            (el cómputo de cada óptimo vuelto a contar como 6·N_sin_emb·D).
        window: tamaños por parábola alrededor del mínimo medido.

    Devuelve:
        Un :class:`AllocationFit`.
    """
    return _fit_columns(*allocation_columns(results["runs"], params), params=params, flops=flops,
                        window=window)


def allocation_bootstrap(results: dict, params: str = "total", flops: str = "full",
                         n_resamples: int = 200, seed: int = 0, level: float = 0.9) -> BootstrapResult:
    """Intervalos de :func:`fit_allocation` remuestreando las ejecuciones dentro de cada presupuesto."""
    cols = allocation_columns(results["runs"], params)
    return bootstrap(lambda *c: _fit_columns(*c, params=params, flops=flops), *cols,
                     n_resamples=n_resamples, seed=seed, level=level, groups=cols[0])


# La tabla de la reconciliación: cada fila cambia una cosa respecto a la anterior.
# (etiqueta, rejilla, recuento de N, convención de FLOPs)
RECONCILIATION_STEPS: tuple[tuple[str, str, str, str], ...] = (
    ("Como Kaplan: N sin embeddings, C = 6·N·D, un calendario fijo y una tasa", "fixed", "non_embedding", "kaplan"),
    ("+ FLOPs completos (atención y capa de salida)", "fixed", "non_embedding", "full"),
    ("+ N total (con embeddings)", "fixed", "total", "full"),
    ("+ calendario ajustado a cada entrenamiento", "one_lr", "total", "full"),
    ("+ tasa ajustada a cada tamaño (como Chinchilla)", "tuned", "total", "full"),
)


def reconciliation_table(grids: dict[str, dict], n_resamples: int = 200, seed: int = 0) -> list[dict]:
    """El exponente a paso a paso, de la forma de contar de Kaplan a la de Chinchilla.

    Parámetros:
        grids: ``{"fixed": …, "one_lr": …, "tuned": …}``, las tres rejillas IsoFLOP (calendario
            fijo y una tasa; calendario ajustado y una tasa; calendario ajustado y una tasa por
            tamaño).
        n_resamples, seed: del bootstrap.

    Devuelve:
        Una fila por paso de :data:`RECONCILIATION_STEPS`: ``label``, ``grid``, ``params``,
        ``flops``, ``a`` y su intervalo del 90 % (``a_low``, ``a_high``).
    """
    rows = []
    for label, grid, params, flops in RECONCILIATION_STEPS:
        boot = allocation_bootstrap(grids[grid], params, flops, n_resamples=n_resamples, seed=seed)
        low, high = boot.interval("a")
        rows.append({"label": label, "grid": grid, "params": params, "flops": flops,
                     "a": boot.estimate["a"], "a_low": low, "a_high": high})
    return rows
