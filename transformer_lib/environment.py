"""El entorno en que se ejecuta un experimento: máquina, versiones y commit.

Sirve para guardar, junto a unos resultados (p. ej. un barrido del capítulo 9), con qué se
obtuvieron: :func:`cpu_model`, :func:`describe_environment`, :func:`load_average`,
:func:`library_version` y :func:`git_commit`. Ninguna función falla si un dato no está
disponible: devuelven ``None`` (o lo que sepan) en su lugar.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path

import torch

__all__ = ["cpu_model", "describe_environment", "load_average", "library_version", "git_commit"]

_CPUINFO = Path("/proc/cpuinfo")


def cpu_model(cpuinfo: str | os.PathLike = _CPUINFO) -> str:
    """Nombre del procesador: la línea ``model name`` de ``/proc/cpuinfo`` en Linux.

    Parámetros:
        cpuinfo: archivo con el formato de ``/proc/cpuinfo``.

    Devuelve:
        El modelo de CPU; si el archivo no existe o no lo dice, lo que sepa ``platform``.
    """
    with contextlib.suppress(OSError):
        for line in Path(cpuinfo).read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def load_average() -> list[float] | None:
    """Carga media del sistema en 1, 5 y 15 minutos (None donde no se puede leer, p. ej. Windows)."""
    with contextlib.suppress(OSError, AttributeError):
        return [round(v, 2) for v in os.getloadavg()]
    return None


def describe_environment(torch_threads: int | None = None) -> dict:
    """La máquina y las versiones: CPU, núcleos, hilos de PyTorch, versiones y GPU.

    Parámetros:
        torch_threads: hilos con los que se va a trabajar; None = los que tiene PyTorch ahora.

    Devuelve:
        Un diccionario con ``cpu``, ``logical_cores``, ``torch_threads``, ``torch``,
        ``python``, ``platform`` y ``gpu`` (None sin CUDA).
    """
    return {
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads() if torch_threads is None else torch_threads,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
    }


def library_version() -> str | None:
    """Versión instalada de ``transformer_lib`` (None si no está instalada como paquete)."""
    try:
        return importlib.metadata.version("transformer_lib")
    except importlib.metadata.PackageNotFoundError:
        return None


def git_commit(path: str | os.PathLike | None = None,
               ignore: tuple[str | os.PathLike, ...] = ()) -> str | None:
    """Commit de git de la copia de trabajo que contiene ``path``.

    Parámetros:
        path: una carpeta del repositorio; None = la de esta biblioteca (solo si es una copia
            de trabajo de git de la biblioteca, no un paquete instalado).
        ignore: archivos cuyos cambios no cuentan como «sin confirmar» (p. ej. el propio
            archivo de resultados que se está escribiendo: para repetir la orden que lo hizo
            hay que borrar la versión confirmada).

    Devuelve:
        El hash completo, con ``-dirty`` al final si hay cambios sin confirmar en los archivos
        seguidos; None si no es un repositorio de git o git no está instalado.
    """
    cwd = Path(__file__).resolve().parent if path is None else Path(path)

    def git(*args: str) -> str | None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10)
            if proc.returncode == 0:
                return proc.stdout.strip()
        return None

    if path is None and git("ls-files", "--error-unmatch", Path(__file__).name) is None:
        return None  # instalada en un entorno que vive dentro de otro repositorio: no es su commit
    commit = git("rev-parse", "HEAD")
    if not commit:
        return None
    top, excluded = git("rev-parse", "--show-toplevel"), []
    for item in ignore if top else ():
        with contextlib.suppress(OSError, ValueError):
            excluded.append(":(top,exclude)" + Path(item).resolve().relative_to(Path(top).resolve()).as_posix())
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", ":/", *excluded)
    return commit + "-dirty" if dirty else commit
