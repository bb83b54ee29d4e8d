"""Figuras de datos y cómputo (capítulo 9): L(D), las curvas IsoFLOP, la ley completa y el óptimo.

- :func:`plot_data_scaling`: pérdida frente a los tokens distintos del entrenamiento (rejilla
  ``data``), con la dispersión de las semillas, la ley ajustada y la pendiente de Kaplan.
- :func:`plot_isoflop`: una curva por presupuesto (rejilla ``isoflop``), su parábola y su mínimo.
- :func:`plot_loss_contours`: la ley L(N, D) ajustada como curvas de nivel, con la línea del
  reparto óptimo y los entrenamientos encima.
- :func:`plot_compute_optimal`: N_opt(C) medido, frente a lo que predicen Hoffmann et al.
  (2022), Besiroglu et al. (2024) y la pendiente de Kaplan et al. (2020).

Reciben los resultados de :func:`~transformer_lib.scaling.run_grid` (o los ajustes) y siguen la
regla del paquete: ``ax=None`` crea una figura, se devuelve la figura y matplotlib solo se
importa dentro de las funciones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..scaling import (
    BESIROGLU2024,
    CHINCHILLA2022,
    KAPLAN2020,
    ChinchillaFit,
    IsoFlopFit,
    average_seeds,
    chinchilla_optimal,
    fit_isoflop,
    fit_power_law,
)
from .scaling import log_axes
from .style import new_ax

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_data_scaling", "plot_isoflop", "plot_loss_contours", "plot_compute_optimal"]

KAPLAN_N_OPT_EXPONENT = 0.73  # N_opt ∝ C^0,73 (Kaplan et al., 2020, sección 6)


def _runs_of(results: dict, kind: str) -> list[dict]:
    runs = results.get("runs") if isinstance(results, dict) else None
    if not runs:
        raise ValueError("results no tiene 'runs': pásale lo que devuelve run_grid o load_sweep.")
    if (results.get("grid") or {}).get("kind", kind) != kind:
        raise ValueError(f"results es de una rejilla {results['grid']['kind']!r}, no {kind!r}.")
    return runs


def plot_data_scaling(results: dict, ax: Axes | None = None, kaplan: bool = True) -> Figure:
    """L(D): pérdida de validación frente a los tokens distintos de cada subconjunto anidado.

    Cada punto es la media de las semillas y su barra, la desviación típica; junto a cada uno,
    las épocas que se repitió el subconjunto.

    Parámetros:
        results: los resultados de una rejilla ``data``.
        ax: ejes de matplotlib; None crea una figura nueva.
        kaplan: si se dibuja la pendiente de Kaplan (α_D = 0,095) desde el primer punto.

    Devuelve:
        La figura.
    """
    rows = sorted(average_seeds(_runs_of(results, "data")), key=lambda r: r["subset_tokens"])
    fig, ax = new_ax(ax, (6, 4))
    d = np.array([r["subset_tokens"] for r in rows], dtype=float)
    loss = np.array([r["val_loss"] for r in rows])
    ax.errorbar(d, loss, yerr=[r["val_loss_std"] for r in rows], fmt="o", color="tab:blue", ms=6,
                capsize=3, zorder=3, label="medido (media de las semillas)")
    for r in rows:
        ax.annotate(f"{r['epochs']:.2g} ép.", (r["subset_tokens"], r["val_loss"]),
                    textcoords="offset points", xytext=(5, 5), fontsize=8)
    grid = np.geomspace(d.min() / 1.3, d.max() * 1.3, 100)
    if len(rows) >= 2:
        f = fit_power_law(d, loss)
        ax.plot(grid, f(grid), "--", color="tab:blue", label=f"ajuste: L ∝ D^(−{f.alpha:.3f})")
    if kaplan:
        ref = loss[0] * (grid / d[0]) ** -KAPLAN2020.alpha_d
        ax.plot(grid, ref, ":", color="gray", label=f"pendiente de Kaplan: α_D = {KAPLAN2020.alpha_d}")
    log_axes(ax, "tokens distintos del entrenamiento D (caracteres)")
    return fig


def plot_isoflop(results: dict, ax: Axes | None = None, fit: IsoFlopFit | None = None) -> Figure:
    """Las curvas IsoFLOP: para cada presupuesto, pérdida frente a N, su parábola y su mínimo.

    Parámetros:
        results: los resultados de una rejilla ``isoflop``.
        ax: ejes de matplotlib; None crea una figura nueva.
        fit: el ajuste; None lo calcula con :func:`~transformer_lib.scaling.fit_isoflop`.

    Devuelve:
        La figura.
    """
    import matplotlib.pyplot as plt

    runs = _runs_of(results, "isoflop")
    fit = fit or fit_isoflop([r["budget"] for r in runs], [r["params_non_embedding"] for r in runs],
                             [r["val_loss"] for r in runs])
    rows = average_seeds(runs)
    fig, ax = new_ax(ax, (6, 4))
    cmap = plt.get_cmap("viridis")
    for i, c in enumerate(fit.budgets):
        color = cmap(i / max(1, len(fit.budgets) - 1))
        these = sorted((r for r in rows if r["budget"] == c), key=lambda r: r["params_non_embedding"])
        n = np.array([r["params_non_embedding"] for r in these], dtype=float)
        ax.errorbar(n, [r["val_loss"] for r in these], yerr=[r["val_loss_std"] for r in these],
                    fmt="o", color=color, ms=5, capsize=3, label=f"C = {c:.1e} FLOPs")
        grid = np.geomspace(n.min() / 1.2, n.max() * 1.2, 100)
        ax.plot(grid, fit.parabola(i, grid), "-", color=color, lw=1.2, alpha=0.8)
        ax.plot(fit.n_opt[i], fit.loss_opt[i], "*", color=color, ms=14, mec="black", zorder=4)
    ax.plot([], [], "*", color="gray", mec="black", ms=12, label="mínimo: N_opt(C)")
    log_axes(ax, "parámetros sin embeddings N")
    return fig


def plot_loss_contours(
    fit: ChinchillaFit,
    ax: Axes | None = None,
    n_range: tuple[float, float] | None = None,
    d_range: tuple[float, float] | None = None,
    runs: list[dict] | None = None,
    levels: int = 12,
) -> Figure:
    """La ley ajustada L(N, D) como curvas de nivel, con la línea del reparto óptimo C = 6·N·D.

    Parámetros:
        fit: el ajuste (:func:`~transformer_lib.scaling.fit_chinchilla`).
        ax: ejes de matplotlib; None crea una figura nueva.
        n_range, d_range: intervalos de N y de D; None = los de ``runs`` ampliados (o
            10⁴–10⁷ y 10⁵–10⁸ sin ``runs``).
        runs: entrenamientos que se dibujan encima (filas con ``params_non_embedding`` y ``tokens``).
        levels: número de curvas de nivel.

    Devuelve:
        La figura.
    """
    fig, ax = new_ax(ax, (6, 4.5))
    if runs:
        n_pts = np.array([r["params_non_embedding"] for r in runs], dtype=float)
        d_pts = np.array([r["tokens"] for r in runs], dtype=float)
        n_range = n_range or (n_pts.min() / 3, n_pts.max() * 3)
        d_range = d_range or (d_pts.min() / 3, d_pts.max() * 3)
    n_range, d_range = n_range or (1e4, 1e7), d_range or (1e5, 1e8)
    n = np.geomspace(*n_range, 120)
    d = np.geomspace(*d_range, 120)
    loss = fit.predict(n[None, :], d[:, None])  # (D, N)
    contours = ax.contour(n, d, loss, levels=levels, cmap="viridis")
    ax.clabel(contours, fontsize=7, fmt="%.2f")
    compute = np.geomspace(6 * n[0] * d[0], 6 * n[-1] * d[-1], 100)
    n_opt, d_opt = fit.optimal(compute)
    keep = (n_opt >= n[0]) & (n_opt <= n[-1]) & (d_opt >= d[0]) & (d_opt <= d[-1])
    ax.plot(n_opt[keep], d_opt[keep], "-", color="tab:red", lw=2, label="reparto óptimo para cada C")
    if runs:
        ax.plot(n_pts, d_pts, "o", color="black", ms=4, label="entrenamientos")
    ax.set_title(f"L = {fit.E:.2f} + {fit.A:.3g}/N^{fit.alpha:.2f} + {fit.B:.3g}/D^{fit.beta:.2f}",
                 fontsize=9)
    log_axes(ax, "parámetros sin embeddings N", "tokens de entrenamiento D", plain_y=False)
    return fig


def plot_compute_optimal(
    isoflop: IsoFlopFit | None = None,
    chinchilla: ChinchillaFit | None = None,
    ax: Axes | None = None,
    compute_range: tuple[float, float] | None = None,
    published: bool = True,
) -> Figure:
    """N_opt(C): nuestro óptimo medido frente a las predicciones publicadas.

    Parámetros:
        isoflop: nuestro ajuste IsoFLOP (puntos y ley N_opt ∝ C^a).
        chinchilla: nuestra ley completa (su línea de óptimos).
        ax: ejes de matplotlib; None crea una figura nueva.
        compute_range: intervalo de C; None = el de ``isoflop`` ampliado (o 10¹¹–10¹⁴).
        published: si se dibujan Hoffmann et al. (2022), Besiroglu et al. (2024) y la
            pendiente a = 0,73 de Kaplan et al. (2020) (que pasa por nuestro punto central).

    Devuelve:
        La figura.
    """
    if isoflop is None and chinchilla is None:
        raise ValueError("Pasa al menos un ajuste: isoflop o chinchilla.")
    fig, ax = new_ax(ax, (6, 4))
    if compute_range is None:
        compute_range = ((min(isoflop.budgets) / 3, max(isoflop.budgets) * 3) if isoflop else (1e11, 1e14))
    c = np.geomspace(*compute_range, 100)
    if isoflop is not None:
        ax.plot(isoflop.budgets, isoflop.n_opt, "*", color="tab:blue", ms=12, mec="black", zorder=4,
                label="nuestro IsoFLOP (mínimos)")
        ax.plot(c, isoflop.optimal(c)[0], "-", color="tab:blue", label=f"nuestro IsoFLOP: N ∝ C^{isoflop.a:.2f}")
    if chinchilla is not None:
        ax.plot(c, chinchilla.optimal(c)[0], "-", color="tab:red",
                label=f"nuestra ley completa: N ∝ C^{chinchilla.beta / (chinchilla.alpha + chinchilla.beta):.2f}")
    if published:
        for constants, style in ((CHINCHILLA2022, "--"), (BESIROGLU2024, "-.")):
            ax.plot(c, chinchilla_optimal(c, constants)[0], style, color="gray", label=constants.name)
        if isoflop is not None:
            c0 = float(np.exp(np.mean(np.log(isoflop.budgets))))
            n0 = float(isoflop.optimal(c0)[0])
            ax.plot(c, n0 * (c / c0) ** KAPLAN_N_OPT_EXPONENT, ":", color="black",
                    label=f"pendiente de Kaplan et al. (2020): N ∝ C^{KAPLAN_N_OPT_EXPONENT}")
    log_axes(ax, "cómputo C = 6·N·D (FLOPs)", "parámetros óptimos N_opt", plain_y=False)
    return fig
