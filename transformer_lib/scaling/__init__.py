"""Escalado (capítulos 9 y 10): parámetros, FLOPs, leyes de escalado y barridos de tamaños.

Un módulo por idea, de lo más simple a lo más completo:

- :mod:`~transformer_lib.scaling.counting`: recuentos de parámetros
  (:func:`gpt_param_count_formula`, :func:`gpt_param_count_exact`) y de FLOPs
  (:func:`flops_per_token`, :func:`training_flops`, :func:`measure_flops`).
- :mod:`~transformer_lib.scaling.hardware`: el pico de las GPU (:func:`gpu_peak_flops`) y la
  utilización de FLOPs del modelo (:func:`mfu`).
- :mod:`~transformer_lib.scaling.laws`: las leyes publicadas de Kaplan et al. (2020),
  Hoffmann et al. (2022, «Chinchilla») y Besiroglu et al. (2024).
- :mod:`~transformer_lib.scaling.fitting`: ajustes de leyes de potencia.
- :mod:`~transformer_lib.scaling.sweep`: barridos de tamaños (:func:`run_sweep`,
  :func:`fit_sweep`, :func:`compute_frontier`, :func:`save_sweep`, :func:`load_sweep`).

Los nombres se importan desde aquí: ``from transformer_lib.scaling import run_sweep``.
:func:`plot_scaling` vive en :mod:`transformer_lib.plots` (solo allí se carga matplotlib) y
sigue disponible aquí, cargado al pedirlo. Desde la terminal:
``python -m transformer_lib sweep --out results/sweep_quijote.json``.
"""

from __future__ import annotations

import importlib
from typing import Any

from .counting import (
    FlopMeasurement,
    flops_per_token,
    gpt_param_count_exact,
    gpt_param_count_formula,
    kv_cache_bytes,
    measure_flops,
    training_flops,
)
from .fitting import PowerLawFit, fit_power_law, fit_power_law_with_offset
from .hardware import GPU_PEAK_FLOPS, gpu_peak_flops, mfu
from .laws import (
    BESIROGLU2024,
    CHINCHILLA2022,
    KAPLAN2020,
    ChinchillaConstants,
    KaplanConstants,
    chinchilla_loss,
    chinchilla_optimal,
    kaplan_loss_d,
    kaplan_loss_n,
)
from .sweep import (
    SWEEP_SIZES,
    SweepSize,
    check_sweep_path,
    compute_frontier,
    fit_sweep,
    is_sweep_results,
    load_sweep,
    run_sweep,
    save_sweep,
    sweep_metadata,
)

__all__ = [
    "KaplanConstants",
    "ChinchillaConstants",
    "KAPLAN2020",
    "CHINCHILLA2022",
    "BESIROGLU2024",
    "GPU_PEAK_FLOPS",
    "gpt_param_count_formula",
    "gpt_param_count_exact",
    "kv_cache_bytes",
    "flops_per_token",
    "training_flops",
    "FlopMeasurement",
    "measure_flops",
    "mfu",
    "gpu_peak_flops",
    "kaplan_loss_n",
    "kaplan_loss_d",
    "chinchilla_loss",
    "chinchilla_optimal",
    "PowerLawFit",
    "fit_power_law",
    "fit_power_law_with_offset",
    "SweepSize",
    "SWEEP_SIZES",
    "run_sweep",
    "compute_frontier",
    "fit_sweep",
    "sweep_metadata",
    "save_sweep",
    "load_sweep",
    "check_sweep_path",
    "is_sweep_results",
    "plot_scaling",
]

# Nombres que viven en transformer_lib.plots: se cargan (con matplotlib) solo al pedirlos.
_FROM_PLOTS = ("plot_scaling",)


def __getattr__(name: str) -> Any:
    """Reenvía ``plot_scaling`` a :mod:`transformer_lib.plots` sin cargar matplotlib antes (PEP 562)."""
    if name in _FROM_PLOTS:
        return getattr(importlib.import_module("..plots", __package__), name)
    raise AttributeError(f"El módulo {__name__!r} no tiene el atributo {name!r}.")
