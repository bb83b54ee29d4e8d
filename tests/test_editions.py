"""Las ediciones para Colab y Jupyter (issue 25): la prosa sin MyST, las cifras, los botones."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
import yaml
from myst_nb.core.variables import format_plain_text

from coursetools.myst_editions import (
    Converter,
    EditionError,
    Site,
    Target,
    escape_markdown,
    index_labels,
    myst_leftovers,
    myst_parser,
)
from coursetools.repo import ROOT, book_config, colab_branch, colab_url
from tools import build_editions

PARSE = book_config()["parse"]
MD = myst_parser(tuple(PARSE["myst_enable_extensions"]), PARSE["myst_dmath_double_inline"])
BASE = "https://ejemplo.org/libro/"

SOURCE = """\
(sec-ejemplo)=
## Un ejemplo

% un comentario que no se publica

Según {cite:t}`vaswani2017` y otros {cite:p}`ba2016,kaplan2020`, la pérdida baja a
**{glue:text}`loss`** nats (véase el {doc}`capítulo 2 <02_otro>`, la {ref}`sección <sec-ejemplo>`,
el {doc}`02_otro` y la ecuación {eq}`eq-a`). En código, `{cite:t}` no es un rol.

$$
a = b
$$ (eq-a)

:::{note}
Con una cifra: {glue:text}`ratio`.
:::

:::{admonition} Cuidado
Un título propio.
:::

```{figure} figuras/dibujo.svg
:name: fig-dibujo
:alt: Un dibujo *con* asteriscos

El pie de la figura.
```

| modelo | cita |
|---|---|
| BERT | {cite:p}`ba2016` |

:::{exercise}
:label: ej-00-1

Calcula {eq}`eq-a`.
:::

:::{solution} ej-00-1
:class: dropdown

```python
print(1)
```

La respuesta es $a$.
:::
"""


def _site() -> Site:
    return Site(
        base_url=BASE,
        raw_url="https://raw.example/main/",
        bibliography_doc="chapters/bibliografia",
        citations={"vaswani2017": ("Vaswani et al.", "2017"), "ba2016": ("Ba et al.", "2016"),
                   "kaplan2020": ("Kaplan et al.", "2020")},  # fmt: skip
        titles={"chapters/01_uno": "1. Uno", "chapters/02_otro": "2. Otro"},
        targets={
            "sec-ejemplo": Target("chapters/01_uno", "sec-ejemplo", "Un ejemplo"),
            "eq-a": Target("chapters/01_uno", "equation-eq-a", number=1),
            "ej-00-1": Target("chapters/01_uno", "ej-00-1", "Ejercicio 1", 1),
        },
    )


def _converter(glue: dict[str, str] | None = None) -> Converter:
    glue = {"loss": "'1,75'", "ratio": "'3 * 4_5'"} if glue is None else glue
    return Converter(MD, _site(), "chapters/01_uno", glue, format_plain_text)


def test_every_construct_becomes_plain_markdown() -> None:
    converter = _converter()
    out = converter.convert(SOURCE)
    assert myst_leftovers(MD, out) == []
    assert "{cite" not in out.replace("`{cite:t}`", "") and ":::" not in out and "(eq-a)" not in out
    bib = BASE + "chapters/bibliografia.html#cite-"
    assert f"Según [Vaswani et al. (2017)]({bib}vaswani2017) y otros" in out
    assert f"([Ba et al., 2016]({bib}ba2016); [Kaplan et al., 2020]({bib}kaplan2020))" in out
    assert "**1,75** nats" in out  # el texto de la cifra, sin comillas
    assert f"[capítulo 2]({BASE}chapters/02_otro.html)" in out
    assert f"[2. Otro]({BASE}chapters/02_otro.html)" in out  # sin texto: el título de la página
    assert f"[sección]({BASE}chapters/01_uno.html#sec-ejemplo)" in out
    assert f"[(1)]({BASE}chapters/01_uno.html#equation-eq-a)" in out
    assert "$$\na = b\n\\tag{1}\n$$" in out  # la fórmula intacta, con el número que cita la prosa
    assert "`{cite:t}` no es un rol" in out  # el código en línea no se toca
    assert "% un comentario" not in out
    assert "> **Nota**\n>\n> Con una cifra: 3 \\* 4\\_5." in out  # el texto de la cifra, escapado
    assert "> **Cuidado**\n>\n> Un título propio." in out
    assert "![Un dibujo \\*con\\* asteriscos](https://raw.example/main/chapters/figuras/dibujo.svg)" in out
    assert "*Figura:* El pie de la figura." in out
    assert "> **Ejercicio 1**\n>\n> Calcula [(1)]" in out
    assert "<details>\n<summary>Solución</summary>\n\n```python\nprint(1)\n```\n\nLa respuesta es $a$.\n\n</details>" in out  # fmt: skip
    assert converter.glued == {"loss": "1,75", "ratio": "3 * 4_5"}
    assert converter.counts == {
        "role:cite:t": 1, "role:cite:p": 2, "role:glue:text": 2, "glue": 2, "role:doc": 2,
        "role:ref": 1, "role:eq": 2, "myst_target": 1, "myst_line_comment": 1, "math_block_label": 1,
        "directive:note": 1, "directive:admonition": 1, "directive:figure": 1,
        "directive:exercise": 1, "directive:solution": 1,
    }  # fmt: skip


def test_the_leftover_check_sees_each_construct() -> None:
    for text in ("{doc}`x`", "(x)=\n# T", "% c", ":::{note}\nx\n:::", "```{figure} a.svg\n```",
                 "$$\na\n$$ (eq)", "+++"):  # fmt: skip
        assert myst_leftovers(MD, text), text
    assert myst_leftovers(MD, "Texto con `{doc}` en código y $x$.") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{abbr}`IA (inteligencia artificial)`", "el rol {abbr}"),
        (":::{dropdown}\nx\n:::", "la directiva {dropdown}"),
        ("{glue:text}`nada`", "la cifra 'nada'"),
        ("{cite:t}`nadie2020`", "la cita 'nadie2020'"),
        ("{eq}`eq-nada`", "'eq-nada'"),
        ("{doc}`99_nada`", "'99_nada'"),
        ("```{figure} a.svg\n```", "no tiene :alt:"),
    ],
)
def test_what_cannot_be_translated_is_an_error_naming_it(text: str, message: str) -> None:
    with pytest.raises(EditionError, match=re.escape(message)):
        _converter().convert(text)


def test_escape_markdown_keeps_plain_text() -> None:
    assert escape_markdown("0,063") == "0,063"
    assert escape_markdown("a_b *c* [d] $e$ <f>") == r"a\_b \*c\* \[d\] \$e\$ \<f\>"


class _AnyGlue(dict):
    """Una cifra de prueba («⟨nombre⟩») para cada nombre: no hace falta el libro ejecutado."""

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> str:
        return repr(f"⟨{key}⟩")


def _book_notebooks() -> list[tuple[Path, str]]:
    return [(ROOT / f"{d}.ipynb", d) for d in build_editions.toc_docnames()
            if (ROOT / f"{d}.ipynb").exists()]  # fmt: skip


@pytest.fixture(scope="module")
def book_site() -> Site:
    return build_editions.book_site(MD, build_editions.toc_docnames())


@pytest.mark.parametrize("path, docname", _book_notebooks(), ids=lambda v: str(v).split("/")[-1])
def test_every_book_notebook_has_an_edition_without_myst(path: Path, docname: str, book_site: Site) -> None:
    nb, converter = build_editions.build_edition(path, docname, MD, book_site, _AnyGlue())
    assert build_editions.check_edition(nb, MD, converter.glued) == []
    source = nbformat.read(path, as_version=4)
    # Cada rol y cada directiva del original, contados con el analizador, se convirtieron.
    roles, directives = 0, 0
    for cell in source.cells:
        if cell.cell_type == "markdown":
            for token in MD.parse(cell.source):
                roles += sum(c.type == "myst_role" for c in token.children or [])
                directives += token.type in ("fence", "colon_fence") and token.info.startswith("{")
    counts = converter.counts
    assert sum(v for k, v in counts.items() if k.startswith("role:")) >= roles
    assert sum(v for k, v in counts.items() if k.startswith("directive:")) >= directives
    assert counts["directive:exercise"] == counts["directive:solution"]
    # Las celdas de código (la de Colab la primera) no cambian.
    assert [c.source for c in nb.cells if c.cell_type == "code"] == [
        c.source for c in source.cells if c.cell_type == "code"
    ]
    for name, text in converter.glued.items():
        assert text == f"⟨{name}⟩" and escape_markdown(text) in "".join(c.source for c in nb.cells)


GLUE_ROLE = re.compile(r"\{glue:text\}`([^`:]+)(:[^`]*)?`")


@pytest.mark.parametrize("path, docname", _book_notebooks(), ids=lambda v: str(v).split("/")[-1])
def test_the_edition_is_the_draft_that_ran_with_only_the_glue_filled_in(
    path: Path, docname: str, book_site: Site
) -> None:
    """Etapa 1 (lo que ejecuta el entorno de estudiante) y etapa 2 (las cifras), por separado."""
    draft, first = build_editions.build_draft(path, docname, MD, book_site)
    source = nbformat.read(path, as_version=4)
    # Las celdas de código del borrador son las del cuaderno, con metadatos y salidas
    # verificadas: la clave de la caché del libro es la misma y lo que se ejecuta es lo mismo.
    assert [c for c in draft.cells if c.cell_type == "code"] == [
        c for c in source.cells if c.cell_type == "code"
    ]
    assert draft.metadata == source.metadata
    # En el borrador solo queda MyST en los roles de glue (el marcador de cada cifra).
    prose = [c.source for c in draft.cells if c.cell_type == "markdown"]
    leftovers = [left for text in prose for left in myst_leftovers(MD, text)]
    assert leftovers == ["myst_role 'glue:text'"] * len(leftovers)
    assert len(leftovers) == sum(len(GLUE_ROLE.findall(text)) for text in prose)
    assert "glue" not in "".join(first.counts)
    # La edición es el borrador con cada rol de glue cambiado por su cifra, y nada más.
    final, converter = build_editions.fill_glue(draft, docname, MD, book_site, _AnyGlue())
    expected = [
        GLUE_ROLE.sub(lambda m: escape_markdown(f"⟨{m.group(1)}⟩"), c.source) if c.cell_type == "markdown"
        else c.source
        for c in draft.cells
    ]  # fmt: skip
    assert [c.source for c in final.cells] == expected
    assert [c.metadata for c in final.cells] == [c.metadata for c in draft.cells]
    assert build_editions.glue_only_problems(draft, final, converter.glued) == []
    assert set(converter.counts) <= {"glue", "role:glue:text"}
    assert converter.counts["glue"] == len(leftovers)
    # Una sola etapa da lo mismo que las dos.
    whole, _ = build_editions.build_edition(path, docname, MD, book_site, _AnyGlue())
    assert whole == final


def test_the_glue_check_sees_any_other_change() -> None:
    draft = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("Pérdida {glue:text}`loss:.2f` nats, {glue:text}`ratio`."),
        nbformat.v4.new_code_cell("print(1)"),
    ])  # fmt: skip
    glued = {"loss": "1,75", "ratio": "3_4"}
    final = nbformat.from_dict(copy.deepcopy(draft))
    final.cells[0].source = "Pérdida 1,75 nats, 3\\_4."
    assert build_editions.glue_only_problems(draft, final, glued) == []
    final.cells[0].source = "Pérdida 1,75 nats, 3\\_4 (y algo más)."
    assert build_editions.glue_only_problems(draft, final, glued) == [
        "celda 0: difiere del borrador en algo más que las cifras"
    ]
    final.cells[0].source = "Pérdida 1,75 nats, 3\\_4."
    final.cells[1].source = "print(2)"
    assert build_editions.glue_only_problems(draft, final, glued) == [
        "celda 1: difiere del borrador en algo más que las cifras"
    ]


def test_the_two_stages_give_the_one_stage_edition() -> None:
    draft = Converter(MD, _site(), "chapters/01_uno", {}, format_plain_text, stage="draft").convert(SOURCE)
    assert myst_leftovers(MD, draft) == ["myst_role 'glue:text'"] * 2
    assert "{glue:text}`loss`" in draft and "> Con una cifra: {glue:text}`ratio`." in draft
    glue = {"loss": "'1,75'", "ratio": "'3 * 4_5'"}
    final = Converter(MD, _site(), "chapters/01_uno", glue, format_plain_text, stage="glue").convert(draft)
    assert final == _converter().convert(SOURCE)


def test_the_draft_must_be_the_copy_that_ran(tmp_path: Path) -> None:
    draft = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("Texto {glue:text}`x`."), nbformat.v4.new_code_cell("x = 1"),
    ])  # fmt: skip
    ran = nbformat.from_dict(copy.deepcopy(draft))
    ran.cells[1].outputs = [nbformat.v4.new_output("stream", text="hola\n")]
    ran.cells[1].execution_count = 1
    nbformat.write(ran, tmp_path / "ran.ipynb")
    assert build_editions.ran_problems(draft, tmp_path / "ran.ipynb") == []  # las salidas no cuentan
    ran.cells[0].source = "Otro texto."
    nbformat.write(ran, tmp_path / "ran.ipynb")
    assert "no es este borrador" in build_editions.ran_problems(draft, tmp_path / "ran.ipynb")[0]


def test_only_a_draft_that_ran_unchanged_counts_as_run(tmp_path: Path) -> None:
    drafts, ran = tmp_path / "colab-draft", tmp_path / "executed"
    (drafts / "chapters").mkdir(parents=True)
    ran.mkdir()
    draft = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("Cifra {glue:text}`x`.")])
    nbformat.write(draft, drafts / "chapters" / "01.ipynb")
    nbformat.write(draft, tmp_path / "otro.ipynb")
    build_editions.record_drafts([drafts / "chapters" / "01.ipynb", tmp_path / "otro.ipynb"], ran, drafts)
    assert list(json.loads((ran / build_editions.RAN_FILE).read_text())) == ["chapters/01.ipynb"]
    check = build_editions.ran_draft_problems
    assert check(draft, "chapters/01.ipynb", drafts, ran) == (True, [])
    assert check(draft, "chapters/02.ipynb", drafts, ran) == (False, [])  # no se ejecutó
    changed = nbformat.from_dict(copy.deepcopy(draft))
    changed.cells[0].source = "Otra prosa."
    ran_now, problems = check(changed, "chapters/01.ipynb", drafts, ran)
    assert ran_now and "no es el de ahora" in problems[0]
    nbformat.write(changed, drafts / "chapters" / "01.ipynb")
    ran_now, problems = check(changed, "chapters/01.ipynb", drafts, ran)
    assert ran_now and "cambió después de ejecutarse" in problems[0]


def test_the_student_env_runs_the_drafts_and_book_check_checks_them() -> None:
    from tools import student_env

    assert student_env.DRAFTS == build_editions.DRAFTS
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    book_check = makefile[makefile.index("\nbook-check:") : makefile.index("\nEDITIONS_RAN")]
    assert "editions EDITIONS_RAN=$(BUILD)/student-env/executed" in book_check
    assert "--ran $(EDITIONS_RAN)" in makefile


def test_the_colab_button_opens_the_edition() -> None:
    path = ROOT / "_ext" / "colab_editions.py"
    spec = importlib.util.spec_from_file_location("colab_editions", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = book_config()
    repo = config["repository"]["url"].removeprefix("https://github.com/")
    theme_url = f"https://colab.research.google.com/github/{repo}/blob/main/chapters/01_atencion.ipynb"
    context = {"header_buttons": [
        {"type": "link", "url": "https://github.com/x/y/edit/main/chapters/01_atencion.ipynb"},
        {"type": "group", "buttons": [{"type": "link", "text": "Colab", "url": theme_url}]},
    ]}  # fmt: skip
    app = SimpleNamespace(config=SimpleNamespace(
        colab_branch=colab_branch(), html_theme_options={"launch_buttons": config["launch_buttons"]}
    ))  # fmt: skip
    module.retarget_colab(app, "chapters/01_atencion", "page.html", context, None)
    assert context["header_buttons"][1]["buttons"][0]["url"] == colab_url("chapters/01_atencion.ipynb")
    assert context["header_buttons"][0]["url"].endswith("/edit/main/chapters/01_atencion.ipynb")
    assert "colab_editions" in config["sphinx"]["local_extensions"]


def test_every_button_url_points_to_a_published_edition() -> None:
    branch = colab_branch()
    assert branch != book_config()["repository"]["branch"]  # una rama generada, no la de trabajo
    for path, _ in _book_notebooks():
        url = colab_url(path.relative_to(ROOT).as_posix())
        assert re.fullmatch(
            rf"https://colab\.research\.google\.com/github/[\w-]+/[\w.-]+/blob/{branch}/chapters/[\w/]+\.ipynb", url
        ), url  # fmt: skip
    # El flujo del libro escribe las ediciones (make book-check → make editions) y las sube a
    # esa rama; el sitio comprueba cada botón (tools/build_editions.py --html).
    workflow = yaml.safe_load((ROOT / ".github/workflows/book.yml").read_text(encoding="utf-8"))
    build = workflow["jobs"]["build"]
    assert build["permissions"]["contents"] == "write"
    steps = "\n".join(s.get("run", "") for s in build["steps"])
    assert "make book-check" in steps and "cd _build/colab" in steps and "colab_branch()" in steps
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "tools.build_editions --out $(BUILD)/colab --html $(BUILD)/html" in makefile
    book_check = makefile[makefile.index("\nbook-check:") : makefile.index("\neditions:")]
    assert "$(MAKE) --no-print-directory editions" in book_check


def test_colab_button_check_reads_the_built_page(tmp_path: Path) -> None:
    page = tmp_path / "chapters" / "01_atencion.html"
    page.parent.mkdir()
    good = colab_url("chapters/01_atencion.ipynb")
    page.write_text(f'<a href="{good}">Colab</a><a href="otra.html">x</a>', encoding="utf-8")
    assert build_editions.colab_button_problems(tmp_path, ["chapters/01_atencion"]) == []
    page.write_text(f'<a href="{good.replace("/colab/", "/main/")}">Colab</a>', encoding="utf-8")
    [problem] = build_editions.colab_button_problems(tmp_path, ["chapters/01_atencion"])
    assert "/main/" in problem and good in problem


def test_numbers_run_on_across_pages_as_on_the_site() -> None:
    """Sin números de sección, Sphinx numera ecuaciones y ejercicios seguidos en todo el libro."""
    numbers = Counter()
    first = "$$\na\n$$ (eq-1)\n\n:::{exercise}\n:label: ej-1\nx\n:::\n\n\\begin{align}\nb\n\\end{align}\n"
    second = "$$\nc\n$$ (eq-2)\n\n:::{exercise}\n:label: ej-2\ny\n:::\n"
    _, one = index_labels(MD, "chapters/01_uno", [first], numbers)
    site = _site()
    site.exercises_before["chapters/02_otro"] = numbers["exercise"]
    _, two = index_labels(MD, "chapters/02_otro", [second], numbers)
    assert (one["eq-1"].number, one["ej-1"].number) == (1, 1)
    assert (two["eq-2"].number, two["ej-2"].number) == (3, 2)  # el align sin * también cuenta
    site.targets.update({**one, **two})
    out = Converter(MD, site, "chapters/02_otro", {}, format_plain_text).convert(second)
    assert "\\tag{3}" in out and "**Ejercicio 2**" in out


VENDOR = ROOT / "_build" / "vendor" / "static" / "vendor"


@pytest.mark.skipif(not (VENDOR / "mathjax" / "tex-mml-chtml.js").is_file(), reason="sin make vendor")
def test_the_browser_check_opens_each_edition_converted_by_nbconvert(tmp_path: Path) -> None:
    """Una edición limpia pasa (fórmulas compuestas, solución plegada, imagen del repositorio);
    otra con MyST, TeX roto y una imagen que no está en el repositorio, no."""
    from tools import browser_check

    if browser_check.find_browser() is None:
        pytest.skip("sin Chromium")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    (tmp_path / "vendor" / "static").mkdir(parents=True)
    (tmp_path / "vendor" / "static" / "vendor").symlink_to(VENDOR)
    editions = tmp_path / "colab"
    (editions / "chapters").mkdir(parents=True)
    raw = build_editions.raw_base_url()
    good = [
        "# 1. Bien\n\nUna fórmula $x^2$ y otra:\n\n$$\na = b\n\\tag{1}\n$$\n\n"
        f"![Un diagrama]({raw}chapters/figuras/{next((ROOT / 'chapters' / 'figuras').iterdir()).name})",
        "<details>\n<summary>Solución</summary>\n\nLa respuesta es $a$.\n\n</details>",
    ]
    bad = [
        "# 2. Mal\n\nVéase {doc}`01_bien` y la cifra {glue:text}`loss`.\n\n:::{note}\nNota.\n:::",
        "(sec-x)=\n## Otra\n\nIncompleta: $\\frac{1}$.\n\nSin cerrar: \\\\(x.\n\n"
        f"![Falta]({raw}chapters/figuras/no-existe.svg)",
    ]
    for name, cells in (("01_bien", good), ("02_mal", bad)):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(c) for c in cells])
        nb.cells.append(nbformat.v4.new_code_cell("x = '$no es TeX$'  # {doc}`en código`"))
        nbformat.write(nb, editions / "chapters" / f"{name}.ipynb")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=browser_check.find_browser(), args=list(browser_check.CHROMIUM_ARGS)
        )
        try:
            results = browser_check.check_editions(browser, editions, tmp_path / "capturas")
        finally:
            browser.close()
    assert [r.page for r in results] == ["chapters/01_bien.ipynb", "chapters/02_mal.ipynb"]
    assert results[0].problems == [] and results[0].math == 3
    problems = "\n".join(results[1].problems)
    for expected in ("myst_role 'doc'", "myst_role 'glue:text'", "directiva {note}", "myst_target",
                     "MyST en el texto (rol)", "MyST en el texto (directiva)", "MyST en el texto (etiqueta)",
                     "TeX sin componer", "errores de TeX en MathJax", "no-existe.svg"):  # fmt: skip
        assert expected in problems, problems
    assert (tmp_path / "capturas" / "chapters__01_bien.png").stat().st_size > 1000
