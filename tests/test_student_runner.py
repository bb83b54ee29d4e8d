"""tools/_student_runner.py: el entorno de estudiante compara las celdas verificadas, con sus hilos."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat

from tools import student_env

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "tools" / "_student_runner.py"
_spec = importlib.util.spec_from_file_location("_student_runner", RUNNER)
runner = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(runner)

out = nbformat.v4.new_output


def test_checked_outputs_are_compared_like_nbval() -> None:
    ref = [out("stream", name="stdout", text="a = 1\n"), out("stream", name="stdout", text="b = 2\n")]
    # Los flujos se unen antes de comparar (como en nbval) y las imágenes no se comparan.
    same = [out("stream", name="stdout", text="a = 1\nb = 2\n"),
            out("display_data", data={"image/png": "AAAA", "text/plain": "<Figure>"})]  # fmt: skip
    ref_fig = [*ref, out("display_data", data={"image/png": "BBBB", "text/plain": "<Figure>"})]
    assert runner.checked_output_problem(ref_fig, same) == ""
    changed = [out("stream", name="stdout", text="a = 1\nb = 3\n")]
    problem = runner.checked_output_problem(ref, changed)
    assert problem.startswith("stdout: se esperaba") and "b = 3" in problem
    assert "no tiene salida guardada" in runner.checked_output_problem([], changed)


def _notebook(tmp_path: Path, saved: str) -> Path:
    cell = nbformat.v4.new_code_cell(
        "# NBVAL_CHECK_OUTPUT\nimport os\nprint(os.environ['OMP_NUM_THREADS'])",
        outputs=[out("stream", name="stdout", text=saved)],
    )
    nb = nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_code_cell("print('siguiente')")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "capitulo.ipynb"
    nbformat.write(nb, path)
    return path


def _run(path: Path) -> dict:
    env = student_env.clean_env()
    cmd = [sys.executable, "-I", str(RUNNER), "--kernel", "python3", str(path)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=path.parent, env=env, timeout=120)
    return json.loads(done.stdout.splitlines()[-1])


def test_checked_cells_run_with_colab_threads_and_a_difference_fails(tmp_path, monkeypatch) -> None:
    # El entorno de estudiante usa los hilos de Colab aunque make exporte OMP_NUM_THREADS=1.
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert student_env.clean_env()["OMP_NUM_THREADS"] == str(student_env.COLAB_THREADS) == "2"
    assert student_env.clean_env()["OMP_WAIT_POLICY"] == "PASSIVE"
    good = _run(_notebook(tmp_path, "2\n"))
    assert good["ok"] and good["cells"] == 2, good
    bad = _run(_notebook(tmp_path, "1\n"))
    assert not bad["ok"] and bad["cells"] == 1
    assert bad["error"].startswith("celda 0 (verificada), con 2 hilos: stdout: se esperaba '1\\n'")


def test_cpu_option_ties_the_kernel_to_one_core(tmp_path: Path) -> None:
    cell = nbformat.v4.new_code_cell("import os\nprint(sorted(os.sched_getaffinity(0)))")
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "afinidad.ipynb"
    nbformat.write(nb, path)
    core = max(os.sched_getaffinity(0))
    save = tmp_path / "ejecutados"
    cmd = [sys.executable, "-I", str(RUNNER), "--kernel", "python3", "--cpu", str(core),
           "--save", str(save), "--root", str(tmp_path), str(path)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert json.loads(done.stdout.splitlines()[-1])["ok"], done.stdout + done.stderr
    saved = nbformat.read(save / "afinidad.ipynb", as_version=4)
    assert saved.cells[0].outputs[0].text == f"[{core}]\n"
