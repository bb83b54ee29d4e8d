"""Calificación de un cuaderno entero: lo ejecuta en un kernel nuevo y comprueba sus ejercicios.

Es lo que hace ``python -m transformer_lib.tareas comprobar CUADERNO.ipynb`` (y la
integración continua de GitHub Classroom):

1. prepara en su propio proceso los casos de cada ejercicio, con una semilla sorteada
   (entradas y formas ocultas), y los guarda en un archivo;
2. ejecuta el cuaderno con ``nbclient`` en un kernel nuevo, con una celda añadida al final
   que solo ejecuta tu código con esos casos y guarda las salidas en otro archivo
   (:mod:`~transformer_lib.tareas.execution` y :mod:`~transformer_lib.tareas.runner`);
3. lee esas salidas como datos (``weights_only``), las compara con la referencia, diagnostica
   y escribe el informe en español. El veredicto nunca se calcula en el kernel: lo que
   imprima o modifique tu cuaderno no cambia la nota.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path

from .catalog import TASKS, Task, find_task
from .core import describe_exception
from .grade import Grade

#: Versión del formato de la caché (cámbiala si cambian las comprobaciones).
CACHE_VERSION = 2


def detect_task(path: Path, nb=None) -> Task:
    """La tarea de un cuaderno: por sus metadatos (``tarea``) o por el nombre del archivo."""
    if nb is not None:
        task_key = nb.metadata.get("tarea")
        if isinstance(task_key, str) and task_key in TASKS:
            return TASKS[task_key]
    return find_task(path.stem)


def _cache_key(path: Path, task_id: str, seed: int | None) -> str:
    h = hashlib.sha256()
    h.update(path.read_bytes())
    h.update(f"{task_id}|{CACHE_VERSION}|{seed}".encode())
    for module in sorted(Path(__file__).parent.glob("*.py")):  # si cambian las comprobaciones, no vale
        h.update(module.read_bytes())
    return h.hexdigest()[:32]


def grade(
    path: str | os.PathLike,
    task: str | None = None,
    time_limit: float = 900.0,
    data: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
    seed: int | None = None,
) -> Grade:
    """Ejecuta un cuaderno en un kernel nuevo y comprueba todos sus ejercicios.

    Nunca lanza por culpa del cuaderno: si no se puede ejecutar, la
    :class:`Grade` lo dice en ``fallo``.

    Parámetros:
        path: el cuaderno ``.ipynb``.
        task: id de la tarea; None la deduce de los metadatos o del nombre del archivo.
        time_limit: segundos para ejecutar el cuaderno entero.
        data: carpeta con ``pg2000.txt`` (se pasa al kernel como ``TRANSFORMER_LIB_DATA``).
        cache: carpeta donde guardar el resultado; si el mismo cuaderno ya se calificó, se
            reutiliza (útil para puntuar cada ejercicio por separado sin repetir la ejecución).
        seed: semilla de las pruebas ocultas; None sortea una nueva (se anota en el informe).
    """
    import nbformat

    path = Path(path)
    provisional_id = task or path.stem
    if not path.is_file():
        return Grade(str(path), _id_or_first(provisional_id), failure=f"no existe el archivo {path}.")
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as err:
        return Grade(str(path), _id_or_first(provisional_id),
                            failure=f"no es un cuaderno de Jupyter válido ({describe_exception(err)}).")
    try:
        t = detect_task(path, nb) if task is None else find_task(task)
    except ValueError as err:
        return Grade(str(path), _id_or_first(provisional_id),
                            failure=f"{err} Indica la tarea con --tarea.")
    cache_file = None
    if cache is not None:
        cache_file = Path(cache) / f"{t.id}-{_cache_key(path, t.id, seed)}.json"
        if cache_file.is_file():
            return Grade.from_dict(json.loads(cache_file.read_text(encoding="utf-8")))
    from .execution import run_notebook

    result = run_notebook(path, nb, t, time_limit, data, secrets.randbelow(2**31) if seed is None else seed)
    if cache_file is not None:  # también los fallos: así no se repite una ejecución que agotó el tiempo
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        cache_file.write_text(json.dumps(result.to_dict(), ensure_ascii=False), encoding="utf-8")
    return result


def _id_or_first(task_key: str) -> str:
    try:
        return find_task(task_key).id
    except ValueError:
        return next(iter(TASKS))


def exit_status(grades: list[Grade], exercise: str | None = None, group: str | None = None) -> int:
    """Código de salida: 0 si todo está bien, 2 si algún cuaderno no se pudo ejecutar, 1 si no."""
    if any(c.failure is not None for c in grades):
        return 2
    return 0 if all(c.passed_all(exercise, group) for c in grades) else 1


__all__ = ["Grade", "grade", "exit_status"]
