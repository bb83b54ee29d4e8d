"""Comprueba la higiene de los cuadernos del curso (lo ejecuta ``make test``).

Reglas (ver CONTRIBUTING.md):

* sin salidas, sin contadores de ejecución y sin estado de widgets guardado
  (``nbstripout`` lo deja así; el gancho de pre-commit lo aplica solo), salvo el texto
  impreso por las celdas marcadas con ``# NBVAL_CHECK_OUTPUT`` y ``keep_output: true``,
  que nbval compara (``tools/save_checked_outputs.py`` lo guarda);
* ``kernelspec`` exactamente ``python3`` / ``Python 3`` / ``python``;
* la primera celda es la celda de instalación para Colab, idéntica a la plantilla,
  con la URL del repositorio de ``_config.yml`` y la etiqueta ``remove-cell``;
* la siguiente celda es de Markdown y empieza por el título (``# …``);
* hay una celda que elige el dispositivo (``get_device()``);
* toda celda ``requires-gpu`` lleva también ``skip-execution``.

Uso::

    python -m tools.check_notebooks [CUADERNO ...]

Sin argumentos revisa todos los ``.ipynb`` de ``chapters/``. Sale con código 1 si
encuentra algún problema y los enumera todos.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

from coursetools.notebook_requirements import needed_extras
from coursetools.repo import ROOT, repository_url

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}

COLAB_TEMPLATE = """\
# Celda para Colab: instala transformer_lib desde el repositorio del curso. Fuera de Colab no hace nada.
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "transformer_lib @ git+{url}"], check=True)"""

#: Metadatos de celda que delatan una ejecución guardada (nbstripout los quita).
EXECUTION_METADATA = ("execution", "ExecuteTime", "collapsed", "scrolled")


def expected_colab_cell(url: str | None = None, extras: set[str] | frozenset[str] = frozenset()) -> str:
    """Texto exacto que debe tener la primera celda de un cuaderno que necesita esos extras."""
    text = COLAB_TEMPLATE.format(url=url or repository_url())
    if extras:
        text = text.replace('"transformer_lib @', f'"transformer_lib[{",".join(sorted(extras))}] @')
    return text


def repository_notebooks() -> list[Path]:
    """Todos los ``.ipynb`` de ``chapters/`` (sin ``.ipynb_checkpoints``)."""
    return sorted(
        p for p in (ROOT / "chapters").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
    )


def _tags(cell: nbformat.NotebookNode) -> list[str]:
    tags = cell.get("metadata", {}).get("tags", [])
    return list(tags) if isinstance(tags, list) else []


def _is_checked_output(cell: nbformat.NotebookNode) -> bool:
    """Una celda que nbval compara: marcada, con ``keep_output`` y solo texto en stdout."""
    return (
        "# NBVAL_CHECK_OUTPUT" in cell.source
        and cell.get("metadata", {}).get("keep_output") is True
        and all(o.get("output_type") == "stream" and o.get("name") == "stdout"
                for o in cell.get("outputs", []))
    )


def notebook_problems(path: Path, url: str | None = None) -> list[str]:
    """Lista de problemas de higiene de un cuaderno (vacía si está en orden)."""
    problems: list[str] = []
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # noqa: BLE001 - informamos de cualquier fallo de lectura
        return [f"no se puede leer como cuaderno: {exc}"]
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        problems.append(f"no cumple el esquema nbformat: {exc.message}")

    # Metadatos del cuaderno.
    if nb.metadata.get("kernelspec") != KERNELSPEC:
        problems.append(f"kernelspec debe ser {KERNELSPEC}, es {nb.metadata.get('kernelspec')!r}")
    if "widgets" in nb.metadata:
        problems.append("guarda estado de widgets (metadata.widgets): pasa nbstripout")

    # Celdas.
    for i, cell in enumerate(nb.cells):
        where = f"celda {i}"
        if cell.cell_type == "code":
            if cell.get("outputs") and not _is_checked_output(cell):
                problems.append(
                    f"{where}: tiene salidas guardadas: pasa nbstripout (solo las celdas con "
                    "'# NBVAL_CHECK_OUTPUT' guardan su texto, con tools/save_checked_outputs.py)"
                )
            if cell.get("execution_count") is not None and not _is_checked_output(cell):
                problems.append(f"{where}: tiene execution_count: pasa nbstripout")
        if cell.get("attachments"):
            problems.append(f"{where}: tiene adjuntos; guarda las imágenes en chapters/figuras/")
        for key in EXECUTION_METADATA:
            if key in cell.get("metadata", {}):
                problems.append(f"{where}: metadato {key!r} de una ejecución: pasa nbstripout")
        tags = _tags(cell)
        if "requires-gpu" in tags and "skip-execution" not in tags:
            problems.append(f"{where}: 'requires-gpu' sin 'skip-execution'")

    if not nb.cells:
        return [*problems, "el cuaderno está vacío"]

    # Primera celda: instalación para Colab.
    first = nb.cells[0]
    # Los extras de lo que importa el cuaderno y, en las tareas, el calificador («tareas»).
    try:
        extras = needed_extras(path) | ({"tareas"} if path.parent.name == "tareas" else set())
    except ValueError as exc:
        return [*problems, str(exc)]
    expected = expected_colab_cell(url, extras)
    if first.cell_type != "code":
        problems.append("la primera celda debe ser la celda de código de Colab")
    else:
        if first.source.strip() != expected.strip():
            problems.append(
                "la primera celda no es la celda de Colab de la plantilla "
                f"(ver CONTRIBUTING.md; la URL sale de _config.yml; extras: {sorted(extras)})"
            )
        if "remove-cell" not in _tags(first):
            problems.append("la celda de Colab debe llevar la etiqueta 'remove-cell'")

    # Título.
    if len(nb.cells) < 2 or nb.cells[1].cell_type != "markdown":
        problems.append("la segunda celda debe ser de Markdown con el título")
    elif not nb.cells[1].source.lstrip().startswith("# "):
        problems.append("la segunda celda debe empezar por el título: '# N. Título'")

    # Celda de dispositivo.
    if not any(c.cell_type == "code" and "get_device(" in c.source for c in nb.cells):
        problems.append("falta la celda de dispositivo y semilla (get_device(), set_seed())")
    return problems


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    paths = [Path(a).resolve() for a in argv] if argv else repository_notebooks()
    if not paths:
        print("No hay cuadernos que revisar.")
        return 0
    url = repository_url()
    total = 0
    for path in paths:
        for problem in notebook_problems(path, url):
            total += 1
            try:
                name = path.relative_to(ROOT)
            except ValueError:
                name = path
            print(f"{name}: {problem}")
    if total:
        print(f"\n{total} problema(s) en los cuadernos. Para quitar salidas: nbstripout CUADERNO")
        return 1
    print(f"{len(paths)} cuadernos revisados: todo en orden.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
