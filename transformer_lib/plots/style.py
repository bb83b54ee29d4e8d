"""Estilo común de las figuras: la paleta y las piezas con las que se dibujan los diagramas.

Todas las figuras del libro toman sus colores de :data:`PALETTE`, así un mismo concepto
(la atención, la FFN, la normalización, el camino residual…) tiene el mismo color en
todos los capítulos. Las piezas (:func:`new_ax`, :func:`box`, :func:`arrow`, :func:`plus`,
:func:`finish_diagram`) importan matplotlib solo cuando se llaman.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["PALETTE", "Palette", "new_ax", "box", "arrow", "plus", "finish_diagram"]


@dataclass(frozen=True)
class Palette:
    """Los colores con nombre de todas las figuras, legibles en tema claro y oscuro.

    Atributos:
        query, key, value: consulta, clave y valor (Q, K, V).
        attention, ffn, norm: las subcapas (atención, red feed-forward, normalización).
        sublayer: una subcapa genérica; también la salida de un diagrama (``output``).
        residual: el camino residual (el atajo).
        io: cajas de entrada y salida.
        op: cajas de operaciones (MatMul, suma, concatenación…).
        ink: bordes y flechas.
        note, caption, muted: textos de apoyo, leyendas bajo el diagrama y flechas tenues.
        cycle: colores distintos para series (una cabeza, un token, una componente…).
    """

    query: str = "#4C72B0"
    key: str = "#DD8452"
    value: str = "#55A868"
    attention: str = "#4C72B0"
    ffn: str = "#55A868"
    norm: str = "#DD8452"
    sublayer: str = "#8172B3"
    output: str = "#8172B3"
    residual: str = "#C44E52"
    io: str = "#BBBBBB"
    op: str = "#E8E8E8"
    ink: str = "#333333"
    note: str = "#555555"
    caption: str = "#444444"
    muted: str = "#777777"
    cycle: tuple[str, ...] = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3",
                              "#937860", "#DA8BC3", "#8C8C8C", "#CCB974", "#64B5CD")


PALETTE = Palette()


def new_ax(ax: Axes | None, figsize: tuple[float, float], layout: str | None = None
           ) -> tuple[Figure, Axes]:
    """Los ejes donde dibujar: los que te dan o, si ``ax`` es None, los de una figura nueva.

    Parámetros:
        ax: ejes de matplotlib, o None.
        figsize: tamaño en pulgadas de la figura nueva.
        layout: motor de maquetación de la figura nueva (p. ej. ``"constrained"``).

    Devuelve:
        La figura y los ejes.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        return plt.subplots(figsize=figsize, layout=layout)
    return ax.figure, ax


def box(ax: Axes, x: float, y: float, w: float, h: float, text: str, color: str,
        fontsize: float = 10, textcolor: str = "black") -> None:
    """Caja con esquinas redondeadas de ancho ``w`` y alto ``h``, centrada en (x, y)."""
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h,
                                boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=color, edgecolor=PALETTE.ink, linewidth=1.0))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color=textcolor)


def arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float],
          color: str = PALETTE.ink, lw: float = 1.2, head: float = 12,
          alpha: float | None = None) -> None:
    """Flecha de ``start`` a ``end`` (``head`` es el tamaño de la punta)."""
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=head, color=color,
                                 linewidth=lw, alpha=alpha, shrinkA=0, shrinkB=0))


def plus(ax: Axes, x: float, y: float, r: float = 0.22) -> None:
    """Círculo de radio ``r`` con un signo + (la suma del camino residual)."""
    from matplotlib.patches import Circle

    ax.add_patch(Circle((x, y), r, facecolor=PALETTE.op, edgecolor=PALETTE.ink, linewidth=1.2))
    ax.text(x, y, "+", ha="center", va="center", fontsize=13, fontweight="bold")


def finish_diagram(ax: Axes, xlim: tuple[float, float], ylim: tuple[float, float],
                   title: str | None, fontsize: float | None = None) -> None:
    """Encuadra un diagrama: límites, misma escala en x e y, sin ejes, y el título si lo hay."""
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, **({} if fontsize is None else {"fontsize": fontsize}))
