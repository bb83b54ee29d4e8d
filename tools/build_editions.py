"""Escribe la edición para Colab y Jupyter de cada capítulo y tarea, a partir del libro ejecutado.

Cada cuaderno del índice (``_toc.yml``) se copia en ``_build/colab/`` con las mismas rutas
(``chapters/02_multihead.ipynb``…) y su prosa traducida a Markdown sin MyST
(``coursetools/myst_editions.py``): las cifras de ``{glue:text}`` escritas con el formato del
libro, leídas de la caché de ejecución (``_build/.jupyter_cache``, la que llena
``make book``); los enlaces al sitio publicado; las citas como «Autor (año)»; las soluciones
plegadas. Las celdas de código, empezando por la de instalación de Colab, no cambian.

Después comprueba cada edición con el mismo analizador: ningún rol ni directiva de MyST y
todas las cifras en la prosa. Escribe el resumen en ``_build/colab/editions.json``. El flujo
de GitHub Pages publica la carpeta en la rama de ediciones (``colab_branch`` de
``_config.yml``), de donde la abre el botón de Colab de cada página.

No ejecuta nada: tarda segundos. Sale con código 1 y los errores en español si un cuaderno
con cifras no está en la caché (ejecuta ``make book``) o si algo no se sabe traducir.

Uso::

    python -m tools.build_editions [--out _build/colab] [CUADERNO ...]
"""

from __future__ import annotations

import argparse
import copy
import html
import json
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

import nbformat

from coursetools.myst_editions import (
    Converter,
    EditionError,
    Site,
    index_labels,
    myst_leftovers,
    myst_parser,
)
from coursetools.repo import ROOT, book_config, colab_url, repository_url

OUT = ROOT / "_build" / "colab"
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


def book_site(md, docnames: list[str]) -> Site:
    """Los enlaces del libro: URL del sitio y de los archivos, bibliografía, títulos y etiquetas."""
    config = book_config()
    branch = (config.get("repository") or {}).get("branch", "main")
    raw = repository_url().replace("https://github.com/", "https://raw.githubusercontent.com/")
    bibliography = next(
        (d for d in docnames if any("{bibliography}" in t for t in page_markdown(d))), None
    )
    if bibliography is None:
        raise EditionError("ninguna página del índice tiene la directiva {bibliography}")
    site = Site(
        base_url=book_site_url(),
        raw_url=f"{raw}/{branch}/",
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
    from myst_nb.ext.glue import extract_glue_data_cell

    nb = nbformat.read(path, as_version=4)
    try:
        record = cache.match_cache_notebook(nb)
    except KeyError:
        raise EditionError(
            f"{path.relative_to(ROOT)} no está ejecutado en la caché del libro (o cambió después): "
            "ejecuta make book antes de escribir las ediciones"
        ) from None
    executed = cache.get_cache_bundle(record.pk).nb
    values = {}
    for cell in executed.cells:
        if cell.cell_type == "code":
            for name, output in extract_glue_data_cell(copy.deepcopy(cell)):
                if "text/plain" in output["data"]:
                    values[name] = output["data"]["text/plain"]
    return values


def build_edition(
    path: Path, docname: str, md, site: Site, values: dict[str, str]
) -> tuple[nbformat.NotebookNode, Converter]:
    """La edición de un cuaderno y el conversor (con sus cuentas y las cifras escritas).

    Parámetros:
        path, docname: el cuaderno y su página (``chapters/02_multihead``).
        md, site: el analizador y los enlaces del libro (:func:`book_site`).
        values: nombre → ``text/plain`` de cada cifra (:func:`glue_values`).
    """
    from myst_nb.core.variables import format_plain_text

    nb = nbformat.read(path, as_version=4)
    converter = Converter(md, site, docname, values, format_plain_text)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = converter.convert(cell.source)
    return nb, converter


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.build_editions", description=__doc__.splitlines()[0]
    )
    parser.add_argument("notebooks", nargs="*", type=Path, help="solo estos cuadernos")
    parser.add_argument("--out", type=Path, default=OUT, help="carpeta de las ediciones")
    parser.add_argument(
        "--html", type=Path, help="el sitio construido: comprueba el botón de Colab de cada cuaderno"
    )
    args = parser.parse_args(argv)

    from jupyter_cache import get_cache

    config = book_config()
    parse = config.get("parse") or {}
    md = myst_parser(
        tuple(parse.get("myst_enable_extensions", [])), parse.get("myst_dmath_double_inline", False)
    )
    docnames = toc_docnames()
    wanted = {p.resolve() for p in args.notebooks}
    notebooks = [
        (ROOT / f"{d}.ipynb", d)
        for d in docnames
        if (ROOT / f"{d}.ipynb").exists() and (not wanted or (ROOT / f"{d}.ipynb") in wanted)
    ]
    if wanted and len(notebooks) != len(wanted):
        print("Estos cuadernos no están en _toc.yml:", sorted(map(str, wanted)), file=sys.stderr)
        return 1
    cache_path = (config.get("execute") or {}).get("cache") or str(ROOT / "_build" / ".jupyter_cache")
    cache = get_cache(cache_path)

    try:
        site = book_site(md, docnames)
    except EditionError as err:
        print(f"No puedo escribir las ediciones: {err}", file=sys.stderr)
        return 1
    summary, total, failures = {}, Counter(), 0
    for path, docname in notebooks:
        name = PurePosixPath(docname + ".ipynb")
        try:
            source = nbformat.read(path, as_version=4)
            needs_glue = any(c.cell_type == "markdown" and "{glue" in c.source for c in source.cells)
            values = glue_values(path, cache) if needs_glue else {}
            nb, converter = build_edition(path, docname, md, site, values)
        except EditionError as err:
            failures += 1
            print(f"  ✗ {name}: {err}", file=sys.stderr)
            continue
        problems = check_edition(nb, md, converter.glued)
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
              f"{converter.counts['glue']} cifras", flush=True)  # fmt: skip
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
          f"{total['glue']} cifras escritas.")  # fmt: skip
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
