"""Conversión desde el GPT-2 de Hugging Face (capítulo 10): :func:`gpt_from_hf`.

``transformers`` se importa solo al llamar a la función.
"""

from __future__ import annotations

import torch
from torch import nn

from ..models import GPT, GPTConfig
from ._hf import check_hf_model
from .torch_nn import copy_layer_norm

__all__ = ["gpt_from_hf"]

# Activaciones de Hugging Face que sabemos reproducir: nombre HF -> nombre nuestro.
_HF_ACTIVATIONS = {
    "gelu_new": "gelu_tanh",
    "gelu_pytorch_tanh": "gelu_tanh",
    "gelu": "gelu",
    "relu": "relu",
}


def gpt_from_hf(model: nn.Module) -> GPT:
    """Construye nuestro :class:`GPT` con los pesos de un ``GPT2LMHeadModel`` de Hugging Face.

    Vale para cualquier tamaño de GPT-2. Detalles de la traducción:

    - Las capas ``Conv1D`` de Hugging Face guardan la matriz traspuesta respecto a
      ``nn.Linear`` (calculan ``x @ W + b``), así que se trasponen.
    - ``c_attn`` empaqueta W^Q, W^K y W^V en una sola matriz de d_model × 3·d_model; se
      parte en tres.
    - La activación ``gelu_new`` de GPT-2 es nuestra ``"gelu_tanh"``.
    - ``lm_head`` comparte la matriz de ``wte`` (pesos atados) salvo que el modelo diga lo
      contrario; se respeta lo que tenga.

    Parámetros:
        model: un ``transformers.GPT2LMHeadModel`` (con cualquier ``attn_implementation``).

    Devuelve:
        Nuestro GPT (Pre-LN, con sesgos), en el mismo dispositivo, dtype y modo.

    Formas:
        El GPT devuelto recibe idx (B, T) con T <= n_positions y da logits
        (B, T, vocab_size), iguales a ``model(idx).logits`` (capítulo 10).
    """
    check_hf_model(model, "GPT2LMHeadModel", "gpt_from_hf")
    hf = model.config
    config = _gpt_config_from_hf(hf, model)
    gpt = GPT(config)
    src = model.transformer
    with torch.no_grad():
        gpt.tok_emb.weight.copy_(src.wte.weight)
        gpt.pos_emb.embedding.weight.copy_(src.wpe.weight)
        for ours, theirs in zip(gpt.blocks, src.h, strict=True):
            copy_layer_norm(ours.res_self.norm, theirs.ln_1)
            copy_layer_norm(ours.res_ff.norm, theirs.ln_2)
            # Conv1D: x @ W + b con W de forma (d_in, d_out) -> nn.Linear quiere (d_out, d_in).
            w_qkv = theirs.attn.c_attn.weight.t()  # (d_model, 3·d_model) -> (3·d_model, d_model)
            b_qkv = theirs.attn.c_attn.bias  # (3·d_model,)
            attn = ours.self_attn
            for lin, w, b in zip((attn.w_q, attn.w_k, attn.w_v), w_qkv.chunk(3), b_qkv.chunk(3)):
                lin.weight.copy_(w)
                lin.bias.copy_(b)
            _copy_conv1d(attn.w_o, theirs.attn.c_proj)
            _copy_conv1d(ours.ff.linear1, theirs.mlp.c_fc)
            _copy_conv1d(ours.ff.linear2, theirs.mlp.c_proj)
        copy_layer_norm(gpt.ln_f, src.ln_f)
        if not config.tie_weights:
            gpt.lm_head.weight.copy_(model.lm_head.weight)
    ref = src.wte.weight
    return gpt.to(device=ref.device, dtype=ref.dtype).train(model.training)


def _gpt_config_from_hf(hf, model: nn.Module) -> GPTConfig:
    """Traduce un ``GPT2Config`` a nuestro :class:`GPTConfig`, rechazando lo que no cabe."""
    if getattr(hf, "add_cross_attention", False):
        raise ValueError(
            "gpt_from_hf no admite add_cross_attention=True: nuestro GPT es solo decoder y sus "
            "bloques no tienen atención cruzada."
        )
    if not getattr(hf, "scale_attn_weights", True):
        raise ValueError(
            "gpt_from_hf necesita scale_attn_weights=True: nuestra atención siempre divide las "
            "puntuaciones entre √d_k."
        )
    if getattr(hf, "scale_attn_by_inverse_layer_idx", False):
        raise ValueError(
            "gpt_from_hf no admite scale_attn_by_inverse_layer_idx=True (un escalado extra 1/(capa+1) "
            "que nuestra atención no tiene)."
        )
    act = hf.activation_function
    if act not in _HF_ACTIVATIONS:
        raise ValueError(
            f"Activación de GPT-2 no soportada {act!r}: admito {', '.join(map(repr, _HF_ACTIVATIONS))}."
        )
    drops = {hf.resid_pdrop, hf.embd_pdrop, hf.attn_pdrop}
    if len(drops) != 1:
        raise ValueError(
            f"Nuestro GPT usa un único dropout y el modelo tiene resid_pdrop={hf.resid_pdrop}, "
            f"embd_pdrop={hf.embd_pdrop} y attn_pdrop={hf.attn_pdrop}: iguálalos antes de convertir."
        )
    tied = model.lm_head.weight is model.transformer.wte.weight
    return GPTConfig(
        vocab_size=hf.vocab_size,
        block_size=hf.n_positions,
        n_layer=hf.n_layer,
        n_head=hf.n_head,
        d_model=hf.n_embd,
        d_ff=hf.n_inner if hf.n_inner is not None else 4 * hf.n_embd,
        dropout=float(drops.pop()),
        bias=True,
        norm_first=True,
        activation=_HF_ACTIVATIONS[act],
        tie_weights=tied,
    )


def _copy_conv1d(linear: nn.Linear, conv) -> None:
    linear.weight.copy_(conv.weight.t())  # (d_in, d_out) -> (d_out, d_in)
    linear.bias.copy_(conv.bias)
