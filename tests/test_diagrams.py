"""Tests de los diagramas de transformer_lib.plots (residual, grupos de normalización y bloque):
devuelven la figura, respetan los ejes dados, validan los argumentos y dibujan lo que dicen
(etiquetas en español)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure

from transformer_lib.plots import draw_block_diagram, draw_norm_groups, draw_residual_diagram


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_residual_diagram_new_figure_with_identity_path():
    fig = draw_residual_diagram()
    assert isinstance(fig, Figure)
    texts = _texts(fig)
    assert any("identidad" in t for t in texts)
    assert any("Subcapa" in t for t in texts)
    assert any("I +" in t for t in texts)  # la derivada I + ∂F/∂X
    assert fig.axes[0].get_title() == "Conexión residual"


def test_residual_diagram_uses_given_ax_and_can_hide_gradient():
    fig, ax = plt.subplots()
    out = draw_residual_diagram(ax=ax, title="otro", show_gradient=False)
    assert out is fig
    assert ax.get_title() == "otro"
    assert not any("I +" in t for t in _texts(fig))


@pytest.mark.parametrize("norm_first, n_ln, n_addnorm", [(False, 0, 2), (True, 2, 0)])
def test_block_diagram_variants(norm_first, n_ln, n_addnorm):
    fig = draw_block_diagram(norm_first=norm_first)
    texts = _texts(fig)
    assert sum(t == "LayerNorm" for t in texts) == n_ln
    assert sum(t == "Add & Norm" for t in texts) == n_addnorm
    assert any("Atención multicabeza" in t for t in texts)
    assert any("feed-forward" in t for t in texts)
    assert ("Pre-LN" if norm_first else "Post-LN") in fig.axes[0].get_title()


def test_block_diagram_numbers_the_four_steps_only_in_post_ln():
    assert {"1", "2", "3", "4"} <= set(_texts(draw_block_diagram(False)))
    assert not {"1", "2", "3", "4"} & set(_texts(draw_block_diagram(False, show_steps=False)))


def test_block_diagram_uses_given_ax_and_rejects_non_bool():
    fig, axes = plt.subplots(1, 2)
    assert draw_block_diagram(False, ax=axes[0]) is fig
    assert draw_block_diagram(True, ax=axes[1]) is fig
    with pytest.raises(TypeError, match="norm_first"):
        draw_block_diagram("pre")


@pytest.mark.parametrize("kind, word", [("layer", "LayerNorm"), ("batch", "BatchNorm")])
def test_norm_groups(kind, word):
    fig = draw_norm_groups(kind, n_tokens=3, d_model=5, batch=2)
    ax = fig.axes[0]
    assert word in ax.get_title()
    assert len(ax.patches) == 2 * 3 * 5  # una celda por número
    colors = {tuple(p.get_facecolor()) for p in ax.patches}
    # LayerNorm colorea por fila (2·3 grupos); BatchNorm, por columna (5 grupos).
    assert len(colors) == (6 if kind == "layer" else 5)


@pytest.mark.parametrize("kwargs, match", [
    ({"kind": "group"}, "kind"),
    ({"n_tokens": 0}, "n_tokens"),
    ({"d_model": 13}, "d_model"),
    ({"batch": 2.0}, "batch"),
])
def test_norm_groups_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        draw_norm_groups(**kwargs)

