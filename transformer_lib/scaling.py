"""Escalado (capítulos 9 y 10): parámetros, FLOPs, leyes de escalado y barridos de tamaños.

Contenido, de lo más simple a lo más completo:

- Recuentos: :func:`gpt_param_count_formula` (la aproximación N ≈ 12·n_layer·d_model²) y
  :func:`gpt_param_count_exact` (el recuento exacto de :class:`~transformer_lib.models.GPT`).
- Cómputo: :func:`flops_per_token` (6·N + 12·n_layer·d_model·T, apéndice B de PaLM),
  :func:`training_flops` (C ≈ 6·N·D) y :func:`measure_flops`, que cuenta los FLOPs de
  un paso real con ``torch.utils.flop_counter.FlopCounterMode``; :func:`mfu`.
- Leyes publicadas: constantes de Kaplan et al. (2020), Hoffmann et al. (2022, «Chinchilla»,
  enfoque 3) y la reestimación de Besiroglu et al. (2024), con :func:`kaplan_loss_n`,
  :func:`chinchilla_loss` y :func:`chinchilla_optimal`.
- Ajustes: :func:`fit_power_law` (mínimos cuadrados en ejes log-log) y
  :func:`fit_power_law_with_offset` (con término irreducible E).
- Barridos: :func:`run_sweep` entrena varios tamaños de GPT en el Quijote con la misma
  receta; :func:`save_sweep` / :func:`load_sweep` guardan el resultado en JSON y
  :func:`plot_scaling` lo dibuja. Desde la terminal:
  ``python -m transformer_lib sweep --out results/sweep_quijote.json``.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .models import GPT, GPTConfig, ParameterCount

__all__ = [
    "KaplanConstants",
    "ChinchillaConstants",
    "KAPLAN2020",
    "CHINCHILLA2022",
    "BESIROGLU2024",
    "GPU_PEAK_FLOPS",
    "gpt_param_count_formula",
    "gpt_param_count_exact",
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
    "fit_sweep",
    "save_sweep",
    "load_sweep",
    "plot_scaling",
]

# ---------------------------------------------------------------------------------------
# Constantes publicadas


@dataclass(frozen=True)
class KaplanConstants:
    """Leyes de escalado de Kaplan et al. (2020), pérdida en nats por token (BPE, WebText2).

    L(N) = (N_c / N)^α_N con N = parámetros sin embeddings; L(D) = (D_c / D)^α_D con D en
    tokens; L(C_min) = (C_c / C_min)^α_C con C en PF-días (1 PF-día = 8.64·10¹⁹ FLOPs).
    """

    alpha_n: float = 0.076
    n_c: float = 8.8e13
    alpha_d: float = 0.095
    d_c: float = 5.4e13
    alpha_c: float = 0.050
    c_c_pf_days: float = 3.1e8


@dataclass(frozen=True)
class ChinchillaConstants:
    """Ajuste paramétrico L(N, D) = E + A / N^α + B / D^β (Hoffmann et al., 2022, enfoque 3).

    N = parámetros, D = tokens de entrenamiento; E es la pérdida irreducible (nats por token).
    """

    e: float
    a: float
    b: float
    alpha: float
    beta: float
    name: str = ""


KAPLAN2020 = KaplanConstants()
CHINCHILLA2022 = ChinchillaConstants(1.69, 406.4, 410.7, 0.34, 0.28, "Hoffmann et al. (2022)")
BESIROGLU2024 = ChinchillaConstants(1.82, 482.0, 2085.4, 0.348, 0.366, "Besiroglu et al. (2024)")

# Pico denso (sin dispersidad) en BF16/FP16 con núcleos tensoriales, FLOP/s, según las
# hojas de datos de NVIDIA. Se busca la primera clave contenida en el nombre de la GPU.
GPU_PEAK_FLOPS: dict[str, float] = {
    "H100 PCIe": 756e12,
    "H100 NVL": 835e12,
    "H100": 989e12,  # SXM
    "H200": 989e12,
    "GH200": 989e12,
    "A100": 312e12,
    "L40S": 362e12,
    "A10G": 70e12,
    "A10": 125e12,
    "L4": 121e12,
    "T4": 65e12,
    "V100": 125e12,
}

# ---------------------------------------------------------------------------------------
# Recuentos de parámetros y de FLOPs


def _check_config(config: GPTConfig) -> None:
    if not isinstance(config, GPTConfig):
        raise TypeError(f"config debe ser un GPTConfig y recibí {type(config).__name__}.")


def gpt_param_count_formula(config: GPTConfig) -> int:
    """La aproximación de siempre: N ≈ n_layer·(4·d_model² + 2·d_model·d_ff) = 12·n_layer·d_model².

    Cuenta solo las matrices de los bloques (W^Q, W^K, W^V, W^O y las dos de la FFN):
    ni sesgos, ni LayerNorm, ni embeddings. Con d_ff = 4·d_model da 12·n_layer·d_model².

    Parámetros:
        config: configuración del GPT.

    Devuelve:
        El número aproximado de parámetros sin embeddings.
    """
    _check_config(config)
    d, d_ff = config.d_model, config.d_ff
    return config.n_layer * (4 * d * d + 2 * d * d_ff)


def gpt_param_count_exact(config: GPTConfig) -> ParameterCount:
    """Recuento exacto de parámetros de :class:`GPT`, sin construir el modelo.

    Por bloque: atención 4·d² (+ 4·d de sesgos), FFN 2·d·d_ff (+ d_ff + d de sesgos) y dos
    LayerNorm con 2·d cada una. Además, la LayerNorm final (2·d, solo en Pre-LN) y, si los
    pesos no están atados, la proyección de salida V·d. Embeddings: V·d (tokens) + T·d
    (posiciones).

    Parámetros:
        config: configuración del GPT.

    Devuelve:
        ``ParameterCount(total, embedding, non_embedding)``, igual que ``GPT.count_parameters()``.
    """
    _check_config(config)
    d, d_ff, V = config.d_model, config.d_ff, config.vocab_size
    per_block = 4 * d * d + 2 * d * d_ff + 4 * d  # matrices + las dos LayerNorm (γ y β)
    if config.bias:
        per_block += 4 * d + d_ff + d  # sesgos de W^Q, W^K, W^V, W^O, W_1 y W_2
    non_embedding = config.n_layer * per_block
    non_embedding += 2 * d if config.norm_first else 0  # LayerNorm final
    non_embedding += 0 if config.tie_weights else V * d  # lm_head propia
    embedding = V * d + config.block_size * d
    return ParameterCount(total=embedding + non_embedding, embedding=embedding,
                          non_embedding=non_embedding)


def flops_per_token(
    config: GPTConfig,
    include_attention: bool = True,
    training: bool = True,
    seq_len: int | None = None,
    include_lm_head: bool = False,
) -> float:
    """FLOPs por token de un GPT: 6·N + 12·n_layer·d_model·T al entrenar (PaLM, apéndice B).

    Un producto matriz-vector con una matriz de N pesos cuesta 2·N FLOPs (una multiplicación
    y una suma por peso): el paso hacia delante cuesta 2·N por token y el hacia atrás el doble
    (gradiente respecto a la entrada y respecto a los pesos), en total 6·N. La atención añade,
    por capa y token, Q·Kᵀ (2·T·d_model) y pesos·V (2·T·d_model): 4·n_layer·T·d_model hacia
    delante y 12·n_layer·T·d_model al entrenar (se cuenta la matriz T×T completa, aunque la
    máscara causal anule la mitad).

    Parámetros:
        config: configuración del GPT.
        include_attention: si se suma el término de la atención.
        training: True = adelante + atrás (×3); False = solo hacia delante.
        seq_len: longitud de contexto T; None usa ``config.block_size``.
        include_lm_head: suma la proyección al vocabulario (2·d_model·V por token hacia
            delante) cuando sus pesos están atados al embedding y por eso no cuentan en N.

    Devuelve:
        FLOPs por token (float).
    """
    _check_config(config)
    T = config.block_size if seq_len is None else seq_len
    if not isinstance(T, int) or T <= 0:
        raise ValueError(f"seq_len debe ser un entero positivo y es {seq_len!r}.")
    n = gpt_param_count_exact(config).non_embedding
    forward = 2.0 * n
    if include_attention:
        forward += 4.0 * config.n_layer * T * config.d_model
    if include_lm_head and config.tie_weights:
        forward += 2.0 * config.d_model * config.vocab_size
    return 3.0 * forward if training else forward


def training_flops(n_params: float, n_tokens: float) -> float:
    """Cómputo de entrenamiento C ≈ 6·N·D (Kaplan et al., 2020).

    Parámetros:
        n_params: N, parámetros sin embeddings.
        n_tokens: D, tokens procesados.

    Devuelve:
        C en FLOPs.
    """
    for name, value in (("n_params", n_params), ("n_tokens", n_tokens)):
        if not isinstance(value, (int, float, np.integer, np.floating)) or value < 0:
            raise ValueError(f"{name} debe ser un número no negativo y es {value!r}.")
    return 6.0 * float(n_params) * float(n_tokens)


@dataclass
class FlopMeasurement:
    """FLOPs contados por ``FlopCounterMode`` en un paso real.

    Atributos:
        forward: FLOPs del paso hacia delante.
        backward: FLOPs del paso hacia atrás (0 si no se midió).
        n_tokens: tokens del lote (B·T).
        by_op: FLOPs por operación de ATen (``"aten.mm"``, ``"aten.bmm"``, …), ida y vuelta.
    """

    forward: int
    backward: int
    n_tokens: int
    by_op: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """FLOPs de ida y vuelta."""
        return self.forward + self.backward

    @property
    def per_token(self) -> float:
        """FLOPs totales por token."""
        return self.total / self.n_tokens


def measure_flops(
    model: nn.Module,
    idx: torch.Tensor,
    targets: torch.Tensor | None = None,
    count_attention: bool = True,
) -> FlopMeasurement:
    """Cuenta los FLOPs de un paso hacia delante (y hacia atrás si hay ``targets``).

    ``FlopCounterMode`` solo conoce las operaciones tipo producto de matrices (mm, addmm,
    bmm, convoluciones y algunos núcleos de atención): ignora sumas de sesgos, GELU,
    softmax, LayerNorm y la entropía cruzada. En CPU, además, el núcleo fusionado de
    ``scaled_dot_product_attention`` no tiene fórmula registrada y contaría 0 FLOPs; con
    ``count_attention=True`` se fuerza la implementación matemática (``SDPBackend.MATH``),
    que hace la atención con dos ``bmm`` visibles para el contador. Los gradientes de los
    parámetros del modelo se ponen a cero al terminar.

    Parámetros:
        model: el modelo; se llama como ``model(idx, targets)`` y debe devolver
            ``(logits, loss)`` como :class:`GPT`.
        idx: ids de entrada.
        targets: objetivos; si se dan, también se mide ``loss.backward()``.
        count_attention: fuerza el backend matemático de atención para contarla.

    Devuelve:
        Un :class:`FlopMeasurement`.

    Formas:
        idx, targets: (B, T).
    """
    from torch.utils.flop_counter import FlopCounterMode

    if not isinstance(idx, torch.Tensor) or idx.dim() != 2:
        raise ValueError(f"idx debe ser un tensor (B, T) y es {getattr(idx, 'shape', idx)!r}.")
    if count_attention:
        from torch.nn.attention import SDPBackend, sdpa_kernel

        backend = sdpa_kernel(SDPBackend.MATH)
    else:
        backend = contextlib.nullcontext()
    by_op: dict[str, int] = {}

    def collect(counter: FlopCounterMode) -> None:
        for op, flops in counter.get_flop_counts().get("Global", {}).items():
            by_op[str(op)] = by_op.get(str(op), 0) + int(flops)

    with backend:
        fwd_counter = FlopCounterMode(display=False)
        with fwd_counter:
            _, loss = model(idx, targets)
        collect(fwd_counter)
        backward = 0
        if targets is not None:
            if loss is None:
                raise ValueError("El modelo no devolvió pérdida: no se puede medir el paso hacia atrás.")
            bwd_counter = FlopCounterMode(display=False)
            with bwd_counter:
                loss.backward()
            collect(bwd_counter)
            backward = bwd_counter.get_total_flops()
            model.zero_grad(set_to_none=True)
    return FlopMeasurement(forward=fwd_counter.get_total_flops(), backward=backward,
                           n_tokens=idx.numel(), by_op=by_op)


def mfu(
    tokens_per_s: float,
    config: GPTConfig,
    peak_flops: float,
    seq_len: int | None = None,
) -> float:
    """Utilización de FLOPs del modelo (MFU): FLOPs útiles por segundo / pico del hardware.

    MFU = tokens/s · flops_per_token(config) / pico (PaLM, apéndice B). Solo cuenta los FLOPs
    que el modelo necesita (6·N + atención), no los que se repiten por recomputación.

    Parámetros:
        tokens_per_s: tokens de entrenamiento procesados por segundo.
        config: configuración del GPT.
        peak_flops: pico del hardware en FLOP/s (p. ej. 989e12 para una H100 SXM en BF16).
        seq_len: longitud de contexto; None usa ``config.block_size``.

    Devuelve:
        La fracción del pico (entre 0 y 1 en la práctica).
    """
    if peak_flops <= 0:
        raise ValueError(f"peak_flops debe ser positivo y es {peak_flops!r}.")
    if tokens_per_s < 0:
        raise ValueError(f"tokens_per_s no puede ser negativo y es {tokens_per_s!r}.")
    return tokens_per_s * flops_per_token(config, seq_len=seq_len) / peak_flops


def gpu_peak_flops(name: str | None = None, default: float | None = None) -> float | None:
    """Pico denso BF16/FP16 de una GPU por su nombre (tabla :data:`GPU_PEAK_FLOPS`).

    Parámetros:
        name: nombre de la GPU (p. ej. ``torch.cuda.get_device_name()``); None lo pregunta
            a PyTorch si hay CUDA.
        default: valor devuelto si la GPU no está en la tabla.

    Devuelve:
        FLOP/s, o ``default`` si no se reconoce.
    """
    if name is None:
        if not torch.cuda.is_available():
            return default
        name = torch.cuda.get_device_name()
    for key, peak in GPU_PEAK_FLOPS.items():
        if key.lower() in name.lower():
            return peak
    return default


# ---------------------------------------------------------------------------------------
# Leyes de escalado publicadas


def kaplan_loss_n(n: float | np.ndarray, constants: KaplanConstants = KAPLAN2020) -> np.ndarray:
    """L(N) = (N_c / N)^α_N: pérdida límite de un modelo con N parámetros sin embeddings.

    Parámetros:
        n: parámetros sin embeddings (escalar o array).
        constants: constantes de la ley.

    Devuelve:
        Pérdida en nats por token (array de la misma forma que ``n``).
    """
    n = np.asarray(n, dtype=float)
    return (constants.n_c / n) ** constants.alpha_n


def kaplan_loss_d(d: float | np.ndarray, constants: KaplanConstants = KAPLAN2020) -> np.ndarray:
    """L(D) = (D_c / D)^α_D: pérdida de un modelo grande entrenado con D tokens (con parada temprana)."""
    d = np.asarray(d, dtype=float)
    return (constants.d_c / d) ** constants.alpha_d


def chinchilla_loss(
    n: float | np.ndarray, d: float | np.ndarray, constants: ChinchillaConstants = CHINCHILLA2022
) -> np.ndarray:
    """L(N, D) = E + A / N^α + B / D^β (Hoffmann et al., 2022).

    Parámetros:
        n: parámetros.
        d: tokens de entrenamiento (difundible con ``n``).
        constants: :data:`CHINCHILLA2022` o :data:`BESIROGLU2024`.

    Devuelve:
        Pérdida en nats por token.
    """
    n, d = np.asarray(n, dtype=float), np.asarray(d, dtype=float)
    c = constants
    return c.e + c.a / n**c.alpha + c.b / d**c.beta


def chinchilla_optimal(
    compute: float | np.ndarray, constants: ChinchillaConstants = CHINCHILLA2022
) -> tuple[np.ndarray, np.ndarray]:
    """Reparto óptimo de un presupuesto C = 6·N·D entre parámetros y tokens.

    Minimizar E + A/N^α + B/D^β con D = C/(6N) da N_opt = G·(C/6)^(β/(α+β)) y
    D_opt = (C/6)/N_opt, con G = (α·A / (β·B))^(1/(α+β)).

    Parámetros:
        compute: C en FLOPs (escalar o array).
        constants: constantes del ajuste.

    Devuelve:
        ``(n_opt, d_opt)``, arrays de la forma de ``compute``.
    """
    compute = np.asarray(compute, dtype=float)
    if np.any(compute <= 0):
        raise ValueError("compute debe ser positivo.")
    c = constants
    g = (c.alpha * c.a / (c.beta * c.b)) ** (1.0 / (c.alpha + c.beta))
    n_opt = g * (compute / 6.0) ** (c.beta / (c.alpha + c.beta))
    return n_opt, compute / 6.0 / n_opt


# ---------------------------------------------------------------------------------------
# Ajustes de leyes de potencia


@dataclass(frozen=True)
class PowerLawFit:
    """Ley de potencia y = E + A·x^(−α) ajustada a unos datos.

    Atributos:
        a: coeficiente A.
        alpha: exponente α (positivo si y baja al crecer x).
        e: término irreducible E (0 en :func:`fit_power_law`).
        r2: coeficiente de determinación del ajuste en ejes log-log.
    """

    a: float
    alpha: float
    e: float = 0.0
    r2: float = float("nan")

    def __call__(self, x: float | np.ndarray) -> np.ndarray:
        """Evalúa la ley en ``x``."""
        return self.e + self.a * np.asarray(x, dtype=float) ** (-self.alpha)

    def to_dict(self) -> dict:
        """La ley como diccionario (para JSON)."""
        return asdict(self)


def _as_positive_arrays(x, y) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x e y deben tener el mismo número de puntos: {x.size} y {y.size}.")
    if x.size < 2:
        raise ValueError(f"Hacen falta al menos 2 puntos para ajustar una ley de potencia; hay {x.size}.")
    if np.any(x <= 0) or np.any(y <= 0) or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("x e y deben ser finitos y positivos para tomar logaritmos.")
    return x, y


def _loglog_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Recta log y = log A − α·log x por mínimos cuadrados; devuelve (A, α, R²)."""
    lx, ly = np.log(x), np.log(y)
    slope, intercept = np.polyfit(lx, ly, 1)
    resid = ly - (intercept + slope * lx)
    ss_tot = float(np.sum((ly - ly.mean()) ** 2))
    r2 = 1.0 - float(np.sum(resid**2)) / ss_tot if ss_tot > 0 else 1.0
    return float(np.exp(intercept)), float(-slope), r2


def fit_power_law(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> PowerLawFit:
    """Ajusta y = A·x^(−α) con una recta por mínimos cuadrados en ejes log-log.

    En ejes logarítmicos una ley de potencia es una recta: log y = log A − α·log x; la
    pendiente es −α.

    Parámetros:
        x: variable de escala (parámetros, tokens, FLOPs), positiva.
        y: pérdida, positiva.

    Devuelve:
        Un :class:`PowerLawFit` con ``e = 0``.

    Formas:
        x, y: (n,) con n >= 2.
    """
    x, y = _as_positive_arrays(x, y)
    a, alpha, r2 = _loglog_fit(x, y)
    return PowerLawFit(a=a, alpha=alpha, e=0.0, r2=r2)


def fit_power_law_with_offset(
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    n_grid: int = 400,
) -> PowerLawFit:
    """Ajusta y = E + A·x^(−α), con un término irreducible E >= 0.

    Para cada E de una rejilla en [0, min(y)) se ajusta la recta log(y − E) frente a log x
    y se elige el E con menor error cuadrático en y; después se afina E alrededor del mejor
    valor. Con pocos puntos, E, A y α están muy correlacionados: trata el resultado como
    orientativo.

    Parámetros:
        x: variable de escala, positiva.
        y: pérdida, positiva.
        n_grid: puntos de la rejilla de E.

    Devuelve:
        Un :class:`PowerLawFit` (``r2`` es el de la recta log(y − E)).

    Formas:
        x, y: (n,) con n >= 3.
    """
    x, y = _as_positive_arrays(x, y)
    if x.size < 3:
        raise ValueError(f"El ajuste con término irreducible necesita al menos 3 puntos; hay {x.size}.")

    def sse(e: float) -> tuple[float, tuple[float, float, float]]:
        a, alpha, r2 = _loglog_fit(x, y - e)
        return float(np.sum((e + a * x ** (-alpha) - y) ** 2)), (a, alpha, r2)

    hi = float(y.min()) * (1.0 - 1e-6)
    grid = np.linspace(0.0, hi, n_grid, endpoint=False)
    errors = [sse(e)[0] for e in grid]
    k = int(np.argmin(errors))
    lo = grid[max(k - 1, 0)]
    up = grid[k + 1] if k + 1 < n_grid else hi
    for _ in range(60):  # búsqueda ternaria en el intervalo vecino
        m1, m2 = lo + (up - lo) / 3, up - (up - lo) / 3
        if sse(m1)[0] <= sse(m2)[0]:
            up = m2
        else:
            lo = m1
    e = 0.5 * (lo + up)
    _, (a, alpha, r2) = sse(e)
    return PowerLawFit(a=a, alpha=alpha, e=float(e), r2=r2)


# ---------------------------------------------------------------------------------------
# Barridos de tamaños


@dataclass(frozen=True)
class SweepSize:
    """Un tamaño de GPT del barrido: profundidad, cabezas y anchura."""

    n_layer: int
    n_head: int
    d_model: int

    @property
    def name(self) -> str:
        """Nombre corto, p. ej. ``"L4-d128"``."""
        return f"L{self.n_layer}-d{self.d_model}"


# Cinco tamaños con N ≈ 12·n_layer·d_model² entre 25 mil y 1,8 millones (factor ≈ 3 entre vecinos).
SWEEP_SIZES: tuple[SweepSize, ...] = (
    SweepSize(2, 2, 32),
    SweepSize(2, 4, 64),
    SweepSize(3, 4, 96),
    SweepSize(4, 4, 128),
    SweepSize(4, 6, 192),
)


def _as_size(size) -> SweepSize:
    if isinstance(size, SweepSize):
        return size
    if isinstance(size, (tuple, list)) and len(size) == 3:
        return SweepSize(*(int(v) for v in size))
    raise TypeError(f"Cada tamaño debe ser un SweepSize o una tupla (n_layer, n_head, d_model); recibí {size!r}.")


def run_sweep(
    sizes: Sequence[SweepSize | tuple[int, int, int]] = SWEEP_SIZES,
    config=None,
    data=None,
    on_run: Callable[[dict], None] | None = None,
) -> dict:
    """Entrena un GPT de cada tamaño con la misma receta y mide su pérdida de validación.

    Todos los modelos ven los mismos lotes (misma semilla) y el mismo número de tokens,
    D = max_iters·batch_size·block_size, y se evalúan sobre las mismas ventanas fijas de
    validación. Para cada modelo se guarda también su curva de validación, que permite
    dibujar la pérdida frente al cómputo gastado hasta cada evaluación.

    Parámetros:
        sizes: tamaños a entrenar.
        config: ``TrainConfig`` común (None = la receta de nanoGPT para CPU:
            2000 pasos, B = 12, T = 64, lr = 1e-3).
        data: ``QuijoteData`` (None = ``prepare_quijote()``).
        on_run: función llamada con el resultado de cada modelo al terminarlo.

    Devuelve:
        Un diccionario con ``"recipe"`` (la configuración de entrenamiento), ``"runs"`` (un
        diccionario por modelo: tamaño, parámetros, tokens, cómputo C = 6·N·D, pérdidas,
        segundos y curva) y ``"fits"`` (ver :func:`fit_sweep`).
    """
    from .data import prepare_quijote
    from .training import TrainConfig, train

    sizes = [_as_size(s) for s in sizes]
    if not sizes:
        raise ValueError("sizes está vacío: el barrido necesita al menos un tamaño.")
    config = config or TrainConfig()
    data = data if data is not None else prepare_quijote()
    vocab_size = data.tokenizer.vocab_size
    tokens_per_step = config.batch_size * config.block_size
    runs = []
    for size in sizes:
        gpt_config = GPTConfig(vocab_size=vocab_size, block_size=config.block_size,
                               n_layer=size.n_layer, n_head=size.n_head, d_model=size.d_model)
        torch.manual_seed(config.seed)
        model = GPT(gpt_config)
        counts = model.count_parameters()
        history = train(model, config, data)
        tokens = history.tokens
        curve_tokens = [s * tokens_per_step for s in history.eval_steps]
        run = {
            "name": size.name,
            "n_layer": size.n_layer,
            "n_head": size.n_head,
            "d_model": size.d_model,
            "params_total": counts.total,
            "params_non_embedding": counts.non_embedding,
            "steps": len(history.steps),
            "tokens": tokens,
            "compute": training_flops(counts.non_embedding, tokens),
            "compute_with_attention": flops_per_token(gpt_config) * tokens,
            "val_loss": history.final_val_loss,
            "train_loss": history.final_train_loss,
            "seconds": round(history.seconds + history.eval_seconds, 2),
            "ms_per_iter": round(history.ms_per_iter, 2),
            "curve": {"steps": list(history.eval_steps), "tokens": curve_tokens,
                      "val_loss": list(history.val_loss)},
        }
        runs.append(run)
        if on_run is not None:
            on_run(run)
    results = {"recipe": config.to_dict(), "vocab_size": vocab_size, "runs": runs}
    results["fits"] = {k: v.to_dict() for k, v in fit_sweep(results).items()}
    return results


def _frontier(results: dict) -> tuple[np.ndarray, np.ndarray]:
    """Frontera de cómputo: de todos los puntos (C, L) de las curvas, los que mejoran a todos
    los de menor cómputo."""
    points = []
    for run in results["runs"]:
        n, curve = run["params_non_embedding"], run.get("curve") or {}
        for tokens, loss in zip(curve.get("tokens", []), curve.get("val_loss", [])):
            if tokens > 0:
                points.append((training_flops(n, tokens), loss))
    points.sort()
    c_front, l_front, best = [], [], float("inf")
    for c, loss in points:
        if loss < best:
            best = loss
            c_front.append(c)
            l_front.append(loss)
    return np.array(c_front), np.array(l_front)


compute_frontier = _frontier


def fit_sweep(results: dict) -> dict[str, PowerLawFit]:
    """Ajusta leyes de potencia a un barrido.

    - ``"params"``: pérdida final frente a N (parámetros sin embeddings), L = A·N^(−α_N).
    - ``"params_offset"``: lo mismo con término irreducible, L = E + A·N^(−α) (si hay >= 4 modelos).
    - ``"compute"``: la frontera de cómputo de las curvas de validación, L = A·C^(−α_C),
      con C = 6·N·D (si la frontera tiene >= 3 puntos).

    Parámetros:
        results: lo que devuelve :func:`run_sweep` o :func:`load_sweep`.

    Devuelve:
        Un diccionario de :class:`PowerLawFit`.
    """
    runs = results.get("runs") if isinstance(results, dict) else None
    if not runs:
        raise ValueError("results no tiene 'runs': pásale lo que devuelve run_sweep o load_sweep.")
    n = [r["params_non_embedding"] for r in runs]
    loss = [r["val_loss"] for r in runs]
    fits = {"params": fit_power_law(n, loss)}
    if len(runs) >= 4:
        fits["params_offset"] = fit_power_law_with_offset(n, loss)
    c_front, l_front = _frontier(results)
    if len(c_front) >= 3:
        fits["compute"] = fit_power_law(c_front, l_front)
    return fits


def sweep_metadata(command: str = "", note: str = "") -> dict:
    """Fecha, versión de la biblioteca y hardware, para guardarlos junto a un barrido.

    Parámetros:
        command: la orden que produjo el barrido.
        note: una nota libre (p. ej. «máquina compartida y cargada»).
    """
    from . import __version__

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    hardware = {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
    }
    with contextlib.suppress(OSError, AttributeError):
        hardware["load_average_start"] = [round(v, 2) for v in os.getloadavg()]
    return {
        "command": command,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "library_version": __version__,
        "hardware": hardware,
        "note": note,
    }


def save_sweep(results: dict, path: str | os.PathLike) -> None:
    """Guarda un barrido en JSON (UTF-8, legible), creando la carpeta si hace falta."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def load_sweep(path: str | os.PathLike) -> dict:
    """Lee un barrido guardado con :func:`save_sweep`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"No encuentro el barrido {path}: genéralo con "
            f"`python -m transformer_lib sweep --out {path}`."
        )
    results = json.loads(path.read_text(encoding="utf-8"))
    if "runs" not in results:
        raise ValueError(f"{path} no parece un barrido: le falta la clave 'runs'.")
    return results


def plot_scaling(
    results: dict,
    x: str = "params",
    ax=None,
    fit: bool = True,
    curves: bool = True,
    label: str | None = None,
    color: str = "tab:blue",
):
    """Dibuja un barrido en ejes log-log: pérdida de validación frente a N o frente a C.

    Parámetros:
        results: lo que devuelve :func:`run_sweep` o :func:`load_sweep`.
        x: ``"params"`` (N, parámetros sin embeddings) o ``"compute"`` (C = 6·N·D en FLOPs).
        ax: ejes de matplotlib; None crea una figura nueva.
        fit: si se dibuja la ley de potencia ajustada (con su exponente en la leyenda).
        curves: con ``x="compute"``, si se dibujan las curvas de validación de cada modelo.
        label: prefijo de la leyenda de los puntos.
        color: color de los puntos y del ajuste.

    Devuelve:
        La figura de matplotlib.
    """
    import matplotlib.pyplot as plt

    if x not in ("params", "compute"):
        raise ValueError(f"x debe ser 'params' o 'compute' y es {x!r}.")
    runs = results.get("runs") if isinstance(results, dict) else None
    if not runs:
        raise ValueError("results no tiene 'runs': pásale lo que devuelve run_sweep o load_sweep.")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4))
    else:
        fig = ax.figure
    key = "params_non_embedding" if x == "params" else "compute"
    xs = np.array([r[key] for r in runs], dtype=float)
    ys = np.array([r["val_loss"] for r in runs], dtype=float)
    fits = fit_sweep(results) if fit else {}
    if x == "compute" and curves:
        cmap = plt.get_cmap("viridis")
        for i, r in enumerate(runs):
            curve = r.get("curve") or {"tokens": [], "val_loss": []}
            c = [training_flops(r["params_non_embedding"], t) for t in curve["tokens"]]
            pts = [(ci, li) for ci, li in zip(c, curve["val_loss"]) if ci > 0]
            if pts:
                ax.plot(*zip(*pts), "-", color=cmap(i / max(1, len(runs) - 1)), alpha=0.8, lw=1.2,
                        label=f"{r['name']} (N = {r['params_non_embedding'] / 1e3:.0f} mil)")
    ax.plot(xs, ys, "o", color=color, ms=7, zorder=3,
            label=(label + ": " if label else "") + "pérdida final")
    for r in runs:
        ax.annotate(r["name"], (r[key], r["val_loss"]), textcoords="offset points", xytext=(5, 5),
                    fontsize=8)
    if fit:
        fit_key = "params" if x == "params" else "compute"
        if fit_key in fits:
            f = fits[fit_key]
            if x == "params":
                grid = np.geomspace(xs.min() / 1.5, xs.max() * 1.5, 100)
                sym = "N"
            else:
                c_front, _ = _frontier(results)
                grid = np.geomspace(c_front.min(), c_front.max() * 1.5, 100)
                sym = "C"
            ax.plot(grid, f(grid), "--", color="black" if x == "compute" else color, lw=1.5,
                    label=f"ajuste: L = {f.a:.3g}·{sym}^(−{f.alpha:.3f})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    from matplotlib.ticker import FuncFormatter

    plain = FuncFormatter(lambda v, _: f"{v:.3g}")  # 2.5 en vez de 2.5×10⁰
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain)
    ax.set_xlabel("parámetros sin embeddings N" if x == "params" else "cómputo C = 6·N·D (FLOPs)")
    ax.set_ylabel("pérdida de validación (nats por carácter)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return fig


# ---------------------------------------------------------------------------------------
# Línea de órdenes: python -m transformer_lib sweep … (o python -m transformer_lib.scaling sweep …)


def add_sweep_arguments(parser) -> None:
    """Declara las opciones de la orden ``sweep`` en un ``argparse.ArgumentParser``."""
    from .cli import non_negative_int, positive_float, positive_int

    parser.add_argument("--out", default="results/sweep_quijote.json", help="fichero JSON de resultados")
    parser.add_argument("--sizes", default=None,
                        help="tamaños como 'capas,cabezas,d_model' separados por ';', p. ej. "
                             "'2,2,32;4,4,128' (por defecto, los cinco de SWEEP_SIZES)")
    parser.add_argument("--max-iters", type=positive_int, default=2000, help="pasos por modelo")
    parser.add_argument("--batch-size", type=positive_int, default=12, help="ventanas por lote B")
    parser.add_argument("--block-size", type=positive_int, default=64, help="longitud del contexto T")
    parser.add_argument("--lr", type=positive_float, default=1e-3, help="tasa de aprendizaje máxima")
    parser.add_argument("--eval-interval", type=non_negative_int, default=250,
                        help="pasos entre evaluaciones de la curva de validación")
    parser.add_argument("--eval-iters", type=positive_int, default=20,
                        help="lotes de cada evaluación intermedia")
    parser.add_argument("--final-eval-iters", type=non_negative_int, default=200,
                        help="lotes de la evaluación final")
    parser.add_argument("--seed", type=int, default=1337, help="semilla")
    parser.add_argument("--device", default=None, help="cpu, cuda o mps (por defecto, el mejor disponible)")
    parser.add_argument("--num-threads", type=positive_int, default=None,
                        help="hilos de PyTorch en CPU (1 rinde más en una máquina compartida)")
    parser.add_argument("--data-dir", default=None, help="carpeta con pg2000.txt")
    parser.add_argument("--note", default="", help="nota libre que se guarda con los resultados")


def _parse_sizes(text: str | None) -> list[SweepSize]:
    if not text:
        return list(SWEEP_SIZES)
    sizes = []
    for part in text.split(";"):
        try:
            sizes.append(SweepSize(*(int(v) for v in part.split(","))))
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"Tamaño mal escrito {part!r}: usa 'capas,cabezas,d_model', p. ej. '4,4,128'."
            ) from err
    return sizes


def sweep_command(args) -> int:
    """Ejecuta la orden ``sweep`` con los argumentos ya leídos por argparse."""
    import shlex
    import sys

    from .data import prepare_quijote
    from .training import TrainConfig

    config = TrainConfig(max_iters=args.max_iters, batch_size=args.batch_size,
                         block_size=args.block_size, lr=args.lr, eval_interval=args.eval_interval,
                         eval_iters=args.eval_iters, final_eval_iters=args.final_eval_iters,
                         seed=args.seed, device=args.device, num_threads=args.num_threads,
                         progress=False)
    sizes = _parse_sizes(args.sizes)
    module = "transformer_lib.scaling" if sys.argv[0].endswith("scaling.py") else "transformer_lib"
    command = f"python -m {module} " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    meta = sweep_metadata(command=command, note=args.note)
    t0 = time.perf_counter()

    def report(run: dict) -> None:
        print(f"{run['name']:>9}: N = {run['params_non_embedding']:>9,d}  "
              f"val = {run['val_loss']:.4f}  ({run['seconds']:.0f} s)", flush=True)

    results = run_sweep(sizes, config, prepare_quijote(data_dir=args.data_dir), on_run=report)
    meta["wall_seconds"] = round(time.perf_counter() - t0, 1)
    with contextlib.suppress(OSError, AttributeError):
        meta["hardware"]["load_average_end"] = [round(v, 2) for v in os.getloadavg()]
    save_sweep({**meta, **results}, args.out)
    f = results["fits"]["params"]
    print(f"Ajuste L = {f['a']:.3g}·N^(−{f['alpha']:.3f}); resultados en {args.out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m transformer_lib.scaling sweep …``: lo mismo que ``python -m transformer_lib sweep …``."""
    import sys

    from .cli import main as cli_main

    return cli_main(list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    raise SystemExit(main())
