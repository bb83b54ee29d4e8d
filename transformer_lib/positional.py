"""Codificaciones posicionales: sinusoidales (fijas) y aprendidas (capítulo 1), y RoPE (capítulo 11).

La atención trata su entrada como un conjunto; sumar a cada token un vector que
depende de su posición es lo que le permite distinguir "perro muerde a hombre" de
"hombre muerde a perro".

RoPE no suma nada a los embeddings: :func:`apply_rope` gira las consultas y las claves
dentro de la atención (:class:`~transformer_lib.multihead.MultiHeadAttention` con
``rope_theta``), así que la puntuación entre dos tokens depende solo de su distancia.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def sinusoidal_encoding(max_len: int, d_model: int) -> torch.Tensor:
    """Tabla de codificaciones sinusoidales de Vaswani et al. (2017).

    PE[pos, 2i] = sin(pos / 10000^(2i/d_model)),  PE[pos, 2i+1] = cos(pos / 10000^(2i/d_model)).

    Formas (capítulo 1):
        salida: (max_len, d_model).
    """
    if d_model % 2 != 0:
        raise ValueError(f"La codificación sinusoidal necesita d_model par y recibió {d_model}.")
    pos = torch.arange(max_len, dtype=torch.float32)[:, None]  # (max_len, 1)
    freqs = torch.exp(-math.log(10000.0) * torch.arange(0, d_model, 2) / d_model)  # (d_model/2,)
    pe = torch.zeros(max_len, d_model)
    pe[:, 0::2] = torch.sin(pos * freqs)  # (max_len, d_model/2)
    pe[:, 1::2] = torch.cos(pos * freqs)
    return pe


class _PositionalEncoding(nn.Module):
    def _check_length(self, x: torch.Tensor, offset: int = 0) -> int:
        T = x.shape[-2]
        if offset + T > self.max_len:
            raise ValueError(
                f"La secuencia tiene {offset + T} posiciones y la codificación posicional solo llega a "
                f"max_len={self.max_len}."
            )
        return T


class SinusoidalPositionalEncoding(_PositionalEncoding):
    """Suma la codificación sinusoidal fija (sin parámetros) a los embeddings.

    Parámetros:
        d_model: dimensión del modelo (par).
        max_len: longitud máxima de secuencia.

    Formas (capítulo 1):
        x: (B, T, d_model); salida: (B, T, d_model).
    """

    def __init__(self, d_model: int, max_len: int = 5000):
        super().__init__()
        self.max_len = max_len
        self.register_buffer("pe", sinusoidal_encoding(max_len, d_model), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Suma la posición a cada token.

        Formas:
            x: (B, T, d_model) con T <= max_len; salida: (B, T, d_model).
        """
        T = self._check_length(x)
        return x + self.pe[:T].to(x.dtype)  # (B, T, d_model) + (T, d_model)


class LearnedPositionalEncoding(_PositionalEncoding):
    """Suma un embedding de posición aprendido (como GPT-2).

    Parámetros:
        d_model: dimensión del modelo.
        max_len: longitud máxima de secuencia (``block_size`` en GPT).

    Formas (capítulos 1 y 10):
        x: (B, T, d_model); salida: (B, T, d_model).
    """

    def __init__(self, d_model: int, max_len: int):
        super().__init__()
        self.max_len = max_len
        self.embedding = nn.Embedding(max_len, d_model)

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        """Suma la posición a cada token; ``offset`` es la posición del primero (caché KV).

        Formas:
            x: (B, T, d_model) con offset + T <= max_len; salida: (B, T, d_model).
        """
        T = self._check_length(x, offset)
        return x + self.embedding.weight[offset : offset + T]  # (B, T, d_model) + (T, d_model)


# ---------------------------------------------------------------------------------------
# Rotary position embeddings (RoPE, Su et al., 2021)
# ---------------------------------------------------------------------------------------


def check_rope(d_k: int, theta: float) -> None:
    """Comprueba que una cabeza de dimensión ``d_k`` se pueda rotar con base ``theta``."""
    if not isinstance(d_k, int) or d_k <= 0 or d_k % 2 != 0:
        raise ValueError(
            f"RoPE rota las componentes de cada cabeza por pares y necesita una dimensión por "
            f"cabeza d_k par; recibí d_k={d_k!r} (elige d_model y n_head con d_model / n_head par)."
        )
    if isinstance(theta, bool) or not isinstance(theta, (int, float)) or not theta > 1.0:
        raise ValueError(f"rope_theta debe ser un número mayor que 1 y es {theta!r}.")


def rope_frequencies(d_k: int, theta: float = 10000.0) -> torch.Tensor:
    """Frecuencias de RoPE: θ_i = theta^(−2i/d_k) para i = 0 … d_k/2 − 1, en float32.

    Formas (capítulo 11):
        salida: (d_k / 2,).
    """
    check_rope(d_k, theta)
    exponents = torch.arange(0, d_k, 2, dtype=torch.int64).float() / d_k  # 2i / d_k
    return 1.0 / (theta**exponents)


def rope_angles(positions: torch.Tensor, d_k: int, theta: float = 10000.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Cosenos y senos de los ángulos m·θ_i de cada posición m, repetidos para las dos mitades.

    Parámetros:
        positions: posiciones absolutas m de los tokens (enteros).
        d_k: dimensión de cada cabeza (par).
        theta: la base de las frecuencias (``rope_theta``).

    Devuelve:
        ``(cos, sin)`` en float32.

    Formas (capítulo 11):
        positions: (T,); cos, sin: (T, d_k), con la columna i igual a la i + d_k/2.
    """
    inv_freq = rope_frequencies(d_k, theta).to(positions.device)  # (d_k/2,)
    angles = positions.float()[:, None] * inv_freq[None, :]  # (T, 1) · (1, d_k/2) -> (T, d_k/2)
    angles = torch.cat([angles, angles], dim=-1)  # (T, d_k): cada ángulo, para sus dos componentes
    return angles.cos(), angles.sin()


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """(x₁, x₂) -> (−x₂, x₁) con x₁ y x₂ las dos mitades del último eje: el giro de 90°.

    Formas:
        x: (..., d_k); salida: (..., d_k).
    """
    x1, x2 = x.chunk(2, dim=-1)  # (..., d_k/2) cada una
    return torch.cat([-x2, x1], dim=-1)


def apply_rope(x: torch.Tensor, positions: torch.Tensor, theta: float = 10000.0) -> torch.Tensor:
    """Gira cada par de componentes (i, i + d_k/2) de ``x`` un ángulo m·θ_i (RoPE).

    Se aplica a las consultas y a las claves (nunca a los valores) dentro de la atención.
    Como un giro conserva el producto escalar salvo por el ángulo relativo,
    ``apply_rope(q, m)·apply_rope(k, n)`` depende solo de q, k y la distancia m − n: la
    puntuación ve posiciones *relativas* aunque cada token solo sepa la suya.

    Los pares son (i, i + d_k/2), como en Hugging Face y GPT-NeoX; el artículo empareja
    componentes vecinas (2i, 2i + 1). Las dos convenciones son la misma rotación con las
    columnas de W^Q y W^K permutadas.

    Parámetros:
        x: consultas o claves, ya partidas en cabezas.
        positions: posición absoluta de cada token.
        theta: la base de las frecuencias (10 000 en el artículo y en Llama 2).

    Devuelve:
        ``x`` girado, con su dtype.

    Formas (capítulo 11):
        x: (..., T, d_k) con d_k par; positions: (T,); salida: (..., T, d_k).
    """
    if positions.dim() != 1 or positions.shape[0] != x.shape[-2]:
        raise ValueError(
            f"positions debe tener forma (T,) con T={x.shape[-2]} (el penúltimo eje de x) y "
            f"tiene {tuple(positions.shape)}."
        )
    cos, sin = rope_angles(positions, x.shape[-1], theta)  # (T, d_k)
    cos, sin = cos.to(x.dtype), sin.to(x.dtype)
    return x * cos + rotate_half(x) * sin  # (..., T, d_k)
