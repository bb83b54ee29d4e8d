"""Comprueba la higiene de los cuadernos del curso (lo ejecuta ``make test``).

Reglas (ver CONTRIBUTING.md):

* sin salidas, sin contadores de ejecución y sin estado de widgets guardado
  (``nbstripout`` lo deja así; el gancho de pre-commit lo aplica solo), salvo el texto
  impreso por las celdas marcadas con ``# NBVAL_CHECK_OUTPUT`` y ``keep_output: true``,
  que nbval compara (``tools/guardar_salidas_verificadas.py`` lo guarda);
* ``kernelspec`` exactamente ``python3`` / ``Python 3`` / ``python``;
* la primera celda es la celda de instalación para Colab, idéntica a la plantilla,
  con la URL del repositorio de ``_config.yml`` y la etiqueta ``remove-cell``;
* la siguiente celda es de Markdown y empieza por el título (``# …``);
* hay una celda que elige el dispositivo (``get_device()``);
* toda celda ``requires-gpu`` lleva también ``skip-execution``.

Uso::

    python tools/check_notebooks.py [CUADERNO ...]

Sin argumentos revisa todos los ``.ipynb`` de ``chapters/``. Sale con código 1 si
encuentra algún problema y los enumera todos.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import yaml

RAIZ = Path(__file__).resolve().parents[1]

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}

PLANTILLA_COLAB = """\
# Celda para Colab: instala transformer_lib desde el repositorio del curso. Fuera de Colab no hace nada.
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "transformer_lib @ git+{url}"], check=True)"""

#: Metadatos de celda que delatan una ejecución guardada (nbstripout los quita).
METADATOS_DE_EJECUCION = ("execution", "ExecuteTime", "collapsed", "scrolled")


def url_repositorio() -> str:
    """URL del repositorio según ``_config.yml`` (sin barra final)."""
    config = yaml.safe_load((RAIZ / "_config.yml").read_text(encoding="utf-8"))
    return str(config["repository"]["url"]).rstrip("/")


def celda_colab_esperada(url: str | None = None) -> str:
    """Texto exacto que debe tener la primera celda de cada cuaderno."""
    return PLANTILLA_COLAB.format(url=url or url_repositorio())


def cuadernos_del_repositorio() -> list[Path]:
    """Todos los ``.ipynb`` de ``chapters/`` (sin ``.ipynb_checkpoints``)."""
    return sorted(
        p for p in (RAIZ / "chapters").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
    )


def _etiquetas(celda: nbformat.NotebookNode) -> list[str]:
    etiquetas = celda.get("metadata", {}).get("tags", [])
    return list(etiquetas) if isinstance(etiquetas, list) else []


def _salida_verificada(celda: nbformat.NotebookNode) -> bool:
    """Una celda que nbval compara: marcada, con ``keep_output`` y solo texto en stdout."""
    return (
        "# NBVAL_CHECK_OUTPUT" in celda.source
        and celda.get("metadata", {}).get("keep_output") is True
        and all(o.get("output_type") == "stream" and o.get("name") == "stdout"
                for o in celda.get("outputs", []))
    )


def problemas_de_cuaderno(ruta: Path, url: str | None = None) -> list[str]:
    """Lista de problemas de higiene de un cuaderno (vacía si está en orden)."""
    problemas: list[str] = []
    try:
        nb = nbformat.read(ruta, as_version=4)
    except Exception as exc:  # noqa: BLE001 - informamos de cualquier fallo de lectura
        return [f"no se puede leer como cuaderno: {exc}"]
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        problemas.append(f"no cumple el esquema nbformat: {exc.message}")

    # Metadatos del cuaderno.
    if nb.metadata.get("kernelspec") != KERNELSPEC:
        problemas.append(f"kernelspec debe ser {KERNELSPEC}, es {nb.metadata.get('kernelspec')!r}")
    if "widgets" in nb.metadata:
        problemas.append("guarda estado de widgets (metadata.widgets): pasa nbstripout")

    # Celdas.
    for i, celda in enumerate(nb.cells):
        donde = f"celda {i}"
        if celda.cell_type == "code":
            if celda.get("outputs") and not _salida_verificada(celda):
                problemas.append(
                    f"{donde}: tiene salidas guardadas: pasa nbstripout (solo las celdas con "
                    "'# NBVAL_CHECK_OUTPUT' guardan su texto, con tools/guardar_salidas_verificadas.py)"
                )
            if celda.get("execution_count") is not None and not _salida_verificada(celda):
                problemas.append(f"{donde}: tiene execution_count: pasa nbstripout")
        if celda.get("attachments"):
            problemas.append(f"{donde}: tiene adjuntos; guarda las imágenes en chapters/figuras/")
        for clave in METADATOS_DE_EJECUCION:
            if clave in celda.get("metadata", {}):
                problemas.append(f"{donde}: metadato {clave!r} de una ejecución: pasa nbstripout")
        etiquetas = _etiquetas(celda)
        if "requires-gpu" in etiquetas and "skip-execution" not in etiquetas:
            problemas.append(f"{donde}: 'requires-gpu' sin 'skip-execution'")

    if not nb.cells:
        return [*problemas, "el cuaderno está vacío"]

    # Primera celda: instalación para Colab.
    primera = nb.cells[0]
    esperada = celda_colab_esperada(url)
    if ruta.parent.name == "tareas":  # las tareas instalan también el calificador (extra «tareas»)
        esperada = esperada.replace('"transformer_lib @', '"transformer_lib[tareas] @')
    if primera.cell_type != "code":
        problemas.append("la primera celda debe ser la celda de código de Colab")
    else:
        if primera.source.strip() != esperada.strip():
            problemas.append(
                "la primera celda no es la celda de Colab de la plantilla "
                "(ver CONTRIBUTING.md; la URL sale de _config.yml)"
            )
        if "remove-cell" not in _etiquetas(primera):
            problemas.append("la celda de Colab debe llevar la etiqueta 'remove-cell'")

    # Título.
    if len(nb.cells) < 2 or nb.cells[1].cell_type != "markdown":
        problemas.append("la segunda celda debe ser de Markdown con el título")
    elif not nb.cells[1].source.lstrip().startswith("# "):
        problemas.append("la segunda celda debe empezar por el título: '# N. Título'")

    # Celda de dispositivo.
    if not any(c.cell_type == "code" and "get_device(" in c.source for c in nb.cells):
        problemas.append("falta la celda de dispositivo y semilla (get_device(), set_seed())")
    return problemas


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    rutas = [Path(a).resolve() for a in argv] if argv else cuadernos_del_repositorio()
    if not rutas:
        print("No hay cuadernos que revisar.")
        return 0
    url = url_repositorio()
    total = 0
    for ruta in rutas:
        for problema in problemas_de_cuaderno(ruta, url):
            total += 1
            try:
                nombre = ruta.relative_to(RAIZ)
            except ValueError:
                nombre = ruta
            print(f"{nombre}: {problema}")
    if total:
        print(f"\n{total} problema(s) en los cuadernos. Para quitar salidas: nbstripout CUADERNO")
        return 1
    print(f"{len(rutas)} cuadernos revisados: todo en orden.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
