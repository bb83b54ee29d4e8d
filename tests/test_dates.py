"""Tarea sintética de fechas (capítulo 7): números y fechas en español, DatesTask."""

from __future__ import annotations

import datetime as dt

import pytest
import torch

from transformer_lib import Transformer, padding_mask
from transformer_lib.data import DatesTask, date_to_spanish, number_to_spanish
from transformer_lib.training import TrainConfig, train


@pytest.mark.parametrize(
    "n, words",
    [
        (0, "cero"), (1, "uno"), (15, "quince"), (16, "dieciséis"), (20, "veinte"),
        (21, "veintiuno"), (22, "veintidós"), (23, "veintitrés"), (26, "veintiséis"),
        (30, "treinta"), (31, "treinta y uno"), (99, "noventa y nueve"), (100, "cien"),
        (101, "ciento uno"), (500, "quinientos"), (777, "setecientos setenta y siete"),
        (1000, "mil"), (1900, "mil novecientos"), (1999, "mil novecientos noventa y nueve"),
        (2000, "dos mil"), (2001, "dos mil uno"), (2021, "dos mil veintiuno"),
        (21000, "veintiún mil"), (31000, "treinta y un mil"), (100000, "cien mil"),
    ],
)
def test_number_to_spanish(n, words):
    assert number_to_spanish(n) == words


def test_number_to_spanish_errors():
    with pytest.raises(ValueError, match="1000000"):
        number_to_spanish(1_000_000)
    with pytest.raises(TypeError, match="int"):
        number_to_spanish(3.0)


@pytest.mark.parametrize(
    "date, text",
    [
        (dt.date(2021, 3, 3), "tres de marzo de dos mil veintiuno"),
        (dt.date(1900, 1, 1), "uno de enero de mil novecientos"),
        (dt.date(2099, 12, 31), "treinta y uno de diciembre de dos mil noventa y nueve"),
        (dt.date(1916, 9, 16), "dieciséis de septiembre de mil novecientos dieciséis"),
        (dt.date(2022, 5, 22), "veintidós de mayo de dos mil veintidós"),
        (dt.date(1921, 7, 21), "veintiuno de julio de mil novecientos veintiuno"),
    ],
)
def test_date_to_spanish(date, text):
    assert date_to_spanish(date) == text


@pytest.fixture(scope="module")
def task():
    return DatesTask()


def test_split_is_disjoint_and_complete(task):
    train, held = set(task.train_dates), set(task.heldout_dates)
    assert not train & held
    assert len(train) + len(held) == (dt.date(2099, 12, 31) - dt.date(1900, 1, 1)).days + 1
    assert 0.09 < len(held) / (len(train) + len(held)) < 0.11
    texts = {date_to_spanish(d) for d in held}
    assert not texts & {date_to_spanish(d) for d in train}  # tampoco comparten texto
    assert DatesTask().heldout_dates == task.heldout_dates  # el reparto es fijo


def test_sample_is_seeded(task):
    a, b = task.sample(20, seed=3), task.sample(20, seed=3)
    assert a == b and a != task.sample(20, seed=4)
    held = {d.isoformat() for d in task.heldout_dates}
    assert all(iso in held for _, iso in task.sample(50, seed=0, split="heldout"))
    assert not any(iso in held for _, iso in task.sample(200, seed=0))
    with pytest.raises(ValueError, match="split"):
        task.sample(1, split="prueba")


def test_all_pairs_is_the_whole_heldout_pool(task):
    pairs = task.all_pairs()
    assert len(pairs) == len(task.heldout_dates) == len(set(pairs))
    assert pairs == [task.pair(d) for d in task.heldout_dates]  # en orden de fecha
    assert all(DatesTask.pair(dt.date.fromisoformat(iso)) == (text, iso) for text, iso in pairs)
    assert task.all_pairs("val") == task.all_pairs("test") == pairs
    train_pairs = set(task.all_pairs("train"))
    assert len(train_pairs) == len(task.train_dates)
    assert not train_pairs & set(pairs)
    assert not set(task.sample(500, seed=1)) & set(pairs)  # el muestreo de train no las toca
    with pytest.raises(ValueError, match="split debe ser 'train' o 'heldout' y es 'prueba'"):
        task.all_pairs("prueba")


def test_batch_source_splits(task):
    source = task.batch_source(16, seed=5)
    held = {d.isoformat() for d in task.heldout_dates}
    val = source("val")
    assert val.src.shape[0] == 16
    assert all(iso in held for iso in task.decode_target(val.tgt_out))
    assert not any(iso in held for iso in task.decode_target(source("train").tgt_out))
    again = task.batch_source(16, seed=5)("val")
    torch.testing.assert_close(val.src, again.src)  # repetible con la semilla
    with pytest.raises(ValueError, match="split debe ser 'train' o 'val' y es 'heldout'"):
        source("heldout")


def test_vocabulary_covers_every_date(task):
    chars = set("".join(date_to_spanish(d) for d in task.train_dates + task.heldout_dates))
    assert chars <= set(task.src_tokenizer.chars)
    assert task.src_tokenizer.token_id("<pad>") == 0 == task.pad_id
    assert (task.bos_id, task.eos_id) == (1, 2)


def test_encode_and_decode(task):
    pairs = [("tres de marzo de dos mil veintiuno", "2021-03-03"), ("uno de enero de mil novecientos", "1900-01-01")]
    b = task.encode(pairs)
    assert b.src.shape == (2, len(pairs[0][0])) and b.src_lengths.tolist() == [34, 31]
    assert (b.src[1, 31:] == task.pad_id).all()
    assert b.tgt_in.shape == b.tgt_out.shape == (2, 11)
    assert (b.tgt_in[:, 0] == task.bos_id).all() and (b.tgt_out[:, -1] == task.eos_id).all()
    torch.testing.assert_close(b.tgt_in[:, 1:], b.tgt_out[:, :-1])
    assert task.decode_target(b.tgt_in) == ["2021-03-03", "1900-01-01"]
    assert task.decode_target(b.tgt_out[0]) == "2021-03-03"
    src, lengths, tgt_in, tgt_out = b  # también se desempaqueta como tupla
    assert src is b.src and tgt_out is b.tgt_out and lengths is b.src_lengths and tgt_in is b.tgt_in
    assert b.src_mask().shape == (2, 1, 1, 34)
    assert b.src_mask()[1, 0, 0].tolist() == [True] * 31 + [False] * 3
    torch.testing.assert_close(b.src_mask(), padding_mask(b.src_lengths, 34))


def test_src_mask_checks_lengths(task):
    b = task.encode([("uno de enero de mil novecientos", "1900-01-01")])
    b.src_lengths = torch.tensor([40])  # más larga que el relleno: padding_mask lo detecta
    with pytest.raises(ValueError, match=r"Cada longitud debe estar en \[0, T=31\]"):
        b.src_mask()


def test_transformer_learns_a_little(task):
    torch.manual_seed(0)
    model = Transformer(task.src_tokenizer.vocab_size, task.tgt_tokenizer.vocab_size, d_model=32,
                        n_heads=2, n_encoder_layers=1, n_decoder_layers=1, d_ff=64, dropout=0.0,
                        max_len=80, norm_first=True)
    cfg = TrainConfig(max_iters=40, lr=3e-3, warmup_iters=4, eval_interval=0, eval_iters=2,
                      final_eval_iters=2, progress=False, device="cpu")
    h = train(model, cfg, get_batch=task.batch_source(32, seed=0), loss_fn=task.loss)
    assert h.val_loss[-1] < 0.6 * h.train_loss[0]
    preds = task.translate(model, ["tres de marzo de dos mil veintiuno"])
    assert len(preds) == 1 and isinstance(preds[0], str)
    assert 0.0 <= task.exact_match(model, task.sample(8, split="heldout")) <= 1.0
