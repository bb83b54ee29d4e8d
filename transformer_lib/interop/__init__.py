"""Conversión desde ``torch.nn`` y desde Hugging Face (capítulos 2, 6, 7, 10 y 11).

Sirve para comprobar que nuestras piezas, escritas para leerlas, calculan exactamente
lo mismo que las implementaciones de referencia:

- :mod:`~transformer_lib.interop.torch_nn`: :func:`from_torch` construye nuestro equivalente
  de ``nn.MultiheadAttention``, ``nn.TransformerEncoderLayer``, ``nn.TransformerDecoderLayer``
  o ``nn.LayerNorm`` con los mismos pesos; :func:`mask_from_torch` traduce las máscaras de
  ``torch.nn`` (``True`` = *prohibido*, o aditivas 0/−∞) a nuestra convención (booleana,
  ``True`` = *puede atender*).
- :mod:`~transformer_lib.interop.gpt2`: :func:`gpt_from_hf` construye nuestro
  :class:`~transformer_lib.models.GPT` a partir de un ``GPT2LMHeadModel`` de Hugging Face.
- :mod:`~transformer_lib.interop.llama`: :func:`llama_from_hf`, lo mismo desde un
  ``LlamaForCausalLM`` (RMSNorm, RoPE, SwiGLU y GQA; capítulo 11).

``transformers`` se importa solo al llamar a las funciones de Hugging Face. Configuraciones
que nuestras piezas no pueden reproducir (``batch_first=False``, claves y valores de otra
dimensión, ``add_bias_kv``, activaciones a medida, RoPE escalado…) se rechazan con un
``ValueError`` que dice qué valor sobra, en lugar de dar resultados distintos en silencio.
"""

from __future__ import annotations

from .gpt2 import gpt_from_hf
from .llama import llama_from_hf
from .torch_nn import from_torch, mask_from_torch

__all__ = ["from_torch", "gpt_from_hf", "llama_from_hf", "mask_from_torch"]
