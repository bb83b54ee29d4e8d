"""Busca textos de la interfaz en inglés en el libro ya construido (lo ejecuta ``make test``).

Los temas (sphinx-book-theme, pydata-sphinx-theme) y myst-nb dejan algunas cadenas en
inglés aunque ``language: es``; las traducimos en ``_ext/traducciones_es.py``,
``_templates/`` y ``_static/traducciones.js``. Este script comprueba que ninguna de las
cadenas conocidas vuelve a aparecer (por ejemplo, tras actualizar el tema).

Uso::

    python tools/check_html.py [_build/html]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

#: Textos en inglés que un lector vería (texto, títulos emergentes, etiquetas ARIA).
PROHIBIDOS = (
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
#: (``_static/traducciones.js``): no cuentan como error.
TOLERADOS = ('aria-label="Toggle hidden content"',)

_SCRIPT = re.compile(r"<script\b.*?</script>", re.S | re.I)
_CODIGO = re.compile(r'<div class="highlight[^"]*">.*?</div>', re.S)


def problemas_de_pagina(html: str) -> list[str]:
    """Cadenas prohibidas presentes en una página (sin contar scripts ni código)."""
    # Los textos de sphinx-togglebutton viven en un <script> de configuración.
    configuracion = " ".join(
        s for s in _SCRIPT.findall(html) if "toggleHint" in s or "togglebutton" in s
    )
    visible = _CODIGO.sub("", _SCRIPT.sub("", html))
    for tolerado in TOLERADOS:
        visible = visible.replace(tolerado, "")
    encontrados = [p for p in PROHIBIDOS if p in visible]
    encontrados += [p for p in ("Click to show", "Click to hide") if p in configuracion]
    return sorted(set(encontrados))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    carpeta = Path(argv[0] if argv else "_build/html")
    paginas = sorted(carpeta.rglob("*.html"))
    if not paginas:
        print(f"No hay páginas HTML en {carpeta}: construye antes el libro (make book).")
        return 1
    total = 0
    for pagina in paginas:
        if "_static" in pagina.parts or "_sources" in pagina.parts:
            continue
        for texto in problemas_de_pagina(pagina.read_text(encoding="utf-8")):
            total += 1
            print(f"{pagina.relative_to(carpeta)}: texto en inglés: {texto!r}")
    if total:
        print(
            f"\n{total} texto(s) de la interfaz en inglés: añade la traducción en _ext/traducciones_es.py"
        )
        return 1
    print(f"{len(paginas)} páginas revisadas: la interfaz está en español.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
