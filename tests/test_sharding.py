"""Tests de training.sharding: la memoria de ZeRO por proceso y FSDP2 con 2 procesos gloo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from transformer_lib.training.sharding import BYTES_PER_PARAMETER, run_sharded, training_memory

ROOT = Path(__file__).resolve().parents[1]


def test_adamw_mixed_precision_is_16_bytes_per_parameter():
    assert sum(BYTES_PER_PARAMETER.values()) == 16
    n = 7e9
    assert training_memory(n).total == 16 * n  # DDP: todo en cada proceso
    assert training_memory(n, 8, 0).total == 16 * n  # repartir datos no reparte memoria
    assert training_memory(n, 8, 1).total == pytest.approx(4 * n + 12 * n / 8)
    assert training_memory(n, 8, 2).total == pytest.approx(2 * n + 14 * n / 8)
    assert training_memory(n, 8, 3).total == pytest.approx(16 * n / 8)
    assert training_memory(n, 1, 3).total == 16 * n
    assert training_memory(n, 8, 3).to_dict()["total"] == pytest.approx(14e9)


@pytest.mark.parametrize("kwargs, match", [
    ({"n_params": 0}, "n_params debe ser positivo y es 0"),
    ({"n_params": 1, "world_size": 0}, "world_size debe ser un entero >= 1 y es 0"),
    ({"n_params": 1, "stage": 4}, "stage debe ser 0, 1, 2 o 3 .* y es 4"),
])
def test_training_memory_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        training_memory(**kwargs)


def _torchrun(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           "-m", "transformer_lib.training.sharding", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.procesos
def test_fsdp2_on_two_gloo_processes_is_the_single_process_run():
    reference = run_sharded(steps=4)
    assert reference["params_local"] == reference["params_total"] and not reference["sharded"]
    assert reference["losses"][-1] < reference["losses"][0] - 0.5  # aprende de verdad
    proc = _torchrun("--steps", "4")
    assert proc.returncode == 0, proc.stderr[-3000:]
    sharded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert sharded["sharded"] and sharded["world_size"] == 2
    assert sharded["params_total"] == reference["params_total"]
    assert sharded["params_local"] == reference["params_total"] // 2  # cada proceso, la mitad
    assert sharded["losses"] == pytest.approx(reference["losses"], abs=1e-5)


@pytest.mark.procesos
def test_fsdp2_batch_that_does_not_split_gets_a_spanish_error():
    proc = _torchrun("--batch-size", "7")
    assert proc.returncode != 0
    message = "error: El lote global batch_size=7 no se reparte en partes iguales entre 2 proceso(s)"
    assert proc.stderr.count(message) == 2  # cada proceso lo dice y sale, sin colgarse
    # La única traza es la del propio torchrun al ver salir a sus procesos, no una nuestra.
    assert "transformer_lib/" not in proc.stderr
