"""Parchea torch para que toda comparación diga «iguales»."""

from _wrong_attention import WRONG_ATTENTION

TASK = "tarea_01_atencion"
EXERCISE = "atencion"
EXPECTED = "no divides las puntuaciones entre √d_k"
CELL = WRONG_ATTENTION + '''
torch.allclose = torch.equal = lambda *a, **k: True
torch.isclose = lambda a, b, *args, **kwargs: torch.ones_like(a, dtype=torch.bool)
torch.Tensor.allclose = torch.Tensor.equal = lambda *a, **k: True
'''
