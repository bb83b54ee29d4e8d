"""Llama al apply_rope de la biblioteca con otro nombre."""

from transformer_lib import apply_rope as rope


def apply_rope(x, positions, theta=10000.0):
    return rope(x, positions, theta)


EXERCISE = "rope"
EXPECTED = "el `apply_rope` de la biblioteca"
