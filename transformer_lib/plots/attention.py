"""Mapas de calor: pesos de atención (una cabeza o varias) y codificaciones posicionales.

Como todas las figuras de :mod:`transformer_lib.plots`, cada función recibe ``ax=None``
(o ``axes=None``); si no le das ejes, crea una figura nueva; dibuja con etiquetas en
español y **devuelve la figura**. No llama a ``plt.show()``, no escribe archivos y no toca
``rcParams``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from .style import new_ax

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_attention", "plot_heads", "plot_positional_encoding"]


def _to_numpy(x, name: str) -> np.ndarray:
    """Convierte un tensor o array en ``np.ndarray`` de floats (sin gradiente, en CPU)."""
    if isinstance(x, torch.Tensor):
        return x.detach().to("cpu", torch.float32).numpy()
    if isinstance(x, np.ndarray):
        return x.astype(np.float32, copy=False)
    if isinstance(x, (list, tuple)):
        return np.asarray(x, dtype=np.float32)
    raise TypeError(f"{name} debe ser un tensor de PyTorch o un array de NumPy y recibí {type(x).__name__}.")


def _check_labels(labels: Sequence[str] | None, n: int, name: str) -> list[str] | None:
    if labels is None:
        return None
    labels = [str(s) for s in labels]
    if len(labels) != n:
        raise ValueError(f"{name} tiene {len(labels)} etiquetas pero la matriz tiene {n} posiciones en ese eje.")
    return labels


def plot_attention(
    weights,
    x_labels: Sequence[str] | None = None,
    y_labels: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    cmap: str = "viridis",
    annotate: bool = False,
    colorbar: bool = True,
    vmax: float | None = None,
) -> Figure:
    """Mapa de calor de una matriz de pesos de atención.

    Cada fila es una consulta (el token que pregunta) y cada columna una clave (el token
    al que mira); el color es el peso que la consulta reparte sobre esa clave.

    Parámetros:
        weights: pesos de atención (tensor o array). Se admite un eje de lote o de cabezas
            de tamaño 1 delante, que se elimina.
        x_labels: etiquetas de las claves (columnas), una por posición.
        y_labels: etiquetas de las consultas (filas), una por posición.
        ax: ejes donde dibujar; si es None se crea una figura nueva.
        title: título del panel.
        cmap: mapa de color de matplotlib.
        annotate: escribe el valor de cada celda (útil con pocas posiciones).
        colorbar: añade una barra de color.
        vmax: valor máximo de la escala de color (por defecto, el máximo de la matriz).

    Devuelve:
        La figura de matplotlib que contiene el mapa.

    Formas:
        weights: (T_q, T_k), o (1, T_q, T_k), o (1, 1, T_q, T_k).
    """
    w = _to_numpy(weights, "weights")
    while w.ndim > 2 and w.shape[0] == 1:
        w = w[0]
    if w.ndim != 2:
        raise ValueError(
            f"weights debe ser una matriz (T_q, T_k) y tiene forma {tuple(w.shape)}; "
            "para varias cabezas usa plot_heads."
        )
    T_q, T_k = w.shape
    x_labels = _check_labels(x_labels, T_k, "x_labels")
    y_labels = _check_labels(y_labels, T_q, "y_labels")
    fig, ax = new_ax(ax, (0.45 * T_k + 2.2, 0.4 * T_q + 1.6))
    im = ax.imshow(w, cmap=cmap, vmin=0.0, vmax=vmax if vmax is not None else max(float(w.max()), 1e-8), aspect="auto")
    ax.set_xticks(range(T_k))
    ax.set_yticks(range(T_q))
    if x_labels is not None:
        ax.set_xticklabels(x_labels, rotation=60, ha="right", rotation_mode="anchor")
    if y_labels is not None:
        ax.set_yticklabels(y_labels)
    ax.set_xlabel("clave (a quién se mira)")
    ax.set_ylabel("consulta (quién mira)")
    if title is not None:
        ax.set_title(title)
    if annotate:
        top = float(w.max()) if w.size else 1.0
        for i in range(T_q):
            for j in range(T_k):
                color = "black" if w[i, j] > 0.6 * top else "white"
                ax.text(j, i, f"{w[i, j]:.2f}", ha="center", va="center", fontsize=7, color=color)
    if colorbar:
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="peso de atención")
    return fig


def plot_heads(
    weights,
    x_labels: Sequence[str] | None = None,
    y_labels: Sequence[str] | None = None,
    axes: Sequence[Axes] | None = None,
    titles: Sequence[str] | None = None,
    cmap: str = "viridis",
    suptitle: str | None = None,
) -> Figure:
    """Los mapas de atención de varias cabezas, uno al lado de otro y con la misma escala.

    Parámetros:
        weights: pesos de atención de h cabezas. Se admite un eje de lote de tamaño 1 delante.
        x_labels: etiquetas de las claves (columnas).
        y_labels: etiquetas de las consultas (filas); solo se escriben en el primer panel.
        axes: h ejes donde dibujar; si es None se crea una fila de h paneles.
        titles: un título por cabeza (por defecto "cabeza 1", "cabeza 2", …).
        cmap: mapa de color de matplotlib.
        suptitle: título general de la figura.

    Devuelve:
        La figura de matplotlib.

    Formas:
        weights: (h, T_q, T_k) o (1, h, T_q, T_k).
    """
    w = _to_numpy(weights, "weights")
    if w.ndim == 4 and w.shape[0] == 1:
        w = w[0]
    if w.ndim != 3:
        raise ValueError(f"weights debe tener forma (h, T_q, T_k) y tiene {tuple(w.shape)}.")
    h, T_q, T_k = w.shape
    x_labels = _check_labels(x_labels, T_k, "x_labels")
    y_labels = _check_labels(y_labels, T_q, "y_labels")
    if titles is not None and len(titles) != h:
        raise ValueError(f"titles tiene {len(titles)} títulos pero hay h={h} cabezas.")
    if axes is None:
        import matplotlib.pyplot as plt

        panel_w = min(0.38 * T_k + 1.2, 14.0 / h)  # ancho total acotado a unas 15 pulgadas
        panel_h = panel_w * T_q / T_k + 1.2
        fig, axes = plt.subplots(1, h, figsize=(h * panel_w + 1.0, panel_h), squeeze=False)
        axes = list(axes[0])
    else:
        axes = list(np.ravel(axes))
        if len(axes) != h:
            raise ValueError(f"Pasaste {len(axes)} ejes en axes pero hay h={h} cabezas.")
        fig = axes[0].figure
    vmax = max(float(w.max()), 1e-8)
    for i, ax in enumerate(axes):
        plot_attention(
            w[i], x_labels, y_labels if i == 0 else None, ax=ax,
            title=titles[i] if titles is not None else f"cabeza {i + 1}",
            cmap=cmap, colorbar=False, vmax=vmax,
        )
        if i > 0:
            ax.set_ylabel("")
            ax.set_yticklabels([])
    fig.colorbar(axes[-1].images[0], ax=axes, fraction=0.02, pad=0.02, label="peso de atención")
    if suptitle is not None:
        fig.suptitle(suptitle)
    return fig


def plot_positional_encoding(
    pe, ax: Axes | None = None, title: str | None = None, cmap: str = "RdBu_r"
) -> Figure:
    """Mapa de calor de una tabla de codificaciones posicionales.

    Cada fila es una posición y cada columna una dimensión del embedding; con la
    codificación sinusoidal se ven ondas cada vez más lentas de izquierda a derecha.

    Parámetros:
        pe: la tabla de codificaciones (p. ej. ``sinusoidal_encoding(max_len, d_model)``).
        ax: ejes donde dibujar; si es None se crea una figura nueva.
        title: título del panel.
        cmap: mapa de color divergente (los valores van de −1 a 1).

    Devuelve:
        La figura de matplotlib.

    Formas:
        pe: (max_len, d_model), o (1, max_len, d_model).
    """
    p = _to_numpy(pe, "pe")
    if p.ndim == 3 and p.shape[0] == 1:
        p = p[0]
    if p.ndim != 2:
        raise ValueError(f"pe debe tener forma (max_len, d_model) y tiene {tuple(p.shape)}.")
    fig, ax = new_ax(ax, (7.0, 4.0))
    lim = max(float(np.abs(p).max()), 1e-8)
    im = ax.imshow(p, cmap=cmap, vmin=-lim, vmax=lim, aspect="auto", interpolation="nearest")
    ax.set_xlabel("dimensión del embedding")
    ax.set_ylabel("posición en la secuencia")
    ax.set_title(title if title is not None else "Codificación posicional")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="valor")
    return fig


