"""Modelos completos (capítulos 7, 8 y 10): el Transformer encoder-decoder y GPT.

- ``transformer``: :class:`TransformerConfig` y :class:`Transformer`, la arquitectura de
  Vaswani et al. (2017), con embeddings, codificación posicional sinusoidal, pila de encoders,
  pila de decoders y proyección de salida; más decodificación voraz (capítulo 7).
- ``gpt``: :class:`GPTConfig` y :class:`GPT`, un modelo solo decoder (Radford et al., 2019);
  sus bloques no tienen atención cruzada, así que el recuento de parámetros es exacto
  (capítulos 8 y 10).
- ``lstm``: :class:`LSTMConfig` y :class:`LSTMLanguageModel`, la red recurrente con la que
  se compara el escalado del Transformer (capítulo 9b).
- ``counting``: :class:`ParameterCount`, el recuento de parámetros (capítulos 9 y 10).

Los dos modelos guardan su configuración en ``model.config``: es lo que guardan los
checkpoints para reconstruirlos.
"""

from .counting import ParameterCount
from .gpt import GPT, GPTConfig
from .lstm import LSTMConfig, LSTMLanguageModel, lstm_param_count_exact
from .transformer import Transformer, TransformerConfig

__all__ = ["GPT", "GPTConfig", "LSTMConfig", "LSTMLanguageModel", "ParameterCount", "Transformer",
           "TransformerConfig", "lstm_param_count_exact"]
