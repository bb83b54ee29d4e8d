"""El tokenizador BPE a nivel de bytes y los bits por carácter (capítulo 11)."""

from __future__ import annotations

import json
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from transformer_lib.data import (
    BPETokenizer,
    CharTokenizer,
    bits_per_char,
    chars_per_token,
    load_quijote,
    prepare_quijote,
    tokenizer_from_dict,
)
from transformer_lib.files import UnreadableFileError


@pytest.fixture(scope="module")
def quijote() -> str:
    return load_quijote()


@pytest.fixture(scope="module")
def bpe(quijote) -> BPETokenizer:
    return BPETokenizer.train(quijote[:200_000], 512)


def test_train_reaches_the_vocabulary_and_compresses(bpe, quijote):
    assert bpe.vocab_size == 512
    sample = quijote[300_000:320_000]
    cpt = chars_per_token(bpe, sample)
    assert 2.0 < cpt < 6.0  # varios caracteres por token
    assert chars_per_token(CharTokenizer.from_text(quijote), sample) == 1.0
    assert any(len(s) > 3 for s in bpe.token_strings(bpe.encode(" caballero hidalgo")))


def test_round_trip_on_the_whole_corpus(bpe, quijote):
    ids = bpe.encode(quijote)
    assert bpe.decode(ids) == quijote
    assert bpe.decode(torch.tensor(ids[:500])) == bpe.decode(ids[:500])


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60))
def test_round_trip_on_arbitrary_unicode(bpe, text):
    assert bpe.decode(bpe.encode(text)) == text


def test_training_is_deterministic(quijote):
    text = quijote[:50_000]
    assert BPETokenizer.train(text, 300) == BPETokenizer.train(text, 300)


def test_dict_and_file_round_trip(bpe, tmp_path):
    again = BPETokenizer.from_dict(json.loads(json.dumps(bpe.to_dict())))
    assert again == bpe and again.encode("¿Qué dice vuesa merced?") == bpe.encode("¿Qué dice vuesa merced?")
    assert tokenizer_from_dict(bpe.to_dict()) == bpe
    assert isinstance(tokenizer_from_dict(CharTokenizer("ab").to_dict()), CharTokenizer)
    path = tmp_path / "bpe.json"
    bpe.save(path)
    assert BPETokenizer.load(path) == bpe
    assert not list(tmp_path.glob("*.tmp*"))  # escritura atómica: sin restos


def test_load_errors_are_spanish(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"type": "CharTokenizer", "chars": ["a"]}), encoding="utf-8")
    with pytest.raises(UnreadableFileError, match="no describe un BPETokenizer válido"):
        BPETokenizer.load(bad)
    with pytest.raises(FileNotFoundError):
        BPETokenizer.load(tmp_path / "no_existe.json")
    with pytest.raises(ValueError, match="'tokenizer'"):
        BPETokenizer.from_dict({"type": "BPETokenizer"})


def test_bad_arguments(bpe):
    with pytest.raises(ValueError, match="vocab_size.*256.*100"):
        BPETokenizer.train("hola", 100)
    with pytest.raises(ValueError, match="no vacío"):
        BPETokenizer.train("", 300)
    with pytest.raises(ValueError, match="id 512 está fuera"):
        bpe.decode([1, 512])
    with pytest.raises(TypeError, match="str"):
        bpe.encode(b"bytes")
    with pytest.raises(ValueError, match="1D"):
        bpe.decode(torch.zeros(2, 3, dtype=torch.long))


def test_bits_per_char():
    assert bits_per_char(math.log(2)) == pytest.approx(1.0)
    assert bits_per_char(2 * math.log(2), chars_per_token=4.0) == pytest.approx(0.5)
    # un modelo uniforme sobre 92 caracteres: log2(92) bits por carácter
    assert bits_per_char(math.log(92)) == pytest.approx(math.log2(92))
    for bad in ({"loss_nats_per_token": -1.0}, {"loss_nats_per_token": float("nan")},
                {"loss_nats_per_token": 1.0, "chars_per_token": 0.0}):
        with pytest.raises(ValueError, match=next(iter(bad)) if len(bad) == 1 else "chars_per_token"):
            bits_per_char(**{"loss_nats_per_token": 1.0, **bad})


def test_prepare_quijote_with_bpe_trains_on_the_training_split_only(quijote):
    data = prepare_quijote(tokenizer="bpe", vocab_size=300)
    assert isinstance(data.tokenizer, BPETokenizer) and data.tokenizer.vocab_size == 300
    n = int(len(quijote) * 0.9)
    assert data.tokenizer == BPETokenizer.train(quijote[:n], 300)
    assert data.tokenizer.decode(data.val) == quijote[n:]
    assert data.tokenizer.decode(data.train) == quijote[:n]
    with pytest.raises(ValueError, match="vocab_size=300 solo vale con tokenizer='bpe'"):
        prepare_quijote(vocab_size=300)
    with pytest.raises(ValueError, match="tokenizer.*'wordpiece'"):
        prepare_quijote(tokenizer="wordpiece")


def test_bpe_travels_inside_checkpoints(bpe, tmp_path):
    from transformer_lib import GPT, GPTConfig, TrainConfig, load_checkpoint, save_checkpoint

    model = GPT(GPTConfig(vocab_size=bpe.vocab_size, block_size=8, n_layer=1, n_head=2, d_model=16,
                          norm="rmsnorm", position="rope", ffn="swiglu", n_kv_head=1))
    save_checkpoint(tmp_path / "ckpt", model, TrainConfig(block_size=8), bpe)
    ckpt = load_checkpoint(tmp_path / "ckpt")
    assert ckpt.tokenizer == bpe
    assert ckpt.model.config == model.config
    for a, b in zip(ckpt.model.state_dict().values(), model.state_dict().values(), strict=True):
        assert torch.equal(a, b)


# --------------------------------------------------------------------------- línea de órdenes


def test_train_and_sweep_expose_the_modern_flags(capsys):
    from transformer_lib import cli

    for command in ("train", "sweep"):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        text = capsys.readouterr().out
        for flag in ("--norm {layernorm,rmsnorm}", "--position {learned,rope}", "--ffn {mlp,swiglu}",
                     "--n-kv-head N", "--rope-theta X", "--tokenizer {char,bpe}", "--vocab-size N"):
            assert flag in text, (command, flag)


def test_train_with_bpe_and_the_llama_block(tmp_path, capsys):
    from transformer_lib import cli, load_checkpoint

    argv = ["train", "--tokenizer", "bpe", "--vocab-size", "300", "--norm", "rmsnorm", "--position", "rope",
            "--ffn", "swiglu", "--n-kv-head", "1", "--rope-theta", "500", "--n-layer", "1", "--n-head", "2",
            "--d-model", "16", "--block-size", "8", "--batch-size", "2", "--max-iters", "2",
            "--eval-interval", "0", "--eval-iters", "1", "--warmup-iters", "1", "--device", "cpu",
            "--num-threads", "1", "--no-progress", "--out", str(tmp_path / "ckpt")]
    assert cli.main(argv) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    ckpt = load_checkpoint(tmp_path / "ckpt")
    c = ckpt.model.config
    assert (c.norm, c.position, c.ffn, c.n_kv_head, c.rope_theta, c.vocab_size) == (
        "rmsnorm", "rope", "swiglu", 1, 500.0, 300)
    assert isinstance(ckpt.tokenizer, BPETokenizer) and result["params"] == ckpt.model.count_parameters().total


@pytest.mark.parametrize("extra,message", [
    (["--vocab-size", "300"], "--vocab-size=300 solo vale con --tokenizer bpe"),
    (["--tokenizer", "bpe", "--vocab-size", "100"], "al menos 256"),
    (["--n-head", "4", "--n-kv-head", "3"], "--n-head=4 no es divisible entre --n-kv-head=3"),
])
def test_train_rejects_bad_modern_flags(extra, message, capsys):
    from transformer_lib import cli

    assert cli.main(["train", "--max-iters", "1", *extra]) != 0
    assert message in capsys.readouterr().err
