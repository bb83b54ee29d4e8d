"""Redes feed-forward por posición.

- :class:`FeedForward` (capítulo 5): FFN(x) = W_2 · act(W_1 · x + b_1) + b_2.
- :class:`SwiGLU` (capítulo 11, Shazeer 2020): FFN(x) = W_2 · (SiLU(W·x) ⊙ V·x), la de Llama.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._checks import check_activation, check_dropout


def activation_fn(name: str):
    """Devuelve la función de activación por nombre: "relu", "gelu" o "gelu_tanh".

    Formas (capítulo 5):
        la función devuelta actúa elemento a elemento: (...) -> (...).
    """
    check_activation(name)
    if name == "relu":
        return F.relu
    if name == "gelu":
        return F.gelu
    return lambda x: F.gelu(x, approximate="tanh")


class FeedForward(nn.Module):
    """MLP de dos capas aplicada a cada token por separado.

    La misma matriz W_1 (d_model → d_ff) y W_2 (d_ff → d_model) se aplica a todas las
    posiciones: no mezcla información entre tokens (eso lo hace la atención).

    Parámetros:
        d_model: dimensión del modelo.
        d_ff: dimensión interna (el artículo original usa d_ff = 4·d_model).
        activation: "relu" (las diapositivas), "gelu" o "gelu_tanh" (GPT-2).
        dropout: dropout tras la activación.
        bias: si las capas lineales llevan sesgo.

    Formas (capítulo 5):
        x: (B, T, d_model) -> (B, T, d_ff) -> (B, T, d_model).
    """

    def __init__(
        self,
        d_model: int,
        d_ff: int,
        activation: str = "relu",
        dropout: float = 0.0,
        bias: bool = True,
    ):
        super().__init__()
        check_dropout(dropout)
        self.activation_name = activation
        self.activation = activation_fn(activation)
        self.linear1 = nn.Linear(d_model, d_ff, bias=bias)  # W_1, b_1
        self.linear2 = nn.Linear(d_ff, d_model, bias=bias)  # W_2, b_2
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Aplica la FFN a cada posición.

        Formas:
            x: (B, T, d_model); salida: (B, T, d_model).
        """
        h = self.activation(self.linear1(x))  # (B, T, d_model) -> (B, T, d_ff)
        return self.linear2(self.dropout(h))  # (B, T, d_ff) -> (B, T, d_model)

    def extra_repr(self) -> str:
        return f"activation={self.activation_name!r}"


FFNS = ("mlp", "swiglu")


def swiglu_hidden_size(d_model: int) -> int:
    """La d_ff de :class:`SwiGLU` con los mismos pesos que una MLP de d_ff = 4·d_model.

    La MLP tiene 2 matrices de d_model × 4·d_model = 8·d_model² pesos; SwiGLU tiene 3 de
    d_model × d_ff, así que d_ff = 8/3 · d_model (redondeado al entero más cercano).
    """
    return round(8 * d_model / 3)


class SwiGLU(nn.Module):
    """Feed-forward con compuerta SwiGLU (Shazeer, 2020), la de Llama, Qwen y Mistral.

    SwiGLU(x) = W_2 · (SiLU(W·x) ⊙ V·x): una proyección (W, ``w_gate``) pasa por la SiLU
    y decide, componente a componente, cuánto deja pasar de la otra (V, ``w_up``). Con tres
    matrices en lugar de dos, d_ff = 8/3 · d_model (:func:`swiglu_hidden_size`) tiene los
    mismos parámetros que la MLP de 4·d_model.

    Parámetros:
        d_model: dimensión del modelo.
        d_ff: dimensión interna (la de la compuerta).
        dropout: dropout antes de la proyección de salida.
        bias: si las tres capas lineales llevan sesgo (Llama: no).

    Formas (capítulo 11):
        x: (B, T, d_model) -> 2 × (B, T, d_ff) -> (B, T, d_model).
    """

    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.0, bias: bool = False):
        super().__init__()
        check_dropout(dropout)
        self.w_gate = nn.Linear(d_model, d_ff, bias=bias)  # W
        self.w_up = nn.Linear(d_model, d_ff, bias=bias)  # V
        self.w_down = nn.Linear(d_ff, d_model, bias=bias)  # W_2
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Aplica la FFN con compuerta a cada posición.

        Formas:
            x: (B, T, d_model); salida: (B, T, d_model).
        """
        h = F.silu(self.w_gate(x)) * self.w_up(x)  # (B, T, d_model) -> (B, T, d_ff)
        return self.w_down(self.dropout(h))  # (B, T, d_ff) -> (B, T, d_model)


def make_feedforward(
    kind: str, d_model: int, d_ff: int, activation: str = "relu", dropout: float = 0.0, bias: bool = True
) -> FeedForward | SwiGLU:
    """La FFN por nombre: ``"mlp"`` (:class:`FeedForward` con ``activation``) o ``"swiglu"``.

    Formas:
        la del módulo devuelto: (B, T, d_model) -> (B, T, d_model).
    """
    if kind == "mlp":
        return FeedForward(d_model, d_ff, activation, dropout, bias)
    if kind == "swiglu":
        return SwiGLU(d_model, d_ff, dropout, bias)
    raise ValueError(f"FFN desconocida {kind!r}: usa una de {', '.join(map(repr, FFNS))}.")


def output_projection(ff: FeedForward | SwiGLU) -> nn.Linear:
    """La capa de salida de una FFN (la que suma al camino residual): W_2."""
    return ff.w_down if isinstance(ff, SwiGLU) else ff.linear2
