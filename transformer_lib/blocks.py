"""Bloques Transformer (capítulos 6 y 7): el bloque encoder y el bloque decoder.

Cada subcapa (atención o FFN) va envuelta en una :class:`SublayerConnection`, que
aplica la conexión residual y la LayerNorm en el orden que pida ``norm_first``.
"""

from __future__ import annotations

import torch
from torch import nn

from .feedforward import FeedForward
from .multihead import MultiHeadAttention
from .normalization import SublayerConnection


class EncoderBlock(nn.Module):
    """Bloque encoder: autoatención multi-cabeza → Add & Norm → FFN → Add & Norm.

    Parámetros:
        d_model: dimensión del modelo.
        n_heads: número de cabezas.
        d_ff: dimensión interna de la FFN.
        dropout: dropout de atención, de la FFN y de las conexiones residuales.
        norm_first: False = Post-LN (artículo original); True = Pre-LN.
        activation: activación de la FFN ("relu", "gelu", "gelu_tanh").
        bias: si las capas lineales llevan sesgo.

    Formas (capítulo 6):
        x: (B, T, d_model); mask: booleana difundible a (B, h, T, T); salida: (B, T, d_model).
    """

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.1,
                 norm_first: bool = False, activation: str = "relu", bias: bool = True):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout, bias)
        self.ff = FeedForward(d_model, d_ff, activation, dropout, bias)
        self.res_attn = SublayerConnection(d_model, dropout, norm_first)
        self.res_ff = SublayerConnection(d_model, dropout, norm_first)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Aplica el bloque; ``mask`` (``True`` = puede atender) limita la autoatención.

        Formas:
            x: (B, T, d_model); mask: difundible a (B, h, T, T); salida: (B, T, d_model).
        """
        x = self.res_attn(x, lambda y: self.self_attn(y, y, y, mask=mask))  # pasos 1 y 2
        return self.res_ff(x, self.ff)  # pasos 3 y 4


class DecoderBlock(nn.Module):
    """Bloque decoder: autoatención enmascarada → atención cruzada → FFN, cada una con Add & Norm.

    La atención cruzada toma las consultas del decoder y las claves y valores de la
    salida del encoder (``memory``). Un modelo solo-decoder (GPT) construye el bloque con
    ``cross_attention=False``: así no lleva parámetros que nunca usaría.

    Parámetros:
        d_model, n_heads, d_ff, dropout, norm_first, activation, bias: como en
            :class:`EncoderBlock`.
        cross_attention: si el bloque tiene la subcapa de atención cruzada.

    Formas (capítulos 6, 7 y 8):
        x: (B, T, d_model); memory: (B, S, d_model);
        self_mask: difundible a (B, h, T, T); memory_mask: difundible a (B, h, T, S);
        salida: (B, T, d_model).
    """

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.1,
                 norm_first: bool = False, activation: str = "relu", bias: bool = True,
                 cross_attention: bool = True):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout, bias)
        self.res_self = SublayerConnection(d_model, dropout, norm_first)
        self.cross_attn = MultiHeadAttention(d_model, n_heads, dropout, bias) if cross_attention else None
        self.res_cross = SublayerConnection(d_model, dropout, norm_first) if cross_attention else None
        self.ff = FeedForward(d_model, d_ff, activation, dropout, bias)
        self.res_ff = SublayerConnection(d_model, dropout, norm_first)

    def forward(
        self,
        x: torch.Tensor,
        memory: torch.Tensor | None = None,
        self_mask: torch.Tensor | None = None,
        memory_mask: torch.Tensor | None = None,
        is_causal: bool = False,
    ) -> torch.Tensor:
        """Aplica el bloque; sin ``memory`` se salta la atención cruzada.

        ``is_causal=True`` equivale a ``self_mask=causal_mask(T)``, con el núcleo causal rápido.

        Formas:
            x: (B, T, d_model); memory: (B, S, d_model) o None;
            self_mask: difundible a (B, h, T, T); memory_mask: difundible a (B, h, T, S);
            salida: (B, T, d_model).
        """
        x = self.res_self(x, lambda y: self.self_attn(y, y, y, mask=self_mask, is_causal=is_causal))
        if memory is not None:
            if self.cross_attn is None:
                raise ValueError(
                    "Este DecoderBlock se creó con cross_attention=False y no puede atender a "
                    "memory; créalo con cross_attention=True."
                )
            x = self.res_cross(x, lambda y: self.cross_attn(y, memory, memory, mask=memory_mask))
        return self.res_ff(x, self.ff)
