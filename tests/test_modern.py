"""Las piezas de los modelos actuales (capítulo 11): RMSNorm, RoPE, SwiGLU, GQA, caché KV y Llama."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F

from transformer_lib import (
    GPT,
    GPTConfig,
    KVCache,
    LayerKVCache,
    MultiHeadAttention,
    RMSNorm,
    SwiGLU,
    apply_rope,
    rms_norm,
)
from transformer_lib.feedforward import swiglu_hidden_size
from transformer_lib.positional import rope_angles, rotate_half
from transformer_lib.scaling import (
    flops_per_token,
    gpt_param_count_exact,
    gpt_param_count_formula,
    kv_cache_bytes,
    measure_flops,
)

VARIANTS = list(itertools.product(("layernorm", "rmsnorm"), ("learned", "rope"), ("mlp", "swiglu"), (None, 2, 1)))


def small_config(norm="layernorm", position="learned", ffn="mlp", n_kv_head=None, **kw) -> GPTConfig:
    sizes = dict(vocab_size=30, block_size=12, n_layer=2, n_head=4, d_model=32)
    return GPTConfig(**{**sizes, **kw}, norm=norm, position=position, ffn=ffn, n_kv_head=n_kv_head)


# --------------------------------------------------------------------------- RMSNorm


def test_rms_norm_formula_and_fused_path_agree():
    x = torch.randn(3, 5, 16) * 3 + 1
    norm = RMSNorm(16, eps=1e-6)
    with torch.no_grad():
        norm.weight.normal_()
    expected = norm.weight * x / torch.sqrt((x**2).mean(-1, keepdim=True) + 1e-6)
    torch.testing.assert_close(rms_norm(x, norm.weight, 1e-6), expected)
    torch.testing.assert_close(norm(x), expected)
    norm.fused = False
    torch.testing.assert_close(norm(x), expected)
    assert sum(p.numel() for p in norm.parameters()) == 16  # solo γ, sin β


def test_rms_norm_output_has_unit_rms_and_rejects_bad_width():
    y = RMSNorm(64)(torch.randn(4, 64) * 10)
    torch.testing.assert_close(y.pow(2).mean(-1), torch.ones(4), rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="RMSNorm\\(64\\).*último eje"):
        RMSNorm(64)(torch.randn(2, 32))


# --------------------------------------------------------------------------- RoPE


def test_rope_is_a_rotation_per_pair():
    x = torch.randn(2, 3, 7, 8)
    y = apply_rope(x, torch.arange(7))
    # cada par (i, i + d_k/2) conserva su norma
    pair_norm = lambda t: t[..., :4] ** 2 + t[..., 4:] ** 2  # noqa: E731
    torch.testing.assert_close(pair_norm(y), pair_norm(x))
    torch.testing.assert_close(apply_rope(x, torch.zeros(7, dtype=torch.long)), x)  # posición 0: nada
    cos, sin = rope_angles(torch.arange(7), 8)
    torch.testing.assert_close(cos[:, :4], cos[:, 4:])
    torch.testing.assert_close(rotate_half(rotate_half(x)), -x)  # dos giros de 90° = 180°


def test_rope_score_depends_only_on_the_offset():
    torch.manual_seed(0)
    q, k = torch.randn(16), torch.randn(16)

    def score(m: int, n: int) -> float:
        qm = apply_rope(q[None, :], torch.tensor([m]))
        kn = apply_rope(k[None, :], torch.tensor([n]))
        return float(qm @ kn.T)

    for offset in (0, 1, 5, 17):
        scores = [score(n + offset, n) for n in (0, 3, 40, 200)]
        assert max(scores) - min(scores) < 1e-4, (offset, scores)
    assert abs(score(5, 0) - score(0, 0)) > 1e-3  # y sí depende de la distancia


def test_rope_errors_name_the_bad_value():
    with pytest.raises(ValueError, match="d_k par.*d_k=5"):
        MultiHeadAttention(15, 3, rope_theta=10000.0)
    with pytest.raises(ValueError, match="rope_theta.*0.5"):
        apply_rope(torch.randn(2, 4), torch.arange(2), theta=0.5)
    with pytest.raises(ValueError, match="positions.*T=3"):
        apply_rope(torch.randn(3, 4), torch.arange(5))
    with pytest.raises(ValueError, match="d_k par"):
        GPTConfig(vocab_size=10, n_head=4, d_model=12, position="rope")


# --------------------------------------------------------------------------- SwiGLU


def test_swiglu_formula_and_equal_parameters():
    ff = SwiGLU(8, 20, bias=True)
    x = torch.randn(2, 3, 8)
    expected = ff.w_down(F.silu(ff.w_gate(x)) * ff.w_up(x))
    torch.testing.assert_close(ff(x), expected)
    d = 384
    assert swiglu_hidden_size(d) == 1024  # 8/3 · 384
    mlp = GPTConfig(vocab_size=10, d_model=d, n_head=6, bias=False)
    swi = GPTConfig(vocab_size=10, d_model=d, n_head=6, bias=False, ffn="swiglu")
    assert swi.d_ff == 1024
    assert gpt_param_count_formula(swi) == gpt_param_count_formula(mlp)


# --------------------------------------------------------------------------- GQA


@pytest.mark.parametrize("n_kv", [4, 2, 1])
def test_gqa_fast_and_explicit_paths_agree_and_equal_repeated_heads(n_kv):
    torch.manual_seed(0)
    att = MultiHeadAttention(32, 4, n_kv_heads=n_kv, rope_theta=10000.0).eval()
    assert att.w_k.weight.shape == (n_kv * 8, 32)
    x = torch.randn(2, 6, 32)
    fast = att(x, x, x, is_causal=True)
    explicit, weights = att(x, x, x, is_causal=True, need_weights=True)
    torch.testing.assert_close(fast, explicit)
    assert weights.shape == (2, 4, 6, 6)
    # Misma cosa que una MHA normal cuyas W^K, W^V repiten cada cabeza para su grupo.
    full = MultiHeadAttention(32, 4, rope_theta=10000.0).eval()
    with torch.no_grad():
        for name in ("w_q", "w_o"):
            getattr(full, name).load_state_dict(getattr(att, name).state_dict())
        for name in ("w_k", "w_v"):
            src = getattr(att, name)
            w = src.weight.view(n_kv, 8, 32).repeat_interleave(4 // n_kv, dim=0).reshape(32, 32)
            b = src.bias.view(n_kv, 8).repeat_interleave(4 // n_kv, dim=0).reshape(32)
            getattr(full, name).weight.copy_(w)
            getattr(full, name).bias.copy_(b)
    torch.testing.assert_close(full(x, x, x, is_causal=True), fast)


def test_gqa_errors_name_the_bad_value():
    with pytest.raises(ValueError, match="n_heads=4 no es divisible entre n_kv_heads=3"):
        MultiHeadAttention(32, 4, n_kv_heads=3)
    with pytest.raises(ValueError, match="n_kv_heads.*0"):
        GPTConfig(vocab_size=10, n_kv_head=0)
    for field, value in (("norm", "batchnorm"), ("position", "sinusoidal"), ("ffn", "moe")):
        with pytest.raises(ValueError, match=f"GPTConfig.{field}='{value}'"):
            GPTConfig(vocab_size=10, **{field: value})


# --------------------------------------------------------------------------- GPT: conteo y FLOPs


@pytest.mark.parametrize("norm,position,ffn,n_kv", VARIANTS)
@pytest.mark.parametrize("bias,tie", [(True, True), (False, False)])
def test_param_and_flop_counts_are_exact_for_every_variant(norm, position, ffn, n_kv, bias, tie):
    config = small_config(norm, position, ffn, n_kv, bias=bias, tie_weights=tie, block_size=8)
    model = GPT(config)
    assert model.count_parameters() == gpt_param_count_exact(config)
    B, T = 2, config.block_size
    idx = torch.randint(0, config.vocab_size, (B, T))
    m = measure_flops(model, idx, idx)
    matrices = gpt_param_count_formula(config) + config.d_model * config.vocab_size
    assert m.total == 6 * matrices * B * T + 12 * config.n_layer * config.d_model * T * B * T
    assert m.total == pytest.approx(flops_per_token(config, include_lm_head=True) * B * T, rel=0.05)


def test_default_gpt_keeps_gpt2_parameter_names():
    names = [n for n, _ in GPT(small_config()).named_parameters()]
    assert names[:3] == ["tok_emb.weight", "pos_emb.embedding.weight", "blocks.0.self_attn.w_q.weight"]
    assert "blocks.0.ff.linear1.weight" in names and "ln_f.bias" in names
    rope = GPT(small_config(position="rope", norm="rmsnorm", ffn="swiglu"))
    assert rope.pos_emb is None and "ln_f.bias" not in dict(rope.named_parameters())


def test_rope_model_accepts_sequences_longer_than_block_size():
    model = GPT(small_config(position="rope")).eval()
    logits, _ = model(torch.randint(0, 30, (1, 40)))
    assert logits.shape == (1, 40, 30)
    with pytest.raises(ValueError, match="block_size=12"):
        GPT(small_config())(torch.randint(0, 30, (1, 13)))


# --------------------------------------------------------------------------- caché KV


@pytest.mark.parametrize("norm,position,ffn,n_kv", VARIANTS)
def test_cache_gives_the_same_tokens(norm, position, ffn, n_kv):
    torch.manual_seed(0)
    model = GPT(small_config(norm, position, ffn, n_kv)).eval()
    idx = torch.randint(0, 30, (2, 4))
    # 20 tokens nuevos: se pasa de block_size = 12, y la caché se abandona a tiempo.
    greedy = model.generate(idx, 20, temperature=0)
    assert torch.equal(model.generate(idx, 20, temperature=0, use_cache=True), greedy)
    sampled = [model.generate(idx, 20, top_k=10, generator=torch.Generator().manual_seed(3), use_cache=c)
               for c in (False, True)]
    assert torch.equal(*sampled)


def test_cached_forward_matches_full_forward():
    torch.manual_seed(0)
    model = GPT(small_config(position="rope", n_kv_head=2)).eval()
    idx = torch.randint(0, 30, (2, 12))
    full, _ = model(idx)
    cache = model.new_cache()
    parts = [model(idx[:, :5], cache=cache)[0], model(idx[:, 5:9], cache=cache)[0]]
    parts += [model(idx[:, t : t + 1], cache=cache)[0] for t in range(9, 12)]
    torch.testing.assert_close(torch.cat(parts, dim=1), full, rtol=1e-5, atol=1e-5)
    assert cache.length == 12


@pytest.mark.parametrize("n_kv", [4, 2, 1])
def test_cache_is_sized_by_n_kv_head(n_kv):
    config = small_config(n_kv_head=n_kv)
    model = GPT(config).eval()
    cache = model.new_cache()
    model(torch.randint(0, 30, (3, 5)), cache=cache)
    assert isinstance(cache, KVCache) and len(cache) == config.n_layer
    assert cache[0].keys.shape == (3, n_kv, config.block_size, 8)
    assert cache.memory_bytes() == kv_cache_bytes(config, batch_size=3) == 2 * 2 * 3 * n_kv * 12 * 8 * 4


def test_cache_errors():
    cache = LayerKVCache(4)
    cache.update(torch.zeros(1, 2, 3, 8), torch.zeros(1, 2, 3, 8))
    with pytest.raises(ValueError, match="max_len=4.*ya tiene 3.*2 más"):
        cache.update(torch.zeros(1, 2, 2, 8), torch.zeros(1, 2, 2, 8))
    with pytest.raises(ValueError, match="max_len.*0"):
        LayerKVCache(0)
    att, x, y = MultiHeadAttention(16, 2), torch.randn(1, 3, 16), torch.randn(1, 3, 16)
    with pytest.raises(ValueError, match="autoatención"):
        att(x, y, y, cache=LayerKVCache(8))
    with pytest.raises(ValueError, match="seq_len"):
        kv_cache_bytes(small_config(), seq_len=0)


# --------------------------------------------------------------------------- Llama de Hugging Face

LLAMA_CONFIGS = [
    dict(hidden_size=64, intermediate_size=172, num_hidden_layers=2, num_attention_heads=4,
         num_key_value_heads=2, vocab_size=97, max_position_embeddings=64),
    dict(hidden_size=48, intermediate_size=96, num_hidden_layers=3, num_attention_heads=6,
         num_key_value_heads=1, vocab_size=50, rope_theta=500000.0, tie_word_embeddings=True,
         rms_norm_eps=1e-5, max_position_embeddings=32),
    dict(hidden_size=32, intermediate_size=80, num_hidden_layers=1, num_attention_heads=4,
         num_key_value_heads=4, vocab_size=40, attention_bias=True, mlp_bias=True),
    dict(hidden_size=32, intermediate_size=80, num_hidden_layers=2, num_attention_heads=2,
         num_key_value_heads=1, vocab_size=40, attention_bias=True, rope_theta=1000.0),
    dict(hidden_size=32, intermediate_size=80, num_hidden_layers=2, num_attention_heads=4,
         num_key_value_heads=2, vocab_size=40, mlp_bias=True, tie_word_embeddings=True),
]


@pytest.mark.parametrize("kw", LLAMA_CONFIGS)
def test_llama_from_hf_matches_logits(kw):
    transformers = pytest.importorskip("transformers")
    from transformer_lib.interop import llama_from_hf

    torch.manual_seed(0)
    hf = transformers.LlamaForCausalLM(transformers.LlamaConfig(**kw)).eval()
    with torch.no_grad():  # pesos (y sesgos) lejos de su inicialización
        for p in hf.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    ours = llama_from_hf(hf)
    assert not ours.training and ours.config.kv_heads == kw["num_key_value_heads"]
    assert ours.config.tie_weights == kw.get("tie_word_embeddings", False)
    idx = torch.randint(0, kw["vocab_size"], (2, 20))
    with torch.no_grad():
        diff = (hf(idx).logits - ours(idx)[0]).abs().max().item()
    assert diff <= 1e-5
    # Y genera lo mismo que Hugging Face, con caché.
    hf_tokens = hf.generate(idx[:1, :5], max_new_tokens=8, do_sample=False, pad_token_id=0)
    assert torch.equal(ours.generate(idx[:1, :5], 8, temperature=0, use_cache=True), hf_tokens)


def test_llama_from_hf_rejects_what_it_cannot_copy():
    transformers = pytest.importorskip("transformers")
    from transformer_lib.interop import llama_from_hf

    base = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=4,
                num_key_value_heads=2, vocab_size=20)
    with pytest.raises(TypeError, match="LlamaForCausalLM"):
        llama_from_hf(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="hidden_act='silu'.*'gelu'"):
        llama_from_hf(transformers.LlamaForCausalLM(transformers.LlamaConfig(**base, hidden_act="gelu")))
    with pytest.raises(ValueError, match="head_dim=16"):
        llama_from_hf(transformers.LlamaForCausalLM(transformers.LlamaConfig(**base, head_dim=16)))
    scaled = transformers.LlamaConfig(**base)
    scaled.rope_parameters = {"rope_type": "linear", "factor": 2.0, "rope_theta": 10000.0}
    with pytest.raises(ValueError, match="RoPE escalado.*'linear'"):
        llama_from_hf(transformers.LlamaForCausalLM(scaled))
