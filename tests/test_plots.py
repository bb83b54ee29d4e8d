"""Tests de transformer_lib.plots: devuelven la figura, respetan los ejes dados, validan formas,
usan una sola paleta y no cargan matplotlib al importarse."""

import os
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

import transformer_lib.plots
from transformer_lib import sinusoidal_encoding
from transformer_lib.plots import (
    draw_attention_diagram,
    draw_block_diagram,
    draw_ffn_diagram,
    draw_multihead_diagram,
    draw_norm_groups,
    draw_residual_diagram,
    plot_attention,
    plot_heads,
    plot_history,
    plot_positional_encoding,
    plot_scaling,
)
from transformer_lib.plots.style import PALETTE
from transformer_lib.scaling import training_flops
from transformer_lib.training import History


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


def test_import_does_not_load_matplotlib():
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    code = ("import sys, transformer_lib.plots; "
            "assert transformer_lib.plots.__file__.startswith(sys.argv[1]), transformer_lib.plots.__file__; "
            "assert 'matplotlib' not in sys.modules, 'se cargó matplotlib'")
    proc = subprocess.run([sys.executable, "-c", code, str(root)], env=env, cwd=root,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_every_public_name_is_a_figure_helper():
    assert len(transformer_lib.plots.__all__) == len(set(transformer_lib.plots.__all__)) == 11
    for name in transformer_lib.plots.__all__:
        assert callable(getattr(transformer_lib.plots, name))


def test_diagrams_only_use_the_palette():
    allowed = {to_hex(c) for c in (PALETTE.query, PALETTE.key, PALETTE.value, PALETTE.attention,
                                   PALETTE.ffn, PALETTE.norm, PALETTE.sublayer, PALETTE.output,
                                   PALETTE.residual, PALETTE.io, PALETTE.op, PALETTE.ink,
                                   PALETTE.muted, *PALETTE.cycle, "white")}
    figs = [draw_attention_diagram(), draw_multihead_diagram(8), draw_ffn_diagram(2),
            draw_residual_diagram(), draw_norm_groups("batch", d_model=12),
            draw_block_diagram(False), draw_block_diagram(True)]
    used = {to_hex(p.get_facecolor(), keep_alpha=False)
            for fig in figs for p in fig.axes[0].patches if p.get_fill()}
    used |= {to_hex(p.get_edgecolor(), keep_alpha=False) for fig in figs for p in fig.axes[0].patches}
    assert used <= allowed, used - allowed
    assert to_hex(PALETTE.residual) in used


def _history() -> History:
    steps = list(range(1, 121))
    return History(steps=steps, train_loss=[3.0 - 0.01 * s for s in steps], lr=[1e-3] * 120,
                   eval_steps=[0, 60, 120], val_loss=[3.1, 2.6, 2.0], eval_train_loss=[3.0, 2.5, 1.9])


def test_plot_history_draws_train_and_val_lines():
    fig = plot_history(_history())
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"entrenamiento (cada lote)", "entrenamiento (media de 2 pasos)", "validación"}
    assert list(lines["entrenamiento (cada lote)"].get_xdata()) == list(range(1, 121))
    assert list(lines["validación"].get_xdata()) == [0, 60, 120]
    assert list(lines["validación"].get_ydata()) == [3.1, 2.6, 2.0]
    # La media móvil de 2 pasos empieza en el paso 2 y promedia los dos primeros lotes.
    smooth = lines["entrenamiento (media de 2 pasos)"]
    assert smooth.get_xdata()[0] == 2 and smooth.get_ydata()[0] == pytest.approx(2.985)
    assert ax.get_xlabel() == "paso de entrenamiento" and "pérdida" in ax.get_ylabel()


def test_plot_history_uses_given_ax_and_skips_smoothing_on_short_runs():
    fig, axes = plt.subplots(1, 2)
    short = History(steps=[1, 2, 3], train_loss=[3.0, 2.5, 2.2], lr=[1e-3] * 3)
    assert plot_history(short, ax=axes[1]) is fig
    assert [line.get_label() for line in axes[1].get_lines()] == ["entrenamiento (cada lote)"]
    assert not axes[0].get_lines()


def _sweep() -> dict:
    """Un barrido hecho a mano: cuatro modelos que siguen L = 2.5·(N/10⁴)^(−0.08)."""
    runs = []
    for i, n in enumerate([1e4, 4e4, 1.6e5, 6.4e5]):
        tokens = [0, 1e5, 2e5, 4e5]
        losses = [4.0, 3.0 * (n / 1e4) ** -0.05, 2.7 * (n / 1e4) ** -0.07, 2.5 * (n / 1e4) ** -0.08]
        runs.append({"name": f"m{i}", "params_non_embedding": n, "compute": training_flops(n, 4e5),
                     "val_loss": losses[-1], "curve": {"tokens": tokens, "val_loss": losses}})
    return {"runs": runs}


def test_plot_scaling_against_params():
    results = _sweep()
    fig = plot_scaling(results, x="params")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert ax.get_xlabel() == "parámetros sin embeddings N"
    lines = {line.get_label(): line for line in ax.get_lines()}
    points = lines["pérdida final"]
    assert list(points.get_xdata()) == [1e4, 4e4, 1.6e5, 6.4e5]
    (fit_label,) = [k for k in lines if k.startswith("ajuste")]
    assert "N^(−0.080)" in fit_label  # recupera el exponente con el que se hizo el barrido
    assert [t.get_text() for t in ax.texts] == ["m0", "m1", "m2", "m3"]


def test_plot_scaling_against_compute_draws_each_curve():
    results = _sweep()
    fig, ax = plt.subplots()
    assert plot_scaling(results, x="compute", ax=ax, label="barrido") is fig
    assert "cómputo" in ax.get_xlabel()
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[:4] == ["m0 (N = 10 mil)", "m1 (N = 40 mil)", "m2 (N = 160 mil)", "m3 (N = 640 mil)"]
    assert "barrido: pérdida final" in labels
    assert any(k.startswith("ajuste") and "C^(" in k for k in labels)
    # Las curvas omiten el punto de 0 tokens (no cabe en un eje logarítmico).
    assert all(len(line.get_xdata()) == 3 for line in ax.get_lines()[:4])
    fig2, ax2 = plt.subplots()
    plot_scaling(results, x="compute", ax=ax2, fit=False, curves=False)
    assert [line.get_label() for line in ax2.get_lines()] == ["pérdida final"]


@pytest.mark.parametrize("results, x, match", [
    (_sweep(), "tokens", "'params' o 'compute' y es 'tokens'"),
    ({"runs": []}, "params", "runs"),
    ([1, 2], "params", "runs"),
])
def test_plot_scaling_rejects_bad_input(results, x, match):
    with pytest.raises(ValueError, match=match):
        plot_scaling(results, x=x)


def test_history_and_scaling_do_not_touch_rcparams():
    before = dict(matplotlib.rcParams)
    plot_history(_history())
    plot_scaling(_sweep(), x="compute")
    assert dict(matplotlib.rcParams) == before
