"""Codificaciones posicionales (capítulo 1): sinusoidales (fijas) y aprendidas.

La atención trata su entrada como un conjunto; sumar a cada token un vector que
depende de su posición es lo que le permite distinguir "perro muerde a hombre" de
"hombre muerde a perro".
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
    def _check_length(self, x: torch.Tensor) -> int:
        T = x.shape[-2]
        if T > self.max_len:
            raise ValueError(
                f"La secuencia tiene {T} posiciones y la codificación posicional solo llega a "
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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Suma la posición a cada token.

        Formas:
            x: (B, T, d_model) con T <= max_len; salida: (B, T, d_model).
        """
        T = self._check_length(x)
        return x + self.embedding.weight[:T]  # (B, T, d_model) + (T, d_model)
