"""Figuras del curso: mapas de atención, codificaciones posicionales y diagramas.

Todas las funciones siguen la misma regla: reciben ``ax=None`` (o ``axes=None``); si no
les das ejes, crean una figura nueva; dibujan con etiquetas en español y **devuelven la
figura**. No llaman a ``plt.show()``, no escriben ficheros y no tocan ``rcParams``.

Se importan explícitamente, p. ej. ``from transformer_lib.plots import plot_attention``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

__all__ = [
    "plot_attention",
    "plot_heads",
    "plot_positional_encoding",
    "draw_attention_diagram",
    "draw_multihead_diagram",
    "draw_ffn_diagram",
]

# Colores de los diagramas (consulta / clave / valor / salida), legibles en claro y oscuro.
_COLORS = {
    "q": "#4C72B0",
    "k": "#DD8452",
    "v": "#55A868",
    "op": "#E8E8E8",
    "out": "#8172B3",
}
_HEAD_COLORS = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C"]


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


def _new_ax(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


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
    fig, ax = _new_ax(ax, (0.45 * T_k + 2.2, 0.4 * T_q + 1.6))
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
    fig, ax = _new_ax(ax, (7.0, 4.0))
    lim = max(float(np.abs(p).max()), 1e-8)
    im = ax.imshow(p, cmap=cmap, vmin=-lim, vmax=lim, aspect="auto", interpolation="nearest")
    ax.set_xlabel("dimensión del embedding")
    ax.set_ylabel("posición en la secuencia")
    ax.set_title(title if title is not None else "Codificación posicional")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="valor")
    return fig


# ---------------------------------------------------------------------------------------
# Diagramas (equivalentes a los TikZ de las diapositivas)
# ---------------------------------------------------------------------------------------


def _box(ax: Axes, x: float, y: float, w: float, h: float, text: str, color: str, fontsize: float = 10,
         textcolor: str = "black") -> None:
    """Caja con esquinas redondeadas centrada en (x, y)."""
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=color, edgecolor="#333333", linewidth=1.0))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color=textcolor)


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], color: str = "#333333") -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color=color, linewidth=1.2,
                                 shrinkA=0, shrinkB=0))


def _finish_diagram(ax: Axes, xlim: tuple[float, float], ylim: tuple[float, float], title: str | None) -> None:
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    if title is not None:
        ax.set_title(title)


def draw_attention_diagram(ax: Axes | None = None, title: str | None = None) -> Figure:
    """Diagrama de la atención por producto escalado: softmax(Q·Kᵀ/√d_k)·V.

    De abajo arriba: Q y K entran en el producto de matrices, se escalan por 1/√d_k,
    (opcionalmente) se enmascaran, pasan por la softmax y los pesos resultantes mezclan V.

    Parámetros:
        ax: ejes donde dibujar; si es None se crea una figura nueva.
        title: título (por defecto, "Atención por producto escalado").

    Devuelve:
        La figura de matplotlib.
    """
    fig, ax = _new_ax(ax, (4.6, 6.0))
    bw, bh = 2.4, 0.55
    _box(ax, 1.0, 0.0, 0.9, bh, "Q", _COLORS["q"], 12, "white")
    _box(ax, 2.4, 0.0, 0.9, bh, "K", _COLORS["k"], 12, "white")
    _box(ax, 4.2, 0.0, 0.9, bh, "V", _COLORS["v"], 12, "white")
    steps = [
        (1.2, "MatMul  $QK^\\top$"),
        (2.2, "Escala  $\\times 1/\\sqrt{d_k}$"),
        (3.2, "Máscara (opcional)"),
        (4.2, "Softmax por filas"),
    ]
    x_c = 1.7
    for y, text in steps:
        _box(ax, x_c, y, bw, bh, text, _COLORS["op"], 9.5)
    _box(ax, 3.0, 5.4, bw + 0.4, bh, "MatMul  pesos $\\cdot V$", _COLORS["op"], 9.5)
    _box(ax, 3.0, 6.6, 1.6, bh, "salida", _COLORS["out"], 11, "white")
    _arrow(ax, (1.0, bh / 2), (1.3, 1.2 - bh / 2))
    _arrow(ax, (2.4, bh / 2), (2.1, 1.2 - bh / 2))
    for (y0, _), (y1, _) in zip(steps[:-1], steps[1:]):
        _arrow(ax, (x_c, y0 + bh / 2), (x_c, y1 - bh / 2))
    _arrow(ax, (x_c, 4.2 + bh / 2), (2.5, 5.4 - bh / 2))
    _arrow(ax, (4.2, bh / 2), (3.8, 5.4 - bh / 2))
    _arrow(ax, (3.0, 5.4 + bh / 2), (3.0, 6.6 - bh / 2))
    ax.text(x_c + bw / 2 + 0.15, 4.2, "pesos\n(filas suman 1)", fontsize=8, va="center", color="#555555")
    _finish_diagram(ax, (-0.2, 5.2), (-0.6, 7.2), title if title is not None else "Atención por producto escalado")
    return fig


def draw_multihead_diagram(n_heads: int = 4, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Diagrama de la atención multi-cabeza: partir → atender → concatenar → W^O.

    La entrada X (d_model componentes por token) se proyecta con W^Q, W^K, W^V; cada
    proyección se parte en h trozos de d_k = d_model/h columnas; cada cabeza hace su
    atención por separado; las h salidas se concatenan y W^O las mezcla.

    Parámetros:
        n_heads: número de cabezas h que se dibujan (1 a 8).
        ax: ejes donde dibujar; si es None se crea una figura nueva.
        title: título (por defecto, "Atención multi-cabeza (h = …)").

    Devuelve:
        La figura de matplotlib.
    """
    if not isinstance(n_heads, int) or isinstance(n_heads, bool) or not 1 <= n_heads <= 8:
        raise ValueError(f"n_heads debe ser un entero entre 1 y 8 para poder dibujarlo y recibí {n_heads!r}.")
    h = n_heads
    width = max(9.0, 1.3 * h + 2.0)
    fig, ax = _new_ax(ax, (width * 0.85, 7.0))
    mid = width / 2
    _box(ax, mid, 0.0, 3.2, 0.55, "X  (T × $d_{model}$)", "#BBBBBB", 10)
    # Las tres proyecciones, cada una como una barra partida en h trozos de d_k columnas.
    proj_y, bar_w, bar_h = 1.5, 2.6, 0.45
    head_x = [mid + (i - (h - 1) / 2) * 1.3 for i in range(h)]
    head_y = 3.6
    for dx, key, text in ((-3.0, "q", "$XW^Q$"), (0.0, "k", "$XW^K$"), (3.0, "v", "$XW^V$")):
        x0 = mid + dx - bar_w / 2
        ax.text(mid + dx, proj_y - bar_h / 2 - 0.12, text, ha="center", va="top", fontsize=10,
                color=_COLORS[key], fontweight="bold")
        _arrow(ax, (mid, 0.28), (mid + dx, proj_y - bar_h / 2 - 0.45), color="#777777")
        for i in range(h):
            c = _HEAD_COLORS[i % len(_HEAD_COLORS)]
            seg = bar_w / h
            ax.add_patch(plt.Rectangle((x0 + i * seg, proj_y - bar_h / 2), seg, bar_h, facecolor=c,
                                       edgecolor="white", linewidth=1.5))
            ax.add_patch(FancyArrowPatch((x0 + (i + 0.5) * seg, proj_y + bar_h / 2), (head_x[i], head_y - 0.3),
                                         arrowstyle="-|>", mutation_scale=8, color=c, alpha=0.55,
                                         linewidth=0.9, shrinkA=0, shrinkB=0))
        ax.add_patch(plt.Rectangle((x0, proj_y - bar_h / 2), bar_w, bar_h, fill=False, edgecolor="#333333"))
    ax.text(width - 0.1, proj_y - 0.95, "cada barra se parte en h trozos\nde $d_k = d_{model}/h$ columnas", ha="right",
            va="top", fontsize=8.5, color="#444444")
    for i, x in enumerate(head_x):
        c = _HEAD_COLORS[i % len(_HEAD_COLORS)]
        _box(ax, x, head_y, 1.1, 0.6, f"Atención\ncabeza {i + 1}", c, 8, "white")
        _arrow(ax, (x, head_y + 0.3), (mid + (i - (h - 1) / 2) * (3.6 / h), 4.92), color=c)
    _box(ax, mid, 5.2, 4.0, 0.55, "Concat(cabeza$_1$, …, cabeza$_h$)", _COLORS["op"], 9.5)
    _box(ax, mid, 6.25, 2.2, 0.55, "$\\cdot\\, W^O$", _COLORS["out"], 11, "white")
    _arrow(ax, (mid, 5.48), (mid, 5.97))
    _box(ax, mid, 7.3, 2.8, 0.55, "salida (T × $d_{model}$)", "#BBBBBB", 10)
    _arrow(ax, (mid, 6.53), (mid, 7.02))
    default = f"Atención multi-cabeza (h = {h})"
    _finish_diagram(ax, (-0.2, width + 0.2), (-0.5, 7.8), title if title is not None else default)
    return fig


def draw_ffn_diagram(n_tokens: int = 4, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Diagrama de la red feed-forward por posición: la misma MLP aplicada a cada token.

    Cada columna es un token: d_model → d_ff (ancha) → d_model. Las cajas de todas las
    columnas comparten los mismos pesos W_1, b_1, W_2, b_2, y no hay flechas entre columnas.

    Parámetros:
        n_tokens: número de tokens (columnas) que se dibujan (1 a 8).
        ax: ejes donde dibujar; si es None se crea una figura nueva.
        title: título (por defecto, "La FFN actúa sobre cada token por separado").

    Devuelve:
        La figura de matplotlib.
    """
    if not isinstance(n_tokens, int) or isinstance(n_tokens, bool) or not 1 <= n_tokens <= 8:
        raise ValueError(f"n_tokens debe ser un entero entre 1 y 8 para poder dibujarlo y recibí {n_tokens!r}.")
    width = 1.9 * n_tokens + 1.2
    fig, ax = _new_ax(ax, (max(5.0, 0.85 * width), 5.2))
    for i in range(n_tokens):
        x = 1.2 + 1.9 * i
        _box(ax, x, 0.0, 1.0, 0.45, f"$x_{i + 1}$", "#BBBBBB", 11)
        _box(ax, x, 1.3, 1.5, 0.55, "$xW_1 + b_1$", _COLORS["q"], 9, "white")
        _box(ax, x, 2.45, 1.75, 0.5, "ReLU  ($d_{ff}$)", _COLORS["op"], 9)
        _box(ax, x, 3.6, 1.5, 0.55, "$hW_2 + b_2$", _COLORS["v"], 9, "white")
        _box(ax, x, 4.75, 1.0, 0.45, f"$y_{i + 1}$", _COLORS["out"], 11, "white")
        _arrow(ax, (x, 0.23), (x, 1.02))
        _arrow(ax, (x, 1.58), (x, 2.2))
        _arrow(ax, (x, 2.7), (x, 3.32))
        _arrow(ax, (x, 3.88), (x, 4.52))
    ax.text(width / 2, -0.75, "mismos $W_1, b_1, W_2, b_2$ en todas las columnas; ninguna flecha entre tokens",
            fontsize=8.5, ha="center", color="#444444")
    default = "La FFN actúa sobre cada token por separado"
    _finish_diagram(ax, (-0.3, width + 0.1), (-1.1, 5.3), title if title is not None else default)
    return fig
