"""Utilidades compartidas por los tests de la biblioteca (no son fixtures de pytest)."""

from __future__ import annotations

import torch

ATOL = 1e-5  # tolerancia de paridad en float32 que exige el curso


def max_abs_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    """Máximo error absoluto entre dos tensores de la misma forma."""
    assert a.shape == b.shape, f"formas distintas: {tuple(a.shape)} y {tuple(b.shape)}"
    return (a.detach() - b.detach()).abs().max().item()


def assert_parity(ours: torch.Tensor, ref: torch.Tensor, atol: float = ATOL) -> None:
    """Falla si el error máximo supera ``atol`` (o si aparece algún NaN)."""
    assert not torch.isnan(ours).any(), "nuestra salida tiene NaN"
    diff = max_abs_diff(ours, ref)
    assert diff <= atol, f"error máximo {diff:.3e} > {atol:.0e}"


def nn_key_padding(lengths: list[int], T: int) -> torch.Tensor:
    """key_padding_mask de torch.nn: (B, T), True = relleno (prohibido)."""
    return torch.arange(T)[None, :] >= torch.tensor(lengths)[:, None]


def nn_causal(T: int) -> torch.Tensor:
    """attn_mask causal de torch.nn: (T, T), True = prohibido (posiciones futuras)."""
    return torch.ones(T, T, dtype=torch.bool).triu(1)


class single_thread:
    """Ejecuta un bloque con un solo hilo de PyTorch y restaura el número anterior.

    Los modelos de los tests son diminutos: con un hilo van igual de rápido y no sufren
    cuando la máquina está sobrecargada (varios hilos de OpenMP esperándose entre sí).
    """

    def __enter__(self):
        self._n = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc):
        torch.set_num_threads(self._n)
        return False
