"""Validaciones compartidas que producen errores claros en español.

Cada función lanza ``ValueError`` o ``TypeError`` con un mensaje que nombra el
valor problemático, para que el error no llegue como una traza críptica desde
dentro de PyTorch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

ACTIVATIONS = ("relu", "gelu", "gelu_tanh")


def check_dropout(p: float, name: str = "dropout") -> None:
    """Comprueba que ``p`` sea una probabilidad de dropout válida (0 <= p < 1)."""
    if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0.0 <= float(p) < 1.0:
        raise ValueError(
            f"{name} debe ser un número en [0, 1) y recibí {p!r}: "
            "0 desactiva el dropout y 1 borraría todas las activaciones."
        )


def check_heads(d_model: int, n_heads: int) -> None:
    """Comprueba que ``d_model`` se pueda repartir en ``n_heads`` cabezas iguales."""
    if not isinstance(d_model, int) or d_model <= 0:
        raise ValueError(f"d_model debe ser un entero positivo y recibí {d_model!r}.")
    if not isinstance(n_heads, int) or n_heads <= 0:
        raise ValueError(f"n_heads debe ser un entero positivo y recibí {n_heads!r}.")
    if d_model % n_heads != 0:
        raise ValueError(
            f"d_model={d_model} no es divisible entre n_heads={n_heads}: cada cabeza "
            f"necesita d_k = d_model / n_heads entero (prueba n_heads entre los "
            f"divisores de {d_model})."
        )


def check_activation(name: str) -> None:
    """Comprueba que la activación sea una de las conocidas."""
    if name not in ACTIVATIONS:
        raise ValueError(
            f"Activación desconocida {name!r}: usa una de {', '.join(map(repr, ACTIVATIONS))}."
        )


def check_mask(mask: torch.Tensor, scores_shape: torch.Size | tuple[int, ...]) -> None:
    """Comprueba que la máscara sea booleana y se pueda difundir a la forma de las puntuaciones."""
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"La máscara debe ser un tensor booleano y recibí {type(mask).__name__}.")
    if mask.dtype != torch.bool:
        raise TypeError(
            f"La máscara debe ser booleana (True = puede atender) y tiene dtype {mask.dtype}; "
            "si tienes una máscara aditiva 0/−∞, conviértela con `mask == 0`."
        )
    try:
        broadcast = torch.broadcast_shapes(tuple(mask.shape), tuple(scores_shape))
    except RuntimeError:
        broadcast = None
    if broadcast != tuple(scores_shape):
        raise ValueError(
            f"La máscara de forma {tuple(mask.shape)} no se puede difundir a la forma de las "
            f"puntuaciones {tuple(scores_shape)} (B, h, T_q, T_k)."
        )


_checked_depth = 0


@contextlib.contextmanager
def token_ids_checked() -> Iterator[None]:
    """Dentro del bloque, :func:`check_token_ids` no lee los valores (sí el tipo).

    Para bucles cuyos datos ya se comprobaron enteros una vez (el entrenamiento de texto):
    así cada paso no espera a la GPU para leer el mínimo y el máximo.
    """
    global _checked_depth
    _checked_depth += 1
    try:
        yield
    finally:
        _checked_depth -= 1


def check_token_ids(idx: torch.Tensor, vocab_size: int, name: str = "idx") -> None:
    """Comprueba que ``idx`` sea un tensor de enteros dentro del vocabulario."""
    if not isinstance(idx, torch.Tensor):
        raise TypeError(f"{name} debe ser un tensor de enteros y recibí {type(idx).__name__}.")
    if idx.dtype.is_floating_point or idx.dtype.is_complex or idx.dtype == torch.bool:
        raise TypeError(
            f"{name} debe contener índices de tokens enteros (torch.long) y tiene dtype "
            f"{idx.dtype}."
        )
    # Los valores se leen en la CPU (en GPU, una espera por llamada), así que se saltan donde ya
    # se comprobaron (:func:`token_ids_checked`) o dentro de torch.compile (cortaría el grafo).
    if torch.compiler.is_compiling() or _checked_depth or idx.numel() == 0:
        return
    lo, hi = int(idx.min()), int(idx.max())
    if lo < 0 or hi >= vocab_size:
        bad = lo if lo < 0 else hi
        raise ValueError(
            f"{name} contiene el id de token {bad}, fuera del vocabulario [0, {vocab_size - 1}] "
            f"(vocab_size={vocab_size})."
        )


def check_int(value: int, name: str, minimum: int = 1) -> None:
    """Comprueba que ``value`` sea un entero (no un bool) mayor o igual que ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        what = "un entero positivo" if minimum == 1 else f"un entero >= {minimum}"
        raise ValueError(f"{name} debe ser {what} y es {value!r}.")
