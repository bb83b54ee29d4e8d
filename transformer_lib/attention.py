"""Atención por producto escalado y máscaras (capítulos 1 y 8).

Convención de máscaras en todo el curso: tensores **booleanos**, ``True`` = la
consulta *puede* atender a esa clave. Deben poder difundirse (broadcast) a la forma
de las puntuaciones ``(B, h, T_q, T_k)``.

Notación de formas: B = lote, h = cabezas, T_q / T_k = longitud de consultas / claves,
d_k = dimensión de cada consulta y clave, d_v = dimensión de cada valor.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ._checks import check_dropout, check_mask


def causal_mask(T: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Máscara causal booleana: la posición i solo ve las posiciones j <= i (capítulo 8).

    Parámetros:
        T: longitud de la secuencia.
        device: dispositivo del tensor devuelto.

    Devuelve:
        Tensor booleano triangular inferior.

    Formas:
        salida: (T, T); ``mask[i, j] = (j <= i)``.
    """
    if not isinstance(T, int) or T <= 0:
        raise ValueError(f"La longitud T de la máscara causal debe ser un entero positivo y es {T!r}.")
    return torch.ones(T, T, dtype=torch.bool, device=device).tril()


def padding_mask(lengths: torch.Tensor | list[int], T: int) -> torch.Tensor:
    """Máscara de relleno (padding): cada consulta ve solo las claves reales de su secuencia.

    Parámetros:
        lengths: longitud real de cada secuencia del lote.
        T: longitud con relleno (la de las claves).

    Devuelve:
        Tensor booleano, ``True`` en las posiciones reales.

    Formas (capítulo 8):
        lengths: (B,); salida: (B, 1, 1, T), difundible a (B, h, T_q, T).
    """
    lengths = torch.as_tensor(lengths)
    if lengths.dim() != 1:
        raise ValueError(f"lengths debe ser un vector (B,) y tiene forma {tuple(lengths.shape)}.")
    if lengths.numel() and (int(lengths.min()) < 0 or int(lengths.max()) > T):
        raise ValueError(
            f"Cada longitud debe estar en [0, T={T}] y recibí {lengths.tolist()}."
        )
    positions = torch.arange(T, device=lengths.device)  # (T,)
    return (positions[None, :] < lengths[:, None])[:, None, None, :]  # (B, 1, 1, T)


def additive_mask(mask: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Convierte una máscara booleana en la forma aditiva de las diapositivas: 0 o −∞.

    ``mask_ij = 0`` donde se puede atender y ``−∞`` donde no; sumada a las puntuaciones,
    la softmax convierte ese −∞ en un peso exactamente cero.

    Formas (capítulo 8):
        mask: cualquiera; salida: la misma forma, con dtype flotante.
    """
    zeros = torch.zeros(mask.shape, dtype=dtype, device=mask.device)
    return zeros.masked_fill(~mask, float("-inf"))


def _check_qkv(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor | None = None) -> None:
    if q.dim() < 2 or k.dim() < 2:
        raise ValueError(
            f"q y k deben tener al menos 2 dimensiones (..., T, d_k); tienen formas "
            f"{tuple(q.shape)} y {tuple(k.shape)}."
        )
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(
            f"q y k deben tener la misma dimensión d_k en el último eje: q tiene "
            f"{q.shape[-1]} (forma {tuple(q.shape)}) y k tiene {k.shape[-1]} "
            f"(forma {tuple(k.shape)})."
        )
    if v is not None and v.shape[-2] != k.shape[-2]:
        raise ValueError(
            f"k y v deben tener el mismo número de posiciones T_k: k tiene {k.shape[-2]} "
            f"(forma {tuple(k.shape)}) y v tiene {v.shape[-2]} (forma {tuple(v.shape)})."
        )


def attention_weights(
    q: torch.Tensor, k: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Pesos de atención softmax(Q·Kᵀ/√d_k), con máscara opcional (capítulo 1).

    Una fila cuya máscara lo prohíbe todo (una consulta sin ninguna clave visible) no
    tiene a quién atender: sus pesos son todos cero, en vez del NaN que daría la softmax
    de una fila de −∞. Así se comporta también ``F.scaled_dot_product_attention``.

    Parámetros:
        q: consultas.
        k: claves.
        mask: booleana, ``True`` = puede atender; difundible a (..., T_q, T_k).

    Devuelve:
        Los pesos; cada fila suma 1.

    Formas:
        q: (..., T_q, d_k); k: (..., T_k, d_k); salida: (..., T_q, T_k).
    """
    _check_qkv(q, k)
    d_k = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)  # (..., T_q, T_k)
    if mask is not None:
        check_mask(mask, scores.shape)
        scores = scores.masked_fill(~mask, float("-inf"))  # e^(−∞) = 0: peso exactamente nulo
    weights = torch.softmax(scores, dim=-1)  # cada fila suma 1 sobre las claves
    if mask is not None:
        weights = weights.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)  # filas sin claves
    return weights


def scaled_dot_product_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
) -> torch.Tensor:
    """Atención por producto escalado, escrita tal como la fórmula: softmax(Q·Kᵀ/√d_k)·V.

    Es la versión explícita, para leer línea a línea; ``MultiHeadAttention`` usa la
    versión fusionada de PyTorch cuando no le pides los pesos, y los tests comprueban
    que ambas coinciden.

    Parámetros:
        q: consultas.
        k: claves.
        v: valores.
        mask: booleana, ``True`` = puede atender; difundible a (..., T_q, T_k).
        dropout_p: probabilidad de dropout sobre los pesos (solo tiene efecto si es > 0).
        is_causal: equivale a pasar ``causal_mask(T)`` (no se combina con ``mask``).

    Devuelve:
        La mezcla de valores ponderada por la atención.

    Formas (capítulo 1):
        q: (..., T_q, d_k); k: (..., T_k, d_k); v: (..., T_k, d_v); salida: (..., T_q, d_v).
    """
    _check_qkv(q, k, v)
    check_dropout(dropout_p, "dropout_p")
    if is_causal:
        if mask is not None:
            raise ValueError("Pasa mask o is_causal=True, no ambos a la vez.")
        # Alineada arriba a la izquierda, como en PyTorch: la consulta i ve las claves j <= i.
        mask = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool, device=q.device).tril()
    weights = attention_weights(q, k, mask)  # (..., T_q, T_k)
    if dropout_p > 0.0:
        weights = F.dropout(weights, p=dropout_p)
    return weights @ v  # (..., T_q, T_k) @ (..., T_k, d_v) -> (..., T_q, d_v)
