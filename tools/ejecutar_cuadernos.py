"""Ejecuta en paralelo los cuadernos del libro y guarda el resultado en la caché de Jupyter Book.

Jupyter Book 1 (myst-nb, ``execute_notebooks: cache``) ejecuta los cuadernos de uno en
uno mientras lee las páginas. Este script hace el mismo trabajo antes, con varios
procesos, y deja cada cuaderno ejecutado en ``_build/.jupyter_cache`` con la misma clave
que usaría myst-nb (un hash de las celdas de código). Después, ``jupyter-book build``
encuentra todo en la caché y solo genera el HTML.

Si un cuaderno falla aquí, no se guarda nada: ``jupyter-book build`` lo vuelve a
ejecutar y muestra el error con su traza (y con ``-W`` la construcción falla).

Uso::

    python tools/ejecutar_cuadernos.py [--jobs 2] [--timeout 180]
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path, PurePosixPath

import nbformat
import yaml

RAIZ = Path(__file__).resolve().parents[1]


def _leer_config() -> dict:
    return yaml.safe_load((RAIZ / "_config.yml").read_text(encoding="utf-8"))


def _cuadernos_del_libro(config: dict) -> list[Path]:
    """Cuadernos del índice (``_toc.yml``) que el libro ejecuta (sin los excluidos)."""
    toc = yaml.safe_load((RAIZ / "_toc.yml").read_text(encoding="utf-8"))
    entradas: list[str] = []

    def recorrer(nodo: object) -> None:
        if isinstance(nodo, dict):
            if "file" in nodo:
                entradas.append(str(nodo["file"]))
            for valor in nodo.values():
                recorrer(valor)
        elif isinstance(nodo, list):
            for valor in nodo:
                recorrer(valor)

    recorrer(toc)
    excluidos = config.get("execute", {}).get("exclude_patterns", []) or []
    cuadernos = []
    for entrada in entradas:
        ruta = RAIZ / f"{entrada}.ipynb"
        if not ruta.exists():
            continue
        posix = PurePosixPath(ruta.as_posix())
        if any(posix.match(patron) for patron in excluidos):
            continue
        cuadernos.append(ruta)
    return cuadernos


def _ejecutar(ruta: str, timeout: int) -> tuple[str, nbformat.NotebookNode | None, float, str]:
    """Ejecuta un cuaderno en su carpeta (como myst-nb). Devuelve (ruta, cuaderno, s, error)."""
    from jupyter_cache.executors.utils import single_nb_execution

    nb = nbformat.read(ruta, as_version=4)
    resultado = single_nb_execution(
        nb, cwd=str(Path(ruta).parent), timeout=timeout, allow_errors=False, meta_override=True
    )
    if resultado.err is not None:
        return ruta, None, resultado.time, f"{type(resultado.err).__name__}: {resultado.err}"
    return ruta, nb, resultado.time, ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", "-j", type=int, default=2, help="procesos en paralelo")
    parser.add_argument(
        "--timeout", type=int, default=None, help="segundos por celda (por defecto, _config.yml)"
    )
    args = parser.parse_args(argv)

    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    config = _leer_config()
    modo = config.get("execute", {}).get("execute_notebooks", "auto")
    if modo != "cache":
        print(f"execute_notebooks es {modo!r}, no 'cache': no hay nada que preparar.")
        return 0
    timeout = args.timeout or int(config.get("execute", {}).get("timeout", 30))
    ruta_cache = config.get("execute", {}).get("cache") or str(RAIZ / "_build" / ".jupyter_cache")
    cache = get_cache(ruta_cache)

    pendientes = []
    for ruta in _cuadernos_del_libro(config):
        nb = nbformat.read(ruta, as_version=4)
        try:
            cache.match_cache_notebook(nb)
        except KeyError:
            pendientes.append(ruta)
    if not pendientes:
        print("Todos los cuadernos del libro están ya en la caché de ejecución.")
        return 0

    print(f"Ejecutando {len(pendientes)} cuaderno(s) con {args.jobs} proceso(s)…", flush=True)
    inicio = time.perf_counter()
    fallos = 0
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futuros = [pool.submit(_ejecutar, str(ruta), timeout) for ruta in pendientes]
        for futuro in futuros:
            ruta, nb, segundos, error = futuro.result()
            nombre = Path(ruta).relative_to(RAIZ)
            if nb is None:
                fallos += 1
                print(f"  ✗ {nombre} ({segundos:.1f} s): {error.splitlines()[0][:200]}", flush=True)
                continue
            # Misma entrada que crearía myst-nb: primero en el proyecto, luego en la caché.
            registro = cache.add_nb_to_project(ruta)
            cache.cache_notebook_bundle(
                CacheBundleIn(nb, registro.uri, data={"execution_seconds": segundos}),
                check_validity=False,
                overwrite=True,
            )
            print(f"  ✓ {nombre} ({segundos:.1f} s)", flush=True)
    total = time.perf_counter() - inicio
    print(f"Ejecución terminada en {total:.1f} s.", flush=True)
    if fallos:
        print(
            f"{fallos} cuaderno(s) fallaron; jupyter-book los ejecutará de nuevo y mostrará "
            "el error completo.",
            flush=True,
        )
    # No devolvemos error: el veredicto lo da `jupyter-book build -W`.
    return 0


if __name__ == "__main__":
    sys.exit(main())
