"""Diagramas de la arquitectura, equivalentes reproducibles de los dibujos TikZ de las diapositivas.

- :func:`draw_attention_diagram`: la atención por producto escalado (capítulo 1).
- :func:`draw_multihead_diagram`: partir → atender → concatenar → W^O (capítulo 2).
- :func:`draw_residual_diagram`: X → Subcapa → (+), con el atajo de identidad (capítulo 3).
- :func:`draw_norm_groups`: qué números normaliza juntos LayerNorm y cuáles BatchNorm (capítulo 4).
- :func:`draw_ffn_diagram`: la misma MLP aplicada a cada token (capítulo 5).
- :func:`draw_block_diagram`: el bloque encoder en Post-LN (el artículo y las diapositivas) o
  en Pre-LN (GPT-2 y la mayoría de modelos grandes) (capítulos 4 y 6).

Cada función recibe ``ax=None`` (si no le das ejes, crea una figura nueva), **devuelve la
figura**, no llama a ``plt.show()``, no escribe archivos y no toca ``rcParams``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .style import PALETTE, arrow, box, finish_diagram, new_ax, plus

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "draw_attention_diagram",
    "draw_multihead_diagram",
    "draw_ffn_diagram",
    "draw_residual_diagram",
    "draw_norm_groups",
    "draw_block_diagram",
]


def _check_count(name: str, value: object, hi: int) -> None:
    """Comprueba que ``value`` sea un entero entre 1 y ``hi`` (lo que cabe en el dibujo)."""
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= hi:
        raise ValueError(f"{name} debe ser un entero entre 1 y {hi} para poder dibujarlo "
                         f"y recibí {value!r}.")


def _skip(ax: Axes, y_from: float, y_to: float, x_main: float, x_side: float, x_end: float,
          label: str | None = None) -> None:
    """Atajo residual: sale del eje principal en y_from, sube por x_side y entra en (x_end, y_to)."""
    ax.plot([x_main, x_side, x_side], [y_from, y_from, y_to], color=PALETTE.residual, lw=2.0,
            solid_capstyle="round")
    arrow(ax, (x_side, y_to), (x_end, y_to), color=PALETTE.residual, lw=2.0)
    ax.plot([x_main], [y_from], "o", color=PALETTE.residual, ms=5)
    if label:
        ax.text(x_side + 0.12, (y_from + y_to) / 2, label, rotation=90, ha="left", va="center",
                fontsize=8.5, color=PALETTE.residual)


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
    fig, ax = new_ax(ax, (4.6, 6.0))
    bw, bh = 2.4, 0.55
    box(ax, 1.0, 0.0, 0.9, bh, "Q", PALETTE.query, 12, "white")
    box(ax, 2.4, 0.0, 0.9, bh, "K", PALETTE.key, 12, "white")
    box(ax, 4.2, 0.0, 0.9, bh, "V", PALETTE.value, 12, "white")
    steps = [
        (1.2, "MatMul  $QK^\\top$"),
        (2.2, "Escala  $\\times 1/\\sqrt{d_k}$"),
        (3.2, "Máscara (opcional)"),
        (4.2, "Softmax por filas"),
    ]
    x_c = 1.7
    for y, text in steps:
        box(ax, x_c, y, bw, bh, text, PALETTE.op, 9.5)
    box(ax, 3.0, 5.4, bw + 0.4, bh, "MatMul  pesos $\\cdot V$", PALETTE.op, 9.5)
    box(ax, 3.0, 6.6, 1.6, bh, "salida", PALETTE.output, 11, "white")
    arrow(ax, (1.0, bh / 2), (1.3, 1.2 - bh / 2))
    arrow(ax, (2.4, bh / 2), (2.1, 1.2 - bh / 2))
    for (y0, _), (y1, _) in zip(steps[:-1], steps[1:]):
        arrow(ax, (x_c, y0 + bh / 2), (x_c, y1 - bh / 2))
    arrow(ax, (x_c, 4.2 + bh / 2), (2.5, 5.4 - bh / 2))
    arrow(ax, (4.2, bh / 2), (3.8, 5.4 - bh / 2))
    arrow(ax, (3.0, 5.4 + bh / 2), (3.0, 6.6 - bh / 2))
    ax.text(x_c + bw / 2 + 0.15, 4.2, "pesos\n(filas suman 1)", fontsize=8, va="center",
            color=PALETTE.note)
    default = "Atención por producto escalado"
    finish_diagram(ax, (-0.2, 5.2), (-0.6, 7.2), title if title is not None else default)
    return fig


def draw_multihead_diagram(n_heads: int = 4, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Diagrama de la atención multicabeza: partir → atender → concatenar → W^O.

    La entrada X (d_model componentes por token) se proyecta con W^Q, W^K, W^V; cada
    proyección se parte en h trozos de d_k = d_model/h columnas; cada cabeza hace su
    atención por separado; las h salidas se concatenan y W^O las mezcla.

    Parámetros:
        n_heads: número de cabezas h que se dibujan (1 a 8).
        ax: ejes donde dibujar; si es None se crea una figura nueva.
        title: título (por defecto, "Atención multicabeza (h = …)").

    Devuelve:
        La figura de matplotlib.
    """
    _check_count("n_heads", n_heads, 8)
    from matplotlib.patches import Rectangle

    h = n_heads
    width = max(9.0, 1.3 * h + 2.0)
    fig, ax = new_ax(ax, (width * 0.85, 7.0))
    mid = width / 2
    box(ax, mid, 0.0, 3.2, 0.55, "X  (T × $d_{model}$)", PALETTE.io, 10)
    # Las tres proyecciones, cada una como una barra partida en h trozos de d_k columnas.
    proj_y, bar_w, bar_h = 1.5, 2.6, 0.45
    head_x = [mid + (i - (h - 1) / 2) * 1.3 for i in range(h)]
    head_y = 3.6
    projections = ((-3.0, PALETTE.query, "$XW^Q$"), (0.0, PALETTE.key, "$XW^K$"),
                   (3.0, PALETTE.value, "$XW^V$"))
    for dx, color, text in projections:
        x0 = mid + dx - bar_w / 2
        ax.text(mid + dx, proj_y - bar_h / 2 - 0.12, text, ha="center", va="top", fontsize=10,
                color=color, fontweight="bold")
        arrow(ax, (mid, 0.28), (mid + dx, proj_y - bar_h / 2 - 0.45), color=PALETTE.muted)
        for i in range(h):
            c = PALETTE.cycle[i]
            seg = bar_w / h
            ax.add_patch(Rectangle((x0 + i * seg, proj_y - bar_h / 2), seg, bar_h, facecolor=c,
                                   edgecolor="white", linewidth=1.5))
            arrow(ax, (x0 + (i + 0.5) * seg, proj_y + bar_h / 2), (head_x[i], head_y - 0.3),
                  color=c, lw=0.9, head=8, alpha=0.55)
        ax.add_patch(Rectangle((x0, proj_y - bar_h / 2), bar_w, bar_h, fill=False, edgecolor=PALETTE.ink))
    ax.text(width - 0.1, proj_y - 0.95, "cada barra se parte en h trozos\nde $d_k = d_{model}/h$ columnas", ha="right",
            va="top", fontsize=8.5, color=PALETTE.caption)
    for i, x in enumerate(head_x):
        c = PALETTE.cycle[i]
        box(ax, x, head_y, 1.1, 0.6, f"Atención\ncabeza {i + 1}", c, 8, "white")
        arrow(ax, (x, head_y + 0.3), (mid + (i - (h - 1) / 2) * (3.6 / h), 4.92), color=c)
    box(ax, mid, 5.2, 4.0, 0.55, "Concat(cabeza$_1$, …, cabeza$_h$)", PALETTE.op, 9.5)
    box(ax, mid, 6.25, 2.2, 0.55, "$\\cdot\\, W^O$", PALETTE.output, 11, "white")
    arrow(ax, (mid, 5.48), (mid, 5.97))
    box(ax, mid, 7.3, 2.8, 0.55, "salida (T × $d_{model}$)", PALETTE.io, 10)
    arrow(ax, (mid, 6.53), (mid, 7.02))
    default = f"Atención multicabeza (h = {h})"
    finish_diagram(ax, (-0.2, width + 0.2), (-0.5, 7.8), title if title is not None else default)
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
    _check_count("n_tokens", n_tokens, 8)
    width = 1.9 * n_tokens + 1.2
    fig, ax = new_ax(ax, (max(5.0, 0.85 * width), 5.2))
    for i in range(n_tokens):
        x = 1.2 + 1.9 * i
        box(ax, x, 0.0, 1.0, 0.45, f"$x_{i + 1}$", PALETTE.io, 11)
        box(ax, x, 1.3, 1.5, 0.55, "$xW_1 + b_1$", PALETTE.query, 9, "white")
        box(ax, x, 2.45, 1.75, 0.5, "ReLU  ($d_{ff}$)", PALETTE.op, 9)
        box(ax, x, 3.6, 1.5, 0.55, "$hW_2 + b_2$", PALETTE.value, 9, "white")
        box(ax, x, 4.75, 1.0, 0.45, f"$y_{i + 1}$", PALETTE.output, 11, "white")
        arrow(ax, (x, 0.23), (x, 1.02))
        arrow(ax, (x, 1.58), (x, 2.2))
        arrow(ax, (x, 2.7), (x, 3.32))
        arrow(ax, (x, 3.88), (x, 4.52))
    ax.text(width / 2, -0.75, "mismos $W_1, b_1, W_2, b_2$ en todas las columnas; ninguna flecha entre tokens",
            fontsize=8.5, ha="center", color=PALETTE.caption)
    default = "La FFN actúa sobre cada token por separado"
    finish_diagram(ax, (-0.3, width + 0.1), (-1.1, 5.3), title if title is not None else default)
    return fig


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
    fig, ax = new_ax(ax, (4.8, 5.2))
    x = 1.6
    box(ax, x, 0.0, 1.6, 0.5, "$X$", PALETTE.io, 12)
    box(ax, x, 1.9, 2.6, 0.8, "Subcapa $F$\n(atención o FFN)", PALETTE.sublayer, 9.5, "white")
    plus(ax, x, 3.55)
    box(ax, x, 4.75, 2.2, 0.5, "$X + F(X)$", PALETTE.io, 11)
    arrow(ax, (x, 0.25), (x, 1.9 - 0.375))
    arrow(ax, (x, 1.9 + 0.375), (x, 3.55 - 0.22))
    arrow(ax, (x, 3.55 + 0.22), (x, 4.75 - 0.25))
    _skip(ax, 0.75, 3.55, x, x + 1.85, x + 0.22, "identidad (atajo)")
    if show_gradient:
        ax.text(x - 1.3, 3.55, "$\\dfrac{\\partial\\,\\mathrm{salida}}{\\partial X}"
                "= I + \\dfrac{\\partial F}{\\partial X}$",
                ha="right", va="center", fontsize=10, color=PALETTE.ink)
    finish_diagram(ax, (-2.2 if show_gradient else 0.0, 4.0), (-0.5, 5.2),
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
        _check_count(name, value, hi)
    from matplotlib.patches import Rectangle

    rows = batch * n_tokens
    fig, ax = new_ax(ax, (0.5 * d_model + 2.2, 0.42 * rows + 1.6))
    colors = (*PALETTE.cycle, *PALETTE.cycle[:2])  # 12 tonos: uno por componente (d_model <= 12)
    for r in range(rows):
        y = rows - 1 - r  # la primera fila arriba
        for c in range(d_model):
            color = colors[r % len(colors)] if kind == "layer" else colors[c % len(colors)]
            ax.add_patch(Rectangle((c, y), 1, 1, facecolor=color, alpha=0.75, edgecolor="white", lw=1.5))
    for b in range(1, batch):  # separación entre secuencias del lote
        y = rows - b * n_tokens
        ax.plot([-0.1, d_model + 0.1], [y, y], color=PALETTE.ink, lw=2.2)
    for b in range(batch):
        ax.text(-0.25, rows - (b + 0.5) * n_tokens, f"secuencia {b + 1}", rotation=90, ha="right",
                va="center", fontsize=8.5)
    ax.text(d_model / 2, -0.35, "componentes de $d_{model}$", ha="center", va="top", fontsize=9)
    ax.text(d_model + 0.45, rows / 2, "tokens", rotation=270, ha="left", va="center", fontsize=9)
    default = ("LayerNorm: cada fila (token) por separado" if kind == "layer"
               else "BatchNorm: cada columna, mezclando el lote")
    finish_diagram(ax, (-1.2, d_model + 0.9), (-1.1, rows + 0.2),
                   title if title is not None else default, fontsize=10)
    return fig


def draw_block_diagram(norm_first: bool = False, ax: Axes | None = None, title: str | None = None,
                       show_steps: bool = True) -> Figure:
    """Diagrama del bloque encoder del Transformer, en Post-LN o en Pre-LN.

    - Post-LN (``norm_first=False``, el artículo original y las diapositivas):
      1. autoatención multicabeza, 2. Add & Norm, 3. FFN, 4. Add & Norm.
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
    fig, ax = new_ax(ax, (4.6, 7.6))
    x, w, h = 1.8, 2.6, 0.6
    x_side = x + w / 2 + 0.45
    y = 0.0
    box(ax, x, y, 2.8, 0.5, "entrada $X$  (B, T, $d_{model}$)", PALETTE.io, 9)
    top = y + 0.25
    if not norm_first:
        items = [("Atención multicabeza\n(autoatención)", PALETTE.attention, "white", "1"),
                 ("Add & Norm", PALETTE.norm, "black", "2"),
                 ("Red feed-forward\n(FFN)", PALETTE.ffn, "white", "3"),
                 ("Add & Norm", PALETTE.norm, "black", "4")]
        ys = [1.45, 2.75, 4.25, 5.55]
        for (text, color, tc, step), yy in zip(items, ys):
            arrow(ax, (x, top), (x, yy - h / 2))
            box(ax, x, yy, w, h, text, color, 9.5, tc)
            if show_steps:
                ax.text(x - w / 2 - 0.2, yy, step, ha="right", va="center", fontsize=11,
                        fontweight="bold", color=PALETTE.note)
            top = yy + h / 2
        _skip(ax, 0.75, ys[1], x, x_side, x + w / 2, "residual")
        _skip(ax, ys[1] + h / 2 + 0.3, ys[3], x, x_side, x + w / 2, "residual")
        y_out = 6.75
    else:
        ys = {"ln1": 1.35, "attn": 2.45, "add1": 3.45, "ln2": 4.4, "ffn": 5.5, "add2": 6.5}
        arrow(ax, (x, top), (x, ys["ln1"] - 0.25))
        box(ax, x, ys["ln1"], w * 0.75, 0.5, "LayerNorm", PALETTE.norm, 9.5)
        arrow(ax, (x, ys["ln1"] + 0.25), (x, ys["attn"] - h / 2))
        box(ax, x, ys["attn"], w, h, "Atención multicabeza\n(autoatención)", PALETTE.attention,
            9.5, "white")
        arrow(ax, (x, ys["attn"] + h / 2), (x, ys["add1"] - 0.22))
        plus(ax, x, ys["add1"])
        arrow(ax, (x, ys["add1"] + 0.22), (x, ys["ln2"] - 0.25))
        box(ax, x, ys["ln2"], w * 0.75, 0.5, "LayerNorm", PALETTE.norm, 9.5)
        arrow(ax, (x, ys["ln2"] + 0.25), (x, ys["ffn"] - h / 2))
        box(ax, x, ys["ffn"], w, h, "Red feed-forward\n(FFN)", PALETTE.ffn, 9.5, "white")
        arrow(ax, (x, ys["ffn"] + h / 2), (x, ys["add2"] - 0.22))
        plus(ax, x, ys["add2"])
        _skip(ax, 0.7, ys["add1"], x, x_side, x + 0.22, "residual")
        _skip(ax, ys["add1"] + 0.45, ys["add2"], x, x_side, x + 0.22, "residual")
        top = ys["add2"] + 0.22
        y_out = 7.6
    arrow(ax, (x, top), (x, y_out - 0.25))
    box(ax, x, y_out, 2.8, 0.5, "salida  (B, T, $d_{model}$)", PALETTE.io, 9)
    ax.text(x - w / 2 - 0.55, (0.6 + y_out) / 2, "× N bloques", rotation=90, ha="center", va="center",
            fontsize=10, color=PALETTE.note)
    default = "Bloque encoder (Pre-LN)" if norm_first else "Bloque encoder (Post-LN)"
    finish_diagram(ax, (-0.6, x_side + 0.6), (-0.5, y_out + 0.5), title if title is not None else default)
    return fig
