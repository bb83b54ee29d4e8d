"""Escalado (capítulos 9 y 10): parámetros, FLOPs, leyes de escalado y barridos de tamaños.

Un módulo por idea, de lo más simple a lo más completo:

- :mod:`~transformer_lib.scaling.counting`: recuentos de parámetros
  (:func:`gpt_param_count_formula`, :func:`gpt_param_count_exact`) y de FLOPs
  (:func:`flops_per_token`, :func:`training_flops`, :func:`measure_flops`).
- :mod:`~transformer_lib.scaling.hardware`: el pico de las GPU (:func:`gpu_peak_flops`) y la
  utilización de FLOPs del modelo (:func:`mfu`).
- :mod:`~transformer_lib.scaling.laws`: las leyes publicadas de Kaplan et al. (2020),
  Hoffmann et al. (2022, «Chinchilla») y Besiroglu et al. (2024).
- :mod:`~transformer_lib.scaling.fitting`: ajustes de leyes de potencia (:func:`fit_power_law`),
  el IsoFLOP de Hoffmann et al. (:func:`fit_isoflop`) y los intervalos por :func:`bootstrap`.
- :mod:`~transformer_lib.scaling.chinchilla`: la ley completa L(N, D) ajustada
  (:func:`fit_chinchilla`, enfoque 3 de Hoffmann et al.).
- :mod:`~transformer_lib.scaling.sweep`: los tamaños de los barridos (:class:`SweepSize`) y lo
  que se lee de uno (:func:`fit_sweep`, :func:`compute_frontier`, :func:`load_sweep`).
- :mod:`~transformer_lib.scaling.grids`: las rejillas de tamaños, datos e IsoFLOP como datos
  (:class:`SizeGrid`, :class:`DataGrid`, :class:`IsoFlopGrid`, :func:`make_grid`).
- :mod:`~transformer_lib.scaling.engine`: el motor reanudable que las entrena (:func:`run_grid`);
  todo barrido, también el de tamaños de siempre, va por él.
- :mod:`~transformer_lib.scaling.sequence` y :mod:`~transformer_lib.scaling.long_range`: las dos
  medidas del §9.1 y el §9.2 (un paso de entrenamiento frente a T; una dependencia lejana
  aprendida).
- :mod:`~transformer_lib.scaling.analysis`: lo que se lee de un barrido terminado (medias de
  semillas, perfiles IsoFLOP, puntos de la ley y ajustes).

Los nombres se importan desde aquí: ``from transformer_lib.scaling import run_grid``.
La figura, :func:`transformer_lib.plots.plot_scaling`, vive en :mod:`transformer_lib.plots`
(solo allí se carga matplotlib). Desde la terminal:
``python -m transformer_lib sweep --out results/sweep_size.json --grid size``.
"""

from __future__ import annotations

from . import allocation, analysis, engine, forecast, grids, learning_rate, long_range, sequence
from .allocation import *  # noqa: F403 (los nombres de allocation.__all__)
from .analysis import *  # noqa: F403 (los nombres de analysis.__all__)
from .chinchilla import ChinchillaFit, fit_chinchilla
from .counting import (
    FLOP_CONVENTIONS,
    FlopMeasurement,
    flops_per_token,
    gpt_param_count_exact,
    gpt_param_count_formula,
    kv_cache_bytes,
    measure_flops,
    model_param_count,
    run_flops_per_token,
    training_flops,
)
from .engine import *  # noqa: F403 (los nombres de engine.__all__)
from .fitting import (
    BootstrapResult,
    IsoFlopFit,
    PowerLawFit,
    bootstrap,
    fit_isoflop,
    fit_power_law,
    fit_power_law_with_offset,
)
from .forecast import *  # noqa: F403 (los nombres de forecast.__all__)
from .grids import *  # noqa: F403 (los nombres de grids.__all__)
from .hardware import GPU_PEAK_FLOPS, gpu_peak_flops, matmul_rate, mfu
from .laws import (
    ALLOCATION_CHINCHILLA2022,
    ALLOCATION_KAPLAN2020,
    BESIROGLU2024,
    CHINCHILLA2022,
    KAPLAN2020,
    ChinchillaConstants,
    KaplanConstants,
    chinchilla_loss,
    chinchilla_optimal,
    kaplan_loss_d,
    kaplan_loss_n,
    load_hoffmann_points,
)
from .learning_rate import *  # noqa: F403 (los nombres de learning_rate.__all__)
from .long_range import *  # noqa: F403 (los nombres de long_range.__all__)
from .sequence import *  # noqa: F403 (los nombres de sequence.__all__)
from .sweep import (
    SWEEP_SIZES,
    SweepSize,
    build_model,
    compute_frontier,
    fit_sweep,
    load_sweep,
    row_flops_per_token,
    sweep_metadata,
)

__all__ = [
    "KaplanConstants",
    "ChinchillaConstants",
    "KAPLAN2020",
    "CHINCHILLA2022",
    "BESIROGLU2024",
    "ALLOCATION_KAPLAN2020",
    "ALLOCATION_CHINCHILLA2022",
    "load_hoffmann_points",
    "GPU_PEAK_FLOPS",
    "gpt_param_count_formula",
    "gpt_param_count_exact",
    "kv_cache_bytes",
    "flops_per_token",
    "FLOP_CONVENTIONS",
    "run_flops_per_token",
    "model_param_count",
    "row_flops_per_token",
    "build_model",
    "training_flops",
    "FlopMeasurement",
    "measure_flops",
    "matmul_rate",
    "mfu",
    "gpu_peak_flops",
    "kaplan_loss_n",
    "kaplan_loss_d",
    "chinchilla_loss",
    "chinchilla_optimal",
    "PowerLawFit",
    "fit_power_law",
    "fit_power_law_with_offset",
    "IsoFlopFit",
    "fit_isoflop",
    "ChinchillaFit",
    "fit_chinchilla",
    "BootstrapResult",
    "bootstrap",
    "SweepSize",
    "SWEEP_SIZES",
    "compute_frontier",
    "fit_sweep",
    "sweep_metadata",
    "load_sweep",
    *grids.__all__,
    *learning_rate.__all__,
    *engine.__all__,
    *analysis.__all__,
    *allocation.__all__,
    *forecast.__all__,
    *sequence.__all__,
    *long_range.__all__,
]
