"""Sustituye torch.save para que la respuesta sea un pickle que ejecutaría código al cargarlo.

El calificador la lee con ``weights_only=True``: no ejecuta nada (no aparece el archivo
PWNED) y dice que no pudo leer las salidas (código de salida 2).
"""

TASK = "tarea_01_atencion"
EXERCISE = None
EXIT = 2
EXPECTED = "no pude leer las salidas de tu código"
CELL = '''
import os
import pickle

_marker = os.path.abspath("PWNED")


class _Payload:
    def __reduce__(self):
        return (os.system, ("touch " + _marker,))


def _evil_save(obj, f, *args, **kwargs):
    with open(f, "wb") as fh:
        pickle.dump(_Payload(), fh)


torch.save = _evil_save
'''
