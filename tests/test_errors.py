"""Errores claros en español que nombran el valor problemático."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from transformer_lib import (
    GPT,
    DecoderBlock,
    EncoderBlock,
    FeedForward,
    GPTConfig,
    LayerNorm,
    MultiHeadAttention,
    SinusoidalPositionalEncoding,
    SublayerConnection,
    Transformer,
    attention_weights,
    causal_mask,
    from_torch,
    padding_mask,
    scaled_dot_product_attention,
    sinusoidal_encoding,
)


def _gpt():
    return GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, d_model=8))


# ---------------------------------------------------------------- d_model y n_heads


@pytest.mark.parametrize(
    "build",
    [
        lambda: MultiHeadAttention(30, 4),
        lambda: EncoderBlock(30, 4, 60),
        lambda: DecoderBlock(30, 4, 60),
        lambda: Transformer(5, 5, d_model=30, n_heads=4),
        lambda: GPTConfig(vocab_size=5, d_model=30, n_head=4),
    ],
    ids=["mha", "encoder", "decoder", "transformer", "gpt"],
)
def test_d_model_not_divisible_by_heads(build):
    with pytest.raises(ValueError, match=r"d_model=30 no es divisible entre n_heads=4"):
        build()


def test_non_positive_heads():
    with pytest.raises(ValueError, match=r"n_heads debe ser un entero positivo y recibí 0"):
        MultiHeadAttention(16, 0)


# ------------------------------------------------------------------------- máscaras


def test_mask_not_broadcastable_in_attention():
    q = torch.randn(2, 3, 5, 8)
    with pytest.raises(ValueError, match=r"máscara de forma \(4, 4\) no se puede difundir .*\(2, 3, 5, 5\)"):
        scaled_dot_product_attention(q, q, q, mask=causal_mask(4))


def test_mask_not_broadcastable_in_multihead():
    mha = MultiHeadAttention(16, 4)
    x = torch.randn(2, 6, 16)
    with pytest.raises(ValueError, match=r"\(3, 1, 1, 6\) no se puede difundir .*\(2, 4, 6, 6\)"):
        mha(x, x, x, mask=padding_mask([6, 6, 6], 6))


@pytest.mark.parametrize("need_weights", [False, True])
def test_mask_must_be_boolean(need_weights):
    mha = MultiHeadAttention(16, 4)
    x = torch.randn(2, 6, 16)
    with pytest.raises(TypeError, match=r"booleana .*dtype torch.float32"):
        mha(x, x, x, mask=torch.zeros(6, 6), need_weights=need_weights)


def test_mask_and_is_causal_together():
    mha = MultiHeadAttention(16, 4)
    x = torch.randn(2, 6, 16)
    with pytest.raises(ValueError, match="no ambos"):
        mha(x, x, x, mask=causal_mask(6), is_causal=True)


def test_padding_lengths_out_of_range():
    with pytest.raises(ValueError, match=r"\[0, T=4\] y recibí \[2, 7\]"):
        padding_mask([2, 7], 4)


def test_causal_mask_bad_length():
    with pytest.raises(ValueError, match=r"entero positivo y es 0"):
        causal_mask(0)


# ------------------------------------------------------------------ q/k y entradas


def test_q_k_dimension_mismatch():
    q, k = torch.randn(2, 5, 8), torch.randn(2, 7, 6)
    with pytest.raises(ValueError, match=r"misma dimensión d_k.*q tiene 8.*k tiene 6"):
        attention_weights(q, k)


def test_k_v_length_mismatch():
    q, k, v = torch.randn(2, 5, 8), torch.randn(2, 7, 8), torch.randn(2, 6, 8)
    with pytest.raises(ValueError, match=r"mismo número de posiciones T_k: k tiene 7.*v tiene 6"):
        scaled_dot_product_attention(q, k, v)


def test_multihead_wrong_model_dimension():
    with pytest.raises(ValueError, match=r"query debe tener forma \(B, T, d_model=16\) y tiene \(2, 5, 12\)"):
        x = torch.randn(2, 5, 12)
        MultiHeadAttention(16, 4)(x, x, x)


def test_layernorm_wrong_last_axis():
    with pytest.raises(ValueError, match=r"LayerNorm\(16\).*\(2, 3, 10\).*medir 16"):
        LayerNorm(16)(torch.randn(2, 3, 10))


# ------------------------------------------------------------------ tokens y longitud


def test_sequence_longer_than_block_size():
    with pytest.raises(ValueError, match=r"T=9 tokens .*block_size=8"):
        _gpt()(torch.zeros(1, 9, dtype=torch.long))


def test_sequence_longer_than_positional_table():
    with pytest.raises(ValueError, match=r"12 posiciones .*max_len=10"):
        SinusoidalPositionalEncoding(8, max_len=10)(torch.randn(1, 12, 8))


def test_token_ids_must_be_integers():
    with pytest.raises(TypeError, match=r"idx debe contener índices de tokens enteros .*torch.float32"):
        _gpt()(torch.zeros(1, 4))


@pytest.mark.parametrize("bad", [11, -1, 50])
def test_token_ids_out_of_vocabulary(bad):
    idx = torch.tensor([[1, 2, bad]])
    with pytest.raises(ValueError, match=rf"id de token {bad}, fuera del vocabulario \[0, 10\]"):
        _gpt()(idx)


def test_targets_out_of_vocabulary():
    with pytest.raises(ValueError, match=r"targets contiene el id de token 12"):
        _gpt()(torch.tensor([[1, 2]]), torch.tensor([[3, 12]]))


def test_transformer_source_out_of_vocabulary():
    model = Transformer(5, 6, d_model=8, n_heads=2, n_encoder_layers=1, n_decoder_layers=1, d_ff=16)
    with pytest.raises(ValueError, match=r"src contiene el id de token 5"):
        model(torch.tensor([[1, 5]]), torch.tensor([[1]]))


# -------------------------------------------------------------- activación y dropout


@pytest.mark.parametrize(
    "build",
    [
        lambda: FeedForward(8, 16, activation="swish"),
        lambda: EncoderBlock(8, 2, 16, activation="swish"),
        lambda: GPTConfig(vocab_size=5, d_model=8, n_head=2, activation="swish"),
    ],
    ids=["ff", "encoder", "gpt"],
)
def test_unknown_activation(build):
    with pytest.raises(ValueError, match=r"Activación desconocida 'swish'"):
        build()


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
@pytest.mark.parametrize(
    "build",
    [
        lambda p: MultiHeadAttention(8, 2, dropout=p),
        lambda p: FeedForward(8, 16, dropout=p),
        lambda p: SublayerConnection(8, dropout=p),
        lambda p: EncoderBlock(8, 2, 16, dropout=p),
        lambda p: GPTConfig(vocab_size=5, d_model=8, n_head=2, dropout=p),
    ],
    ids=["mha", "ff", "residual", "encoder", "gpt"],
)
def test_bad_dropout(build, p):
    with pytest.raises(ValueError, match=rf"dropout debe ser un número en \[0, 1\) y recibí {p}"):
        build(p)


def test_bad_dropout_in_functional_attention():
    q = torch.randn(1, 3, 4)
    with pytest.raises(ValueError, match=r"dropout_p debe ser .* recibí 1.0"):
        scaled_dot_product_attention(q, q, q, dropout_p=1.0)


# ------------------------------------------------------------------------- otros


def test_odd_d_model_for_sinusoidal():
    with pytest.raises(ValueError, match=r"d_model par y recibió 7"):
        sinusoidal_encoding(10, 7)


def test_bad_gpt_config_values():
    with pytest.raises(ValueError, match=r"GPTConfig.block_size debe ser un entero positivo y es 0"):
        GPTConfig(vocab_size=5, block_size=0)


def test_generate_bad_arguments():
    idx = torch.zeros(1, 2, dtype=torch.long)
    with pytest.raises(ValueError, match=r"temperature debe ser >= 0 y es -1"):
        _gpt().generate(idx, 2, temperature=-1)
    with pytest.raises(ValueError, match=r"top_k .* es 0"):
        _gpt().generate(idx, 2, top_k=0)


# ------------------------------------------------------------------ from_torch


@pytest.mark.parametrize(
    "module,match",
    [
        (nn.MultiheadAttention(8, 2), r"batch_first=False"),
        (nn.MultiheadAttention(8, 2, batch_first=True, kdim=6, vdim=6), r"kdim=6 y vdim=6 .*embed_dim=8"),
        (nn.MultiheadAttention(8, 2, batch_first=True, add_bias_kv=True), r"add_bias_kv=True"),
        (nn.MultiheadAttention(8, 2, batch_first=True, add_zero_attn=True), r"add_zero_attn=True"),
        (nn.TransformerEncoderLayer(8, 2, 16), r"batch_first=False"),
        (nn.TransformerDecoderLayer(8, 2, 16, batch_first=False), r"batch_first=False"),
        (nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, activation=torch.tanh),
         r"Activación no soportada .*tanh"),
        (nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, activation=nn.SiLU()),
         r"Activación no soportada SiLU"),
    ],
    ids=["mha-batch-first", "kdim", "bias-kv", "zero-attn", "enc-batch-first", "dec-batch-first",
         "tanh", "silu"],
)
def test_from_torch_rejects_unsupported(module, match):
    with pytest.raises(ValueError, match=match):
        from_torch(module)


def test_from_torch_rejects_mixed_dropouts():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, batch_first=True)
    layer.dropout2.p = 0.3
    with pytest.raises(ValueError, match=r"dropouts distintos \[0.1, 0.3\]"):
        from_torch(layer)


def test_from_torch_rejects_unknown_modules():
    with pytest.raises(TypeError, match=r"from_torch no sabe convertir Conv1d"):
        from_torch(nn.Conv1d(2, 2, 3))


# ---------------------------------------------------------------- archivos: cargar y guardar


def _sweep_file(tmp_path, text: str):
    path = tmp_path / "sweep.json"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text, expected", [
    ('{"runs": [1, 2}', r"El barrido .*sweep\.json está dañado: no es un JSON válido \(línea 1, columna 15\)"),
    ('"solo un texto"', r"sweep\.json no parece un barrido: le falta la lista 'runs'"),
    ('{"runs": "ninguno"}', r"sweep\.json no parece un barrido"),
    ("", r"no es un JSON válido"),
], ids=["json_roto", "no_es_objeto", "runs_no_es_lista", "vacio"])
def test_load_sweep_damaged_file_names_it(tmp_path, text, expected):
    from transformer_lib.files import UnreadableFileError
    from transformer_lib.scaling import load_sweep

    path = _sweep_file(tmp_path, text)
    with pytest.raises(UnreadableFileError, match=expected) as err:
        load_sweep(path)
    assert str(path) in str(err.value) and "transformer_lib sweep --out" in str(err.value)


def test_load_sweep_unreadable_is_spanish(tmp_path, monkeypatch):
    from pathlib import Path

    from transformer_lib.files import FileAccessError
    from transformer_lib.scaling import load_sweep

    path = _sweep_file(tmp_path, '{"runs": []}')
    monkeypatch.setattr(Path, "read_bytes", lambda self: (_ for _ in ()).throw(
        PermissionError(13, "Permission denied", str(self))))
    with pytest.raises(FileAccessError, match=r"No puedo leer el barrido .*sweep\.json: no tienes permiso"):
        load_sweep(path)


def test_check_grid_path_never_replaces_what_is_not_a_sweep(tmp_path):
    from transformer_lib.files import OutputPathError
    from transformer_lib.scaling import RESULTS_SCHEMA, check_grid_path

    notes = _sweep_file(tmp_path, '{"mis": "notas"}')
    for overwrite in (False, True):
        with pytest.raises(OutputPathError, match=r"no es un barrido reanudable de transformer_lib.*no lo toco"):
            check_grid_path(notes, overwrite=overwrite)
    assert notes.read_text(encoding="utf-8") == '{"mis": "notas"}'
    ours = tmp_path / "nuestro.json"
    ours.write_text(f'{{"schema": "{RESULTS_SCHEMA}", "runs": []}}', encoding="utf-8")
    assert check_grid_path(ours) == ours == check_grid_path(ours, overwrite=True)  # se reanuda o se reemplaza
    assert check_grid_path(tmp_path / "nuevo" / "b.json") == tmp_path / "nuevo" / "b.json"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nuestro.json", "sweep.json"]  # no crea nada


def test_save_checkpoint_never_replaces_what_is_not_a_checkpoint(tmp_path):
    from transformer_lib.files import OutputPathError
    from transformer_lib.training import is_checkpoint, save_checkpoint

    folder = tmp_path / "proyecto"
    folder.mkdir()
    (folder / "tesis.tex").write_text("capítulo 1", encoding="utf-8")
    with pytest.raises(OutputPathError, match=r"proyecto ya existe y es una carpeta que no es un checkpoint"):
        save_checkpoint(folder, _gpt(), overwrite=True)
    assert sorted(p.name for p in folder.iterdir()) == ["tesis.tex"]
    ckpt = save_checkpoint(tmp_path / "ckpt", _gpt())
    assert is_checkpoint(ckpt) and not is_checkpoint(folder) and not is_checkpoint(tmp_path / "nada")
    with pytest.raises(OutputPathError, match=r"Ya existe el checkpoint .*Añade overwrite=True"):
        save_checkpoint(ckpt, _gpt())
    with pytest.raises(TypeError):  # extra que no es JSON: falla antes de tocar nada
        save_checkpoint(ckpt, _gpt(), extra={"x": object()}, overwrite=True)
    assert is_checkpoint(ckpt)
    (ckpt / "checkpoint.json").write_text("{roto", encoding="utf-8")
    assert not is_checkpoint(ckpt)  # un JSON roto ya no se reconoce: no se reemplaza
