"""Plantillas de GitHub Classroom: el flujo de trabajo que califica cada tarea.

Para cada tarea, :func:`flujo_de_trabajo` escribe un flujo de GitHub Actions que:

1. instala Python, PyTorch para CPU y ``transformer_lib`` desde el repositorio del curso;
2. ejecuta y califica el cuaderno una sola vez (``comprobar … --cache``);
3. da los puntos de cada ejercicio con ``autograding-command-grader`` (que reutiliza esa
   calificación) y los envía a Classroom con ``autograding-grading-reporter``.

Los puntos salen del catálogo (:mod:`transformer_lib.tareas.catalogo`), así que no hay que
copiarlos a mano. ``python -m transformer_lib.tareas generar`` escribe estos flujos en
``.github/classroom/`` y ``python -m transformer_lib.tareas plantilla`` crea la carpeta de un
repositorio plantilla completo.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .catalogo import TAREAS, Tarea

#: Repositorio del curso (si no se puede leer de ``_config.yml``).
REPOSITORIO = "https://github.com/curso-transformers/transformers-ii"
#: Carpeta donde se guarda la calificación entre pasos (el calificador de Classroom solo
#: deja pasar PATH y HOME, así que la ruta va escrita tal cual).
CACHE_CI = "/tmp/transformer_lib_tareas"
#: Minutos que puede tardar la ejecución del cuaderno entero.
MINUTOS = {"tarea_03_bloque_gpt": 25}


def url_repositorio(raiz: str | os.PathLike = ".") -> str:
    """La URL del repositorio según ``_config.yml`` (o :data:`REPOSITORIO` si no está)."""
    config = Path(raiz) / "_config.yml"
    if config.is_file():
        import yaml

        datos = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
        url = (datos.get("repository") or {}).get("url")
        if url:
            return str(url).rstrip("/")
    return REPOSITORIO


def flujo_de_trabajo(tarea: Tarea, url: str = REPOSITORIO) -> str:
    """Texto YAML del flujo de GitHub Actions que califica ``tarea``.

    Parámetros:
        tarea: la tarea (del catálogo).
        url: repositorio del que se instala ``transformer_lib``.
    """
    cuaderno = f"{tarea.id}.ipynb"
    minutos = MINUTOS.get(tarea.id, 10)
    comprobar = f"python -m transformer_lib.tareas comprobar {cuaderno} --cache {CACHE_CI}"
    lineas = [
        f"# Calificación automática de «{tarea.titulo}» en GitHub Classroom.",
        "# Generado por `python -m transformer_lib.tareas generar`: no lo edites a mano.",
        "# Cópialo como .github/workflows/classroom.yml en el repositorio plantilla de la tarea",
        "# (o crea la plantilla entera con `python -m transformer_lib.tareas plantilla`).",
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
        f"    timeout-minutes: {minutos + 15}",
        "    env:",
        "      TQDM_DISABLE: \"1\"",
        "    steps:",
        "      - name: Descargar tu repositorio",
        "        uses: actions/checkout@v4",
        "",
        "      - name: Instalar Python",
        "        uses: actions/setup-python@v5",
        "        with:",
        "          python-version: \"3.11\"",
        "",
        "      - name: Instalar PyTorch (CPU) y transformer_lib",
        "        run: |",
        "          python -m pip install --upgrade pip",
        "          python -m pip install torch --index-url https://download.pytorch.org/whl/cpu",
        f"          python -m pip install \"transformer_lib @ git+{url}\"",
        "",
    ]
    if tarea.id == "tarea_03_bloque_gpt":
        lineas += [
            "      - name: Caché del Quijote",
            "        uses: actions/cache@v4",
            "        with:",
            "          path: ~/.cache/transformer_lib",
            "          key: datos-quijote-v1",
            "",
            "      - name: Descargar el Quijote (comprueba su SHA-256)",
            "        run: python -c \"from transformer_lib.data import load_quijote; load_quijote()\"",
            "",
        ]
    lineas += [
        "      - name: Ejecutar y calificar el cuaderno (informe completo)",
        f"        run: {comprobar} --tiempo-limite {minutos * 60} || true",
        "",
    ]
    for e in tarea.ejercicios:
        lineas += [
            f"      - name: \"Puntos: {e.titulo}\"",
            f"        id: {e.id}",
            "        uses: classroom-resources/autograding-command-grader@v1",
            "        with:",
            f"          test-name: \"{e.titulo}\"",
            f"          command: {comprobar} --ejercicio {e.id}",
            f"          timeout: {minutos}",
            f"          max-score: {e.puntos:g}",
            "",
        ]
    lineas += [
        "      - name: Enviar la nota a GitHub Classroom",
        "        uses: classroom-resources/autograding-grading-reporter@v1",
        "        env:",
    ]
    lineas += [f"          {e.id.upper()}_RESULTS: \"${{{{ steps.{e.id}.outputs.result }}}}\"" for e in tarea.ejercicios]
    lineas += [
        "        with:",
        f"          runners: {','.join(e.id for e in tarea.ejercicios)}",
    ]
    return "\n".join(lineas) + "\n"


def flujos(destino: str | os.PathLike = Path(".github") / "classroom", raiz: str | os.PathLike = ".") -> dict[Path, str]:
    """Ruta y contenido de cada flujo de trabajo (uno por tarea)."""
    url = url_repositorio(raiz)
    return {Path(destino) / f"{t.id}.yml": flujo_de_trabajo(t, url) for t in TAREAS.values()}


def _readme(tarea: Tarea) -> str:
    filas = "\n".join(f"| {e.titulo} | {e.puntos:g} |" for e in tarea.ejercicios)
    return f"""# {tarea.titulo}

Tu tarea está en `{tarea.id}.ipynb`. Ábrelo con Jupyter (o súbelo a Colab), escribe tu código
donde pone `# TU CÓDIGO AQUÍ` y ejecuta las celdas de comprobación hasta que todo salga ✅.

Para entregar, guarda el cuaderno y haz `git commit` y `git push`. Cada envío ejecuta tu cuaderno
de principio a fin en un kernel nuevo y lo califica (pestaña «Actions»); cuenta el último envío.
Antes de entregar puedes calificarlo tú igual:

```bash
python -m transformer_lib.tareas comprobar {tarea.id}.ipynb
```

| Ejercicio | Puntos |
|---|---|
{filas}
"""


def crear_plantilla(
    tarea_id: str,
    destino: str | os.PathLike,
    cuadernos: str | os.PathLike = Path("chapters") / "tareas",
    raiz: str | os.PathLike = ".",
) -> list[Path]:
    """Crea la carpeta de un repositorio plantilla de GitHub Classroom para una tarea.

    Contiene la versión del estudiante del cuaderno, el flujo de trabajo en
    ``.github/workflows/classroom.yml``, un ``README.md`` y un ``.gitignore``.

    Devuelve:
        Las rutas escritas.
    """
    tarea = TAREAS[tarea_id]
    destino = Path(destino)
    origen = Path(cuadernos) / f"{tarea.id}.ipynb"
    if not origen.is_file():
        raise FileNotFoundError(f"No encuentro {origen}: ejecuta antes `python -m transformer_lib.tareas generar`.")
    (destino / ".github" / "workflows").mkdir(parents=True, exist_ok=True)
    escritas = [destino / origen.name, destino / ".github" / "workflows" / "classroom.yml",
                destino / "README.md", destino / ".gitignore"]
    shutil.copyfile(origen, escritas[0])
    escritas[1].write_text(flujo_de_trabajo(tarea, url_repositorio(raiz)), encoding="utf-8")
    escritas[2].write_text(_readme(tarea), encoding="utf-8")
    escritas[3].write_text(".ipynb_checkpoints/\n__pycache__/\n", encoding="utf-8")
    return escritas
