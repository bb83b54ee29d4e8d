"""Instala paquetes en un entorno virtual con uv, con los mismos orígenes que pip.

``make venv`` y el entorno de estudiante (``tools/student_env.py``) instalan con
`uv <https://docs.astral.sh/uv/>`_: crear un entorno con torch y las dependencias del libro
baja de ~75 s con pip a ~10 s en frío. uv no lee la configuración de pip, así que este
módulo le pasa la de pip:

- los ``find-links`` (``PIP_FIND_LINKS`` o ``pip config``): en las máquinas del proyecto,
  la carpeta donde está la rueda CPU de ``torch==2.13.0``;
- los índices extra (``PIP_EXTRA_INDEX_URL`` o ``pip config``): en GitHub Actions, el índice
  CPU de PyTorch. Se descartan los índices ``file://`` que no existen.

Con ``--index-strategy unsafe-best-match`` uv elige la mejor versión entre todos los
orígenes (como pip): ``torch==2.13.0`` toma ``2.13.0+cpu`` (la etiqueta local ordena por
encima) y no la compilación CUDA de PyPI. Después de instalar comprueba, si hay torch, que
es una compilación CPU: nunca se descargan en silencio varios GB de CUDA.

Solo usa la biblioteca estándar (lo ejecuta también el ``python3`` del sistema).

Uso::

    python -m tools.uv_install --python .venv/bin/python -- -c constraints.txt -e ".[test]"
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

#: Versión de uv que instala ``make venv`` en el entorno del repositorio.
UV_REQUIREMENT = "uv==0.13.9"


def pip_setting(name: str, python: str = sys.executable) -> list[str]:
    """Valores de una opción de pip (variable ``PIP_…`` o ``pip config``), separados.

    Parámetros:
        name: nombre de la opción de pip, p. ej. ``"find-links"``.
        python: el Python cuyo pip se consulta.

    Devuelve:
        La lista de valores (vacía si pip no la tiene).
    """
    value = os.environ.get("PIP_" + name.upper().replace("-", "_"), "").strip()
    if not value:
        done = subprocess.run(
            [python, "-m", "pip", "config", "get", f"global.{name}"],
            capture_output=True,
            text=True,
            check=False,
        )
        value = done.stdout.strip() if done.returncode == 0 else ""
    return value.split()


def _exists(location: str) -> bool:
    """Si un origen de pip existe: una carpeta local o una URL ``file://`` que exista."""
    parsed = urlparse(location)
    if parsed.scheme in ("http", "https"):
        return True
    return Path(parsed.path if parsed.scheme == "file" else location).exists()


#: Opciones de cada ``uv pip install``. Sin ``--compile-bytecode``: uv no escribe los .pyc al
#: instalar (pip sí), y compilarlo todo (torch, transformers, pandas…) costaba 15 s en
#: ``make venv`` y otros 15 en el entorno de estudiante. Los escribe Python al importar cada
#: módulo la primera vez: ``make`` quita PYTHONDONTWRITEBYTECODE y el entorno de estudiante
#: también (:func:`tools.student_env.clean_env`).
UV_FLAGS = ("--index-strategy", "unsafe-best-match")


def uv_command(uv: Path | str, python: Path | str, args: list[str]) -> list[str]:
    """La orden ``uv pip install`` para ``python`` con los orígenes de pip y ``args``.

    Parámetros:
        uv: el ejecutable de uv.
        python: el Python del entorno donde se instala.
        args: lo que iría tras ``pip install`` (requisitos, ``-c``, ``-e``…).

    Devuelve:
        La orden, lista para ``subprocess``.
    """
    cmd = [str(uv), "pip", "install", "--quiet", "--python", str(python)]
    cmd += list(UV_FLAGS)
    for location in pip_setting("find-links"):
        if _exists(location):
            cmd += ["--find-links", location]
    for url in pip_setting("extra-index-url"):
        if _exists(url):
            cmd += ["--extra-index-url", url]
    return cmd + list(args)


def find_uv(python: Path | str = sys.executable) -> Path:
    """El uv del entorno de ``python`` (lo instala ``make venv``) o el del sistema."""
    here = Path(python).parent / "uv"
    if here.is_file():
        return here
    found = shutil.which("uv")
    if found is None:
        raise SystemExit(
            f"No encuentro uv junto a {python} ni en el PATH: instálalo con "
            f"`{python} -m pip install {UV_REQUIREMENT}` (lo hace `make venv`)."
        )
    return Path(found)


def check_cpu_torch(python: Path | str) -> str | None:
    """La versión de torch del entorno; falla si es una compilación CUDA (varios GB).

    Devuelve:
        La versión (``"2.13.0+cpu"``) o ``None`` si el entorno no tiene torch.
    """
    code = "import importlib.metadata as m; print(m.version('torch'))"
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return None
    version = done.stdout.strip()
    if "+cpu" not in version and os.environ.get("ALLOW_CUDA_TORCH") != "1":
        raise SystemExit(
            f"Se instaló torch {version}, que no es la compilación CPU: fija torch==2.13.0 "
            "(constraints.txt) y deja que pip/uv lo tomen de su find-links o del índice CPU "
            "(PIP_EXTRA_INDEX_URL). Si de verdad quieres CUDA, exporta ALLOW_CUDA_TORCH=1."
        )
    return version


def install(python: Path | str, args: list[str], uv: Path | str | None = None) -> None:
    """Instala ``args`` en el entorno de ``python`` con uv y comprueba que torch es CPU."""
    cmd = uv_command(uv or find_uv(), python, args)
    print("   $", " ".join(shlex.quote(c) for c in cmd), flush=True)
    subprocess.run(cmd, check=True)
    check_cpu_torch(python)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.uv_install", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--python", required=True, help="Python del entorno virtual")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="lo que va tras `pip install`")
    options = parser.parse_args(argv)
    args = options.args[1:] if options.args[:1] == ["--"] else options.args
    if not args:
        parser.error("falta qué instalar (tras --)")
    install(options.python, args, find_uv(options.python))
    return 0


if __name__ == "__main__":
    sys.exit(main())
