"""Bloques Transformer (capítulos 6 y 7): el bloque encoder y el bloque decoder.

Cada subcapa (atención o FFN) va envuelta en una :class:`SublayerConnection`, que
aplica la conexión residual y la normalización en el orden que pida ``norm_first``.

Las piezas de los modelos actuales (capítulo 11) se eligen por nombre: ``norm="rmsnorm"``,
``ffn="swiglu"``, ``n_kv_heads`` (atención de consultas agrupadas) y ``rope_theta`` (RoPE
en la autoatención). Los valores por defecto dan el bloque de siempre.
"""

from __future__ import annotations

import torch
from torch import nn

from .feedforward import make_feedforward
from .multihead import LayerKVCache, MultiHeadAttention
from .normalization import SublayerConnection


class EncoderBlock(nn.Module):
    """Bloque encoder: autoatención multicabeza → Add & Norm → FFN → Add & Norm.

    Parámetros:
        d_model: dimensión del modelo.
        n_heads: número de cabezas.
        d_ff: dimensión interna de la FFN.
        dropout: dropout de atención, de la FFN y de las conexiones residuales.
        norm_first: False = Post-LN (artículo original); True = Pre-LN.
        activation: activación de la FFN ("relu", "gelu", "gelu_tanh"); no la usa SwiGLU.
        bias: si las capas lineales llevan sesgo.
        norm: ``"layernorm"`` o ``"rmsnorm"``; norm_eps: su ε.
        ffn: ``"mlp"`` (:class:`~transformer_lib.feedforward.FeedForward`) o ``"swiglu"``.
        n_kv_heads: cabezas de claves y valores de la autoatención (None = n_heads).
        rope_theta: base de RoPE en la autoatención (None = sin RoPE).

    Formas (capítulo 6):
        x: (B, T, d_model); mask: booleana difundible a (B, h, T, T); salida: (B, T, d_model).
    """

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.1,
                 norm_first: bool = False, activation: str = "relu", bias: bool = True, *,
                 norm: str = "layernorm", norm_eps: float = 1e-5, ffn: str = "mlp",
                 n_kv_heads: int | None = None, rope_theta: float | None = None):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout, bias, n_kv_heads, rope_theta)
        self.ff = make_feedforward(ffn, d_model, d_ff, activation, dropout, bias)
        self.res_attn = SublayerConnection(d_model, dropout, norm_first, norm_eps, norm)
        self.res_ff = SublayerConnection(d_model, dropout, norm_first, norm_eps, norm)

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
    salida del encoder (``memory``). Un modelo solo decoder (GPT) construye el bloque con
    ``cross_attention=False``: así no lleva parámetros que nunca usaría.

    Parámetros:
        d_model, n_heads, d_ff, dropout, norm_first, activation, bias, norm, norm_eps, ffn,
            n_kv_heads, rope_theta: como en :class:`EncoderBlock` (``n_kv_heads`` y
            ``rope_theta`` solo afectan a la autoatención).
        cross_attention: si el bloque tiene la subcapa de atención cruzada.

    Formas (capítulos 6, 7 y 8):
        x: (B, T, d_model); memory: (B, S, d_model);
        self_mask: difundible a (B, h, T, T); memory_mask: difundible a (B, h, T, S);
        salida: (B, T, d_model).
    """

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float = 0.1,
                 norm_first: bool = False, activation: str = "relu", bias: bool = True,
                 cross_attention: bool = True, *, norm: str = "layernorm", norm_eps: float = 1e-5,
                 ffn: str = "mlp", n_kv_heads: int | None = None, rope_theta: float | None = None):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, n_heads, dropout, bias, n_kv_heads, rope_theta)
        self.res_self = SublayerConnection(d_model, dropout, norm_first, norm_eps, norm)
        self.cross_attn = MultiHeadAttention(d_model, n_heads, dropout, bias) if cross_attention else None
        self.res_cross = SublayerConnection(d_model, dropout, norm_first, norm_eps, norm) if cross_attention else None
        self.ff = make_feedforward(ffn, d_model, d_ff, activation, dropout, bias)
        self.res_ff = SublayerConnection(d_model, dropout, norm_first, norm_eps, norm)

    def forward(
        self,
        x: torch.Tensor,
        memory: torch.Tensor | None = None,
        self_mask: torch.Tensor | None = None,
        memory_mask: torch.Tensor | None = None,
        is_causal: bool = False,
        cache: LayerKVCache | None = None,
    ) -> torch.Tensor:
        """Aplica el bloque; sin ``memory`` se salta la atención cruzada.

        ``is_causal=True`` equivale a ``self_mask=causal_mask(T)``, con el núcleo causal rápido.
        Con ``cache`` (la :class:`~transformer_lib.multihead.LayerKVCache` de este bloque),
        ``x`` son solo los tokens nuevos y la autoatención usa también las claves guardadas.

        Formas:
            x: (B, T, d_model); memory: (B, S, d_model) o None;
            self_mask: difundible a (B, h, T, T); memory_mask: difundible a (B, h, T, S);
            salida: (B, T, d_model).
        """
        x = self.res_self(x, lambda y: self.self_attn(y, y, y, mask=self_mask, is_causal=is_causal,
                                                      cache=cache))
        if memory is not None:
            if self.cross_attn is None:
                raise ValueError(
                    "Este DecoderBlock se creó con cross_attention=False y no puede atender a "
                    "memory; créalo con cross_attention=True."
                )
            x = self.res_cross(x, lambda y: self.cross_attn(y, memory, memory, mask=memory_mask))
        return self.res_ff(x, self.ff)
