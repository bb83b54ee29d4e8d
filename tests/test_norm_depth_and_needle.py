"""Capítulo 4 §4.6 (un GPT sin normalización y el barrido con y sin LayerNorm) y capítulo 9 §9.2
(la tarea de la aguja a distancia al azar y su experimento)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from transformer_lib import GPT, GPTConfig
from transformer_lib.data.needle import make_needle_batch, needle_vocab_size
from transformer_lib.experiments import norm_depth, retrieval
from transformer_lib.normalization import NO_NORM, LayerNorm, make_norm
from transformer_lib.utils import set_seed

V = 30

# --------------------------------------------------------------------------- GPT sin normalización


def _pair(n_layer: int = 3) -> tuple[GPT, GPT]:
    """El mismo GPT con LayerNorm y sin normalización, con la misma semilla."""
    set_seed(0)
    with_ln = GPT(GPTConfig(vocab_size=V, block_size=16, n_layer=n_layer, n_head=4, d_model=32))
    set_seed(0)
    without = GPT(GPTConfig(vocab_size=V, block_size=16, n_layer=n_layer, n_head=4, d_model=32, norm=NO_NORM))
    return with_ln, without


def test_make_norm_none_is_the_identity() -> None:
    norm = make_norm(NO_NORM, 8)
    assert isinstance(norm, nn.Identity) and not list(norm.parameters())
    with pytest.raises(ValueError, match="'none'"):
        make_norm("batchnorm", 8)
    with pytest.raises(ValueError, match="norm='batchnorm'"):
        GPTConfig(vocab_size=V, norm="batchnorm")


def test_gpt_without_norm_has_no_norm_parameters() -> None:
    with_ln, without = _pair(n_layer=3)
    assert not any(isinstance(m, (LayerNorm, nn.LayerNorm)) for m in without.modules())
    assert not [name for name, _ in without.named_parameters() if "norm" in name or "ln_f" in name]
    # Cada bloque pierde dos LayerNorm y el modelo la final: (2·3 + 1) · 2·d_model parámetros.
    n_with = sum(p.numel() for p in with_ln.parameters())
    n_without = sum(p.numel() for p in without.parameters())
    assert n_with - n_without == (2 * 3 + 1) * 2 * 32
    # El resto de los pesos es idéntico: crear una LayerNorm no consume azar.
    weights = dict(with_ln.named_parameters())
    for name, p in without.named_parameters():
        torch.testing.assert_close(p, weights[name], rtol=0, atol=0)


def test_gpt_without_norm_is_the_plain_residual_stack() -> None:
    with_ln, without = _pair(n_layer=2)
    # Quitar a mano cada LayerNorm del GPT con LayerNorm da el mismo modelo.
    for block in with_ln.blocks:
        block.res_self.norm = nn.Identity()
        block.res_ff.norm = nn.Identity()
    with_ln.ln_f = nn.Identity()
    idx = torch.randint(V, (3, 16), generator=torch.Generator().manual_seed(1))
    logits, _ = without(idx)
    torch.testing.assert_close(logits, with_ln(idx)[0])
    # Y es x ← x + atención(x); x ← x + FFN(x) en cada bloque, sin nada más.
    T = idx.shape[1]
    h = without.tok_emb(idx) + without.pos_emb.embedding.weight[:T]  # (B, T, d_model)
    for block in without.blocks:
        h = h + block.self_attn(h, h, h, is_causal=True)
        h = h + block.ff(h)
    torch.testing.assert_close(logits, without.lm_head(h), rtol=1e-5, atol=1e-5)


def test_norm_depth_grid_and_models() -> None:
    runs = list(norm_depth.norm_depth_grid([0, 1, 2], steps=10))
    assert len(runs) == len(norm_depth.DEPTHS) * len(norm_depth.LEARNING_RATES) * 3 * 2
    assert {12, 24} <= {r.n_layer for r in runs} and {r.layernorm for r in runs} == {True, False}
    assert all(r.steps == 10 for r in runs)
    # Con y sin LN van seguidos y solo difieren en eso.
    for a, b in zip(runs[::2], runs[1::2]):
        assert (a.layernorm, b.layernorm) == (True, False)
        assert (a.n_layer, a.lr, a.seed) == (b.n_layer, b.lr, b.seed)
    run = norm_depth.NormDepthRun(False, 2)
    model = norm_depth.norm_depth_model(run, V)
    assert model.config.norm == NO_NORM and model.config.n_layer == 2 and model.config.d_model == 64
    assert run.label == "sin LN, 2 bloques"
    with pytest.raises(ValueError, match="lr"):
        norm_depth.NormDepthRun(True, 2, lr=0)
    with pytest.raises(ValueError, match="n_layer"):
        norm_depth.NormDepthRun(True, 0)


# --------------------------------------------------------------------------- la aguja


def test_the_needle_sits_at_the_sampled_distance() -> None:
    n, T, B = 6, 40, 500
    x, distance, answer = make_needle_batch(B, T, n, torch.Generator().manual_seed(0))
    assert x.shape == (B, T) and distance.shape == answer.shape == (B,)
    assert needle_vocab_size(n) == 2 * n + 1 and int(x.max()) <= 2 * n
    assert bool((x[:, -1] == 2 * n).all())  # la pregunta, al final
    marked = (x >= n) & (x < 2 * n)
    assert bool((marked.sum(dim=1) == 1).all())  # una sola aguja por secuencia
    position = marked.float().argmax(dim=1)
    assert torch.equal(T - 1 - position, distance)  # justo a la distancia sorteada
    assert torch.equal(x[torch.arange(B), position] - n, answer)  # su versión sin marcar es la respuesta
    # Las distancias cubren 1 … T − 1 y las respuestas, los n símbolos.
    assert int(distance.min()) == 1 and int(distance.max()) == T - 1
    assert set(answer.tolist()) == set(range(n))


def test_the_needle_batch_honours_given_distances_and_the_generator() -> None:
    d = torch.tensor([1, 5, 9])
    x, distance, answer = make_needle_batch(3, 10, 4, torch.Generator().manual_seed(3), distance=d)
    assert torch.equal(distance, d)
    assert torch.equal(x[torch.arange(3), 9 - d], answer + 4)
    again = make_needle_batch(3, 10, 4, torch.Generator().manual_seed(3), distance=d)
    assert torch.equal(again[0], x)
    with pytest.raises(ValueError, match="distance"):
        make_needle_batch(3, 10, 4, torch.Generator(), distance=torch.tensor([1, 5, 10]))
    with pytest.raises(ValueError, match="length"):
        make_needle_batch(3, 1, 4, torch.Generator())


def test_distance_bins_cover_every_distance_once() -> None:
    for length in (2, 16, 100, 128):
        bins = retrieval.distance_bins(length)
        covered = [d for lo, hi in bins for d in range(lo, hi + 1)]
        assert covered == list(range(1, length))
    assert retrieval.distance_bins(128) == [(1, 8), (9, 16), (17, 32), (33, 64), (65, 127)]


@pytest.mark.parametrize("kind", retrieval.RETRIEVAL_MODELS)
def test_train_retrieval_row(kind) -> None:
    config = retrieval.RetrievalConfig(length=12, steps=3, batch_size=4, eval_per_bin=8)
    row = retrieval.train_retrieval(kind, 0, config)
    assert row["model"] == kind and row["bins"] == [[1, 8], [9, 11]]
    assert len(row["accuracy_by_bin"]) == 2 and all(0 <= a <= 1 for a in row["accuracy_by_bin"])
    assert row["accuracy"] == pytest.approx(sum(row["accuracy_by_bin"]) / 2)
    assert row["chance"] == 1 / 16 and row["steps"] == 3
    with pytest.raises(ValueError, match="kind"):
        retrieval.train_retrieval("rnn", 0, config)


def test_one_attention_layer_can_read_the_needle_at_any_distance() -> None:
    """La tarea se resuelve por contenido: una consulta que busca «un token marcado» y copia su valor."""
    n, T = 4, 50
    x, distance, answer = make_needle_batch(64, T, n, torch.Generator().manual_seed(0))
    one_hot = F.one_hot(x, needle_vocab_size(n)).float()  # (B, T, V)
    score = 50.0 * (one_hot[..., n:2 * n].sum(-1))  # (B, T) alto solo en la aguja
    weights = score.softmax(dim=-1)  # la atención de Q
    read = torch.einsum("bt,btv->bv", weights, one_hot)[:, n:2 * n]  # (B, n)
    assert torch.equal(read.argmax(-1), answer)
    assert int(distance.max()) > 40  # también lejos
