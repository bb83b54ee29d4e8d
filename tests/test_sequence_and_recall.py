"""Tests de las medidas del capítulo 9: el paso frente a T (scaling.sequence) y la tarea de
recuerdo a distancia k (scaling.long_range)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from transformer_lib.scaling.long_range import (
    RecallConfig,
    make_recall_batch,
    recall_length,
    recall_model,
    train_recall,
)
from transformer_lib.scaling.sequence import (
    HandLSTM,
    counted_step_flops,
    lstm_hidden_for,
    measure_sequence_step,
    sequence_model,
    step_flops,
)

# --------------------------------------------------------------------------- §9.1


def test_lstm_has_the_parameters_of_the_block():
    block, _ = sequence_model("transformer", 64, 4)
    target = sum(p.numel() for p in block.parameters())
    for kind in ("lstm", "loop"):
        model, _ = sequence_model(kind, 64, 4)
        assert sum(p.numel() for p in model.parameters()) == pytest.approx(target, rel=0.02)
    # La cuadrática: 4·(d·H + H² + 2H) parámetros para H = lstm_hidden_for(...).
    h = lstm_hidden_for(4 * (32 * 50 + 50 * 50 + 2 * 50), 32)
    assert h == 50


def test_hand_loop_equals_nn_lstm():
    torch.manual_seed(0)
    loop = HandLSTM(8, 12)
    lstm = nn.LSTM(8, 12, batch_first=True)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(lstm, f"{name}_l0").copy_(getattr(loop.cell, name))
    x = torch.randn(3, 7, 8)
    torch.testing.assert_close(loop(x), lstm(x)[0], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kind", ["transformer", "loop"])
def test_flop_formula_matches_the_counter(kind):
    model, forward = sequence_model(kind, 32, 4)
    B, T = 2, 48
    x = torch.randn(B, T, 32, requires_grad=True)

    def step(inp):
        forward(inp).pow(2).mean().backward()

    counted = counted_step_flops(step, x)
    full = step_flops(kind, model, B, T, 32, causal=False)
    # El bloque: exacto. El bucle: el primer paso no retropropaga hacia h₀ (≈ 1/T de menos).
    assert full == pytest.approx(counted, rel=0 if kind == "transformer" else 1.5 / T)


def test_causal_count_halves_the_attention_only():
    model, _ = sequence_model("transformer", 32, 4)
    B, T, d = 1, 1024, 32
    full, causal = (step_flops("transformer", model, B, T, d, causal=c) for c in (False, True))
    attention_full = 3 * 2 * 2 * B * T * T * d
    assert full - causal == pytest.approx(attention_full * (T - 1) / (2 * T))
    lstm, _ = sequence_model("lstm", 32, 4)
    assert step_flops("lstm", lstm, B, T, d, causal=True) == step_flops("lstm", lstm, B, T, d, causal=False)


def test_measure_sequence_step_row_and_threads_restored():
    before = torch.get_num_threads()
    row = measure_sequence_step("lstm", 16, 2, B=2, T=8, threads=1, reps=2, min_seconds=0.0)
    assert torch.get_num_threads() == before
    assert row["sequential_steps"] == 8 and row["ms_per_step"] > 0 and row["tokens_per_s"] > 0
    assert row["flops_counter"] == 0  # el contador no ve dentro del núcleo de nn.LSTM
    with pytest.raises(ValueError, match="threads debe ser un entero >= 1 y es 0"):
        measure_sequence_step("lstm", 16, 2, B=2, T=8, threads=0)
    with pytest.raises(ValueError, match="kind debe ser uno de .* y es 'gru'"):
        sequence_model("gru", 16, 2)


# --------------------------------------------------------------------------- §9.2


def test_recall_batch_places_marker_answer_and_query():
    gen = torch.Generator().manual_seed(0)
    k, n = 20, 10
    x, qpos, answer = make_recall_batch(k, 64, n, gen)
    assert x.shape == (64, recall_length(k)) == (64, 28)
    rows = torch.arange(64)
    assert torch.all(x[rows, qpos] == n + 1)  # la pregunta
    start = qpos - 1 - k
    assert torch.all(x[rows, start] == n)  # el marcador, k + 1 antes
    assert torch.all(x[rows, start + 1] == answer)  # la respuesta, k antes de Q
    assert start.min() >= 0 and start.max() <= k // 4
    assert len(set(start.tolist())) > 1  # el marcador no está siempre en el mismo sitio
    assert ((x == n) | (x == n + 1)).sum() == 128  # un marcador y una pregunta por secuencia
    with pytest.raises(ValueError, match="k debe ser un entero >= 1 y es 0"):
        recall_length(0)


def test_recall_models_have_similar_parameters():
    gpt = recall_model("transformer", 18, 50, 64, 2)
    lstm = recall_model("lstm", 18, 50, 64, 2)
    gpt_core = gpt.count_parameters().non_embedding
    lstm_core = sum(p.numel() for p in lstm.lstm.parameters())
    assert lstm_core == pytest.approx(gpt_core, rel=0.02)
    rope = recall_model("transformer-rope", 18, 50, 64, 2)
    assert rope.config.position == "rope" and gpt.config.position == "learned"
    assert rope.count_parameters().non_embedding == gpt_core
    with pytest.raises(ValueError, match="kind debe ser uno de .* y es 'rnn'"):
        recall_model("rnn", 18, 50, 64, 2)


def test_train_recall_is_deterministic_and_learns_a_short_distance():
    config = RecallConfig(steps=150, batch_size=32, d_model=32, layers=1, n_symbols=8, eval_batches=4)
    a = train_recall("transformer", 4, 0, config)
    b = train_recall("transformer", 4, 0, config)
    assert a["final_train_loss"] == b["final_train_loss"] and a["accuracy"] == b["accuracy"]
    assert a["accuracy"] > 0.9 > 1 / 8  # muy por encima del azar con 150 pasos
    with pytest.raises(ValueError, match="steps debe ser un entero >= 1 y es 0"):
        RecallConfig(steps=0)
