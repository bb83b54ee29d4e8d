"""Ejecuta cuadernos DENTRO del entorno de estudiante (lo lanza ``tools/student_env.py``).

Lo ejecuta el Python de las herramientas del repositorio (que tiene nbclient y nbformat),
con ``-I``; las celdas corren en el núcleo ``NOMBRE``, que usa el Python del entorno virtual
de estudiante (ver ``kernel_dir`` en ``tools/student_env.py``): el cuaderno solo ve lo que
ese entorno tiene instalado. Escribe una línea JSON por cuaderno en la salida estándar.
Con ``--save CARPETA``, guarda además cada capítulo ejecutado entero (salidas y estado de
los widgets) en ``CARPETA/<ruta del cuaderno>``: de allí lo toma el libro sin ejecutarlo
otra vez (``tools/execute_notebooks.py --from``).

Uso (interno)::

    .venv/bin/python -I tools/_student_runner.py --kernel NOMBRE [--homework]
        [--save CARPETA --root RAÍZ] CUADERNO...
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--homework", action="store_true")
    parser.add_argument("--timeout", type=int, default=180)
    parser.add_argument("--save", type=Path, default=None, help="carpeta de los ejecutados")
    parser.add_argument("--root", type=Path, default=None, help="raíz del repositorio")
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args()
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
