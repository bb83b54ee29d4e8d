"""Entrenamiento: calendario de la tasa, bucle, historial, checkpoints atómicos."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch

from transformer_lib import GPT, GPTConfig, Transformer
from transformer_lib.data import CharTokenizer, DatesTask
from transformer_lib.models import TransformerConfig
from transformer_lib.plots import plot_history
from transformer_lib.training import (
    History,
    TrainConfig,
    load_checkpoint,
    lr_at,
    save_checkpoint,
    train,
)

TEXT = "en un lugar de la mancha de cuyo nombre no quiero acordarme " * 40


def _tiny_setup(**cfg):
    tok = CharTokenizer.from_text(TEXT)
    ids = torch.tensor(tok.encode(TEXT))
    split = int(0.9 * len(ids))
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=tok.vocab_size, block_size=16, n_layer=1, n_head=2, d_model=32))
    base = dict(max_iters=60, batch_size=8, block_size=16, lr=3e-3, warmup_iters=5, eval_interval=20,
                eval_iters=2, final_eval_iters=4, progress=False, device="cpu", seed=0)
    base.update(cfg)
    return model, TrainConfig(**base), (ids[:split], ids[split:]), tok


def test_lr_schedule():
    cfg = TrainConfig(max_iters=1000, lr=1e-3, min_lr=1e-4, warmup_iters=100)
    assert lr_at(0, cfg) == pytest.approx(1e-5)
    assert lr_at(99, cfg) == pytest.approx(1e-3)
    assert lr_at(550, cfg) == pytest.approx(5.5e-4)  # mitad del coseno
    assert lr_at(1000, cfg) == pytest.approx(1e-4)
    lrs = [lr_at(s, cfg) for s in range(100, 1000)]
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))  # decrece tras el calentamiento
    assert lr_at(999, TrainConfig(lr=1e-3, max_iters=1000)) == pytest.approx(5e-4, rel=1e-3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(max_iters=0), "max_iters"),
        (dict(lr=-1.0), "lr"),
        (dict(min_lr=1.0), "min_lr"),
        (dict(precision="fp8"), "precision"),
        (dict(eval_interval=-1), "eval_interval"),
        (dict(grad_accum_steps=0), "grad_accum_steps"),
        (dict(batch_size=12, grad_accum_steps=5), "batch_size=12 debe ser múltiplo de grad_accum_steps=5"),
    ],
)
def test_config_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_tiny_gpt_loss_falls():
    model, cfg, data, _ = _tiny_setup()
    h = train(model, cfg, data)
    assert h.steps == list(range(1, 61)) and len(h.train_loss) == len(h.lr) == 60
    assert h.eval_steps == [0, 20, 40, 60]
    assert h.val_loss[-1] < h.val_loss[0] - 1.0  # aprende el texto repetido
    assert h.eval_train_loss[0] == pytest.approx(math.log(model.config.vocab_size), abs=0.3)
    assert h.tokens == 60 * 8 * 16 and h.tokens_per_s > 0 and h.seconds > 0
    assert h.lr[0] == pytest.approx(cfg.lr / 5)
    fig = plot_history(h)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert fig.axes[0].get_xlabel() == "paso de entrenamiento"
    matplotlib.pyplot.close(fig)


def test_training_is_reproducible():
    m1, cfg, data, _ = _tiny_setup(max_iters=10, eval_interval=0)
    m2, _, _, _ = _tiny_setup()
    h1, h2 = train(m1, cfg, data), train(m2, cfg, data)
    assert h1.train_loss == h2.train_loss and h1.val_loss == h2.val_loss


def test_callback_sees_every_step_and_can_stop():
    model, cfg, data, _ = _tiny_setup()
    seen = []

    def cb(step, m, history):
        seen.append((step, m.training))
        return step == 7

    h = train(model, cfg, data, callback=cb)
    assert [s for s, _ in seen] == list(range(8)) and not any(t for _, t in seen)
    assert h.steps[-1] == 7 and model.training


def test_bf16_autocast_on_cpu_runs():
    model, cfg, data, _ = _tiny_setup(max_iters=20, precision="bf16", eval_interval=0)
    h = train(model, cfg, data)
    assert math.isfinite(h.val_loss[-1]) and h.val_loss[-1] < h.train_loss[0]


def test_nan_loss_stops_with_clear_error():
    model, cfg, data, _ = _tiny_setup(max_iters=5, eval_interval=0)
    with pytest.raises(FloatingPointError, match="paso 1"):
        train(model, cfg, data, loss_fn=lambda m, b: m(*b)[1] * float("nan"))


def test_data_xor_get_batch():
    model, cfg, data, _ = _tiny_setup()
    with pytest.raises(ValueError, match="uno de los dos"):
        train(model, cfg)


def test_history_round_trip():
    h = History(steps=[1, 2], train_loss=[3.0, 2.0], lr=[1e-3, 1e-3], eval_steps=[2], val_loss=[2.5],
                eval_train_loss=[2.4], seconds=1.0, tokens=100)
    assert History.from_dict(h.to_dict()) == h
    assert h.final_val_loss == 2.5 and h.tokens_per_s == 100.0 and h.ms_per_iter == 500.0


# ----------------------------------------------------------------------- checkpoints


def test_gpt_checkpoint_round_trip(tmp_path):
    model, cfg, data, tok = _tiny_setup(max_iters=5, eval_interval=0)
    h = train(model, cfg, data)
    path = save_checkpoint(tmp_path / "ckpt", model, cfg, tok, h, extra={"data": "prueba"})
    model2, tok2, cfg2, h2 = load_checkpoint(path)
    x = data[1][:16][None]
    model.eval()
    torch.testing.assert_close(model2(x)[0], model(x)[0], rtol=0, atol=0)
    assert tok2 == tok and cfg2 == cfg and h2 == h
    assert load_checkpoint(path).extra == {"data": "prueba"}
    # Solo tensores en model.pt: se carga con weights_only=True.
    state = torch.load(path / "model.pt", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())


def test_transformer_checkpoint_round_trip(tmp_path):
    task = DatesTask()
    model = Transformer(task.src_tokenizer.vocab_size, task.tgt_tokenizer.vocab_size, d_model=16,
                        n_heads=2, n_encoder_layers=1, n_decoder_layers=2, d_ff=24, dropout=0.0,
                        max_len=70, norm_first=True, activation="gelu").eval()
    toks = {"src": task.src_tokenizer, "tgt": task.tgt_tokenizer}
    save_checkpoint(tmp_path / "c", model, tokenizer=toks)
    ck = load_checkpoint(tmp_path / "c")
    b = task.encode(task.sample(3))
    torch.testing.assert_close(ck.model(b.src, b.tgt_in, b.src_mask()), model(b.src, b.tgt_in, b.src_mask()))
    assert ck.tokenizer == toks and ck.config is None and ck.history is None


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    model, cfg, _, tok = _tiny_setup()
    target = tmp_path / "ckpt"
    save_checkpoint(target, model, cfg, tok)
    before = (target / "model.pt").read_bytes()

    def broken_save(obj, f, *args, **kwargs):
        with open(f, "wb") as fh:
            fh.write(b"a medias")
        raise OSError("disco lleno")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disco lleno"):
        save_checkpoint(target, model, cfg, tok, overwrite=True)  # reemplazar exige pedirlo
    assert (target / "model.pt").read_bytes() == before  # el anterior sigue intacto
    with pytest.raises(OSError):
        save_checkpoint(tmp_path / "nuevo", model, cfg, tok)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]  # sin carpetas a medias


def test_load_checkpoint_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no es un checkpoint"):
        load_checkpoint(tmp_path)
    with pytest.raises(TypeError, match="GPT y Transformer"):
        save_checkpoint(tmp_path / "x", torch.nn.Linear(2, 2))


# ------------------------------------------------------------- calendario de la tasa


def test_lr_at_without_warmup_starts_at_lr_and_ends_at_half():
    cfg = TrainConfig(max_iters=100, lr=2e-3, warmup_iters=0)
    assert lr_at(0, cfg) == pytest.approx(2e-3)
    assert lr_at(100, cfg) == pytest.approx(1e-3)  # min_lr=None = lr / 2
    assert lr_at(500, cfg) == pytest.approx(1e-3)


def test_lr_at_stays_at_min_lr_after_lr_decay_iters():
    cfg = TrainConfig(max_iters=1000, lr=1e-3, min_lr=0.0, warmup_iters=10, lr_decay_iters=110)
    assert lr_at(9, cfg) == pytest.approx(1e-3)
    assert lr_at(60, cfg) == pytest.approx(5e-4)  # mitad del coseno entre 10 y 110
    assert all(lr_at(s, cfg) == 0.0 for s in (110, 500, 999))


# ------------------------------------------------------------- estado global


def test_train_restores_threads_and_global_rng():
    model, cfg, data, _ = _tiny_setup(max_iters=6, eval_interval=0, num_threads=2)
    torch.set_num_threads(1)
    torch.manual_seed(42)
    random.seed(42)
    np.random.seed(42)
    rng_before = torch.get_rng_state()
    py_before, np_before = random.getstate(), np.random.get_state()
    during = []
    train(model, cfg, data, callback=lambda step, m, h: during.append(torch.get_num_threads()))
    assert during == [2] * 7  # los hilos pedidos, durante todo el entrenamiento
    assert torch.get_num_threads() == 1  # y después, los de antes
    assert torch.equal(torch.get_rng_state(), rng_before)
    assert random.getstate() == py_before
    assert all(np.array_equal(a, b) for a, b in zip(np.random.get_state(), np_before))


def test_train_without_num_threads_leaves_threads_alone():
    model, cfg, data, _ = _tiny_setup(max_iters=3, eval_interval=0)
    torch.set_num_threads(1)
    during = []
    train(model, cfg, data, callback=lambda step, m, h: during.append(torch.get_num_threads()))
    assert set(during) == {1} and torch.get_num_threads() == 1


def test_dropout_stream_comes_from_config_seed_not_from_the_caller():
    """El dropout usa el generador global sembrado con config.seed: da igual cómo lo dejaste."""

    def run(global_seed):
        model, cfg, data, _ = _tiny_setup(max_iters=8, eval_interval=0)
        model.drop.p = 0.3
        torch.manual_seed(global_seed)
        return train(model, cfg, data).train_loss

    assert run(1) == run(2)
    model, cfg, data, _ = _tiny_setup(max_iters=8, eval_interval=0, seed=1)
    model.drop.p = 0.3
    assert train(model, cfg, data).train_loss != run(1)  # otra semilla, otros lotes y dropout


def test_training_does_not_import_matplotlib():
    """Entrenar no carga matplotlib, y la figura del historial solo está en plots."""
    code = (
        "import sys, transformer_lib.training as T\n"
        "assert 'matplotlib' not in sys.modules, 'training cargó matplotlib'\n"
        "assert not hasattr(T, 'plot_history') and 'plot_history' not in T.__all__\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])


# ------------------------------------------------------------- checkpoints y configuración


def _stored_model_spec(path):
    return json.loads((path / "checkpoint.json").read_text(encoding="utf-8"))["model"]


def test_gpt_checkpoint_rebuilds_from_the_stored_config(tmp_path):
    torch.manual_seed(0)
    config = GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, d_model=16, d_ff=24,
                       tie_weights=False, norm_first=False, activation="relu", bias=False)
    model = GPT(config).eval()
    save_checkpoint(tmp_path / "g", model)
    assert _stored_model_spec(tmp_path / "g") == {"kind": "GPT", "config": config.to_dict()}
    loaded = load_checkpoint(tmp_path / "g").model
    assert isinstance(loaded, GPT) and loaded.config == config
    x = torch.randint(0, 11, (2, 8))
    torch.testing.assert_close(loaded(x)[0], model(x)[0], rtol=0, atol=0)


def test_transformer_checkpoint_rebuilds_from_the_stored_config(tmp_path):
    torch.manual_seed(0)
    config = TransformerConfig(src_vocab_size=9, tgt_vocab_size=7, d_model=16, n_heads=4,
                               n_encoder_layers=0, n_decoder_layers=3, d_ff=40, dropout=0.2,
                               max_len=30, norm_first=True, activation="gelu_tanh")
    model = Transformer(config).eval()
    save_checkpoint(tmp_path / "t", model)
    assert _stored_model_spec(tmp_path / "t") == {"kind": "Transformer", "config": config.to_dict()}
    loaded = load_checkpoint(tmp_path / "t").model
    assert isinstance(loaded, Transformer) and loaded.config == config
    src, tgt = torch.randint(0, 9, (2, 5)), torch.randint(0, 7, (2, 4))
    torch.testing.assert_close(loaded(src, tgt), model(src, tgt), rtol=0, atol=0)


def test_version_1_checkpoint_still_loads(tmp_path):
    """Los checkpoints de antes guardaban la clase en «class» con los mismos campos."""
    torch.manual_seed(0)
    model = Transformer(9, 7, d_model=16, n_heads=2, n_encoder_layers=1, n_decoder_layers=1,
                        d_ff=32, dropout=0.0, max_len=20).eval()
    path = save_checkpoint(tmp_path / "v1", model)
    meta = json.loads((path / "checkpoint.json").read_text(encoding="utf-8"))
    meta["version"], meta["model"] = 1, {"class": "Transformer", "config": meta["model"]["config"]}
    (path / "checkpoint.json").write_text(json.dumps(meta), encoding="utf-8")
    assert load_checkpoint(path).model.config == model.config


def test_unknown_model_kind_is_a_clear_error(tmp_path):
    path = save_checkpoint(tmp_path / "x", GPT(GPTConfig(vocab_size=5, block_size=4, n_layer=1,
                                                         n_head=1, d_model=4)))
    meta = json.loads((path / "checkpoint.json").read_text(encoding="utf-8"))
    meta["model"]["kind"] = "RNN"
    (path / "checkpoint.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ValueError, match="modelo desconocido: 'RNN'"):
        load_checkpoint(path)
