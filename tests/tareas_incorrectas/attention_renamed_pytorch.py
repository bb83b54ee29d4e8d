"""Usa la atención de PyTorch importada con otro nombre (antes pasaba: se buscaba `F.`)."""

import torch
from torch.nn.functional import scaled_dot_product_attention as _x


def scaled_dot_product_attention(q, k, v, mask=None):
    out = _x(q, k, v, attn_mask=mask)
    if mask is not None:  # las filas sin ninguna clave, a cero, como pide el enunciado
        out = out.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)
    return torch.nan_to_num(out)


EXERCISE = "atencion"
EXPECTED = "la atención de PyTorch"
