"""Sustituye las comprobaciones y el juez de transformer_lib.tareas por otros que siempre aprueban."""

from _wrong_attention import WRONG_ATTENTION

TASK = "tarea_01_atencion"
EXERCISE = "atencion"
EXPECTED = "no divides las puntuaciones entre √d_k"
CELL = WRONG_ATTENTION + '''
import transformer_lib.tareas as _t
from transformer_lib.tareas import core as _core, exercise as _exercise, grader as _grader


def _always_right(spec, *args, **kwargs):
    return _core.Result(spec.id, spec.title, _core.CORRECT, spec.points, spec.points, 1, 1)


_exercise.judge_answer = _always_right
_t.check_attention = lambda *a, **k: _always_right(_t.task1_attention.ATTENTION)
_grader.exit_status = lambda *a, **k: 0
'''
