"""Lanza una excepción propia: se informa, no se propaga."""

def scaled_dot_product_attention(q, k, v, mask=None):
    raise ValueError("ups, esto no funciona")


EXERCISE = "atencion"
EXPECTED = "ValueError: ups, esto no funciona"
