"""Guarda en los cuadernos las salidas de las celdas que nbval debe comparar.

Los cuadernos se guardan sin salidas, salvo las celdas marcadas con
``# NBVAL_CHECK_OUTPUT``: sus salidas (solo texto impreso) se guardan junto con el
metadato ``keep_output: true`` (nbstripout lo respeta) para que ``make test`` compruebe
con nbval que el cuaderno sigue imprimiendo exactamente lo mismo. Así una afirmación
del texto («la profunda sin residual aprende menos: True») queda verificada en cada CI.

Uso::

    python tools/guardar_salidas_verificadas.py chapters/03_residuales.ipynb [...]
    python tools/guardar_salidas_verificadas.py --limpiar chapters/*.ipynb

Ejecuta cada cuaderno en un núcleo nuevo (con un hilo de PyTorch, como en ``make test``)
y reescribe solo las celdas marcadas. nbval solo compara una celda que tenga contador de
ejecución, así que las marcadas guardan ``execution_count = 1``. Con ``--limpiar`` no
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

MARCA = "# NBVAL_CHECK_OUTPUT"


def guardar(ruta: Path, timeout: int = 300) -> int:
    """Ejecuta ``ruta`` y guarda las salidas de sus celdas marcadas; devuelve cuántas."""
    original = nbformat.read(ruta, as_version=4)
    ejecutado = nbformat.read(ruta, as_version=4)
    for celda in ejecutado.cells:  # el libro no ejecuta las celdas de GPU; nbval las salta
        if "requires-gpu" in celda.get("metadata", {}).get("tags", []):
            celda.source = "pass"
    NotebookClient(ejecutado, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(ruta.parent)}}).execute()
    marcadas = 0
    for celda, hecha in zip(original.cells, ejecutado.cells):
        if celda.cell_type != "code":
            continue
        if MARCA not in celda.source:
            celda.outputs, celda.execution_count = [], None
            celda.metadata.pop("keep_output", None)
            continue
        salidas = [o for o in hecha.outputs]
        raras = [o for o in salidas if o.output_type != "stream" or o.get("name") != "stdout"]
        if raras or not salidas:
            tipo = raras[0].output_type if raras else "ninguna salida"
            raise SystemExit(
                f"{ruta}: una celda marcada con {MARCA} produce {tipo}; solo se admite texto "
                f"impreso en stdout.\n--- celda ---\n{celda.source[:300]}"
            )
        texto = "".join(o.text for o in salidas)
        celda.outputs = [nbformat.v4.new_output("stream", name="stdout", text=texto)]
        celda.execution_count = 1
        celda.metadata["keep_output"] = True
        marcadas += 1
    nbformat.write(original, ruta)
    return marcadas


def limpiar(ruta: Path) -> bool:
    """Quita salidas y contadores de las celdas no verificadas; devuelve si cambió algo."""
    nb = nbformat.read(ruta, as_version=4)
    cambiado = False
    for celda in nb.cells:
        if celda.cell_type != "code" or celda.get("metadata", {}).get("keep_output") is True:
            continue
        if celda.outputs or celda.execution_count is not None:
            celda.outputs, celda.execution_count = [], None
            cambiado = True
    if cambiado:
        nbformat.write(nb, ruta)
    return cambiado


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    if argv[0] == "--limpiar":
        for nombre in argv[1:]:
            if limpiar(Path(nombre)):
                print(f"{nombre}: salidas y contadores quitados")
        return 0
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    for nombre in argv:
        ruta = Path(nombre).resolve()
        n = guardar(ruta)
        print(f"{nombre}: {n} celda(s) verificada(s) por nbval")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
