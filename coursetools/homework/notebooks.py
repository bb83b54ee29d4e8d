"""Generador de las versiones del estudiante a partir de los cuadernos con solución.

Convención de nbgrader: en los cuadernos del profesor, la solución va entre dos líneas
``### BEGIN SOLUTION`` y ``### END SOLUTION``. En la versión del estudiante ese trozo se
sustituye por::

    # TU CÓDIGO AQUÍ
    raise NotImplementedError()

con la sangría de la marca. Además:

- se borran las salidas y los contadores de ejecución, y de los metadatos de cada celda
  solo se conservan las etiquetas;
- la celda de instalación para Colab (la primera, con la etiqueta ``remove-cell``) se
  escribe de nuevo con :func:`colab_cell`: instala ``transformer_lib[tareas]`` desde la URL
  de ``_config.yml``;
- las celdas con la etiqueta ``solo-solucion`` desaparecen;
- una celda con el ``raise`` fuera de toda función lanza la excepción al ejecutarse, así
  que recibe la etiqueta ``raises-exception`` (nbval la deja pasar);
- los metadatos del cuaderno guardan el id de la tarea (``tarea``), que usa el calificador.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

from ..repo import repository_url

BEGIN_MARK = "### BEGIN SOLUTION"
END_MARK = "### END SOLUTION"
STUB = ("# TU CÓDIGO AQUÍ", "raise NotImplementedError()")
SOLUTION_ONLY_TAG = "solo-solucion"
RAISES_TAG = "raises-exception"
#: Carpetas por defecto, relativas a la raíz del repositorio.
SOURCE = Path("instructor") / "tareas"
TARGET = Path("chapters") / "tareas"
CLASSROOM = Path(".github") / "classroom"

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
#: Primera línea de la celda de instalación para Colab (así se reconoce).
COLAB_HEADER = "# Celda para Colab: instala transformer_lib desde el repositorio del curso. Fuera de Colab no hace nada."
#: Orden del profesorado que regenera estos archivos (se cita en los mensajes).
COMMAND = "python -m coursetools.homework"


def colab_cell(url: str) -> str:
    """El código de la celda de instalación para Colab de las tareas.

    Parámetros:
        url: repositorio del curso.

    Devuelve:
        El código de la celda (instala ``transformer_lib[tareas]``, con el calificador).
    """
    from .classroom import install_requirement

    return (
        f"{COLAB_HEADER}\n"
        "import subprocess\nimport sys\n\n"
        'if "google.colab" in sys.modules:\n'
        '    subprocess.run([sys.executable, "-m", "pip", "install", "-q",\n'
        f'                    "{install_requirement(url)}"], check=True)'
    )


def _source_lines(source) -> list[str]:
    text = "".join(source) if isinstance(source, list) else source
    return text.split("\n")


def strip_solutions(code: str, where: str = "") -> tuple[str, bool]:
    """Sustituye cada bloque de solución por el esqueleto.

    Parámetros:
        code: el código de una celda.
        where: descripción de la celda para los mensajes de error.

    Devuelve:
        El código sin soluciones y si alguna se sustituyó sin sangría (la celda lanzará
        ``NotImplementedError`` al ejecutarse).
    """
    output: list[str] = []
    inside = False
    unindented = False
    for n, line in enumerate(code.split("\n"), start=1):
        marker = line.strip()
        if marker == BEGIN_MARK:
            if inside:
                raise ValueError(f"{where}, línea {n}: {BEGIN_MARK} dentro de otra solución.")
            inside = True
            indentation = line[: len(line) - len(line.lstrip())]
            unindented = unindented or indentation == ""
            output.extend(indentation + s for s in STUB)
        elif marker == END_MARK:
            if not inside:
                raise ValueError(f"{where}, línea {n}: {END_MARK} sin su {BEGIN_MARK}.")
            inside = False
        elif not inside:
            output.append(line)
    if inside:
        raise ValueError(f"{where}: falta {END_MARK}.")
    return "\n".join(output), unindented


def solution_lines(code: str) -> tuple[set[str], set[str]]:
    """Líneas (sin espacios a los lados) de dentro y de fuera de los bloques de solución."""
    inside_set, outside_set = set(), set()
    inside = False
    for line in code.split("\n"):
        marker = line.strip()
        if marker == BEGIN_MARK:
            inside = True
        elif marker == END_MARK:
            inside = False
        elif marker:
            (inside_set if inside else outside_set).add(marker)
    return inside_set, outside_set


def student_version(nb, name: str = "cuaderno", url: str | None = None):
    """Devuelve una copia de ``nb`` (nbformat) sin soluciones ni salidas.

    Parámetros:
        nb: el cuaderno del profesor.
        name: nombre del cuaderno (para los mensajes y el metadato ``tarea``).
        url: repositorio del curso para la celda de Colab; None la lee de ``_config.yml``.
    """
    new = copy.deepcopy(nb)
    cells = []
    for i, cell in enumerate(new.cells, start=1):
        tags = list(cell.metadata.get("tags", []))
        if SOLUTION_ONLY_TAG in tags:
            continue
        cell.metadata = {"tags": tags} if tags else {}
        if cell.cell_type == "code" and cell.source.startswith(COLAB_HEADER):
            cell.source = colab_cell(url or repository_url())
        if cell.cell_type == "code":
            code, raises = strip_solutions(cell.source, f"{name}, celda {i}")
            cell.source = code
            cell.outputs = []
            cell.execution_count = None
            if raises and RAISES_TAG not in tags:
                cell.metadata["tags"] = tags + [RAISES_TAG]
        elif BEGIN_MARK in cell.source:
            raise ValueError(f"{name}, celda {i}: las marcas de solución solo valen en celdas de código.")
        cells.append(cell)
    new.cells = cells
    new.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"},
                      "tarea": Path(name).stem}
    return new


def _read(path: Path):
    import nbformat

    return nbformat.read(path, as_version=4)


def _dumps(nb) -> str:
    import nbformat

    return nbformat.writes(nb) + "\n"


def sources(source: str | os.PathLike = SOURCE) -> list[Path]:
    """Los cuadernos del profesor (``tarea_*.ipynb``) de la carpeta ``fuente``."""
    paths = sorted(Path(source).glob("tarea_*.ipynb"))
    if not paths:
        raise FileNotFoundError(
            f"No hay cuadernos tarea_*.ipynb en {Path(source)}: ejecuta el comando desde la raíz del "
            "repositorio o indica la carpeta con --fuente."
        )
    return paths


def generate(source: str | os.PathLike = SOURCE, target: str | os.PathLike = TARGET,
            classroom: str | os.PathLike | None = CLASSROOM) -> list[Path]:
    """Escribe en ``target`` la versión del estudiante de cada cuaderno de ``source``.

    También escribe en ``classroom`` (si no es None) el flujo de GitHub Classroom de cada tarea.

    Devuelve:
        Las rutas escritas.
    """
    from .classroom import workflows

    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sources(source):
        output = target / path.name
        output.write_text(_dumps(student_version(_read(path), path.name)), encoding="utf-8")
        written.append(output)
    if classroom is not None:
        Path(classroom).mkdir(parents=True, exist_ok=True)
        for path, text in workflows(classroom).items():
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def leaks(nb_instructor, nb_student) -> list[str]:
    """Líneas de solución que aparecen en la versión del estudiante.

    Una línea cuenta como fuga si está dentro de un bloque de solución del cuaderno del
    profesor, no aparece fuera de esos bloques y sí aparece en el del estudiante.
    """
    inside, outside = set(), set()
    for cell in nb_instructor.cells:
        d, f = solution_lines(cell.source)
        inside |= d
        outside |= f
    secret = inside - outside - {s.strip() for s in STUB}
    found_leaks = []
    for i, cell in enumerate(nb_student.cells, start=1):
        for line in cell.source.split("\n"):
            if line.strip() in secret:
                found_leaks.append(f"celda {i}: {line.strip()}")
    return found_leaks


def problems(source: str | os.PathLike = SOURCE, target: str | os.PathLike = TARGET,
              classroom: str | os.PathLike | None = CLASSROOM) -> list[str]:
    """Lista lo que falla en las versiones del estudiante: ausentes, desactualizadas o con fugas.

    Con ``classroom``, comprueba también que los flujos de GitHub Classroom estén al día.

    Devuelve:
        Mensajes en español; lista vacía si todo está al día.
    """
    from .classroom import workflows

    found = []
    if classroom is not None:
        for path, text in workflows(classroom).items():
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                found.append(f"{path} no está al día: ejecuta `{COMMAND} generar`.")
    target = Path(target)
    for path in sources(source):
        output = target / path.name
        if not output.is_file():
            found.append(f"Falta {output}: ejecuta `{COMMAND} generar`.")
            continue
        instructor = _read(path)
        expected = json.loads(_dumps(student_version(instructor, path.name)))
        actual = json.loads(output.read_text(encoding="utf-8"))
        if actual != expected:
            found.append(
                f"{output} no está al día con {path}: ejecuta `{COMMAND} generar`."
            )
        for leak in leaks(instructor, _read(output)):
            found.append(f"{output} contiene una línea de la solución ({leak}).")
    return found
