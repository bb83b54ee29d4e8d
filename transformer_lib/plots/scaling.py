"""Las leyes de escala en una figura: pérdida de validación frente a N o frente a C, en log-log."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..scaling import compute_frontier, fit_sweep, training_flops
from .style import new_ax

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_scaling"]


def plot_scaling(
    results: dict,
    x: str = "params",
    ax: Axes | None = None,
    fit: bool = True,
    curves: bool = True,
    label: str | None = None,
    color: str = "tab:blue",
) -> Figure:
    """Dibuja un barrido en ejes log-log: pérdida de validación frente a N o frente a C.

    Parámetros:
        results: lo que devuelve ``run_grid`` o ``load_sweep`` (de :mod:`transformer_lib.scaling`).
        x: ``"params"`` (N, parámetros sin embeddings) o ``"compute"`` (C = 6·N·D en FLOPs).
        ax: ejes de matplotlib; None crea una figura nueva.
        fit: si se dibuja la ley de potencia ajustada (con su exponente en la leyenda).
        curves: con ``x="compute"``, si se dibujan las curvas de validación de cada modelo.
        label: prefijo de la leyenda de los puntos.
        color: color de los puntos y del ajuste.

    Devuelve:
        La figura de matplotlib.
    """
    if x not in ("params", "compute"):
        raise ValueError(f"x debe ser 'params' o 'compute' y es {x!r}.")
    runs = results.get("runs") if isinstance(results, dict) else None
    if not runs:
        raise ValueError("results no tiene 'runs': pásale lo que devuelve run_grid o load_sweep.")
    fig, ax = new_ax(ax, (6, 4))
    key = "params_non_embedding" if x == "params" else "compute"
    xs = np.array([r[key] for r in runs], dtype=float)
    ys = np.array([r["val_loss"] for r in runs], dtype=float)
    if x == "compute" and curves:
        _plot_curves(ax, runs)
    ax.plot(xs, ys, "o", color=color, ms=7, zorder=3,
            label=(label + ": " if label else "") + "pérdida final")
    for r in runs:
        ax.annotate(r["name"], (r[key], r["val_loss"]), textcoords="offset points", xytext=(5, 5),
                    fontsize=8)
    fits = fit_sweep(results) if fit else {}
    if x in fits:
        f = fits[x]
        if x == "params":
            grid = np.geomspace(xs.min() / 1.5, xs.max() * 1.5, 100)
            sym = "N"
        else:
            c_front, _ = compute_frontier(results)
            grid = np.geomspace(c_front.min(), c_front.max() * 1.5, 100)
            sym = "C"
        ax.plot(grid, f(grid), "--", color="black" if x == "compute" else color, lw=1.5,
                label=f"ajuste: L = {f.a:.3g}·{sym}^(−{f.alpha:.3f})")
    log_axes(ax, "parámetros sin embeddings N" if x == "params" else "cómputo C = 6·N·D (FLOPs)")
    return fig


def _plot_curves(ax: Axes, runs: list[dict]) -> None:
    """La curva de validación de cada modelo frente al cómputo gastado hasta cada evaluación."""
    import matplotlib.pyplot as plt

    cmap = plt.get_cmap("viridis")
    for i, r in enumerate(runs):
        curve = r.get("curve") or {"tokens": [], "val_loss": []}
        c = [training_flops(r["params_non_embedding"], t) for t in curve["tokens"]]
        pts = [(ci, li) for ci, li in zip(c, curve["val_loss"]) if ci > 0]
        if pts:
            ax.plot(*zip(*pts), "-", color=cmap(i / max(1, len(runs) - 1)), alpha=0.8, lw=1.2,
                    label=f"{r['name']} (N = {r['params_non_embedding'] / 1e3:.0f} mil)")


LOSS_LABEL = "pérdida de validación (nats por carácter)"


def log_axes(ax: Axes, xlabel: str, ylabel: str = LOSS_LABEL, plain_y: bool = True) -> None:
    """Escalas logarítmicas, marcas legibles en y, etiquetas, rejilla y leyenda.

    Parámetros:
        ax: los ejes.
        xlabel, ylabel: etiquetas de los ejes.
        plain_y: marcas de y como números normales (2.5 en vez de 2.5×10⁰); para pérdidas.
    """
    from matplotlib.ticker import FuncFormatter

    ax.set_xscale("log")
    ax.set_yscale("log")
    if plain_y:
        plain = FuncFormatter(lambda v, _: f"{v:.3g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
