"""Busca textos de la interfaz en inglés en el libro ya construido (lo ejecuta ``make test``).

Los temas (sphinx-book-theme, pydata-sphinx-theme) y myst-nb dejan algunas cadenas en
inglés aunque ``language: es``; las traducimos en ``_ext/spanish_ui.py``,
``_templates/`` y ``_static/spanish_ui.js``. Este script comprueba que ninguna de las
cadenas conocidas vuelve a aparecer (por ejemplo, tras actualizar el tema).

Uso::

    python -m tools.check_html [_build/html]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

#: Textos en inglés que un lector vería (texto, títulos emergentes, etiquetas ARIA).
FORBIDDEN = (
    "Search this book",
    "Launch on",
    "Launch interactive content",
    "Suggest edit",
    "Open issue",
    "Open an issue",
    "Source repositor",
    "Show code cell",
    "Hide code cell",
    "Toggle primary sidebar",
    "Toggle secondary sidebar",
    "Download source file",
    "Download this page",
    "Print to PDF",
    "Fullscreen mode",
    "Link to this heading",
    "Link to this equation",
    "Click to show",
    "Click to hide",
    "Solution to",
    "previous page",
    "next page",
    '"Repository"',
    ">Repository<",
    'aria-label="Main"',
)

#: Cadenas que se quedan en el HTML estático y se traducen al cargar la página
#: (``_static/spanish_ui.js``): no cuentan como error.
TOLERATED = ('aria-label="Toggle hidden content"',)

_SCRIPT = re.compile(r"<script\b.*?</script>", re.S | re.I)
_CODE = re.compile(r'<div class="highlight[^"]*">.*?</div>', re.S)


def page_problems(html: str) -> list[str]:
    """Cadenas prohibidas presentes en una página (sin contar scripts ni código)."""
    # Los textos de sphinx-togglebutton viven en un <script> de configuración.
    config_scripts = " ".join(
        s for s in _SCRIPT.findall(html) if "toggleHint" in s or "togglebutton" in s
    )
    visible = _CODE.sub("", _SCRIPT.sub("", html))
    for tolerated in TOLERATED:
        visible = visible.replace(tolerated, "")
    found = [p for p in FORBIDDEN if p in visible]
    found += [p for p in ("Click to show", "Click to hide") if p in config_scripts]
    return sorted(set(found))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    folder = Path(argv[0] if argv else "_build/html")
    pages = sorted(folder.rglob("*.html"))
    if not pages:
        print(f"No hay páginas HTML en {folder}: construye antes el libro (make book).")
        return 1
    total = 0
    for page in pages:
        if "_static" in page.parts or "_sources" in page.parts:
            continue
        for text in page_problems(page.read_text(encoding="utf-8")):
            total += 1
            print(f"{page.relative_to(folder)}: texto en inglés: {text!r}")
    if total:
        print(
            f"\n{total} texto(s) de la interfaz en inglés: añade la traducción en _ext/spanish_ui.py"
        )
        return 1
    print(f"{len(pages)} páginas revisadas: la interfaz está en español.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
