"""Diagramas de los capítulos 3, 4 y 6: el camino residual, qué normaliza LayerNorm y el bloque.

Son los equivalentes reproducibles de los dibujos TikZ de las diapositivas, hechos con
matplotlib y con etiquetas en español. Como el resto de figuras de la biblioteca, cada
función recibe ``ax=None`` (si no le das ejes, crea una figura nueva), **devuelve la
figura**, no llama a ``plt.show()``, no escribe ficheros y no toca ``rcParams``.

- :func:`draw_residual_diagram`: X → Subcapa → (+), con el atajo de identidad (capítulo 3).
- :func:`draw_norm_groups`: qué números normaliza juntos LayerNorm y cuáles BatchNorm (capítulo 4).
- :func:`draw_block_diagram`: el bloque encoder en Post-LN (el artículo y las diapositivas) o
  en Pre-LN (GPT-2 y la mayoría de modelos grandes) (capítulos 4 y 6).

Se importan explícitamente, p. ej. ``from transformer_lib.diagrams import draw_block_diagram``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle

__all__ = ["draw_residual_diagram", "draw_norm_groups", "draw_block_diagram"]

# Mismos tonos que los diagramas de transformer_lib.plots, para que el libro sea coherente.
_ATTN = "#4C72B0"  # atención
_FFN = "#55A868"  # red feed-forward
_NORM = "#DD8452"  # normalización
_SUB = "#8172B3"  # subcapa genérica
_IO = "#BBBBBB"  # entradas y salidas
_OP = "#E8E8E8"  # operaciones (suma)
_SKIP = "#C44E52"  # camino residual
_INK = "#333333"


def _new_ax(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    else:
        fig = ax.figure
    return fig, ax


def _box(ax: Axes, x: float, y: float, w: float, h: float, text: str, color: str,
         fontsize: float = 10, textcolor: str = "black") -> None:
    """Caja con esquinas redondeadas centrada en (x, y)."""
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h,
                                boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=color, edgecolor=_INK, linewidth=1.0))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color=textcolor)


def _plus(ax: Axes, x: float, y: float, r: float = 0.22) -> None:
    """Círculo con un signo + (la suma del camino residual)."""
    ax.add_patch(Circle((x, y), r, facecolor=_OP, edgecolor=_INK, linewidth=1.2))
    ax.text(x, y, "+", ha="center", va="center", fontsize=13, fontweight="bold")


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], color: str = _INK,
           lw: float = 1.2) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color=color,
                                 linewidth=lw, shrinkA=0, shrinkB=0))


def _skip(ax: Axes, y_from: float, y_to: float, x_main: float, x_side: float, x_end: float,
          label: str | None = None) -> None:
    """Atajo residual: sale del eje principal en y_from, sube por x_side y entra en (x_end, y_to)."""
    ax.plot([x_main, x_side, x_side], [y_from, y_from, y_to], color=_SKIP, lw=2.0,
            solid_capstyle="round")
    _arrow(ax, (x_side, y_to), (x_end, y_to), color=_SKIP, lw=2.0)
    ax.plot([x_main], [y_from], "o", color=_SKIP, ms=5)
    if label:
        ax.text(x_side + 0.12, (y_from + y_to) / 2, label, rotation=90, ha="left", va="center",
                fontsize=8.5, color=_SKIP)


def _finish(ax: Axes, xlim: tuple[float, float], ylim: tuple[float, float], title: str | None) -> None:
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)


def draw_residual_diagram(ax: Axes | None = None, title: str | None = None,
                          show_gradient: bool = True) -> Figure:
    """Diagrama de una conexión residual: salida = X + Subcapa(X).

    De abajo arriba: X entra en la subcapa F; a la vez, un atajo (en rojo) lleva X intacta
    hasta la suma. Con ``show_gradient`` se anota la derivada que recorre el gradiente al
    volver: ∂salida/∂X = I + ∂F/∂X, donde la I es el atajo.

    Parámetros:
        ax: ejes donde dibujar; si es None se crea una figura nueva.
        title: título (por defecto, "Conexión residual").
        show_gradient: si se anota la derivada del bloque.

    Devuelve:
        La figura de matplotlib.
    """
    fig, ax = _new_ax(ax, (4.8, 5.2))
    x = 1.6
    _box(ax, x, 0.0, 1.6, 0.5, "$X$", _IO, 12)
    _box(ax, x, 1.9, 2.6, 0.8, "Subcapa $F$\n(atención o FFN)", _SUB, 9.5, "white")
    _plus(ax, x, 3.55)
    _box(ax, x, 4.75, 2.2, 0.5, "$X + F(X)$", _IO, 11)
    _arrow(ax, (x, 0.25), (x, 1.9 - 0.375))
    _arrow(ax, (x, 1.9 + 0.375), (x, 3.55 - 0.22))
    _arrow(ax, (x, 3.55 + 0.22), (x, 4.75 - 0.25))
    _skip(ax, 0.75, 3.55, x, x + 1.85, x + 0.22, "identidad (atajo)")
    if show_gradient:
        ax.text(x - 1.3, 3.55, "$\\dfrac{\\partial\\,\\mathrm{salida}}{\\partial X}"
                "= I + \\dfrac{\\partial F}{\\partial X}$",
                ha="right", va="center", fontsize=10, color=_INK)
    _finish(ax, (-2.2 if show_gradient else 0.0, 4.0), (-0.5, 5.2),
            title if title is not None else "Conexión residual")
    return fig


def draw_norm_groups(kind: str = "layer", n_tokens: int = 4, d_model: int = 6, batch: int = 2,
                     ax: Axes | None = None, title: str | None = None) -> Figure:
    """Cuadrícula de activaciones que marca qué números se normalizan juntos.

    Cada fila es un token (los de todas las secuencias del lote, una tras otra) y cada
    columna una componente de d_model. LayerNorm (``kind="layer"``) calcula media y varianza
    por **fila**: cada token por su cuenta. BatchNorm (``kind="batch"``) las calcula por
    **columna**, mezclando todos los tokens de todas las secuencias del lote.

    Parámetros:
        kind: "layer" (LayerNorm) o "batch" (BatchNorm).
        n_tokens: tokens por secuencia T que se dibujan (1 a 8).
        d_model: componentes por token que se dibujan (1 a 12).
        batch: secuencias en el lote B (1 a 4).
        ax: ejes donde dibujar; si es None se crea una figura nueva.
        title: título (por defecto, uno que dice qué se normaliza).

    Devuelve:
        La figura de matplotlib.
    """
    if kind not in ("layer", "batch"):
        raise ValueError(f"kind debe ser 'layer' o 'batch' y recibí {kind!r}.")
    for name, value, hi in (("n_tokens", n_tokens, 8), ("d_model", d_model, 12), ("batch", batch, 4)):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= hi:
            raise ValueError(f"{name} debe ser un entero entre 1 y {hi} para poder dibujarlo y recibí {value!r}.")
    rows = batch * n_tokens
    fig, ax = _new_ax(ax, (0.5 * d_model + 2.2, 0.42 * rows + 1.6))
    palette = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3",
               "#8C8C8C", "#CCB974", "#64B5CD", "#4C72B0", "#DD8452"]
    for r in range(rows):
        y = rows - 1 - r  # la primera fila arriba
        for c in range(d_model):
            color = palette[r % len(palette)] if kind == "layer" else palette[c % len(palette)]
            ax.add_patch(Rectangle((c, y), 1, 1, facecolor=color, alpha=0.75, edgecolor="white", lw=1.5))
    for b in range(1, batch):  # separación entre secuencias del lote
        y = rows - b * n_tokens
        ax.plot([-0.1, d_model + 0.1], [y, y], color=_INK, lw=2.2)
    for b in range(batch):
        ax.text(-0.25, rows - (b + 0.5) * n_tokens, f"secuencia {b + 1}", rotation=90, ha="right",
                va="center", fontsize=8.5)
    ax.text(d_model / 2, -0.35, "componentes de $d_{model}$", ha="center", va="top", fontsize=9)
    ax.text(d_model + 0.45, rows / 2, "tokens", rotation=270, ha="left", va="center", fontsize=9)
    default = ("LayerNorm: cada fila (token) por separado" if kind == "layer"
               else "BatchNorm: cada columna, mezclando el lote")
    ax.set_xlim(-1.2, d_model + 0.9)
    ax.set_ylim(-1.1, rows + 0.2)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title if title is not None else default, fontsize=10)
    return fig


def draw_block_diagram(norm_first: bool = False, ax: Axes | None = None, title: str | None = None,
                       show_steps: bool = True) -> Figure:
    """Diagrama del bloque encoder del Transformer, en Post-LN o en Pre-LN.

    - Post-LN (``norm_first=False``, el artículo original y las diapositivas):
      1. autoatención multi-cabeza, 2. Add & Norm, 3. FFN, 4. Add & Norm.
      La LayerNorm está *sobre* el camino residual.
    - Pre-LN (``norm_first=True``): la LayerNorm va delante de cada subcapa y la suma queda
      fuera; el camino residual (en rojo) llega de la entrada a la salida sin tocar ninguna
      normalización.

    Parámetros:
        norm_first: False para Post-LN, True para Pre-LN.
        ax: ejes donde dibujar; si es None se crea una figura nueva.
        title: título (por defecto, "Bloque encoder (Post-LN)" o "… (Pre-LN)").
        show_steps: si se numeran los pasos 1–4 de las diapositivas (solo en Post-LN).

    Devuelve:
        La figura de matplotlib.
    """
    if not isinstance(norm_first, bool):
        raise TypeError(f"norm_first debe ser True o False y recibí {norm_first!r}.")
    fig, ax = _new_ax(ax, (4.6, 7.6))
    x, w, h = 1.8, 2.6, 0.6
    x_side = x + w / 2 + 0.45
    y = 0.0
    _box(ax, x, y, 2.8, 0.5, "entrada $X$  (B, T, $d_{model}$)", _IO, 9)
    top = y + 0.25
    if not norm_first:
        items = [("Atención multi-cabeza\n(autoatención)", _ATTN, "white", "1"),
                 ("Add & Norm", _NORM, "black", "2"),
                 ("Red feed-forward\n(FFN)", _FFN, "white", "3"),
                 ("Add & Norm", _NORM, "black", "4")]
        ys = [1.45, 2.75, 4.25, 5.55]
        for (text, color, tc, step), yy in zip(items, ys):
            _arrow(ax, (x, top), (x, yy - h / 2))
            _box(ax, x, yy, w, h, text, color, 9.5, tc)
            if show_steps:
                ax.text(x - w / 2 - 0.2, yy, step, ha="right", va="center", fontsize=11,
                        fontweight="bold", color="#555555")
            top = yy + h / 2
        _skip(ax, 0.75, ys[1], x, x_side, x + w / 2, "residual")
        _skip(ax, ys[1] + h / 2 + 0.3, ys[3], x, x_side, x + w / 2, "residual")
        y_out = 6.75
    else:
        ys = {"ln1": 1.35, "attn": 2.45, "add1": 3.45, "ln2": 4.4, "ffn": 5.5, "add2": 6.5}
        _arrow(ax, (x, top), (x, ys["ln1"] - 0.25))
        _box(ax, x, ys["ln1"], w * 0.75, 0.5, "LayerNorm", _NORM, 9.5)
        _arrow(ax, (x, ys["ln1"] + 0.25), (x, ys["attn"] - h / 2))
        _box(ax, x, ys["attn"], w, h, "Atención multi-cabeza\n(autoatención)", _ATTN, 9.5, "white")
        _arrow(ax, (x, ys["attn"] + h / 2), (x, ys["add1"] - 0.22))
        _plus(ax, x, ys["add1"])
        _arrow(ax, (x, ys["add1"] + 0.22), (x, ys["ln2"] - 0.25))
        _box(ax, x, ys["ln2"], w * 0.75, 0.5, "LayerNorm", _NORM, 9.5)
        _arrow(ax, (x, ys["ln2"] + 0.25), (x, ys["ffn"] - h / 2))
        _box(ax, x, ys["ffn"], w, h, "Red feed-forward\n(FFN)", _FFN, 9.5, "white")
        _arrow(ax, (x, ys["ffn"] + h / 2), (x, ys["add2"] - 0.22))
        _plus(ax, x, ys["add2"])
        _skip(ax, 0.7, ys["add1"], x, x_side, x + 0.22, "residual")
        _skip(ax, ys["add1"] + 0.45, ys["add2"], x, x_side, x + 0.22, "residual")
        top = ys["add2"] + 0.22
        y_out = 7.6
    _arrow(ax, (x, top), (x, y_out - 0.25))
    _box(ax, x, y_out, 2.8, 0.5, "salida  (B, T, $d_{model}$)", _IO, 9)
    ax.text(x - w / 2 - 0.55, (0.6 + y_out) / 2, "× N bloques", rotation=90, ha="center", va="center",
            fontsize=10, color="#555555")
    default = "Bloque encoder (Pre-LN)" if norm_first else "Bloque encoder (Post-LN)"
    _finish(ax, (-0.6, x_side + 0.6), (-0.5, y_out + 0.5), title if title is not None else default)
    return fig
