"""transformer_lib: el Transformer pieza a pieza, para el curso «Transformers II: Arquitectura y Escalado».

Cada módulo corresponde a un concepto y a un capítulo del libro:

- ``attention``: atención por producto escalado y máscaras (capítulos 1 y 8).
- ``multihead``: atención multi-cabeza (capítulo 2).
- ``normalization``: LayerNorm y conexión residual (capítulos 3 y 4).
- ``feedforward``: la red feed-forward por posición (capítulo 5).
- ``positional``: codificaciones posicionales (capítulo 1).
- ``blocks``: bloques encoder y decoder (capítulos 6 y 7).
- ``models``: Transformer encoder-decoder y GPT (capítulos 7, 8 y 10).
- ``interop``: conversión desde ``torch.nn`` y Hugging Face.
"""

from .attention import (
    additive_mask,
    attention_weights,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
)
from .blocks import DecoderBlock, EncoderBlock
from .feedforward import FeedForward
from .interop import from_torch, gpt_from_hf
from .models import GPT, GPTConfig, ParameterCount, Transformer
from .multihead import MultiHeadAttention
from .normalization import LayerNorm, SublayerConnection, layer_norm
from .positional import (
    LearnedPositionalEncoding,
    SinusoidalPositionalEncoding,
    sinusoidal_encoding,
)
from .utils import describe_device, get_device, set_seed

__version__ = "0.1.0"

__all__ = [
    "additive_mask",
    "attention_weights",
    "causal_mask",
    "padding_mask",
    "scaled_dot_product_attention",
    "MultiHeadAttention",
    "LayerNorm",
    "layer_norm",
    "SublayerConnection",
    "FeedForward",
    "SinusoidalPositionalEncoding",
    "LearnedPositionalEncoding",
    "sinusoidal_encoding",
    "EncoderBlock",
    "DecoderBlock",
    "Transformer",
    "GPTConfig",
    "GPT",
    "ParameterCount",
    "from_torch",
    "gpt_from_hf",
    "set_seed",
    "get_device",
    "describe_device",
    "__version__",
]
