"""Tests de transformer_lib.plots: devuelven la figura, respetan los ejes dados y validan formas."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from transformer_lib import sinusoidal_encoding
from transformer_lib.plots import (
    draw_attention_diagram,
    draw_ffn_diagram,
    draw_multihead_diagram,
    plot_attention,
    plot_heads,
    plot_positional_encoding,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _weights(*shape: int) -> torch.Tensor:
    torch.manual_seed(0)
    return torch.softmax(torch.randn(*shape), dim=-1)


def test_plot_attention_returns_new_figure_with_labels():
    labels = ["En", "un", "lugar", "de"]
    fig = plot_attention(_weights(4, 4), labels, labels, title="prueba", annotate=True)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == labels
    assert ax.get_title() == "prueba"
    assert "clave" in ax.get_xlabel() and "consulta" in ax.get_ylabel()


def test_plot_attention_uses_given_ax_and_accepts_numpy_and_batch_axis():
    fig, ax = plt.subplots()
    out = plot_attention(_weights(1, 1, 3, 5).numpy(), ax=ax, colorbar=False)
    assert out is fig
    assert ax.images[0].get_array().shape == (3, 5)


def test_plot_attention_accepts_tensor_with_grad():
    w = _weights(3, 3).requires_grad_(True)
    assert isinstance(plot_attention(w), Figure)


@pytest.mark.parametrize("shape", [(5,), (2, 3, 3)])
def test_plot_attention_rejects_bad_shapes(shape):
    with pytest.raises(ValueError, match="T_q, T_k"):
        plot_attention(torch.rand(*shape))


def test_plot_attention_rejects_wrong_number_of_labels():
    with pytest.raises(ValueError, match="x_labels tiene 2 etiquetas"):
        plot_attention(_weights(3, 3), x_labels=["a", "b"])


def test_plot_attention_rejects_non_array():
    with pytest.raises(TypeError, match="tensor"):
        plot_attention("no soy una matriz")


def test_plot_heads_draws_one_panel_per_head_with_shared_scale():
    fig = plot_heads(_weights(1, 3, 4, 4), list("abcd"), list("abcd"), suptitle="cabezas")
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 3
    assert len({im.get_clim() for im in images}) == 1
    assert [ax.get_title() for ax in fig.axes[:3]] == ["cabeza 1", "cabeza 2", "cabeza 3"]


def test_plot_heads_uses_given_axes():
    fig, axes = plt.subplots(1, 2)
    assert plot_heads(_weights(2, 3, 3), axes=axes, titles=["previo", "marcador"]) is fig
    assert axes[1].get_title() == "marcador"


def test_plot_heads_validates():
    with pytest.raises(ValueError, match="h, T_q, T_k"):
        plot_heads(_weights(3, 3))
    fig, axes = plt.subplots(1, 3)
    with pytest.raises(ValueError, match="3 ejes"):
        plot_heads(_weights(2, 3, 3), axes=axes)
    with pytest.raises(ValueError, match="titles"):
        plot_heads(_weights(2, 3, 3), titles=["solo uno"])


def test_plot_positional_encoding():
    fig = plot_positional_encoding(sinusoidal_encoding(20, 16))
    assert isinstance(fig, Figure)
    assert fig.axes[0].images[0].get_array().shape == (20, 16)
    fig2, ax = plt.subplots()
    assert plot_positional_encoding(np.zeros((1, 5, 4)), ax=ax) is fig2
    with pytest.raises(ValueError, match="max_len, d_model"):
        plot_positional_encoding(torch.zeros(5))


@pytest.mark.parametrize("draw", [draw_attention_diagram, lambda ax=None: draw_multihead_diagram(3, ax=ax),
                                  lambda ax=None: draw_ffn_diagram(3, ax=ax)])
def test_diagrams_return_figure_and_use_given_ax(draw):
    assert isinstance(draw(), Figure)
    fig, ax = plt.subplots()
    assert draw(ax=ax) is fig
    assert len(ax.patches) > 3


@pytest.mark.parametrize("bad", [0, 9, 2.0, True])
def test_diagrams_validate_counts(bad):
    with pytest.raises(ValueError, match="entero entre 1 y 8"):
        draw_multihead_diagram(bad)
    with pytest.raises(ValueError, match="entero entre 1 y 8"):
        draw_ffn_diagram(bad)


def test_plots_do_not_touch_rcparams():
    before = dict(matplotlib.rcParams)
    plot_attention(_weights(3, 3))
    draw_multihead_diagram(2)
    assert dict(matplotlib.rcParams) == before
