"""Ejecuta cuadernos DENTRO del entorno de estudiante (lo lanza ``tools/student_env.py``).

Lo ejecuta el Python de las herramientas del repositorio (que tiene nbclient y nbformat),
con ``-I``; las celdas corren en el núcleo ``NOMBRE``, que usa el Python del entorno virtual
de estudiante (ver ``kernel_dir`` en ``tools/student_env.py``): el cuaderno solo ve lo que
ese entorno tiene instalado. Escribe una línea JSON por cuaderno en la salida estándar.
Con ``--save CARPETA``, guarda además cada capítulo ejecutado entero (salidas y estado de
los widgets) en ``CARPETA/<ruta del cuaderno>``: de allí lo toma el libro sin ejecutarlo
otra vez (``tools/execute_notebooks.py --from``).

Las celdas verificadas (``# NBVAL_CHECK_OUTPUT``) se comparan con su salida guardada en el
cuaderno, con las mismas reglas que nbval (:func:`checked_output_problem`). nbval las
compara con un hilo de PyTorch; aquí corren con los hilos del entorno de estudiante (dos,
como en Colab): una cifra verificada que cambie con el número de hilos hace fallar la prueba.

Uso (interno)::

    .venv/bin/python -I tools/_student_runner.py --kernel NOMBRE [--homework]
        [--save CARPETA --root RAÍZ] CUADERNO...
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

#: Marca de las celdas cuya salida compara nbval (``--nbval-lax``).
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
#: Lo que nbval no compara (``IPyNbFile.skip_compare`` sin ``--nbdime``).
SKIP_COMPARE = (
    "metadata",
    "traceback",
    "prompt_number",
    "output_type",
    "name",
    "execution_count",
    "application/vnd.jupyter.widget-view+json",
    "image/png",
    "image/jpeg",
)


def _comparable(outputs: list) -> dict[str, list]:
    """Las salidas como las compara nbval: flujos unidos y cada tipo MIME por separado."""
    from nbval.plugin import coalesce_streams, transform_streams_for_comparison

    flat: dict[str, list] = defaultdict(list)
    for out in transform_streams_for_comparison(coalesce_streams(copy.deepcopy(outputs))):
        for key, value in out.items():
            if key == "data":
                for mime, data in value.items():
                    if mime not in SKIP_COMPARE:
                        flat[mime].append(data)
            elif key not in SKIP_COMPARE:
                flat[key].append(value)
    return dict(flat)


def _shown(values: list | None) -> object:
    """Los valores de una clave para el mensaje: un texto si son textos."""
    if values and all(isinstance(v, str) for v in values):
        return "".join(values)
    return values


def checked_output_problem(reference: list, outputs: list) -> str:
    """Diferencia entre la salida guardada de una celda verificada y la de ahora ("" si no hay).

    Parámetros:
        reference: salidas guardadas en el cuaderno.
        outputs: salidas de esta ejecución.
    """
    if not reference:
        return "la celda verificada no tiene salida guardada (python -m tools.save_checked_outputs)"
    ref, new = _comparable(reference), _comparable(outputs)
    for key in sorted(set(ref) | set(new)):
        if ref.get(key) != new.get(key):
            return f"{key}: se esperaba {_shown(ref.get(key))!r} y salió {_shown(new.get(key))!r}"[:400]
    return ""


def run(path: Path, kernel: str, homework: bool, timeout: int, save: Path | None = None) -> dict:
    """Ejecuta ``path`` celda a celda en su carpeta; en una tarea, para en el primer ejercicio.

    Si ``save`` no es ``None`` y el cuaderno se ejecutó entero sin errores, lo escribe allí
    con sus salidas (como lo dejaría ``jupyter-book``: sin tiempos por celda).
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=kernel,
        timeout=timeout,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    result = {"notebook": str(path), "ok": True, "cells": 0, "stopped_at": None, "error": ""}
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            reference = copy.deepcopy(cell.outputs) if CHECK_MARK in cell.source else None
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as err:
                if homework and err.ename == "NotImplementedError":
                    result["stopped_at"] = index
                    break
                result["ok"] = False
                result["error"] = f"celda {index}: {err.ename}: {err.evalue}"[:500]
                break
            result["cells"] += 1
            problem = "" if reference is None else checked_output_problem(reference, cell.outputs)
            if problem:
                result["ok"] = False
                result["error"] = f"celda {index} (verificada), con {_threads()} hilos: {problem}"
                break
        if save is not None and result["ok"] and result["stopped_at"] is None:
            client.set_widgets_metadata()
            nb.metadata["student_env"] = {
                "seconds": round(time.perf_counter() - start, 1),
                "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            }
            save.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, save)
    result["seconds"] = round(time.perf_counter() - start, 1)
    return result


def _threads() -> str:
    """Los hilos de PyTorch del núcleo (``OMP_NUM_THREADS`` del entorno de estudiante)."""
    return os.environ.get("OMP_NUM_THREADS", "?")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--homework", action="store_true")
    parser.add_argument("--timeout", type=int, default=180)
    parser.add_argument("--save", type=Path, default=None, help="carpeta de los ejecutados")
    parser.add_argument("--root", type=Path, default=None, help="raíz del repositorio")
    parser.add_argument(
        "--cpu", type=int, default=None, help="núcleo de la CPU al que se ata el núcleo de Jupyter"
    )
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args()
    if args.cpu is not None:
        # El núcleo de Jupyter hereda la afinidad: sus hilos de PyTorch (dos, como en Colab)
        # se reparten el trabajo igual que en Colab, pero no pelean con los del otro cuaderno
        # que se ejecuta a la vez (sin atarlos, cada paso espera a un hilo desalojado).
        os.sched_setaffinity(0, {args.cpu})
    for path in args.notebooks:
        save = None
        if args.save is not None and not args.homework:
            save = args.save / path.resolve().relative_to(args.root.resolve())
        try:
            result = run(path, args.kernel, args.homework, args.timeout, save)
        except Exception as err:  # el informe debe llegar aunque el núcleo no arranque
            result = {"notebook": str(path), "ok": False, "error": f"{type(err).__name__}: {err}"}
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
