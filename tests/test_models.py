"""GPT y Transformer encoder-decoder: formas, causalidad, recuento de parámetros, entrenamiento."""

from __future__ import annotations

import inspect
import math

import pytest
import torch
import torch.nn.functional as F
from _helpers import assert_parity, nn_causal, nn_key_padding, single_thread
from torch import nn

import transformer_lib
from transformer_lib import GPT, GPTConfig, Transformer, from_torch, padding_mask, set_seed
from transformer_lib.models import TransformerConfig

TINY = dict(vocab_size=17, block_size=12, n_layer=2, n_head=2, d_model=16)


def _gpt(**kw) -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig(**{**TINY, **kw})).eval()


def _ids(B, T, V=17, seed=0):
    return torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(seed))


# ------------------------------------------------------------------------------- GPT


def test_gpt_shapes_and_loss():
    model = _gpt()
    idx, targets = _ids(3, 12), _ids(3, 12, seed=1)
    logits, loss = model(idx)
    assert logits.shape == (3, 12, 17) and loss is None
    logits, loss = model(idx, targets)
    assert loss.shape == ()
    torch.testing.assert_close(loss, F.cross_entropy(logits.reshape(-1, 17), targets.reshape(-1)))
    assert abs(loss.item() - math.log(17)) < 0.3  # al inicio, casi uniforme


@pytest.mark.parametrize("norm_first", [True, False])
def test_gpt_is_causal(norm_first):
    """Cambiar los tokens posteriores a t no cambia los logits hasta t."""
    model = _gpt(norm_first=norm_first)
    idx = _ids(2, 12)
    logits, _ = model(idx)
    for t in range(11):
        idx2 = idx.clone()
        idx2[:, t + 1:] = (idx2[:, t + 1:] + 1 + torch.arange(11 - t)) % 17
        logits2, _ = model(idx2)
        assert torch.allclose(logits[:, : t + 1], logits2[:, : t + 1], atol=1e-6, rtol=0)
        assert not torch.allclose(logits[:, t + 1:], logits2[:, t + 1:])


def test_gpt_shorter_sequences_give_the_same_prefix():
    model = _gpt()
    idx = _ids(2, 12)
    assert_parity(model(idx[:, :5])[0], model(idx)[0][:, :5])


def _hand_count(V, block, L, d, d_ff=None, tied=True, norm_first=True):
    d_ff = 4 * d if d_ff is None else d_ff
    per_block = 4 * d * d + 4 * d + 2 * d * d_ff + d_ff + d + 2 * 2 * d  # atención, FFN, 2 LN
    non_emb = L * per_block + (2 * d if norm_first else 0)  # + LayerNorm final (Pre-LN)
    emb = V * d + block * d
    return emb + non_emb + (0 if tied else V * d), emb, non_emb


@pytest.mark.parametrize(
    "kw",
    [dict(), dict(d_ff=40), dict(tie_weights=False), dict(norm_first=False), dict(n_layer=3, d_model=24)],
    ids=["base", "d_ff", "untied", "post-ln", "bigger"],
)
def test_count_parameters_exact(kw):
    model = _gpt(**kw)
    c = model.config
    total, emb, non_emb = _hand_count(c.vocab_size, c.block_size, c.n_layer, c.d_model, kw.get("d_ff"),
                                      c.tie_weights, c.norm_first)
    counted = model.count_parameters()
    assert counted.total == total == sum(p.numel() for p in model.parameters())
    assert counted.embedding == emb
    if c.tie_weights:
        assert counted.non_embedding == non_emb


def test_count_parameters_formula_12_d_squared():
    """Con d_ff = 4·d cada bloque tiene exactamente 12·d² + 13·d parámetros."""
    d, L = 64, 3
    model = GPT(GPTConfig(vocab_size=50, block_size=32, n_layer=L, n_head=4, d_model=d))
    per_block = sum(p.numel() for p in model.blocks[0].parameters())
    assert per_block == 12 * d * d + 13 * d
    assert model.count_parameters().non_embedding == L * (12 * d * d + 13 * d) + 2 * d


def test_gpt_blocks_have_no_cross_attention():
    model = _gpt()
    assert all(block.cross_attn is None for block in model.blocks)
    assert not any("cross" in name for name, _ in model.named_parameters())


def test_gpt_weight_tying():
    model = _gpt()
    assert model.lm_head.weight is model.tok_emb.weight
    assert _gpt(tie_weights=False).lm_head.weight is not _gpt(tie_weights=False).tok_emb.weight


def test_gpt_generate():
    model = _gpt()
    idx = _ids(2, 3)
    out = model.generate(idx, max_new_tokens=15, temperature=0)  # pasa de block_size: recorta
    assert out.shape == (2, 18) and torch.equal(out[:, :3], idx)
    ctx = out[:, :-1][:, -12:]
    assert torch.equal(out[:, -1], model(ctx)[0][:, -1].argmax(-1))  # voraz = argmax
    assert torch.equal(model.generate(idx, 5, top_k=1), model.generate(idx, 5, temperature=0))
    a = model.generate(idx, 8, generator=torch.Generator().manual_seed(3))
    b = model.generate(idx, 8, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert int(out.max()) < 17


def _train(model, x, y, steps, lr):
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    losses = []
    model.train()
    for _ in range(steps):
        _, loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_gpt_overfits_one_batch():
    with single_thread():
        set_seed(0)
        model = GPT(GPTConfig(vocab_size=16, block_size=16, n_layer=2, n_head=2, d_model=32))
        x, y = _ids(4, 16, V=16), _ids(4, 16, V=16, seed=1)
        losses = _train(model, x, y, steps=150, lr=1e-2)
    assert losses[0] > 2.5  # ≈ ln 16 al empezar
    assert losses[-1] < 0.05, f"la pérdida final es {losses[-1]:.3f}"


def test_seeded_training_is_bit_identical():
    def run():
        set_seed(123)
        model = GPT(GPTConfig(**{**TINY, "dropout": 0.1}))
        losses = _train(model, _ids(4, 12), _ids(4, 12, seed=1), steps=5, lr=1e-3)
        return losses, model.state_dict()

    with single_thread():
        (l1, s1), (l2, s2) = run(), run()
    assert l1 == l2
    assert all(torch.equal(s1[k], s2[k]) for k in s1)


def test_gpt_config_defaults_and_dict():
    c = GPTConfig(vocab_size=10, d_model=32)
    assert c.d_ff == 128
    assert GPTConfig(**c.to_dict()) == c
    assert GPTConfig.from_dict({**c.to_dict(), "unknown_key": 1}) == c


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(vocab_size=True), r"GPTConfig.vocab_size debe ser un entero positivo y es True"),
        (dict(vocab_size=10, n_layer=0), r"GPTConfig.n_layer debe ser un entero positivo y es 0"),
        (dict(vocab_size=10, d_ff=0), r"GPTConfig.d_ff debe ser un entero positivo y es 0"),
    ],
)
def test_gpt_config_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GPTConfig(**kwargs)


# ----------------------------------------------------------------------- Transformer


def _transformer(norm_first=False, **kw):
    torch.manual_seed(0)
    return Transformer(11, 13, d_model=32, n_heads=4, n_encoder_layers=2, n_decoder_layers=2,
                       d_ff=64, dropout=0.0, max_len=40, norm_first=norm_first, **kw).eval()


def test_transformer_config_round_trip():
    c = TransformerConfig(11, 13, d_model=32, n_heads=4, n_encoder_layers=0, d_ff=64, dropout=0.0,
                          norm_first=True, activation="gelu")
    assert TransformerConfig.from_dict(c.to_dict()) == c
    assert TransformerConfig.from_dict({**c.to_dict(), "unknown_key": 1}) == c
    assert TransformerConfig(11, 13) == TransformerConfig(src_vocab_size=11, tgt_vocab_size=13, d_model=512,
                                                          n_heads=8, n_encoder_layers=6, n_decoder_layers=6,
                                                          d_ff=2048, dropout=0.1, max_len=512,
                                                          norm_first=False, activation="relu")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(src_vocab_size=0), r"TransformerConfig.src_vocab_size debe ser un entero positivo y es 0"),
        (dict(tgt_vocab_size=2.5), r"TransformerConfig.tgt_vocab_size debe ser un entero positivo y es 2.5"),
        (dict(n_encoder_layers=-1), r"TransformerConfig.n_encoder_layers debe ser un entero >= 0 y es -1"),
        (dict(n_decoder_layers=0), r"TransformerConfig.n_decoder_layers debe ser un entero positivo y es 0"),
        (dict(d_ff=0), r"TransformerConfig.d_ff debe ser un entero positivo y es 0"),
        (dict(max_len=0), r"TransformerConfig.max_len debe ser un entero positivo y es 0"),
        (dict(d_model=30, n_heads=4), r"d_model=30 no es divisible entre n_heads=4"),
        (dict(dropout=1.0), r"dropout debe ser un número en \[0, 1\) y recibí 1.0"),
        (dict(activation="tanh"), r"Activación desconocida 'tanh'"),
    ],
)
def test_transformer_config_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TransformerConfig(**{"src_vocab_size": 11, "tgt_vocab_size": 13, **kwargs})


def test_transformer_from_config_equals_keyword_sizes():
    config = TransformerConfig(11, 13, d_model=32, n_heads=4, n_encoder_layers=2, n_decoder_layers=2,
                               d_ff=64, dropout=0.0, max_len=40)
    by_sizes = _transformer()
    torch.manual_seed(0)
    by_config = Transformer(config).eval()
    assert by_sizes.config == config and by_config.config is config
    assert Transformer(config=config).config is config
    assert Transformer(src_vocab_size=11, tgt_vocab_size=13, d_model=32, n_heads=4).config.d_ff == 2048
    src, tgt = _ids(2, 7, V=11), _ids(2, 5, V=13)
    torch.testing.assert_close(by_config(src, tgt), by_sizes(src, tgt), rtol=0, atol=0)


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((TransformerConfig(11, 13),), dict(d_model=32), "no las dos cosas"),
        ((11, 13), dict(d_modle=32), "no tiene el parámetro 'd_modle'"),
        ((), dict(d_model=32), "necesita src_vocab_size y tgt_vocab_size"),
    ],
)
def test_transformer_constructor_errors(args, kwargs, match):
    with pytest.raises(TypeError, match=match):
        Transformer(*args, **kwargs)


def test_transformer_shapes():
    model = _transformer()
    src, tgt = _ids(3, 9, V=11), _ids(3, 6, V=13)
    assert model(src, tgt).shape == (3, 6, 13)
    assert model.encode(src).shape == (3, 9, 32)


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_decoder_is_causal(norm_first):
    model = _transformer(norm_first)
    src, tgt = _ids(2, 7, V=11), _ids(2, 6, V=13)
    logits = model(src, tgt)
    tgt2 = tgt.clone()
    tgt2[:, 3:] = (tgt2[:, 3:] + 1) % 13
    logits2 = model(src, tgt2)
    assert torch.allclose(logits[:, :3], logits2[:, :3], atol=1e-6, rtol=0)
    assert not torch.allclose(logits[:, 3:], logits2[:, 3:])


def test_transformer_ignores_source_padding():
    model = _transformer()
    src, tgt = _ids(2, 8, V=11), _ids(2, 5, V=13)
    mask = padding_mask([8, 4], 8)
    src2 = src.clone()
    src2[1, 4:] = (src2[1, 4:] + 3) % 11  # solo cambia el relleno
    assert torch.allclose(model(src, tgt, src_mask=mask), model(src2, tgt, src_mask=mask), atol=1e-6, rtol=0)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_transformer_stacks_match_nn_transformer(activation):
    """Nuestras pilas (copiadas capa a capa con from_torch) calculan lo mismo que nn.Transformer."""
    ours = _transformer(norm_first=True, activation=activation)
    torch.manual_seed(1)
    ref = nn.Transformer(32, 4, 2, 2, 64, dropout=0.0, activation=activation, batch_first=True,
                         norm_first=True).eval()
    for mine, theirs in zip([*ours.encoder, *ours.decoder], [*ref.encoder.layers, *ref.decoder.layers]):
        mine.load_state_dict(from_torch(theirs).state_dict())
    ours.enc_norm.load_state_dict(from_torch(ref.encoder.norm).state_dict())
    ours.dec_norm.load_state_dict(from_torch(ref.decoder.norm).state_dict())

    src, tgt = _ids(3, 8, V=11), _ids(3, 6, V=13)
    lengths = [8, 5, 2]
    kpm = nn_key_padding(lengths, 8)
    src_mask = padding_mask(lengths, 8)
    memory = ours.encode(src, src_mask)
    ref_memory = ref.encoder(ours.embed(src, ours.src_emb), src_key_padding_mask=kpm)
    assert_parity(memory[~kpm], ref_memory[~kpm])
    logits = ours.decode(tgt, memory, src_mask)
    ref_hidden = ref.decoder(ours.embed(tgt, ours.tgt_emb), memory, tgt_mask=nn_causal(6),
                             memory_key_padding_mask=kpm, tgt_is_causal=True)
    assert_parity(logits, ours.out(ref_hidden))


def test_greedy_decode_matches_step_by_step_argmax():
    model = _transformer()
    src = _ids(2, 7, V=11)
    out = model.greedy_decode(src, bos_id=1, max_len=5)
    assert out.shape == (2, 6) and torch.equal(out[:, 0], torch.ones(2, dtype=torch.long))
    for t in range(1, 6):
        assert torch.equal(out[:, t], model(src, out[:, :t])[:, -1].argmax(-1))


def test_greedy_decode_stops_at_eos():
    model = _transformer()
    eos = 2
    with torch.no_grad():
        model.out.weight.zero_()
        model.out.bias.zero_()
        model.out.bias[eos] = 10.0  # el modelo siempre prefiere <eos>
    out = model.greedy_decode(_ids(3, 5, V=11), bos_id=1, max_len=10, eos_id=eos)
    assert out.shape == (3, 2) and torch.equal(out[:, 1], torch.full((3,), eos))
    assert model.greedy_decode(_ids(3, 5, V=11), bos_id=1, max_len=4).shape == (3, 5)  # sin eos_id


def test_greedy_decode_pads_finished_sequences_with_eos():
    model = _transformer()
    src = _ids(2, 5, V=11)
    free = model.greedy_decode(src, bos_id=1, max_len=6)
    eos = int(free[0, 2])  # hacemos que el token que la secuencia 0 emite en el paso 2 sea <eos>
    out = model.greedy_decode(src, bos_id=1, max_len=6, eos_id=eos)
    first = (out[0] == eos).nonzero()[0].item()
    assert torch.all(out[0, first:] == eos)


# ----------------------------------------------------------------------- documentación

# Las piezas de la arquitectura (issue del núcleo): cada una documenta sus formas y su capítulo.
ARCHITECTURE_MODULES = {
    f"transformer_lib.{m}"
    for m in ("attention", "multihead", "normalization", "feedforward", "positional", "blocks",
              "models", "models.transformer", "models.gpt", "interop", "interop.torch_nn",
              "interop.gpt2", "interop.llama")
}
DOCUMENTED = [
    name for name in transformer_lib.__all__
    if callable(getattr(transformer_lib, name))
    and getattr(getattr(transformer_lib, name), "__module__", "") in ARCHITECTURE_MODULES
    and name not in {"GPTConfig", "TransformerConfig", "ParameterCount"}
]


def test_documented_covers_the_architecture():
    for name in ("MultiHeadAttention", "GPT", "Transformer", "EncoderBlock", "DecoderBlock",
                 "LayerNorm", "FeedForward", "scaled_dot_product_attention", "from_torch"):
        assert name in DOCUMENTED


@pytest.mark.parametrize("name", DOCUMENTED)
def test_public_docstrings_have_shapes_and_chapter(name):
    obj = getattr(transformer_lib, name)
    doc = inspect.getdoc(obj) or ""
    assert "Formas" in doc, f"{name} no tiene sección «Formas»"
    assert "capítulo" in doc, f"{name} no dice a qué capítulo corresponde"
    if inspect.isclass(obj):
        for meth in ("forward", "generate", "encode", "decode", "greedy_decode"):
            if meth in vars(obj):
                assert "Formas" in (inspect.getdoc(vars(obj)[meth]) or ""), f"{name}.{meth} sin «Formas»"
