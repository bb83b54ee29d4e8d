"""transformer_lib.experiments: los modelos de la escalera, la tarea de las cabezas y el barrido Post-LN/Pre-LN."""

from __future__ import annotations

import math
from dataclasses import fields

import pytest
import torch

from transformer_lib import GPT, GPTConfig
from transformer_lib.experiments import heads, ladder, modern, stability

V = 20


def _gpt_weights_into_ladder(gpt: GPT, model: ladder.LadderModel) -> None:
    """Copia los pesos de un GPT Pre-LN (sin compartir embeddings) en el último peldaño."""
    names = {"tok_emb.weight": "tok_emb.weight", "pos_emb.embedding.weight": "pos_emb.embedding.weight",
             "ln_f.weight": "ln_f.weight", "ln_f.bias": "ln_f.bias", "lm_head.weight": "lm_head.weight"}
    for i in range(gpt.config.n_layer):
        for ours, theirs in (("self_attn", "self_attn"), ("ff", "ff"), ("norm1", "res_self.norm"),
                             ("norm2", "res_ff.norm")):
            for key in gpt.blocks[i].state_dict():
                if key.startswith(theirs + "."):
                    names[f"blocks.{i}.{key}"] = f"layers.{i}.{ours}.{key[len(theirs) + 1:]}"
    source = gpt.state_dict()
    target = {ours: source[theirs] for theirs, ours in names.items()}
    missing, unexpected = model.load_state_dict(target, strict=True), None
    assert not missing.missing_keys and not missing.unexpected_keys and unexpected is None


def test_the_top_rung_is_the_library_gpt() -> None:
    torch.manual_seed(0)
    gpt = GPT(GPTConfig(vocab_size=V, block_size=16, n_layer=2, n_head=4, d_model=32, tie_weights=False)).eval()
    top = ladder.LadderModel(ladder.rung_config("positions", V, block_size=16, n_layer=2, d_model=32, n_head=4))
    assert sum(p.numel() for p in top.parameters()) == sum(p.numel() for p in gpt.parameters())
    _gpt_weights_into_ladder(gpt, top)
    idx = torch.randint(V, (3, 16))
    torch.testing.assert_close(top(idx)[0], gpt(idx)[0], atol=1e-6, rtol=0)
    _, loss = top(idx[:, :-1], idx[:, 1:])
    assert loss.item() == pytest.approx(gpt(idx[:, :-1], idx[:, 1:])[1].item(), abs=1e-6)


def test_each_rung_adds_exactly_one_piece() -> None:
    pieces = [f.name for f in fields(ladder.LadderConfig) if f.type in ("bool", bool)]
    configs = [ladder.rung_config(key, V) for key, _, _ in ladder.RUNGS]
    assert not any(getattr(configs[0], p) for p in pieces)  # el bigrama no tiene ninguna
    assert all(getattr(configs[-1], p) for p in pieces)  # el último, todas
    for (key, _, piece), before, after in zip(ladder.RUNGS[1:], configs, configs[1:]):
        changed = [p for p in pieces if getattr(before, p) != getattr(after, p)]
        assert changed == [piece], (key, changed)
    assert len(ladder.LadderModel(configs[0]).layers) == 0


@pytest.mark.parametrize("key", [k for k, _, _ in ladder.RUNGS])
def test_every_rung_is_causal(key: str) -> None:
    torch.manual_seed(0)
    model = ladder.LadderModel(ladder.rung_config(key, V, block_size=12, d_model=16, n_head=2, n_layer=2)).eval()
    idx = torch.randint(V, (2, 12))
    changed = idx.clone()
    changed[:, 8:] = (changed[:, 8:] + 1) % V
    logits, other = model(idx)[0], model(changed)[0]
    torch.testing.assert_close(logits[:, :8], other[:, :8], atol=1e-6, rtol=0)
    assert not torch.allclose(logits[:, 8:], other[:, 8:])


def test_the_ffn_pair_has_equal_parameters_and_flops() -> None:
    (name_a, with_ffn, steps_a), (name_b, without, steps_b) = ladder.ffn_pair(V, block_size=16,
                                                                            steps=1000, batch_size=4)
    assert (name_a, name_b) == ("con FFN", "sin FFN") and with_ffn.ffn and not without.ffn
    n_a = sum(p.numel() for p in ladder.LadderModel(with_ffn).parameters())
    n_b = sum(p.numel() for p in ladder.LadderModel(without).parameters())
    assert abs(n_a - n_b) / n_a < 0.01, (n_a, n_b)
    flops_a = steps_a * ladder.step_flops(with_ffn, 4)
    flops_b = steps_b * ladder.step_flops(without, 4)
    assert steps_b < steps_a and abs(flops_a - flops_b) / flops_a < 2e-3, (flops_a, flops_b)


def test_ladder_errors_name_the_value() -> None:
    with pytest.raises(ValueError, match="n_head=3 debe dividir a d_model=64"):
        ladder.LadderConfig(vocab_size=V, n_head=3)
    with pytest.raises(ValueError, match="bigrama"):
        ladder.LadderConfig(vocab_size=V, attention=False)
    with pytest.raises(ValueError, match="Peldaño desconocido 'gelu'"):
        ladder.rung_config("gelu", V)
    with pytest.raises(ValueError, match=r"T <= 64 y tiene \(1, 65\)"):
        ladder.LadderModel(ladder.rung_config("bigram", V))(torch.zeros(1, 65, dtype=torch.long))


def test_the_ladder_trains_and_reports_its_row() -> None:
    from transformer_lib.data import CharTokenizer, QuijoteData

    text = "en un lugar de la mancha, de cuyo nombre no quiero acordarme " * 40
    tok = CharTokenizer.from_text(text)
    ids = torch.tensor(tok.encode(text))
    data = QuijoteData(tokenizer=tok, train=ids[:2000], val=ids[2000:])
    recipe = ladder.LadderRecipe(steps=30, batch_size=4, eval_iters=2, warmup=5)
    config = ladder.rung_config("ffn", tok.vocab_size, block_size=16, d_model=16, n_head=2, n_layer=1)
    row = ladder.train_rung(config, data, seed=0, recipe=recipe)
    assert row["steps"] == 30 and row["seed"] == 0 and row["config"]["ffn"] is True
    assert row["params"] == sum(p.numel() for p in ladder.LadderModel(config).parameters())
    assert math.isfinite(row["val_loss"]) and row["val_loss"] < math.log(tok.vocab_size)
    assert ladder.train_rung(config, data, seed=0, recipe=recipe)["val_loss"] == row["val_loss"]  # determinista


# ---------------------------------------------------------------------------------------
# Capítulo 2: la tarea de las dos relaciones


def test_digits_batch_targets_are_the_previous_and_the_marked_digit() -> None:
    x, mark, y, at = heads.digits_batch(50, torch.Generator().manual_seed(0))
    assert x.shape == mark.shape == y.shape == (50, heads.LENGTH) and mark.sum(1).eq(1).all()
    for b in range(50):
        p = at[b].item()
        assert mark[b, p] == 1
        for t in range(heads.LENGTH):
            if t == 0 or t == p or t - 1 == p:
                assert y[b, t] == heads.IGNORE
            else:
                assert y[b, t] == x[b, t - 1] * heads.DIGITS + x[b, p]


def test_attention_only_has_the_same_parameters_for_any_number_of_heads() -> None:
    counts = {h: sum(p.numel() for p in heads.AttentionOnly(h).parameters()) for h in (1, 2, 4, 8)}
    assert len(set(counts.values())) == 1, counts
    with pytest.raises(ValueError, match="n_heads=3 debe dividir"):
        heads.HeadsRun(3)


def test_heads_training_is_deterministic_and_learns() -> None:
    run = heads.HeadsRun(4, seed=0, steps=60)
    _, losses = heads.train_heads(run)
    assert heads.train_heads(run)[1] == losses
    assert losses[-1] < losses[0] - 0.5
    row = heads.heads_row(run)
    assert row["final_loss"] == pytest.approx(sum(losses[-20:]) / 20) and 0 <= row["pair"] <= 1


# ---------------------------------------------------------------------------------------
# Capítulo 4: Post-LN frente a Pre-LN


def test_stability_grid_is_the_32_combinations_for_each_seed() -> None:
    runs = list(stability.stability_grid([0, 1], steps=10))
    assert len(runs) == 64 and len(set(runs)) == 64
    assert {(r.norm_first, r.n_layer, r.emb_std, r.lr, r.warmup) for r in runs} == {
        (nf, n, e, lr, w) for nf in (False, True) for n in (2, 8) for e in (None, 1.0) for lr in (1e-3, 3e-3)
        for w in (0, 100)}
    assert runs[0].label == "Post-LN, 2 bloques, GPT-2" and runs[-1].label == "Pre-LN, 8 bloques, σ = 1"


def test_stability_model_only_changes_the_embedding_scale() -> None:
    gpt2 = stability.stability_model(stability.StabilityRun(False, 2), V)
    wide = stability.stability_model(stability.StabilityRun(False, 2, emb_std=1.0), V)
    assert gpt2.tok_emb.weight.std().item() == pytest.approx(0.02, rel=0.2)
    assert wide.tok_emb.weight.std().item() == pytest.approx(1.0, rel=0.2)
    assert torch.equal(gpt2.blocks[0].ff.linear1.weight, wide.blocks[0].ff.linear1.weight)  # lo demás, igual
    assert not gpt2.config.norm_first and gpt2.config.n_layer == 2


def test_unigram_loss_is_the_entropy_of_the_frequencies() -> None:
    ids = torch.tensor([0, 0, 1, 3])
    assert stability.unigram_loss(ids, 5) == pytest.approx(-(0.5 * math.log(0.5) + 2 * 0.25 * math.log(0.25)))


def test_stability_run_errors_name_the_value() -> None:
    with pytest.raises(ValueError, match="warmup debe ser un entero >= 0 y es -1"):
        stability.StabilityRun(True, 2, warmup=-1)
    with pytest.raises(ValueError, match="emb_std debe ser None o positiva y es 0"):
        stability.StabilityRun(True, 2, emb_std=0)


# ---------------------------------------------------------------------------------------
# Capítulo 11: del bloque de GPT-2 al de Llama


def test_modern_ladder_changes_one_piece_at_a_time_with_equal_parameters() -> None:
    from transformer_lib.scaling import gpt_param_count_exact

    recipe = modern.ModernRecipe(d_model=128, block_size=128)
    configs = modern.modern_configs(92, recipe)
    assert list(configs) == [k for k, _ in modern.MODERN_RUNGS]
    pieces = ("norm", "position", "ffn", "n_kv_head")
    for before, after in zip(list(configs.values()), list(configs.values())[1:]):
        assert sum(getattr(before, f) != getattr(after, f) for f in pieces) == 1, (before, after)
    gpt2 = gpt_param_count_exact(configs["gpt2"]).non_embedding
    for key, config in configs.items():
        assert abs(gpt_param_count_exact(config).non_embedding - gpt2) / gpt2 < 0.005, key
    last = configs["gqa"]
    assert (last.norm, last.position, last.ffn, last.n_kv_head) == ("rmsnorm", "rope", "swiglu", 2)
    assert configs["swiglu"].d_ff == 341 and configs["gpt2"] == GPTConfig(
        vocab_size=92, block_size=128, n_layer=4, n_head=4, d_model=128)


def test_kv_variants_trade_cache_memory_at_equal_parameters() -> None:
    from transformer_lib.scaling import gpt_param_count_exact

    variants = modern.kv_variants(92)
    assert list(variants) == [4, 2, 1]
    counts = [gpt_param_count_exact(c).non_embedding for c in variants.values()]
    assert max(counts) / min(counts) < 1.005, counts
    full = modern.kv_bytes_per_token(variants[4])
    assert full == 2 * 4 * 64 * 4  # K y V, 4 capas, 4 cabezas de 16, 4 bytes
    assert [full // modern.kv_bytes_per_token(c) for c in variants.values()] == [1, 2, 4]
    assert variants[2] == modern.modern_configs(92)["gqa"]
    with pytest.raises(ValueError, match="n_kv_head=3 debe dividir a n_head=4"):
        modern.gqa_d_ff(64, 4, 3)


@pytest.mark.parametrize("position", ["learned", "rope"])
def test_loss_by_position_past_the_trained_length(position: str) -> None:
    import torch.nn.functional as F

    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=V, block_size=8, n_layer=1, n_head=2, d_model=16, position=position)).eval()
    ids = torch.randint(V, (200,))
    losses = modern.loss_by_position(model, ids, length=20, n_windows=3, seed=1)
    assert len(losses) == 20
    starts = torch.randint(0, len(ids) - 21, (3,), generator=torch.Generator().manual_seed(1)).tolist()
    windows = torch.stack([ids[s : s + 21] for s in starts])
    with torch.no_grad():
        for p in (0, 7, 8, 19):
            if position == "rope":  # toda la ventana
                logits = model(windows[:, :20])[0][:, p]
            else:  # los últimos block_size tokens hasta p, como generate
                logits = model(windows[:, max(0, p - 7) : p + 1])[0][:, -1]
            expected = F.cross_entropy(logits, windows[:, p + 1]).item()
            assert losses[p] == pytest.approx(expected, abs=1e-5), p


def test_norm_step_ms_times_both_norms_in_turns() -> None:
    times = modern.norm_step_ms(V, modern.ModernRecipe(d_model=16, n_layer=1, block_size=8, batch_size=2),
                                rounds=3, steps=2)
    assert set(times) == {"layernorm", "rmsnorm"}
    assert all(len(v) == 3 and all(t > 0 for t in v) for v in times.values())


def test_tokenizer_pair_compares_in_bits_per_character() -> None:
    from transformer_lib.data import BPETokenizer, CharTokenizer, QuijoteData

    text = ("En un lugar de la Mancha, de cuyo nombre no quiero acordarme, no ha mucho tiempo que vivía "
            "un hidalgo de los de lanza en astillero. ") * 30
    split = 3000
    char = CharTokenizer.from_text(text)
    bpe = BPETokenizer.train(text[:split], vocab_size=300)
    chars = QuijoteData(char, torch.tensor(char.encode(text[:split])), torch.tensor(char.encode(text[split:])))
    bpes = QuijoteData(bpe, torch.tensor(bpe.encode(text[:split])), torch.tensor(bpe.encode(text[split:])))
    recipe = modern.ModernRecipe(d_model=16, n_layer=1, block_size=8, batch_size=4, steps=5, warmup=1, eval_iters=2)
    rows = modern.tokenizer_pair(chars, bpes, recipe)
    assert [r["tokenizer"] for r in rows] == ["caracteres", "BPE"]
    assert rows[0]["chars_per_token"] == 1.0 and rows[1]["chars_per_token"] > 1.5
    for r in rows:  # bits por carácter = nats por token / (ln 2 · caracteres por token)
        assert r["val_bpc"] == pytest.approx(r["val_loss"] / math.log(2) / r["chars_per_token"])
        assert r["sample"].startswith("En un lugar de la Mancha")
    assert rows[1]["flops_per_step"] > rows[0]["flops_per_step"]  # solo crece la proyección de salida
