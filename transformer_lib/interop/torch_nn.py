"""Conversión desde ``torch.nn`` (capítulos 2, 6 y 7).

- :func:`from_torch` construye nuestro equivalente de ``nn.MultiheadAttention``,
  ``nn.TransformerEncoderLayer``, ``nn.TransformerDecoderLayer`` o ``nn.LayerNorm``
  con los mismos pesos.
- :func:`mask_from_torch` traduce las máscaras de ``torch.nn`` (``True`` = *prohibido*,
  o aditivas 0/−∞) a nuestra convención (booleana, ``True`` = *puede atender*).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..blocks import DecoderBlock, EncoderBlock
from ..multihead import MultiHeadAttention
from ..normalization import LayerNorm

__all__ = ["from_torch", "mask_from_torch"]


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


# ----------------------------------------------------------------------------------------
# Detalles de la conversión
# ----------------------------------------------------------------------------------------


def copy_layer_norm(ours: LayerNorm, theirs: nn.LayerNorm) -> None:
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
        copy_layer_norm(ours, ln)
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
        copy_layer_norm(block.res_attn.norm, layer.norm1)
        copy_layer_norm(block.res_ff.norm, layer.norm2)
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
        copy_layer_norm(block.res_self.norm, layer.norm1)
        copy_layer_norm(block.res_cross.norm, layer.norm2)
        copy_layer_norm(block.res_ff.norm, layer.norm3)
    return block
