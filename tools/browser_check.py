"""Abre cada página del libro construido en Chromium sin ventana, como un lector sin red.

Sirve ``_build/html`` desde un servidor HTTP en 127.0.0.1, carga cada página en Chromium
(controlado por el protocolo DevTools, ``tools/cdp.py``) y comprueba:

* que no sale ninguna petición fuera del servidor local (nada de CDN) y que ninguna falla;
* que no hay errores en la consola ni excepciones de JavaScript;
* que las fórmulas están compuestas por MathJax (sin ``\\(`` crudo ni errores de TeX);
* que cada enlace interno (con su ancla) y cada imagen existen;
* ``lang="es"`` en todas las páginas, también en ``index.html`` (la redirección);
* que cada página que es un cuaderno tiene su enlace a Colab bien formado;
* que las soluciones de los ejercicios están plegadas;
* que los widgets se dibujan o, si no, la página muestra su figura estática.

Guarda una captura de cada página en ``_build/screenshots/`` para revisarlas a ojo.
Si no hay navegador, avisa y se salta (salvo con ``CI=true``, donde es un error).

Uso::

    python -m tools.browser_check [_build/html] [--screenshots _build/screenshots]
"""

from __future__ import annotations

import argparse
import base64
import functools
import http.server
import json
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

from coursetools.repo import book_config, colab_url
from tools.cdp import Browser, CDPError, find_browser

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
    """Recorre las páginas con una pestaña y recoge los eventos de red y de consola."""

    def __init__(self, browser: Browser, base: str, folder: Path, shots: Path | None) -> None:
        self.browser = browser
        self.base = base
        self.folder = folder
        self.shots = shots
        self.session = browser.new_tab()
        self._events: list[tuple[str, dict]] = []
        self._lock = threading.Lock()
        self._loaded = threading.Event()
        browser.on_event = self._on_event
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", session=self.session)
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 1000, "deviceScaleFactor": 1, "mobile": False},
            session=self.session,
        )

    def _on_event(self, method: str, params: dict, session: str | None) -> None:
        if session != self.session:
            return
        if method == "Page.loadEventFired":
            self._loaded.set()
        with self._lock:
            self._events.append((method, params))

    def _evaluate(self, expression: str, timeout: float = 30.0, await_promise: bool = False):
        result = self.browser.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": await_promise},
            session=self.session,
            timeout=timeout + 5,
        )
        if "exceptionDetails" in result:
            raise CDPError(result["exceptionDetails"].get("text", "excepción"))
        return result.get("result", {}).get("value")

    def _event_problems(self, events: list[tuple[str, dict]]) -> list[str]:
        problems = []
        for method, params in events:
            if method == "Network.requestWillBeSent":
                url = params["request"]["url"]
                if not url.startswith((self.base, "data:", "blob:", "about:")):
                    problems.append(f"petición fuera del sitio: {url[:160]}")
            elif method == "Network.responseReceived":
                status = params["response"]["status"]
                if status >= 400:
                    problems.append(f"HTTP {status}: {params['response']['url'][:160]}")
            elif method == "Network.loadingFailed" and not params.get("canceled"):
                problems.append(f"recurso que no carga: {params.get('errorText', '?')}")
            elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                text = " ".join(
                    str(a.get("value", a.get("description", ""))) for a in params["args"]
                )
                problems.append(f"consola ({params['type']}): {text[:200]}")
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                text = details.get("exception", {}).get("description") or details.get("text")
                problems.append(f"excepción de JavaScript: {str(text)[:200]}")
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                problems.append(f"error del navegador: {params['entry']['text'][:200]}")
        return list(dict.fromkeys(problems))

    def visit(self, page: Path) -> PageResult:
        """Carga ``page``, espera a MathJax y a los widgets y devuelve sus problemas."""
        name = page.relative_to(self.folder).as_posix()
        result = PageResult(name, static_checks(self.folder, page))
        start = time.perf_counter()
        with self._lock:
            self._events = []
        self._loaded.clear()
        self.browser.send("Page.navigate", {"url": self.base + name}, session=self.session)
        if not self._loaded.wait(45):
            result.problems.append("la página no terminó de cargar en 45 s")
        try:
            self._evaluate(
                "window.MathJax && MathJax.startup && MathJax.startup.promise"
                " ? MathJax.startup.promise.then(() => true) : false",
                timeout=60,
                await_promise=True,
            )
            data = json.loads(self._evaluate(PROBE))
            deadline = time.monotonic() + 10
            while data["widgetViews"] and data["widgetsRendered"] == 0:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.25)
                data = json.loads(self._evaluate(PROBE))
        except CDPError as err:
            result.problems.append(f"no se pudo inspeccionar la página: {err}")
            result.seconds = time.perf_counter() - start
            return result
        time.sleep(0.2)  # las últimas peticiones y mensajes de consola
        with self._lock:
            events = list(self._events)
        result.problems += self._event_problems(events)
        result.problems += self._page_problems(name, data)
        result.math = data["mathCount"]
        result.widgets = data.get("_widgets", "")
        result.links = data["links"] + data["images"]
        result.ids = set(data["ids"])
        if self.shots is not None:
            shot = self.browser.send(
                "Page.captureScreenshot", {"format": "png"}, session=self.session
            )
            target = self.shots / (name[: -len(".html")].replace("/", "__") + ".png")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(base64.b64decode(shot["data"]))
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.browser_check", description=__doc__.splitlines()[0]
    )
    parser.add_argument("site", nargs="?", type=Path, default=Path("_build/html"))
    parser.add_argument("--screenshots", type=Path, default=Path("_build/screenshots"))
    parser.add_argument("--no-screenshots", action="store_true", help="no guardar capturas")
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

    start = time.perf_counter()
    shots = None if args.no_screenshots else args.screenshots.resolve()
    server, base = serve(folder)
    results: list[PageResult] = []
    try:
        with Browser(executable) as browser:
            checker = Checker(browser, base, folder, shots)
            for page in pages:
                name = page.relative_to(folder).as_posix()
                if _REFRESH.search(page.read_text(encoding="utf-8")):
                    # La redirección se comprueba en el archivo: el navegador se iría a otra.
                    results.append(PageResult(name, static_checks(folder, page)))
                    continue
                results.append(checker.visit(page))
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
    total = time.perf_counter() - start
    with_math = sum(1 for r in results if r.math)
    print(
        f"{len(results)} páginas en Chromium ({with_math} con fórmulas) en {total:.1f} s; "
        f"{failures} con problemas." + (f" Capturas en {shots}." if shots else "")
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
