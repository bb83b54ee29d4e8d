"""Tests de las tareas con corrección automática (transformer_lib.tareas).

- Las versiones del estudiante están al día con las del profesor y no filtran soluciones.
- Las soluciones del profesor pasan todas las comprobaciones; las versiones del estudiante
  salen «sin resolver»; cada implementación de ``tests/tareas_incorrectas`` falla con la
  explicación que le corresponde.
- Las operaciones prohibidas se reconocen por lo que se ejecuta; los fallos estructurales van
  primero; las «soluciones» del entrenamiento que no son un MiniGPT causal se rechazan
  (``tests/tareas_incorrectas/training``).
- ``python -m transformer_lib.tareas comprobar`` de principio a fin sobre cuadernos reales,
  también hostiles (``tests/tareas_incorrectas/notebooks``): el veredicto no se puede falsificar
  desde el cuaderno. Las soluciones y los cuadernos sin resolver enteros los califica
  ``make classroom`` (``tools/classroom_check.py``), con las órdenes de cada flujo.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import torch

from coursetools.homework.notebooks import (
    BEGIN_MARK,
    END_MARK,
    RAISES_TAG,
    SOURCE,
    leaks,
    problems,
    strip_solutions,
    student_version,
)
from transformer_lib import GPT, GPTConfig
from transformer_lib.tareas import (
    MAX_VALIDATION_ADVANTAGE,
    VALIDATION_THRESHOLD,
    check_attention,
    check_block,
    check_causal_mask,
    check_training,
)
from transformer_lib.tareas.catalog import TASKS
from transformer_lib.tareas.core import CORRECT, UNSOLVED, WRONG

ROOT = Path(__file__).resolve().parents[1]
INSTRUCTOR = ROOT / SOURCE
STUDENT = ROOT / "chapters" / "tareas"
WRONG_DIR = ROOT / "tests" / "tareas_incorrectas"
COLAB_CELL = (
    "# Celda para Colab: instala transformer_lib desde el repositorio del curso. Fuera de Colab no hace nada.\n"
    "import subprocess\nimport sys\n\n"
    'if "google.colab" in sys.modules:\n'
    '    subprocess.run([sys.executable, "-m", "pip", "install", "-q",\n'
    '                    "transformer_lib[tareas] @ git+https://github.com/curso-transformers/transformers-ii"], check=True)'
)


def _have_data() -> bool:
    """Si el Quijote está en local (TRANSFORMER_LIB_DATA o la caché); las pruebas no descargan nada."""
    from transformer_lib.data import quijote_path

    try:
        quijote_path(download=False)
    except (FileNotFoundError, OSError):
        return False
    return True


needs_data = pytest.mark.skipif(not _have_data(), reason="hace falta pg2000.txt en local (TRANSFORMER_LIB_DATA o caché)")


# --------------------------------------------------------------------------------------
# Una sola fuente: generador, versiones al día y sin fugas
# --------------------------------------------------------------------------------------


def test_student_versions_up_to_date_without_leaks():
    found = problems(INSTRUCTOR, STUDENT)
    assert found == [], "\n".join(found)


def test_each_task_has_both_versions():
    for task_key in TASKS:
        assert (INSTRUCTOR / f"{task_key}.ipynb").is_file()
        assert (STUDENT / f"{task_key}.ipynb").is_file()


@pytest.mark.parametrize("task_key", list(TASKS))
def test_student_version_well_formed(task_key):
    nb = nbformat.read(STUDENT / f"{task_key}.ipynb", as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.metadata["tarea"] == task_key
    first = nb.cells[0]
    assert first.cell_type == "code" and first.source == COLAB_CELL
    assert first.metadata.get("tags") == ["remove-cell"]
    assert nb.cells[1].cell_type == "markdown" and nb.cells[1].source.startswith("# Tarea ")
    n_stubs = 0
    for cell in nb.cells:
        assert BEGIN_MARK not in cell.source and END_MARK not in cell.source
        if cell.cell_type != "code":
            continue
        assert cell.outputs == [] and cell.execution_count is None
        n_stubs += cell.source.count("raise NotImplementedError()")
        raises = any(line == "raise NotImplementedError()" for line in cell.source.split("\n"))
        assert (RAISES_TAG in cell.metadata.get("tags", [])) == raises, cell.source[:80]
    assert n_stubs >= len(TASKS[task_key].exercises)


def test_task_3_statement_gives_the_real_threshold():
    nb = nbformat.read(STUDENT / "tarea_03_bloque_gpt.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert f"{VALIDATION_THRESHOLD:.2f}".replace(".", ",") in text
    assert f"**{MAX_VALIDATION_ADVANTAGE:.2f}**".replace(".", ",") in text  # la ventaja tolerada
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "required_weights(" in code  # los nombres del state_dict, a la vista
    # Nada detrás del NotImplementedError de la plantilla: «borra esas dos líneas» deja el resto intacto.
    assert "raise NotImplementedError()\n        self.apply" not in code


def test_strip_solutions_keeps_indentation_and_tags():
    code = "def f(x):\n    '''doc'''\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n"
    stripped, raises = strip_solutions(code)
    assert stripped == "def f(x):\n    '''doc'''\n    # TU CÓDIGO AQUÍ\n    raise NotImplementedError()\n"
    assert not raises
    stripped, raises = strip_solutions("modelo = None\n### BEGIN SOLUTION\nmodelo = 3\n### END SOLUTION")
    assert stripped == "modelo = None\n# TU CÓDIGO AQUÍ\nraise NotImplementedError()" and raises


@pytest.mark.parametrize("code", [
    "### BEGIN SOLUTION\nx = 1\n",
    "x = 1\n### END SOLUTION\n",
    "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n",
])
def test_unpaired_marks_raise(code):
    with pytest.raises(ValueError, match="SOLUTION"):
        strip_solutions(code, "prueba")


def test_generator_removes_instructor_cells_and_outputs():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("x = 1\n### BEGIN SOLUTION\nsecreto = 42\n### END SOLUTION"),
        nbformat.v4.new_markdown_cell("Nota para el profesor", metadata={"tags": ["solo-solucion"]}),
    ]
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="hola")]
    nb.cells[0].execution_count = 3
    student = student_version(nb, "tarea_99_prueba.ipynb")
    assert len(student.cells) == 1
    assert student.cells[0].outputs == [] and student.cells[0].execution_count is None
    assert student.cells[0].metadata["tags"] == [RAISES_TAG]
    assert student.metadata["tarea"] == "tarea_99_prueba"
    assert leaks(nb, student) == []
    student.cells[0].source += "\nsecreto = 42"
    assert leaks(nb, student) == ["celda 1: secreto = 42"]


def test_generate_check_detects_stale_version(tmp_path):
    target = tmp_path / "tareas"
    flags = ["--fuente", str(INSTRUCTOR), "--destino", str(target), "--classroom", str(tmp_path / "classroom")]
    subprocess.run([sys.executable, "-m", "coursetools.homework", "generar", *flags], cwd=ROOT,
                   check=True, capture_output=True)
    ok = subprocess.run([sys.executable, "-m", "coursetools.homework", "generar", "--comprobar", *flags],
                        cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout
    path = target / "tarea_01_atencion.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[-1].source += "\n¡cambio!"
    nbformat.write(nb, path)
    bad = subprocess.run([sys.executable, "-m", "coursetools.homework", "generar", "--comprobar", *flags],
                         cwd=ROOT, capture_output=True, text=True)
    assert bad.returncode == 1 and "no está al día" in bad.stdout


def test_template_is_complete_and_a_failure_leaves_no_folder(tmp_path, monkeypatch):
    from coursetools.homework import classroom

    url = "https://example.org/curso"
    written = classroom.create_template("tarea_01_atencion", tmp_path / "plantilla", STUDENT, url=url)
    assert sorted(p.relative_to(tmp_path / "plantilla").as_posix() for p in written) == [
        ".github/workflows/classroom.yml", ".gitignore", "README.md", "tarea_01_atencion.ipynb"]
    flow = (tmp_path / "plantilla" / ".github" / "workflows" / "classroom.yml").read_text(encoding="utf-8")
    assert f'"transformer_lib[tareas] @ git+{url}"' in flow
    with pytest.raises(FileExistsError):
        classroom.create_template("tarea_01_atencion", tmp_path / "plantilla", STUDENT, url=url)
    with pytest.raises(FileNotFoundError):
        classroom.create_template("tarea_01_atencion", tmp_path / "otra", tmp_path / "no_hay", url=url)

    def broken(task, url):
        raise RuntimeError("fallo a medias")

    monkeypatch.setattr(classroom, "workflow", broken)
    with pytest.raises(RuntimeError):
        classroom.create_template("tarea_02_multihead", tmp_path / "rota", STUDENT, url=url)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plantilla"]  # ni «rota» ni temporales


def test_grader_is_installed_without_instructor_tools():
    import transformer_lib.tareas as tareas

    package = Path(tareas.__file__).parent
    assert not (package / "notebooks.py").exists() and not (package / "classroom.py").exists()
    assert "yaml" not in (package / "__main__.py").read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------
# Comprobaciones sobre código Python (rápidas)
# --------------------------------------------------------------------------------------


def _namespace(path: Path) -> dict:
    """Ejecuta las celdas de definiciones de un cuaderno (no las de comprobar ni entrenar)."""
    nb = nbformat.read(path, as_version=4)
    namespace: dict = {"__name__": "cuaderno"}
    for cell in nb.cells:
        if cell.cell_type != "code" or "remove-cell" in cell.metadata.get("tags", []):
            continue
        if any(p in cell.source for p in ("check_", "prepare_quijote", "model is not None")):
            continue
        exec(compile(cell.source, str(path), "exec"), namespace)
    return namespace


def _check_all(namespace: dict, task_key: str) -> dict:
    results = {}
    for e in TASKS[task_key].exercises:
        if e.id == "entrenamiento":
            continue
        results[e.id] = e.check(*(namespace.get(n) for n in e.names), show=False)
    return results


@pytest.mark.parametrize("task_key", list(TASKS))
def test_instructor_solutions_pass(task_key):
    for exercise, r in _check_all(_namespace(INSTRUCTOR / f"{task_key}.ipynb"), task_key).items():
        assert r.status == CORRECT, (exercise, r.text())
        assert r.points == r.max_points and r.total >= 5


@pytest.mark.parametrize("task_key", list(TASKS))
def test_student_versions_are_unsolved(task_key):
    for exercise, r in _check_all(_namespace(STUDENT / f"{task_key}.ipynb"), task_key).items():
        assert r.status == UNSOLVED, (exercise, r.text())
        assert r.points == 0
        assert "NotImplementedError" in r.text() and "SIN RESOLVER" in r.text()


def _load_wrong(path: Path):
    sys.path.insert(0, str(WRONG_DIR))  # para `from _base import PreLNBlock`
    try:
        spec = importlib.util.spec_from_file_location(f"incorrecta_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(WRONG_DIR))
    return module


_WRONG_PATHS = sorted(p for p in WRONG_DIR.glob("*.py") if not p.name.startswith("_"))


def test_there_are_many_wrong_implementations():
    assert len(_WRONG_PATHS) >= 40
    exercises = {_load_wrong(p).EXERCISE for p in _WRONG_PATHS}
    todos = {e.id for t in TASKS.values() for e in t.exercises} - {"entrenamiento"}
    assert exercises == todos


@pytest.mark.parametrize("path", _WRONG_PATHS, ids=[p.stem for p in _WRONG_PATHS])
def test_each_classic_mistake_fails_with_its_diagnosis(path):
    module = _load_wrong(path)
    exercise = next(e for t in TASKS.values() for e in t.exercises if e.id == module.EXERCISE)
    r = exercise.check(*(getattr(module, n) for n in exercise.names), show=False)
    assert r.status == WRONG, r.text()
    # Crédito parcial: solo puntúan los grupos cuyas pruebas pasan todas, y alguno falla.
    assert r.points == sum(g["max_points"] for g in r.groups if g["total"] and g["passed"] == g["total"]) < r.max_points
    assert module.EXPECTED in " ".join(r.messages), r.text()
    assert "Traceback" not in r.text()


_TRAINING_PATHS = sorted((WRONG_DIR / "training").glob("*.py"))
_NOTEBOOK_PATHS = sorted(p for p in (WRONG_DIR / "notebooks").glob("*.py") if not p.name.startswith("_"))


@needs_data
@pytest.mark.parametrize("path", _TRAINING_PATHS, ids=[p.stem for p in _TRAINING_PATHS])
def test_training_non_solutions_fail_with_their_diagnosis(path):
    from transformer_lib.data import prepare_quijote

    module = _load_wrong(path)
    r = check_training(module.model, data=prepare_quijote(), show=False)
    assert r.status == WRONG and r.points == 0, r.text()
    assert module.EXPECTED in r.messages[0], r.text()  # el estructural, el primero del informe
    if hasattr(module, "OWN_VALIDATION_LOSS"):  # lo que habría impreso el cuaderno
        assert module.OWN_VALIDATION_LOSS < VALIDATION_THRESHOLD


def test_partial_credit_per_named_group():
    """Un caso que se escapa cuesta solo los puntos de su grupo, y el informe nombra el grupo."""
    float32 = _load_wrong(WRONG_DIR / "attention_float32.py")  # solo falla con entradas float64
    r = check_attention(float32.scaled_dot_product_attention, show=False)
    groups = {g["id"]: g for g in r.groups}
    assert r.status == WRONG and r.points == r.max_points - groups["robustez"]["max_points"] == 6
    assert groups["robustez"]["points"] == 0 and groups["robustez"]["passed"] < groups["robustez"]["total"]
    assert all(g["points"] == g["max_points"] for k, g in groups.items() if k != "robustez")
    assert "✘ tensores no contiguos, float64 y puntuaciones grandes: 0/1 puntos" in r.text()
    assert r.group_passed("formas") and not r.group_passed("robustez")
    # Una operación prohibida no deja puntos en ningún grupo.
    from transformer_lib import scaled_dot_product_attention as library
    assert check_attention(library, show=False).points == 0


def test_groups_cover_every_case_and_add_up():
    from transformer_lib.tareas.core import group_of

    for task in TASKS.values():
        for e in task.exercises:
            groups = e.spec.score_groups
            assert sum(g.points for g in groups) == e.points, e.id
            if e.id == "entrenamiento":
                continue
            hit = {group_of(groups, c["description"]).id for c in e.spec.build(e.spec.seed)}
            assert hit == {g.id for g in groups}, f"{e.id}: grupos sin pruebas {set(g.id for g in groups) - hit}"


def test_classroom_has_one_grader_step_per_group():
    import yaml

    from coursetools.homework.classroom import workflow

    for task in TASKS.values():
        steps = yaml.safe_load(workflow(task, "https://example.org/curso"))["jobs"]["calificar"]["steps"]
        graders = [s["with"] for s in steps if "autograding-command-grader" in s.get("uses", "")]
        expected = [(e.id, g) for e in task.exercises for g in e.spec.score_groups]
        assert len(graders) == len(expected)
        assert sum(float(s["max-score"]) for s in graders) == task.points
        for s, (exercise, g) in zip(graders, expected):
            assert f"--ejercicio {exercise}" in s["command"] and float(s["max-score"]) == g.points
            if len(expected) > len(task.exercises) and f"--grupo {g.id}" in s["command"]:
                assert g.name in s["test-name"]


def test_group_option_needs_an_exercise_and_a_real_group(capsys):
    from transformer_lib.tareas.__main__ import main

    assert main(["comprobar", "tarea_01_atencion.ipynb", "--grupo", "mascaras"]) == 2
    assert "necesita --ejercicio" in capsys.readouterr().err
    assert main(["comprobar", "tarea_01_atencion.ipynb", "--ejercicio", "atencion", "--grupo", "nada"]) == 2
    assert "sus grupos son" in capsys.readouterr().err


def test_forbidden_attention_is_seen_whatever_its_name():
    from torch.nn.functional import scaled_dot_product_attention as renamed_pytorch

    from transformer_lib import scaled_dot_product_attention as renamed_library

    for fn, expected in ((lambda q, k, v, mask=None: renamed_pytorch(q, k, v, attn_mask=mask), "de PyTorch"),
                         (lambda q, k, v, mask=None: renamed_library(q, k, v, mask), "de la biblioteca")):
        r = check_attention(fn, show=False)
        assert r.status == WRONG and f"la atención {expected}" in r.messages[0], r.text()


def test_structural_findings_come_first_and_numeric_ones_share_a_line():
    module = _load_wrong(WRONG_DIR / "block_future_only_mask.py")
    r = check_block(module.PreLNBlock, show=False)
    assert "mira al futuro" in r.messages[0], r.text()
    assert sum("no coincide con la referencia" in m for m in r.messages) <= 1, r.text()


@pytest.mark.parametrize("path", _NOTEBOOK_PATHS, ids=[p.stem for p in _NOTEBOOK_PATHS])
def test_hostile_notebooks_cannot_forge_a_pass(path, tmp_path):
    sys.path.insert(0, str(path.parent))  # para `from _wrong_attention import …`
    try:
        fixture = _load_wrong(path)
    finally:
        sys.path.remove(str(path.parent))
    nb = nbformat.read(INSTRUCTOR / f"{fixture.TASK}.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(fixture.CELL))
    notebook = tmp_path / f"{fixture.TASK}.ipynb"
    nbformat.write(nb, notebook)
    r = _cli("comprobar", str(notebook), "--semilla", "7", "--json", str(tmp_path / "r.json"))
    assert r.returncode == getattr(fixture, "EXIT", 1), r.stdout + r.stderr
    assert "🎉" not in r.stdout.split("═" * 72)[-1] and "Traceback" not in r.stdout + r.stderr
    assert not (tmp_path / "PWNED").exists()  # nada del cuaderno se ejecuta en el calificador
    if fixture.EXERCISE is None:  # no se pudo ni leer la respuesta
        assert fixture.EXPECTED in r.stdout, r.stdout
        return
    (graded,) = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    result = next(x for x in graded["resultados"] if x["exercise"] == fixture.EXERCISE)
    assert result["status"] == WRONG and fixture.EXPECTED in " ".join(result["messages"]), r.stdout


def test_hidden_cases_repeat_with_their_seed_and_keep_secrets_in_the_grader():
    from transformer_lib.tareas.runner import for_kernel
    from transformer_lib.tareas.task1_attention import ATTENTION
    from transformer_lib.tareas.task3_training import TRAINING

    first, again, other = ([c["description"] for c in ATTENTION.build(s)] for s in (11, 11, 12))
    assert first == again and first != other
    cases = TRAINING.build(5)
    assert cases[0]["_validation_seed"] == 5
    assert all(not key.startswith("_") for case in for_kernel(cases) for key in case)


def test_student_exception_is_reported_not_raised(capsys):
    def broken(q, k, v, mask=None):
        raise RuntimeError("me he equivocado")

    r = check_attention(broken)  # no lanza
    output = capsys.readouterr().out
    assert r.status == WRONG
    assert "RuntimeError: me he equivocado" in output and "Traceback" not in output


def test_missing_or_odd_objects_break_nothing():
    assert check_causal_mask(None, show=False).status == UNSOLVED
    r = check_causal_mask(lambda T: "no soy un tensor", show=False)
    assert r.status == WRONG and "torch.Tensor" in " ".join(r.messages)
    r = check_attention(42, show=False)
    assert r.status in (WRONG, "error")


def test_checks_leave_student_seed_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check_causal_mask(lambda T: torch.ones(T, T, dtype=torch.bool).tril(), show=False)
    assert torch.equal(torch.rand(3), expected)


@needs_data
def test_check_training():
    from transformer_lib.data import prepare_quijote

    data = prepare_quijote()
    MiniGPT = _namespace(INSTRUCTOR / "tarea_03_bloque_gpt.ipynb")["MiniGPT"]
    config = GPTConfig(vocab_size=data.tokenizer.vocab_size, block_size=16, n_layer=1, n_head=2, d_model=32)
    untrained = MiniGPT(config)
    r = check_training(untrained, data=data, show=False)
    assert r.status == WRONG and "tiene que bajar de" in " ".join(r.messages)
    assert "Pérdida de validación medida: 4." in " ".join(r.notes)  # ≈ ln 92 sin entrenar
    r = check_training(untrained, threshold=10.0, data=data, show=False)
    assert r.status == CORRECT
    assert check_training(None, show=False).status == UNSOLVED
    r = check_training(GPT(config), data=data, show=False)
    assert r.status == WRONG and "no el GPT de la biblioteca" in " ".join(r.messages)
    other_vocab = MiniGPT(GPTConfig(vocab_size=50, block_size=16, n_layer=1, n_head=2, d_model=32))
    r = check_training(other_vocab, data=data, show=False)
    assert "vocabulario de 50" in " ".join(r.messages)


# --------------------------------------------------------------------------------------
# De principio a fin: python -m transformer_lib.tareas comprobar
# --------------------------------------------------------------------------------------


def _cli(*args: str, cwd: Path = ROOT, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "transformer_lib.tareas", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


class TestCheckNotebooks:
    """Un cuaderno con errores, la caché y los errores al ejecutar.

    Las soluciones (todos los puntos, «¡Tarea completa!») y los cuadernos sin resolver (cero
    puntos, «SIN RESOLVER» en cada ejercicio, sin trazas) se califican en ``make classroom``
    (``tools/classroom_check.py``), con las órdenes de cada flujo y en el entorno de
    estudiante: aquí no se ejecutan otra vez.
    """

    def test_wrong_notebook(self, tmp_path):
        nb = nbformat.read(STUDENT / "tarea_01_atencion.ipynb", as_version=4)
        for cell in nb.cells:
            if cell.source.startswith("def scaled_dot_product_attention"):
                cell.source = (WRONG_DIR / "attention_no_scale.py").read_text(encoding="utf-8")
            if cell.source.startswith("def causal_mask"):
                cell.source = "def causal_mask(T):\n    return torch.ones(T, T, dtype=torch.bool).tril()\n"
        nb.cells.insert(3, nbformat.v4.new_code_cell("1 / 0"))
        path = tmp_path / "tarea_01_atencion.ipynb"
        nbformat.write(nb, path)
        cache = tmp_path / "cache"
        r = _cli("comprobar", str(path), "--cache", str(cache), "--json", str(tmp_path / "r.json"))
        assert r.returncode == 1, r.stdout + r.stderr
        assert "no divides las puntuaciones entre √d_k" in r.stdout
        assert "✅ causal_mask: CORRECTO" in r.stdout and "Nota: 3/10 puntos." in r.stdout
        assert "lanzó ZeroDivisionError: division by zero" in r.stdout
        assert "Traceback" not in r.stdout + r.stderr
        data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
        assert [d["puntos"] for d in data] == [3]
        # Con la caché, calificar un solo ejercicio no vuelve a ejecutar el cuaderno.
        assert len(list(cache.glob("*.json"))) == 1
        r = _cli("comprobar", str(path), "--ejercicio", "mascara_causal", "--cache", str(cache))
        assert r.returncode == 0 and "Ejercicio mascara_causal: 3/3 puntos." in r.stdout
        assert len(list(cache.glob("*.json"))) == 1

    def test_notebooks_that_cannot_run(self, tmp_path):
        broken_nb = tmp_path / "tarea_01_atencion.ipynb"
        broken_nb.write_text("{esto no es json", encoding="utf-8")
        r = _cli("comprobar", str(broken_nb))
        assert r.returncode == 2 and "no es un cuaderno de Jupyter válido" in r.stdout
        r = _cli("comprobar", str(tmp_path / "no_existe.ipynb"), "--tarea", "tarea_01_atencion")
        assert r.returncode == 2 and "no existe" in r.stdout
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import time\ntime.sleep(60)")])
        slow = tmp_path / "lento" / "tarea_02_multihead.ipynb"
        slow.parent.mkdir()
        nbformat.write(nb, slow)
        r = _cli("comprobar", str(slow), "--tiempo-limite", "3")
        assert r.returncode == 2 and "se agotó el tiempo" in r.stdout
        assert "Traceback" not in r.stdout + r.stderr

    def test_help_and_arguments_in_spanish(self):
        r = _cli("comprobar", "--help")
        assert r.returncode == 0 and "uso:" in r.stdout and "opciones:" in r.stdout
        r = _cli("comprobar", "x.ipynb", "--ejercicio", "no_existe")
        assert r.returncode == 2 and "No conozco el ejercicio" in r.stderr
