"""Puntos de control a mitad de una ejecución: cortar (SIGTERM o kill -9) y seguir, bit a bit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from transformer_lib.files import UnreadableFileError
from transformer_lib.models import GPT, GPTConfig
from transformer_lib.scaling import checkpoint_path
from transformer_lib.training import Resume, TrainConfig, train


def _tiny():
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 30, (5000,), generator=g)
    cfg = TrainConfig(max_iters=60, batch_size=4, block_size=16, eval_interval=20, eval_iters=2,
                      final_eval_iters=2, num_threads=1, progress=False, device="cpu")
    return (ids[:4000], ids[4000:]), cfg, GPTConfig(vocab_size=30, block_size=16, n_layer=1, n_head=2,
                                                      d_model=16, dropout=0.1)


def _fresh(mc):
    torch.manual_seed(1)
    return GPT(mc)


def test_train_resumes_bit_identical_with_dropout(tmp_path):
    data, cfg, mc = _tiny()
    reference = _fresh(mc)
    h_ref = train(reference, cfg, data)
    resume = Resume(tmp_path / "s.pt", every=7, key="k")

    def stop_at_30(step, model, history):
        if step == 30:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(_fresh(mc), cfg, data, resume=resume, callback=stop_at_30)
    assert torch.load(resume.path, weights_only=False)["step"] == 28  # el último múltiplo de 7
    model = _fresh(mc)
    h = train(model, cfg, data, resume=resume)
    assert h.train_loss == h_ref.train_loss and h.val_loss == h_ref.val_loss and h.lr == h_ref.lr
    for a, b in zip(reference.state_dict().values(), model.state_dict().values()):
        assert torch.equal(a, b)


def test_resume_refuses_another_run(tmp_path):
    data, cfg, mc = _tiny()
    resume = Resume(tmp_path / "s.pt", every=10, key="a")
    train(_fresh(mc), TrainConfig(**{**cfg.to_dict(), "max_iters": 25}), data, resume=resume)
    with pytest.raises(UnreadableFileError, match="es de otro entrenamiento"):
        train(_fresh(mc), cfg, data, resume=Resume(resume.path, every=10, key="b"))
    with pytest.raises(ValueError, match="every debe ser un entero positivo"):
        Resume(tmp_path / "x.pt", every=0)
    (tmp_path / "roto.pt").write_text("no soy un punto de control")
    with pytest.raises(UnreadableFileError, match="No pude leer"):
        train(_fresh(mc), cfg, data, resume=Resume(tmp_path / "roto.pt", every=5))


SWEEP = ["sweep", "--grid", "size", "--sizes", "1,2,16", "--seeds", "0", "--max-iters", "600",
         "--block-size", "16", "--batch-size", "4", "--eval-interval", "300", "--eval-iters", "2",
         "--final-eval-iters", "2", "--num-threads", "1", "--checkpoint-every", "40"]


def _sweep(out, wait_for=None, sig=None):
    """Lanza la orden; con ``sig``, la mata con esa señal en cuanto aparece ``wait_for``."""
    env = {**os.environ, "TQDM_DISABLE": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "transformer_lib", *SWEEP, "--out", str(out)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if sig is None:
        assert proc.wait(timeout=300) == 0, proc.stderr.read().decode()
        return
    deadline = time.monotonic() + 120
    while not wait_for.exists():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.005)
    time.sleep(0.2)
    proc.send_signal(sig)
    proc.wait(timeout=60)
    assert proc.returncode != 0


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """La misma orden sin cortes (una vez para las dos señales)."""
    path = tmp_path_factory.mktemp("ref") / "ref.json"
    _sweep(path)
    return path


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "kill-9"])
def test_sweep_killed_mid_run_resumes_bit_identical(tmp_path, sig, reference):
    out = tmp_path / "cut.json"
    ckpt = checkpoint_path(out, "size/L1-h2-d16/s0")
    _sweep(out, wait_for=ckpt, sig=sig)
    cut = json.loads(out.read_text())
    assert cut["runs"] == [] and ckpt.exists()  # murió a mitad de su única ejecución
    step = torch.load(ckpt, weights_only=False)["step"]
    assert 0 < step < 600
    _sweep(out)
    ref, got = json.loads(reference.read_text())["runs"][0], json.loads(out.read_text())["runs"][0]
    for field in ("val_loss", "train_loss", "val_loss_sampled", "curve", "steps", "tokens"):
        assert got[field] == ref[field], field
    assert not ckpt.exists()  # se borra al terminar la ejecución
