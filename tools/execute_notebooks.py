"""Ejecuta en paralelo los cuadernos del libro y guarda el resultado en la caché de Jupyter Book.

Jupyter Book 1 (myst-nb, ``execute_notebooks: cache``) ejecuta los cuadernos de uno en
uno mientras lee las páginas. Este script hace el mismo trabajo antes, con varios
procesos, y deja cada cuaderno ejecutado en ``_build/.jupyter_cache`` con la misma clave
que usaría myst-nb (un hash de las celdas de código). Después, ``jupyter-book build``
encuentra todo en la caché y solo genera el HTML.

Si un cuaderno falla aquí, no se guarda nada: ``jupyter-book build`` lo vuelve a
ejecutar y muestra el error con su traza (y con ``-W`` la construcción falla).

Con ``--from CARPETA`` (lo usa ``make test``), un cuaderno que ya se ejecutó entero en otra
prueba no se ejecuta otra vez: ``tools/student_env.py`` deja cada capítulo ejecutado en el
entorno de estudiante en ``_build/student-env/executed/``, y aquí se guardan sus salidas en
la caché si su código es el del cuaderno y la huella de ``transformer_lib``
(:func:`package_fingerprint`) es la de ahora. Los que no estén, o no valgan, se ejecutan.

Uso::

    python -m tools.execute_notebooks [--jobs 2] [--timeout 180] [--from CARPETA]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path, PurePosixPath

import nbformat
import yaml

from coursetools.repo import ROOT, book_config

#: Archivo, dentro de la carpeta de ``--from``, con la huella del paquete que la produjo.
FINGERPRINT_FILE = "huella-transformer_lib.txt"


def package_fingerprint(root: Path = ROOT) -> str:
    """Huella (sha256) del código de ``transformer_lib``, ``pyproject.toml`` y ``constraints.txt``.

    Parámetros:
        root: raíz del repositorio.

    Devuelve:
        64 cifras hexadecimales; cambian si cambia cualquiera de esos archivos.
    """
    digest = hashlib.sha256()
    files = sorted((root / "transformer_lib").rglob("*.py"))
    files += [root / "pyproject.toml", root / "constraints.txt"]
    for path in files:
        if "__pycache__" in path.parts or not path.is_file():
            continue
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def executed_copy(path: Path, folder: Path) -> tuple[nbformat.NotebookNode | None, str]:
    """El cuaderno ``path`` con las salidas de su copia ejecutada en ``folder``.

    Parámetros:
        path: cuaderno del libro.
        folder: carpeta de los ejecutados (con :data:`FINGERPRINT_FILE`).

    Devuelve:
        ``(cuaderno, "")`` si la copia vale: el cuaderno fuente con las salidas, los
        contadores y el estado de los widgets de la copia (así su clave en la caché es la
        del fuente). Si no vale, ``(None, motivo)``.
    """
    stamp = folder / FINGERPRINT_FILE
    if not stamp.is_file() or stamp.read_text(encoding="ascii").strip() != package_fingerprint():
        return None, "la copia es de otro transformer_lib"
    copy = folder / path.resolve().relative_to(ROOT)
    if not copy.is_file():
        return None, "no hay copia ejecutada"
    nb = nbformat.read(path, as_version=4)
    done = nbformat.read(copy, as_version=4)
    code = [(c.cell_type, c.source, c.metadata) for c in nb.cells if c.cell_type == "code"]
    ran = [(c.cell_type, c.source, c.metadata) for c in done.cells if c.cell_type == "code"]
    if code != ran:
        return None, "el código de la copia no es el del cuaderno"
    cells = iter(c for c in done.cells if c.cell_type == "code")
    for cell in nb.cells:
        if cell.cell_type == "code":
            executed = next(cells)
            cell.outputs = executed.outputs
            cell.execution_count = executed.execution_count
    for key in ("language_info", "widgets"):
        if key in done.metadata:
            nb.metadata[key] = done.metadata[key]
    return nb, ""


def _book_notebooks(config: dict) -> list[Path]:
    """Cuadernos del índice (``_toc.yml``) que el libro ejecuta (sin los excluidos)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    entries: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "file" in node:
                entries.append(str(node["file"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(toc)
    excluded = config.get("execute", {}).get("exclude_patterns", []) or []
    notebooks = []
    for entry in entries:
        path = ROOT / f"{entry}.ipynb"
        if not path.exists():
            continue
        posix = PurePosixPath(path.as_posix())
        if any(posix.match(pattern) for pattern in excluded):
            continue
        notebooks.append(path)
    return notebooks


def _execute(path: str, timeout: int) -> tuple[str, nbformat.NotebookNode | None, float, str]:
    """Ejecuta un cuaderno en su carpeta (como myst-nb). Devuelve (ruta, cuaderno, s, error).

    Si todo va bien, el último elemento es la hora (UTC) en que terminó, para la página
    de estado (``_ext/execution_status.py``); si falla, el error.
    """
    from jupyter_cache.executors.utils import single_nb_execution

    nb = nbformat.read(path, as_version=4)
    result = single_nb_execution(
        nb, cwd=str(Path(path).parent), timeout=timeout, allow_errors=False, meta_override=True
    )
    if result.err is not None:
        return path, None, result.time, f"{type(result.err).__name__}: {result.err}"
    finished = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return path, nb, result.time, finished


def _store(cache, path: Path, nb: nbformat.NotebookNode, seconds: float, finished: str) -> None:
    """Guarda ``nb`` ejecutado en la caché con la misma entrada que crearía myst-nb."""
    from jupyter_cache.base import CacheBundleIn

    record = cache.add_nb_to_project(str(path))
    cache.cache_notebook_bundle(
        CacheBundleIn(
            nb,
            record.uri,
            # Para chapters/estado.md (jupyter-cache guarda otra fecha).
            data={"execution_seconds": seconds, "executed_at": finished},
        ),
        check_validity=False,
        overwrite=True,
    )


def _reuse(cache, pending: list[Path], folder: Path) -> list[Path]:
    """Guarda en la caché las copias ejecutadas que valen; devuelve los que faltan."""
    left = []
    for path in pending:
        nb, reason = executed_copy(path, folder)
        name = path.relative_to(ROOT)
        if nb is None:
            print(f"  · {name}: se ejecuta ({reason})", flush=True)
            left.append(path)
            continue
        copy = folder / path.resolve().relative_to(ROOT)
        run = nbformat.read(copy, as_version=4).metadata.get("student_env", {})
        _store(cache, path, nb, float(run.get("seconds", 0.0)), str(run.get("finished", "")))
        print(f"  ✓ {name}: salidas del entorno de estudiante", flush=True)
    return left


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.execute_notebooks", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--jobs", "-j", type=int, default=2, help="procesos en paralelo")
    parser.add_argument(
        "--timeout", type=int, default=None, help="segundos por celda (por defecto, _config.yml)"
    )
    parser.add_argument(
        "--from",
        dest="executed",
        type=Path,
        default=None,
        help="carpeta con cuadernos ya ejecutados que se reutilizan si valen",
    )
    args = parser.parse_args(argv)

    from jupyter_cache import get_cache

    config = book_config()
    mode = config.get("execute", {}).get("execute_notebooks", "auto")
    if mode != "cache":
        print(f"execute_notebooks es {mode!r}, no 'cache': no hay nada que preparar.")
        return 0
    timeout = args.timeout or int(config.get("execute", {}).get("timeout", 30))
    cache_path = config.get("execute", {}).get("cache") or str(ROOT / "_build" / ".jupyter_cache")
    cache = get_cache(cache_path)

    pending = []
    for path in _book_notebooks(config):
        nb = nbformat.read(path, as_version=4)
        try:
            cache.match_cache_notebook(nb)
        except KeyError:
            pending.append(path)
    if pending and args.executed is not None:
        pending = _reuse(cache, pending, args.executed)
    if not pending:
        print("Todos los cuadernos del libro están ya en la caché de ejecución.")
        return 0

    print(f"Ejecutando {len(pending)} cuaderno(s) con {args.jobs} proceso(s)…", flush=True)
    start = time.perf_counter()
    failures = 0
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(_execute, str(path), timeout) for path in pending]
        for future in futures:
            path, nb, seconds, detail = future.result()
            name = Path(path).relative_to(ROOT)
            if nb is None:
                failures += 1
                print(f"  ✗ {name} ({seconds:.1f} s): {detail.splitlines()[0][:200]}", flush=True)
                continue
            _store(cache, Path(path), nb, seconds, detail)
            print(f"  ✓ {name} ({seconds:.1f} s)", flush=True)
    total = time.perf_counter() - start
    print(f"Ejecución terminada en {total:.1f} s.", flush=True)
    if failures:
        print(
            f"{failures} cuaderno(s) fallaron; jupyter-book los ejecutará de nuevo y mostrará "
            "el error completo.",
            flush=True,
        )
    # No devolvemos error: el veredicto lo da `jupyter-book build -W`.
    return 0


if __name__ == "__main__":
    sys.exit(main())
