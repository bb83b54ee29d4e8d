"""Generador de las versiones del estudiante a partir de los cuadernos con solución.

Convención de nbgrader: en los cuadernos del profesor, la solución va entre dos líneas
``### BEGIN SOLUTION`` y ``### END SOLUTION``. En la versión del estudiante ese trozo se
sustituye por::

    # TU CÓDIGO AQUÍ
    raise NotImplementedError()

con la sangría de la marca. Además:

- se borran las salidas y los contadores de ejecución, y de los metadatos de cada celda
  solo se conservan las etiquetas (la celda de instalación para Colab queda intacta);
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

MARCA_INICIO = "### BEGIN SOLUTION"
MARCA_FIN = "### END SOLUTION"
STUB = ("# TU CÓDIGO AQUÍ", "raise NotImplementedError()")
ETIQUETA_SOLO_SOLUCION = "solo-solucion"
ETIQUETA_EXCEPCION = "raises-exception"
#: Carpetas por defecto, relativas a la raíz del repositorio.
FUENTE = Path("instructor") / "tareas"
DESTINO = Path("chapters") / "tareas"
CLASSROOM = Path(".github") / "classroom"

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def _fuente_lineas(source) -> list[str]:
    texto = "".join(source) if isinstance(source, list) else source
    return texto.split("\n")


def quitar_soluciones(codigo: str, donde: str = "") -> tuple[str, bool]:
    """Sustituye cada bloque de solución por el esqueleto.

    Parámetros:
        codigo: el código de una celda.
        donde: descripción de la celda para los mensajes de error.

    Devuelve:
        El código sin soluciones y si alguna se sustituyó sin sangría (la celda lanzará
        ``NotImplementedError`` al ejecutarse).
    """
    salida: list[str] = []
    dentro = False
    sin_sangria = False
    for n, linea in enumerate(codigo.split("\n"), start=1):
        marca = linea.strip()
        if marca == MARCA_INICIO:
            if dentro:
                raise ValueError(f"{donde}, línea {n}: {MARCA_INICIO} dentro de otra solución.")
            dentro = True
            sangria = linea[: len(linea) - len(linea.lstrip())]
            sin_sangria = sin_sangria or sangria == ""
            salida.extend(sangria + s for s in STUB)
        elif marca == MARCA_FIN:
            if not dentro:
                raise ValueError(f"{donde}, línea {n}: {MARCA_FIN} sin su {MARCA_INICIO}.")
            dentro = False
        elif not dentro:
            salida.append(linea)
    if dentro:
        raise ValueError(f"{donde}: falta {MARCA_FIN}.")
    return "\n".join(salida), sin_sangria


def lineas_de_solucion(codigo: str) -> tuple[set[str], set[str]]:
    """Líneas (sin espacios a los lados) de dentro y de fuera de los bloques de solución."""
    dentro_set, fuera_set = set(), set()
    dentro = False
    for linea in codigo.split("\n"):
        marca = linea.strip()
        if marca == MARCA_INICIO:
            dentro = True
        elif marca == MARCA_FIN:
            dentro = False
        elif marca:
            (dentro_set if dentro else fuera_set).add(marca)
    return dentro_set, fuera_set


def version_estudiante(nb, nombre: str = "cuaderno"):
    """Devuelve una copia de ``nb`` (nbformat) sin soluciones ni salidas.

    Parámetros:
        nb: el cuaderno del profesor.
        nombre: nombre del cuaderno (para los mensajes y el metadato ``tarea``).
    """
    nuevo = copy.deepcopy(nb)
    celdas = []
    for i, celda in enumerate(nuevo.cells, start=1):
        etiquetas = list(celda.metadata.get("tags", []))
        if ETIQUETA_SOLO_SOLUCION in etiquetas:
            continue
        celda.metadata = {"tags": etiquetas} if etiquetas else {}
        if celda.cell_type == "code":
            codigo, lanza = quitar_soluciones(celda.source, f"{nombre}, celda {i}")
            celda.source = codigo
            celda.outputs = []
            celda.execution_count = None
            if lanza and ETIQUETA_EXCEPCION not in etiquetas:
                celda.metadata["tags"] = etiquetas + [ETIQUETA_EXCEPCION]
        elif MARCA_INICIO in celda.source:
            raise ValueError(f"{nombre}, celda {i}: las marcas de solución solo valen en celdas de código.")
        celdas.append(celda)
    nuevo.cells = celdas
    nuevo.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"},
                      "tarea": Path(nombre).stem}
    return nuevo


def _leer(ruta: Path):
    import nbformat

    return nbformat.read(ruta, as_version=4)


def _texto(nb) -> str:
    import nbformat

    return nbformat.writes(nb) + "\n"


def fuentes(fuente: str | os.PathLike = FUENTE) -> list[Path]:
    """Los cuadernos del profesor (``tarea_*.ipynb``) de la carpeta ``fuente``."""
    rutas = sorted(Path(fuente).glob("tarea_*.ipynb"))
    if not rutas:
        raise FileNotFoundError(
            f"No hay cuadernos tarea_*.ipynb en {Path(fuente)}: ejecuta el comando desde la raíz del "
            "repositorio o indica la carpeta con --fuente."
        )
    return rutas


def generar(fuente: str | os.PathLike = FUENTE, destino: str | os.PathLike = DESTINO,
            classroom: str | os.PathLike | None = CLASSROOM) -> list[Path]:
    """Escribe en ``destino`` la versión del estudiante de cada cuaderno de ``fuente``.

    También escribe en ``classroom`` (si no es None) el flujo de GitHub Classroom de cada tarea.

    Devuelve:
        Las rutas escritas.
    """
    from .classroom import flujos

    destino = Path(destino)
    destino.mkdir(parents=True, exist_ok=True)
    escritas = []
    for ruta in fuentes(fuente):
        salida = destino / ruta.name
        salida.write_text(_texto(version_estudiante(_leer(ruta), ruta.name)), encoding="utf-8")
        escritas.append(salida)
    if classroom is not None:
        Path(classroom).mkdir(parents=True, exist_ok=True)
        for ruta, texto in flujos(classroom).items():
            ruta.write_text(texto, encoding="utf-8")
            escritas.append(ruta)
    return escritas


def fugas(nb_profesor, nb_estudiante) -> list[str]:
    """Líneas de solución que aparecen en la versión del estudiante.

    Una línea cuenta como fuga si está dentro de un bloque de solución del cuaderno del
    profesor, no aparece fuera de esos bloques y sí aparece en el del estudiante.
    """
    dentro, fuera = set(), set()
    for celda in nb_profesor.cells:
        d, f = lineas_de_solucion(celda.source)
        dentro |= d
        fuera |= f
    secretas = dentro - fuera - {s.strip() for s in STUB}
    encontradas = []
    for i, celda in enumerate(nb_estudiante.cells, start=1):
        for linea in celda.source.split("\n"):
            if linea.strip() in secretas:
                encontradas.append(f"celda {i}: {linea.strip()}")
    return encontradas


def problemas(fuente: str | os.PathLike = FUENTE, destino: str | os.PathLike = DESTINO,
              classroom: str | os.PathLike | None = CLASSROOM) -> list[str]:
    """Lista lo que falla en las versiones del estudiante: ausentes, desactualizadas o con fugas.

    Con ``classroom``, comprueba también que los flujos de GitHub Classroom estén al día.

    Devuelve:
        Mensajes en español; lista vacía si todo está al día.
    """
    from .classroom import flujos

    encontrados = []
    if classroom is not None:
        for ruta, texto in flujos(classroom).items():
            if not ruta.is_file() or ruta.read_text(encoding="utf-8") != texto:
                encontrados.append(f"{ruta} no está al día: ejecuta `python -m transformer_lib.tareas generar`.")
    destino = Path(destino)
    for ruta in fuentes(fuente):
        salida = destino / ruta.name
        if not salida.is_file():
            encontrados.append(f"Falta {salida}: ejecuta `python -m transformer_lib.tareas generar`.")
            continue
        profesor = _leer(ruta)
        esperado = json.loads(_texto(version_estudiante(profesor, ruta.name)))
        actual = json.loads(salida.read_text(encoding="utf-8"))
        if actual != esperado:
            encontrados.append(
                f"{salida} no está al día con {ruta}: ejecuta `python -m transformer_lib.tareas generar`."
            )
        for fuga in fugas(profesor, _leer(salida)):
            encontrados.append(f"{salida} contiene una línea de la solución ({fuga}).")
    return encontrados
