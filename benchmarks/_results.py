"""El archivo de resultados de un guion de benchmarks/: fila a fila, atómico, con su procedencia.

Cada guion que acepta ``--out`` guarda la orden con la que se ejecutó, sus opciones, el
entorno (torch, CPU, hilos y commit de git) y las filas medidas; reescribe el archivo de forma
atómica después de cada fila, así que una interrupción deja como mucho la última fila sin
guardar y nunca un archivo a medias, y al terminar anota ``complete`` y ``wall_seconds``.
"""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

from transformer_lib.environment import describe_environment, git_commit
from transformer_lib.files import write_json_atomic


class ResultsLog:
    """Las filas de un benchmark y, si hay ``out``, su archivo JSON.

    Parámetros:
        out: ruta del archivo (None = no se escribe nada).
        settings: las opciones del guion.
        threads: hilos de PyTorch que se anotan en el entorno.
        **extra: campos adicionales del archivo (p. ej. la receta).
    """

    def __init__(self, out: str | None, settings: dict, threads: int, **extra) -> None:
        script = Path(sys.argv[0]).name
        self.out = out
        self.t0 = time.perf_counter()
        self.results = {"command": shlex.join(["python", f"benchmarks/{script}", *sys.argv[1:]]),
                        "settings": settings, **extra,
                        "environment": {**describe_environment(torch_threads=threads), "git_commit": git_commit()},
                        "rows": [], "complete": False}

    @property
    def rows(self) -> list[dict]:
        """Las filas guardadas hasta ahora."""
        return self.results["rows"]

    def _wall(self) -> float:
        return round(time.perf_counter() - self.t0, 1)

    def add(self, row: dict) -> None:
        """Añade una fila y, si hay archivo, lo reescribe de forma atómica."""
        self.rows.append(row)
        if self.out:
            write_json_atomic(self.out, {**self.results, "wall_seconds": self._wall()})

    def finish(self, **fields) -> dict:
        """Marca el archivo como completo (con ``fields`` añadidos) y lo escribe por última vez."""
        self.results.update(fields, complete=True, wall_seconds=self._wall())
        if self.out:
            write_json_atomic(self.out, self.results)
            print(f"Resultados en {self.out} ({self.results['wall_seconds'] / 60:.1f} minutos)")
        return self.results
