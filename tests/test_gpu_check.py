"""La comprobación en GPU (issue 27): ``tools/gpu_check.sh --dry-run`` de punta a punta en CPU,
sus piezas (informe de nbval, celdas GPU, órdenes) y el recuadro del libro (``_ext/gpu_results.py``)."""

from __future__ import annotations

import importlib.util
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools import gpu_check  # noqa: E402

DRY_RUN_CPU_S = 30  # lo que puede costar el dry-run en make test


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gpu_results = _load("gpu_results", ROOT / "_ext" / "gpu_results.py")
root_conftest = _load("root_conftest", ROOT / "conftest.py")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@pytest.mark.procesos
def test_dry_run_runs_every_step_on_cpu(tmp_path: Path) -> None:
    out = tmp_path / "dry.json"
    before = _children_cpu()
    proc = subprocess.run(["bash", "tools/gpu_check.sh", "--dry-run", "--out", str(out), "--work", str(tmp_path / "w")],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    cpu = _children_cpu() - before
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert cpu <= DRY_RUN_CPU_S, f"el dry-run gastó {cpu:.1f} s de CPU (máximo {DRY_RUN_CPU_S})"
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["dry_run"] is True and results["complete"] is True and results["schema"] == gpu_check.SCHEMA
    assert results["device"]["name"] == "cpu (dry-run)" and results["device"]["torch"]
    steps = results["steps"]
    assert steps["env"]["mode"].startswith("dry-run") and steps["data"]["status"] in ("ok", "missing")
    assert list(steps) == ["env", "data", "train", "kv_cache", "ddp", "test-gpu", "forecast"]
    assert steps["test-gpu"]["status"] == "ok", steps["test-gpu"]
    # Cada celda requires-gpu de los cuadernos aparece, y nbval la recoge.
    expected = gpu_check.gpu_cells(gpu_check.repository_notebooks())
    assert expected, "no hay ninguna celda requires-gpu en los cuadernos"
    assert [(c["notebook"], c["code_cell"]) for c in results["cells"]] == \
        [(c["notebook"], c["code_cell"]) for c in expected]
    assert all(c["status"] == "not-run" and "recogida" in c["message"] for c in results["cells"])
    # El benchmark de entrenamiento pasó por autocast bf16, la compilación y la atención fusionada.
    train = steps["train"]["rows"][0]
    assert steps["train"]["status"] == "ok" and train["tokens_per_s"] > 0
    assert (train["precision"], train["compile"], train["preset"]) == ("bf16", "eager", "dry-run")
    assert "math prohibido" in train["attention"] and train["mfu"] is None  # la CPU no tiene pico en la tabla
    assert results["train"]["tokens_per_s"] == train["tokens_per_s"]
    kv = steps["kv_cache"]["rows"]
    assert [r["new_tokens"] for r in kv] == [16, 32] and all(r["same_tokens"] for r in kv)
    assert steps["ddp"]["status"] == "skipped" and "no se prueba" in steps["ddp"]["detail"]
    assert steps["forecast"]["status"] == "skipped"  # en dry-run nunca se entrena la verificación
    if "elegiría" in steps["forecast"]["detail"]:
        assert steps["forecast"]["command"].startswith("-m transformer_lib forecast --verify results/forecast_")
    pins = (ROOT / "_build" / "gpu-check" / "constraints-gpu.txt").read_text(encoding="utf-8").splitlines()
    assert not any(p.startswith("torch==") for p in pins) and any(p.startswith("numpy==") for p in pins)


def test_parse_junit_reads_status_time_message_and_stdout(tmp_path: Path) -> None:
    junit = tmp_path / "j.xml"
    junit.write_text(
        '<testsuites><testsuite>'
        '<testcase classname="chapters.09_escalado.ipynb" name="Cell 7" time="12.5">'
        '<properties><property name="gpu_cell_stdout" value="MFU 41%"/></properties></testcase>'
        '<testcase classname="chapters.09_escalado.ipynb" name="Cell 8" time="0.2">'
        '<failure message="#x1B[91mNotebook cell execution failed#x1B[0m&#10;más">traza</failure></testcase>'
        '<testcase classname="chapters.04_layernorm.ipynb" name="Cell 3" time="0">'
        '<skipped message="celda marcada">x</skipped></testcase>'
        '<testcase classname="tests.test_x" name="test_y" time="1"/>'
        '</testsuite></testsuites>', encoding="utf-8")
    got = gpu_check.parse_junit(junit, ["chapters/04_layernorm.ipynb", "chapters/09_escalado.ipynb"])
    assert got == {
        ("chapters/09_escalado.ipynb", 7): {"status": "passed", "seconds": 12.5, "message": None, "stdout": "MFU 41%"},
        ("chapters/09_escalado.ipynb", 8): {"status": "failed", "seconds": 0.2,
                                            "message": "Notebook cell execution failed", "stdout": None},
        ("chapters/04_layernorm.ipynb", 3): {"status": "skipped", "seconds": 0.0, "message": "celda marcada",
                                             "stdout": None},
    }


def test_gpu_cells_count_code_cells_like_nbval(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# t"), nbformat.v4.new_code_cell("a = 1"),
                nbformat.v4.new_markdown_cell("texto"),
                nbformat.v4.new_code_cell("import torch\nprint(1)", metadata={"tags": ["requires-gpu", "skip-execution"]})]
    path = tmp_path / "t.ipynb"
    nbformat.write(nb, path)
    [cell] = gpu_check.gpu_cells([str(path)])
    assert (cell["cell_index"], cell["code_cell"], cell["first_line"]) == (3, 1, "import torch")
    assert cell["cell_id"] == nb.cells[3].id and len(cell["source_sha256"]) == 64


def test_device_slug_and_commands() -> None:
    assert gpu_check.device_slug("NVIDIA H200") == "nvidia-h200"
    assert gpu_check.device_slug("NVIDIA A100-SXM4-80GB") == "nvidia-a100-sxm4-80gb"
    with pytest.raises(ValueError, match="'··'"):
        gpu_check.device_slug("··")
    one, two = (gpu_check.ddp_command("py", n, dry_run=False) for n in (1, 2))
    assert one[:3] == ["py", "-m", "transformer_lib"] and "torch.distributed.run" not in one
    assert "--nproc_per_node=2" in two and two[two.index("--batch-size") + 1] == "128"
    assert one[one.index("--device") + 1] == "cuda" and one[one.index("--precision") + 1] == "bf16"
    cmd = gpu_check.forecast_verification_command("py", Path("results/forecast_1e13.json"), Path("v.json"), "cuda")
    assert cmd == ["py", "-m", "transformer_lib", "forecast", "--verify", "results/forecast_1e13.json",
                   "--out", "v.json", "--device", "cuda"]
    # En la máquina con GPU la copia no trae git: el commit del pronóstico sale de su verificación.
    root = Path(__file__).resolve().parents[1]
    commit = gpu_check.forecast_commit(root / "results/forecast_1e13.json")
    verify = json.loads((root / "results/forecast_1e13_verify.json").read_text(encoding="utf-8"))
    assert commit == verify["forecast"]["git_commit"] and len(commit) == 40
    assert gpu_check.forecast_verification_command("py", Path("f.json"), Path("v.json"), "cuda", commit)[-2:] == [
        "--forecast-commit", commit]


def test_choose_forecast_takes_the_largest_budget_that_fits(tmp_path: Path) -> None:
    files = []
    for budget, seconds in ((1e12, 60), (1e13, 600), (1e14, 6000)):
        files.append(tmp_path / f"forecast_{budget:.0e}.json")
        files[-1].write_text(json.dumps({"budget": budget, "verification_estimated_seconds": seconds}))
    assert gpu_check.choose_forecast(files, 700)[0] == files[1]
    assert gpu_check.choose_forecast(files, 700, speedup=10)[0] == files[2]
    chosen, why = gpu_check.choose_forecast(files, 30)
    assert chosen is None and "forecast_1e+12.json" in why and "60 s" in why
    assert gpu_check.choose_forecast([], 700) == (None, "no hay ningún pronóstico (results/forecast_*.json)")


def test_nbval_reports_what_a_gpu_cell_printed_and_gpu_check_reads_it() -> None:
    """De punta a punta: conftest.py guarda la salida de la celda GPU, --junitxml la escribe y
    parse_junit la lee. Sin GPU, se hace creer a pytest que hay una (la celda solo imprime)."""
    folder = Path(tempfile.mkdtemp(dir=ROOT / "_build")) if (ROOT / "_build").is_dir() else None
    if folder is None:
        pytest.skip("falta _build/ (la crea make)")
    try:
        nb = nbformat.v4.new_notebook()
        nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
        nb.cells = [nbformat.v4.new_code_cell("x = 1"),
                    nbformat.v4.new_code_cell("print('MFU 41 %')\nprint('fin')",
                                              metadata={"tags": ["requires-gpu", "skip-execution"]})]
        nbformat.write(nb, folder / "t.ipynb")
        notebook = (folder / "t.ipynb").relative_to(ROOT).as_posix()
        script = ("import sys, torch, pytest\ntorch.cuda.is_available = lambda: True\n"
                  f"sys.exit(pytest.main(['--nbval-lax', '--nbval-current-env', '-p', 'no:cacheprovider', '-q', "
                  f"'--junitxml={folder / 'j.xml'}', {notebook!r}]))")
        proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        got = gpu_check.parse_junit(folder / "j.xml", [notebook])
        assert got[notebook, 1]["status"] == "passed" and got[notebook, 1]["stdout"] == "MFU 41 %\nfin\n"
        assert got[notebook, 0]["stdout"] is None  # solo las celdas GPU
    finally:
        shutil.rmtree(folder)
    assert root_conftest.STDOUT_PROPERTY == gpu_check.STDOUT_PROPERTY


def _measurement(**cell) -> dict:
    base = {"notebook": "chapters/10_idea_clave.ipynb", "cell_id": "21", "cell_index": 21,
            "source_sha256": "abc", "status": "passed", "seconds": 83.25, "stdout": "MFU 41,0 %\n"}
    return {"dry_run": False, "date": "2026-12-04 10:00 UTC", "cells": [base | cell],
            "device": {"name": "NVIDIA H200", "driver": "550.54", "cuda": "12.4", "torch": "2.5.1"}}


def test_the_book_note_says_when_a_cell_was_not_measured() -> None:
    note = gpu_results.measurement_note([], "chapters/10_idea_clave.ipynb", "21", 21, "abc")
    assert note[0].astext() == "Aún sin medir en una GPU" and "todavía no se ha medido" in note.astext()


def test_the_book_note_shows_the_measurement_and_its_output() -> None:
    note = gpu_results.measurement_note([_measurement()], "chapters/10_idea_clave.ipynb", "21", 21, "abc")
    text = note.astext()
    assert note[0].astext() == "Medido en una GPU"
    assert "NVIDIA H200 (controlador 550.54, CUDA 12.4, torch 2.5.1), 2026-12-04 10:00 UTC" in text
    assert "sin errores en 83,2 s" in text and "MFU 41,0 %" in text and "ha cambiado" not in text
    changed = gpu_results.measurement_note([_measurement(status="failed", message="CUDA out of memory")],
                                           "chapters/10_idea_clave.ipynb", "21", 21, "otra").astext()
    assert "falló tras 83,2 s: CUDA out of memory" in changed and "ha cambiado desde esta medida" in changed
    other = gpu_results.measurement_note([_measurement()], "chapters/10_idea_clave.ipynb", "22", 22, "abc")
    assert other[0].astext() == "Aún sin medir en una GPU"


def test_the_book_ignores_dry_runs_and_notices_new_files(tmp_path: Path) -> None:
    before = gpu_results.results_signature(tmp_path)
    (tmp_path / "dry.json").write_text(json.dumps(_measurement() | {"dry_run": True}), encoding="utf-8")
    assert gpu_results.load_measurements(tmp_path) == []
    (tmp_path / "nvidia-h200.json").write_text(json.dumps(_measurement()), encoding="utf-8")
    assert [m["device"]["name"] for m in gpu_results.load_measurements(tmp_path)] == ["NVIDIA H200"]
    assert gpu_results.results_signature(tmp_path) != before


def test_the_book_puts_the_note_after_each_gpu_cell(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "results" / "gpu").mkdir(parents=True)
    (src / "conf.py").write_text(f"import sys\nsys.path.insert(0, {str(ROOT / '_ext')!r})\n"
                                 "extensions = ['myst_nb', 'gpu_results']\nnb_execution_mode = 'off'\n"
                                 "master_doc = 'index'\nexclude_patterns = ['_build']\n", encoding="utf-8")
    (src / "index.md").write_text("# Índice\n\n```{toctree}\ncap\n```\n", encoding="utf-8")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Capítulo"), nbformat.v4.new_code_cell("print('cpu')"),
                nbformat.v4.new_code_cell("print('gpu')", metadata={"tags": ["requires-gpu", "skip-execution"]}),
                nbformat.v4.new_code_cell("print('gpu 2')", metadata={"tags": ["requires-gpu", "skip-execution"]})]
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                   "language_info": {"name": "python"}}
    nbformat.write(nb, src / "cap.ipynb")
    [measured, _] = gpu_check.gpu_cells([str(src / "cap.ipynb")])
    measured |= {"notebook": "cap.ipynb", "status": "passed", "seconds": 1.0, "stdout": "salida en la GPU"}
    (src / "results" / "gpu" / "x.json").write_text(json.dumps(_measurement() | {"cells": [measured]}), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", str(src), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    html = (tmp_path / "out" / "cap.html").read_text(encoding="utf-8")
    cpu, gpu, gpu2 = (html.index(f"{text}</span>") for text in ("'cpu'", "'gpu'", "'gpu 2'"))
    notes = [i for i in range(len(html)) if html.startswith('class="gpu-measurement', i)]
    assert len(notes) == 2 and cpu < gpu < notes[0] < gpu2 < notes[1]
    assert "salida en la GPU" in html[notes[0]:gpu2] and "Aún sin medir en una GPU" in html[notes[1]:]


def test_without_cuda_the_script_stops_with_a_clear_error(tmp_path: Path) -> None:
    if sys.prefix == sys.base_prefix:
        pytest.skip("las pruebas no corren en un entorno virtual que se pueda imitar")
    env = tmp_path / "env"  # un entorno «ya creado»: el mismo Python y sus paquetes, con el sello al día
    (env / "bin").mkdir(parents=True)
    (env / "bin" / "python").symlink_to(Path(sys.executable))
    (env / "lib").symlink_to(Path(sys.prefix) / "lib")
    (env / "pyvenv.cfg").write_text((Path(sys.prefix) / "pyvenv.cfg").read_text())
    (env / ".installed").touch()
    proc = subprocess.run(["bash", "tools/gpu_check.sh", "--env", str(env)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"el torch de {env} no ve ninguna GPU CUDA" in proc.stderr and "--dry-run" in proc.stderr
    assert not (ROOT / gpu_check.RESULTS).exists() or not list((ROOT / gpu_check.RESULTS).glob("cpu*.json"))


def test_a_step_out_of_time_is_killed_with_its_children(tmp_path: Path) -> None:
    args = gpu_check.parse_args(["--dry-run", "--work", str(tmp_path), "--out", str(tmp_path / "x.json")])

    class Report:
        data: dict = {}

    runner = gpu_check.Runner(args, Report())
    t0 = time.perf_counter()
    code, output, _ = runner.run("lento", ["bash", "-c", "echo empieza; sleep 60 & sleep 60; echo nunca"], cap=1)
    assert code is None and output == "empieza\n" and time.perf_counter() - t0 < 20  # no espera al nieto
    assert (tmp_path / "lento.log").read_text() == "empieza\n"
