"""Las medidas en GPU junto a cada celda ``requires-gpu`` (issue 27).

Extensión local de Sphinx (la carga ``_config.yml`` con ``sphinx.local_extensions``). El libro
no ejecuta las celdas que necesitan una GPU CUDA (etiquetas ``requires-gpu`` y
``skip-execution``). Justo después de cada una, esta extensión pone un recuadro con lo que midió
``tools/gpu_check.sh`` en una GPU de verdad, leído de ``results/gpu/*.json`` al construir: la
tarjeta, el controlador, CUDA y torch, el estado y el tiempo de la celda y lo que imprimió. Si
ningún archivo la ha medido todavía, el recuadro lo dice.

Cuando cambian los archivos de ``results/gpu/``, los capítulos con celdas GPU se vuelven a leer
(evento ``env-get-outdated``), aunque sus cuadernos no hayan cambiado.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

GPU_TAG = "requires-gpu"
RESULTS_DIR = Path("results") / "gpu"
NOT_MEASURED = ("Esta celda necesita una GPU CUDA y todavía no se ha medido en ninguna: el libro no "
                "la ejecuta. Cuando alguien ejecute tools/gpu_check.sh en una GPU, aquí aparecerán la "
                "tarjeta, el tiempo de la celda y lo que imprimió.")


def load_measurements(results_dir: Path) -> list[dict]:
    """Los archivos de ``results_dir`` (sin los de ``--dry-run``), ordenados por nombre."""
    files = []
    for path in sorted(results_dir.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if not data.get("dry_run"):
            files.append(data)
    return files


def results_signature(results_dir: Path) -> str:
    """Huella del contenido de ``results_dir``: cambia si se añade, quita o modifica un archivo."""
    digest = hashlib.sha256()
    for path in sorted(results_dir.glob("*.json")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _number(x: float) -> str:
    return f"{x:.1f}".replace(".", ",")


def cell_outcome(cell: dict) -> str:
    """El estado de una celda medida, en una frase."""
    seconds = cell.get("seconds")
    status = cell.get("status")
    if status == "passed":
        return f"la celda se ejecutó sin errores en {_number(seconds)} s."
    if status == "failed":
        return f"la celda falló tras {_number(seconds or 0)} s: {cell.get('message') or 'sin mensaje'}."
    if status == "skipped":
        return f"la celda se saltó: {cell.get('message') or 'sin motivo'}."
    return "la celda no llegó a ejecutarse."


def find_cell(measurement: dict, notebook: str, cell_id: str | None, cell_index: int) -> dict | None:
    """La celda ``notebook``/``cell_id`` (o, sin id, la de índice ``cell_index``) en un archivo."""
    for cell in measurement.get("cells", []):
        if cell.get("notebook") != notebook:
            continue
        if (cell_id is not None and cell.get("cell_id") == cell_id) or (
                cell_id is None and cell.get("cell_index") == cell_index):
            return cell
    return None


def describe(measurement: dict, cell: dict, source_sha256: str) -> tuple[str, str | None]:
    """(frase de la medida, lo que imprimió la celda o None)."""
    d = measurement.get("device", {})
    versions = ", ".join(f"{label} {d[key]}" for key, label in (("driver", "controlador"), ("cuda", "CUDA"),
                                                                ("torch", "torch")) if d.get(key))
    text = f"{d.get('name', 'GPU')} ({versions}), {measurement.get('date', 'sin fecha')}: {cell_outcome(cell)}"
    if cell.get("source_sha256") and cell["source_sha256"] != source_sha256:
        text += " Ojo: la celda ha cambiado desde esta medida."
    return text, cell.get("stdout")


def measurement_note(measurements: list[dict], notebook: str, cell_id: str | None, cell_index: int,
                     source_sha256: str) -> nodes.admonition:
    """El recuadro que va después de la celda: una medida por archivo, o que no se ha medido."""
    found = [(m, c) for m in measurements if (c := find_cell(m, notebook, cell_id, cell_index)) is not None]
    title = "Medido en una GPU" if found else "Aún sin medir en una GPU"
    note = nodes.admonition("", nodes.title("", title), classes=["gpu-measurement", "note"])
    if not found:
        note += nodes.paragraph("", NOT_MEASURED)
    for measurement, cell in found:
        text, stdout = describe(measurement, cell, source_sha256)
        note += nodes.paragraph("", text)
        if stdout:
            note += nodes.literal_block(stdout, stdout, language="none")
    return note


def _notebook_cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def add_measurements(app: Sphinx, doctree: nodes.document) -> None:
    """``doctree-read``: un recuadro después de cada celda ``requires-gpu`` del cuaderno."""
    env = app.env
    source = Path(env.doc2path(env.docname))
    if source.suffix != ".ipynb":
        return
    cells = [node for node in doctree.findall(nodes.container) if node.get("nb_element") == "cell_code"
             and GPU_TAG in (node.get("cell_metadata") or {}).get("tags", [])]
    if not cells:
        return
    env.gpu_cell_docs = getattr(env, "gpu_cell_docs", set()) | {env.docname}
    notebook = source.relative_to(app.srcdir).as_posix()
    raw = _notebook_cells(source)
    measurements = load_measurements(Path(app.srcdir) / RESULTS_DIR)
    for node in cells:
        index = node["cell_index"]
        text = raw[index]["source"]
        text = "".join(text) if isinstance(text, list) else text
        note = measurement_note(measurements, notebook, raw[index].get("id"), index,
                                hashlib.sha256(text.encode()).hexdigest())
        node.parent.insert(node.parent.index(node) + 1, note)


def outdated_gpu_docs(app: Sphinx, env: BuildEnvironment, added, changed, removed) -> list[str]:
    """``env-get-outdated``: si cambió ``results/gpu/``, vuelve a leer los capítulos con celdas GPU."""
    signature = results_signature(Path(app.srcdir) / RESULTS_DIR)
    if getattr(env, "gpu_results_signature", None) == signature:
        return []
    env.gpu_results_signature = signature
    return sorted(getattr(env, "gpu_cell_docs", set()) - set(removed))


def purge_doc(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    env.gpu_cell_docs = getattr(env, "gpu_cell_docs", set()) - {docname}


def merge_info(app: Sphinx, env: BuildEnvironment, docnames, other: BuildEnvironment) -> None:
    env.gpu_cell_docs = getattr(env, "gpu_cell_docs", set()) | (getattr(other, "gpu_cell_docs", set()) & set(docnames))


def setup(app: Sphinx) -> dict:
    app.connect("doctree-read", add_measurements)
    app.connect("env-get-outdated", outdated_gpu_docs)
    app.connect("env-purge-doc", purge_doc)
    app.connect("env-merge-info", merge_info)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
