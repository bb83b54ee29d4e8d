"""Recuentos de parámetros y de FLOPs de un GPT (capítulos 9 y 10).

- :func:`gpt_param_count_formula`: la aproximación N ≈ 12·n_layer·d_model².
- :func:`gpt_param_count_exact`: el recuento exacto de :class:`~transformer_lib.models.GPT`,
  para cualquier combinación de ``norm``, ``position``, ``ffn`` y ``n_kv_head``.
- :func:`kv_cache_bytes`: la memoria de la caché KV al generar (capítulo 11).
- :func:`flops_per_token` (6·N + 12·n_layer·d_model·T, apéndice B de PaLM) y
  :func:`training_flops` (C ≈ 6·N·D).
- :func:`model_param_count` y :func:`run_flops_per_token`: los dos recuentos de un modelo de
  un barrido (GPT o LSTM) con las dos convenciones de FLOPs de :data:`FLOP_CONVENTIONS`: la
  completa (``"full"``, la de todo el curso) y la de Kaplan (``"kaplan"``, 6·N sin embeddings).
- :func:`measure_flops`: cuenta los FLOPs de un paso real con
  ``torch.utils.flop_counter.FlopCounterMode`` y los devuelve en un :class:`FlopMeasurement`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..models import GPTConfig, LSTMConfig, ParameterCount, lstm_param_count_exact

# Las dos formas de contar el cómputo de entrenamiento por token (ver run_flops_per_token).
FLOP_CONVENTIONS = ("full", "kaplan")


def _check_config(config: GPTConfig) -> None:
    if not isinstance(config, GPTConfig):
        raise TypeError(f"config debe ser un GPTConfig y recibí {type(config).__name__}.")


def _matrix_params(config: GPTConfig) -> tuple[int, int]:
    """Pesos de las matrices de un bloque: (atención, FFN)."""
    d, d_ff = config.d_model, config.d_ff
    d_kv = config.kv_heads * (d // config.n_head)  # salida de W^K y W^V
    attention = 2 * d * d + 2 * d * d_kv  # W^Q, W^O (d × d) y W^K, W^V (d × d_kv)
    ffn = (3 if config.ffn == "swiglu" else 2) * d * d_ff  # W, V, W_2 o W_1, W_2
    return attention, ffn


def gpt_param_count_formula(config: GPTConfig) -> int:
    """La aproximación de siempre: N ≈ n_layer·(4·d_model² + 2·d_model·d_ff) = 12·n_layer·d_model².

    Cuenta solo las matrices de los bloques (W^Q, W^K, W^V, W^O y las de la FFN): ni
    sesgos, ni normalizaciones, ni embeddings. Con d_ff = 4·d_model da 12·n_layer·d_model².
    Con GQA, W^K y W^V miden d_model × n_kv_head·d_k; con SwiGLU la FFN tiene tres matrices
    (3·d_model·d_ff, que con d_ff = 8/3·d_model vuelve a ser ≈ 8·d_model²).

    Parámetros:
        config: configuración del GPT.

    Devuelve:
        El número aproximado de parámetros sin embeddings.
    """
    _check_config(config)
    return config.n_layer * sum(_matrix_params(config))


def gpt_param_count_exact(config: GPTConfig) -> ParameterCount:
    """Recuento exacto de parámetros de :class:`GPT`, sin construir el modelo.

    Por bloque: las matrices de :func:`gpt_param_count_formula`; los sesgos si
    ``bias`` (2·d + 2·d_kv en la atención, d_ff + d en la MLP o 2·d_ff + d en SwiGLU); y dos
    normalizaciones de 2·d (LayerNorm: γ y β) o d (RMSNorm: solo γ). Además, la
    normalización final (solo en Pre-LN) y, si los pesos no están atados, la proyección de
    salida V·d. Embeddings: V·d (tokens) + T·d (posiciones aprendidas; RoPE no tiene
    parámetros).

    Parámetros:
        config: configuración del GPT.

    Devuelve:
        ``ParameterCount(total, embedding, non_embedding)``, igual que ``GPT.count_parameters()``.
    """
    _check_config(config)
    d, d_ff, V = config.d_model, config.d_ff, config.vocab_size
    d_kv = config.kv_heads * (d // config.n_head)
    norm = 2 * d if config.norm == "layernorm" else d  # parámetros de una normalización
    per_block = sum(_matrix_params(config)) + 2 * norm
    if config.bias:
        ffn_bias = (2 * d_ff if config.ffn == "swiglu" else d_ff) + d
        per_block += 2 * d + 2 * d_kv + ffn_bias  # W^Q, W^O, W^K, W^V y la FFN
    non_embedding = config.n_layer * per_block
    non_embedding += norm if config.norm_first else 0  # normalización final
    non_embedding += 0 if config.tie_weights else V * d  # lm_head propia
    embedding = V * d + (config.block_size * d if config.position == "learned" else 0)
    return ParameterCount(total=embedding + non_embedding, embedding=embedding,
                          non_embedding=non_embedding)


def kv_cache_bytes(config: GPTConfig, seq_len: int | None = None, batch_size: int = 1,
                   bytes_per_value: int = 4) -> int:
    """Memoria de la caché KV: 2 (K y V) · n_layer · B · n_kv_head · T · d_k valores.

    Es lo que reserva ``GPT.generate(..., use_cache=True)``
    (:class:`~transformer_lib.multihead.KVCache`). Con GQA baja en n_head / n_kv_head.

    Parámetros:
        config: configuración del GPT.
        seq_len: posiciones guardadas T; None usa ``config.block_size``.
        batch_size: secuencias que se generan a la vez B.
        bytes_per_value: 4 en float32, 2 en bfloat16.

    Devuelve:
        Bytes.
    """
    _check_config(config)
    T = config.block_size if seq_len is None else seq_len
    for name, value in (("seq_len", T), ("batch_size", batch_size), ("bytes_per_value", bytes_per_value)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name} debe ser un entero positivo y es {value!r}.")
    d_k = config.d_model // config.n_head
    return 2 * config.n_layer * batch_size * config.kv_heads * T * d_k * bytes_per_value


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
    máscara causal anule la mitad). Con GQA el término de la atención no cambia (cada una de
    las n_head consultas sigue comparándose con T claves); lo que baja es N, por W^K y W^V.
    RoPE, RMSNorm y la compuerta de SwiGLU son operaciones elemento a elemento: no suman.

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
    softmax, LayerNorm y la entropía cruzada. En CPU, además, el kernel fusionado de
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


def model_param_count(config: GPTConfig | LSTMConfig) -> ParameterCount:
    """Recuento exacto de parámetros de un modelo de barrido (GPT o LSTM), sin construirlo.

    Parámetros:
        config: un ``GPTConfig`` o un ``LSTMConfig``.

    Devuelve:
        ``ParameterCount(total, embedding, non_embedding)``.
    """
    if isinstance(config, LSTMConfig):
        return lstm_param_count_exact(config)
    return gpt_param_count_exact(config)


def run_flops_per_token(config: GPTConfig | LSTMConfig, convention: str = "full") -> float:
    """FLOPs de entrenamiento por token con una convención con nombre.

    - ``"full"`` (la del curso): 3 × (2·N sin embeddings + la atención 4·n_layer·T·d_model + la
      capa de salida 2·d_model·V si está atada al embedding). Es lo que cuenta
      ``FlopCounterMode`` en un paso real de ida y vuelta más 6 FLOPs por cada sesgo y parámetro
      de normalización, que el contador no ve porque no son productos de matrices (una prueba lo
      comprueba en cada tamaño de las rejillas; son menos del 6 % en los modelos más pequeños).
    - ``"kaplan"``: 6·N con N sin embeddings (Kaplan et al., 2020): deja fuera la atención y
      la capa de salida atada, que en los modelos pequeños pesan mucho.

    En una LSTM la parte «full» son sus matrices (2·N hacia delante) y la capa de salida; no hay
    atención.

    Parámetros:
        config: un ``GPTConfig`` o un ``LSTMConfig``.
        convention: ``"full"`` o ``"kaplan"``.

    Devuelve:
        FLOPs por token (ida y vuelta).
    """
    if convention not in FLOP_CONVENTIONS:
        raise ValueError(f"convention debe ser una de {FLOP_CONVENTIONS} y es {convention!r}.")
    n = model_param_count(config).non_embedding
    if convention == "kaplan":
        return 6.0 * n
    if isinstance(config, LSTMConfig):
        head = 2.0 * config.d_model * config.vocab_size if config.tie_weights else 0.0
        return 3.0 * (2.0 * n + head)
    return flops_per_token(config, include_attention=True, include_lm_head=True)
