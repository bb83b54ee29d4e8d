"""Ejecuta en paralelo los cuadernos del libro y guarda el resultado en la caché de Jupyter Book.

Jupyter Book 1 (myst-nb, ``execute_notebooks: cache``) ejecuta los cuadernos de uno en
uno mientras lee las páginas. Este script hace el mismo trabajo antes, con varios
procesos, y deja cada cuaderno ejecutado en ``_build/.jupyter_cache`` con la misma clave
que usaría myst-nb (un hash de las celdas de código). Después, ``jupyter-book build``
encuentra todo en la caché y solo genera el HTML.

Si un cuaderno falla aquí, no se guarda nada: ``jupyter-book build`` lo vuelve a
ejecutar y muestra el error con su traza (y con ``-W`` la construcción falla).

Uso::

    python -m tools.execute_notebooks [--jobs 2] [--timeout 180]
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path, PurePosixPath

import nbformat
import yaml

from coursetools.repo import ROOT, book_config


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.execute_notebooks", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--jobs", "-j", type=int, default=2, help="procesos en paralelo")
    parser.add_argument(
        "--timeout", type=int, default=None, help="segundos por celda (por defecto, _config.yml)"
    )
    args = parser.parse_args(argv)

    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

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
            # Misma entrada que crearía myst-nb: primero en el proyecto, luego en la caché.
            record = cache.add_nb_to_project(path)
            cache.cache_notebook_bundle(
                CacheBundleIn(
                    nb,
                    record.uri,
                    data={
                        "execution_seconds": seconds,
                        # Para chapters/estado.md (jupyter-cache guarda otra fecha).
                        "executed_at": detail,
                    },
                ),
                check_validity=False,
                overwrite=True,
            )
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
