"""El botón de Colab abre la edición del cuaderno para Colab, no el cuaderno MyST del repositorio.

Extensión local de Sphinx (la carga ``_config.yml`` con ``sphinx.local_extensions``).
sphinx-book-theme enlaza el botón a ``…/blob/<repository.branch>/<cuaderno>``, donde la prosa
es MyST sin traducir. ``tools/build_editions.py`` escribe las ediciones y el flujo del libro
las publica en la rama ``colab_branch`` (``sphinx.config`` de ``_config.yml``); aquí se
cambia la rama del enlace por esa, sin tocar los botones de editar y de repositorio.
"""

from __future__ import annotations

import re
from typing import Any

from sphinx.application import Sphinx


def _buttons(items: list[Any]):
    """Cada botón de la cabecera, también los de dentro de un desplegable."""
    for item in items:
        if isinstance(item, dict):
            yield item
            yield from _buttons(item.get("buttons") or [])


def retarget_colab(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Cambia la rama del enlace de Colab de la página por ``colab_branch``."""
    branch = app.config.colab_branch
    colab = (app.config.html_theme_options.get("launch_buttons") or {}).get("colab_url", "")
    if not branch or not colab:
        return
    pattern = re.compile(rf"^({re.escape(colab.rstrip('/'))}/github/[^/]+/[^/]+/blob/)[^/]+/")
    for button in _buttons(context.get("header_buttons") or []):
        url = button.get("url")
        if isinstance(url, str) and pattern.match(url):
            button["url"] = pattern.sub(rf"\g<1>{branch}/", url)


def setup(app: Sphinx) -> dict:
    app.add_config_value("colab_branch", "", "html", types=[str])
    # Después de sphinx-book-theme, que crea los botones con prioridad 501.
    app.connect("html-page-context", retarget_colab, priority=510)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
