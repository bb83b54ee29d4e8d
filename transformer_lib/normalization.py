"""Normalización de capa y conexión residual (capítulos 3, 4 y 11).

LayerNorm(x) = γ · (x − μ) / √(σ² + ε) + β, con μ y σ² calculadas sobre las d_model
componentes de cada token por separado.

RMSNorm(x) = γ · x / √(mean(x²) + ε) (Zhang y Sennrich, 2019) se salta la media y el
sesgo: la usan Llama, Qwen, Mistral y casi todos los modelos de hoy (capítulo 11).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ._checks import check_dropout


class _TokenNorm(nn.Module):
    """Lo común a :class:`LayerNorm` y :class:`RMSNorm`: la escala γ, elegir la ruta (núcleo
    de PyTorch o fórmula explícita), comprobar el ancho y describirse."""

    def __init__(self, d_model: int, eps: float, fused: bool):
        super().__init__()
        self.d_model, self.eps, self.fused = d_model, eps, fused
        self.weight = nn.Parameter(torch.ones(d_model))  # γ

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normaliza cada token.

        Formas:
            x: (..., d_model); salida: (..., d_model).
        """
        self._check_width(x)
        return self._fused(x) if self.fused else self._explicit(x)

    def _check_width(self, x: torch.Tensor) -> None:
        if x.shape[-1] != self.d_model:
            raise ValueError(
                f"{type(self).__name__}({self.d_model}) recibió un tensor de forma {tuple(x.shape)}: "
                f"el último eje debe medir {self.d_model}."
            )

    def extra_repr(self) -> str:
        return f"{self.d_model}, eps={self.eps}, fused={self.fused}"


class LayerNorm(_TokenNorm):
    """Normalización de capa (Ba et al., 2016), igual a ``nn.LayerNorm(d_model, eps)``.

    La fórmula está escrita paso a paso en :func:`layer_norm`. Con ``fused=True`` (por
    defecto) el módulo calcula esa misma fórmula con el kernel fusionado de PyTorch, que
    recorre la memoria menos veces: entrenando un GPT pequeño en CPU, la versión paso a
    paso hace el paso de entrenamiento un 8 % más lento. Los tests comprueban que las dos
    rutas coinciden.

    Parámetros:
        d_model: número de componentes que se normalizan (el último eje).
        eps: constante que evita dividir entre cero.
        fused: True = núcleo de PyTorch; False = la fórmula explícita de :func:`layer_norm`.

    Formas (capítulo 4):
        x: (..., d_model); salida: (..., d_model).
    """

    def __init__(self, d_model: int, eps: float = 1e-5, fused: bool = True):
        super().__init__(d_model, eps, fused)
        self.bias = nn.Parameter(torch.zeros(d_model))  # β

    def _fused(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, (self.d_model,), self.weight, self.bias, self.eps)

    def _explicit(self, x: torch.Tensor) -> torch.Tensor:
        return layer_norm(x, self.weight, self.bias, self.eps)


def layer_norm(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5
) -> torch.Tensor:
    """LayerNorm escrita paso a paso: media, varianza, normalizar, escalar y desplazar.

    Formas (capítulo 4):
        x: (..., d); weight, bias: (d,); salida: (..., d).
    """
    mean = x.mean(dim=-1, keepdim=True)  # μ: (..., 1)
    var = x.var(dim=-1, keepdim=True, unbiased=False)  # σ² (varianza poblacional): (..., 1)
    x_hat = (x - mean) / torch.sqrt(var + eps)  # media 0, varianza 1 por token
    return weight * x_hat + bias  # γ·x̂ + β


class RMSNorm(_TokenNorm):
    """Normalización por la raíz de la media de los cuadrados (Zhang y Sennrich, 2019).

    A diferencia de :class:`LayerNorm`, no resta la media ni suma un sesgo β: solo divide
    cada token entre su norma RMS y lo escala por γ. Es una reducción menos por token y
    d_model parámetros menos por normalización. La fórmula está paso a paso en
    :func:`rms_norm`; con ``fused=True`` se usa ``F.rms_norm`` de PyTorch.

    Parámetros:
        d_model: número de componentes que se normalizan (el último eje).
        eps: constante que evita dividir entre cero (Llama usa 1e-5 o 1e-6).
        fused: True = núcleo de PyTorch; False = la fórmula explícita de :func:`rms_norm`.

    Formas (capítulo 11):
        x: (..., d_model); salida: (..., d_model).
    """

    def __init__(self, d_model: int, eps: float = 1e-5, fused: bool = True):
        super().__init__(d_model, eps, fused)

    def _fused(self, x: torch.Tensor) -> torch.Tensor:
        return F.rms_norm(x, (self.d_model,), self.weight, self.eps)

    def _explicit(self, x: torch.Tensor) -> torch.Tensor:
        return rms_norm(x, self.weight, self.eps)


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """RMSNorm escrita paso a paso: media de los cuadrados, dividir por su raíz, escalar.

    Formas (capítulo 11):
        x: (..., d); weight: (d,); salida: (..., d).
    """
    mean_square = x.pow(2).mean(dim=-1, keepdim=True)  # mean(x²): (..., 1)
    return weight * (x * torch.rsqrt(mean_square + eps))  # γ · x / RMS(x)


NORMS = ("layernorm", "rmsnorm")
#: Sin normalización: ``make_norm(NO_NORM, ...)`` es ``nn.Identity()`` (el control del capítulo 4,
#: que entrena pilas profundas con y sin LayerNorm). No está en :data:`NORMS` porque no es una
#: receta de modelo que ofrezca la orden ``train``.
NO_NORM = "none"


def make_norm(kind: str, d_model: int, eps: float = 1e-5) -> LayerNorm | RMSNorm | nn.Identity:
    """La normalización por nombre: ``"layernorm"`` (:class:`LayerNorm`), ``"rmsnorm"``
    (:class:`RMSNorm`) o :data:`NO_NORM` (``nn.Identity``, sin parámetros).

    Formas:
        la del módulo devuelto: (..., d_model) -> (..., d_model).
    """
    if kind == "layernorm":
        return LayerNorm(d_model, eps)
    if kind == "rmsnorm":
        return RMSNorm(d_model, eps)
    if kind == NO_NORM:
        return nn.Identity()
    raise ValueError(f"Normalización desconocida {kind!r}: usa una de {', '.join(map(repr, (*NORMS, NO_NORM)))}.")


class SublayerConnection(nn.Module):
    """Conexión residual más normalización alrededor de una subcapa (capítulos 3, 4 y 6).

    - Post-LN (``norm_first=False``, el artículo original y las diapositivas, "Add + LayerNorm"):
      ``LayerNorm(x + Dropout(Subcapa(x)))``.
    - Pre-LN (``norm_first=True``, GPT-2 y casi todos los modelos grandes):
      ``x + Dropout(Subcapa(LayerNorm(x)))``; el camino x → salida queda libre de normalización.

    Parámetros:
        d_model: dimensión del modelo.
        dropout: dropout aplicado a la salida de la subcapa antes de sumarla.
        norm_first: True para Pre-LN, False para Post-LN.
        eps: el ε de la normalización.
        norm: ``"layernorm"`` (por defecto) o ``"rmsnorm"``.

    Formas:
        x: (B, T, d_model); la subcapa debe devolver (B, T, d_model); salida: (B, T, d_model).
    """

    def __init__(self, d_model: int, dropout: float = 0.0, norm_first: bool = False, eps: float = 1e-5,
                 norm: str = "layernorm"):
        super().__init__()
        check_dropout(dropout)
        self.norm_first = norm_first
        self.norm = make_norm(norm, d_model, eps)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, sublayer: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
        """Aplica ``sublayer`` con su conexión residual y su LayerNorm.

        Formas:
            x: (B, T, d_model); salida: (B, T, d_model).
        """
        if self.norm_first:
            return x + self.dropout(sublayer(self.norm(x)))  # Pre-LN
        return self.norm(x + self.dropout(sublayer(x)))  # Post-LN: Add + LayerNorm

    def extra_repr(self) -> str:
        return "Pre-LN" if self.norm_first else "Post-LN"
