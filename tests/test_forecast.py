"""El pronóstico del capítulo 10: de una rejilla IsoFLOP a un presupuesto 10 veces mayor."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from transformer_lib.scaling import (
    FORECAST_SIZES,
    ISOFLOP_SIZES,
    compare_forecast,
    make_forecast,
    model_param_count,
    run_flops_per_token,
    verification_grid,
)
from transformer_lib.training import TrainConfig

VOCAB, BLOCK = 92, 64
RECIPE = TrainConfig(num_threads=1)


def law(n, d):
    """Una ley de Chinchilla con su óptimo dentro de la familia para C entre 3e10 y 1e13."""
    return 1.2 + 60 / n**0.45 + 150 / d**0.28


def _runs(budgets, sizes=ISOFLOP_SIZES, seeds=(0, 1), noise=0.0):
    rng = np.random.default_rng(0)
    runs = []
    for c in budgets:
        for s in sizes:
            mc = s.model_config(VOCAB, block_size=BLOCK)
            steps = round(c / (run_flops_per_token(mc) * 12 * BLOCK))
            if not 150 <= steps <= 300_000:
                continue
            counts = model_param_count(mc)
            for seed in seeds:
                runs.append({"key": f"isoflop/C{c:.3g}/{s.name}/s{seed}", "name": s.name, "seed": seed,
                             "budget": c, "params_total": counts.total,
                             "params_non_embedding": counts.non_embedding, "tokens": steps * 12 * BLOCK,
                             "val_loss": law(counts.total, steps * 12 * BLOCK) + noise * rng.standard_normal()})
    return runs


def _grid(runs):
    return {"schema": "transformer_lib.sweep/2", "grid": {"kind": "isoflop", "lr_rule": None}, "complete": True,
            "recipe": RECIPE.to_dict(), "model": {"block_size": BLOCK}, "vocab_size": VOCAB, "runs": runs,
            "git_commit": "abc", "data": {"train_tokens": 1_900_000, "val_tokens": 200_000}}


def test_forecast_of_an_exact_law_hits_it_and_ranks_the_shapes():
    results = _grid(_runs((3e10, 1e11, 3e11, 1e12), noise=0.002))
    forecast = make_forecast(results, 1e13, n_resamples=20)
    assert forecast["ratio_to_largest"] == 10 and [s["role"] for s in forecast["shapes"]] == ["menor", "óptimo", "mayor"]
    truth = {}
    for s in forecast["shapes"]:
        truth[s["name"]] = law(s["params_total"], s["tokens"])
        assert s["loss_low"] < s["loss"] < s["loss_high"]
        assert s["loss"] == pytest.approx(truth[s["name"]], rel=0.03)  # la ley extrapolada ×10
        assert s["steps"] * 12 * BLOCK == s["tokens"] and s["lr"] == RECIPE.lr
    assert forecast["ranking"] == [s["name"] for s in sorted(forecast["shapes"], key=lambda s: s["loss"])]
    assert forecast["n_opt_low"] < forecast["n_opt"] < forecast["n_opt_high"]
    assert forecast["verification_estimated_seconds"] > 0
    # La verificación: las tres formas con ese presupuesto, el óptimo con dos semillas.
    grid = verification_grid(forecast)
    specs = grid.runs(RECIPE, VOCAB, 1_900_000)
    assert [s.seed for s in specs] == [1337, 1337, 1338, 1337]
    assert all(abs(s.steps - f["steps"]) == 0 for s, f in zip(specs, [forecast["shapes"][i] for i in (0, 1, 1, 2)]))
    measured = {"runs": [{"key": sp.key, "name": sp.size.name, "seed": sp.seed, "val_loss": truth[sp.size.name]}
                         for sp in specs]}
    cmp = compare_forecast(forecast, measured)
    assert cmp["ranking_measured"] == sorted(truth, key=truth.get)
    for row in cmp["shapes"]:
        assert row["measured"] == truth[row["name"]] and row["relative_error"] == pytest.approx(
            (row["measured"] - row["predicted"]) / row["predicted"])


def test_forecast_refuses_what_is_not_a_forecast():
    results = _grid(_runs((3e10, 1e11, 3e11, 1e12)))
    with pytest.raises(ValueError, match="al menos 10 veces"):
        make_forecast(results, 5e12)
    with pytest.raises(ValueError, match="terminada"):
        make_forecast({**results, "complete": False}, 1e13)
    with pytest.raises(ValueError, match="borde de la familia"):
        make_forecast(results, 1e16, sizes=ISOFLOP_SIZES)
    assert len(FORECAST_SIZES) == len(ISOFLOP_SIZES) + 2
    # Con solo dos presupuestos, la comprobación L*(C) es una recta sin suelo (3 puntos hacen falta
    # para el suelo), y el pronóstico sigue siendo posible.
    two = make_forecast(_grid(_runs((1e11, 1e12))), 1e13, n_resamples=5)
    assert two["law"]["loss_opt_law"]["E"] == 0 and two["loss_opt_check"] > 0
    # Una sola semilla: sin dispersión entre semillas que sumar, y sin avisos.
    one = make_forecast(_grid(_runs((1e11, 3e11, 1e12), seeds=(0,))), 1e13, n_resamples=5)
    assert one["law"]["seed_sd"] == 0.0


def test_verify_requires_a_committed_forecast(tmp_path):
    from transformer_lib.cli import main

    forecast = make_forecast(_grid(_runs((3e10, 1e11, 3e11, 1e12))), 1e13, n_resamples=20)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    path = tmp_path / "f.json"
    path.write_text(json.dumps(forecast))
    assert main(["forecast", "--verify", str(path), "--out", str(tmp_path / "v.json")]) == 1
    assert not (tmp_path / "v.json").exists()
    # Sin git (una copia en una máquina remota) hace falta el commit que lo confirmó, bien escrito.
    bare = tmp_path.parent / f"{tmp_path.name}-sin-git"
    bare.mkdir()
    (bare / "f.json").write_text(json.dumps(forecast))
    from transformer_lib.cli.forecast import _committed

    with pytest.raises(ValueError, match="--forecast-commit"):
        _committed(bare / "f.json", "abc")
    assert _committed(bare / "f.json", "a" * 40) == "a" * 40
