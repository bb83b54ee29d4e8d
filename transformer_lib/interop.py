"""Conversión desde ``torch.nn`` y desde Hugging Face (capítulos 2, 6, 7 y 10).

Sirve para comprobar que nuestras piezas, escritas para leerlas, calculan exactamente
lo mismo que las implementaciones de referencia:

- :func:`from_torch` construye nuestro equivalente de ``nn.MultiheadAttention``,
  ``nn.TransformerEncoderLayer``, ``nn.TransformerDecoderLayer`` o ``nn.LayerNorm``
  con los mismos pesos.
- :func:`gpt_from_hf` construye nuestro :class:`~transformer_lib.models.GPT` a partir de
  un ``GPT2LMHeadModel`` de Hugging Face (``transformers`` se importa solo al llamarla).
- :func:`mask_from_torch` traduce las máscaras de ``torch.nn`` (``True`` = *prohibido*,
  o aditivas 0/−∞) a nuestra convención (booleana, ``True`` = *puede atender*).

Configuraciones que nuestras piezas no pueden reproducir (``batch_first=False``, claves
y valores de otra dimensión, ``add_bias_kv``, activaciones a medida…) se rechazan con un
``ValueError`` que dice qué valor sobra, en lugar de dar resultados distintos en silencio.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import DecoderBlock, EncoderBlock
from .models import GPT, GPTConfig
from .multihead import MultiHeadAttention
from .normalization import LayerNorm

__all__ = ["from_torch", "gpt_from_hf", "mask_from_torch"]

# Activaciones de Hugging Face que sabemos reproducir: nombre HF -> nombre nuestro.
_HF_ACTIVATIONS = {
    "gelu_new": "gelu_tanh",
    "gelu_pytorch_tanh": "gelu_tanh",
    "gelu": "gelu",
    "relu": "relu",
}


def from_torch(module: nn.Module) -> nn.Module:
    """Construye nuestro módulo equivalente a uno de ``torch.nn``, con los mismos pesos.

    Admite ``nn.MultiheadAttention`` -> :class:`MultiHeadAttention`,
    ``nn.TransformerEncoderLayer`` -> :class:`EncoderBlock`,
    ``nn.TransformerDecoderLayer`` -> :class:`DecoderBlock` y
    ``nn.LayerNorm`` -> :class:`LayerNorm`. El resultado queda en el mismo dispositivo,
    con el mismo dtype y en el mismo modo (``train``/``eval``) que el original.

    Ojo con las máscaras: ``torch.nn`` usa ``True`` = *no* atender; nosotros, ``True`` =
    *puede* atender. Tradúcelas con :func:`mask_from_torch`.

    Parámetros:
        module: el módulo de ``torch.nn``. Los de atención deben tener ``batch_first=True``,
            ``kdim = vdim = embed_dim``, sin ``add_bias_kv`` ni ``add_zero_attn``; las
            capas, activación ``"relu"`` o ``"gelu"`` (función o módulo).

    Devuelve:
        Nuestro módulo equivalente.

    Formas:
        Las del módulo devuelto: (B, T, d_model) -> (B, T, d_model) (capítulos 2, 4, 6 y 7).
    """
    if isinstance(module, nn.MultiheadAttention):
        ours = _mha_from_torch(module)
    elif isinstance(module, nn.TransformerEncoderLayer):
        ours = _encoder_from_torch(module)
    elif isinstance(module, nn.TransformerDecoderLayer):
        ours = _decoder_from_torch(module)
    elif isinstance(module, nn.LayerNorm):
        ours = _layer_norm_from_torch(module)
    else:
        raise TypeError(
            f"from_torch no sabe convertir {type(module).__name__}: admite nn.MultiheadAttention, "
            "nn.TransformerEncoderLayer, nn.TransformerDecoderLayer y nn.LayerNorm."
        )
    ref = next(module.parameters(), None)
    if ref is not None:
        ours = ours.to(device=ref.device, dtype=ref.dtype)
    return ours.train(module.training)


def mask_from_torch(
    attn_mask: torch.Tensor | None = None,
    key_padding_mask: torch.Tensor | None = None,
) -> torch.Tensor | None:
    """Traduce las máscaras de ``torch.nn`` a nuestra convención (``True`` = puede atender).

    ``torch.nn`` marca con ``True`` lo *prohibido* (o usa máscaras aditivas con −∞ en lo
    prohibido) y separa la máscara de atención ``attn_mask`` de la de relleno
    ``key_padding_mask``; aquí las dos se combinan en una sola máscara booleana.

    Parámetros:
        attn_mask: booleana (``True`` = prohibido) o aditiva (0 / −∞).
        key_padding_mask: booleana (``True`` = relleno) o aditiva.

    Devuelve:
        Nuestra máscara booleana, o None si no se pasó ninguna.

    Formas:
        attn_mask: (T_q, T_k) o (B·h, T_q, T_k); key_padding_mask: (B, T_k);
        salida: difundible a (B, h, T_q, T_k) (capítulos 1 y 8). Una ``attn_mask`` de forma
        (B·h, T_q, T_k) no se puede combinar sin saber h: conviértela tú con
        ``.view(B, h, T_q, T_k)``.
    """
    mask = None
    if attn_mask is not None:
        allowed = ~attn_mask if attn_mask.dtype == torch.bool else attn_mask != float("-inf")
        mask = allowed  # (T_q, T_k)
    if key_padding_mask is not None:
        if key_padding_mask.dim() != 2:
            raise ValueError(
                f"key_padding_mask debe tener forma (B, T_k) y tiene {tuple(key_padding_mask.shape)}."
            )
        if key_padding_mask.dtype == torch.bool:
            real = ~key_padding_mask
        else:
            real = key_padding_mask != float("-inf")
        real = real[:, None, None, :]  # (B, T_k) -> (B, 1, 1, T_k)
        mask = real if mask is None else mask & real  # (B, 1, T_q, T_k)
    return mask


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
    try:
        from transformers import GPT2LMHeadModel
    except ImportError as err:  # pragma: no cover - depende del entorno
        raise ImportError(
            "gpt_from_hf necesita el paquete transformers: instálalo con `pip install transformers`."
        ) from err
    if not isinstance(model, GPT2LMHeadModel):
        raise TypeError(
            f"gpt_from_hf espera un GPT2LMHeadModel de Hugging Face y recibió {type(model).__name__}."
        )
    hf = model.config
    config = _gpt_config_from_hf(hf, model)
    gpt = GPT(config)
    src = model.transformer
    with torch.no_grad():
        gpt.tok_emb.weight.copy_(src.wte.weight)
        gpt.pos_emb.embedding.weight.copy_(src.wpe.weight)
        for ours, theirs in zip(gpt.blocks, src.h, strict=True):
            _copy_layer_norm(ours.res_self.norm, theirs.ln_1)
            _copy_layer_norm(ours.res_ff.norm, theirs.ln_2)
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
        _copy_layer_norm(gpt.ln_f, src.ln_f)
        if not config.tie_weights:
            gpt.lm_head.weight.copy_(model.lm_head.weight)
    ref = src.wte.weight
    return gpt.to(device=ref.device, dtype=ref.dtype).train(model.training)


# ----------------------------------------------------------------------------------------
# Detalles de la conversión
# ----------------------------------------------------------------------------------------


def _gpt_config_from_hf(hf, model: nn.Module) -> GPTConfig:
    """Traduce un ``GPT2Config`` a nuestro :class:`GPTConfig`, rechazando lo que no cabe."""
    if getattr(hf, "add_cross_attention", False):
        raise ValueError(
            "gpt_from_hf no admite add_cross_attention=True: nuestro GPT es solo-decoder y sus "
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


def _copy_layer_norm(ours: LayerNorm, theirs: nn.LayerNorm) -> None:
    """Copia γ, β y ε; una LayerNorm sin afinidad o sin sesgo equivale a γ = 1 y β = 0."""
    if tuple(theirs.normalized_shape) != (ours.d_model,):
        raise ValueError(
            f"La LayerNorm de origen normaliza la forma {tuple(theirs.normalized_shape)} y la "
            f"nuestra solo el último eje ({ours.d_model},)."
        )
    ours.eps = theirs.eps
    ours.weight.copy_(theirs.weight if theirs.weight is not None else torch.ones_like(ours.weight))
    ours.bias.copy_(theirs.bias if theirs.bias is not None else torch.zeros_like(ours.bias))


def _layer_norm_from_torch(ln: nn.LayerNorm) -> LayerNorm:
    if len(ln.normalized_shape) != 1:
        raise ValueError(
            f"Solo convierto LayerNorm sobre el último eje y esta normaliza {tuple(ln.normalized_shape)}."
        )
    ours = LayerNorm(ln.normalized_shape[0], eps=ln.eps)
    with torch.no_grad():
        _copy_layer_norm(ours, ln)
    return ours


def _mha_from_torch(mha: nn.MultiheadAttention) -> MultiHeadAttention:
    _check_mha(mha)
    bias = mha.in_proj_bias is not None
    ours = MultiHeadAttention(mha.embed_dim, mha.num_heads, dropout=mha.dropout, bias=bias)
    with torch.no_grad():
        _copy_mha(ours, mha)
    return ours


def _check_mha(mha: nn.MultiheadAttention) -> None:
    if not mha.batch_first:
        raise ValueError(
            "nn.MultiheadAttention con batch_first=False no está soportado: nuestras formas son "
            "(B, T, d_model); créala con batch_first=True."
        )
    if not mha._qkv_same_embed_dim:
        raise ValueError(
            f"kdim={mha.kdim} y vdim={mha.vdim} distintos de embed_dim={mha.embed_dim} no están "
            "soportados: nuestras claves y valores tienen dimensión d_model."
        )
    if mha.bias_k is not None or mha.bias_v is not None:
        raise ValueError("add_bias_kv=True no está soportado: nuestra atención no añade sesgos a K y V.")
    if mha.add_zero_attn:
        raise ValueError("add_zero_attn=True no está soportado: nuestra atención no añade una clave nula.")
    has_in_bias, has_out_bias = mha.in_proj_bias is not None, mha.out_proj.bias is not None
    if has_in_bias != has_out_bias:
        raise ValueError(
            f"Las proyecciones deben llevar sesgo todas o ninguna; aquí in_proj_bias={has_in_bias} "
            f"y out_proj.bias={has_out_bias}."
        )


def _copy_mha(ours: MultiHeadAttention, mha: nn.MultiheadAttention) -> None:
    # in_proj_weight apila W^Q, W^K y W^V: (3·d_model, d_model) -> 3 × (d_model, d_model).
    linears = (ours.w_q, ours.w_k, ours.w_v)
    for lin, w in zip(linears, mha.in_proj_weight.chunk(3), strict=True):
        lin.weight.copy_(w)
    if mha.in_proj_bias is not None:
        for lin, b in zip(linears, mha.in_proj_bias.chunk(3), strict=True):
            lin.bias.copy_(b)
    ours.w_o.weight.copy_(mha.out_proj.weight)
    if mha.out_proj.bias is not None:
        ours.w_o.bias.copy_(mha.out_proj.bias)


def _activation_name(layer: nn.Module) -> str:
    act = layer.activation
    if act is F.relu or isinstance(act, nn.ReLU):
        return "relu"
    if act is F.gelu or (isinstance(act, nn.GELU) and act.approximate == "none"):
        return "gelu"
    if isinstance(act, nn.GELU) and act.approximate == "tanh":
        return "gelu_tanh"
    raise ValueError(
        f"Activación no soportada {act!r}: from_torch admite relu y gelu (por nombre, "
        "función o módulo); una activación a medida no tiene equivalente en FeedForward."
    )


def _check_layer(layer: nn.Module, attns: tuple[nn.MultiheadAttention, ...], dropouts) -> tuple[float, bool]:
    """Comprueba una capa de ``torch.nn`` y devuelve su (dropout, bias)."""
    for mha in attns:
        _check_mha(mha)
    rates = {float(mha.dropout) for mha in attns} | {float(d.p) for d in dropouts}
    if len(rates) != 1:
        raise ValueError(
            f"La capa usa dropouts distintos {sorted(rates)} y nuestros bloques usan uno solo "
            "para atención, FFN y residuales."
        )
    biases = {mha.in_proj_bias is not None for mha in attns}
    biases |= {layer.linear1.bias is not None, layer.linear2.bias is not None}
    if len(biases) != 1:
        raise ValueError("Las capas lineales deben llevar sesgo todas o ninguna (parámetro bias).")
    return rates.pop(), biases.pop()


def _copy_ff(ours, layer: nn.Module) -> None:
    for dst, src in ((ours.linear1, layer.linear1), (ours.linear2, layer.linear2)):
        dst.weight.copy_(src.weight)
        if src.bias is not None:
            dst.bias.copy_(src.bias)


def _encoder_from_torch(layer: nn.TransformerEncoderLayer) -> EncoderBlock:
    dropout, bias = _check_layer(layer, (layer.self_attn,), (layer.dropout, layer.dropout1, layer.dropout2))
    block = EncoderBlock(
        layer.self_attn.embed_dim, layer.self_attn.num_heads, layer.linear1.out_features,
        dropout=dropout, norm_first=layer.norm_first, activation=_activation_name(layer), bias=bias,
    )
    with torch.no_grad():
        _copy_mha(block.self_attn, layer.self_attn)
        _copy_ff(block.ff, layer)
        _copy_layer_norm(block.res_attn.norm, layer.norm1)
        _copy_layer_norm(block.res_ff.norm, layer.norm2)
    return block


def _decoder_from_torch(layer: nn.TransformerDecoderLayer) -> DecoderBlock:
    dropout, bias = _check_layer(
        layer, (layer.self_attn, layer.multihead_attn),
        (layer.dropout, layer.dropout1, layer.dropout2, layer.dropout3),
    )
    block = DecoderBlock(
        layer.self_attn.embed_dim, layer.self_attn.num_heads, layer.linear1.out_features,
        dropout=dropout, norm_first=layer.norm_first, activation=_activation_name(layer), bias=bias,
        cross_attention=True,
    )
    with torch.no_grad():
        _copy_mha(block.self_attn, layer.self_attn)
        _copy_mha(block.cross_attn, layer.multihead_attn)
        _copy_ff(block.ff, layer)
        _copy_layer_norm(block.res_self.norm, layer.norm1)
        _copy_layer_norm(block.res_cross.norm, layer.norm2)
        _copy_layer_norm(block.res_ff.norm, layer.norm3)
    return block
