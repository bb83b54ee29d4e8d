"""Tests del motor de barridos reanudable y de las rejillas (transformer_lib.scaling.engine y grids).

Rejillas diminutas (1 capa, d_model 8, pocos pasos) sobre un texto corto: lo que se prueba es
que un barrido interrumpido (excepción, SIGTERM, kill -9) no pierde nada ni rehace nada.
"""

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from transformer_lib import GPTConfig
from transformer_lib.files import Terminated
from transformer_lib.scaling import (
    RESULTS_SCHEMA,
    DataGrid,
    IsoFlopGrid,
    LrRule,
    SizeGrid,
    SweepSize,
    average_seeds,
    best_lrs,
    build_model,
    estimate_seconds,
    expand,
    fit_lr_rule,
    fit_sweep,
    gpt_param_count_exact,
    load_sweep,
    make_grid,
    model_param_count,
    nested_subset,
    run_flops_per_token,
    run_grid,
    training_flops,
    validation_batches,
)
from transformer_lib.scaling import engine as engine_module
from transformer_lib.training import TrainConfig, lr_at

TESTS = Path(__file__).resolve().parent
# Lo que cambia de una ejecución a otra aunque los resultados sean los mismos.
TIMING_KEYS = {"date", "date_end", "wall_seconds", "seconds", "ms_per_iter", "hardware"}


TEXT = "y así, del poco dormir y del mucho leer, se le secó el celebro. " * 40


def tiny_setup():
    """Datos, receta y rejilla diminutos (también los usa el proceso hijo de los tests de señales)."""
    from transformer_lib.data import CharTokenizer, QuijoteData, train_val_split

    tok = CharTokenizer.from_text(TEXT)
    data = QuijoteData(tok, *train_val_split(torch.tensor(tok.encode(TEXT)), val_fraction=0.2))
    config = TrainConfig(max_iters=6, batch_size=4, block_size=16, eval_interval=0, eval_iters=2,
                         final_eval_iters=2, warmup_iters=2, lr=3e-3, device="cpu", num_threads=1,
                         progress=False)
    grid = SizeGrid(sizes=(SweepSize(1, 1, 8), SweepSize(1, 2, 8), SweepSize(1, 2, 16)), seeds=(0, 1))
    return data, config, grid


def without_timings(value):
    """El resultado sin tiempos ni fechas, para comparar dos barridos."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Un barrido sin interrupciones: el archivo con que se compara todo lo demás."""
    data, config, grid = tiny_setup()
    out = tmp_path_factory.mktemp("ref") / "ref.json"
    lines = []
    results = run_grid(grid, config, data, out, command="prueba", log=lines.append)
    return results, json.loads(out.read_text(encoding="utf-8")), lines


# --------------------------------------------------------------------------- el archivo


def test_uninterrupted_sweep_file(reference):
    results, saved, lines = reference
    assert saved == json.loads(json.dumps(results))
    assert saved["schema"] == RESULTS_SCHEMA and saved["complete"] is True
    assert saved["command"] == "prueba" and saved["grid"]["kind"] == "size"
    assert [r["key"] for r in saved["runs"]] == saved["planned"] == [
        f"size/L1-h{h}-d{d}/s{s}" for h, d in ((1, 8), (2, 8), (2, 16)) for s in (0, 1)]
    data, config, _ = tiny_setup()
    assert saved["data"]["train_tokens"] == len(data.train) and saved["data"]["val_tokens"] == len(data.val)
    for run in saved["runs"]:
        cfg = run["train_config"]
        assert cfg["max_iters"] == run["steps"] == 6 and cfg["lr_decay_iters"] is None
        assert cfg["seed"] == run["seed"]
        assert run["tokens"] == 6 * 4 * 16 and run["epochs"] == pytest.approx(run["tokens"] / len(data.train))
        model_config = GPTConfig.from_dict(run["model_config"])
        assert run["params_non_embedding"] == gpt_param_count_exact(model_config).non_embedding
        assert run["compute_kaplan"] == training_flops(run["params_non_embedding"], run["tokens"])
        assert run["compute"] == run_flops_per_token(model_config, "full") * run["tokens"]
        assert run["compute"] > run["compute_kaplan"]
        assert run["val_windows"] == (len(data.val) - 1) // 16
        assert {"torch", "torch_threads", "git_commit", "cpu"} <= set(run["environment"])
        assert run["wall_seconds"] > 0
    # Las dos semillas de un tamaño dan pérdidas distintas; la misma semilla, la misma inicialización.
    assert saved["runs"][0]["val_loss"] != saved["runs"][1]["val_loss"]
    assert set(saved["fits"]) >= {"params"}
    assert saved["wall_seconds"] == pytest.approx(sum(r["wall_seconds"] for r in saved["runs"]), abs=0.2)
    # Una línea de resumen en español por ejecución.
    assert len(lines) == 6 and all("épocas" in line and "val =" in line for line in lines)
    assert lines[0].startswith("[1/6] size/L1-h1-d8/s0: N = ")


def test_sweep_file_is_read_by_the_old_tools(reference, tmp_path):
    _, saved, _ = reference
    path = tmp_path / "s.json"
    path.write_text(json.dumps(saved), encoding="utf-8")
    loaded = load_sweep(path)
    assert len(loaded["runs"]) == 6 and "params" in fit_sweep(loaded)


def test_learning_rate_schedule_ends_at_each_run_own_last_step():
    data, config, _ = tiny_setup()
    grid = IsoFlopGrid(budgets=(2e7,), sizes=(SweepSize(1, 1, 8), SweepSize(1, 2, 16), SweepSize(2, 2, 16)),
                       min_steps=1)
    specs = expand(grid, config, data.tokenizer.vocab_size, len(data.train))
    assert len({s.steps for s in specs}) == 3
    for spec in specs:
        cfg = spec.train_config(config)
        assert cfg.max_iters == spec.steps and cfg.warmup_iters == min(2, spec.steps // 10)
        min_lr = cfg.lr / 2
        assert lr_at(spec.steps - 1, cfg) > min_lr and lr_at(spec.steps, cfg) == min_lr
    with pytest.raises(ValueError, match="lr_decay_iters=50"):
        specs[0].train_config(TrainConfig(lr_decay_iters=50))
    # Con un calendario común (Kaplan), todas decaen al paso de la más larga: las cortas
    # acaban con la tasa sin decaer del todo.
    fixed = expand(replace(grid, schedule="fixed"), config, data.tokenizer.vocab_size, len(data.train))
    longest = max(s.steps for s in fixed)
    for spec, matched in zip(fixed, specs):
        cfg, cfg_matched = spec.train_config(config), matched.train_config(config)
        assert cfg.lr_decay_iters == longest
        last, last_matched = lr_at(spec.steps - 1, cfg), lr_at(spec.steps - 1, cfg_matched)
        assert last == last_matched if spec.steps == longest else last > last_matched + 1e-4


def test_isoflop_budgets_count_full_flops_and_kaplan_is_cheaper():
    """Con la cuenta completa cada ejecución gasta su presupuesto; con la de Kaplan, los modelos
    pequeños gastan de verdad mucho más de lo nominal (atención y capa de salida)."""
    data, config, _ = tiny_setup()
    sizes = (SweepSize(1, 1, 8), SweepSize(1, 2, 16), SweepSize(2, 2, 16))
    full = expand(IsoFlopGrid(budgets=(2e7,), sizes=sizes, min_steps=1), config, data.tokenizer.vocab_size,
                  len(data.train))
    kaplan = expand(IsoFlopGrid(budgets=(2e7,), sizes=sizes, min_steps=1, flops="kaplan"), config,
                    data.tokenizer.vocab_size, len(data.train))
    for f, k in zip(full, kaplan):
        mc = f.size.model_config(data.tokenizer.vocab_size, block_size=config.block_size)
        per_step = run_flops_per_token(mc) * config.batch_size * config.block_size
        assert abs(f.steps * per_step - 2e7) <= per_step / 2
        assert k.steps > f.steps  # 6·N abarata: más pasos para el mismo presupuesto nominal
    with pytest.raises(ValueError, match="flops debe ser una de"):
        expand(IsoFlopGrid(budgets=(2e7,), sizes=sizes, flops="6N"), config, 92, len(data.train))


def test_lr_sweep_and_rule():
    """Un barrido de tasas da una clave por tasa; la regla ajustada asigna una tasa por tamaño."""
    data, config, _ = tiny_setup()
    sizes = (SweepSize(1, 1, 8), SweepSize(1, 2, 16), SweepSize(2, 2, 16))
    grid = IsoFlopGrid(budgets=(2e7,), sizes=sizes, min_steps=1, lrs=(1e-3, 4e-3), seeds=(0,))
    specs = expand(grid, config, data.tokenizer.vocab_size, len(data.train))
    assert len(specs) == 6 and {s.lr for s in specs} == {1e-3, 4e-3}
    assert all(s.key.split("/")[3] == f"lr{s.lr:g}" for s in specs)
    rule = LrRule(lr_ref=2e-3, n_ref=1000, exponent=0.5)
    assert rule(4000) == pytest.approx(1e-3)
    ruled = expand(replace(grid, lrs=None, lr_rule=rule), config, data.tokenizer.vocab_size, len(data.train))
    for spec in ruled:
        n = model_param_count(spec.size.model_config(data.tokenizer.vocab_size, block_size=16)).non_embedding
        assert spec.lr == rule(n) and spec.train_config(config).lr == rule(n)
    with pytest.raises(ValueError, match="no las dos"):
        expand(replace(grid, lr_rule=rule), config, data.tokenizer.vocab_size, len(data.train))
    # best_lrs y fit_lr_rule sobre filas sintéticas: la tasa óptima cae donde la puso la parábola
    runs = []
    for n, best in ((1000, 4e-3), (8000, 2e-3), (64000, 1e-3)):
        for lr in (5e-4, 1e-3, 2e-3, 4e-3, 8e-3, 1.6e-2):
            runs.append({"key": f"isoflop/C1/N{n}/lr{lr:g}/s0", "name": f"N{n}", "seed": 0, "lr": lr,
                         "params_non_embedding": n, "val_loss": 2 + (np.log(lr / best)) ** 2})
    rows = best_lrs({"runs": runs})
    assert [r["lr_opt"] for r in rows] == pytest.approx([4e-3, 2e-3, 1e-3], rel=1e-6)
    fitted = fit_lr_rule({"runs": runs})
    assert fitted.exponent == pytest.approx(1 / 3, rel=1e-3) and fitted(8000) == pytest.approx(2e-3, rel=1e-3)


# --------------------------------------------------------------------------- reanudar


def test_resume_after_exception_in_run_k(reference, tmp_path, monkeypatch):
    data, config, grid = tiny_setup()
    out = tmp_path / "r.json"
    original, calls = engine_module._train_run, []

    def failing(spec, *args):
        calls.append(spec.key)
        if len(calls) == 4:
            raise KeyboardInterrupt  # Ctrl-C en mitad de la cuarta ejecución
        return original(spec, *args)

    monkeypatch.setattr(engine_module, "_train_run", failing)
    with pytest.raises(KeyboardInterrupt):
        run_grid(grid, config, data, out, command="prueba", log=lambda _: None)
    partial = json.loads(out.read_text(encoding="utf-8"))
    assert len(partial["runs"]) == 3 and partial["complete"] is False and "fits" not in partial
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # ningún temporal olvidado
    calls.clear()
    lines = []
    run_grid(grid, config, data, out, command="prueba", log=lines.append)
    assert calls == partial["planned"][3:]  # no rehace nada
    assert lines[0] == f"Reanudo {out}: 3 de 6 ejecuciones ya terminadas."
    final = json.loads(out.read_text(encoding="utf-8"))
    assert without_timings(final) == without_timings(reference[1])
    # Una tercera vez no hace nada.
    calls.clear()
    run_grid(grid, config, data, out, command="prueba", log=lines.append)
    assert calls == [] and lines[-1].endswith("ya estaba completo.")
    # Con unos ajustes viejos (de otra versión de la biblioteca), los recalcula sin entrenar.
    stale = {**final, "fits": {"viejo": {"a": 1.0}}}
    out.write_text(json.dumps(stale), encoding="utf-8")
    run_grid(grid, config, data, out, command="prueba", log=lines.append)
    refreshed = json.loads(out.read_text(encoding="utf-8"))
    assert calls == [] and lines[-1] == f"Ajustes de {out} recalculados con la biblioteca actual."
    assert refreshed["fits"] == final["fits"] and "fits_git_commit" in refreshed
    assert refreshed["runs"] == final["runs"]


def _child_script(tmp_path: Path, out: Path, argv: list[str] | None = None) -> Path:
    """Un proceso hijo que entrena la rejilla diminuta con ``run_grid`` o, con ``argv``, con la
    orden ``python -m transformer_lib`` sobre los datos diminutos; cada ejecución tarda medio
    segundo más, para poder matarlo en mitad de una."""
    run = (f"run_grid(grid, config, data, {str(out)!r}, command='prueba', log=lambda _: None)\n"
           if argv is None else
           "from transformer_lib.cli import main, sweep\n"
           "sweep.prepare_data = lambda args: data\n"
           f"sys.exit(main({[*argv, '--out', str(out)]!r}))\n")
    script = tmp_path / "child.py"
    script.write_text(
        "import sys, time, torch\n"
        f"sys.path.insert(0, {str(TESTS)!r})\n"
        "torch.set_num_threads(1)\n"
        "from test_scaling_engine import tiny_setup\n"
        "from transformer_lib.scaling import engine, run_grid\n"
        "original = engine._train_run\n"
        "def slow(*args):\n"
        "    time.sleep(0.5)  # deja tiempo para matarlo en mitad de una ejecución\n"
        "    return original(*args)\n"
        "engine._train_run = slow\n"
        "data, config, grid = tiny_setup()\n" + run,
        encoding="utf-8")
    return script


def _child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS.parent), os.environ.get("PYTHONPATH", "")]),
            "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}


def _runs_in(path: Path) -> int:
    try:
        return len(json.loads(path.read_text(encoding="utf-8"))["runs"])
    except (OSError, ValueError, KeyError):
        return 0


def _kill_after(script: Path, out: Path, runs: int, sig: signal.Signals) -> str:
    """Lanza ``script`` y le manda ``sig`` en cuanto ``out`` tiene ``runs`` ejecuciones.

    Devuelve:
        Lo que escribió en stderr (el proceso debe haber muerto por la señal, no terminado).
    """
    child = subprocess.Popen([sys.executable, str(script)], env=_child_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while _runs_in(out) < runs and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert child.poll() is None, child.stderr.read().decode()
        child.send_signal(sig)  # la ejecución siguiente está en marcha
        _, stderr = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode != 0
    return stderr.decode()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_resume_after_real_signal(reference, tmp_path, sig):
    out = tmp_path / "s.json"
    stderr = _kill_after(_child_script(tmp_path, out), out, 2, sig)  # la tercera ejecución está en marcha
    if sig == signal.SIGTERM:
        assert "Terminated" in stderr  # recorrió los finally como un Ctrl-C
    partial = json.loads(out.read_text(encoding="utf-8"))  # JSON válido, sin cortar
    assert 2 <= len(partial["runs"]) < 6 and partial["complete"] is False
    assert without_timings(partial["runs"]) == without_timings(reference[1]["runs"][: len(partial["runs"])])
    data, config, grid = tiny_setup()
    run_grid(grid, config, data, out, command="prueba", log=lambda _: None)
    assert without_timings(json.loads(out.read_text(encoding="utf-8"))) == without_timings(reference[1])


# El barrido de tamaños de siempre (sin --grid): los tamaños de tiny_setup, la semilla de la receta.
PLAIN_SWEEP = ["sweep", "--sizes", "1,1,8;1,2,8;1,2,16", "--max-iters", "6", "--batch-size", "4",
               "--block-size", "16", "--eval-interval", "0", "--eval-iters", "2", "--final-eval-iters", "2",
               "--warmup-iters", "2", "--lr", "3e-3", "--seed", "0", "--num-threads", "1", "--no-progress"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "kill-9"])
def test_plain_sweep_command_resumes_without_redoing_runs(tmp_path, sig, monkeypatch, capsys):
    from transformer_lib.cli import main
    from transformer_lib.cli import sweep as cli_sweep

    out = tmp_path / "plano.json"
    stderr = _kill_after(_child_script(tmp_path, out, PLAIN_SWEEP), out, 1, sig)
    if sig == signal.SIGTERM:
        assert f"lo terminado está en {out}; repite la misma orden para continuar" in stderr
    cut = json.loads(out.read_text(encoding="utf-8"))
    done = len(cut["runs"])
    assert 1 <= done < 3 and cut["complete"] is False
    # La misma orden otra vez (aquí, en este proceso), contando lo que entrena.
    original, calls = engine_module._train_run, []
    monkeypatch.setattr(engine_module, "_train_run", lambda spec, *a: calls.append(spec.key) or original(spec, *a))
    monkeypatch.setattr(cli_sweep, "prepare_data", lambda args: tiny_setup()[0])
    assert main([*PLAIN_SWEEP, "--out", str(out)]) == 0
    assert calls == cut["planned"][done:]  # solo las que faltaban
    assert f"Reanudo {out}: {done} de 3 ejecuciones ya terminadas." in capsys.readouterr().out
    final = json.loads(out.read_text(encoding="utf-8"))
    assert final["complete"] and final["grid"]["seeds"] == [0]
    assert [r["key"] for r in final["runs"]] == final["planned"] == [
        "size/L1-h1-d8/s0", "size/L1-h2-d8/s0", "size/L1-h2-d16/s0"]
    assert final["runs"][:done] == cut["runs"]  # las terminadas, tal cual (tiempos incluidos)


# --------------------------------------------------------------------------- lo que se rechaza


def test_different_grid_or_recipe_is_refused(reference, tmp_path):
    data, config, grid = tiny_setup()
    out = tmp_path / "r.json"
    out.write_text(json.dumps(reference[1]), encoding="utf-8")
    before = out.read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="es de otro barrido \\(cambia grid, planned\\).*prueba"):
        run_grid(SizeGrid(sizes=grid.sizes[:2], seeds=(0, 1)), config, data, out, log=lambda _: None)
    with pytest.raises(ValueError, match="cambia recipe"):
        run_grid(grid, TrainConfig(**{**config.to_dict(), "lr": 1e-3}), data, out, log=lambda _: None)
    assert out.read_text(encoding="utf-8") == before  # no se ha tocado
    other = tmp_path / "ajeno.json"
    other.write_text('{"runs": []}', encoding="utf-8")
    with pytest.raises(ValueError, match="no es un barrido reanudable"):
        run_grid(grid, config, data, other, log=lambda _: None)
    assert other.read_text(encoding="utf-8") == '{"runs": []}'


def test_overwrite_starts_again(reference, tmp_path):
    data, config, _ = tiny_setup()
    out = tmp_path / "r.json"
    out.write_text(json.dumps(reference[1]), encoding="utf-8")
    grid = SizeGrid(sizes=(SweepSize(1, 1, 8),), seeds=(0,))
    results = run_grid(grid, config, data, out, overwrite=True, log=lambda _: None)
    assert [r["key"] for r in results["runs"]] == ["size/L1-h1-d8/s0"]
    assert results["runs"][0]["val_loss"] == reference[1]["runs"][0]["val_loss"]


# --------------------------------------------------------------------------- rejillas


def test_data_grid_uses_nested_prefixes_and_records_epochs(tmp_path):
    data, config, _ = tiny_setup()
    grid = DataGrid(sizes=(SweepSize(1, 1, 8),), fractions=(1 / 16, 1 / 4, 1.0), seeds=(0,))
    specs = expand(grid, config, data.tokenizer.vocab_size, len(data.train))
    n = len(data.train)
    assert [s.subset_tokens for s in specs] == [round(n / 16), round(n / 4), n]
    subsets = [nested_subset(data, s.subset_tokens) for s in specs]
    for small, big in zip(subsets, subsets[1:]):
        assert torch.equal(big.train[: len(small.train)], small.train)  # cada uno dentro del siguiente
    assert all(sub.val is data.val for sub in subsets)
    results = run_grid(grid, config, data, tmp_path / "d.json", log=lambda _: None)
    assert [r["epochs"] for r in results["runs"]] == pytest.approx([384 / s.subset_tokens for s in specs])
    assert {r["val_windows"] for r in results["runs"]} == {(len(data.val) - 1) // 16}
    assert set(results["fits"]) == {"data"} and set(results["fits"]["data"]) == {"a", "alpha", "e", "r2"}
    with pytest.raises(ValueError, match="n_tokens"):
        nested_subset(data, 10**6)
    with pytest.raises(ValueError, match="fractions"):
        expand(DataGrid(fractions=(0.0,)), config, 30, 2000)


def test_isoflop_grid_steps_and_errors(tmp_path):
    data, config, _ = tiny_setup()
    sizes = (SweepSize(1, 1, 8), SweepSize(1, 2, 16), SweepSize(2, 2, 16))
    grid = IsoFlopGrid(budgets=(6e6, 2e7), sizes=sizes, seeds=(0, 1), single_seed_from=2e7, min_steps=1)
    specs = expand(grid, config, data.tokenizer.vocab_size, len(data.train))
    assert len(specs) == 3 * 2 + 3
    for s in specs:
        mc = s.size.model_config(data.tokenizer.vocab_size, block_size=16)
        assert s.steps == round(s.budget / (run_flops_per_token(mc, "full") * 64)) and s.tokens == s.steps * 64
        kaplan = round(s.budget / (6 * gpt_param_count_exact(mc).non_embedding * 64))
        assert s.steps <= kaplan  # la cuenta completa cuesta más que 6·N: no más pasos
    assert specs[0].key == "isoflop/C6e+06/L1-h1-d8/s0" and specs[0].point == "isoflop/C6e+06/L1-h1-d8"
    results = run_grid(grid, config, data, tmp_path / "i.json", log=lambda _: None)
    assert set(results["fits"]) == {"isoflop", "chinchilla"}
    assert len(average_seeds(results["runs"])) == 6
    with pytest.raises(ValueError, match="C = 2e\\+06 deja 0 tamaños"):
        expand(IsoFlopGrid(budgets=(2e6,), sizes=sizes, min_steps=10**6, max_steps=10**7), config, 30, 2000)
    with pytest.raises(ValueError, match="seeds"):
        expand(SizeGrid(seeds=(1, 1)), config, 30, 2000)


def test_average_seeds():
    runs = [{"key": "size/a/s0", "seed": 0, "val_loss": 2.0, "curve": {"steps": [0, 5], "val_loss": [4.0, 2.0]}},
            {"key": "size/a/s1", "seed": 1, "val_loss": 2.2, "curve": {"steps": [0, 5], "val_loss": [4.0, 2.2]}},
            {"key": "size/b/s0", "seed": 0, "val_loss": 1.5}]
    rows = average_seeds(runs)
    assert [r["key"] for r in rows] == ["size/a", "size/b"]
    assert rows[0]["val_loss"] == pytest.approx(2.1) and rows[0]["val_loss_std"] == pytest.approx(0.1414, rel=1e-3)
    assert rows[0]["curve"]["val_loss"] == pytest.approx([4.0, 2.1]) and rows[0]["seeds"] == [0, 1]
    assert rows[1]["val_loss_std"] == 0.0


def test_validation_batches_cover_every_window_once():
    val = torch.arange(100)
    batches = validation_batches(val, block_size=8, batch_size=5)
    xs = torch.cat([x for x, _ in batches])
    ys = torch.cat([y for _, y in batches])
    assert xs.shape == (12, 8) and torch.equal(xs.flatten(), torch.arange(96))
    assert torch.equal(ys, xs + 1) and [len(x) for x, _ in batches] == [5, 5, 2]
    with pytest.raises(ValueError, match="pocos"):
        validation_batches(torch.arange(5), block_size=8)


def test_default_grids_fit_the_cpu_budget():
    # La cabecera de grids promete ≈ 30 min para las tres rejillas por defecto en la CPU de referencia.
    config = TrainConfig()
    total = sum(estimate_seconds(s, config, 92, 211_073)
                for kind in ("size", "data", "isoflop")
                for s in expand(make_grid(kind), config, 92, 1_899_654))
    assert 27 * 60 <= total <= 34 * 60
    iso = expand(make_grid("isoflop"), config, 92, 1_899_654)
    assert max(s.budget for s in iso) / min(s.budget for s in iso) >= 10**1.5  # ≥ 1,5 décadas
    assert {s.seed for s in iso} == {1337, 1338}  # dos semillas en todos los presupuestos
    sizes = {c: len({s.size for s in iso if s.budget == c}) for c in {s.budget for s in iso}}
    assert sizes == {3e10: 6, 1e11: 8, 3e11: 9, 1e12: 8}  # los que caben en [150, 30 000] pasos
    with pytest.raises(ValueError, match="rejilla debe ser"):
        make_grid("tamaños")


def test_terminated_is_not_an_exception():
    # SIGTERM llega como Terminated (BaseException): un `except Exception` no lo detiene.
    assert not issubclass(Terminated, Exception)


# --------------------------------------------------------------------------- la orden


def test_sweep_grid_command_records_argv_and_resumes(tmp_path, capsys):
    from transformer_lib.cli import main

    out = tmp_path / "g.json"
    argv = ["sweep", "--grid", "data", "--sizes", "1,1,8", "--fractions", "1/64,1", "--seeds", "0",
            "--max-iters", "3", "--block-size", "16", "--batch-size", "2", "--eval-interval", "0",
            "--final-eval-iters", "1", "--num-threads", "1", "--out", str(out)]
    assert main(argv) == 0
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["command"] == "python -m transformer_lib " + " ".join(argv)
    assert results["grid"]["fractions"] == [1 / 64, 1.0] and results["complete"]
    assert [r["subset_tokens"] for r in results["runs"]] == [
        round(results["data"]["train_tokens"] / 64), results["data"]["train_tokens"]]
    assert "Rejilla data: 2 ejecuciones" in capsys.readouterr().out
    assert main(argv) == 0  # ya completo: no entrena nada
    assert json.loads(out.read_text(encoding="utf-8")) == results
    assert main([*argv[:-2], "--lr", "0.01", "--out", str(out)]) == 1  # otra receta: rechazada
    assert "es de otro barrido (cambia recipe)" in capsys.readouterr().err
    assert main(["sweep", "--grid", "isoflop", "--budgets", "1e12,x", "--out", str(out)]) == 1
    assert "--budgets='1e12,x'" in capsys.readouterr().err


def test_grid_bootstrap_on_synthetic_results():
    from transformer_lib.scaling import grid_bootstrap

    runs = [{"key": f"data/L1/D{d}/s{s}", "seed": s, "subset_tokens": d, "params_non_embedding": 10,
             "tokens": 100, "val_loss": 3.0 * d**-0.1 * (1 + 0.003 * (-1) ** (s + i))}
            for i, d in enumerate((1000, 4000, 16000, 64000)) for s in (0, 1)]
    out = grid_bootstrap({"grid": {"kind": "data"}, "runs": runs}, n_resamples=100)
    low, high = out["data"].interval("alpha")
    assert low < 0.1 < high and out["data"].n_resamples == 100


def test_resume_accepts_a_file_written_before_a_new_recipe_field(reference, tmp_path):
    """Un campo nuevo de TrainConfig con su valor por defecto no convierte el archivo en «otro
    barrido»: la orden guardada sigue reanudándolo (y aquí, ya completo, no reentrena nada)."""
    data, config, grid = tiny_setup()
    old = json.loads(json.dumps(reference[1]))
    old["recipe"].pop("grad_accum_steps")
    out = tmp_path / "r.json"
    out.write_text(json.dumps(old), encoding="utf-8")
    results = run_grid(grid, config, data, out, log=lambda _: None)
    assert [r["key"] for r in results["runs"]] == [r["key"] for r in reference[1]["runs"]]
    assert [r["val_loss"] for r in results["runs"]] == [r["val_loss"] for r in reference[1]["runs"]]
    assert [r["wall_seconds"] for r in results["runs"]] == [r["wall_seconds"] for r in reference[1]["runs"]]


def test_full_flop_count_agrees_with_flop_counter_at_every_grid_size():
    """La cuenta completa (la de los presupuestos, la frontera y la MFU) es la de FlopCounterMode en
    un paso real de ida y vuelta, en cada tamaño de las rejillas y del pronóstico. (La LSTM no: en
    la CPU, ``nn.LSTM`` es un solo operador fusionado que el contador no sabe contar.)"""
    from transformer_lib.scaling import (
        FORECAST_SIZES,
        ISOFLOP_SIZES,
        SWEEP_SIZES,
        gpt_param_count_formula,
        measure_flops,
    )

    sizes = {s for s in (*ISOFLOP_SIZES, *SWEEP_SIZES, *FORECAST_SIZES)}
    assert len(sizes) >= 12
    for size in sorted(sizes, key=lambda s: (s.n_layer, s.d_model)):
        config = size.model_config(92, block_size=64)
        torch.manual_seed(0)
        model = build_model(config)
        idx = torch.randint(0, 92, (1, 64))
        measured = measure_flops(model, idx, idx).per_token
        # 6·N cuenta también los sesgos y las normalizaciones (sumas y productos elemento a
        # elemento): el contador solo ve productos de matrices. Fuera eso, es la misma cuenta.
        elementwise = 6 * (gpt_param_count_exact(config).non_embedding - gpt_param_count_formula(config))
        assert measured + elementwise == pytest.approx(run_flops_per_token(config, "full"), rel=1e-12), size
        assert elementwise / measured < 0.06
        assert run_flops_per_token(config, "kaplan") < measured  # 6·N se deja la atención y la salida
