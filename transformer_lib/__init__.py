"""transformer_lib: el Transformer pieza a pieza, para el curso «Transformers II: Arquitectura y Escalado».

Cada módulo corresponde a un concepto y a un capítulo del libro:

- ``attention``: atención por producto escalado y máscaras (capítulos 1 y 8).
- ``multihead``: atención multicabeza (capítulo 2).
- ``normalization``: LayerNorm y conexión residual (capítulos 3 y 4).
- ``feedforward``: la red feed-forward por posición (capítulo 5).
- ``positional``: codificaciones posicionales (capítulo 1).
- ``blocks``: bloques encoder y decoder (capítulos 6 y 7).
- ``models``: Transformer encoder-decoder y GPT (capítulos 7, 8 y 10).
- ``interop``: conversión desde ``torch.nn`` y Hugging Face (GPT-2 y Llama).
- ``data``: el Quijote, el tokenizador de caracteres y la tarea de fechas (capítulos 7, 9 y 10).
- ``training``: bucle de entrenamiento, historial y checkpoints (capítulos 7, 9 y 10).
- ``scaling``: parámetros, FLOPs, leyes de escalado y barridos de tamaños (capítulos 9 y 10);
  se importa aparte: ``from transformer_lib.scaling import ...``.
- ``experiments``: los experimentos que el libro repite con muchas semillas en ``results/``
  (capítulos 2, 4, 5, 6 y 10); se importa aparte.
- ``plots``: figuras y diagramas del libro (matplotlib se carga solo al dibujar).
- ``cli``: ``python -m transformer_lib train|generate|sweep``.
- ``tareas``: las tareas con corrección automática (``python -m transformer_lib.tareas``).

El mapa completo (qué módulo guarda cada concepto y qué capítulo lo usa) está en
CONTRIBUTING.md.
"""

from .attention import (
    additive_mask,
    attention_weights,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
)
from .blocks import DecoderBlock, EncoderBlock
from .data import (
    CharTokenizer,
    DatesBatch,
    DatesTask,
    QuijoteData,
    date_to_spanish,
    get_batch,
    load_quijote,
    number_to_spanish,
    prepare_quijote,
    train_val_split,
)
from .feedforward import FeedForward, SwiGLU
from .interop import from_torch, gpt_from_hf, llama_from_hf
from .models import GPT, GPTConfig, ParameterCount, Transformer, TransformerConfig
from .multihead import KVCache, LayerKVCache, MultiHeadAttention
from .normalization import LayerNorm, RMSNorm, SublayerConnection, layer_norm, rms_norm
from .positional import (
    LearnedPositionalEncoding,
    SinusoidalPositionalEncoding,
    apply_rope,
    sinusoidal_encoding,
)
from .training import (
    Checkpoint,
    History,
    TrainConfig,
    load_checkpoint,
    lr_at,
    save_checkpoint,
    train,
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
    "KVCache",
    "LayerKVCache",
    "LayerNorm",
    "layer_norm",
    "RMSNorm",
    "rms_norm",
    "SublayerConnection",
    "FeedForward",
    "SwiGLU",
    "SinusoidalPositionalEncoding",
    "LearnedPositionalEncoding",
    "sinusoidal_encoding",
    "apply_rope",
    "EncoderBlock",
    "DecoderBlock",
    "Transformer",
    "TransformerConfig",
    "GPTConfig",
    "GPT",
    "ParameterCount",
    "from_torch",
    "gpt_from_hf",
    "llama_from_hf",
    "load_quijote",
    "CharTokenizer",
    "train_val_split",
    "get_batch",
    "QuijoteData",
    "prepare_quijote",
    "number_to_spanish",
    "date_to_spanish",
    "DatesTask",
    "DatesBatch",
    "TrainConfig",
    "History",
    "train",
    "lr_at",
    "save_checkpoint",
    "load_checkpoint",
    "Checkpoint",
    "set_seed",
    "get_device",
    "describe_device",
    "__version__",
]

