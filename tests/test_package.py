"""Pruebas del paquete entero: nombres públicos, ciclos de importación, matplotlib, tamaño
de los módulos y nombres que importan los cuadernos.

No prueban ninguna pieza en concreto (eso lo hacen los demás archivos de ``tests/``):
vigilan la estructura de ``transformer_lib`` para que siga creciendo por conceptos.
"""

from __future__ import annotations

import ast
import graphlib
import importlib
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import torch

import transformer_lib

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = Path(transformer_lib.__file__).resolve().parent
MAX_MODULE_LINES = 400

#: Módulos que el paquete debe poder importar sin cargar matplotlib.
NO_MATPLOTLIB = [
    "transformer_lib",
    "transformer_lib.models",
    "transformer_lib.training",
    "transformer_lib.data",
    "transformer_lib.scaling",
]


# ---------------------------------------------------------------------------------------
# Utilidades


def _module_names() -> list[str]:
    """Todos los módulos y subpaquetes de ``transformer_lib`` (sin los ``__main__``)."""
    found = [
        info.name
        for info in pkgutil.walk_packages(transformer_lib.__path__, "transformer_lib.")
        if not info.name.endswith(".__main__")
    ]
    return ["transformer_lib", *sorted(found)]


def _module_files(package_dir: Path = PACKAGE_DIR, package: str = "transformer_lib") -> dict[str, Path]:
    """Nombre de módulo → archivo, para cada ``.py`` del paquete."""
    files: dict[str, Path] = {}
    for path in sorted(package_dir.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = [package, *path.relative_to(package_dir).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        files[".".join(parts)] = path
    return files


def _is_type_checking(test: ast.expr) -> bool:
    """``if TYPE_CHECKING:`` o ``if typing.TYPE_CHECKING:``."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level_imports(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """Importaciones que se ejecutan al importar el módulo.

    Entra en ``if``/``try``/``with`` y en el cuerpo de las clases; no entra en las funciones
    ni en los bloques ``if TYPE_CHECKING:``.
    """
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                found += _module_level_imports(node.body)
            found += _module_level_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                found += _module_level_imports(block)
            for handler in node.handlers:
                found += _module_level_imports(handler.body)
        elif isinstance(node, ast.With | ast.ClassDef):
            found += _module_level_imports(node.body)
    return found


def _resolve_from(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """Módulo absoluto de un ``from X import …`` (relativo o no) escrito en ``module``."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def import_graph(
    package_dir: Path = PACKAGE_DIR, package: str = "transformer_lib"
) -> dict[str, set[str]]:
    """Grafo de importaciones a nivel de módulo dentro de un paquete.

    Parámetros:
        package_dir: carpeta del paquete.
        package: su nombre de importación.

    Devuelve:
        Para cada módulo, el conjunto de módulos del paquete que importa al cargarse.
        ``from . import x`` apunta al submódulo ``x`` si existe; si no, al paquete.
    """
    files = _module_files(package_dir, package)
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in _module_level_imports(tree.body):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                source = _resolve_from(name, is_package, node)
                for alias in node.names:
                    submodule = f"{source}.{alias.name}"
                    targets.append(submodule if submodule in files else source)
            graph[name].update(t for t in targets if t in files and t != name)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Un ciclo del grafo (``[a, b, …, a]``) o ``None`` si es acíclico."""
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as err:
        return list(reversed(err.args[1]))  # graphlib da el ciclo al revés
    return None


def _notebooks() -> list[Path]:
    return sorted(
        p
        for folder in ("chapters", "instructor")
        for p in (ROOT / folder).rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts
    )


_MAGIC = re.compile(r"^\s*[%!]", re.M)


def _notebook_imports(path: Path) -> list[tuple[str, str]]:
    """Pares (módulo, nombre) de cada ``from transformer_lib… import …`` del cuaderno."""
    pairs: list[tuple[str, str]] = []
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(
            "pass" if _MAGIC.match(line) else line for line in cell.source.splitlines()
        )
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module.split(".")[0] == "transformer_lib":
                    pairs += [(node.module, alias.name) for alias in node.names]
    return pairs


def _id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# ---------------------------------------------------------------------------------------
# Pruebas


def test_tests_run_single_threaded() -> None:
    """La fixture automática ``one_thread`` de ``tests/conftest.py`` está activa."""
    assert torch.get_num_threads() == 1


def test_module_discovery_finds_every_module() -> None:
    """``walk_packages`` encuentra todos los archivos (un subpaquete que no importa no se ve)."""
    on_disk = {name for name in _module_files() if not name.endswith(".__main__")}
    assert "transformer_lib.attention" in on_disk and "transformer_lib.tareas" in on_disk
    assert set(_module_names()) == on_disk


@pytest.mark.parametrize("module_name", _module_names())
def test_every_name_in_all_is_importable(module_name: str) -> None:
    module = importlib.import_module(module_name)
    public = list(getattr(module, "__all__", []))  # sin __all__ basta con que se importe
    assert len(public) == len(set(public)), f"{module_name}.__all__ tiene nombres repetidos"
    missing = [name for name in public if getattr(module, name, None) is None]
    assert not missing, f"{module_name}.__all__ anuncia nombres que no existen: {missing}"
    namespace: dict[str, object] = {}
    exec(f"from {module_name} import *", namespace)  # lo que haría quien lo usa
    assert set(public) <= set(namespace), f"{module_name}: import * no trae {set(public) - set(namespace)}"


def test_import_graph_resolves_relative_imports() -> None:
    """El grafo ve las importaciones relativas (si no, la prueba de ciclos no vale nada)."""
    graph = import_graph()
    assert "transformer_lib.attention" in graph["transformer_lib"]
    assert any("transformer_lib.attention" in edges for name, edges in graph.items()
               if name != "transformer_lib")  # fmt: skip


def test_cycle_detection_on_a_toy_package(tmp_path: Path) -> None:
    """Relativas, ``from . import x``, ``TYPE_CHECKING`` e importaciones dentro de funciones."""
    pkg = tmp_path / "toy"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .a import f\n", encoding="utf-8")
    (pkg / "a.py").write_text(
        "from typing import TYPE_CHECKING\nfrom . import b\n"
        "if TYPE_CHECKING:\n    from .sub import c\n"
        "def f():\n    from toy.sub import c\n",
        encoding="utf-8",
    )
    (pkg / "b.py").write_text("import os\n", encoding="utf-8")
    (pkg / "sub" / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "sub" / "c.py").write_text("from .. import a\n", encoding="utf-8")
    graph = import_graph(pkg, "toy")
    assert graph == {"toy": {"toy.a"}, "toy.a": {"toy.b"}, "toy.b": set(),
                     "toy.sub": set(), "toy.sub.c": {"toy.a"}}  # fmt: skip
    assert find_cycle(graph) is None
    (pkg / "b.py").write_text("try:\n    from .sub.c import x\nexcept ImportError:\n    pass\n",
                              encoding="utf-8")  # fmt: skip
    cycle = find_cycle(import_graph(pkg, "toy"))
    assert cycle is not None and cycle[0] == cycle[-1]
    assert set(cycle) == {"toy.a", "toy.b", "toy.sub.c"}


def test_import_graph_is_acyclic() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "ciclo de importación: " + " → ".join(cycle or [])


def test_core_modules_do_not_load_matplotlib() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {NO_MATPLOTLIB!r}:\n"
        "    importlib.import_module(name)\n"
        "    if 'matplotlib' in sys.modules:\n"
        "        print(name)\n"
        "        break\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    culprit = result.stdout.strip()
    assert not culprit, f"`import {culprit}` carga matplotlib: impórtalo dentro de las funciones de plots/"


def test_no_module_is_too_long() -> None:
    lengths = {
        path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in _module_files().values()
    }
    too_long = {name: n for name, n in sorted(lengths.items()) if n > MAX_MODULE_LINES}
    assert not too_long, f"módulos de más de {MAX_MODULE_LINES} líneas: {too_long}"


@pytest.mark.parametrize("path", _notebooks(), ids=_id)
def test_names_imported_by_notebooks_exist(path: Path) -> None:
    missing = []
    for module_name, name in _notebook_imports(path):
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            missing.append(f"{module_name} ({err})")
            continue
        if name != "*" and not hasattr(module, name):
            try:
                importlib.import_module(f"{module_name}.{name}")
            except ImportError:
                missing.append(f"{module_name}.{name}")
    assert not missing, f"{_id(path)} importa nombres que no existen: {missing}"


# ---------------------------------------------------------------------------------------
# Capas: las importaciones solo bajan (también las que están dentro de funciones)

#: El orden de CONTRIBUTING.md («Mapa del paquete»): cada componente solo importa los de su
#: nivel o de niveles anteriores.
LAYERS = [
    {"_checks", "utils", "files", "environment", "book"},
    {"attention", "positional", "normalization", "feedforward"},
    {"multihead"},
    {"blocks"},
    {"models"},
    {"data"},
    {"training"},
    {"scaling"},
    {"experiments"},
    {"interop"},
    {"plots"},
    {"cli"},
    {"tareas"},
]
RANK = {name: level for level, names in enumerate(LAYERS) for name in names}


def _component(module: str) -> str | None:
    """``transformer_lib.training.loop`` → ``training``; la raíz del paquete → None."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "transformer_lib" else None


def _all_internal_imports(
    package_dir: Path = PACKAGE_DIR, package: str = "transformer_lib"
) -> list[tuple[str, str, str]]:
    """(módulo, módulo importado, función que lo importa o '') para todo el paquete.

    A diferencia de :func:`import_graph`, incluye todas las importaciones escritas: dentro de
    funciones (también ``__getattr__``), de ``__main__`` y de ``if TYPE_CHECKING:``.
    ``from . import x`` apunta al submódulo ``x`` si existe; si no, al paquete.
    """
    files = _module_files(package_dir, package)
    found = []
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                source = _resolve_from(name, is_package, node)
                targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in files else source
                           for a in node.names]  # fmt: skip
            else:
                continue
            function, parent = "", parents.get(node)
            while parent is not None:
                if isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef):
                    function = parent.name
                    break
                parent = parents.get(parent)
            found += [(name, t, function) for t in targets if t.split(".")[0] == package]
    return found


def full_import_graph(
    package_dir: Path = PACKAGE_DIR, package: str = "transformer_lib"
) -> dict[str, set[str]]:
    """Grafo de todas las importaciones escritas en el paquete, sin excepciones.

    Un ``import`` aplazado (dentro de una función o de un ``__getattr__`` de PEP 562) no
    rompe un ciclo: solo lo esconde hasta que alguien llama a la función.
    """
    files = _module_files(package_dir, package)
    graph: dict[str, set[str]] = {name: set() for name in files}
    for module, target, _ in _all_internal_imports(package_dir, package):
        if target in files and target != module:
            graph[module].add(target)
    return graph


def test_every_component_has_a_layer() -> None:
    components = {_component(name) for name in _module_files()} - {None, "__main__"}
    assert components <= set(RANK), f"sin capa en LAYERS: {sorted(components - set(RANK))}"


def test_imports_only_go_down_the_layers() -> None:
    """Ninguna importación sube de capa, ni siquiera dentro de una función o de un
    ``__getattr__``. Única excepción: los ``__main__`` (puntos de entrada)."""
    upward = []
    for module, target, function in _all_internal_imports():
        source, dest = _component(module), _component(target)
        if source is None or dest is None or module.endswith(".__main__"):
            continue
        if RANK[dest] > RANK[source]:
            upward.append(f"{module} → {target}" + (f" (en {function})" if function else ""))
    assert not upward, "importaciones que suben de capa:\n" + "\n".join(upward)


def test_full_graph_sees_deferred_imports(tmp_path: Path) -> None:
    """Un ciclo cerrado por una importación dentro de una función o de un ``__getattr__`` de
    PEP 562 cuenta: :func:`import_graph` no lo ve y :func:`full_import_graph` sí."""
    pkg = tmp_path / "toy"
    (pkg / "low").mkdir(parents=True)
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "high.py").write_text("from .low import f\n", encoding="utf-8")
    (pkg / "low" / "__init__.py").write_text(
        "def f():\n    return 1\n"
        "def __getattr__(name):\n    from .. import high\n    return getattr(high, name)\n",
        encoding="utf-8",
    )
    assert find_cycle(import_graph(pkg, "toy")) is None
    graph = full_import_graph(pkg, "toy")
    assert graph == {"toy": set(), "toy.high": {"toy.low"}, "toy.low": {"toy.high"}}
    assert set(find_cycle(graph) or []) == {"toy.high", "toy.low"}
    (pkg / "low" / "__init__.py").write_text(
        "def g():\n    import toy.high\n", encoding="utf-8"
    )  # dentro de una función normal, con import absoluto
    assert set(find_cycle(full_import_graph(pkg, "toy")) or []) == {"toy.high", "toy.low"}


def test_no_cycle_counting_every_import() -> None:
    """Ningún ciclo contando todas las importaciones: dentro de funciones, en los
    ``__getattr__`` de módulo, en los ``__main__`` y bajo ``TYPE_CHECKING``."""
    graph = full_import_graph()
    assert sum(len(edges) for edges in graph.values()) > 100  # el grafo no está vacío
    cycle = find_cycle(graph)
    assert cycle is None, "ciclo de importación: " + " → ".join(cycle or [])
