"""Atención multi-cabeza (capítulo 2).

head_i = Attention(Q·W_i^Q, K·W_i^K, V·W_i^V);  MHA(Q, K, V) = Concat(head_1, …, head_h)·W^O.

Las h matrices W_i^Q de tamaño d_model × d_k se guardan juntas en una sola capa lineal
``w_q`` de d_model × d_model (lo mismo para K y V): partir su salida en h trozos de
d_k columnas es exactamente aplicar cada W_i^Q por separado.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._checks import check_dropout, check_heads, check_mask
from .attention import attention_weights


class MultiHeadAttention(nn.Module):
    """Atención multi-cabeza con proyecciones W^Q, W^K, W^V y W^O.

    Sin pesos (``need_weights=False``) usa ``F.scaled_dot_product_attention`` de PyTorch
    (ruta rápida, núcleos fusionados); con pesos, la fórmula explícita de
    :func:`transformer_lib.attention.attention_weights`. Ambas rutas dan lo mismo.

    Parámetros:
        d_model: dimensión del modelo; se reparte en ``n_heads`` cabezas de d_k = d_model / h.
        n_heads: número de cabezas h.
        dropout: dropout sobre los pesos de atención (solo en entrenamiento).
        bias: si las proyecciones llevan sesgo.

    Formas (capítulo 2):
        query: (B, T_q, d_model); key, value: (B, T_k, d_model);
        mask: booleana difundible a (B, h, T_q, T_k);
        salida: (B, T_q, d_model); pesos: (B, h, T_q, T_k).
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        check_heads(d_model, n_heads)
        check_dropout(dropout)
        self.d_model, self.n_heads, self.d_k = d_model, n_heads, d_model // n_heads
        self.dropout = float(dropout)
        self.w_q = nn.Linear(d_model, d_model, bias=bias)
        self.w_k = nn.Linear(d_model, d_model, bias=bias)
        self.w_v = nn.Linear(d_model, d_model, bias=bias)
        self.w_o = nn.Linear(d_model, d_model, bias=bias)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        mask: torch.Tensor | None = None,
        need_weights: bool = False,
        is_causal: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Aplica la atención multi-cabeza.

        ``is_causal=True`` equivale a ``mask=causal_mask(T)`` pero deja a PyTorch usar
        su núcleo causal, más rápido.

        Parámetros:
            query, key, value: consultas, claves y valores antes de proyectar.
            mask: booleana, ``True`` = puede atender.
            need_weights: si además devuelve los pesos de atención de cada cabeza.
            is_causal: máscara causal implícita (no se combina con ``mask``).

        Devuelve:
            La salida, o la tupla (salida, pesos) si ``need_weights=True``.

        Formas:
            query: (B, T_q, d_model); key, value: (B, T_k, d_model);
            mask: difundible a (B, h, T_q, T_k); salida: (B, T_q, d_model);
            pesos: (B, h, T_q, T_k).
        """
        self._check_inputs(query, key, value, mask, is_causal)
        q, k, v = self._project(query, key, value)  # 3 × (B, T, d_model)
        q, k, v = self.split_heads(q), self.split_heads(k), self.split_heads(v)  # (B, h, T, d_k)
        p = self.dropout if self.training else 0.0
        if need_weights:
            if is_causal:
                mask = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool, device=q.device).tril()
            weights = attention_weights(q, k, mask)  # (B, h, T_q, T_k)
            out = F.dropout(weights, p) @ v  # (B, h, T_q, d_k)
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p, is_causal=is_causal)
        out = self.w_o(self.merge_heads(out))  # (B, h, T_q, d_k) -> (B, T_q, d_model)
        return (out, weights) if need_weights else out

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """Parte el último eje en h cabezas: (B, T, d_model) -> (B, h, T, d_k)."""
        B, T, _ = x.shape
        return x.view(B, T, self.n_heads, self.d_k).transpose(1, 2)  # (B, h, T, d_k)

    def merge_heads(self, x: torch.Tensor) -> torch.Tensor:
        """Concatena las cabezas: (B, h, T, d_k) -> (B, T, d_model)."""
        B, _, T, _ = x.shape
        return x.transpose(1, 2).reshape(B, T, self.d_model)  # (B, T, h·d_k)

    def _project(self, query, key, value):
        if query is key and key is value:
            # Autoatención: las tres proyecciones en una sola multiplicación de matrices.
            w = torch.cat([self.w_q.weight, self.w_k.weight, self.w_v.weight])  # (3·d_model, d_model)
            b = None
            if self.w_q.bias is not None:
                b = torch.cat([self.w_q.bias, self.w_k.bias, self.w_v.bias])
            return F.linear(query, w, b).chunk(3, dim=-1)  # 3 × (B, T, d_model)
        return self.w_q(query), self.w_k(key), self.w_v(value)

    def _check_inputs(self, query, key, value, mask, is_causal) -> None:
        for name, t in (("query", query), ("key", key), ("value", value)):
            if t.dim() != 3 or t.shape[-1] != self.d_model:
                raise ValueError(
                    f"{name} debe tener forma (B, T, d_model={self.d_model}) y tiene "
                    f"{tuple(t.shape)}."
                )
        if key.shape[:2] != value.shape[:2]:
            raise ValueError(
                f"key y value deben compartir (B, T_k): key {tuple(key.shape)}, value {tuple(value.shape)}."
            )
        if query.shape[0] != key.shape[0]:
            raise ValueError(
                f"query y key deben tener el mismo tamaño de lote B: {query.shape[0]} y {key.shape[0]}."
            )
        if mask is not None:
            if is_causal:
                raise ValueError("Pasa mask o is_causal=True, no ambos a la vez.")
            check_mask(mask, (query.shape[0], self.n_heads, query.shape[1], key.shape[1]))

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, n_heads={self.n_heads}, d_k={self.d_k}, dropout={self.dropout}"
