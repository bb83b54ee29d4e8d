"""Qué importan los cuadernos y qué requisito de ``pyproject.toml`` lo instala.

Un estudiante instala ``transformer_lib`` con los extras que pide la celda de Colab de cada
cuaderno (``transformer_lib[notebooks] @ git+…``). Aquí se comprueba que todo lo que importa
un cuaderno llega así: la biblioteca estándar, el propio paquete, el núcleo de Jupyter
(IPython e ipykernel), las dependencias del paquete o las de un extra que la celda instala.
Una importación dentro de un ``try`` que captura ``ImportError`` es opcional y no cuenta.

Lo usan ``tools/check_notebooks.py`` (la celda de Colab debe pedir los extras que el cuaderno
necesita) y ``tests/test_notebook_requirements.py``.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from functools import cache
from pathlib import Path

import nbformat
import tomllib  # Python >= 3.11, como CI y make venv

from coursetools.repo import ROOT

PACKAGE = "transformer_lib"
#: Lo que trae cualquier núcleo de Jupyter (y Colab): no hace falta declararlo.
KERNEL_MODULES = frozenset({"IPython", "ipykernel"})
#: Los extras que instala un estudiante (``book`` y ``test`` son del mantenimiento del curso).
STUDENT_EXTRAS = ("notebooks", "tareas")
_MAGIC = re.compile(r"^\s*[%!]")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")
_INSTALL = re.compile(rf"{PACKAGE}(?:\[([^\]]*)\])?\s*@\s*git\+")


def _normalize(name: str) -> str:
    """Nombre de distribución normalizado (PEP 503): ``Jupyter_Book`` → ``jupyter-book``."""
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def declared_requirements(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, frozenset[str]]:
    """Distribuciones que declara ``pyproject.toml``: ``""`` para las del paquete y un extra por clave.

    Parámetros:
        pyproject: el archivo del proyecto.

    Devuelve:
        Por ejemplo ``{"": {"torch", "numpy", …}, "notebooks": {"ipywidgets", …}, …}``.
    """
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    groups = {"": project.get("dependencies", []), **project.get("optional-dependencies", {})}
    return {
        extra: frozenset(_normalize(_NAME.match(req.strip()).group(0)) for req in reqs)
        for extra, reqs in groups.items()
    }


def _optional(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Si la importación está dentro de un ``try`` que captura ``ImportError``."""
    parent = parents.get(node)
    while parent is not None:
        if isinstance(parent, ast.Try) and any(
            isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError")
            for h in parent.handlers
        ):
            return True
        parent = parents.get(parent)
    return False


def notebook_imports(path: Path) -> set[str]:
    """Módulos de primer nivel que importa un cuaderno sin alternativa (``torch``, ``numpy``…).

    Parámetros:
        path: el cuaderno.

    Devuelve:
        Los nombres, sin las importaciones opcionales (dentro de ``try … except ImportError``).
    """
    found: set[str] = set()
    for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type != "code":
            continue
        source = "\n".join("pass" if _MAGIC.match(line) else line for line in cell.source.splitlines())
        try:
            tree = ast.parse(source)
        except SyntaxError as err:
            raise ValueError(f"{path.name}, celda {index}: no es Python válido ({err.msg}).") from err
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            if not _optional(node, parents):
                found |= {name.split(".")[0] for name in names}
    return found


def colab_extras(path: Path) -> set[str]:
    """Extras de ``transformer_lib`` que instala la celda de Colab del cuaderno.

    Parámetros:
        path: el cuaderno.

    Devuelve:
        Por ejemplo ``{"notebooks"}``; vacío si la celda instala el paquete sin extras.
    """
    cells = nbformat.read(path, as_version=4).cells
    match = _INSTALL.search(cells[0].source) if cells and cells[0].cell_type == "code" else None
    if match is None:
        raise ValueError(f"{path.name}: la primera celda no instala {PACKAGE} desde git.")
    return {e.strip() for e in (match.group(1) or "").split(",") if e.strip()}


@cache
def _distributions(module: str) -> frozenset[str]:
    """Distribuciones instaladas que traen el módulo ``module``."""
    return frozenset(_normalize(d) for d in _installed_modules().get(module, []))


@cache
def _installed_modules() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def requirement_for(module: str) -> str | None:
    """Grupo de ``pyproject.toml`` que instala ``module``: ``""`` (el paquete) o un extra.

    Parámetros:
        module: módulo de primer nivel, como lo importa un cuaderno.

    Devuelve:
        ``""`` si no hace falta declararlo (biblioteca estándar, el paquete, el núcleo) o lo
        declaran las dependencias del paquete; el extra de estudiante que lo declara
        (:data:`STUDENT_EXTRAS`); ``None`` si ninguno de ellos lo declara.
    """
    if module in sys.stdlib_module_names or module == PACKAGE or module in KERNEL_MODULES:
        return ""
    dists = _distributions(module) or {_normalize(module)}
    groups = declared_requirements()
    if dists & groups[""]:
        return ""
    return next((e for e in STUDENT_EXTRAS if dists & groups.get(e, frozenset())), None)


def needed_extras(path: Path) -> set[str]:
    """Extras que necesita lo que importa un cuaderno (los de las tareas, aparte)."""
    return {extra for m in notebook_imports(path) if (extra := requirement_for(m))}


def uncovered_imports(path: Path) -> list[str]:
    """Importaciones del cuaderno que no instala su celda de Colab, con el motivo, en español.

    Parámetros:
        path: el cuaderno.

    Devuelve:
        Una línea por módulo; vacía si todo lo que importa el cuaderno está declarado.
    """
    installed = colab_extras(path)
    problems = []
    for module in sorted(notebook_imports(path)):
        extra = requirement_for(module)
        if extra is None:
            problems.append(f"{module}: ningún requisito de pyproject.toml lo declara")
        elif extra and extra not in installed:
            problems.append(
                f"{module}: lo declara el extra [{extra}], pero la celda de Colab no lo instala"
            )
    return problems
