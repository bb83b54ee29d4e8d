"""Usa la atención de la biblioteca importada con otro nombre (antes pasaba: se buscaba `transformer_lib.`)."""

from transformer_lib import scaled_dot_product_attention as _reference


def scaled_dot_product_attention(q, k, v, mask=None):
    return _reference(q, k, v, mask)


EXERCISE = "atencion"
EXPECTED = "la atención de la biblioteca"
