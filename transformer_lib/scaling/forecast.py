"""El pronóstico (capítulo 10): predecir un entrenamiento más grande antes de hacerlo.

Una ley de escalado se pone a prueba prediciendo (OpenAI, 2023, informe de GPT-4; Dubey et
al., 2024, Llama 3). :func:`make_forecast` lee una rejilla IsoFLOP terminada y, para un
presupuesto C mayor que todos los ajustados, predice:

- el tamaño óptimo N_opt = k·C^a (:func:`~transformer_lib.scaling.fit_allocation`, N total y
  FLOPs completos) y la forma concreta de la familia más cercana en log N;
- la pérdida de esa forma y de dos formas fuera del óptimo (dos pasos de la familia por
  debajo y por encima), con la ley completa L(N, D) ajustada a todas las ejecuciones (enfoque
  3); como comprobación independiente, L*(C) = E + A·C^(−γ) por los mínimos de las parábolas;
- intervalos del 90 % remuestreando las ejecuciones de la rejilla dentro de cada presupuesto
  (el ajuste entero se repite en cada remuestreo) y sumando la dispersión entre semillas.

:func:`verification_grid` convierte el pronóstico en la rejilla que lo comprueba (las tres
formas con ese presupuesto; el óptimo con dos semillas) y :func:`compare_forecast` compara lo
predicho con lo medido. El archivo del pronóstico se confirma en git **antes** de entrenar la
verificación; la verificación guarda el commit del pronóstico.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from ..environment import git_commit, library_version
from ..training import TrainConfig
from .allocation import _fit_columns, allocation_columns
from .analysis import average_seeds
from .chinchilla import fit_chinchilla
from .counting import model_param_count, run_flops_per_token
from .fitting import PowerLawFit, fit_power_law, fit_power_law_with_offset, json_ready
from .grids import ISOFLOP_SIZES, RunSpec, _seeds, _size_key, _tokens_per_step, estimate_seconds
from .learning_rate import LrRule
from .sweep import SweepSize, _as_size

__all__ = ["FORECAST_SCHEMA", "FORECAST_SIZES", "ForecastGrid", "make_forecast", "verification_grid",
           "compare_forecast"]

FORECAST_SCHEMA = "transformer_lib.forecast/1"
# La familia del IsoFLOP con dos formas más grandes, para los presupuestos del pronóstico.
FORECAST_SIZES: tuple[SweepSize, ...] = (*ISOFLOP_SIZES, SweepSize(4, 6, 192), SweepSize(6, 8, 256))
ROLES = ("menor", "óptimo", "mayor")


def _shape_numbers(size: SweepSize, vocab_size: int, block_size: int, budget: float, config: TrainConfig,
                   rule: LrRule | None) -> dict:
    mc = size.model_config(vocab_size, block_size=block_size)
    counts = model_param_count(mc)
    steps = round(budget / (run_flops_per_token(mc) * _tokens_per_step(config)))
    return {"name": size.name, "size": [size.n_layer, size.n_head, size.d_model],
            "params_total": counts.total, "params_non_embedding": counts.non_embedding,
            "steps": steps, "tokens": steps * _tokens_per_step(config),
            "lr": rule(counts.non_embedding) if rule is not None else config.lr}


def _optimum_law(fit) -> PowerLawFit:
    """L*(C) por los mínimos no extrapolados: con suelo E si hay 3 o más; si no, una recta sin suelo."""
    inside = ~np.array(fit.extrapolated)
    budgets, losses = np.array(fit.budgets)[inside], np.array(fit.loss_opt)[inside]
    return fit_power_law_with_offset(budgets, losses) if inside.sum() >= 3 else fit_power_law(budgets, losses)


def _predict(cols: list[np.ndarray], budget: float, n_shapes: np.ndarray, d_shapes: np.ndarray,
             n_starts: int = 16) -> np.ndarray:
    """Lo que se pronostica con unas ejecuciones: pérdidas de las formas, L*(C) y N_opt.

    Las pérdidas de las formas salen de la ley completa L(N, D) (enfoque 3, N total y D los tokens
    vistos); L*(C), de la recta con suelo E + A·C^(−γ) por los mínimos de las parábolas (enfoque
    2, una comprobación independiente); N_opt, de N_opt = k·C^a.
    """
    fit = _fit_columns(*cols, params="total", flops="full")
    law = _optimum_law(fit)
    full = fit_chinchilla(cols[1], cols[3], cols[2], n_starts=n_starts)
    return np.concatenate([full.predict(n_shapes, d_shapes), [float(law(budget)), float(fit.n_at(budget))]])


def make_forecast(results: dict, budget: float, *, sizes: tuple[SweepSize, ...] = FORECAST_SIZES,
                  n_resamples: int = 200, level: float = 0.9, seed: int = 0, source: str = "") -> dict:
    """El pronóstico para ``budget`` FLOPs a partir de una rejilla IsoFLOP terminada.

    Parámetros:
        results: la rejilla (``results/sweep_isoflop.json``), con su regla de tasas si la tiene.
        budget: el presupuesto que se pronostica, en FLOPs reales; al menos 10 veces el mayor
            de la rejilla.
        sizes: la familia de formas entre las que se elige.
        n_resamples, level, seed: del bootstrap.
        source: la ruta del archivo de la rejilla (se guarda con su SHA-256).

    Devuelve:
        El diccionario del pronóstico (ver :func:`transformer_lib.cli.forecast`): las entradas,
        la ley ajustada, las tres formas con su pérdida predicha e intervalo, y el orden.
    """
    if results.get("grid", {}).get("kind") != "isoflop" or not results.get("complete"):
        raise ValueError("El pronóstico necesita una rejilla IsoFLOP terminada (complete = true).")
    largest = max(r["budget"] for r in results["runs"])
    if not budget >= 10 * largest:
        raise ValueError(f"El presupuesto {budget:.3g} no es al menos 10 veces el mayor ajustado "
                         f"({largest:.3g}): eso no es un pronóstico.")
    config = TrainConfig.from_dict(results["recipe"])
    vocab, block = results["vocab_size"], results["model"]["block_size"]
    rule_dict = results["grid"].get("lr_rule")
    rule = LrRule(**rule_dict) if rule_dict else None
    cols = allocation_columns(results["runs"], "total")
    fit = _fit_columns(*cols, params="total", flops="full")
    law = _optimum_law(fit)
    n_opt = float(fit.n_at(budget))
    family = sorted(map(_as_size, sizes),
                    key=lambda s: model_param_count(s.model_config(vocab, block_size=block)).total)
    totals = np.array([model_param_count(s.model_config(vocab, block_size=block)).total for s in family])
    i = int(np.argmin(np.abs(np.log(totals) - np.log(n_opt))))
    if not 2 <= i <= len(family) - 3:
        raise ValueError(f"El óptimo predicho (N ≈ {n_opt:,.0f}) cae en el borde de la familia: no hay dos "
                         f"formas a cada lado. Amplía sizes.")
    chosen = [family[i - 2], family[i], family[i + 2]]
    numbers = [_shape_numbers(s, vocab, block, budget, config, rule) for s in chosen]
    n_shapes = np.array([x["params_total"] for x in numbers], dtype=float)
    d_shapes = np.array([x["tokens"] for x in numbers], dtype=float)
    point = _predict(cols, budget, n_shapes, d_shapes)
    full = fit_chinchilla(cols[1], cols[3], cols[2])
    rng = np.random.default_rng(seed)
    members = [np.flatnonzero(cols[0] == c) for c in np.unique(cols[0])]
    samples = []
    for _ in range(n_resamples):
        idx = np.concatenate([rng.choice(m, size=m.size, replace=True) for m in members])
        try:
            samples.append(_predict([c[idx] for c in cols], budget, n_shapes, d_shapes, n_starts=4))
        except ValueError:
            continue
    if len(samples) < 2:  # el pronóstico guarda cuántos dieron ajuste («resamples»)
        raise ValueError(f"Solo {len(samples)} de {n_resamples} remuestreos dieron un ajuste: la rejilla no basta "
                         f"para un intervalo (añade semillas o tamaños alrededor de cada mínimo).")
    samples = np.array(samples)
    # La dispersión entre semillas de un mismo punto (una ejecución suelta varía tanto así); 0 si
    # la rejilla tiene una sola semilla.
    spreads = [r["val_loss_std"] ** 2 for r in average_seeds(results["runs"]) if len(r["seeds"]) > 1]
    seed_sd = float(np.sqrt(np.mean(spreads))) if spreads else 0.0
    z = 1.6448536269514722  # el percentil 95 de la normal: intervalo central del 90 %
    q = 100 * np.array([(1 - level) / 2, (1 + level) / 2])
    shapes = []
    for j, (role, nums) in enumerate(zip(ROLES, numbers)):
        lo, hi = np.percentile(samples[:, j], q)
        half = np.hypot((hi - lo) / 2, z * seed_sd)
        shapes.append({"role": role, **nums,
                       "loss": float(point[j]), "loss_low": float(point[j] - half),
                       "loss_high": float(point[j] + half), "loss_fit_low": float(lo),
                       "loss_fit_high": float(hi)})
    n_lo, n_hi = np.percentile(samples[:, -1], q)
    grid = verification_grid({"budget": budget, "lr_rule": rule_dict,
                              "shapes": [{"role": r, "size": x["size"]} for r, x in zip(ROLES, numbers)]})
    specs = grid.runs(config, vocab, results["data"]["train_tokens"], results["model"])
    estimate = sum(estimate_seconds(sp, config, vocab, results["data"]["val_tokens"], results["model"])
                   for sp in specs)
    lstar_lo, lstar_hi = np.percentile(samples[:, -2], q)
    sha = hashlib.sha256(Path(source).read_bytes()).hexdigest() if source and Path(source).is_file() else None
    return json_ready({
        "schema": FORECAST_SCHEMA, "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "library_version": library_version(), "git_commit": git_commit(),
        "inputs": {"file": source, "sha256": sha, "git_commit": results.get("git_commit"),
                   "budgets": sorted({r["budget"] for r in results["runs"]}), "runs": len(results["runs"])},
        "budget": float(budget), "ratio_to_largest": float(budget / largest), "level": level,
        "method": ("Forma óptima: N_opt = k·C^a (parábolas IsoFLOP, N total, FLOPs completos) y la forma "
                   "de la familia más cercana en log N, con dos pasos de la familia por debajo y por "
                   "encima. Pérdidas: la ley completa L(N, D) = E + A/N^α + B/D^β (enfoque 3, N total, "
                   "D tokens vistos) ajustada a todas las ejecuciones de la rejilla. Intervalos del 90 %: "
                   "bootstrap de las ejecuciones dentro de cada presupuesto, sumado en cuadratura con la "
                   "dispersión entre semillas. Comprobación independiente: L*(C) = E + A·C^(−γ) por los "
                   "mínimos de las parábolas (enfoque 2)."),
        "law": {"a": fit.a, "k": fit.k, "budgets": fit.budgets, "loss_opt": fit.loss_opt, "n_opt": fit.n_opt,
                "extrapolated": fit.extrapolated, "seed_sd": seed_sd,
                "chinchilla": {"E": full.E, "A": full.A, "B": full.B, "alpha": full.alpha, "beta": full.beta},
                "loss_opt_law": {"E": law.e, "A": law.a, "gamma": law.alpha}},
        "loss_opt_check": float(point[-2]), "loss_opt_check_low": float(lstar_lo),
        "loss_opt_check_high": float(lstar_hi),
        "n_opt": n_opt, "n_opt_low": float(n_lo), "n_opt_high": float(n_hi),
        "d_opt": float(budget / run_flops_per_token(chosen[1].model_config(vocab, block_size=block))),
        "recipe": results["recipe"], "model": results["model"], "vocab_size": vocab,
        "lr_rule": rule_dict, "shapes": shapes,
        "ranking": [s["name"] for s in sorted(shapes, key=lambda s: s["loss"])],
        "resamples": int(len(samples)),
        "verification_estimated_seconds": float(estimate),
    })


@dataclass(frozen=True)
class ForecastGrid:
    """La rejilla que verifica un pronóstico: unas formas con un presupuesto y sus semillas.

    Atributos:
        budget: el presupuesto (FLOPs reales).
        sizes: las formas.
        seeds: semillas de cada forma, en el mismo orden (p. ej. dos para el óptimo).
        lr_rule: la regla de tasas de la rejilla ajustada (None = la tasa de la receta).
    """

    kind: ClassVar[str] = "forecast"
    budget: float
    sizes: tuple[SweepSize, ...]
    seeds: tuple[tuple[int, ...], ...]
    lr_rule: LrRule | None = None

    def runs(self, config: TrainConfig, vocab_size: int, train_tokens: int,
             gpt_kwargs: dict | None = None) -> list[RunSpec]:
        """Las ejecuciones (ver :func:`~transformer_lib.scaling.expand`)."""
        if len(self.seeds) != len(self.sizes):
            raise ValueError(f"seeds debe tener una tupla por forma: {len(self.sizes)} formas y "
                             f"{len(self.seeds)} tuplas.")
        kwargs = {"block_size": config.block_size, **(gpt_kwargs or {})}
        specs = []
        for size, seeds in zip(map(_as_size, self.sizes), self.seeds):
            mc = size.model_config(vocab_size, **kwargs)
            n = model_param_count(mc).non_embedding
            steps = round(self.budget / (run_flops_per_token(mc) * _tokens_per_step(config)))
            lr = self.lr_rule(n) if self.lr_rule is not None else None
            specs += [RunSpec(f"forecast/C{self.budget:.3g}/{_size_key(size)}/s{s}", "forecast", size, steps, s,
                              steps * _tokens_per_step(config), budget=float(self.budget), lr=lr)
                      for s in _seeds(seeds, config)]
        return specs

    def to_dict(self) -> dict:
        """La rejilla como diccionario (para JSON), con su tipo."""
        return {"kind": self.kind, **asdict(self)}


def verification_grid(forecast: dict, optimum_seeds: tuple[int, ...] = (1337, 1338)) -> ForecastGrid:
    """La rejilla que comprueba ``forecast``: las tres formas, el óptimo con ``optimum_seeds``."""
    rule = LrRule(**forecast["lr_rule"]) if forecast.get("lr_rule") else None
    sizes = tuple(SweepSize(*s["size"]) for s in forecast["shapes"])
    seeds = tuple(optimum_seeds if s["role"] == "óptimo" else optimum_seeds[:1] for s in forecast["shapes"])
    return ForecastGrid(budget=forecast["budget"], sizes=sizes, seeds=seeds, lr_rule=rule)


def compare_forecast(forecast: dict, verification: dict) -> dict:
    """Lo predicho frente a lo medido, forma a forma, y el orden.

    Devuelve:
        ``shapes``: por forma, la pérdida predicha y medida (media de sus semillas), el error
        absoluto y relativo, el error en unidades del semiintervalo y si cae dentro;
        ``ranking_predicted`` y ``ranking_measured``; ``ranking_ok``.
    """
    measured = {r["name"]: r for r in average_seeds(verification["runs"])}
    rows = []
    for s in forecast["shapes"]:
        m = measured.get(s["name"])
        if m is None:
            continue
        err = m["val_loss"] - s["loss"]
        half = (s["loss_high"] - s["loss_low"]) / 2
        rows.append({"role": s["role"], "name": s["name"], "predicted": s["loss"], "low": s["loss_low"],
                     "high": s["loss_high"], "measured": m["val_loss"], "measured_std": m["val_loss_std"],
                     "seeds": m["seeds"], "error": err, "relative_error": err / s["loss"],
                     "error_in_half_widths": err / half if half > 0 else float("inf"),
                     "inside": bool(s["loss_low"] <= m["val_loss"] <= s["loss_high"])})
    predicted = forecast["ranking"]
    got = [r["name"] for r in sorted(rows, key=lambda r: r["measured"])]
    return {"shapes": rows, "ranking_predicted": predicted, "ranking_measured": got,
            "ranking_ok": got == [n for n in predicted if n in got]}

