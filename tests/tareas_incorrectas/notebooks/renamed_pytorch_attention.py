"""La atención de PyTorch importada con otro nombre, en un cuaderno de verdad (kernel aparte)."""

TASK = "tarea_01_atencion"
EXERCISE = "atencion"
EXPECTED = "la atención de PyTorch"
CELL = '''
from torch.nn.functional import scaled_dot_product_attention as _x


def scaled_dot_product_attention(q, k, v, mask=None):
    out = _x(q, k, v, attn_mask=mask)
    if mask is not None:
        out = out.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)
    return torch.nan_to_num(out)
'''
