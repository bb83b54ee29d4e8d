"""Paralelismo de datos: 1, 2 y 4 procesos (gloo, CPU) dan el mismo entrenamiento.

Los procesos repartidos se lanzan con ``torchrun`` en un subproceso con límite de tiempo (DDP
no corre dentro de pytest); cada uno ejecuta este mismo archivo como script (:func:`_worker`)
y guarda en una carpeta lo que vio: las ventanas de cada paso, el historial y los pesos.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from transformer_lib import GPT, GPTConfig
from transformer_lib.data import CharTokenizer
from transformer_lib.training import TrainConfig, distributed_env, shard, train
from transformer_lib.training.sources import default_loss

TEXT = "en un lugar de la mancha de cuyo nombre no quiero acordarme " * 40
ROOT = Path(__file__).resolve().parents[1]
STEPS = 24
TIMEOUT_S = 120  # nunca colgarse: torchrun se mata si pasa de aquí
CLI_TINY = ["--n-layer", "1", "--n-head", "2", "--d-model", "32", "--block-size", "16", "--batch-size", "8",
            "--max-iters", "6", "--eval-interval", "3", "--eval-iters", "1", "--final-eval-iters", "2",
            "--device", "cpu", "--no-progress", "--precision", "fp32"]  # auto mediría en cada lanzamiento


def _tiny_run(grad_accum_steps: int = 1) -> dict:
    """Entrena el GPT diminuto y devuelve las ventanas que vio cada paso, el historial y los pesos."""
    tok = CharTokenizer.from_text(TEXT)
    ids = torch.tensor(tok.encode(TEXT))
    split = int(0.9 * len(ids))
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=tok.vocab_size, block_size=16, n_layer=1, n_head=2, d_model=32, dropout=0.0,
                          bias=False))  # sin sesgo de K, cuyo gradiente es 0 + ruido (Adam lo amplifica)
    config = TrainConfig(max_iters=STEPS, batch_size=8, block_size=16, lr=3e-3, warmup_iters=5, eval_interval=8,
                         eval_iters=3, final_eval_iters=4, progress=False, device="cpu", seed=0,
                         grad_accum_steps=grad_accum_steps)
    windows = []

    def loss_fn(m, batch):
        if m.training:  # en evaluación no: solo las ventanas de los pasos de entrenamiento
            windows.append(batch[0].clone())
        return default_loss(m, batch)

    history = train(model, config, (ids[:split], ids[split:]), loss_fn=loss_fn)
    return {"windows": windows, "history": history.to_dict(), "state": model.state_dict()}


def _worker(out: str) -> None:
    """Lo que ejecuta cada proceso de torchrun: dos entrenamientos (sin y con acumulación, que
    cuenta las llamadas a ``no_sync``) y, si se pide, la orden ``train`` con su salida capturada."""
    from torch.nn.parallel import DistributedDataParallel

    from transformer_lib import cli

    rank = distributed_env().rank
    calls = []
    original = DistributedDataParallel.no_sync

    def counting_no_sync(self):
        calls.append(1)
        return original(self)

    DistributedDataParallel.no_sync = counting_no_sync
    runs = {k: _tiny_run(k) for k in (1, 2)}
    torch.save({"runs": runs, "no_sync_calls": len(calls)}, Path(out) / f"rank{rank}.pt")
    if os.environ.get("DDP_TEST_CLI"):
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout):
            code = cli.main(["train", *CLI_TINY, "--out", str(Path(out) / "ckpt")])
        (Path(out) / f"cli{rank}.txt").write_text(f"{code}\n{stdout.getvalue()}", encoding="utf-8")


def _torchrun(nproc: int, out: Path, cli: bool = False) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    if cli:
        env["DDP_TEST_CLI"] = "1"
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
         __file__, str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert proc.returncode == 0, proc.stderr[-3000:]


def _assert_same_run(reference: dict, ranks: list[dict], accum: int) -> None:
    """Las ventanas (en orden), las pérdidas de cada paso y evaluación y los pesos coinciden."""
    n = len(ranks)
    per_step = [[r["windows"][i * accum:(i + 1) * accum] for r in ranks] for i in range(STEPS)]
    assert len(reference["windows"]) == STEPS and all(len(r["windows"]) == STEPS * accum for r in ranks)
    for step, ref_x in enumerate(reference["windows"]):
        # El proceso r tiene las filas r·B/n … (r+1)·B/n del lote global, en accum microlotes.
        got = torch.cat([x for rank_micro in per_step[step] for x in rank_micro])
        assert torch.equal(got, ref_x), f"el paso {step + 1} no vio las mismas ventanas con {n} procesos"
    ref_h = reference["history"]
    for r in ranks:
        h = r["history"]
        assert h["steps"] == ref_h["steps"] and h["eval_steps"] == ref_h["eval_steps"]
        assert h["tokens"] == ref_h["tokens"]  # tokens del lote global, no del trozo
        for key in ("train_loss", "val_loss", "eval_train_loss", "lr"):
            torch.testing.assert_close(torch.tensor(h[key]), torch.tensor(ref_h[key]), rtol=1e-5, atol=1e-5)
    for name, ref_w in reference["state"].items():
        for r in ranks:
            torch.testing.assert_close(r["state"][name], ref_w, rtol=1e-4, atol=1e-5, msg=name)
    assert ref_h["train_loss"][-1] < ref_h["train_loss"][0] - 0.5  # entrenó de verdad


@pytest.fixture(scope="module")
def reference() -> dict:
    """El entrenamiento de un solo proceso, sin acumulación."""
    return _tiny_run(1)


def test_grad_accumulation_in_one_process_is_the_same_run(reference):
    _assert_same_run(reference, [_tiny_run(2)], accum=2)


@pytest.mark.procesos
def test_two_processes_give_the_single_process_run(tmp_path, reference, capsys):
    _torchrun(2, tmp_path, cli=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in range(2)]
    _assert_same_run(reference, [r["runs"][1] for r in ranks], accum=1)
    _assert_same_run(reference, [r["runs"][2] for r in ranks], accum=2)
    # Con 2 microlotes, el primero de cada paso no sincroniza: STEPS llamadas a no_sync.
    assert [r["no_sync_calls"] for r in ranks] == [STEPS, STEPS]
    # La orden train: solo el proceso 0 escribe el resumen y guarda; da lo mismo que un proceso.
    out0 = (tmp_path / "cli0.txt").read_text(encoding="utf-8").splitlines()
    assert (tmp_path / "cli1.txt").read_text(encoding="utf-8") == "0\n"
    assert out0[0] == "0" and len(out0) == 2
    summary = json.loads(out0[1])
    assert summary["checkpoint"] == str(tmp_path / "ckpt")
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == ["checkpoint.json", "model.pt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt", "cli0.txt", "cli1.txt", "rank0.pt", "rank1.pt"]
    from transformer_lib import cli

    assert cli.main(["train", *CLI_TINY]) == 0
    single = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["val_loss"] == pytest.approx(single["val_loss"], abs=2e-4)
    assert summary["train_loss"] == pytest.approx(single["train_loss"], abs=2e-4)


@pytest.mark.procesos
def test_four_processes_give_the_single_process_run(tmp_path, reference):
    _torchrun(4, tmp_path)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in range(4)]
    _assert_same_run(reference, [r["runs"][1] for r in ranks], accum=1)
    _assert_same_run(reference, [r["runs"][2] for r in ranks], accum=2)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("env, match", [
    ({"WORLD_SIZE": "3", "RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "1"},
     r"batch_size=8 no se reparte en partes iguales entre 3 proceso\(s\)"),
    ({"WORLD_SIZE": "2", "RANK": "0"}, "falta MASTER_ADDR, MASTER_PORT"),
    ({"WORLD_SIZE": "2", "RANK": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "1"}, "0 <= RANK < WORLD_SIZE"),
    ({"WORLD_SIZE": "dos"}, "WORLD_SIZE='dos' debe ser un entero"),
], ids=["lote_no_divisible", "sin_master_addr", "rank_fuera", "world_size_no_entero"])
def test_broken_launch_gives_spanish_error_without_waiting(monkeypatch, env, match):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=match):
        _tiny_run(1)
    assert not torch.distributed.is_initialized()


@pytest.mark.procesos
def test_processes_that_never_arrive_give_an_error_not_a_hang(monkeypatch):
    """Un proceso 1 de 2 sin nadie al otro lado: error en español al cabo del límite."""
    for name, value in {"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1", "MASTER_ADDR": "127.0.0.1",
                        "MASTER_PORT": str(_free_port()), "TRANSFORMER_LIB_DIST_TIMEOUT": "2"}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match="El proceso 1 de 2 no pudo unirse al grupo"):
        _tiny_run(1)
    assert not torch.distributed.is_initialized()


@dataclass
class _Pairs:
    src: torch.Tensor
    tgt: torch.Tensor
    pad_id: int = 0


def test_shard_cuts_every_tensor_of_a_batch_by_its_first_dimension():
    x = torch.arange(12).reshape(6, 2)
    assert shard(x, 0, 1) is x
    assert torch.equal(shard(x, 1, 3), x[2:4])
    a, b = shard((x, x + 100), 2, 3)
    assert torch.equal(a, x[4:]) and torch.equal(b, x[4:] + 100)
    assert torch.equal(shard({"x": x}, 0, 2)["x"], x[:3])
    pairs = shard(_Pairs(x, -x, pad_id=5), 1, 2)
    assert torch.equal(pairs.src, x[3:]) and torch.equal(pairs.tgt, -x[3:]) and pairs.pad_id == 5
    assert torch.cat([shard(x, i, 2) for i in range(2)]).equal(x)
    with pytest.raises(ValueError, match=r"forma \(6, 2\) en 4 trozos"):
        shard(x, 0, 4)
    with pytest.raises(TypeError, match="No sé partir un lote de tipo object"):
        shard(object(), 0, 2)
    assert torch.equal(shard((x, 7), 1, 2)[0], x[3:]) and shard((x, 7), 1, 2)[1] == 7


if __name__ == "__main__":
    _worker(sys.argv[1])
