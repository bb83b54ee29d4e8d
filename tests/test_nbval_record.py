"""tools/nbval_record.py: nbval guarda lo que ejecutó, igual que nbclient, con los hilos de Colab."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from tools import student_env
from tools.nbval_record import METADATA_KEY

ROOT = Path(__file__).resolve().parents[1]
out = nbformat.v4.new_output

#: Un capítulo de juguete con lo que el libro guarda: flujos, clear_output (con y sin espera),
#: una salida que se actualiza por su display_id, un resultado y un widget.
CELLS = [
    "import os\nprint(sorted(os.sched_getaffinity(0)))",
    "from IPython.display import clear_output, display, update_display\n"
    "print('borrado')\nclear_output()\nprint('queda')\nclear_output(wait=True)\nprint('al final')",
    "handle = display('v1', display_id='fig')\nprint('entre medias')",
    "update_display('v2', display_id='fig')\n6 * 7",
    "import ipywidgets as widgets\nwidgets.IntSlider(value=3, description='n')",
]


def _notebook(path: Path, saved_threads: str) -> Path:
    check = nbformat.v4.new_code_cell(
        "# NBVAL_CHECK_OUTPUT\nimport os\nprint(os.environ['OMP_NUM_THREADS'])",
        outputs=[out("stream", name="stdout", text=saved_threads)],
        execution_count=1,
    )
    cells = [check, nbformat.v4.new_markdown_cell("texto")]
    cells += [nbformat.v4.new_code_cell(source) for source in CELLS]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _comparable(nb) -> list:
    """Las salidas de las celdas sin el id aleatorio del widget."""
    cells = copy.deepcopy([c for c in nb.cells if c.cell_type == "code"])
    for cell in cells:
        for output in cell.outputs:
            output.get("data", {}).pop("application/vnd.jupyter.widget-view+json", None)
    return [(c.execution_count, c.outputs) for c in cells]


def test_nbval_saves_what_it_ran_like_nbclient_pinned_and_with_colab_threads(
    tmp_path: Path, monkeypatch
) -> None:
    # make exporta un hilo; el entorno de estudiante usa los dos de Colab, con espera pasiva.
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")  # Colab no la define: los .pyc se guardan
    env = student_env.clean_env()
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert env["OMP_NUM_THREADS"] == str(student_env.COLAB_THREADS) == "2"
    assert env["OMP_WAIT_POLICY"] == "PASSIVE"
    good = _notebook(tmp_path / "libro" / "bien.ipynb", "2\n")
    bad = _notebook(tmp_path / "libro" / "mal.ipynb", "1\n")  # guardada con un hilo
    saved = tmp_path / "ejecutados"
    cmd = [sys.executable, "-m", "pytest", "-p", "tools.nbval_record", "--record-executed",
           str(saved), "--record-root", str(tmp_path), "--pin-workers", "--nbval-lax",
           "--nbval-current-env", "-n", "2", "--dist", "loadscope", "-p", "no:cacheprovider",
           str(good), str(bad)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    report = done.stdout + done.stderr
    # La celda verificada con otro número de hilos falla en nbval, y ese cuaderno no se guarda.
    assert done.returncode == 1, report
    assert "1 failed, 11 passed" in report and "mal.ipynb::Cell 0" in report, report
    assert sorted(p.name for p in (saved / "libro").iterdir()) == ["bien.ipynb"]

    recorded = nbformat.read(saved / "libro" / "bien.ipynb", as_version=4)
    # Cada cuaderno en su núcleo de la CPU: el de esta ejecución es uno solo.
    affinity = recorded.cells[2].outputs[0].text
    assert affinity.count(",") == 0 and int(affinity.strip("[]\n")) in os.sched_getaffinity(0)
    assert recorded.metadata[METADATA_KEY]["seconds"] > 0
    state = recorded.metadata.widgets["application/vnd.jupyter.widget-state+json"]["state"]
    assert any(s["model_name"] == "IntSliderModel" and s["state"]["value"] == 3 for s in state.values())
    assert all("execution" not in c.metadata for c in recorded.cells)  # la clave no cambia

    # Lo mismo que guarda nbclient (lo que usa Jupyter Book) al ejecutar ese cuaderno.
    reference = nbformat.read(good, as_version=4)
    NotebookClient(reference, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(good.parent)}}).execute(env=env)  # fmt: skip
    reference.cells[2].outputs[0].text = affinity  # este núcleo no estaba atado
    assert _comparable(recorded) == _comparable(reference)
    assert [o.text for o in recorded.cells[3].outputs] == ["al final\n"]
    assert recorded.cells[4].outputs[0].data["text/plain"] == "'v2'"


def test_checked_outputs_are_saved_with_the_threads_make_test_compares_them(tmp_path: Path) -> None:
    from tools.save_checked_outputs import save_outputs, threads_for

    assert threads_for(ROOT / "chapters" / "01_atencion.ipynb") == student_env.COLAB_THREADS
    assert threads_for(ROOT / "chapters" / "tareas" / "tarea_01_atencion.ipynb") == 1
    assert threads_for(ROOT / "instructor" / "tareas" / "tarea_01_atencion.ipynb") == 1
    for folder, expected in (("chapters", "2\n"), ("tareas", "1\n")):
        path = _notebook(tmp_path / folder / "cuaderno.ipynb", "?\n")
        assert save_outputs(path) == 1
        assert nbformat.read(path, as_version=4).cells[0].outputs[0].text == expected


def test_chapters_whose_colab_cells_leave_the_same_environment_share_one_nbval_run() -> None:
    plain, extra, homework = ("install", "transformer_lib"), ("install", "t[notebooks]"), ("install", "t[x]")
    a, b, c = Path("a.ipynb"), Path("b.ipynb"), Path("c.ipynb")
    environment = {plain: frozenset({"torch==2"}), extra: frozenset({"torch==2"}),
                   homework: frozenset({"torch==2", "nbformat==5"})}  # fmt: skip
    installs, runs = [], []

    def install(args):
        installs.append(args)
        return environment[args]

    def run(paths):
        runs.append((installs[-1], list(paths)))
        return 0

    # Mismo entorno: una sola ejecución, sin volver a instalar.
    assert student_env.run_by_environment({plain: [a], extra: [b]}, install, run) == 0
    assert installs == [plain, extra] and runs == [(extra, [a, b])]
    # Entornos distintos: cada grupo, con el suyo (el instalado al final va primero).
    installs.clear()
    runs.clear()
    assert student_env.run_by_environment({plain: [a], homework: [c]}, install, run) == 0
    assert installs == [plain, homework, plain]
    assert runs == [(homework, [c]), (plain, [a])]
    assert student_env.run_by_environment({plain: [a]}, install, lambda paths: 3) == 3
