"""La LSTM de referencia del capítulo 9b: causal, con su recuento exacto y la interfaz del GPT."""

from __future__ import annotations

import pytest
import torch

from transformer_lib.models import LSTMConfig, LSTMLanguageModel, lstm_param_count_exact
from transformer_lib.scaling import SweepSize, model_param_count, run_flops_per_token


def test_lstm_is_causal_and_counts_its_parameters():
    torch.manual_seed(0)
    config = LSTMConfig(vocab_size=30, block_size=16, n_layer=2, d_model=12)
    model = LSTMLanguageModel(config).eval()
    assert model.count_parameters() == lstm_param_count_exact(config) == model_param_count(config)
    assert model.count_parameters().non_embedding == 2 * 4 * (2 * 12 * 12 + 2 * 12)
    x = torch.randint(0, 30, (3, 16))
    logits, loss = model(x, x)
    assert logits.shape == (3, 16, 30) and loss.ndim == 0
    y = x.clone()
    y[:, 10:] = (y[:, 10:] + 1) % 30  # cambiar el futuro no cambia el pasado
    with torch.no_grad():
        a, b = model(x)[0], model(y)[0]
    assert torch.equal(a[:, :10], b[:, :10]) and not torch.equal(a[:, 10:], b[:, 10:])
    assert model.lm_head.weight is model.tok_emb.weight  # atada, como en el GPT


def test_lstm_flops_and_sweep_size():
    config = SweepSize(2, 1, 40, arch="lstm").model_config(92, block_size=64, dropout=0.0, tie_weights=True)
    assert isinstance(config, LSTMConfig) and config.d_model == 40
    n = lstm_param_count_exact(config).non_embedding
    assert run_flops_per_token(config, "kaplan") == 6 * n
    assert run_flops_per_token(config, "full") == 3 * (2 * n + 2 * 40 * 92)  # y la capa de salida
    assert SweepSize(2, 1, 40, arch="lstm").name == "LSTM-L2-d40"
    with pytest.raises(ValueError, match="arch debe ser"):
        SweepSize(2, 1, 40, arch="rnn")


def test_lstm_bad_input_names_the_value():
    with pytest.raises(ValueError, match="d_model"):
        LSTMConfig(vocab_size=30, d_model=0)
    with pytest.raises(TypeError, match="LSTMConfig"):
        LSTMLanguageModel(object())
    model = LSTMLanguageModel(LSTMConfig(vocab_size=30, d_model=8))
    with pytest.raises(ValueError):
        model(torch.tensor([[1, 2, 99]]))
