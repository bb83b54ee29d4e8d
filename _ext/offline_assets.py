"""Sirve MathJax, require.js y el gestor de widgets desde el propio sitio (sin CDN).

Extensión local de Sphinx (la carga ``_config.yml`` con ``sphinx.local_extensions``).
``python -m tools.vendor_assets`` (lo ejecuta ``make book``) deja los paquetes de npm
fijados en ``_build/vendor/static/vendor/``; aquí se añade esa carpeta a
``html_static_path``, de modo que acaban en ``_build/html/_static/vendor/``. Las rutas
que cargan las páginas están en ``_config.yml`` (``mathjax_path`` y ``nb_ipywidgets_js``);
si falta alguno de esos archivos, la construcción se detiene con un mensaje que dice qué
ejecutar, en lugar de publicar un sitio con las ecuaciones en TeX crudo.

``_ext/static/vendor/widgets_setup.js`` (código nuestro) adapta el gestor de widgets a
las copias locales y a MathJax 3. Además:

* se quitan los ``<script>`` repetidos de una página (sphinx-thebe declara dos veces
  ``const THEBE_JS_URL`` y el navegador da un error en cada página);
* ``index.html``, la redirección a la portada, se escribe como página completa con
  ``lang="es"`` (la de sphinx-external-toc es una sola etiqueta ``<meta>``).
"""

from __future__ import annotations

import html
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError

#: Carpeta que crea ``tools/vendor_assets.py``, relativa a la raíz del libro.
VENDOR_STATIC = Path("_build") / "vendor" / "static"
#: Scripts propios que acompañan a los paquetes (se publican también en ``_static/vendor/``).
OWN_STATIC = Path(__file__).resolve().parent / "static"

REDIRECT_PAGE = """<!DOCTYPE html>
<html lang="es">
<head>
<meta charset="utf-8">
<title>{title}</title>
<meta http-equiv="Refresh" content="0; url={target}">
<link rel="canonical" href="{target}">
</head>
<body>
<p>Te llevamos a <a href="{target}">la portada del curso</a>.</p>
</body>
</html>
"""


def _local_scripts(config: Config) -> list[str]:
    """Scripts locales (relativos a ``_static/``) que las páginas cargarán."""
    scripts = [config.mathjax_path]
    scripts += list(getattr(config, "nb_ipywidgets_js", {}) or {})
    return [s for s in scripts if s and "://" not in s and not s.startswith("//")]


def add_vendor_static(app: Sphinx, config: Config) -> None:
    """Añade ``_build/vendor/static`` a ``html_static_path`` y comprueba que están los scripts."""
    folder = Path(app.confdir) / VENDOR_STATIC
    remote = [
        s
        for s in [config.mathjax_path, *(getattr(config, "nb_ipywidgets_js", {}) or {})]
        if s and ("://" in s or s.startswith("//"))
    ]
    if remote:
        raise ConfigError(
            f"Scripts cargados desde fuera del sitio: {', '.join(remote)}. El libro debe "
            "funcionar sin red: usa las copias locales (ver tools/vendor_assets.py)."
        )
    missing = [
        s
        for s in _local_scripts(config)
        if not (folder / s).is_file() and not (OWN_STATIC / s).is_file()
    ]
    if missing:
        raise ConfigError(
            f"Faltan {', '.join(missing)} en {folder}. Ejecuta `python -m tools.vendor_assets` "
            "(o `make book`, que lo hace) antes de construir el libro."
        )
    for path in (str(folder), str(OWN_STATIC)):
        if path not in config.html_static_path:
            config.html_static_path.append(path)


def drop_duplicate_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree):
    """Deja una sola copia de cada ``<script>`` de la página (mismo archivo y contenido)."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        # Misma etiqueta en el HTML aunque se registrara con otra prioridad o con
        # filename None en lugar de "" (así llega dos veces la configuración de thebe).
        attributes = getattr(script, "attributes", {}) or {}
        filename = str(getattr(script, "filename", script) or "")
        body = tuple(sorted((k, str(v)) for k, v in attributes.items() if k != "priority"))
        key = (filename, body)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def write_redirect(app: Sphinx, exception: Exception | None) -> None:
    """Escribe ``index.html`` (redirección a la raíz del libro) con ``lang="es"``."""
    if exception is not None or app.builder.format != "html" or app.config.root_doc == "index":
        return
    target = f"{app.config.root_doc}.html"
    page = REDIRECT_PAGE.format(title=html.escape(app.config.project), target=target)
    Path(app.outdir, "index.html").write_text(page, encoding="utf-8")


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", add_vendor_static)
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    # Antes que sphinx-external-toc (500), que no escribe index.html si ya existe.
    app.connect("build-finished", write_redirect, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
