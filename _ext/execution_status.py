"""Página «Estado de los cuadernos»: qué se ejecuta, cuánto tarda y en qué máquina.

Extensión local de Sphinx (la carga ``_config.yml`` con ``sphinx.local_extensions``).
La directiva ``{execution-status}`` (en ``chapters/estado.md``) se sustituye, al escribir
el HTML, por una tabla con cada cuaderno del libro, el resultado de su última ejecución y
su duración, leídos de la caché de ejecución de Jupyter Book (``_build/.jupyter_cache``,
con la API de jupyter-cache), seguida de las versiones (Python, PyTorch, Jupyter Book…) y
de la máquina (CPU, hilos) en la que se construyó. La página se vuelve a generar en cada
construcción, así que la tabla siempre describe la caché del momento.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
from importlib import metadata
from pathlib import Path, PurePosixPath

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util.docutils import SphinxDirective

#: Paquetes cuya versión se muestra (nombre en PyPI → nombre en la tabla).
PACKAGES: dict[str, str] = {
    "torch": "PyTorch",
    "jupyter-book": "Jupyter Book",
    "sphinx": "Sphinx",
    "myst-nb": "MyST-NB",
    "jupyter-cache": "jupyter-cache",
    "transformer_lib": "transformer_lib",
}


class execution_status(nodes.General, nodes.Element):
    """Marca que se sustituye por la tabla al resolver la página."""


class ExecutionStatusDirective(SphinxDirective):
    """``{execution-status}``: tabla del estado de ejecución de los cuadernos."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        self.env.metadata[self.env.docname]["execution_status"] = True
        return [execution_status()]


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "no instalado"


def _cpu_model() -> str:
    """Modelo de la CPU (``/proc/cpuinfo`` en Linux; si no, lo que diga ``platform``)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "desconocida"


def machine_rows() -> list[tuple[str, str]]:
    """Filas «qué / valor» de versiones y máquina de esta construcción."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    rows = [("Python", platform.python_version())]
    rows += [(label, _package_version(name)) for name, label in PACKAGES.items()]
    rows += [
        ("Sistema", platform.platform()),
        ("CPU", _cpu_model()),
        ("Hilos de la CPU", f"{os.cpu_count() or 0} (utilizables por este proceso: {usable})"),
        ("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "sin fijar")),
        ("Construido", dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
    ]
    return rows


def _is_excluded(docpath: str, patterns: list[str]) -> bool:
    posix = PurePosixPath(docpath)
    return any(posix.match(p) for p in patterns)


def notebook_rows(app: Sphinx) -> list[tuple[str, str, str, str, str]]:
    """Una fila por cuaderno: (docname, estado, fecha, duración, detalle)."""
    import nbformat
    from jupyter_cache import get_cache

    env = app.env
    cache_path = getattr(app.config, "nb_execution_cache_path", "") or str(
        Path(app.outdir).parent / ".jupyter_cache"
    )
    excluded = list(getattr(app.config, "nb_execution_excludepatterns", []) or [])
    cache = get_cache(cache_path) if Path(cache_path).is_dir() else None
    rows = []
    for docname in sorted(env.found_docs):
        source = Path(env.doc2path(docname))
        if source.suffix != ".ipynb":
            continue
        relative = source.relative_to(app.srcdir).as_posix()
        if _is_excluded(relative, excluded):
            rows.append((docname, "– no se ejecuta", "—", "—", "tarea: la ejecuta nbval"))
            continue
        if cache is None:
            rows.append((docname, "! sin caché", "—", "—", f"no existe {cache_path}"))
            continue
        record = None
        try:
            record = cache.match_cache_notebook(nbformat.read(source, as_version=4))
        except KeyError:
            pass
        if record is not None:
            data = record.data or {}
            when = data.get("executed_at") or record.created.strftime("%Y-%m-%d %H:%M UTC")
            seconds = data.get("execution_seconds")
            took = f"{seconds:.1f} s" if isinstance(seconds, int | float) else "—"
            rows.append((docname, "✓ correcto", str(when), took, ""))
            continue
        detail = "su código cambió desde la última ejecución"
        try:
            project = cache.get_project_record(str(source))
            if project.traceback:
                last = project.traceback.strip().splitlines()[-1]
                rows.append((docname, "✗ error", "—", "—", last[:160]))
                continue
        except KeyError:
            detail = "nunca se ejecutó con esta caché"
        rows.append((docname, "! sin ejecutar", "—", "—", detail))
    return rows


def _table(headers: list[str], rows: list[list[nodes.Node]], widths: list[int]) -> nodes.table:
    table = nodes.table(classes=["execution-status"])
    group = nodes.tgroup(cols=len(headers))
    table += group
    group += [nodes.colspec(colwidth=w) for w in widths]
    head = nodes.thead()
    head += nodes.row("", *[nodes.entry("", nodes.paragraph(text=h)) for h in headers])
    group += head
    body = nodes.tbody()
    for cells in rows:
        body += nodes.row("", *[nodes.entry("", nodes.paragraph("", "", c)) for c in cells])
    group += body
    return table


def fill_status(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Sustituye cada ``execution_status`` por las tablas (en la fase de escritura)."""
    placeholders = list(doctree.findall(execution_status))
    if not placeholders:
        return
    rows = []
    for target, status, when, took, detail in notebook_rows(app):
        title = app.env.titles.get(target)
        label = title.astext() if title is not None else target
        link = nodes.reference(
            "", label, internal=True, refuri=app.builder.get_relative_uri(docname, target)
        )
        rows.append(
            [link, nodes.Text(status), nodes.Text(when), nodes.Text(took), nodes.Text(detail)]
        )
    notebooks = _table(
        ["Cuaderno", "Estado", "Última ejecución", "Duración", "Detalle"], rows, [30, 12, 16, 8, 34]
    )
    machine = _table(
        ["Qué", "Valor"],
        [[nodes.Text(a), nodes.literal(text=b)] for a, b in machine_rows()],
        [25, 75],
    )
    for placeholder in placeholders:
        placeholder.replace_self([notebooks, nodes.rubric(text="Versiones y máquina"), machine])


def always_outdated(app: Sphinx, env: BuildEnvironment, added, changed, removed) -> list[str]:
    """La página de estado se relee en cada construcción (la caché cambia sin tocarla)."""
    return [d for d, meta in env.metadata.items() if meta.get("execution_status")]


def setup(app: Sphinx) -> dict:
    app.add_node(execution_status)
    app.add_directive("execution-status", ExecutionStatusDirective)
    app.connect("env-get-outdated", always_outdated)
    app.connect("doctree-resolved", fill_status)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
