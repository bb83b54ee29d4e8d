"""Abre cada página del libro construido en Chromium sin ventana, como un lector sin red.

Sirve ``_build/html`` desde un servidor HTTP en 127.0.0.1, carga cada página en el Chromium
del sistema (``/usr/bin/chromium`` en Debian; Playwright para Python lo conduce con
``executable_path``, sin descargar un navegador propio) y comprueba:

* que no sale ninguna petición fuera del servidor local (nada de CDN) y que ninguna falla;
* que no hay errores en la consola ni excepciones de JavaScript;
* que las fórmulas están compuestas por MathJax (sin ``\\(`` crudo ni errores de TeX);
* que cada enlace interno (con su ancla) y cada imagen existen;
* ``lang="es"`` en todas las páginas, también en ``index.html`` (la redirección);
* que cada página que es un cuaderno tiene su enlace a Colab bien formado;
* que las soluciones de los ejercicios están plegadas;
* que los widgets se dibujan o, si no, la página muestra su figura estática;
* la accesibilidad con axe-core (fijado en ``tools/vendor_assets.py``): ninguna infracción
  grave o crítica (``serious``/``critical``) de WCAG 2.1 A/AA; las demás se listan por regla.

Guarda una captura de cada página en ``_build/screenshots/`` para revisarlas a ojo. Las
páginas (y las ediciones, más abajo) se reparten entre ``--jobs`` procesos, cada uno con su
Chromium; cada página se abre sola en su pestaña, así que el reparto no cambia el resultado.
Si no hay navegador, avisa y se salta (salvo con ``CI=true``, donde es un error).

Con ``--editions _build/colab``, además, las ediciones para Colab y Jupyter
(``tools/build_editions.py``): cada una se convierte a HTML con nbconvert (la plantilla
``lab``, como la exporta Jupyter, con el MathJax 3 del propio sitio en lugar del CDN), se abre
en Chromium y se comprueba que no queda ningún rol, directiva, etiqueta ni
comentario de MyST (en el Markdown, con el analizador de myst-parser; en la página, en el
texto que se lee), que MathJax compone todas las fórmulas (tantas como cuenta el analizador,
sin TeX crudo ni errores), que las imágenes cargan (las de ``raw.githubusercontent.com`` se
sirven del repositorio), que las soluciones están plegadas y que no hay errores en la
consola. Captura de cada edición en ``_build/screenshots/colab/``.

Uso::

    python -m tools.browser_check [_build/html] [--jobs 2] [--screenshots _build/screenshots]
        [--editions _build/colab]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import multiprocessing
import os
import re
import shutil
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urlsplit

from coursetools.repo import book_config, colab_url
from tools.vendor_assets import axe_script

#: Opciones para un Chromium sin ventana en una máquina sin red ni GPU (como root).
#: Playwright añade por su cuenta ``--headless`` y un perfil temporal.
CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
    # Cualquier nombre de máquina que no sea el servidor local falla al instante: una
    # página que intente cargar algo de fuera lo delata sin esperar a un tiempo de espera.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)

#: Nombres con los que se busca el navegador si no se da ``CHROMIUM``.
BROWSER_NAMES: tuple[str, ...] = ("chromium", "chromium-browser", "google-chrome", "chrome")

#: Reglas de axe-core que se auditan: WCAG 2.0 y 2.1, niveles A y AA.
AXE_TAGS: tuple[str, ...] = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
#: Impactos que hacen fallar la prueba; los demás solo se informan.
AXE_BLOCKING: frozenset[str] = frozenset({"serious", "critical"})

#: La auditoría: devuelve, por regla infringida, su impacto, su ayuda y los nodos.
AXE_RUN = """
async (tags) => {
  const result = await axe.run(document, {
    runOnly: { type: "tag", values: tags },
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact || "minor",
    help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
    count: v.nodes.length,
  }));
}
"""

#: Lo que la página devuelve a Python tras cargarse (una sola evaluación).
PROBE = r"""
(() => {
  const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const mathEls = [...document.querySelectorAll("span.math, div.math")];
  const untypeset = mathEls.filter((el) => !el.querySelector("mjx-container"))
                           .map((el) => el.textContent.trim().slice(0, 80));
  // TeX crudo fuera del código: \( o \[ en nodos de texto visibles.
  const raw = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement.closest("pre, code, script, style, textarea, .highlight, mjx-assistive-mml")) continue;
    const t = node.textContent;
    if (t.includes("\\(") || t.includes("\\[")) raw.push(t.trim().slice(0, 80));
  }
  const solutions = [...document.querySelectorAll("div.solution")].map((el) => ({
    id: el.id,
    dropdown: el.classList.contains("dropdown"),
    open: [...el.children].some((c) => !c.classList.contains("admonition-title")
                                     && !c.matches("button") && visible(c)),
  }));
  const views = [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')];
  return JSON.stringify({
    url: location.href,
    lang: document.documentElement.lang,
    mathCount: mathEls.length,
    typeset: document.querySelectorAll("mjx-container").length,
    untypeset: untypeset.slice(0, 5),
    raw: raw.slice(0, 5),
    mathErrors: [...document.querySelectorAll("mjx-merror")]
      .map((e) => e.getAttribute("data-mjx-error") || e.textContent).slice(0, 5),
    links: [...document.querySelectorAll("a[href]")].map((a) => a.href),
    images: [...document.images].map((i) => i.currentSrc || i.src),
    ids: [...document.querySelectorAll("[id]")].map((e) => e.id)
      .concat([...document.querySelectorAll("a[name]")].map((a) => a.name)),
    colab: [...document.querySelectorAll('a[href*="colab.research.google.com"]')].map((a) => a.href),
    solutions: solutions,
    widgetViews: views.length,
    widgetsRendered: document.querySelectorAll(".jupyter-widgets.widget-container, .jupyter-widgets .lm-Widget, .widget-inline-hbox, .widget-box").length,
    outputImages: document.querySelectorAll(".cell_output img, .output img").length,
  });
})()
"""

_HTML_LANG = re.compile(r"<html\b[^>]*\blang=[\"']([^\"']+)[\"']", re.I)
_REFRESH = re.compile(r"http-equiv=[\"']refresh[\"'][^>]*url=([^\"'>\s]+)", re.I)


@dataclass
class PageResult:
    """Resultado de una página: problemas encontrados y datos para el resumen."""

    page: str
    problems: list[str] = field(default_factory=list)
    math: int = 0
    seconds: float = 0.0
    widgets: str = ""
    links: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    #: Infracciones de accesibilidad: (regla, impacto, nodos, ayuda).
    axe: list[tuple[str, str, int, str]] = field(default_factory=list)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        # Chromium corta descargas al pasar a la página siguiente: no es un error del sitio.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Arranca un servidor HTTP de ``folder`` en 127.0.0.1 (puerto libre) en otro hilo."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = _QuietServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def find_browser() -> str | None:
    """Ruta de Chromium: la variable ``CHROMIUM`` o el primero de ``BROWSER_NAMES`` en el PATH."""
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() or shutil.which(explicit) else None
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def axe_problems(violations: list[dict[str, Any]]) -> list[str]:
    """Las infracciones de axe que hacen fallar la página (graves o críticas), en español.

    Parámetros:
        violations: lo que devuelve :data:`AXE_RUN` para una página.

    Devuelve:
        Una línea por regla grave o crítica, con sus primeros nodos.
    """
    return [
        f"accesibilidad ({v['impact']}, {v['id']}, {v['count']} nodo(s)): {v['help']} "
        f"— {', '.join(v['nodes'][:3])}"
        for v in violations
        if v["impact"] in AXE_BLOCKING
    ]


def site_pages(folder: Path) -> list[Path]:
    """Páginas HTML del sitio (sin las de ``_static``, ``_sources`` ni ``_images``)."""
    skip = {"_static", "_sources", "_images", "_downloads"}
    return sorted(
        p for p in folder.rglob("*.html") if not skip.intersection(p.relative_to(folder).parts)
    )


def expected_colab(page: str) -> str:
    """Enlace de Colab que debe tener la página ``page`` (``chapters/01_atencion.html``)."""
    repo = book_config()["repository"]
    prefix = (repo.get("path_to_book") or "").strip("/")
    path = f"{prefix}/{page[: -len('.html')]}.ipynb" if prefix else f"{page[:-5]}.ipynb"
    # La edición para Colab, en la rama de ediciones (tools/build_editions.py).
    return colab_url(path)


def static_checks(folder: Path, page: Path) -> list[str]:
    """Comprobaciones sobre el archivo (sirven también para la página de redirección)."""
    text = page.read_text(encoding="utf-8")
    problems = []
    lang = _HTML_LANG.search(text)
    if not lang or not lang.group(1).lower().startswith("es"):
        problems.append(
            f'sin lang="es" en <html> (encontrado: {lang.group(1) if lang else "nada"})'
        )
    refresh = _REFRESH.search(text)
    if refresh and not (page.parent / refresh.group(1)).exists():
        problems.append(f"redirige a {refresh.group(1)}, que no existe")
    return problems


class Checker:
    """Recorre las páginas con una pestaña de Playwright y recoge red, consola y errores."""

    def __init__(self, browser: Any, base: str, folder: Path, shots: Path | None, axe: str) -> None:
        self.base = base
        self.folder = folder
        self.shots = shots
        self.axe = axe
        self.page = browser.new_page(viewport={"width": 1280, "height": 1000})
        self._problems: list[str] = []
        page = self.page
        page.on("request", self._on_request)
        page.on("response", self._on_response)
        page.on("requestfailed", self._on_failed)
        page.on("console", self._on_console)
        page.on("pageerror", self._on_error)

    def _on_request(self, request: Any) -> None:
        if not request.url.startswith((self.base, "data:", "blob:", "about:")):
            self._problems.append(f"petición fuera del sitio: {request.url[:160]}")

    def _on_response(self, response: Any) -> None:
        if response.status >= 400:
            self._problems.append(f"HTTP {response.status}: {response.url[:160]}")

    def _on_failed(self, request: Any) -> None:
        error = request.failure or "?"
        # Chromium cancela (ERR_ABORTED) las descargas pendientes al pasar a otra página.
        if "ERR_ABORTED" not in error:
            self._problems.append(f"recurso que no carga: {error} ({request.url[:160]})")

    def _on_console(self, message: Any) -> None:
        if message.type in ("error", "assert"):
            self._problems.append(f"consola ({message.type}): {message.text[:200]}")

    def _on_error(self, error: Any) -> None:
        self._problems.append(f"excepción de JavaScript: {str(error)[:200]}")

    def open(self, url: str) -> None:
        """Carga ``url`` y espera a que MathJax termine de componer (si la página lo carga)."""
        self.page.goto(url, wait_until="load", timeout=45_000)
        self.page.evaluate(
            "window.MathJax && MathJax.startup && MathJax.startup.promise"
            " ? MathJax.startup.promise.then(() => true) : false"
        )

    def visit(self, page: Path) -> PageResult:
        """Carga ``page``, espera a MathJax y a los widgets, la audita y devuelve sus problemas."""
        from playwright.sync_api import Error as PlaywrightError

        name = page.relative_to(self.folder).as_posix()
        result = PageResult(name, static_checks(self.folder, page))
        start = time.perf_counter()
        self._problems = []
        try:
            self.open(self.base + name)
            data = json.loads(self.page.evaluate(PROBE))
            deadline = time.monotonic() + 10
            while data["widgetViews"] and data["widgetsRendered"] == 0:
                if time.monotonic() > deadline:
                    break
                self.page.wait_for_timeout(250)
                data = json.loads(self.page.evaluate(PROBE))
            self.page.wait_for_timeout(200)  # las últimas peticiones y mensajes de consola
            events = list(dict.fromkeys(self._problems))
            # axe entra como <script> en línea (sin petición) después de las comprobaciones.
            self.page.add_script_tag(content=self.axe)
            violations = self.page.evaluate(AXE_RUN, list(AXE_TAGS))
        except PlaywrightError as err:
            result.problems.append(f"no se pudo inspeccionar la página: {str(err)[:300]}")
            result.seconds = time.perf_counter() - start
            return result
        result.problems += events
        result.problems += self._page_problems(name, data)
        result.problems += axe_problems(violations)
        result.axe = [(v["id"], v["impact"], v["count"], v["help"]) for v in violations]
        result.math = data["mathCount"]
        result.widgets = data.get("_widgets", "")
        result.links = data["links"] + data["images"]
        result.ids = set(data["ids"])
        if self.shots is not None:
            target = self.shots / (name[: -len(".html")].replace("/", "__") + ".png")
            target.parent.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(target))
        result.seconds = time.perf_counter() - start
        return result

    def _page_problems(self, name: str, data: dict) -> list[str]:
        problems = []
        if not str(data["lang"]).lower().startswith("es"):
            problems.append(f'lang="{data["lang"]}" en el documento cargado')
        if data["mathCount"]:
            if data["untypeset"]:
                problems.append(f"fórmulas sin componer: {data['untypeset']}")
        if data["raw"]:
            problems.append(f"TeX crudo en el texto: {data['raw']}")
        if data["mathErrors"]:
            problems.append(f"errores de TeX en MathJax: {data['mathErrors']}")
        if (self.folder / "_sources" / name.replace(".html", ".ipynb")).exists():
            expected = expected_colab(name)
            if expected not in data["colab"]:
                problems.append(f"falta el enlace a Colab {expected} (hay: {data['colab']})")
            wrong = [c for c in data["colab"] if c != expected]
            if wrong:
                problems.append(f"enlaces a Colab mal formados: {wrong}")
        for solution in data["solutions"]:
            if not solution["dropdown"] or solution["open"]:
                problems.append(f"solución visible sin desplegar: #{solution['id']}")
        if data["widgetViews"]:
            if data["widgetsRendered"]:
                data["_widgets"] = "dibujados"
            elif data["outputImages"]:
                data["_widgets"] = "figura estática"
            else:
                problems.append(
                    f"{data['widgetViews']} widget(s) sin dibujar y ninguna figura estática"
                )
        return problems


#: Lo que devuelve una edición convertida con nbconvert, tras componer MathJax.
EDITION_PROBE = r"""
(() => {
  const skip = "pre, code, script, style, textarea, mjx-container, mjx-assistive-mml, .jp-OutputArea";
  const blocks = [];
  for (const el of document.querySelectorAll(".jp-RenderedMarkdown p, .jp-RenderedMarkdown li, "
      + ".jp-RenderedMarkdown h1, .jp-RenderedMarkdown h2, .jp-RenderedMarkdown h3, "
      + ".jp-RenderedMarkdown h4, .jp-RenderedMarkdown td, .jp-RenderedMarkdown th, "
      + ".jp-RenderedMarkdown summary, .jp-RenderedMarkdown blockquote")) {
    let text = "";
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      if (!node.parentElement.closest(skip)) text += node.textContent;
    }
    blocks.push(text.trim());
  }
  return JSON.stringify({
    blocks: blocks,
    typeset: document.querySelectorAll(".jp-RenderedMarkdown mjx-container").length,
    mathErrors: [...document.querySelectorAll("mjx-merror")]
      .map((e) => e.getAttribute("data-mjx-error") || e.textContent).slice(0, 5),
    fences: [...document.querySelectorAll(".jp-RenderedMarkdown pre code[class]")]
      .map((c) => c.className).filter((c) => c.includes("{")),
    brokenImages: [...document.images].filter((i) => !i.complete || i.naturalWidth === 0)
      .map((i) => i.src.slice(0, 160)),
    details: document.querySelectorAll(".jp-RenderedMarkdown details").length,
    openDetails: document.querySelectorAll(".jp-RenderedMarkdown details[open]").length,
  });
})()
"""

#: Restos de MyST en el texto que se lee (fuera del código y de las fórmulas).
_MYST_TEXT = (
    (re.compile(r"\{[a-z][\w.+-]*(?::[\w.+-]+)*\}"), "rol"),
    (re.compile(r":::"), "directiva"),
    (re.compile(r"^\([\w.:-]+\)=$"), "etiqueta"),
    (re.compile(r"^%\s"), "comentario"),
    (re.compile(r"^\+\+\+"), "separador"),
)
#: TeX que MathJax no compuso.
_RAW_TEX = re.compile(r"\$[^$\s][^$]*\$|\\\(|\\\[|\\begin\{|\$\$")

#: La plantilla de nbconvert para las ediciones: la ``lab`` de Jupyter con MathJax 3 (el del
#: sitio, configurado como Jupyter: ``$…$`` y ``$$…$$``) y sin mermaid, que vendría de un CDN.
EDITION_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_mathjax -%}
<script>
window.MathJax = {tex: {inlineMath: [["$", "$"], ["\\\\(", "\\\\)"]],
                        displayMath: [["$$", "$$"], ["\\\\[", "\\\\]"]],
                        processEscapes: true, processEnvironments: true}};
</script>
<script src="{{ resources.mathjax_url }}"></script>
{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


@dataclass
class Edition:
    """Una edición convertida a HTML: su página y lo que el analizador de MyST cuenta en ella."""

    notebook: str
    page: str
    formulas: int
    leftovers: list[str]


def render_editions(editions: Path, out: Path, vendor: str) -> list[Edition]:
    """Convierte cada edición de ``editions`` a HTML en ``out`` (nbconvert, en este proceso).

    Parámetros:
        editions: carpeta de las ediciones (``_build/colab``).
        out: carpeta de las páginas (las mismas rutas, ``.html``).
        vendor: URL (desde la raíz servida) de la carpeta ``vendor`` del sitio, con MathJax y
            require.js fijados por ``tools/vendor_assets.py``.

    Devuelve:
        Una :class:`Edition` por cuaderno, con las fórmulas y los restos de MyST que cuenta
        el analizador de myst-parser en su Markdown.
    """
    import nbformat
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    from coursetools.myst_editions import myst_leftovers
    from tools.build_editions import book_parser

    md = book_parser()
    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[DictLoader({"edition.html.j2": EDITION_TEMPLATE})],
        template_file="edition.html.j2",
        mathjax_url=f"{vendor}/mathjax/tex-mml-chtml.js",
        require_js_url=f"{vendor}/requirejs/require.js",
        language_code="es",
    )
    found = []
    for path in sorted(editions.rglob("*.ipynb")):
        name = path.relative_to(editions).as_posix()
        nb = nbformat.read(path, as_version=4)
        formulas, leftovers = 0, []
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                leftovers += myst_leftovers(md, cell.source)
                formulas += sum(
                    t.type.startswith("math") or t.type == "amsmath" for t in _tokens(md.parse(cell.source))
                )
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
        target = out / (name[: -len(".ipynb")] + ".html")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
        found.append(Edition(name, target.relative_to(out).as_posix(), formulas, leftovers))
    return found


def _tokens(tokens: list) -> Any:
    for token in tokens:
        yield token
        yield from _tokens(token.children or [])


def edition_problems(edition: Edition, data: dict) -> list[str]:
    """Problemas de una edición abierta en el navegador (``data``: :data:`EDITION_PROBE`)."""
    problems = [f"MyST en el Markdown: {left}" for left in edition.leftovers]
    for block in data["blocks"]:
        for pattern, what in _MYST_TEXT:
            if pattern.search(block):
                problems.append(f"MyST en el texto ({what}): {block[:100]!r}")
        if _RAW_TEX.search(block):
            problems.append(f"TeX sin componer: {block[:100]!r}")
    if data["typeset"] != edition.formulas:
        problems.append(f"MathJax compuso {data['typeset']} fórmulas de {edition.formulas}")
    if data["mathErrors"]:
        problems.append(f"errores de TeX en MathJax: {data['mathErrors']}")
    if data["fences"]:
        problems.append(f"directivas como bloques de código: {data['fences']}")
    if data["brokenImages"]:
        problems.append(f"imágenes que no cargan: {data['brokenImages']}")
    if data["openDetails"]:
        problems.append(f"{data['openDetails']} solución(es) desplegada(s)")
    return problems


class EditionChecker(Checker):
    """Abre las ediciones convertidas (otra pestaña del mismo navegador).

    Las imágenes de las ediciones apuntan a ``raw.githubusercontent.com`` (lo que ve Colab): se
    sirven aquí del repositorio, así que una imagen que falta en él no carga.
    """

    def __init__(self, browser: Any, base: str, folder: Path, shots: Path | None) -> None:
        from coursetools.repo import ROOT
        from tools.build_editions import raw_base_url

        super().__init__(browser, base, folder, shots, axe="")
        self.raw = raw_base_url()
        self.root = ROOT
        self.page.route(self.raw + "**", self._serve_raw)

    def _serve_raw(self, route: Any) -> None:
        path = self.root / unquote(urlsplit(route.request.url[len(self.raw) :]).path)
        if path.is_file() and self.root in path.resolve().parents:
            route.fulfill(path=str(path))
        else:
            route.fulfill(status=404, body="no está en el repositorio")

    def _on_request(self, request: Any) -> None:
        if not request.url.startswith(self.raw):
            super()._on_request(request)

    def visit_edition(self, edition: Edition, url: str) -> PageResult:
        """Carga la edición, espera a MathJax y devuelve sus problemas y sus fórmulas."""
        from playwright.sync_api import Error as PlaywrightError

        result = PageResult(edition.notebook)
        start = time.perf_counter()
        self._problems = []
        try:
            self.open(url)
            data = json.loads(self.page.evaluate(EDITION_PROBE))
            if self.shots is not None:
                target = self.shots / (edition.page[: -len(".html")].replace("/", "__") + ".png")
                target.parent.mkdir(parents=True, exist_ok=True)
                self.page.screenshot(path=str(target))
        except PlaywrightError as err:
            result.problems.append(f"no se pudo inspeccionar la edición: {str(err)[:300]}")
            result.seconds = time.perf_counter() - start
            return result
        result.problems += list(dict.fromkeys(self._problems))
        result.problems += edition_problems(edition, data)
        result.math = data["typeset"]
        result.seconds = time.perf_counter() - start
        return result


def vendor_url(root: Path) -> str:
    """URL (desde ``root``, la carpeta servida) de la carpeta vendor del sitio, con MathJax."""
    for folder in (root / "vendor" / "static" / "vendor", root / "html" / "_static" / "vendor"):
        if (folder / "mathjax" / "tex-mml-chtml.js").is_file():
            return "/" + folder.relative_to(root).as_posix()
    raise FileNotFoundError(
        f"no encuentro el MathJax del sitio en {root}/vendor ni en {root}/html/_static: "
        "ejecuta make vendor (o make book)"
    )


def check_editions(browser: Any, editions: Path, shots: Path | None) -> list[PageResult]:
    """Convierte las ediciones a HTML y las abre en ``browser`` (ver el módulo)."""
    root = editions.resolve().parent
    out = root / "colab-html"
    shutil.rmtree(out, ignore_errors=True)
    found = render_editions(editions, out, vendor_url(root))
    server, base = serve(root)
    try:
        checker = EditionChecker(browser, base, root, shots)
        prefix = out.relative_to(root).as_posix()
        return [checker.visit_edition(e, f"{base}{prefix}/{e.page}") for e in found]
    finally:
        server.shutdown()


def check_links(results: list[PageResult], base: str) -> dict[str, list[str]]:
    """Enlaces internos e imágenes rotos (archivo inexistente o ancla que no está)."""
    ids = {r.page: r.ids for r in results}
    status: dict[str, int] = {}
    broken: dict[str, list[str]] = {}
    for result in results:
        for link in result.links:
            if not link.startswith(base):
                continue
            address, fragment = urldefrag(link)
            path = unquote(urlsplit(address).path).lstrip("/") or "index.html"
            if path.endswith("/"):
                path += "index.html"
            if path not in status:
                try:
                    with urllib.request.urlopen(base + path, timeout=10) as response:
                        status[path] = response.status
                except urllib.error.HTTPError as err:
                    status[path] = err.code
                except OSError:
                    status[path] = 0
            if status[path] != 200:
                broken.setdefault(result.page, []).append(f"{path} (HTTP {status[path]})")
            elif fragment and path in ids and unquote(fragment) not in ids[path]:
                broken.setdefault(result.page, []).append(f"{path}#{fragment} (no existe el ancla)")
    return {page: sorted(set(items)) for page, items in broken.items()}


def axe_summary(results: list[PageResult]) -> list[str]:
    """Resumen por regla de todas las infracciones de accesibilidad (también las leves).

    Parámetros:
        results: resultados de las páginas.

    Devuelve:
        Una línea por regla: impacto, nodos, páginas y ayuda; primero las más graves.
    """
    order = {"critical": 0, "serious": 1, "moderate": 2, "minor": 3}
    nodes: Counter[tuple[str, str, str]] = Counter()
    pages: Counter[tuple[str, str, str]] = Counter()
    for result in results:
        for rule, impact, count, help_text in result.axe:
            nodes[rule, impact, help_text] += count
            pages[rule, impact, help_text] += 1
    return [
        f"{rule} ({impact}): {nodes[key]} nodo(s) en {pages[key]} página(s) — {help_text}"
        for key in sorted(nodes, key=lambda k: (order.get(k[1], 9), k[0]))
        for rule, impact, help_text in [key]
    ]


def _launch(playwright: Any, executable: str) -> Any:
    return playwright.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS), headless=True)


def check_pages(
    executable: str, base: str, folder: Path, shots: Path | None, axe: str, pages: list[Path]
) -> list[PageResult]:
    """Abre ``pages`` (servidas en ``base``) en un Chromium propio y devuelve sus resultados.

    ``main`` reparte las páginas entre varios procesos, cada uno con su navegador.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = _launch(playwright, executable)
        try:
            checker = Checker(browser, base, folder, shots, axe)
            return [checker.visit(page) for page in pages]
        finally:
            browser.close()


def check_editions_alone(
    executable: str, editions: Path, shots: Path | None
) -> tuple[list[PageResult], float]:
    """:func:`check_editions` en un Chromium propio; devuelve también los segundos."""
    from playwright.sync_api import sync_playwright

    start = time.perf_counter()
    with sync_playwright() as playwright:
        browser = _launch(playwright, executable)
        try:
            results = check_editions(browser, editions, shots)
        finally:
            browser.close()
    return results, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.browser_check", description=__doc__.splitlines()[0]
    )
    parser.add_argument("site", nargs="?", type=Path, default=Path("_build/html"))
    parser.add_argument("--screenshots", type=Path, default=Path("_build/screenshots"))
    parser.add_argument("--no-screenshots", action="store_true", help="no guardar capturas")
    parser.add_argument(
        "--editions", type=Path, help="las ediciones para Colab (_build/colab): también en HTML"
    )
    parser.add_argument(
        "--jobs", "-j", type=int, default=2, help="navegadores a la vez (cada uno en su proceso)"
    )
    args = parser.parse_args(argv)

    folder = args.site.resolve()
    pages = site_pages(folder)
    if not pages:
        print(f"No hay páginas en {folder}: construye antes el libro (make book).")
        return 1
    executable = find_browser()
    if executable is None:
        message = (
            "no encuentro Chromium (ni la variable CHROMIUM). Instálalo para probar el sitio "
            "en un navegador de verdad: en Debian/Ubuntu, `sudo apt-get install chromium`."
        )
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            print(f"ERROR: {message}")
            return 1
        print(f"\n*** AVISO: prueba en el navegador SALTADA: {message} ***\n")
        return 0

    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        print(
            "ERROR: falta Playwright para Python (`pip install -r tools/requirements.txt`, "
            "o `make venv`). Solo el paquete: el navegador es el Chromium del sistema."
        )
        return 1

    start = time.perf_counter()
    shots = None if args.no_screenshots else args.screenshots.resolve()
    axe = axe_script().read_text(encoding="utf-8")
    server, base = serve(folder)
    results: list[PageResult] = []
    editions: list[PageResult] = []
    if args.editions is not None and not any(args.editions.rglob("*.ipynb")):
        print(f"No hay ediciones en {args.editions}: escríbelas antes (make editions).")
        return 1
    # Las páginas, en trozos pequeños, y las ediciones se reparten entre --jobs procesos con su
    # propio Chromium (cada página se abre sola en su pestaña: el resultado no depende del reparto).
    static = {p for p in pages if _REFRESH.search(p.read_text(encoding="utf-8"))}
    visit = sorted((p for p in pages if p not in static), key=lambda p: -p.stat().st_size)
    jobs = max(1, args.jobs)
    chunks = [chunk for chunk in (visit[i :: 2 * jobs] for i in range(2 * jobs)) if chunk]
    try:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            edition_job = None
            if args.editions is not None:
                edition_job = pool.submit(
                    check_editions_alone, executable, args.editions, shots and shots / "colab"
                )
            page_jobs = [
                pool.submit(check_pages, executable, base, folder, shots, axe, chunk)
                for chunk in chunks
            ]
            visited = {r.page: r for job in page_jobs for r in job.result()}
            if edition_job is not None:
                editions, edition_seconds = edition_job.result()
        for page in pages:
            name = page.relative_to(folder).as_posix()
            # Una redirección se comprueba en el archivo: el navegador se iría a otra página.
            results.append(visited[name] if page not in static else PageResult(name, static_checks(folder, page)))
        broken = check_links(results, base)
    finally:
        server.shutdown()

    failures = 0
    for result in results:
        problems = result.problems + [
            f"enlace o imagen rotos: {b}" for b in broken.get(result.page, [])
        ]
        mark = "✗" if problems else "✓"
        extra = f", {result.math} fórmulas" if result.math else ""
        extra += f", widgets {result.widgets}" if result.widgets else ""
        print(f"  {mark} {result.page} ({result.seconds:.1f} s{extra})")
        for problem in problems:
            print(f"      - {problem}")
        failures += bool(problems)
    summary = axe_summary(results)
    print(f"Accesibilidad (axe-core, WCAG 2.1 A/AA): {len(summary)} regla(s) infringida(s).")
    for line in summary:
        print(f"  - {line}")
    edition_failures = 0
    for result in editions:
        mark = "✗" if result.problems else "✓"
        print(f"  {mark} edición {result.page} ({result.seconds:.1f} s, {result.math} fórmulas)")
        for problem in result.problems:
            print(f"      - {problem}")
        edition_failures += bool(result.problems)
    total = time.perf_counter() - start
    with_math = sum(1 for r in results if r.math)
    line = (
        f"{len(results)} páginas en Chromium ({with_math} con fórmulas) en {total:.1f} s; "
        f"{failures} con problemas."
    )
    if args.editions is not None:
        line += (
            f" Ediciones para Colab en HTML (nbconvert): {len(editions)} páginas, "
            f"{sum(r.math for r in editions)} fórmulas compuestas, {edition_failures} con problemas "
            f"({edition_seconds:.1f} s)."
        )
    print(line + (f" Capturas en {shots}." if shots else ""))
    return 1 if failures or edition_failures else 0


if __name__ == "__main__":
    sys.exit(main())
