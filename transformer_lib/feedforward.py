"""Red feed-forward por posición (capítulo 5): FFN(x) = W_2 · act(W_1 · x + b_1) + b_2."""

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
