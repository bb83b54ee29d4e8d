"""Ejecuta los cuadernos como lo haría un estudiante en Colab: solo con lo que instala su celda.

1. Construye la rueda (wheel) de transformer_lib a partir de una copia limpia del código.
2. Crea (o reutiliza), con uv, un entorno virtual en ``_build/student-env/`` con torch (la versión
   CPU fijada) y lo que Colab trae preinstalado (``COLAB_PREINSTALLED``). El entorno se
   guarda con una clave de ``pyproject.toml``, ``constraints.txt`` y esta lista: si no
   cambian, las siguientes ejecuciones no instalan nada de nuevo.
3. Lee la celda de Colab de cada cuaderno y ejecuta su misma orden ``pip install``, con
   la rueda local en lugar de la URL de git (los extras, como ``[tareas]``, se respetan).
   Antes de cada instalación el entorno vuelve a su estado base, así que un extra
   instalado para las tareas nunca tapa una dependencia que le falte al paquete sin extras.
   Los capítulos cuyas órdenes dejan el mismo entorno (los mismos paquetes y versiones: el
   extra ``[notebooks]`` solo pide lo que Colab ya trae) comparten una ejecución de nbval.
4. Ejecuta **nbval**, dentro de ese entorno, sobre la edición para Colab de cada capítulo del
   libro: el borrador de ``tools/build_editions.py`` (``_build/colab-draft/``), que es el
   cuaderno con la prosa ya traducida y las mismas celdas de código; la edición final solo
   le añade las cifras. Es la ejecución de nbval de los capítulos en ``make test`` (``make
   nbval`` ejecuta las tareas y sus soluciones): las celdas corren en el núcleo ``estudiante``
   (el Python del entorno), con los dos hilos de PyTorch de Colab, y sus celdas verificadas
   se comparan con la salida guardada. Una dependencia que falta (``ModuleNotFoundError``),
   cualquier otro error o una cifra verificada que cambie con los hilos hacen fallar la
   prueba. Las ediciones de las tareas las ejecuta y califica ``tools/classroom_check.py``
   en este mismo entorno. Cada borrador se ejecuta en su carpeta de ``_build/colab-draft/``:
   ``find_results`` sube desde ahí hasta los ``results/`` del repositorio, como desde
   ``chapters/``.
5. ``tools/nbval_record.py`` guarda cada capítulo que pasó nbval entero en
   ``_build/student-env/executed/`` (las mismas rutas) con la huella de transformer_lib:
   ``make test`` construye el libro con esas salidas (``tools/execute_notebooks.py --from``;
   las celdas de código son las del capítulo, así que la clave de la caché es la misma) y
   escribe las cifras de la edición desde ellas.

Uso::

    python -m tools.student_env [--jobs 2] [--first "10_idea_clave …"] [CAPÍTULO ...]

Sin capítulos, escribe los borradores de las ediciones y ejecuta los de todos.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from coursetools.repo import ROOT
from tools import uv_install
from tools.build_editions import DRAFTS, record_drafts, write_drafts
from tools.execute_notebooks import FINGERPRINT_FILE, package_fingerprint
from tools.nbval_record import METADATA_KEY

#: Lo que Colab trae instalado y usan los cuadernos (además de torch). Las versiones
#: salen de constraints.txt cuando está allí; si no, pip elige.
COLAB_PREINSTALLED: tuple[str, ...] = (
    "numpy",
    "matplotlib",
    "ipywidgets",
    "tqdm",
    "pandas",
    "scipy",
    "ipykernel",
    # Colab también trae Hugging Face transformers: el capítulo 11 compara con su Llama.
    "transformers",
)
#: torch fijado (en las máquinas del proyecto, ``pip install torch==2.13.0`` toma el
#: archivo CPU local; en GitHub, PIP_EXTRA_INDEX_URL apunta al índice CPU de PyTorch).
TORCH = "torch==2.13.0"
#: Hilos de PyTorch en el entorno de estudiante: los núcleos de una máquina de Colab.
COLAB_THREADS = 2
PACKAGE = "transformer_lib"
WORK = ROOT / "_build" / "student-env"
KERNEL = "estudiante"
#: Capítulos ejecutados enteros en el entorno (los lee ``tools/execute_notebooks.py --from``).
EXECUTED = WORK / "executed"
_REQUIREMENT = re.compile(rf"^({PACKAGE}(\[[^\]]*\])?)\s*@\s*git\+\S+$")


def env_key() -> str:
    """Clave del entorno base: cambia si cambian las dependencias declaradas o fijadas."""
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        digest.update((ROOT / name).read_bytes())
    parts = (TORCH, *COLAB_PREINSTALLED, sys.version, uv_install.UV_REQUIREMENT, *uv_install.UV_FLAGS)
    digest.update(" ".join(parts).encode())
    return digest.hexdigest()[:16]


def colab_install_args(path: Path) -> list[str]:
    """Argumentos de ``pip`` de la celda de Colab de un cuaderno (tras ``pip``).

    Parámetros:
        path: cuaderno.

    Devuelve:
        Por ejemplo ``["install", "-q", "transformer_lib @ git+https://…"]``.
    """
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code" or "google.colab" not in cell.source:
            continue
        for line in cell.source.splitlines():
            stripped = line.strip()
            if stripped.startswith(("%pip ", "!pip ")):
                return shlex.split(stripped)[1:]
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.List):
                items = [e.value for e in node.elts if isinstance(e, ast.Constant)]
                if "pip" in items and "install" in items:
                    return [str(i) for i in items[items.index("pip") + 1 :]]
    raise ValueError(f"{path.relative_to(ROOT)} no tiene celda de Colab con `pip install`.")


def local_args(args: list[str], wheel: Path) -> list[str]:
    """Los mismos argumentos con la rueda local en lugar de ``transformer_lib @ git+…``."""
    replaced, found = [], False
    for arg in args:
        match = _REQUIREMENT.match(arg)
        if match:
            found = True
            arg = f"{match.group(1)} @ {wheel.resolve().as_uri()}"
        replaced.append(arg)
    if not found:
        raise ValueError(f"La celda de Colab no instala {PACKAGE} desde git: {args}")
    return replaced


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    print("   $", " ".join(shlex.quote(str(c)) for c in cmd), flush=True)
    return subprocess.run(cmd, check=True, **kwargs)


def clean_env() -> dict[str, str]:
    """Entorno del proceso sin nada que haga ver el repositorio o el .venv del curso."""
    # PYTHONDONTWRITEBYTECODE: Colab no la define; sin ella, el primer import de cada módulo
    # guarda su .pyc y los núcleos siguientes no vuelven a compilar torch (~1,6 s cada uno).
    hidden = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    # Los hilos de Colab (dos), no el único hilo de make: así nbval compara las celdas
    # verificadas de los capítulos con los dos (run_nbval). Con la espera pasiva, dos cuadernos
    # a la vez en dos núcleos no se estorban (con la activa, cada paso tarda varias veces más).
    env["OMP_NUM_THREADS"] = str(COLAB_THREADS)
    env["OMP_WAIT_POLICY"] = "PASSIVE"
    env.setdefault("TQDM_DISABLE", "1")
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    env.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    return env


def build_wheel(dest: Path) -> Path:
    """Construye la rueda desde una copia del código (sin ensuciar el repositorio)."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="rueda-") as tmp:
        source = Path(tmp) / "src"
        source.mkdir()
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if (ROOT / name).exists():
                shutil.copy2(ROOT / name, source / name)
        shutil.copytree(
            ROOT / PACKAGE, source / PACKAGE, ignore=shutil.ignore_patterns("__pycache__")
        )
        _run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dest), str(source)],
            env=clean_env(),
        )
    wheels = sorted(dest.glob(f"{PACKAGE}-*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"Esperaba una rueda en {dest} y hay {len(wheels)}.")
    return wheels[0]


def base_env(work: Path) -> tuple[Path, set[str]]:
    """Crea o reutiliza el entorno base. Devuelve su Python y sus paquetes (``pip freeze``)."""
    venv = work / "venv"
    python = venv / "bin" / "python"
    stamp = venv / ".clave"
    key = env_key()
    if not (python.exists() and stamp.exists() and stamp.read_text().strip() == key):
        print(f">> Creando el entorno de estudiante en {venv} (clave {key})", flush=True)
        shutil.rmtree(venv, ignore_errors=True)
        env = clean_env()
        _run([sys.executable, "-m", "venv", str(venv)], env=env)
        # La base (torch y lo que trae Colab) con uv, en segundos; las celdas de Colab se
        # emulan después con el pip del entorno, como en Colab.
        uv_install.install(python, [TORCH], uv_install.find_uv())
        uv_install.install(
            python,
            ["-c", str(ROOT / "constraints.txt"), *COLAB_PREINSTALLED],
            uv_install.find_uv(),
        )
        # Los .pyc de lo que importa cada núcleo, una vez (uv no los escribe al instalar).
        warm = "import torch, numpy, matplotlib.pyplot, ipykernel, ipywidgets"
        subprocess.run([str(python), "-c", warm], check=True, env=env)
        (venv / ".base.txt").write_text(_freeze(python), encoding="utf-8")
        stamp.write_text(key + "\n")
    base = set((venv / ".base.txt").read_text(encoding="utf-8").split())
    return python, base


def _freeze(python: Path) -> str:
    """Nombres (en minúsculas) de los paquetes instalados en el entorno, uno por línea."""
    names = sorted({package.split("==")[0].replace("_", "-") for package in installed(python)})
    return "\n".join(names) + "\n"


def reset(python: Path, base: set[str]) -> None:
    """Desinstala todo lo que no estaba en el entorno base (transformer_lib y sus extras)."""
    extra = sorted(set(_freeze(python).split()) - base)
    if extra:
        _run([str(python), "-m", "pip", "uninstall", "-q", "-y", *extra], env=clean_env())


def kernel_dir(work: Path, python: Path) -> Path:
    """Carpeta JUPYTER_PATH con un núcleo que usa el Python del entorno de estudiante."""
    folder = work / "jupyter"
    spec = folder / "kernels" / KERNEL
    spec.mkdir(parents=True, exist_ok=True)
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "Entorno de estudiante", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel, indent=1), encoding="utf-8")
    return folder


def run_nbval(notebooks: list[Path], jobs: int, jupyter: Path, timeout: int = 180) -> int:
    """nbval sobre ``notebooks`` con el núcleo del entorno de estudiante; devuelve su código de salida.

    Es la ejecución de nbval de los capítulos en ``make test``: cada cuaderno corre en el núcleo
    ``estudiante`` (el Python del entorno, con solo lo que instaló su celda de Colab), con los dos
    hilos de Colab y atado a un núcleo de la CPU (``--pin-workers``), y sus celdas verificadas
    se comparan con la salida guardada (``--nbval-lax``). ``tools/nbval_record.py`` guarda en
    :data:`EXECUTED` cada cuaderno que pasó entero. Los que están en ``notebooks`` se ejecutan en
    ese orden (el primero, el más largo: con dos a la vez, el último no debe ser uno largo).
    """
    env = clean_env()
    env["JUPYTER_PATH"] = str(jupyter)
    cmd = [
        sys.executable, "-m", "pytest", "-p", "tools.nbval_record",
        "--record-executed", str(EXECUTED), "--record-root", str(DRAFTS), "--pin-workers",
        "--nbval-lax", "--nbval-kernel-name", KERNEL, f"--nbval-cell-timeout={timeout}",
        "-n", str(max(1, jobs)), "--dist", "loadscope", "--no-loadscope-reorder",
        "-p", "no:cacheprovider", *map(str, notebooks),
    ]  # fmt: skip
    print("   $", " ".join(shlex.quote(c) for c in cmd), flush=True)
    return subprocess.run(cmd, env=env, cwd=ROOT).returncode


def installed(python: Path) -> frozenset[str]:
    """Los paquetes del entorno con su versión (``nombre==versión``)."""
    out = subprocess.run([str(python), "-m", "pip", "list", "--format=json"], check=True,
                         capture_output=True, text=True, env=clean_env()).stdout  # fmt: skip
    return frozenset(f"{item['name'].lower()}=={item['version']}" for item in json.loads(out))


def install(
    python: Path, base: set[str], install_args: tuple[str, ...], wheel: Path, folder: Path
) -> frozenset[str]:
    """Deja el entorno base y ejecuta la orden de una celda de Colab; devuelve el entorno que queda."""
    reset(python, base)
    _run([str(python), "-m", "pip", *local_args(list(install_args), wheel)], env=clean_env())
    check_import(python, folder)
    return installed(python)


def run_by_environment(
    groups: dict[tuple[str, ...], list[Path]],
    install: Callable[[tuple[str, ...]], frozenset[str]],
    run: Callable[[list[Path]], int],
) -> int:
    """Instala la orden de cada grupo y ejecuta ``run`` una vez por entorno distinto.

    Parámetros:
        groups: orden de la celda de Colab → sus cuadernos.
        install: instala una orden (desde el entorno base) y devuelve el entorno que queda.
        run: ejecuta unos cuadernos en el entorno instalado; devuelve su código de salida.

    Devuelve:
        0 si todas las ejecuciones terminan con 0; si no, el código de la última que falló.
    """
    environments: dict[frozenset[str], list[Path]] = {}
    orders: dict[frozenset[str], tuple[str, ...]] = {}
    current = None
    for install_args, paths in groups.items():
        print(f">> pip {' '.join(install_args)}  →  {len(paths)} cuaderno(s)", flush=True)
        current = install(install_args)
        environments.setdefault(current, []).extend(paths)
        orders.setdefault(current, install_args)
    status = 0
    for environment in sorted(environments, key=lambda e: e != current):  # el instalado, primero
        if environment != current:
            print(f">> pip {' '.join(orders[environment])}  (otra vez, para sus cuadernos)", flush=True)
            install(orders[environment])
        status = run(environments[environment]) or status
    return status


def check_import(python: Path, folder: Path) -> str:
    """Ruta desde la que el entorno importa transformer_lib (debe ser la rueda instalada)."""
    done = subprocess.run(
        [str(python), "-c", f"import {PACKAGE}; print({PACKAGE}.__file__)"],
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd=folder,
        check=True,
    )
    location = done.stdout.strip()
    if not location.startswith(str(python.parent.parent)):
        raise SystemExit(f"El entorno de estudiante importa {PACKAGE} desde {location}.")
    return location


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.student_env", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--jobs", "-j", type=int, default=2, help="cuadernos en paralelo")
    parser.add_argument(
        "--first", default="", help="cuadernos (nombres sin .ipynb) que empiezan antes, en orden"
    )
    parser.add_argument(
        "notebooks",
        nargs="*",
        type=Path,
        help="capítulos del libro (por defecto, todos): se ejecuta el borrador de su edición",
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    print(">> Borradores de las ediciones (tools/build_editions.py)", flush=True)
    # Las ediciones de las tareas las ejecuta y califica make classroom en este mismo entorno
    # (tools/classroom_check.py): aquí serían una tercera ejecución de cada tarea.
    wanted = [p.resolve() for p in args.notebooks] or None
    notebooks = [p for p in write_drafts(DRAFTS, wanted) if p.parent.name != "tareas"]
    if not notebooks:
        raise SystemExit("No hay capítulos que ejecutar (las tareas las califica make classroom).")

    print(">> Rueda de transformer_lib", flush=True)
    fingerprint = package_fingerprint()
    shutil.rmtree(EXECUTED, ignore_errors=True)
    EXECUTED.mkdir(parents=True)
    wheel = build_wheel(WORK / "wheel")
    python, base = base_env(WORK)
    jupyter = kernel_dir(WORK, python)

    # Agrupa los cuadernos por la orden de instalación de su celda de Colab y, después, por el
    # entorno que deja cada orden (paquetes y versiones): los que quedan con el mismo entorno
    # (p. ej. el extra [notebooks] solo pide lo que Colab ya trae) comparten una ejecución de
    # nbval; si no, cada entorno se vuelve a instalar antes de la suya.
    groups: dict[tuple[str, ...], list[Path]] = {}
    for path in notebooks:
        groups.setdefault(tuple(colab_install_args(path)), []).append(path)
    rank = {name: i for i, name in enumerate(args.first.split())}
    status = run_by_environment(
        groups,
        lambda install_args: install(python, base, install_args, wheel, notebooks[0].parent),
        lambda paths: run_nbval(sorted(paths, key=lambda p: rank.get(p.stem, len(rank))), args.jobs, jupyter),
    )

    ran = []
    for path in notebooks:
        copy = EXECUTED / path.relative_to(DRAFTS)
        if copy.exists():
            ran.append(path)
            seconds = json.loads(copy.read_text(encoding="utf-8"))["metadata"][METADATA_KEY]["seconds"]
            print(f"  ✓ {path.relative_to(ROOT)} ({seconds} s)")
        else:
            print(f"  ✗ {path.relative_to(ROOT)}: nbval no lo ejecutó entero sin fallos (ver arriba)")
    (EXECUTED / FINGERPRINT_FILE).write_text(fingerprint + "\n", encoding="ascii")
    record_drafts(ran, EXECUTED)
    total = time.perf_counter() - start
    print(
        f"Entorno de estudiante: {len(ran)} de {len(notebooks)} cuadernos pasan nbval "
        f"en {total:.0f} s."
    )
    return 1 if status or len(ran) != len(notebooks) else 0


if __name__ == "__main__":
    sys.exit(main())
