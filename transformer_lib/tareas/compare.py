"""Comparar lo que devolvió tu código con la referencia (en el proceso del calificador).

Todo trabaja sobre datos: los registros del ejecutor (:mod:`~transformer_lib.tareas.runner`)
y tensores ya cargados con ``weights_only``.
"""

from __future__ import annotations

import math

import torch

from .core import Failure, StudentError, Unsolved


def output_of(record: dict):
    """La salida que devolvió el código del estudiante según el registro del ejecutor.

    Lanza:
        Unsolved si lanzó ``NotImplementedError``; StudentError con cualquier otra excepción;
        Failure si devolvió un objeto que no es un dato (ni tensor, ni número, ni tupla).
    """
    error = record.get("error")
    if error is not None:
        if error.get("unsolved"):
            raise Unsolved(error.get("message", ""))
        raise StudentError(error)
    value = record.get("output")
    if isinstance(value, dict) and "unsupported_type" in value:
        raise Failure(f"Tu código debe devolver un torch.Tensor y devolvió {value['unsupported_type']}.")
    return value


def checker_rng(seed: int) -> torch.Generator:
    """Generador de PyTorch propio de las comprobaciones (no toca la semilla global)."""
    return torch.Generator().manual_seed(seed)


def ensure_tensor(x, what: str = "Tu código") -> torch.Tensor:
    """Comprueba que ``x`` sea un tensor; si no, lanza un Fallo explicativo."""
    if not isinstance(x, torch.Tensor):
        raise Failure(f"{what} debe devolver un torch.Tensor y devolvió {type(x).__name__}.")
    return x


def tolerances(dtype: torch.dtype) -> dict:
    """Tolerancias de comparación según el tipo de dato."""
    if dtype == torch.float64:
        return {"atol": 1e-9, "rtol": 1e-7}
    return {"atol": 2e-5, "rtol": 1e-4}


def close(a: torch.Tensor, b: torch.Tensor, dtype: torch.dtype | None = None) -> bool:
    """True si ``a`` y ``b`` tienen la misma forma y valores cercanos (NaN = NaN)."""
    if not isinstance(a, torch.Tensor) or not isinstance(b, torch.Tensor) or a.shape != b.shape:
        return False
    tol = tolerances(dtype or b.dtype)
    return bool(torch.allclose(a.detach().double(), b.detach().double(), equal_nan=True, **tol))


def max_difference(a: torch.Tensor, b: torch.Tensor) -> float:
    """Máxima diferencia absoluta entre dos tensores de la misma forma (ignora NaN)."""
    d = (a.detach().double() - b.detach().double()).abs()
    d = d[~torch.isnan(d)]
    return float(d.max()) if d.numel() else math.nan


def shape_str(t: torch.Tensor | torch.Size | tuple) -> str:
    """Forma de un tensor como texto: (2, 5, 8)."""
    shape = t.shape if isinstance(t, torch.Tensor) else t
    return str(tuple(shape))
