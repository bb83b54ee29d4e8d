"""Plantillas de GitHub Classroom: el flujo de trabajo que califica cada tarea.

Para cada tarea, :func:`workflow` escribe un flujo de GitHub Actions que:

1. instala Python, PyTorch para CPU y ``transformer_lib[tareas]`` desde el repositorio del curso;
2. ejecuta y califica el cuaderno una sola vez (``comprobar … --cache``);
3. da los puntos de cada grupo de pruebas de cada ejercicio con ``autograding-command-grader`` (que reutiliza esa
   calificación) y los envía a Classroom con ``autograding-grading-reporter``.

Los puntos salen del catálogo (:mod:`transformer_lib.tareas.catalog`), así que no hay que
copiarlos a mano; la URL del repositorio, de ``_config.yml`` (:func:`coursetools.repo.repository_url`).
``python -m coursetools.homework generar`` escribe estos flujos en ``.github/classroom/`` y
``python -m coursetools.homework plantilla`` crea la carpeta de un repositorio plantilla completo.
Solo lo usa el profesorado, desde un clon del repositorio: no se instala con la biblioteca.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from transformer_lib.tareas.catalog import TASKS, Task

from ..repo import repository_url

#: Orden del profesorado que genera estos archivos (se cita en sus comentarios).
COMMAND = "python -m coursetools.homework"
#: Carpeta donde se guarda la calificación entre pasos (el calificador de Classroom solo
#: deja pasar PATH y HOME, así que la ruta va escrita tal cual).
CACHE_CI = "/tmp/transformer_lib_tareas"
#: Minutos que puede tardar la ejecución del cuaderno entero.
MINUTES = {"tarea_03_bloque_gpt": 25}


def install_requirement(url: str) -> str:
    """Lo que instala pip para calificar: la biblioteca con el extra ``tareas``.

    Parámetros:
        url: repositorio del curso.

    Devuelve:
        El requisito, p. ej. ``transformer_lib[tareas] @ git+https://github.com/…``.
    """
    return f"transformer_lib[tareas] @ git+{url}"


def workflow(task: Task, url: str) -> str:
    """Texto YAML del flujo de GitHub Actions que califica ``task``.

    Parámetros:
        task: la tarea (del catálogo).
        url: repositorio del que se instala ``transformer_lib``.
    """
    notebook = f"{task.id}.ipynb"
    minutes = MINUTES.get(task.id, 10)
    check = f"python -m transformer_lib.tareas comprobar {notebook} --cache {CACHE_CI}"
    lines = [
        f"# Calificación automática de «{task.title}» en GitHub Classroom.",
        f"# Generado por `{COMMAND} generar`: no lo edites a mano.",
        "# Cópialo como .github/workflows/classroom.yml en el repositorio plantilla de la tarea",
        f"# (o crea la plantilla entera con `{COMMAND} plantilla`).",
        "name: Calificación automática",
        "",
        "on:",
        "  push:",
        "  workflow_dispatch:",
        "  repository_dispatch:",
        "",
        "permissions:",
        "  checks: write",
        "  actions: read",
        "  contents: read",
        "",
        "jobs:",
        "  calificar:",
        "    runs-on: ubuntu-latest",
        "    if: github.actor != 'github-classroom[bot]'",
        f"    timeout-minutes: {minutes + 15}",
        "    env:",
        "      TQDM_DISABLE: \"1\"",
        "    steps:",
        "      - name: Descargar tu repositorio",
        "        uses: actions/checkout@v5",
        "",
        "      - name: Instalar Python",
        "        uses: actions/setup-python@v6",
        "        with:",
        "          python-version: \"3.11\"",
        "",
        "      - name: Instalar PyTorch (CPU) y transformer_lib con el calificador",
        "        run: |",
        "          python -m pip install --upgrade pip",
        "          python -m pip install torch --index-url https://download.pytorch.org/whl/cpu",
        f"          python -m pip install \"{install_requirement(url)}\"",
        "",
    ]
    if task.id == "tarea_03_bloque_gpt":
        lines += [
            "      - name: Caché del Quijote",
            "        uses: actions/cache@v5",
            "        with:",
            "          path: ~/.cache/transformer_lib",
            "          key: datos-quijote-v1",
            "",
            "      - name: Descargar el Quijote (comprueba su SHA-256)",
            "        run: python -c \"from transformer_lib.data import load_quijote; load_quijote()\"",
            "",
        ]
    lines += [
        "      - name: Ejecutar y calificar el cuaderno (informe completo)",
        f"        run: {check} --tiempo-limite {minutes * 60} || true",
        "",
    ]
    steps = grader_steps(task)
    for step_id, e, g in steps:
        name = e.title if len(e.spec.score_groups) == 1 else f"{e.title} · {g.name}"
        command = f"{check} --ejercicio {e.id}" + ("" if len(e.spec.score_groups) == 1 else f" --grupo {g.id}")
        lines += [
            f"      - name: \"Puntos: {name}\"",
            f"        id: {step_id}",
            "        uses: classroom-resources/autograding-command-grader@v1",
            "        with:",
            f"          test-name: \"{name}\"",
            f"          command: {command}",
            f"          timeout: {minutes}",
            f"          max-score: {g.points:g}",
            "",
        ]
    lines += [
        "      - name: Enviar la nota a GitHub Classroom",
        "        uses: classroom-resources/autograding-grading-reporter@v1",
        "        env:",
    ]
    lines += [f"          {step_id.upper()}_RESULTS: \"${{{{ steps.{step_id}.outputs.result }}}}\"" for step_id, _, _ in steps]
    lines += [
        "        with:",
        f"          runners: {','.join(step_id for step_id, _, _ in steps)}",
    ]
    return "\n".join(lines) + "\n"


def workflows(target: str | os.PathLike = Path(".github") / "classroom", url: str | None = None) -> dict[Path, str]:
    """Ruta y contenido de cada flujo de trabajo (uno por tarea).

    Parámetros:
        target: carpeta de los flujos.
        url: repositorio del curso; None lo lee de ``_config.yml``.
    """
    url = url or repository_url()
    return {Path(target) / f"{t.id}.yml": workflow(t, url) for t in TASKS.values()}


def grader_steps(task: Task) -> list[tuple[str, object, object]]:
    """Un paso de calificación por grupo de pruebas: ``(id del paso, ejercicio, grupo)``.

    Un ejercicio sin grupos da un solo paso con el id del ejercicio; con grupos, un paso por
    grupo (``ejercicio_grupo``), con los puntos del grupo, para que un fallo solo cueste los suyos.
    """
    steps = []
    for e in task.exercises:
        groups = e.spec.score_groups
        for g in groups:
            steps.append((e.id if len(groups) == 1 else f"{e.id}_{g.id}", e, g))
    return steps


def _readme(task: Task) -> str:
    rows = "\n".join(f"| {e.title} | {g.name} | {g.points:g} |" for e in task.exercises for g in e.spec.score_groups)
    return f"""# {task.title}

Tu tarea está en `{task.id}.ipynb`. Ábrelo con Jupyter (o súbelo a Colab), escribe tu código
donde pone `# TU CÓDIGO AQUÍ` y ejecuta las celdas de comprobación hasta que todo salga ✅.

Para entregar, guarda el cuaderno y haz `git commit` y `git push`. Cada envío ejecuta tu cuaderno
de principio a fin en un kernel nuevo y lo califica (pestaña «Actions»); cuenta el último envío.
Antes de entregar puedes calificarlo tú igual:

```bash
python -m transformer_lib.tareas comprobar {task.id}.ipynb
```

Cada ejercicio se califica por grupos de pruebas: un grupo da sus puntos si pasan todas sus
pruebas, así que un caso que se te escapa solo cuesta los puntos de su grupo.

| Ejercicio | Grupo de pruebas | Puntos |
|---|---|---|
{rows}
"""


def create_template(
    task_id: str,
    target: str | os.PathLike,
    notebooks: str | os.PathLike = Path("chapters") / "tareas",
    url: str | None = None,
) -> list[Path]:
    """Crea la carpeta de un repositorio plantilla de GitHub Classroom para una tarea.

    Contiene la versión del estudiante del cuaderno, el flujo de trabajo en
    ``.github/workflows/classroom.yml``, un ``README.md`` y un ``.gitignore``. Se escribe
    primero en una carpeta temporal al lado de ``target`` y solo al final se le da su nombre:
    si algo falla, no queda ninguna carpeta a medio hacer.

    Parámetros:
        task_id: id de la tarea (ver ``python -m transformer_lib.tareas lista``).
        target: carpeta que se crea; no debe existir (o debe estar vacía).
        notebooks: carpeta de las versiones del estudiante.
        url: repositorio del curso; None lo lee de ``_config.yml``.

    Devuelve:
        Las rutas escritas (ya dentro de ``target``).
    """
    if task_id not in TASKS:
        raise ValueError(f"No conozco la tarea {task_id!r}; las tareas son: {', '.join(TASKS)}.")
    task = TASKS[task_id]
    target = Path(target)
    origin = Path(notebooks) / f"{task.id}.ipynb"
    if not origin.is_file():
        raise FileNotFoundError(f"No encuentro {origin}: ejecuta antes `{COMMAND} generar`.")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(f"{target} ya existe y no está vacía: elige otra carpeta.")
    url = url or repository_url()
    files = {
        Path(origin.name): origin.read_bytes(),
        Path(".github") / "workflows" / "classroom.yml": workflow(task, url).encode("utf-8"),
        Path("README.md"): _readme(task).encode("utf-8"),
        Path(".gitignore"): b".ipynb_checkpoints/\n__pycache__/\n",
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        for relative, content in files.items():
            (staging / relative).parent.mkdir(parents=True, exist_ok=True)
            (staging / relative).write_bytes(content)
        if target.exists():
            target.rmdir()  # vacía: se sustituye por la carpeta completa
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [target / relative for relative in files]
