"""Llama a la atención de PyTorch en lugar de escribirla."""

import torch.nn.functional as F


def scaled_dot_product_attention(q, k, v, mask=None):
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


EXERCISE = "atencion"
EXPECTED = "escribir la atención tú"
