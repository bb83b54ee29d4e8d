"""Atención multicabeza (capítulo 2), con atención de consultas agrupadas, RoPE y caché KV (capítulo 11).

head_i = Attention(Q·W_i^Q, K·W_i^K, V·W_i^V);  MHA(Q, K, V) = Concat(head_1, …, head_h)·W^O.

Las h matrices W_i^Q de tamaño d_model × d_k se guardan juntas en una sola capa lineal
``w_q`` de d_model × d_model (lo mismo para K y V): partir su salida en h trozos de
d_k columnas es exactamente aplicar cada W_i^Q por separado.

Con ``n_kv_heads < n_heads`` (atención de consultas agrupadas, GQA; Ainslie et al., 2023)
hay menos cabezas de claves y valores que de consultas: cada grupo de n_heads / n_kv_heads
consultas comparte una cabeza de K y V. Con ``n_kv_heads = 1`` es la atención multiconsulta
(MQA; Shazeer, 2019). Lo que se ahorra es sobre todo memoria de la caché KV
(:class:`KVCache`) al generar.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._checks import check_dropout, check_heads, check_mask
from .attention import attention_weights
from .positional import apply_rope, check_rope


def check_kv_heads(n_heads: int, n_kv_heads: int) -> None:
    """Comprueba que las ``n_heads`` consultas se repartan en grupos iguales entre ``n_kv_heads``."""
    if isinstance(n_kv_heads, bool) or not isinstance(n_kv_heads, int) or n_kv_heads <= 0:
        raise ValueError(f"n_kv_heads debe ser un entero positivo (o None = n_heads) y es {n_kv_heads!r}.")
    if n_heads % n_kv_heads != 0:
        raise ValueError(
            f"n_heads={n_heads} no es divisible entre n_kv_heads={n_kv_heads}: cada cabeza de "
            f"claves y valores atiende a un grupo de n_heads / n_kv_heads consultas (prueba "
            f"n_kv_heads entre los divisores de {n_heads})."
        )


class LayerKVCache:
    """Claves y valores ya calculados de una capa de atención, para generar sin recalcularlos.

    Guarda como mucho ``max_len`` posiciones en tensores reservados al llegar el primer
    token (con las cabezas de K y V: n_kv_heads, no n_heads).

    Atributos:
        length: posiciones guardadas; también la posición absoluta del siguiente token.

    Formas (capítulo 11):
        keys: (B, n_kv_heads, max_len, d_k); values: (B, n_kv_heads, max_len, d_v).
    """

    def __init__(self, max_len: int):
        if isinstance(max_len, bool) or not isinstance(max_len, int) or max_len <= 0:
            raise ValueError(f"max_len de la caché KV debe ser un entero positivo y es {max_len!r}.")
        self.max_len, self.length = max_len, 0
        self.keys: torch.Tensor | None = None
        self.values: torch.Tensor | None = None

    def update(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Añade las claves y valores de los tokens nuevos y devuelve todos los guardados.

        Formas:
            k: (B, n_kv, T, d_k); v: (B, n_kv, T, d_v);
            salida: (B, n_kv, length, d_k) y (B, n_kv, length, d_v), con length <= max_len.
        """
        T = k.shape[-2]
        if self.length + T > self.max_len:
            raise ValueError(
                f"La caché KV guarda como mucho max_len={self.max_len} posiciones y ya tiene "
                f"{self.length}: no caben {T} más."
            )
        if self.keys is None:
            self.keys = k.new_zeros(*k.shape[:2], self.max_len, k.shape[-1])  # (B, n_kv, max_len, d_k)
            self.values = v.new_zeros(*v.shape[:2], self.max_len, v.shape[-1])
        self.keys[:, :, self.length : self.length + T] = k
        self.values[:, :, self.length : self.length + T] = v
        self.length += T
        return self.keys[:, :, : self.length], self.values[:, :, : self.length]

    def memory_bytes(self) -> int:
        """Bytes reservados por las claves y los valores (0 antes del primer token)."""
        if self.keys is None:
            return 0
        return sum(t.numel() * t.element_size() for t in (self.keys, self.values))


class KVCache:
    """La caché KV de un modelo: una :class:`LayerKVCache` por capa (ver ``GPT.generate``).

    Parámetros:
        n_layer: número de capas de atención.
        max_len: posiciones que guarda cada capa (``block_size`` en GPT).

    Formas (capítulo 11):
        cada capa guarda keys y values de (B, n_kv_heads, max_len, d_k): en total
        2 · n_layer · B · n_kv_heads · max_len · d_k valores.
    """

    def __init__(self, n_layer: int, max_len: int):
        self.layers = [LayerKVCache(max_len) for _ in range(n_layer)]

    def __getitem__(self, i: int) -> LayerKVCache:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    @property
    def length(self) -> int:
        """Posiciones guardadas (las mismas en todas las capas): la del siguiente token."""
        return self.layers[0].length

    def memory_bytes(self) -> int:
        """Bytes reservados por las claves y los valores de todas las capas."""
        return sum(layer.memory_bytes() for layer in self.layers)


class MultiHeadAttention(nn.Module):
    """Atención multicabeza con proyecciones W^Q, W^K, W^V y W^O.

    Sin pesos (``need_weights=False``) usa ``F.scaled_dot_product_attention`` de PyTorch
    (ruta rápida, kernels fusionados); con pesos, la fórmula explícita de
    :func:`transformer_lib.attention.attention_weights`. Ambas rutas dan lo mismo, también
    con GQA, RoPE y caché.

    Parámetros:
        d_model: dimensión del modelo; se reparte en ``n_heads`` cabezas de d_k = d_model / h.
        n_heads: número de cabezas h (de consultas).
        dropout: dropout sobre los pesos de atención (solo en entrenamiento).
        bias: si las proyecciones llevan sesgo.
        n_kv_heads: cabezas de claves y valores (None = n_heads; 1 = multiconsulta); debe
            dividir a ``n_heads``. W^K y W^V miden d_model × n_kv_heads·d_k.
        rope_theta: si no es None, gira q y k con RoPE de esa base
            (:func:`~transformer_lib.positional.apply_rope`); necesita d_k par.

    Formas (capítulos 2 y 11):
        query: (B, T_q, d_model); key, value: (B, T_k, d_model);
        mask: booleana difundible a (B, h, T_q, T_k);
        salida: (B, T_q, d_model); pesos: (B, h, T_q, T_k).
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0, bias: bool = True,
                 n_kv_heads: int | None = None, rope_theta: float | None = None):
        super().__init__()
        check_heads(d_model, n_heads)
        check_dropout(dropout)
        n_kv_heads = n_heads if n_kv_heads is None else n_kv_heads
        check_kv_heads(n_heads, n_kv_heads)
        self.d_model, self.n_heads, self.d_k = d_model, n_heads, d_model // n_heads
        if rope_theta is not None:
            check_rope(self.d_k, rope_theta)
        self.n_kv_heads, self.d_kv = n_kv_heads, n_kv_heads * self.d_k
        self.rope_theta = None if rope_theta is None else float(rope_theta)
        self.dropout = float(dropout)
        self.w_q = nn.Linear(d_model, d_model, bias=bias)
        self.w_k = nn.Linear(d_model, self.d_kv, bias=bias)
        self.w_v = nn.Linear(d_model, self.d_kv, bias=bias)
        self.w_o = nn.Linear(d_model, d_model, bias=bias)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        mask: torch.Tensor | None = None,
        need_weights: bool = False,
        is_causal: bool = False,
        cache: LayerKVCache | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Aplica la atención multicabeza.

        ``is_causal=True`` equivale a ``mask=causal_mask(T)`` pero deja a PyTorch usar
        su núcleo causal, más rápido. Con ``cache`` (solo autoatención causal) las claves y
        valores de los tokens nuevos se añaden a los guardados y cada consulta atiende a
        todos los anteriores: ``query`` son solo los tokens nuevos.

        Parámetros:
            query, key, value: consultas, claves y valores antes de proyectar.
            mask: booleana, ``True`` = puede atender.
            need_weights: si además devuelve los pesos de atención de cada cabeza.
            is_causal: máscara causal implícita (no se combina con ``mask``).
            cache: la :class:`LayerKVCache` de esta capa, o None.

        Devuelve:
            La salida, o la tupla (salida, pesos) si ``need_weights=True``.

        Formas:
            query: (B, T_q, d_model); key, value: (B, T_k, d_model);
            mask: difundible a (B, h, T_q, T_k); salida: (B, T_q, d_model);
            pesos: (B, h, T_q, T_k), con T_k = las posiciones guardadas si hay caché.
        """
        self._check_inputs(query, key, value, mask, is_causal, cache)
        q, k, v = self._project(query, key, value)  # (B, T, d_model), 2 × (B, T, n_kv·d_k)
        q = self.split_heads(q)  # (B, T_q, d_model) -> (B, h, T_q, d_k)
        k, v = self.split_heads(k, self.n_kv_heads), self.split_heads(v, self.n_kv_heads)  # (B, h_kv, T_k, d_k)
        start = 0 if cache is None else cache.length
        if self.rope_theta is not None:
            q, k = self._rotate(q, start), self._rotate(k, start)  # giran; las formas no cambian
        if cache is not None:
            k, v = cache.update(k, v)  # (B, h_kv, start + T_q, d_k): las de antes y las nuevas
            mask, is_causal = self._cache_mask(q.shape[-2], start, q.device), start == 0 and is_causal
        out, weights = self._attend(q, k, v, mask, is_causal, need_weights)  # (B, h, T_q, d_k)
        out = self.w_o(self.merge_heads(out))  # (B, h, T_q, d_k) -> (B, T_q, d_model)
        return (out, weights) if need_weights else out

    def split_heads(self, x: torch.Tensor, n_heads: int | None = None) -> torch.Tensor:
        """Parte el último eje en cabezas: (B, T, n·d_k) -> (B, n, T, d_k), con n = n_heads por defecto."""
        B, T, _ = x.shape
        n = self.n_heads if n_heads is None else n_heads
        return x.view(B, T, n, self.d_k).transpose(1, 2)  # (B, n, T, d_k)

    def merge_heads(self, x: torch.Tensor) -> torch.Tensor:
        """Concatena las cabezas: (B, h, T, d_k) -> (B, T, d_model)."""
        B, _, T, _ = x.shape
        return x.transpose(1, 2).reshape(B, T, self.d_model)  # (B, T, h·d_k)

    def _project(self, query, key, value):
        if query is key and key is value:
            # Autoatención: las tres proyecciones en una sola multiplicación de matrices.
            w = torch.cat([self.w_q.weight, self.w_k.weight, self.w_v.weight])  # (d_model + 2·d_kv, d_model)
            b = None
            if self.w_q.bias is not None:
                b = torch.cat([self.w_q.bias, self.w_k.bias, self.w_v.bias])
            return F.linear(query, w, b).split([self.d_model, self.d_kv, self.d_kv], dim=-1)
        return self.w_q(query), self.w_k(key), self.w_v(value)

    def _rotate(self, x: torch.Tensor, start: int) -> torch.Tensor:
        positions = torch.arange(start, start + x.shape[-2], device=x.device)  # (T,)
        return apply_rope(x, positions, self.rope_theta)  # (B, n, T, d_k)

    @staticmethod
    def _cache_mask(T_q: int, past: int, device) -> torch.Tensor | None:
        """Con caché, la consulta i (posición past + i) ve las claves j <= past + i."""
        if T_q == 1 or past == 0:
            return None  # un solo token lo ve todo; sin pasado basta is_causal
        return torch.ones(T_q, past + T_q, dtype=torch.bool, device=device).tril(diagonal=past)

    def _attend(self, q, k, v, mask, is_causal, need_weights):
        """softmax(Q·Kᵀ/√d_k)·V por cabeza; con GQA, cada grupo de consultas usa su cabeza de K y V."""
        p = self.dropout if self.training else 0.0
        groups = self.n_heads // self.n_kv_heads
        if need_weights:
            k, v = k.repeat_interleave(groups, dim=1), v.repeat_interleave(groups, dim=1)  # (B, h, T_k, d_k)
            if is_causal:
                mask = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool, device=q.device).tril()
            weights = attention_weights(q, k, mask)  # (B, h, T_q, T_k)
            return F.dropout(weights, p) @ v, weights  # (B, h, T_q, d_k)
        gqa = {"enable_gqa": True} if groups > 1 else {}
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p, is_causal=is_causal, **gqa)
        return out, None

    def _check_inputs(self, query, key, value, mask, is_causal, cache) -> None:
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
        if cache is not None and (mask is not None or not (query is key and key is value)):
            raise ValueError(
                "La caché KV solo sirve para la autoatención causal: pasa la misma x como query, "
                "key y value, con is_causal=True y sin mask."
            )
        if mask is not None:
            if is_causal:
                raise ValueError("Pasa mask o is_causal=True, no ambos a la vez.")
            check_mask(mask, (query.shape[0], self.n_heads, query.shape[1], key.shape[1]))

    def extra_repr(self) -> str:
        extra = f", n_kv_heads={self.n_kv_heads}" if self.n_kv_heads != self.n_heads else ""
        extra += f", rope_theta={self.rope_theta:g}" if self.rope_theta is not None else ""
        return f"d_model={self.d_model}, n_heads={self.n_heads}, d_k={self.d_k}, dropout={self.dropout}{extra}"
