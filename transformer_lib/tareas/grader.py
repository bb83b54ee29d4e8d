"""Calificación de un cuaderno entero: lo ejecuta en un kernel nuevo y comprueba sus ejercicios.

Es lo que hace ``python -m transformer_lib.tareas comprobar CUADERNO.ipynb`` (y la
integración continua de GitHub Classroom):

1. lee el cuaderno y le añade al final una celda que llama a las comprobaciones con el
   espacio de nombres del propio cuaderno y escribe un informe JSON entre dos marcas
   aleatorias;
2. lo ejecuta con ``nbclient`` en un kernel nuevo (carpeta de trabajo: la del cuaderno;
   límite de tiempo total), sin detenerse en las celdas que fallan;
3. reúne los resultados y los errores de las celdas y escribe un informe en español.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .catalog import TASKS, Task, find_task
from .core import (
    CORRECT,
    Result,
    describe_exception,
    error_result,
    unsolved_result,
)

#: Etiquetas de celdas que no se ejecutan al calificar.
SKIP_TAGS = ("skip-execution", "requires-gpu")
#: Versión del formato de la caché (cámbiala si cambian las comprobaciones).
CACHE_VERSION = 1


@dataclass
class Grade:
    """Resultado de calificar un cuaderno.

    Atributos:
        notebook: ruta del cuaderno.
        task: id de la tarea.
        results: un :class:`Result` por ejercicio.
        cell_errors: errores de celdas (sin contar los ``NotImplementedError``).
        failure: por qué no se pudo ejecutar el cuaderno (None si se ejecutó).
        seconds: duración de la ejecución.
    """

    notebook: str
    task: str
    results: list[Result] = field(default_factory=list)
    cell_errors: list[str] = field(default_factory=list)
    failure: str | None = None
    seconds: float = 0.0

    @property
    def points(self) -> float:
        return sum(r.points for r in self.results)

    @property
    def max_points(self) -> float:
        return TASKS[self.task].points

    def passed_all(self, exercise: str | None = None) -> bool:
        """True si todo está bien (o solo ``ejercicio``, si se indica)."""
        if self.failure is not None:
            return False
        if exercise is not None:
            return any(r.exercise == exercise and r.status == CORRECT for r in self.results)
        return not self.cell_errors and all(r.status == CORRECT for r in self.results)

    def to_dict(self) -> dict:
        return {
            "cuaderno": self.notebook,
            "tarea": self.task,
            "resultados": [r.to_dict() for r in self.results],
            "errores_celdas": self.cell_errors,
            "fallo": self.failure,
            "segundos": self.seconds,
            "puntos": self.points,
            "puntos_max": self.max_points,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Grade:
        return cls(d["cuaderno"], d["tarea"], [Result.from_dict(r) for r in d["resultados"]],
                   d["errores_celdas"], d["fallo"], d["segundos"])

    def text(self, exercise: str | None = None) -> str:
        """Informe en español (solo de ``ejercicio``, si se indica)."""
        task = TASKS[self.task]
        rule = "═" * 72
        lines = [rule, task.title, f"Cuaderno: {self.notebook}"
                  + (f" (ejecutado en {self.seconds:.0f} s)" if self.seconds else ""), rule]
        if self.failure is not None:
            lines += [f"💥 No pude ejecutar tu cuaderno: {self.failure}", "", "Nota: 0/"
                       f"{task.points:g} puntos."]
            return "\n".join(lines)
        results = [r for r in self.results if exercise is None or r.exercise == exercise]
        for r in results:
            lines += [r.text(), ""]
        if self.cell_errors and exercise is None:
            lines.append("💥 Errores al ejecutar tu cuaderno (debe poder ejecutarse de principio a fin):")
            lines += [f"   • {e}" for e in self.cell_errors]
            lines.append("")
        lines.append("─" * 72)
        if exercise is None:
            lines.append(f"Nota: {self.points:g}/{task.points:g} puntos.")
            pending = [f"{r.title} ({r.status})" for r in self.results if r.status != CORRECT]
            if pending:
                lines.append("Te falta: " + "; ".join(pending) + ".")
            elif self.cell_errors:
                lines.append("Los ejercicios están bien, pero arregla los errores de las celdas.")
            else:
                lines.append("🎉 ¡Tarea completa! Todo está bien.")
        else:
            r = results[0] if results else None
            lines.append(f"Ejercicio {exercise}: {r.points:g}/{r.max_points:g} puntos." if r else
                          f"No hay resultado del ejercicio {exercise}.")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Dentro del kernel
# --------------------------------------------------------------------------------------


def kernel_report(task_id: str, namespace: dict, marker: str) -> str:
    """Comprueba los ejercicios con las variables del cuaderno y devuelve el JSON entre marcas.

    Se llama desde la celda que el calificador añade al final del cuaderno.
    """
    task = TASKS[task_id]
    results = []
    for e in task.exercises:
        objects = [namespace.get(n) for n in e.names]
        if objects[0] is None and e.names[0] != "model":
            r = unsolved_result(
                e.id, e.title, e.points,
                f"No encuentro `{e.names[0]}` en tu cuaderno: ¿has borrado o renombrado su celda, "
                "o falló al ejecutarse?",
            )
        else:
            try:
                r = e.check(*objects, show=False)
            except Exception as err:  # no debería pasar: las comprobaciones no lanzan
                r = error_result(e.id, e.title, e.points, f"Error al comprobar: {describe_exception(err)}")
        results.append(r.to_dict())
    return marker + json.dumps(results, ensure_ascii=False) + marker


def _injected_cell(task_id: str, marker: str) -> str:
    return (
        "from transformer_lib.tareas.grader import kernel_report as _tareas_report\n"
        f"print(_tareas_report({task_id!r}, globals(), {marker!r}))\n"
    )


# --------------------------------------------------------------------------------------
# Fuera del kernel
# --------------------------------------------------------------------------------------


def detect_task(path: Path, nb=None) -> Task:
    """La tarea de un cuaderno: por sus metadatos (``tarea``) o por el nombre del archivo."""
    if nb is not None:
        task_key = nb.metadata.get("tarea")
        if isinstance(task_key, str) and task_key in TASKS:
            return TASKS[task_key]
    return find_task(path.stem)


def _cache_key(path: Path, task_id: str) -> str:
    h = hashlib.sha256()
    h.update(path.read_bytes())
    h.update(f"{task_id}|{CACHE_VERSION}".encode())
    for module in sorted(Path(__file__).parent.glob("*.py")):  # si cambian las comprobaciones, no vale
        h.update(module.read_bytes())
    return h.hexdigest()[:32]


def grade(
    path: str | os.PathLike,
    task: str | None = None,
    time_limit: float = 900.0,
    data: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
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
        cache_file = Path(cache) / f"{t.id}-{_cache_key(path, t.id)}.json"
        if cache_file.is_file():
            return Grade.from_dict(json.loads(cache_file.read_text(encoding="utf-8")))
    result = _execute(path, nb, t, time_limit, data)
    if cache_file is not None:  # también los fallos: así no se repite una ejecución que agotó el tiempo
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        cache_file.write_text(json.dumps(result.to_dict(), ensure_ascii=False), encoding="utf-8")
    return result


def _id_or_first(task_key: str) -> str:
    try:
        return find_task(task_key).id
    except ValueError:
        return next(iter(TASKS))


def _execute(path: Path, nb, task: Task, time_limit: float, data) -> Grade:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbformat.v4 import new_code_cell

    graded = Grade(str(path), task.id)
    marker = "@@TAREAS-" + secrets.token_hex(12) + "@@"
    nb.cells.append(new_code_cell(_injected_cell(task.id, marker)))
    env = dict(os.environ)
    env.setdefault("TQDM_DISABLE", "1")
    env.setdefault("MPLBACKEND", "Agg")
    if data is not None:
        env["TRANSFORMER_LIB_DATA"] = str(Path(data).resolve())
    start_time = time.monotonic()
    deadline = start_time + time_limit
    client = NotebookClient(
        nb,
        kernel_name="python3",
        allow_errors=True,
        timeout_func=lambda cell: max(1, int(deadline - time.monotonic())),
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    index = 0
    try:
        with client.setup_kernel(env=env, stderr=subprocess.DEVNULL):  # sin avisos del kernel
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code" or set(cell.metadata.get("tags", [])) & set(SKIP_TAGS):
                    continue
                if time.monotonic() > deadline:
                    raise CellTimeoutError("tiempo agotado")
                client.execute_cell(cell, index)
    except CellTimeoutError:
        graded.failure = (f"se agotó el tiempo ({time_limit:.0f} s) en la celda {index + 1}. ¿Hay un bucle "
                       "que no termina, o un entrenamiento demasiado largo?")
    except DeadKernelError as err:
        graded.failure = f"el kernel de Python murió en la celda {index + 1} ({describe_exception(err)}); ¿se quedó sin memoria?"
    except Exception as err:
        graded.failure = f"error al ejecutar el cuaderno ({describe_exception(err)})."
    graded.seconds = time.monotonic() - start_time
    if graded.failure is not None:
        return graded
    *cells, injected = nb.cells
    graded.cell_errors = _cell_errors(cells)
    text = "".join(o.get("text", "") for o in injected.outputs if o.get("output_type") == "stream")
    parts = text.split(marker)
    if len(parts) < 3:
        error = next((f"{o.ename}: {o.evalue}" for o in injected.outputs if o.get("output_type") == "error"), "")
        graded.failure = ("no pude leer el resultado de las comprobaciones"
                       + (f" ({error})" if error else "") + ". ¿Está instalado transformer_lib en este entorno?")
        return graded
    graded.results = [Result.from_dict(d) for d in json.loads(parts[1])]
    return graded


def _cell_errors(cells) -> list[str]:
    errors = []
    for n, cell in enumerate(cells, start=1):
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error" or output.get("ename") == "NotImplementedError":
                continue
            param = " ".join(str(output.get("evalue", "")).split())
            if len(param) > 300:
                param = param[:297] + "…"
            first = next((line for line in cell.source.splitlines() if line.strip()), "")
            errors.append(f"La celda {n} (`{first.strip()[:60]}`) lanzó {output.get('ename')}: {param}")
    return errors


def exit_status(grades: list[Grade], exercise: str | None = None) -> int:
    """Código de salida: 0 si todo está bien, 2 si algún cuaderno no se pudo ejecutar, 1 si no."""
    if any(c.failure is not None for c in grades):
        return 2
    return 0 if all(c.passed_all(exercise) for c in grades) else 1


__all__ = ["Grade", "grade", "exit_status", "kernel_report"]
