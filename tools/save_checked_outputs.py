"""Guarda en los cuadernos las salidas de las celdas que nbval debe comparar.

Los cuadernos se guardan sin salidas, salvo las celdas marcadas con
``# NBVAL_CHECK_OUTPUT``: sus salidas (solo texto impreso) se guardan junto con el
metadato ``keep_output: true`` (nbstripout lo respeta) para que ``make test`` compruebe
con nbval que el cuaderno sigue imprimiendo exactamente lo mismo. Así una afirmación
del texto («la profunda sin residual aprende menos: True») queda verificada en cada CI.

Uso::

    python -m tools.save_checked_outputs chapters/03_residuales.ipynb [...]
    python -m tools.save_checked_outputs --clean chapters/*.ipynb

Ejecuta cada cuaderno en un núcleo nuevo, con los hilos de PyTorch con que lo compara
``make test`` (:func:`threads_for`: los dos de Colab en un capítulo, que nbval ejecuta en el
entorno de estudiante; uno en una tarea o una solución), y reescribe solo las celdas marcadas. nbval solo compara una celda que tenga contador de
ejecución, así que las marcadas guardan ``execution_count = 1``. Con ``--clean`` no
ejecuta nada: quita salidas y contadores de las demás celdas (lo usa el gancho de
pre-commit después de ``nbstripout --keep-count``, que respeta ``keep_output``). Si una celda marcada produce algo que no es texto
impreso en stdout (una figura, un aviso en stderr), se detiene con un error: quita la
marca o cambia la celda.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

MARK = "# NBVAL_CHECK_OUTPUT"


def threads_for(path: Path) -> int:
    """Hilos de PyTorch con que ``make test`` ejecuta ``path`` en nbval.

    Los capítulos (``chapters/*.ipynb``) corren en el entorno de estudiante con los de Colab
    (``make student-env``); las tareas y sus soluciones, con uno (``make nbval``).
    """
    from tools.student_env import COLAB_THREADS

    return COLAB_THREADS if path.resolve().parent.name == "chapters" else 1


def save_outputs(path: Path, timeout: int = 300) -> int:
    """Ejecuta ``ruta`` y guarda las salidas de sus celdas marcadas; devuelve cuántas."""
    original = nbformat.read(path, as_version=4)
    executed = nbformat.read(path, as_version=4)
    for cell in executed.cells:  # el libro no ejecuta las celdas de GPU; nbval las salta
        if "requires-gpu" in cell.get("metadata", {}).get("tags", []):
            cell.source = "pass"
    env = {**os.environ, "OMP_NUM_THREADS": str(threads_for(path)), "OMP_WAIT_POLICY": "PASSIVE"}
    NotebookClient(executed, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute(env=env)
    checked = 0
    for cell, done in zip(original.cells, executed.cells):
        if cell.cell_type != "code":
            continue
        if MARK not in cell.source:
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("keep_output", None)
            continue
        outputs = [o for o in done.outputs]
        unexpected = [o for o in outputs if o.output_type != "stream" or o.get("name") != "stdout"]
        if unexpected or not outputs:
            kind = unexpected[0].output_type if unexpected else "ninguna salida"
            raise SystemExit(
                f"{path}: una celda marcada con {MARK} produce {kind}; solo se admite texto "
                f"impreso en stdout.\n--- celda ---\n{cell.source[:300]}"
            )
        text = "".join(o.text for o in outputs)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        cell.execution_count = 1
        cell.metadata["keep_output"] = True
        checked += 1
    nbformat.write(original, path)
    return checked


def clean_outputs(path: Path) -> bool:
    """Quita salidas y contadores de las celdas no verificadas; devuelve si cambió algo."""
    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        if cell.cell_type != "code" or cell.get("metadata", {}).get("keep_output") is True:
            continue
        if cell.outputs or cell.execution_count is not None:
            cell.outputs, cell.execution_count = [], None
            changed = True
    if changed:
        nbformat.write(nb, path)
    return changed


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    if argv[0] == "--clean":
        for name in argv[1:]:
            if clean_outputs(Path(name)):
                print(f"{name}: salidas y contadores quitados")
        return 0
    os.environ.setdefault("TQDM_DISABLE", "1")
    for name in argv:
        path = Path(name).resolve()
        n = save_outputs(path)
        print(f"{name}: {n} celda(s) verificada(s) por nbval")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
