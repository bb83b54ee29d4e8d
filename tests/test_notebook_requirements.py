"""Lo que importan los cuadernos está declarado y lo instala su celda de Colab (issue 25)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from coursetools.notebook_requirements import (
    colab_extras,
    declared_requirements,
    needed_extras,
    notebook_imports,
    requirement_for,
    uncovered_imports,
)
from tools.check_notebooks import expected_colab_cell

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(
    p for folder in ("chapters", "instructor") for p in (ROOT / folder).rglob("*.ipynb")
    if ".ipynb_checkpoints" not in p.parts
)  # fmt: skip


def _notebook(tmp_path: Path, *sources: str, extras: set[str] = frozenset()) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(expected_colab_cell(extras=extras))]
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    path = tmp_path / "prueba.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_notebook_import_is_installed_by_its_colab_cell(path: Path) -> None:
    assert not uncovered_imports(path), "\n".join(uncovered_imports(path))


def test_the_notebooks_that_need_the_extra_ask_for_it() -> None:
    wanted = {p.name for p in NOTEBOOKS if "notebooks" in colab_extras(p)}
    assert {"01_atencion.ipynb", "02_multihead.ipynb", "11_modelos_actuales.ipynb"} <= wanted
    assert {p.name for p in NOTEBOOKS if needed_extras(p)} == wanted


def test_the_notebooks_extra_declares_widgets_and_transformers_loosely() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    extra = text[text.index("notebooks = [") : text.index("]", text.index("notebooks = ["))]
    assert "ipywidgets>=" in extra and "transformers>=" in extra
    assert "==" not in extra and "torch" not in extra  # Colab conserva lo suyo
    assert {"ipywidgets", "transformers"} <= declared_requirements()["notebooks"]
    assert requirement_for("ipywidgets") == requirement_for("transformers") == "notebooks"
    assert requirement_for("torch") == requirement_for("json") == requirement_for("IPython") == ""
    assert requirement_for("pytest") is None  # solo lo instala el extra de las pruebas


def test_an_undeclared_import_is_reported(tmp_path: Path) -> None:
    path = _notebook(
        tmp_path,
        "import ipywidgets\nfrom transformer_lib import GPT",
        "import paquete_que_nadie_declara",
        "try:\n    import myst_nb\nexcept ImportError:\n    myst_nb = None",
        "%pip install algo\nimport torch.nn as nn",
    )
    assert notebook_imports(path) == {
        "subprocess", "sys", "ipywidgets", "transformer_lib", "paquete_que_nadie_declara", "torch"
    }  # fmt: skip
    problems = uncovered_imports(path)
    assert len(problems) == 2
    assert "ipywidgets" in problems[0] and "[notebooks]" in problems[0]
    assert problems[1].startswith("paquete_que_nadie_declara: ningún requisito")
    fixed = _notebook(tmp_path, "import ipywidgets", extras={"notebooks"})
    assert colab_extras(fixed) == {"notebooks"} and uncovered_imports(fixed) == []
