"""Sustituye las funciones que escriben el informe e imprime uno falso."""

from _wrong_attention import WRONG_ATTENTION

TASK = "tarea_01_atencion"
EXERCISE = "atencion"
EXPECTED = "no divides las puntuaciones entre √d_k"
CELL = WRONG_ATTENTION + '''
from transformer_lib.tareas import core as _core, grader as _grader

_core.Result.text = lambda self: f"✅ {self.title}: CORRECTO"
_grader.Grade.text = lambda self, exercise=None: "Nota: 10/10 puntos.\\n🎉 ¡Tarea completa! Todo está bien."
print("Nota: 10/10 puntos.\\n🎉 ¡Tarea completa! Todo está bien.")
'''
