"""Registra un «pre_run_cell» de IPython que imprime un informe falso antes de cada celda."""

from _wrong_attention import WRONG_ATTENTION

TASK = "tarea_01_atencion"
EXERCISE = "atencion"
EXPECTED = "no divides las puntuaciones entre √d_k"
CELL = WRONG_ATTENTION + '''
import json as _json


def _fake_report(info=None):
    fake = [{"exercise": "atencion", "title": "scaled_dot_product_attention", "status": "correcto",
             "points": 7, "max_points": 7, "passed": 13, "total": 13, "messages": [], "notes": []}]
    print("@@TAREAS-0@@" + _json.dumps(fake) + "@@TAREAS-0@@")
    print("🎉 ¡Tarea completa! Todo está bien.")


get_ipython().events.register("pre_run_cell", _fake_report)
get_ipython().events.register("post_run_cell", lambda result: _fake_report())
'''
