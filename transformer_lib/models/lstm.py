"""Una red recurrente de referencia (capítulo 9b): el modelo de lenguaje LSTM.

Kaplan et al. (2020, figura 7) comparan sus Transformers con LSTM del mismo tamaño y la misma
receta: las LSTM mejoran con N al principio, pero su curva se aplana antes. Para repetir esa
comparación sobre el Quijote, :class:`LSTMLanguageModel` tiene la misma interfaz que
:class:`~transformer_lib.models.GPT` (``model(idx, targets) -> (logits, loss)``,
``model.config`` y :meth:`~LSTMLanguageModel.count_parameters`), así que lo entrenan el mismo
bucle y el mismo motor de barridos. La LSTM es ``torch.nn.LSTM``; alrededor solo hay el
embedding de tokens y la proyección de salida (atada al embedding, como en nuestros GPT).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_dropout, check_int, check_token_ids
from ..utils import DictConvertible
from .counting import ParameterCount


@dataclass
class LSTMConfig(DictConvertible):
    """Configuración de :class:`LSTMLanguageModel`.

    Atributos:
        vocab_size: tamaño del vocabulario.
        block_size: longitud de las ventanas de entrenamiento T (la LSTM admite cualquiera;
            se guarda para que el bucle y el motor traten igual a los dos modelos).
        n_layer: capas de LSTM apiladas.
        d_model: tamaño del estado oculto (y del embedding).
        dropout: dropout entre capas y antes de la proyección de salida.
        tie_weights: si la proyección de salida comparte la matriz del embedding.
    """

    vocab_size: int
    block_size: int = 64
    n_layer: int = 2
    d_model: int = 128
    dropout: float = 0.0
    tie_weights: bool = True

    def __post_init__(self):
        for name in ("vocab_size", "block_size", "n_layer", "d_model"):
            check_int(getattr(self, name), f"LSTMConfig.{name}")
        check_dropout(self.dropout)


class LSTMLanguageModel(nn.Module):
    """Modelo de lenguaje recurrente: embedding → ``nn.LSTM`` → proyección al vocabulario.

    Parámetros:
        config: la configuración.
    """

    def __init__(self, config: LSTMConfig):
        super().__init__()
        if not isinstance(config, LSTMConfig):
            raise TypeError(f"config debe ser un LSTMConfig y recibí {type(config).__name__}.")
        c = self.config = config
        self.tok_emb = nn.Embedding(c.vocab_size, c.d_model)
        self.lstm = nn.LSTM(c.d_model, c.d_model, num_layers=c.n_layer, batch_first=True,
                            dropout=c.dropout if c.n_layer > 1 else 0.0)
        self.drop = nn.Dropout(c.dropout)
        self.lm_head = nn.Linear(c.d_model, c.vocab_size, bias=False)
        if c.tie_weights:
            self.lm_head.weight = self.tok_emb.weight

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits del siguiente token en cada posición y, con ``targets``, la entropía cruzada.

        Formas:
            idx, targets: (B, T); logits: (B, T, vocab_size).
        """
        check_token_ids(idx, self.config.vocab_size, "idx")
        if idx.dim() != 2:
            raise ValueError(f"idx debe tener forma (B, T) y tiene {tuple(idx.shape)}.")
        x = self.tok_emb(idx)  # (B, T, d)
        h, _ = self.lstm(x)  # (B, T, d): cada posición solo ve las anteriores
        logits = self.lm_head(self.drop(h))  # (B, T, V)
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return logits, loss

    def count_parameters(self) -> ParameterCount:
        """Cuenta parámetros; el embedding de tokens es lo único que no entra en N."""
        total = sum(p.numel() for p in self.parameters())
        embedding = self.tok_emb.weight.numel()
        return ParameterCount(total=total, embedding=embedding, non_embedding=total - embedding)


def lstm_param_count_exact(config: LSTMConfig) -> ParameterCount:
    """Recuento exacto de :class:`LSTMLanguageModel` sin construirlo.

    Cada capa de ``nn.LSTM`` tiene cuatro puertas, cada una con una matriz de entrada
    (d × d), una recurrente (d × d) y dos sesgos (los de PyTorch): 4·(2·d² + 2·d).

    Parámetros:
        config: la configuración.

    Devuelve:
        ``ParameterCount(total, embedding, non_embedding)``, igual que ``count_parameters()``.
    """
    d, V = config.d_model, config.vocab_size
    non_embedding = config.n_layer * 4 * (2 * d * d + 2 * d) + (0 if config.tie_weights else V * d)
    return ParameterCount(total=V * d + non_embedding, embedding=V * d, non_embedding=non_embedding)
