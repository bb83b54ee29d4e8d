"""Lo que se lee de un barrido terminado (capítulos 9b y 10): medias de semillas, perfiles y ajustes.

Las mismas funciones sirven al motor (que guarda los ajustes en ``results["fits"]``), a los
capítulos y a los tests que comprueban las cifras citadas: una sola definición de qué
entrenamientos entran en cada ajuste.

- :func:`average_seeds`: una fila por punto de la rejilla, con la media de sus semillas;
- :func:`isoflop_profiles`: los presupuestos de un IsoFLOP con perfil completo (≥ 3 tamaños y
  una parábola con mínimo);
- :func:`law_points`: los puntos (N, D, L) para ajustar la ley completa L(N, D);
- :func:`grid_fits` y :func:`grid_bootstrap`: los ajustes de un barrido y sus intervalos.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

import numpy as np

from .chinchilla import fit_chinchilla
from .fitting import (
    BootstrapResult,
    bootstrap,
    fit_isoflop,
    fit_power_law,
    fit_power_law_with_offset,
)
from .learning_rate import best_lrs, fit_lr_rule
from .sweep import fit_sweep

__all__ = ["average_seeds", "isoflop_profiles", "law_points", "MAX_LAW_EPOCHS", "grid_fits", "grid_bootstrap"]

# Por encima de unas 4 épocas, repetir datos ya no equivale a datos nuevos (Muennighoff et al.,
# 2023): esos entrenamientos no entran en L(N, D), cuyo D supone tokens distintos.
MAX_LAW_EPOCHS = 4.0


def average_seeds(runs: list[dict]) -> list[dict]:
    """Una fila por punto de la rejilla (la clave sin semilla), con la media de las semillas.

    Parámetros:
        runs: las filas de ``results["runs"]``.

    Devuelve:
        Filas con los campos de la primera semilla, ``val_loss`` (media), ``val_loss_std``
        (desviación típica, 0 con una semilla), ``seeds`` y, si todas tienen la misma curva de
        validación, su media.
    """
    groups: dict[str, list[dict]] = {}
    for run in runs:
        groups.setdefault(run["key"].rsplit("/s", 1)[0], []).append(run)
    rows = []
    for point, group in groups.items():
        losses = np.array([r["val_loss"] for r in group])
        row = {**group[0], "key": point, "val_loss": float(losses.mean()),
               "val_loss_std": float(losses.std(ddof=1)) if len(group) > 1 else 0.0,
               "seeds": [r["seed"] for r in group]}
        curves = [r.get("curve") or {} for r in group]
        if all(c.get("steps") == curves[0].get("steps") for c in curves) and curves[0]:
            row["curve"] = {**curves[0], "val_loss": np.mean([c["val_loss"] for c in curves], 0).tolist()}
        rows.append(row)
    return rows


def isoflop_profiles(runs: list[dict]) -> list[dict]:
    """Los entrenamientos IsoFLOP de los presupuestos con perfil completo.

    Un presupuesto tiene perfil completo si tiene al menos 3 tamaños y la parábola de la
    pérdida media frente a log N se abre hacia arriba (tiene mínimo). Los demás no dicen
    dónde está el óptimo y no entran en :func:`~transformer_lib.scaling.fit_isoflop`.

    Parámetros:
        runs: las filas de ``results["runs"]`` de un barrido ``isoflop``.

    Devuelve:
        Las filas (todas sus semillas) de los presupuestos con perfil completo, por presupuesto.
    """
    kept = []
    for budget in sorted({r["budget"] for r in runs}):
        group = [r for r in runs if r["budget"] == budget]
        rows = average_seeds(group)
        log_n = np.log([r["params_non_embedding"] for r in rows])
        if len(rows) >= 3 and np.polyfit(log_n, [r["val_loss"] for r in rows], 2)[0] > 0:
            kept += group
    return kept


def law_points(*sweeps: dict, max_epochs: float = MAX_LAW_EPOCHS,
               average: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Los puntos (N, D, L) de unos barridos para ajustar L(N, D) (enfoque 3 de Hoffmann).

    N son los parámetros sin embeddings, D los tokens vistos y L la pérdida de validación
    final. Se dejan fuera los entrenamientos con más de ``max_epochs`` épocas.

    Parámetros:
        *sweeps: barridos de :func:`~transformer_lib.scaling.run_grid` (de cualquier rejilla).
        max_epochs: épocas máximas de un entrenamiento admitido.
        average: True = una fila por punto con la media de sus semillas (para el ajuste);
            False = cada entrenamiento por separado (para remuestrear en un bootstrap).

    Devuelve:
        ``(n, d, loss)``, tres arrays de la misma longitud.
    """
    rows = [r for s in sweeps for r in (average_seeds(s["runs"]) if average else s["runs"])
            if r["epochs"] <= max_epochs]
    return (np.array([r["params_non_embedding"] for r in rows], dtype=float),
            np.array([r["tokens"] for r in rows], dtype=float),
            np.array([r["val_loss"] for r in rows], dtype=float))


class _Rows(list):
    def to_dict(self) -> list:
        return list(self)


class _Rule:
    def __init__(self, rule):
        self.rule = rule

    def to_dict(self) -> dict:
        return asdict(self.rule)


def _fit_or_error(fit: Callable[[], object]) -> dict:
    try:
        return fit().to_dict()
    except ValueError as err:
        return {"error": str(err)}


def grid_fits(results: dict) -> dict:
    """Los ajustes de un barrido terminado, sobre la media de las semillas.

    - rejilla ``size``: los de :func:`~transformer_lib.scaling.fit_sweep` (L(N) y la frontera);
    - ``data``: ``"data"`` (L = A·D^(−α_D), con D los tokens distintos) y ``"data_offset"``;
    - ``isoflop``: ``"isoflop"`` (:func:`~transformer_lib.scaling.fit_isoflop` sobre los
      presupuestos de :func:`isoflop_profiles`; a y b, con los óptimos no extrapolados) y
      ``"chinchilla"`` (:func:`~transformer_lib.scaling.fit_chinchilla` sobre los puntos de
      :func:`law_points` de este barrido solo).

    Un ajuste imposible (p. ej. una parábola sin mínimo) queda como ``{"error": mensaje}``.
    """
    rows = average_seeds(results["runs"])
    kind = results["grid"]["kind"]
    loss = [r["val_loss"] for r in rows]
    if results["grid"].get("lrs"):  # un barrido de tasas: la mejor de cada tamaño y la regla
        return {"lr": _fit_or_error(lambda: _Rows(best_lrs(results))),
                "lr_rule": _fit_or_error(lambda: _Rule(fit_lr_rule(results)))}
    if kind == "size":
        return {k: v.to_dict() for k, v in fit_sweep({"runs": rows}).items()}
    if kind == "data":
        d = [r["subset_tokens"] for r in rows]
        fits = {"data": _fit_or_error(lambda: fit_power_law(d, loss))}
        if len(rows) >= 4:
            fits["data_offset"] = _fit_or_error(lambda: fit_power_law_with_offset(d, loss))
        return fits
    return {"isoflop": _fit_or_error(lambda: fit_isoflop(*_isoflop_columns(results))),
            "chinchilla": _fit_or_error(lambda: fit_chinchilla(*law_points(results)))}


def _isoflop_columns(results: dict) -> tuple[list[float], list[float], list[float]]:
    runs = isoflop_profiles(results["runs"])
    return ([r["budget"] for r in runs], [r["params_non_embedding"] for r in runs],
            [r["val_loss"] for r in runs])


def grid_bootstrap(results: dict, n_resamples: int = 200, seed: int = 0,
                   level: float = 0.9) -> dict[str, BootstrapResult]:
    """Intervalos bootstrap de los ajustes de un barrido, remuestreando sus ejecuciones.

    - ``size``: ``"params"`` (L = A·N^(−α_N));
    - ``data``: ``"data"`` (L = A·D^(−α_D));
    - ``isoflop``: ``"isoflop"`` (a, b, k_N, k_D; remuestreo dentro de cada presupuesto) y
      ``"chinchilla"`` (E, A, B, α, β; con 4 arranques de L-BFGS-B por remuestreo). Los
      entrenamientos son los mismos que los de :func:`grid_fits`, cada semilla por separado.

    Parámetros:
        results: un barrido de :func:`run_grid`.
        n_resamples, seed, level: como en :func:`~transformer_lib.scaling.bootstrap`.

    Devuelve:
        Un diccionario de :class:`~transformer_lib.scaling.BootstrapResult`.
    """
    runs = results["runs"]
    kind = results["grid"]["kind"]
    loss = [r["val_loss"] for r in runs]
    n = [r["params_non_embedding"] for r in runs]
    options = {"n_resamples": n_resamples, "seed": seed, "level": level}
    if kind == "size":
        return {"params": bootstrap(fit_power_law, n, loss, **options)}
    if kind == "data":
        return {"data": bootstrap(fit_power_law, [r["subset_tokens"] for r in runs], loss, **options)}
    budget, n_iso, loss_iso = _isoflop_columns(results)
    return {"isoflop": bootstrap(fit_isoflop, budget, n_iso, loss_iso, groups=budget, **options),
            "chinchilla": bootstrap(lambda *c: fit_chinchilla(*c, n_starts=4),
                                    *law_points(results, average=False), **options)}
