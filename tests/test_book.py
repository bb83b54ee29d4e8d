"""Pruebas del marco del libro: configuración, índice, cuadernos, citas y referencias.

No construyen el libro (eso lo hace ``make test`` con ``jupyter-book build -W``): revisan
los archivos fuente, así que fallan rápido y dicen exactamente qué falta.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from coursetools.repo import ROOT, book_config, repository_url
from tools import check_notebooks

CONFIG = book_config()
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))

#: Claves que el curso cita (CONVENTIONS / issue del libro).
REQUIRED_KEYS = {
    "vaswani2017", "ba2016", "he2016", "xiong2020", "kaplan2020", "hoffmann2022",
    "besiroglu2024", "radford2019", "brown2020", "devlin2019", "raffel2020",
    "hendrycks2016", "bahdanau2015", "liu2020", "chowdhery2022", "press2017",
    "srivastava2014", "ioffe2015", "hochreiter1997", "elman1990", "michel2019",
    "voita2019", "geva2021", "loshchilov2019", "karpathy2022", "dao2022", "wang2019",
    "pascanu2013",
}  # fmt: skip

#: Capítulos que el índice debe listar, en este orden.
CHAPTERS = [
    "chapters/00_introduccion",
    "chapters/01_atencion",
    "chapters/02_multihead",
    "chapters/03_residuales",
    "chapters/04_layernorm",
    "chapters/05_feedforward",
    "chapters/06_bloque",
    "chapters/07_encoder_decoder",
    "chapters/08_mascara_causal",
    "chapters/09_escalado",
    "chapters/09a_paralelismo_de_datos",
    "chapters/10_idea_clave",
]


# ---------------------------------------------------------------------------------------
# Utilidades


def _toc_entries(node: object = TOC) -> list[str]:
    entries: list[str] = []
    if isinstance(node, dict):
        for key in ("root", "file"):
            if key in node:
                entries.append(str(node[key]))
        for value in node.values():
            entries.extend(_toc_entries(value))
    elif isinstance(node, list):
        for value in node:
            entries.extend(_toc_entries(value))
    return entries


def _source(entry: str) -> Path | None:
    for suffix in (".ipynb", ".md"):
        path = ROOT / f"{entry}{suffix}"
        if path.exists():
            return path
    return None


def _existing_pages() -> list[Path]:
    """Fuentes del libro que existen (las entradas del índice aún no escritas no cuentan)."""
    return [r for r in (_source(e) for e in dict.fromkeys(_toc_entries())) if r is not None]


def _markdown_of(path: Path) -> str:
    """Texto MyST de una página: el .md entero o las celdas de Markdown del cuaderno."""
    if path.suffix == ".md":
        return path.read_text(encoding="utf-8")
    nb = nbformat.read(path, as_version=4)
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def _notebooks() -> list[Path]:
    return check_notebooks.repository_notebooks()


def _id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _bib_entries() -> dict[str, object]:
    from pybtex.database import parse_file

    return dict(parse_file(str(ROOT / "references.bib")).entries)


# ---------------------------------------------------------------------------------------
# Configuración


def test_book_configuration() -> None:
    assert CONFIG["language"] == "es"
    assert CONFIG["only_build_toc_files"] is True
    execution = CONFIG["execute"]
    assert execution["execute_notebooks"] == "cache"
    assert execution["timeout"] >= 120, "los cuadernos necesitan más de 30 s por celda"
    assert "chapters/tareas/*" in execution["exclude_patterns"]
    sphinx = CONFIG["sphinx"]
    # Sin recursive_update, html_theme_options borra los botones de lanzamiento.
    assert sphinx["recursive_update"] is True
    assert "sphinx_exercise" in sphinx["extra_extensions"]
    assert sphinx["config"]["language"] == "es"
    extensions = set(CONFIG["parse"]["myst_enable_extensions"])
    missing = {"amsmath", "colon_fence", "deflist", "dollarmath", "html_image", "substitution",
              "tasklist", "attrs_inline"} - extensions  # fmt: skip
    assert not missing, f"faltan extensiones de MyST: {sorted(missing)}"
    assert CONFIG["bibtex_bibfiles"] == ["references.bib"]


def test_buttons_and_repository() -> None:
    repo = CONFIG["repository"]
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", repo["url"]), repo["url"]
    assert repository_url() == repo["url"]
    assert repo["branch"] == "main"
    assert CONFIG["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    html = CONFIG["html"]
    assert html["use_repository_button"] and html["use_issues_button"]
    assert html["use_edit_page_button"]


def test_constraints_pins_cpu_torch() -> None:
    lines = (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
    assert "torch==2.13.0" in [line.strip() for line in lines]


def test_ci_only_calls_make_test() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [
        line.strip()
        for line in script.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert any(re.search(r"\bmake test\b", o) for o in commands)
    assert not any(re.search(r"\bpytest\b|jupyter-book", o) for o in commands)


# ---------------------------------------------------------------------------------------
# Índice (_toc.yml)


def test_toc_format_and_chapters() -> None:
    assert TOC["format"] == "jb-book"
    assert TOC["root"] == "intro"
    entries = _toc_entries()
    assert len(entries) == len(set(entries)), "hay entradas repetidas en _toc.yml"
    chapters = [e for e in entries if e in CHAPTERS]
    assert chapters == CHAPTERS
    for required in ("chapters/glosario", "chapters/bibliografia", "chapters/tareas/index"):
        assert required in entries


def test_own_pages_exist() -> None:
    for entry in ("intro", "chapters/00_introduccion", "chapters/glosario",
                    "chapters/bibliografia"):  # fmt: skip
        assert _source(entry) is not None, f"falta {entry}.md"


def test_toc_entries_exist() -> None:
    missing = [e for e in _toc_entries() if _source(e) is None]
    if missing and os.environ.get("CI"):
        pytest.fail(f"entradas de _toc.yml sin archivo: {missing}")
    if missing:
        pytest.skip(f"páginas aún no escritas (en CI es un error): {missing}")


def test_every_page_is_in_the_toc() -> None:
    entries = set(_toc_entries())
    outside = []
    for path in sorted((ROOT / "chapters").rglob("*")):
        if path.suffix not in {".ipynb", ".md"} or ".ipynb_checkpoints" in path.parts:
            continue
        if "figuras" in path.parts:
            continue
        if path.relative_to(ROOT).with_suffix("").as_posix() not in entries:
            outside.append(_id(path))
    assert not outside, f"páginas que no están en _toc.yml: {outside}"


# ---------------------------------------------------------------------------------------
# Cuadernos


@pytest.mark.parametrize("path", _notebooks(), ids=_id)
def test_colab_cell_uses_the_book_repository(path: Path) -> None:
    url = repository_url()
    first = nbformat.read(path, as_version=4).cells[0]
    assert first.cell_type == "code"
    assert f"git+{url}" in first.source, (
        f"la celda de Colab no instala desde {url} (la URL de _config.yml)"
    )
    assert "remove-cell" in first.metadata.get("tags", [])


@pytest.mark.parametrize("path", _notebooks(), ids=_id)
def test_notebook_hygiene(path: Path) -> None:
    problems = check_notebooks.notebook_problems(path)
    assert not problems, "\n".join(problems)


def test_hygiene_check_detects_outputs(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(check_notebooks.KERNELSPEC)
    colab = nbformat.v4.new_code_cell(check_notebooks.expected_colab_cell())
    colab.metadata["tags"] = ["remove-cell"]
    title = nbformat.v4.new_markdown_cell("# 1. Prueba")
    device_cell = nbformat.v4.new_code_cell("device = get_device()")
    gpu_cell = nbformat.v4.new_code_cell("x = 1")
    gpu_cell.metadata["tags"] = ["requires-gpu", "skip-execution"]
    nb.cells = [colab, title, device_cell, gpu_cell]
    path = tmp_path / "limpio.ipynb"
    nbformat.write(nb, path)
    assert check_notebooks.notebook_problems(path) == []

    device_cell.outputs = [nbformat.v4.new_output("stream", text="cpu\n")]
    device_cell.execution_count = 3
    gpu_cell.metadata["tags"] = ["requires-gpu"]
    nbformat.write(nb, path)
    problems = " ".join(check_notebooks.notebook_problems(path))
    assert "salidas" in problems and "execution_count" in problems
    assert "skip-execution" in problems


def test_gpu_cells_skip_without_gpu_and_fail_with_require_gpu(tmp_path: Path) -> None:
    """El conftest.py de la raíz salta las celdas requires-gpu (o las exige con REQUIRE_GPU)."""
    (tmp_path / "conftest.py").write_text(
        (ROOT / "conftest.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(check_notebooks.KERNELSPEC)
    normal = nbformat.v4.new_code_cell("x = 1")
    gpu_cell = nbformat.v4.new_code_cell("y = x + 1")
    gpu_cell.metadata["tags"] = ["requires-gpu", "skip-execution"]
    nb.cells = [normal, gpu_cell]
    nbformat.write(nb, tmp_path / "gpu.ipynb")

    import torch

    has_gpu = torch.cuda.is_available()

    def run_pytest(require_gpu: str) -> tuple[int, str]:
        env = {**os.environ, "REQUIRE_GPU": require_gpu}
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-p",
             "no:cacheprovider", "-p", "no:xdist", "-rs", "gpu.ipynb"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        return result.returncode, result.stdout + result.stderr

    code, output = run_pytest("0")
    assert code == 0, output
    if has_gpu:
        assert "2 passed" in output, output
    else:
        assert "1 passed, 1 skipped" in output, output
        assert "requires-gpu" in output and "no hay GPU" in output

    code, output = run_pytest("1")
    if has_gpu:
        assert code == 0 and "2 passed" in output, output
    else:
        assert code != 0, output
        assert "REQUIRE_GPU=1 pero no hay GPU CUDA" in output, output


# ---------------------------------------------------------------------------------------
# Bibliografía, citas y referencias cruzadas

_CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
_DOC = re.compile(r"\{doc\}`(?:[^`<]*<)?([^`>]+)>?`")
_EXERCISE_LABEL = re.compile(r"^:::+\{exercise\}[^\n]*\n(?::[a-z-]+:[^\n]*\n)*?:label: *(\S+)", re.M)  # fmt: skip
_SOLUTION = re.compile(r"^:::+\{solution\} *(\S+)", re.M)


def test_bibliography_has_the_course_keys() -> None:
    entries = _bib_entries()
    missing = REQUIRED_KEYS - set(entries)
    assert not missing, f"faltan en references.bib: {sorted(missing)}"
    for key in REQUIRED_KEYS:
        entry = entries[key]
        assert entry.fields.get("title"), f"{key} sin título"
        assert entry.fields.get("year"), f"{key} sin año"
        assert entry.persons.get("author"), f"{key} sin autores"


def test_single_bibliography_page() -> None:
    with_directive = [_id(r) for r in _existing_pages() if "{bibliography}" in _markdown_of(r)]
    assert with_directive == ["chapters/bibliografia.md"]


def test_citations_exist_in_the_bibliography() -> None:
    keys = set(_bib_entries())
    missing: dict[str, list[str]] = {}
    for path in _existing_pages():
        for group in _CITE.findall(_markdown_of(path)):
            for key in (c.strip() for c in group.split(",")):
                if key not in keys:
                    missing.setdefault(_id(path), []).append(key)
    assert not missing, f"citas sin entrada en references.bib: {missing}"


def test_every_bibliography_entry_is_cited() -> None:
    """La bibliografía dice que lista las obras citadas: cada entrada tiene al menos una cita."""
    cited = {key.strip() for path in _existing_pages() for group in _CITE.findall(_markdown_of(path))
             for key in group.split(",")}
    uncited = sorted(set(_bib_entries()) - cited)
    assert not uncited, f"entradas de references.bib que ninguna página cita: {uncited}"


def test_doc_references_point_to_book_pages() -> None:
    entries = set(_toc_entries())
    broken: dict[str, list[str]] = {}
    for path in _existing_pages():
        for target in _DOC.findall(_markdown_of(path)):
            target = target.strip()
            if target.startswith("/"):
                name = target.lstrip("/")
            else:
                base = path.parent.relative_to(ROOT)
                name = os.path.normpath((base / target).as_posix())
            name = re.sub(r"\.(md|ipynb)$", "", name)
            if name not in entries:
                broken.setdefault(_id(path), []).append(target)
    assert not broken, f"{{doc}} que no apuntan a una página del índice: {broken}"


def test_exercises_have_unique_labels_and_valid_solutions() -> None:
    labels: dict[str, str] = {}
    solutions: list[tuple[str, str]] = []
    for path in _existing_pages():
        text = _markdown_of(path)
        for label in _EXERCISE_LABEL.findall(text):
            assert label not in labels, (
                f"etiqueta {label} repetida en {_id(path)} y {labels[label]}"
            )
            labels[label] = _id(path)
        solutions += [(s, _id(path)) for s in _SOLUTION.findall(text)]
        assert "solution-start" not in text, (
            f"{_id(path)}: usa {{solution}} con :class: dropdown, no solution-start/end"
        )
    orphans = [(s, r) for s, r in solutions if s not in labels]
    assert not orphans, f"soluciones de ejercicios inexistentes: {orphans}"


# ---------------------------------------------------------------------------------------
# Páginas del marco


def test_course_map_on_the_front_page() -> None:
    intro = (ROOT / "intro.md").read_text(encoding="utf-8")
    for chapter in CHAPTERS:
        assert chapter in intro, f"la portada no enlaza {chapter}"
    modules = ["attention", "positional", "multihead", "normalization", "feedforward",
               "blocks", "models", "data", "training", "scaling", "tareas"]  # fmt: skip
    for module in modules:
        assert f"`{module}`" in intro, f"la portada no menciona el módulo {module}"


def test_glossary_covers_the_course_terms() -> None:
    glossary = (ROOT / "chapters" / "glosario.md").read_text(encoding="utf-8").lower()
    terms = [
        "atención", "autoatención", "atención cruzada", "atención multicabeza", "cabeza",
        "consulta", "clave", "valor", "máscara causal", "máscara de relleno",
        "codificación posicional", "embedding", "token", "conexión residual",
        "normalización de capa", "red feed-forward", "bloque transformer", "encoder",
        "decoder", "pérdida", "entropía cruzada", "tasa de aprendizaje", "calentamiento",
        "lote", "paso de entrenamiento", "forzamiento del profesor", "generación autorregresiva",
        "ley de escalado", "cómputo", "parámetros sin embeddings", "mfu", "sobreajuste",
        "desvanecimiento del gradiente", "degradación", "pre-ln", "post-ln", "perplejidad",
        "precisión mixta", "paralelismo de datos", "reducción global", "zero", "fsdp",
    ]  # fmt: skip
    missing = [t for t in terms if t not in glossary]
    assert not missing, f"faltan en el glosario: {missing}"


#: Términos del glosario que el texto escribe de otra forma.
_GLOSSARY_ALIASES = {"repetición de datos": "repetir datos"}


def _prose(path: Path) -> str:
    """El texto de una página en minúsculas, sin bloques de código ni código en línea."""
    text = re.sub(r"^(```|~~~).*?^\1", " ", _markdown_of(path), flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", " ", text).lower()


def _mentions(text: str, term: str) -> bool:
    """¿Aparece ``term`` (o su plural, palabra a palabra) en ``text``?"""
    words = r"\s+".join(re.escape(w) + r"(?:s|es)?" for w in term.split())
    return re.search(rf"(?<![\w-]){words}(?![\w-])", text) is not None


def test_glossary_points_to_the_first_chapter() -> None:
    """Cada término apunta al primer capítulo (1 a 11, en el orden del índice) que lo usa."""
    chapters = [p for p in _existing_pages() if p.parent.name == "chapters" and p.stem[:2].isdigit()
                and not p.stem.startswith("00")]
    texts = {p.stem: _prose(p) for p in chapters}
    rows = [line for line in (ROOT / "chapters" / "glosario.md").read_text(encoding="utf-8").splitlines()
            if line.startswith("| ") and "{doc}" in line]
    assert len(rows) > 50
    wrong = []
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        term = cells[0].strip("*").lower()
        term = _GLOSSARY_ALIASES.get(term, term)
        forms = [f"{b} {a}" for a, b in [term.split(", ")]] + [term.split(", ")[0]] if ", " in term else [term]
        first = next((stem for stem, text in texts.items() if any(_mentions(text, f) for f in forms)), None)
        pointers = re.findall(r"\{doc\}`[^<`]*<([^>]+)>`", cells[-1])
        assert pointers, f"«{term}» sin capítulo"
        if first != pointers[0]:
            wrong.append(f"{term}: apunta a {pointers[0]}, aparece antes en {first}")
        for later in pointers[1:]:
            assert later in texts and _mentions(texts[later], forms[0]), f"«{term}» no aparece en {later}"
    assert not wrong, "punteros del glosario que no son el primer capítulo:\n" + "\n".join(wrong)


def test_spanish_bibliography_style() -> None:
    """Las referencias se formatean con «En» y «y», no con «In» y «and»."""
    from pybtex.database import parse_file

    spec = importlib.util.spec_from_file_location(
        "spanish_ui", ROOT / "_ext" / "spanish_ui.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("spanish_ui", module)  # las dataclasses lo necesitan
    spec.loader.exec_module(module)
    data = parse_file(str(ROOT / "references.bib"))
    style = module.SpanishBibliographyStyle()
    texts = {
        e.key: e.text.render_as("text") for e in style.format_entries(data.entries.values())
    }
    assert " En Advances in Neural Information Processing Systems 30" in texts["vaswani2017"]
    assert "Hochreiter y Jürgen Schmidhuber" in texts["hochreiter1997"]
    assert " and " not in texts["hochreiter1997"]
    assert "y otros" in texts["chowdhery2022"]
    labels = dict(
        zip(
            [e.key for e in data.entries.values()],
            module.AuthorYearLabels().format_labels(list(data.entries.values())),
            strict=True,
        )
    )
    assert labels["vaswani2017"] == "Vaswani et al., 2017"
    assert labels["ioffe2015"] == "Ioffe y Szegedy, 2015"
    assert labels["elman1990"] == "Elman, 1990"


def test_glued_texts_render_as_written() -> None:
    # myst-nb pasa el text/plain de un glue por ast.literal_eval: un «2,15» sin comillas se
    # convertiría en la tupla (2, 15). La clase Text de cada cuaderno debe dar un repr entre comillas.
    import json

    from myst_nb.core.variables import format_plain_text

    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        source = "\n".join("".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
                           if c["cell_type"] == "code")
        match = re.search(r"^class Text:\n(?:    .*\n|\n)+", source + "\n", flags=re.M)
        if not match:
            continue
        namespace: dict = {}
        exec(match.group(0), namespace)  # noqa: S102 (código del propio repositorio)
        for text in ("2,15", "0,063", "81 %", "entre 171 y 379", "—"):
            assert format_plain_text(repr(namespace["Text"](text)), "") == text, (path.name, text)
