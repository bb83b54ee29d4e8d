"""Emula en local la calificación de GitHub Classroom de cada tarea.

Para cada flujo generado en ``.github/classroom/*.yml`` crea un repositorio de tarea
provisional con el cuaderno (el del estudiante sin resolver, o la solución del
profesorado) y ejecuta las órdenes del propio flujo: las líneas ``run:`` de sus pasos
(la instalación de transformer_lib con la rueda local en lugar de la URL de git; la de
torch se salta porque el entorno ya lo tiene) y el ``command:`` de cada paso de
``autograding-command-grader``, que da sus ``max-score`` puntos si termina con 0. La
solución debe sacar todos los puntos y el cuaderno sin resolver, ninguno. Además se lee el
informe completo del calificador (el paso ``comprobar … || true`` del flujo): la solución
debe acabar en «¡Tarea completa!» y el cuaderno sin resolver debe llegar a cada ejercicio
y decir «SIN RESOLVER», sin otros errores ni trazas (así se sabe que, en el entorno de
estudiante, todo lo anterior al primer ejercicio se ejecuta: ``tools/student_env.py`` no
ejecuta las tareas).

El cuaderno sin resolver que se califica es la **edición para Colab** de la tarea (su
borrador de ``tools/build_editions.py``, escrito en ``_build/student-env/classroom-drafts/``;
una tarea no tiene cifras, así que el borrador es ya la edición): lo que descarga y sube a su repositorio quien
trabaja en Colab. Sus celdas de código son las del cuaderno del repositorio (lo comprueba
``tests/test_editions.py``), que ejecuta nbval. Así cada tarea se ejecuta dos veces en
``make test`` y su edición corre en el entorno de estudiante.

Usa el entorno de estudiante de ``tools/student_env.py`` (lo crea si falta). Los pasos de
calificación ``python -m transformer_lib.tareas …`` (27 por cuaderno) los ejecuta
:class:`Preloaded`: un intérprete de ese entorno con el módulo ya importado los lanza en
procesos hijos con ``runpy``, como ``python -m``, sin pagar cada vez el ~1,5 s de importar
torch y transformer_lib.

Uso::

    python -m tools.classroom_check [FLUJO.yml ...]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from coursetools.repo import ROOT
from tools.build_editions import write_drafts
from tools.student_env import WORK, base_env, build_wheel, clean_env, reset

_GIT_REQUIREMENT = re.compile(r"[\"']?(transformer_lib(\[[^\]]*\])?)\s*@\s*git\+[^\s\"']+[\"']?")
_NOTEBOOK = re.compile(r"(\S+\.ipynb)")
#: Carpeta de caché del calificador: en un runner nuevo de GitHub está vacía; aquí se
#: cambia por una del repositorio provisional para que no se herede nada de otra ejecución.
_CACHE_ARG = re.compile(r"(--cache\s+)(\S+)")
#: El módulo de las órdenes de calificación (``python -m transformer_lib.tareas …``).
GRADER_MODULE = "transformer_lib.tareas"
#: Lo que además importa cada paso de calificación (``transformer_lib.tareas.__main__``).
GRADER_IMPORTS = ("transformer_lib.cli", "transformer_lib.tareas.grader", "nbformat", "nbclient")
#: Lo que, además de «¡Tarea completa!», debe decir el informe de cada solución.
SOLUTION_MARKS: dict[str, tuple[str, ...]] = {
    # La tarea 3 entrena un MiniGPT de verdad (~1 min) y mide su pérdida.
    "tarea_03_bloque_gpt": ("Pérdida de validación medida",),
}


def workflow_plan(path: Path) -> tuple[list[str], list[tuple[str, str, int, int]]]:
    """Órdenes de un flujo: líneas ``run:`` y calificadores (nombre, orden, tiempo, puntos)."""
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    runs: list[str] = []
    graders: list[tuple[str, str, int, int]] = []
    for job in workflow["jobs"].values():
        for step in job.get("steps", []):
            uses = step.get("uses", "")
            if "run" in step:
                runs += [line for line in str(step["run"]).splitlines() if line.strip()]
            elif "autograding-command-grader" in uses:
                inputs = step["with"]
                graders.append(
                    (
                        str(inputs["test-name"]),
                        str(inputs["command"]),
                        int(inputs.get("timeout", 10)) * 60,
                        int(inputs.get("max-score", 0)),
                    )
                )
    return runs, graders


def local_line(line: str, wheel: Path) -> str | None:
    """Una línea ``run:`` adaptada: rueda local, sin torch ni actualizar pip (ya están)."""
    if re.search(r"pip install[^\n]*\btorch\b", line) or "install --upgrade pip" in line:
        return None
    return _GIT_REQUIREMENT.sub(
        lambda m: shlex.quote(f"{m.group(1)} @ {wheel.resolve().as_uri()}"), line
    )


def _is_install(line: str) -> bool:
    return bool(re.search(r"\bpip\b.*\binstall\b", line))


def _shell(
    command: str, cwd: Path, env: dict[str, str], timeout: int | None = None
) -> tuple[bool, str]:
    """Ejecuta ``command``; devuelve (terminó con 0, su salida estándar)."""
    try:
        done = subprocess.run(
            command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return False, ""
    return done.returncode == 0, done.stdout


def report_problems(task_key: str, report: str, solved: bool) -> list[str]:
    """Lo que falla en el informe completo del calificador de una tarea.

    Parámetros:
        task_key: la tarea (``tarea_01_atencion``).
        report: salida del paso ``comprobar`` del flujo.
        solved: si el cuaderno es la solución (si no, el del estudiante sin resolver).

    Devuelve:
        Una línea por problema; vacía si el informe es el esperado.
    """
    from transformer_lib.tareas.catalog import TASKS

    problems = []
    if "Traceback" in report or "💥" in report:
        problems.append("el informe tiene errores de ejecución o una traza de Python")
    if solved:
        for mark in ("¡Tarea completa!", *SOLUTION_MARKS.get(task_key, ())):
            if mark not in report:
                problems.append(f"el informe de la solución no dice «{mark}»")
    expected = len(TASKS[task_key].exercises)
    if not solved and report.count("SIN RESOLVER") != expected:
        problems.append(
            f"el informe dice «SIN RESOLVER» {report.count('SIN RESOLVER')} veces y la tarea "
            f"tiene {expected} ejercicios"
        )
    return problems


def install(runs: list[str], python: Path, wheel: Path, base: set[str]) -> list[str]:
    """Deja el entorno base y ejecuta las líneas de instalación del flujo. Devuelve fallos."""
    reset(python, base)
    env = _grading_env(python)
    failed = []
    with tempfile.TemporaryDirectory(prefix="classroom-") as tmp:
        for line in runs:
            command = local_line(line, wheel) if _is_install(line) else None
            if command and not _shell(command, Path(tmp), env)[0]:
                failed.append(f"`{command}` falló")
    return failed


def _grading_env(python: Path) -> dict[str, str]:
    env = clean_env()
    # Dos calificaciones a la vez en dos núcleos: un hilo cada una (el entorno de estudiante usa
    # los dos de Colab, pero aquí se califica como en un runner de GitHub, y la nota no depende
    # de los hilos; con dos por proceso se estorbarían).
    env["OMP_NUM_THREADS"] = "1"
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    return env


class Preloaded:
    """Ejecuta las órdenes ``python -m MÓDULO …`` de un flujo sin volver a importar el módulo.

    Los pasos de calificación de un flujo son ``python -m transformer_lib.tareas comprobar …``
    con la caché del paso del informe: casi todo lo que tardan es importar torch y
    transformer_lib (~1,5 s cada uno; 27 pasos por cuaderno). Un intérprete del entorno de
    estudiante (``tools/_preloaded.py``) lo importa una vez y ejecuta cada orden en un proceso
    hijo (``fork``) con ``runpy``, como ``python -m``: el mismo módulo, argumentos, carpeta y
    entorno, y su código de salida. Las demás órdenes van a la shell.
    """

    SCRIPT = ROOT / "tools" / "_preloaded.py"

    def __init__(
        self, python: Path, module: str, cwd: Path, env: dict[str, str], warm: tuple[str, ...] = ()
    ) -> None:
        self.module, self.cwd = module, cwd
        self.process = subprocess.Popen(
            [str(python), str(self.SCRIPT), module, *warm], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, cwd=cwd, env=env,
        )  # fmt: skip

    def args(self, command: str) -> list[str] | None:
        """Los argumentos de ``command`` si es ``python -m MÓDULO …`` sin nada de shell."""
        if any(c in command for c in "|&;<>`$()\\\n"):
            return None
        words = shlex.split(command)
        return words[3:] if words[:3] == ["python", "-m", self.module] else None

    def run(self, args: list[str], timeout: int) -> tuple[bool, str]:
        """Ejecuta el módulo con ``args``; devuelve (terminó con 0, su salida estándar)."""
        with tempfile.TemporaryDirectory(prefix="orden-", dir=self.cwd) as tmp:
            out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
            request = {"args": args, "out": str(out), "err": str(err), "timeout": timeout}
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            answer = self.process.stdout.readline()
            if not answer:
                raise RuntimeError(f"{self.SCRIPT.name} terminó sin responder a {args}")
            return json.loads(answer)["code"] == 0, out.read_text(encoding="utf-8")

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def grade(workflow: Path, notebook: Path, python: Path) -> tuple[int, int, list[str], str, float]:
    """Califica ``notebook`` con las órdenes de ``workflow`` (sin las de instalación).

    Parámetros:
        workflow: flujo de ``.github/classroom/``.
        notebook: cuaderno que hace de entrega del estudiante.
        python: Python del entorno donde ya se ejecutó ``install``.

    Devuelve:
        (puntos, máximo, detalle por calificador, informe de los pasos que no instalan, segundos).
    """
    start = time.perf_counter()
    runs, graders = workflow_plan(workflow)
    target = _NOTEBOOK.search(" ".join(c for _, c, _, _ in graders))
    if target is None:
        raise SystemExit(f"{workflow.name}: ningún calificador nombra un cuaderno .ipynb.")
    env = _grading_env(python)
    details = []
    with tempfile.TemporaryDirectory(prefix="classroom-") as tmp:
        repo = Path(tmp)
        shutil.copy2(notebook, repo / target.group(1))
        cache = str(repo / ".cache-calificador")
        # Se prepara (importa) mientras corre el paso del informe.
        preloaded = Preloaded(python, GRADER_MODULE, repo, env, GRADER_IMPORTS)
        try:
            report = ""
            for line in runs:
                if not _is_install(line):
                    report += _shell(_CACHE_ARG.sub(lambda m: m.group(1) + cache, line), repo, env)[1]
            points = total = 0
            for name, command, timeout, max_score in graders:
                total += max_score
                command = _CACHE_ARG.sub(lambda m: m.group(1) + cache, command)
                args = preloaded.args(command)
                if args is None:
                    ok = _shell(command, repo, env, timeout)[0]
                else:
                    ok = preloaded.run(args, timeout)[0]
                points += max_score if ok else 0
                details.append(f"{name}: {max_score if ok else 0}/{max_score}")
        finally:
            preloaded.close()
    return points, total, details, report, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.classroom_check", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--jobs", "-j", type=int, default=2, help="calificaciones en paralelo")
    parser.add_argument(
        "--first",
        default="",
        help="tareas (separadas por espacios) cuya solución se califica antes que las demás",
    )
    parser.add_argument("workflows", nargs="*", type=Path)
    args = parser.parse_args(argv)
    first = args.first.split()
    workflows = args.workflows or sorted((ROOT / ".github" / "classroom").glob("*.yml"))
    start = time.perf_counter()
    wheel = build_wheel(WORK / "wheel")
    python, base = base_env(WORK)
    sources = [ROOT / "chapters" / "tareas" / f"{w.stem}.ipynb" for w in workflows]
    # En una carpeta propia: make test califica a la vez que make editions reescribe los
    # borradores de _build/colab-draft/ (el mismo contenido, pero no a medio escribir).
    drafts = write_drafts(WORK / "classroom-drafts", [p for p in sources if p.exists()])
    editions = {p.stem: p for p in drafts}
    # Los flujos con las mismas órdenes de instalación comparten una instalación; después
    # se califican sus cuadernos en paralelo.
    groups: dict[tuple[str, ...], list[Path]] = {}
    for workflow in workflows:
        runs, _ = workflow_plan(workflow)
        groups.setdefault(tuple(r for r in runs if _is_install(r)), []).append(workflow)
    failures = 0
    for installs, members in groups.items():
        for problem in install(list(installs), python, wheel, base):
            print(f"  ✗ instalación: {problem}")
            failures += 1
        cases = []
        for workflow in members:
            name = workflow.stem
            cases += [
                (workflow, "solución", ROOT / "instructor" / "tareas" / f"{name}.ipynb", True),
                (workflow, "sin resolver, edición de Colab",
                 editions.get(name, ROOT / "chapters" / "tareas" / f"{name}.ipynb"), False),
            ]
        missing = [c for c in cases if not c[2].exists()]
        for workflow, label, notebook, _ in missing:
            print(f"  ✗ {workflow.stem} ({label}): no existe {notebook.relative_to(ROOT)}")
        failures += len(missing)
        # Primero las soluciones (se ejecutan enteras; un cuaderno sin resolver para en su
        # primer ejercicio), y de ellas las de --first: con dos a la vez, la más larga no
        # debe empezar la última.
        cases = sorted(
            (c for c in cases if c[2].exists()),
            key=lambda c: (not c[3], c[0].stem not in first),
        )
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            results = list(pool.map(lambda c: grade(c[0], c[2], python), cases))
        for (workflow, label, _, solved), (points, total, details, report, seconds) in zip(
            cases, results
        ):
            problems = report_problems(workflow.stem, report, solved)
            ok = total > 0 and points == (total if solved else 0) and not problems
            failures += not ok
            mark = "✓" if ok else "✗"
            print(f"  {mark} {workflow.stem} ({label}): {points}/{total} puntos ({seconds:.0f} s)")
            if not ok:
                for detail in details + problems:
                    print(f"      - {detail}")
    print(f"Calificación de Classroom emulada en {time.perf_counter() - start:.0f} s.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
