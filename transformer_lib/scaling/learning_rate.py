"""La tasa de aprendizaje de cada tamaño (capítulo 9b): un barrido de tasas y la regla lr(N).

Con una sola tasa para todos los tamaños, un barrido favorece a los tamaños para los que esa
tasa resulta ser buena. :func:`best_lrs` lee un barrido de tasas (una rejilla con ``lrs``: cada
tamaño con cada tasa) y da la mejor de cada tamaño; :func:`fit_lr_rule` ajusta a esas mejores
la regla :class:`LrRule`, lr(N) = lr_ref·(N/n_ref)^(−exponent), que las rejillas usan con
``lr_rule`` y que el pronóstico del capítulo 10 extrapola a tamaños nuevos.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["LrRule", "best_lrs", "fit_lr_rule"]


@dataclass(frozen=True)
class LrRule:
    """La tasa de aprendizaje de cada tamaño: lr(N) = lr_ref·(N / n_ref)^(−exponent).

    N son los parámetros sin embeddings. Se ajusta sobre un barrido de tasas por tamaño
    (:func:`~transformer_lib.scaling.fit_lr_rule`) y sirve también para tamaños nuevos (el
    pronóstico del capítulo 10 la extrapola).

    Atributos:
        lr_ref: la tasa en ``n_ref``.
        n_ref: el tamaño de referencia.
        exponent: cuánto baja la tasa al crecer N (0 = la misma para todos).
        source: de dónde sale (p. ej. el archivo del barrido de tasas).
    """

    lr_ref: float
    n_ref: float
    exponent: float
    source: str = ""

    def __post_init__(self):
        if not (self.lr_ref > 0 and self.n_ref > 0):
            raise ValueError(f"lr_ref y n_ref deben ser positivos y son {self.lr_ref!r}, {self.n_ref!r}.")

    def __call__(self, n: float) -> float:
        """La tasa para un modelo de ``n`` parámetros sin embeddings (redondeada a 4 cifras)."""
        return float(f"{self.lr_ref * (n / self.n_ref) ** (-self.exponent):.4g}")


def _lrs(lrs: Sequence[float] | None) -> tuple[float | None, ...]:
    if lrs is None:
        return (None,)
    if not lrs or any(not (isinstance(v, (int, float)) and v > 0) for v in lrs) or len(set(lrs)) != len(lrs):
        raise ValueError(f"lrs debe ser una lista de tasas positivas y distintas; es {lrs!r}.")
    return tuple(float(v) for v in lrs)


def _run_lr(size_n: int, lr: float | None, rule: LrRule | None) -> float | None:
    """La tasa de una ejecución: la del barrido de tasas, la de la regla o la de la receta."""
    if lr is not None and rule is not None:
        raise ValueError("Una rejilla lleva lrs (barrido de tasas) o lr_rule (una por tamaño), no las dos.")
    return lr if lr is not None else (rule(size_n) if rule is not None else None)


def _lr_key(lr: float | None) -> str:
    return "" if lr is None else f"/lr{lr:g}"


def best_lrs(results: dict) -> list[dict]:
    """La mejor tasa de cada tamaño en un barrido de tasas (una rejilla con ``lrs``).

    Para cada tamaño se ajusta una parábola de la pérdida media (de las semillas) frente a
    log lr; si tiene mínimo dentro de las tasas probadas, ese es el óptimo; si no, la mejor
    tasa probada (y ``edge=True``: el óptimo puede estar fuera).

    Parámetros:
        results: un barrido de :func:`~transformer_lib.scaling.run_grid` con ``lrs``.

    Devuelve:
        Una fila por tamaño: ``name``, ``params_non_embedding``, ``lr_opt``, ``edge``, y las
        tasas y pérdidas medias probadas (``lrs``, ``losses``).
    """
    groups: dict[str, list[dict]] = {}
    for row in _average_seeds(results["runs"]):
        groups.setdefault(row["name"], []).append(row)
    out = []
    for name, rows in groups.items():
        rows.sort(key=lambda r: r["lr"])
        lrs = np.array([r["lr"] for r in rows])
        losses = np.array([r["val_loss"] for r in rows])
        if len(rows) < 2:
            raise ValueError(f"{name} tiene {len(rows)} tasa: hace falta un barrido de tasas (lrs).")
        best = float(lrs[int(np.argmin(losses))])
        lr_opt, edge = best, best in (lrs[0], lrs[-1])
        if len(rows) >= 3 and not edge:
            c2, c1, _ = np.polyfit(np.log(lrs), losses, 2)
            if c2 > 0:
                lr_opt = float(np.exp(-c1 / (2 * c2)))
        out.append({"name": name, "params_non_embedding": rows[0]["params_non_embedding"],
                    "lr_opt": lr_opt, "edge": bool(edge), "lrs": lrs.tolist(), "losses": losses.tolist()})
    return sorted(out, key=lambda r: r["params_non_embedding"])


def fit_lr_rule(results: dict, source: str = "") -> LrRule:
    """La regla lr(N) = lr_ref·(N/n_ref)^(−exponent) ajustada a las mejores tasas de :func:`best_lrs`.

    Un ajuste por mínimos cuadrados de log lr_opt frente a log N; n_ref es la media geométrica
    de los N del barrido.

    Parámetros:
        results: un barrido de tasas.
        source: de dónde sale (se guarda en la regla).

    Devuelve:
        La :class:`LrRule`.
    """
    rows = best_lrs(results)
    if len(rows) < 2:
        raise ValueError(f"El barrido de tasas tiene {len(rows)} tamaño: la regla necesita al menos 2.")
    log_n = np.log([r["params_non_embedding"] for r in rows])
    slope, intercept = np.polyfit(log_n, np.log([r["lr_opt"] for r in rows]), 1)
    n_ref = float(np.exp(log_n.mean()))
    lr_ref = float(np.exp(intercept + slope * np.log(n_ref)))
    return LrRule(lr_ref=float(f"{lr_ref:.4g}"), n_ref=float(f"{n_ref:.4g}"),
                  exponent=float(f"{-slope:.4g}"), source=source)


def _average_seeds(runs: list[dict]) -> list[dict]:
    """Una fila por tamaño y tasa con la media de sus semillas (lo justo para :func:`best_lrs`)."""
    groups: dict[str, list[dict]] = {}
    for run in runs:
        groups.setdefault(run["key"].rsplit("/s", 1)[0], []).append(run)
    return [{**group[0], "val_loss": float(np.mean([r["val_loss"] for r in group]))} for group in groups.values()]
