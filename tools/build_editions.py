"""Escribe la edición para Colab y Jupyter de cada capítulo y tarea, a partir del libro ejecutado.

Cada cuaderno del índice (``_toc.yml``) se copia en ``_build/colab/`` con las mismas rutas
(``chapters/02_multihead.ipynb``…) y su prosa traducida a Markdown sin MyST
(``coursetools/myst_editions.py``), en dos etapas:

1. **Borrador** (``_build/colab-draft/``, sin ejecutar nada): todo traducido (enlaces al sitio
   publicado, citas como «Autor (año)», soluciones plegadas…) salvo las cifras, que quedan como
   su rol ``{glue:text}``; las celdas de código, empezando por la de instalación de Colab, son
   las del cuaderno fuente. ``tools/student_env.py`` ejecuta estos borradores: lo que corre en
   el entorno de estudiante es la edición.
2. **Cifras**: cada rol de glue se sustituye por su valor con el formato del libro, leído de
   la copia que ejecutó el entorno de estudiante (``--ran``, si vale) o de la caché de
   ejecución del libro (``_build/.jupyter_cache``, la que llena ``make book``). Nada más cambia:
   se comprueba que la edición es el borrador con solo las cifras sustituidas y, con
   ``--ran``, que cada borrador que el entorno de estudiante anotó como ejecutado
   (:data:`RAN_FILE`) es el mismo archivo, sin cambios, y su copia ejecutada también. Los que
   no se ejecutaron (el flujo del libro no pasa por el entorno de estudiante) se escriben.

Después comprueba cada edición con el mismo analizador: ningún rol ni directiva de MyST y
todas las cifras en la prosa. Escribe el resumen en ``_build/colab/editions.json``. El flujo
de GitHub Pages publica la carpeta en la rama de ediciones (``colab_branch`` de
``_config.yml``), de donde la abre el botón de Colab de cada página.

No ejecuta nada: tarda segundos. Sale con código 1 y los errores en español si un cuaderno
con cifras no está en la caché (ejecuta ``make book``) o si algo no se sabe traducir.

Uso::

    python -m tools.build_editions --draft-only [--drafts _build/colab-draft] [CUADERNO ...]
    python -m tools.build_editions [--out _build/colab] [--ran _build/student-env/executed]
        [--html _build/html] [CUADERNO ...]
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import html
import json
import re
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

import nbformat

from coursetools.myst_editions import (
    Converter,
    EditionError,
    Site,
    escape_markdown,
    index_labels,
    myst_leftovers,
    myst_parser,
)
from coursetools.repo import ROOT, book_config, colab_url, repository_url

OUT = ROOT / "_build" / "colab"
#: Los borradores (etapa 1): lo que ejecuta el entorno de estudiante.
DRAFTS = ROOT / "_build" / "colab-draft"
#: En la carpeta de las copias ejecutadas: borrador → sha256 de cada borrador que se ejecutó.
RAN_FILE = "borradores-ejecutados.json"
#: Un rol de glue en el borrador (para comprobar la etapa 2 sin el conversor).
_GLUE_ROLE = re.compile(r"\{glue(?::text|:any|:)?\}(`+)\s*([^`:\s]+)[^`]*?\1")
#: El README de la rama de ediciones (la escribe el flujo del libro con esta carpeta).
BRANCH_README = """\
# Ediciones para Colab y Jupyter

Rama generada por `tools/build_editions.py` en cada publicación del libro: no la edites,
se sobrescribe entera. Cada cuaderno es el del repositorio con la prosa en Markdown
corriente (las cifras escritas, los enlaces al sitio, las soluciones plegadas). El libro:
{url}
"""


def toc_docnames() -> list[str]:
    """Las páginas del índice (``_toc.yml``), en orden: ``intro``, ``chapters/01_atencion``…

    Las lee el mismo analizador que usa Jupyter Book (sphinx-external-toc).
    """
    from sphinx_external_toc.parsing import parse_toc_yaml

    return list(parse_toc_yaml(ROOT / "_toc.yml"))


def page_markdown(docname: str) -> list[str]:
    """El Markdown de una página: las celdas de un cuaderno o el archivo ``.md`` entero."""
    notebook = ROOT / f"{docname}.ipynb"
    if notebook.exists():
        nb = nbformat.read(notebook, as_version=4)
        return [c.source for c in nb.cells if c.cell_type == "markdown"]
    return [(ROOT / f"{docname}.md").read_text(encoding="utf-8")]


def citations(bibfiles: list[str]) -> dict[str, tuple[str, str]]:
    """Clave → (autores, año) como los escribe el libro: «Vaswani et al.», «Ba y Hinton»."""
    from pybtex.database import parse_file
    from pybtex.richtext import Text

    found = {}
    for bibfile in bibfiles:
        for key, entry in parse_file(ROOT / bibfile).entries.items():
            persons = entry.persons.get("author") or entry.persons.get("editor") or []
            surnames = [
                Text.from_latex(" ".join(p.prelast_names + p.last_names)).render_as("text")
                for p in persons
            ]
            if not surnames:
                authors = Text.from_latex(entry.fields.get("title", key)).render_as("text")
            elif len(surnames) == 1:
                authors = surnames[0]
            elif len(surnames) == 2 and surnames[1] != "others":
                authors = " y ".join(surnames)
            else:
                authors = f"{surnames[0]} et al."
            found[key] = (authors, entry.fields.get("year", "s. f."))
    return found


def book_site_url() -> str:
    """``html.baseurl`` de ``_config.yml``: la dirección del sitio publicado."""
    base = (book_config().get("html") or {}).get("baseurl")
    if not base:
        raise EditionError("_config.yml no tiene html.baseurl: los enlaces de las ediciones lo necesitan")
    return base.rstrip("/") + "/"


def raw_base_url() -> str:
    """URL de los archivos del repositorio en su rama (``https://raw.githubusercontent.com/…/main/``)."""
    branch = (book_config().get("repository") or {}).get("branch", "main")
    raw = repository_url().replace("https://github.com/", "https://raw.githubusercontent.com/")
    return f"{raw}/{branch}/"


def book_site(md, docnames: list[str]) -> Site:
    """Los enlaces del libro: URL del sitio y de los archivos, bibliografía, títulos y etiquetas."""
    config = book_config()
    bibliography = next(
        (d for d in docnames if any("{bibliography}" in t for t in page_markdown(d))), None
    )
    if bibliography is None:
        raise EditionError("ninguna página del índice tiene la directiva {bibliography}")
    site = Site(
        base_url=book_site_url(),
        raw_url=raw_base_url(),
        bibliography_doc=bibliography,
        citations=citations(config.get("bibtex_bibfiles", [])),
    )
    numbers: Counter = Counter()  # como Sphinx: seguidos en todo el libro, en el orden del índice
    for docname in docnames:
        site.exercises_before[docname] = numbers["exercise"]
        title, targets = index_labels(md, docname, page_markdown(docname), numbers)
        site.titles[docname] = title
        duplicated = set(targets) & set(site.targets)
        if duplicated:
            raise EditionError(f"etiquetas repetidas en {docname}: {sorted(duplicated)}")
        site.targets.update(targets)
    return site


def glue_values(path: Path, cache) -> dict[str, str]:
    """Nombre → ``text/plain`` de cada cifra que guarda el cuaderno ejecutado (caché del libro)."""
    nb = nbformat.read(path, as_version=4)
    try:
        record = cache.match_cache_notebook(nb)
    except KeyError:
        raise EditionError(
            f"{path.relative_to(ROOT)} no está ejecutado en la caché del libro (o cambió después): "
            "ejecuta make book antes de escribir las ediciones"
        ) from None
    return executed_glue(cache.get_cache_bundle(record.pk).nb)


def executed_glue(executed: nbformat.NotebookNode) -> dict[str, str]:
    """Nombre → ``text/plain`` de cada cifra en las salidas de un cuaderno ejecutado."""
    from myst_nb.ext.glue import extract_glue_data_cell

    values = {}
    for cell in executed.cells:
        if cell.cell_type == "code":
            for name, output in extract_glue_data_cell(copy.deepcopy(cell)):
                if "text/plain" in output["data"]:
                    values[name] = output["data"]["text/plain"]
    return values


def _cells(nb: nbformat.NotebookNode, kind: str | None = None) -> list[tuple]:
    """(tipo, texto, metadatos) de cada celda (solo las de ``kind`` si se da)."""
    return [(c.cell_type, c.source, c.metadata) for c in nb.cells if kind in (None, c.cell_type)]


def build_draft(path: Path, docname: str, md, site: Site) -> tuple[nbformat.NotebookNode, Converter]:
    """El borrador de la edición (etapa 1): todo traducido menos las cifras.

    Los roles de glue quedan tal cual (el marcador que sustituye :func:`fill_glue`); las
    celdas de código son las del cuaderno fuente, con sus metadatos.

    Parámetros:
        path, docname: el cuaderno y su página (``chapters/02_multihead``).
        md, site: el analizador y los enlaces del libro (:func:`book_site`).
    """
    from myst_nb.core.variables import format_plain_text

    nb = nbformat.read(path, as_version=4)
    converter = Converter(md, site, docname, {}, format_plain_text, stage="draft")
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = converter.convert(cell.source)
    if _cells(nb, "code") != _cells(nbformat.read(path, as_version=4), "code"):
        raise EditionError(f"{docname}: el borrador cambió una celda de código")
    return nb, converter


def fill_glue(
    draft: nbformat.NotebookNode, docname: str, md, site: Site, values: dict[str, str]
) -> tuple[nbformat.NotebookNode, Converter]:
    """La edición final (etapa 2): el borrador con cada rol de glue sustituido por su cifra.

    Parámetros:
        draft: el borrador (:func:`build_draft`); no se modifica.
        docname, md, site: como en :func:`build_draft`.
        values: nombre → ``text/plain`` de cada cifra (:func:`glue_values`, :func:`executed_glue`).
    """
    from myst_nb.core.variables import format_plain_text

    nb = copy.deepcopy(draft)
    converter = Converter(md, site, docname, values, format_plain_text, stage="glue")
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = converter.convert(cell.source)
    return nb, converter


def build_edition(
    path: Path, docname: str, md, site: Site, values: dict[str, str]
) -> tuple[nbformat.NotebookNode, Converter]:
    """La edición de un cuaderno (las dos etapas) y el conversor (con sus cuentas y cifras).

    Parámetros:
        path, docname: el cuaderno y su página (``chapters/02_multihead``).
        md, site: el analizador y los enlaces del libro (:func:`book_site`).
        values: nombre → ``text/plain`` de cada cifra (:func:`glue_values`).
    """
    draft, first = build_draft(path, docname, md, site)
    nb, converter = fill_glue(draft, docname, md, site, values)
    converter.counts.update(first.counts)
    return nb, converter


def glue_only_problems(
    draft: nbformat.NotebookNode, final: nbformat.NotebookNode, glued: dict[str, str]
) -> list[str]:
    """Diferencias entre el borrador y la edición que no sean una cifra sustituida.

    Cada celda de código debe ser la misma (texto y metadatos); cada celda de Markdown, la
    del borrador con cada rol de glue cambiado por su cifra escapada (y nada más).

    Parámetros:
        draft, final: el borrador y la edición.
        glued: nombre → texto de cada cifra escrita (``Converter.glued``).

    Devuelve:
        Un problema por celda distinta, en español (vacía si solo cambian las cifras).
    """
    if [c.cell_type for c in draft.cells] != [c.cell_type for c in final.cells]:
        return ["la edición no tiene las mismas celdas que el borrador"]
    problems = []
    for index, (before, after) in enumerate(zip(draft.cells, final.cells, strict=True)):
        if before.metadata != after.metadata or before.get("id") != after.get("id"):
            problems.append(f"celda {index}: cambian sus metadatos")
        if before.cell_type == "code":
            expected = before.source
        else:

            def value(match: re.Match) -> str:
                return escape_markdown(glued.get(match.group(2), f"⟨sin cifra {match.group(2)}⟩"))

            expected = _GLUE_ROLE.sub(value, before.source)
        if after.source != expected:
            problems.append(f"celda {index}: difiere del borrador en algo más que las cifras")
    return problems


def ran_problems(draft: nbformat.NotebookNode, executed: Path) -> list[str]:
    """Diferencias entre el borrador y la copia que ejecutó el entorno de estudiante."""
    ran = nbformat.read(executed, as_version=4)
    if _cells(ran) != _cells(draft) or [c.get("id") for c in ran.cells] != [c.get("id") for c in draft.cells]:
        return [f"la copia ejecutada ({executed}) no es este borrador: vuelve a ejecutar make student-env"]
    return []


def check_edition(nb: nbformat.NotebookNode, md, glued: dict[str, str]) -> list[str]:
    """Problemas de una edición: restos de MyST y cifras que no están en la prosa."""
    problems = []
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            problems += [f"celda {index}: queda MyST: {left}" for left in myst_leftovers(md, cell.source)]
    rendered = md.render(prose)  # el texto que se lee, sin los escapes de Markdown
    for name, value in glued.items():
        if html.escape(value, quote=False) not in rendered:
            problems.append(f"la cifra {name} ({value!r}) no aparece en la prosa")
    return problems


class _Links(HTMLParser):
    """Los ``href`` de los enlaces de una página."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [value for key, value in attrs if key == "href" and value]


def colab_button_problems(html_dir: Path, docnames: list[str]) -> list[str]:
    """Páginas de cuadernos cuyo botón de Colab falta o no abre su edición.

    Parámetros:
        html_dir: el sitio construido (``_build/html``).
        docnames: las páginas que son cuadernos.

    Devuelve:
        Un problema por página, en español (vacía si todos los botones están bien).
    """
    problems = []
    for docname in docnames:
        page = html_dir / f"{docname}.html"
        if not page.exists():
            problems.append(f"{page}: no existe (construye el libro antes)")
            continue
        links = _Links()
        links.feed(page.read_text(encoding="utf-8"))
        colab = [h for h in links.hrefs if "colab.research.google.com" in h]
        expected = colab_url(f"{docname}.ipynb")
        if colab != [expected]:
            problems.append(f"{page.name}: el botón de Colab debe abrir {expected}, y hay {colab}")
    return problems


def book_notebooks(wanted: list[Path] | None = None) -> list[tuple[Path, str]]:
    """(cuaderno, página) de cada cuaderno del índice, en orden (solo ``wanted`` si se da).

    Lanza:
        EditionError: si alguno de ``wanted`` no está en ``_toc.yml``.
    """
    chosen = {p.resolve() for p in wanted or []}
    notebooks = [
        (ROOT / f"{d}.ipynb", d)
        for d in toc_docnames()
        if (ROOT / f"{d}.ipynb").exists() and (not chosen or (ROOT / f"{d}.ipynb") in chosen)
    ]
    if chosen and len(notebooks) != len(chosen):
        raise EditionError(f"estos cuadernos no están en _toc.yml: {sorted(map(str, chosen))}")
    return notebooks


def book_parser():
    """El analizador de MyST con las opciones de ``parse`` de ``_config.yml``."""
    parse = book_config().get("parse") or {}
    return myst_parser(
        tuple(parse.get("myst_enable_extensions", [])), parse.get("myst_dmath_double_inline", False)
    )


def write_drafts(drafts: Path = DRAFTS, wanted: list[Path] | None = None) -> list[Path]:
    """Escribe el borrador (etapa 1) de cada cuaderno del índice en ``drafts``.

    Parámetros:
        drafts: carpeta de los borradores (las mismas rutas que en el repositorio).
        wanted: solo estos cuadernos (por defecto, todos los del índice).

    Devuelve:
        Las rutas de los borradores, en el orden del índice.

    Lanza:
        EditionError: si algo no se sabe traducir.
    """
    md = book_parser()
    site = book_site(md, toc_docnames())
    written = []
    for path, docname in book_notebooks(wanted):
        draft, _ = build_draft(path, docname, md, site)
        target = drafts / f"{docname}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(draft, target)
        written.append(target)
    return written


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def record_drafts(ran: list[Path], folder: Path, drafts: Path = DRAFTS) -> None:
    """Anota en ``folder`` (:data:`RAN_FILE`) los borradores de ``ran`` que se ejecutaron.

    Lo llama ``tools/student_env.py``: la etapa 2 (``--ran``) comprueba después que cada
    edición sale de ese mismo archivo. Los cuadernos de ``ran`` que no son borradores no cuentan.
    """
    found = {
        path.resolve().relative_to(drafts.resolve()).as_posix(): _sha256(path)
        for path in ran
        if path.resolve().is_relative_to(drafts.resolve())
    }
    (folder / RAN_FILE).write_text(json.dumps(found, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def ran_draft_problems(draft: nbformat.NotebookNode, name: str, drafts: Path, ran: Path) -> tuple[bool, list[str]]:
    """¿Ejecutó el entorno de estudiante este borrador? Y, si lo ejecutó, ¿es el de ahora?

    Parámetros:
        draft: el borrador recién escrito (:func:`build_draft`).
        name: su ruta (``chapters/02_multihead.ipynb``).
        drafts: la carpeta de los borradores.
        ran: la carpeta de las copias ejecutadas (con :data:`RAN_FILE` y los capítulos enteros).

    Devuelve:
        ``(se ejecutó, problemas)``: el archivo que se ejecutó debe ser el mismo (sha256) y
        tener las celdas de ``draft``; la copia guardada, si la hay, también.
    """
    record = ran / RAN_FILE
    hashes = json.loads(record.read_text(encoding="utf-8")) if record.is_file() else {}
    if name not in hashes:
        return False, []
    path = drafts / name
    if not path.is_file() or _sha256(path) != hashes[name]:
        return True, [f"el borrador {path} cambió después de ejecutarse: vuelve a ejecutar make student-env"]
    if _cells(nbformat.read(path, as_version=4)) != _cells(draft):
        return True, [f"el borrador que se ejecutó ({path}) no es el de ahora: vuelve a ejecutar make student-env"]
    return True, ran_problems(draft, ran / name) if (ran / name).is_file() else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.build_editions", description=__doc__.splitlines()[0]
    )
    parser.add_argument("notebooks", nargs="*", type=Path, help="solo estos cuadernos")
    parser.add_argument("--out", type=Path, default=OUT, help="carpeta de las ediciones")
    parser.add_argument("--drafts", type=Path, default=DRAFTS, help="carpeta de los borradores")
    parser.add_argument(
        "--draft-only", action="store_true", help="solo los borradores (etapa 1, sin cifras)"
    )
    parser.add_argument(
        "--ran",
        type=Path,
        help="las copias que ejecutó el entorno de estudiante: los borradores deben ser los que "
        "se ejecutaron, y las cifras salen de ellas",
    )
    parser.add_argument(
        "--html", type=Path, help="el sitio construido: comprueba el botón de Colab de cada cuaderno"
    )
    args = parser.parse_args(argv)

    if args.draft_only:
        try:
            written = write_drafts(args.drafts, args.notebooks)
        except EditionError as err:
            print(f"No puedo escribir los borradores: {err}", file=sys.stderr)
            return 1
        print(f"Borradores de las ediciones en {args.drafts}: {len(written)} cuaderno(s).")
        return 0

    from jupyter_cache import get_cache

    from tools.execute_notebooks import executed_copy

    config = book_config()
    md = book_parser()
    try:
        notebooks = book_notebooks(args.notebooks)
        site = book_site(md, toc_docnames())
    except EditionError as err:
        print(f"No puedo escribir las ediciones: {err}", file=sys.stderr)
        return 1
    cache_path = (config.get("execute") or {}).get("cache") or str(ROOT / "_build" / ".jupyter_cache")
    cache = get_cache(cache_path)

    summary, total, failures, ran = {}, Counter(), 0, 0
    for path, docname in notebooks:
        name = PurePosixPath(docname + ".ipynb")
        draft_path = args.drafts / name
        try:
            draft, first = build_draft(path, docname, md, site)
            problems = []
            executed_draft = False
            if args.ran is not None:
                executed_draft, problems = ran_draft_problems(draft, str(name), args.drafts, args.ran)
                ran += executed_draft and not problems
            if not executed_draft:  # lo que no se ejecutó se escribe de nuevo
                draft_path.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(draft, draft_path)
            values, origin = {}, ""
            if any(c.cell_type == "markdown" and "{glue" in c.source for c in draft.cells):
                executed = executed_copy(path, args.ran)[0] if args.ran is not None else None
                if executed is not None:
                    values, origin = executed_glue(executed), ", del entorno de estudiante"
                else:
                    values, origin = glue_values(path, cache), ", de la caché del libro"
            nb, converter = fill_glue(draft, docname, md, site, values)
        except EditionError as err:
            failures += 1
            print(f"  ✗ {name}: {err}", file=sys.stderr)
            continue
        converter.counts.update(first.counts)
        problems += check_edition(nb, md, converter.glued)
        problems += glue_only_problems(draft, nb, converter.glued)
        if problems:
            failures += 1
            print(f"  ✗ {name}:\n    " + "\n    ".join(problems), file=sys.stderr)
            continue
        target = args.out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        summary[str(name)] = {"counts": dict(sorted(converter.counts.items())), "glued": converter.glued}
        total.update(converter.counts)
        print(f"  ✓ {name}: {sum(converter.counts.values())} construcciones, "
              f"{converter.counts['glue']} cifras{origin}", flush=True)  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "README.md").write_text(BRANCH_README.format(url=book_site_url()), encoding="utf-8")
    (args.out / "editions.json").write_text(
        json.dumps({"total": dict(sorted(total.items())), "notebooks": summary}, ensure_ascii=False, indent=1)
        + "\n",
        encoding="utf-8",
    )
    roles = sum(v for k, v in total.items() if k.startswith("role:"))
    directives = sum(v for k, v in total.items() if k.startswith("directive:"))
    print(f"Ediciones en {args.out}: {len(summary)} cuaderno(s), {roles} roles, {directives} directivas, "
          f"{total['glue']} cifras escritas; cada una es su borrador ({args.drafts}) con solo las "
          f"cifras sustituidas.")  # fmt: skip
    if args.ran is not None:
        print(f"Entorno de estudiante: {ran} de {len(notebooks)} ediciones son el borrador que ejecutó "
              f"(anotados en {args.ran / RAN_FILE}).")  # fmt: skip
    if args.html:
        problems = colab_button_problems(args.html, [d for _, d in notebooks])
        for problem in problems:
            print(f"  ✗ {problem}", file=sys.stderr)
        failures += len(problems)
        if not problems:
            print(f"Botones de Colab: los {len(notebooks)} apuntan a su edición "
                  f"({colab_url('…')}).")  # fmt: skip
    if failures:
        print(f"{failures} cuaderno(s) sin edición: mira los errores de arriba.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
