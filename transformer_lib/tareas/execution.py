"""Ejecutar un cuaderno en un kernel nuevo y juzgar, fuera de él, lo que devolvió tu código.

Lo usa :func:`transformer_lib.tareas.grader.grade`. Pasos:

1. Para cada ejercicio se preparan sus casos con una semilla propia (entradas ocultas) y se
   guardan, sin sus claves privadas, en ``peticion.pt`` dentro de una carpeta temporal.
2. Se ejecuta el cuaderno con ``nbclient`` (en su carpeta, con límite de tiempo total) y una
   celda añadida al final que llama a :func:`~transformer_lib.tareas.runner.run_request`.
3. Se lee ``respuesta.pt`` con ``torch.load(weights_only=True)`` (solo datos: nada del
   cuaderno se ejecuta aquí), se comprueba que responde a esta petición y cada ejercicio se
   juzga en este proceso con :func:`~transformer_lib.tareas.exercise.judge_answer`.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import secrets
import subprocess
import tempfile
import time
from pathlib import Path

import torch

from .catalog import Task
from .core import describe_exception, error_result
from .exercise import judge_answer
from .grade import Grade
from .runner import PROTOCOL, for_kernel

#: Etiquetas de celdas que no se ejecutan al calificar.
SKIP_TAGS = ("skip-execution", "requires-gpu")


def _injected_cell(request: Path, response: Path) -> str:
    return (
        "from transformer_lib.tareas.runner import run_request as _tareas_run_request\n"
        f"_tareas_run_request(globals(), {str(request)!r}, {str(response)!r})\n"
    )


def exercise_seed(seed: int, index: int) -> int:
    """La semilla del ejercicio número ``index`` de una calificación con semilla ``seed``."""
    return (seed * 1_000_003 + 7919 * index) % 2**31


def _execute_cells(client, nb, deadline: float, env: dict) -> None:
    from nbclient.exceptions import CellTimeoutError

    with client.setup_kernel(env=env, stderr=subprocess.DEVNULL):  # sin avisos del kernel
        for index, cell in enumerate(nb.cells):
            client.current_index = index
            if cell.cell_type != "code" or set(cell.metadata.get("tags", [])) & set(SKIP_TAGS):
                continue
            if time.monotonic() > deadline:
                raise CellTimeoutError("tiempo agotado")
            client.execute_cell(cell, index)


def _run(path: Path, nb, time_limit: float, data) -> str | None:
    """Ejecuta las celdas; devuelve por qué no se pudo (o None)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    env = dict(os.environ)
    env.setdefault("TQDM_DISABLE", "1")
    env.setdefault("MPLBACKEND", "Agg")
    if data is not None:
        env["TRANSFORMER_LIB_DATA"] = str(Path(data).resolve())
    deadline = time.monotonic() + time_limit
    client = NotebookClient(
        nb, kernel_name="python3", allow_errors=True,
        timeout_func=lambda cell: max(1, int(deadline - time.monotonic())),
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    client.current_index = 0
    try:
        _execute_cells(client, nb, deadline, env)
    except CellTimeoutError:
        return (f"se agotó el tiempo ({time_limit:.0f} s) en la celda {client.current_index + 1}. ¿Hay un "
                "bucle que no termina, o un entrenamiento demasiado largo?")
    except DeadKernelError as err:
        return (f"el kernel de Python murió en la celda {client.current_index + 1} "
                f"({describe_exception(err)}); ¿se quedó sin memoria?")
    except Exception as err:
        return f"error al ejecutar el cuaderno ({describe_exception(err)})."
    return None


def _read_response(response: Path, nonce: str, injected) -> tuple[dict | None, str | None]:
    """La respuesta del kernel (solo datos) o por qué no se pudo leer."""
    if not response.is_file():
        error = next((f"{o.ename}: {o.evalue}" for o in injected.outputs if o.get("output_type") == "error"), "")
        return None, ("tu cuaderno no llegó a ejecutar las pruebas" + (f" ({error})" if error else "")
                      + ". ¿Está instalado transformer_lib en este entorno?")
    try:
        answer = torch.load(response, weights_only=True)
    except Exception as err:
        return None, f"no pude leer las salidas de tu código ({describe_exception(err)})."
    if not isinstance(answer, dict) or answer.get("nonce") != nonce or answer.get("protocol") != PROTOCOL:
        return None, "las salidas de tu código no corresponden a esta calificación (¿las ha escrito otra celda?)."
    return answer, None


def run_notebook(path: Path, nb, task: Task, time_limit: float, data, seed: int):
    """Ejecuta ``nb`` con los casos de ``task`` y devuelve su :class:`~transformer_lib.tareas.grader.Grade`."""
    from nbformat.v4 import new_code_cell

    graded = Grade(str(path), task.id, seed=seed)
    nonce = secrets.token_hex(16)
    cases = {e.id: e.spec.build(exercise_seed(seed, i)) for i, e in enumerate(task.exercises)}
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tareas-") as folder:
        request, response = Path(folder) / "peticion.pt", Path(folder) / "respuesta.pt"
        torch.save({"nonce": nonce, "exercises": {e.id: {"names": list(e.names), "cases": for_kernel(cases[e.id])}
                                                  for e in task.exercises}}, request)
        nb.cells.append(new_code_cell(_injected_cell(request, response)))
        graded.failure = _run(path, nb, time_limit, data)
        graded.seconds = time.monotonic() - start
        if graded.failure is not None:
            return graded
        *cells, injected = nb.cells
        graded.cell_errors = cell_errors(cells)
        answer, graded.failure = _read_response(response, nonce, injected)
    if answer is None:
        return graded
    graded.results = [_judge(e.spec, cases[e.id], answer["exercises"].get(e.id), data) for e in task.exercises]
    graded.seconds = time.monotonic() - start
    return graded


@functools.cache
def _quijote(data: str | None):
    from ..data import prepare_quijote

    return prepare_quijote(data_dir=data)


def _judge(spec, cases: list[dict], answer: dict | None, data):
    if spec.uses_data:
        try:
            loaded = _quijote(None if data is None else str(data))
        except Exception as err:
            return error_result(spec.id, spec.title, spec.points,
                                f"No pude cargar el Quijote para medir tu modelo ({describe_exception(err)}). "
                                "Indica su carpeta con --datos.")
        spec = dataclasses.replace(spec, judge=functools.partial(spec.judge, data=loaded))
    return judge_answer(spec, cases, answer)


def cell_errors(cells) -> list[str]:
    """Los errores de las celdas (sin los ``NotImplementedError``), uno por línea."""
    errors = []
    for n, cell in enumerate(cells, start=1):
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error" or output.get("ename") == "NotImplementedError":
                continue
            value = " ".join(str(output.get("evalue", "")).split())
            if len(value) > 300:
                value = value[:297] + "…"
            first = next((line for line in cell.source.splitlines() if line.strip()), "")
            errors.append(f"La celda {n} (`{first.strip()[:60]}`) lanzó {output.get('ename')}: {value}")
    return errors
