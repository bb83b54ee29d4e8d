"""La curva de entrenamiento: la pérdida de cada lote y las evaluaciones de un :class:`History`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from .style import new_ax

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..training import History

__all__ = ["plot_history"]


def plot_history(history: History, ax: Axes | None = None) -> Figure:
    """Dibuja las curvas de pérdida: el lote de cada paso (tenue, suavizado) y las evaluaciones.

    Parámetros:
        history: el :class:`~transformer_lib.training.History` que devolvió ``train``.
        ax: ejes de matplotlib donde dibujar; None crea una figura nueva.

    Devuelve:
        La figura de matplotlib.
    """
    fig, ax = new_ax(ax, (6, 3.5), layout="constrained")
    if history.steps:
        ax.plot(history.steps, history.train_loss, color="tab:blue", alpha=0.25, lw=0.8,
                label="entrenamiento (cada lote)")
        k = max(1, len(history.steps) // 50)
        if k > 1:
            smooth = torch.tensor(history.train_loss).unfold(0, k, 1).mean(dim=1).tolist()
            ax.plot(history.steps[k - 1:], smooth, color="tab:blue", lw=1.5,
                    label=f"entrenamiento (media de {k} pasos)")
    if history.eval_steps:
        ax.plot(history.eval_steps, history.val_loss, "o-", color="tab:orange", label="validación")
    ax.set_xlabel("paso de entrenamiento")
    ax.set_ylabel("pérdida (entropía cruzada)")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig
