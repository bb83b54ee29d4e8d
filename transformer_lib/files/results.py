"""Los archivos de ``results/`` desde un cuaderno: en el repositorio o, en Colab, descargados.

Los capítulos leen resultados precalculados (barridos, benchmarks) con rutas relativas a la
raíz del repositorio, p. ej. ``results/sweep_size.json``. :func:`find_results` los busca
subiendo desde la carpeta actual (los cuadernos viven en ``chapters/``) y, fuera de un clon (en
Colab), los descarga del repositorio del curso con pooch, que escribe de forma atómica.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["COURSE_RAW_URL", "find_results"]

# La raíz del repositorio del curso en GitHub, para descargar results/ (tests/test_results.py
# comprueba que coincide con repository.url de _config.yml).
COURSE_RAW_URL = "https://raw.githubusercontent.com/curso-transformers/transformers-ii/main/"


def find_results(name: str | os.PathLike, start: str | os.PathLike | None = None,
                 download: bool | None = None) -> Path:
    """La ruta de ``name`` (relativa a la raíz del repositorio), buscándola desde ``start`` hacia arriba.

    Parámetros:
        name: p. ej. ``"results/sweep_size.json"``.
        start: carpeta desde la que buscar (None = la actual).
        download: si no está, descargarla del repositorio del curso a ``name`` (relativa a la
            carpeta actual). None = solo en Colab.

    Lanza:
        FileNotFoundError: si no está y no se descarga (en español, con qué hacer).
    """
    name = Path(name)
    here = Path(start) if start is not None else Path.cwd()
    for folder in (here, *here.resolve().parents):
        if (folder / name).is_file():
            return folder / name
    if download is None:
        download = "google.colab" in sys.modules
    if download:
        import pooch

        url = COURSE_RAW_URL + name.as_posix()
        return Path(pooch.retrieve(url, known_hash=None, fname=name.name, path=name.parent.resolve(),
                                   progressbar=False))
    raise FileNotFoundError(f"No encuentro {name.as_posix()} subiendo desde {here}: ejecuta el cuaderno desde el "
                            f"repositorio del curso o genera el archivo con la orden que cita el capítulo.")
