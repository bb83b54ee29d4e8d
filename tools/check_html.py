"""Revisa el libro ya construido (lo ejecuta ``make test``): idioma y nada cargado de fuera.

1. Textos de la interfaz en inglés.
2. Referencias externas: ningún ``<script src>``, hoja de estilos, fuente, imagen o marco
   de una página, ni ningún ``url()``/``@import`` de una hoja de estilos de ``_static/``,
   apunta fuera del sitio (el libro debe funcionar sin red; ver
   ``tools/vendor_assets.py``). Los enlaces ``<a href>`` y ``rel="canonical"`` no cuentan:
   no se cargan.

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
#: Etiquetas cuyo atributo se carga al abrir la página.
_LOADED = re.compile(r"<(script|img|iframe|source|video|audio|embed|link)\b([^>]*)>", re.I | re.S)
_ATTR = re.compile(r"""\b(src|href|srcset|data)\s*=\s*["']([^"']*)["']""", re.I)
_REL = re.compile(r"""\brel\s*=\s*["']([^"']*)["']""", re.I)
#: ``rel`` de ``<link>`` que el navegador descarga.
_LOADED_REL = {"stylesheet", "preload", "modulepreload", "icon", "shortcut", "manifest", "prefetch"}
_CSS_URL = re.compile(r"""(?:url\(\s*["']?|@import\s+["'])((?:https?:)?//[^"')\s]+)""", re.I)
_STYLE = re.compile(r"<style\b.*?</style>", re.S | re.I)


def is_external(url: str) -> bool:
    """``True`` si ``url`` apunta a otra máquina (``http://``, ``https://`` o ``//``)."""
    return bool(re.match(r"^\s*(https?:)?//", url, re.I))


def external_references(html: str) -> list[str]:
    """Recursos que la página cargaría desde fuera del sitio (scripts, estilos, fuentes…)."""
    found = []
    for tag, attrs in _LOADED.findall(html):
        tag = tag.lower()
        if tag == "link":
            rel = _REL.search(attrs)
            rels = set(rel.group(1).lower().split()) if rel else set()
            if not rels & _LOADED_REL:
                continue
        for name, value in _ATTR.findall(attrs):
            if tag in ("a",) or (tag != "link" and name.lower() == "href"):
                continue
            urls = (
                [u.strip().split(" ")[0] for u in value.split(",")] if name == "srcset" else [value]
            )
            found += [f"<{tag} {name}={u}>" for u in urls if is_external(u)]
    for style in _STYLE.findall(html):
        found += [f"<style> {u}" for u in _CSS_URL.findall(style)]
    return sorted(set(found))


def stylesheet_references(css: str) -> list[str]:
    """``url()`` e ``@import`` de una hoja de estilos que apuntan fuera del sitio."""
    return sorted(set(_CSS_URL.findall(_CSS_COMMENT.sub("", css))))


_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
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
    total = external = 0
    for page in pages:
        if "_static" in page.parts or "_sources" in page.parts:
            continue
        html = page.read_text(encoding="utf-8")
        for text in page_problems(html):
            total += 1
            print(f"{page.relative_to(folder)}: texto en inglés: {text!r}")
        for ref in external_references(html):
            external += 1
            print(f"{page.relative_to(folder)}: carga algo de fuera del sitio: {ref}")
    for sheet in sorted((folder / "_static").rglob("*.css")):
        for ref in stylesheet_references(sheet.read_text(encoding="utf-8", errors="replace")):
            external += 1
            print(f"{sheet.relative_to(folder)}: carga algo de fuera del sitio: {ref}")
    if total:
        print(
            f"\n{total} texto(s) de la interfaz en inglés: añade la traducción en _ext/spanish_ui.py"
        )
    if external:
        print(
            f"\n{external} referencia(s) externas: el sitio debe funcionar sin red; sirve el "
            "recurso desde _static/ (ver tools/vendor_assets.py)."
        )
    if total or external:
        return 1
    print(f"{len(pages)} páginas revisadas: la interfaz está en español y nada se carga de fuera.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
