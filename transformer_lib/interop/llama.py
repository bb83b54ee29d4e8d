"""Conversión desde el Llama de Hugging Face (capítulo 11): :func:`llama_from_hf`.

Un bloque de Llama es nuestro :class:`~transformer_lib.models.GPT` con los cinco campos del
capítulo 11: ``norm="rmsnorm"``, ``position="rope"``, ``ffn="swiglu"``, ``n_kv_head`` y
``rope_theta``, sin sesgos y Pre-LN. ``transformers`` se importa solo al llamar a la función.
"""

from __future__ import annotations

import torch
from torch import nn

from ..models import GPT, GPTConfig
from ._hf import check_hf_model

__all__ = ["llama_from_hf"]


def llama_from_hf(model: nn.Module) -> GPT:
    """Construye nuestro :class:`GPT` con los pesos de un ``LlamaForCausalLM`` de Hugging Face.

    Vale para cualquier tamaño: GQA (``num_key_value_heads``), embeddings atados o no,
    cualquier ``rope_theta`` y sesgos en la atención y en la MLP o sin ellos. Detalles:

    - ``q_proj``, ``k_proj``, ``v_proj`` y ``o_proj`` son nuestras W^Q, W^K, W^V y W^O;
      ``gate_proj``, ``up_proj`` y ``down_proj``, las W, V y W_2 de :class:`~transformer_lib.SwiGLU`.
    - Hugging Face gira los pares de componentes (i, i + d_k/2), igual que nuestra
      :func:`~transformer_lib.positional.apply_rope`: los pesos se copian sin permutar.
    - Nuestro GPT tiene un solo ``bias`` para todas las lineales. Si Llama lleva sesgo solo
      en la atención (``attention_bias``) o solo en la MLP (``mlp_bias``), el GPT se construye
      con sesgos y los que Llama no tiene quedan a cero: los logits son los mismos, aunque el
      recuento de parámetros incluye esos ceros.
    - Nuestro GPT usa un único dropout (el ``attention_dropout`` de Llama, 0 en los modelos
      publicados) también en los embeddings y en las residuales; en ``eval`` no importa.

    Se rechazan, con un ``ValueError`` que dice qué valor sobra, las variantes que nuestras
    piezas no reproducen: ``rope_scaling`` (Llama 3.1 y posteriores), ``head_dim`` distinto
    de ``hidden_size / num_attention_heads``, RoPE parcial y activaciones que no sean SiLU.

    Parámetros:
        model: un ``transformers.LlamaForCausalLM`` (con cualquier ``attn_implementation``).

    Devuelve:
        Nuestro GPT, en el mismo dispositivo, dtype y modo que ``model``.

    Formas:
        El GPT devuelto recibe idx (B, T) y da logits (B, T, vocab_size), iguales a
        ``model(idx).logits`` (capítulo 11).
    """
    check_hf_model(model, "LlamaForCausalLM", "llama_from_hf")
    config = _gpt_config_from_llama(model.config, model)
    gpt = GPT(config)
    src = model.model
    with torch.no_grad():
        gpt.tok_emb.weight.copy_(src.embed_tokens.weight)
        for ours, theirs in zip(gpt.blocks, src.layers, strict=True):
            _copy_rms_norm(ours.res_self.norm, theirs.input_layernorm)
            _copy_rms_norm(ours.res_ff.norm, theirs.post_attention_layernorm)
            attn, mlp = ours.self_attn, ours.ff
            for dst, name in ((attn.w_q, "q_proj"), (attn.w_k, "k_proj"), (attn.w_v, "v_proj"),
                              (attn.w_o, "o_proj")):
                _copy_linear(dst, getattr(theirs.self_attn, name))
            for dst, name in ((mlp.w_gate, "gate_proj"), (mlp.w_up, "up_proj"), (mlp.w_down, "down_proj")):
                _copy_linear(dst, getattr(theirs.mlp, name))
        _copy_rms_norm(gpt.ln_f, src.norm)
        if not config.tie_weights:
            gpt.lm_head.weight.copy_(model.lm_head.weight)
    ref = src.embed_tokens.weight
    return gpt.to(device=ref.device, dtype=ref.dtype).train(model.training)


def _rope_theta(hf) -> float:
    """La base de RoPE de un ``LlamaConfig`` (``rope_parameters`` en transformers ≥ 5, o los
    atributos ``rope_theta`` y ``rope_scaling`` de antes); rechaza el RoPE escalado."""
    params = dict(getattr(hf, "rope_parameters", None) or {})
    scaling = getattr(hf, "rope_scaling", None) if not params else None
    rope_type = params.get("rope_type", (scaling or {}).get("rope_type", "default"))
    if rope_type != "default" or scaling:
        raise ValueError(
            f"llama_from_hf no admite RoPE escalado (rope_type={rope_type!r}): nuestra RoPE usa las "
            "frecuencias del artículo, theta^(−2i/d_k), sin reescalar (Llama 3.1+ y los modelos "
            "de contexto largo lo reescalan)."
        )
    if params.get("partial_rotary_factor", getattr(hf, "partial_rotary_factor", 1.0)) != 1.0:
        raise ValueError("llama_from_hf no admite partial_rotary_factor != 1: nuestra RoPE gira toda la cabeza.")
    return float(params.get("rope_theta", getattr(hf, "rope_theta", 10000.0)))


def _gpt_config_from_llama(hf, model: nn.Module) -> GPTConfig:
    """Traduce un ``LlamaConfig`` a nuestro :class:`GPTConfig`, rechazando lo que no cabe."""
    d, h = hf.hidden_size, hf.num_attention_heads
    head_dim = getattr(hf, "head_dim", None) or d // h
    if head_dim * h != d:
        raise ValueError(
            f"llama_from_hf necesita head_dim · num_attention_heads = hidden_size y el modelo tiene "
            f"head_dim={head_dim}, num_attention_heads={h} y hidden_size={d}: nuestra atención "
            "reparte d_model entre las cabezas."
        )
    if hf.hidden_act != "silu":
        raise ValueError(
            f"llama_from_hf necesita hidden_act='silu' (SwiGLU) y el modelo tiene {hf.hidden_act!r}."
        )
    theta = _rope_theta(hf)
    tied = model.lm_head.weight is model.model.embed_tokens.weight
    return GPTConfig(
        vocab_size=hf.vocab_size,
        block_size=hf.max_position_embeddings,
        n_layer=hf.num_hidden_layers,
        n_head=h,
        d_model=d,
        d_ff=hf.intermediate_size,
        dropout=float(getattr(hf, "attention_dropout", 0.0)),
        bias=bool(getattr(hf, "attention_bias", False) or getattr(hf, "mlp_bias", False)),
        norm_first=True,
        tie_weights=tied,
        norm="rmsnorm",
        position="rope",
        ffn="swiglu",
        n_kv_head=getattr(hf, "num_key_value_heads", None) or h,
        rope_theta=theta,
        norm_eps=float(hf.rms_norm_eps),
    )


def _copy_linear(ours: nn.Linear, theirs: nn.Linear) -> None:
    """Copia W y, si lo hay, b; si el nuestro tiene sesgo y el de Llama no, lo deja a cero."""
    ours.weight.copy_(theirs.weight)
    if ours.bias is not None:
        ours.bias.copy_(theirs.bias if theirs.bias is not None else torch.zeros_like(ours.bias))


def _copy_rms_norm(ours, theirs) -> None:
    ours.eps = theirs.variance_epsilon
    ours.weight.copy_(theirs.weight)
