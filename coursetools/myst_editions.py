"""La prosa MyST de un cuaderno, reescrita en el Markdown que entienden Colab y Jupyter.

Colab y Jupyter enseñan tal cual los roles (``{cite:t}`…```, ``{glue:text}`…```) y las
directivas (``:::{solution}``) de MyST. Aquí se leen con el mismo analizador que usa el libro
(markdown-it-py con los complementos de myst-parser y las extensiones de ``_config.yml``) y
cada construcción se sustituye por su equivalente en Markdown corriente:

- ``{glue:text}`` → la cifra del cuaderno ejecutado, con el formato del libro;
- ``{doc}``, ``{ref}``, ``{numref}`` y ``{eq}`` → enlaces a las páginas del sitio publicado;
- ``{cite:t}`` / ``{cite:p}`` → «Autor (año)» / «(Autor, año)» enlazados a la bibliografía;
- ``{exercise}`` → una cita con «Ejercicio N»; ``{solution}`` → ``<details>`` plegado;
- las advertencias (``{note}``, ``{admonition}``…) → una cita con su título;
- ``{figure}`` e ``{image}`` → una imagen Markdown con su texto alternativo;
- las etiquetas ``(nombre)=`` y los comentarios ``%`` desaparecen; las ecuaciones numeradas
  ``$$ … $$ (etiqueta)`` llevan ``\\tag{N}``, el número con que las cita la prosa.

Una construcción que no se sabe traducir es un error con su nombre, nunca un resto de MyST.

La conversión va en dos etapas (``Converter.stage``): el **borrador** (``"draft"``) traduce
todo menos las cifras, que quedan como el rol ``{glue:text}`` original (el marcador que la
segunda etapa vuelve a encontrar con el mismo analizador); es lo que ejecuta el entorno de
estudiante, antes de que haya cifras. Las **cifras** (``"glue"``) solo sustituyen esos roles
por los valores de la ejecución. ``"final"`` hace las dos cosas a la vez.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import PurePosixPath

from docutils.nodes import make_id
from markdown_it import MarkdownIt
from markdown_it.token import Token

#: Títulos de las advertencias de MyST (los del libro en español).
ADMONITIONS = {
    "note": "Nota",
    "tip": "Consejo",
    "hint": "Pista",
    "important": "Importante",
    "warning": "Advertencia",
    "caution": "Precaución",
    "attention": "Atención",
    "danger": "Peligro",
    "error": "Error",
    "seealso": "Véase también",
}
#: Tokens que solo produce la sintaxis de MyST (lo que no debe quedar en una edición).
MYST_TOKENS = ("myst_role", "myst_target", "myst_line_comment", "myst_block_break", "math_block_label")
#: Los roles de glue: en el borrador quedan tal cual, como marcador de la cifra.
GLUE_ROLES = ("glue", "glue:", "glue:any", "glue:text")
#: Las etapas de :class:`Converter`.
STAGES = ("draft", "glue", "final")
_SPECIAL = re.compile(r"([\\`*_\[\]<>$|#])")
_TITLE_TARGET = re.compile(r"^(?P<title>.*?)\s*<(?P<target>[^<>]+)>$", re.S)


class EditionError(ValueError):
    """Una construcción MyST que la edición no sabe traducir (el mensaje dice cuál y dónde)."""


@cache
def myst_parser(extensions: tuple[str, ...], dmath_double_inline: bool = True) -> MarkdownIt:
    """El analizador de myst-parser con las extensiones del libro (``parse.myst_enable_extensions``).

    Parámetros:
        extensions: las extensiones de ``_config.yml``.
        dmath_double_inline: ``parse.myst_dmath_double_inline``.

    Devuelve:
        Un ``MarkdownIt`` que produce los mismos tokens que al construir el libro.
    """
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    config = MdParserConfig(
        enable_extensions=set(extensions), dmath_double_inline=dmath_double_inline
    )
    return create_md_parser(config, RendererHTML)


def myst_leftovers(md: MarkdownIt, text: str) -> list[str]:
    """Roles, directivas, etiquetas y comentarios de MyST que quedan en ``text``.

    Parámetros:
        md: el analizador (:func:`myst_parser`).
        text: Markdown.

    Devuelve:
        Una descripción por construcción encontrada (vacía si no queda ninguna).
    """
    found = []
    for token in _walk(md.parse(text)):
        if token.type in MYST_TOKENS:
            name = token.meta.get("name") if token.type == "myst_role" else token.info
            found.append(f"{token.type} {name or token.content!r}".strip())
        elif token.type in ("fence", "colon_fence") and token.info.strip().startswith("{"):
            found.append(f"directiva {token.info.split()[0]}")
        elif token.type.startswith("substitution"):
            found.append(f"sustitución {token.content!r}")
    return found


def _walk(tokens: Iterable[Token]) -> Iterable[Token]:
    for token in tokens:
        yield token
        if token.children:
            yield from _walk(token.children)


def escape_markdown(text: str) -> str:
    """``text`` para leerse tal cual en Markdown (como lo pega el libro: sin interpretarlo)."""
    return _SPECIAL.sub(r"\\\1", text)


@dataclass(frozen=True)
class Target:
    """Un destino de ``{ref}``/``{numref}``/``{eq}``: página, ancla y título o número."""

    docname: str
    anchor: str
    title: str = ""
    number: int | None = None


@dataclass
class Site:
    """Lo que hace falta para enlazar: el sitio, la bibliografía y todas las etiquetas del libro.

    Atributos:
        base_url: ``html.baseurl`` de ``_config.yml`` (acaba en ``/``).
        raw_url: URL de los archivos del repositorio (``…/raw/main/``) para las imágenes.
        bibliography_doc: página de la bibliografía (``chapters/bibliografia``).
        citations: clave BibTeX → (autores, año) como los escribe el libro.
        titles: página → su título (para un ``{doc}`` sin texto).
        targets: etiqueta → :class:`Target`.
        exercises_before: página → ejercicios de las páginas anteriores (el sitio los numera
            seguidos en todo el libro).
    """

    base_url: str
    raw_url: str
    bibliography_doc: str
    citations: dict[str, tuple[str, str]]
    titles: dict[str, str] = field(default_factory=dict)
    targets: dict[str, Target] = field(default_factory=dict)
    exercises_before: dict[str, int] = field(default_factory=dict)

    def page_url(self, docname: str, anchor: str = "") -> str:
        return f"{self.base_url}{docname}.html" + (f"#{anchor}" if anchor else "")


def index_labels(
    md: MarkdownIt, docname: str, markdown: Iterable[str], numbers: Counter | None = None
) -> tuple[str, dict[str, Target]]:
    """El título de una página y sus etiquetas (``(x)=``, ejercicios, ecuaciones y figuras).

    Parámetros:
        md: el analizador.
        docname: la página (``chapters/02_multihead``).
        markdown: el Markdown de la página, celda a celda.
        numbers: ecuaciones y ejercicios de las páginas anteriores del índice
            (``{"equation": …, "exercise": …}``); se actualiza. Como en el sitio, donde las
            partes del índice no llevan número, la numeración sigue de una página a otra.

    Devuelve:
        ``(título, {etiqueta: Target})``. Ecuaciones y ejercicios llevan su número del sitio.
    """
    numbers = Counter() if numbers is None else numbers
    title, targets = "", {}
    pending: list[str] = []  # etiquetas (x)= que esperan el título que las sigue
    for text in markdown:
        tokens = md.parse(text)
        for i, token in enumerate(tokens):
            if token.type == "myst_target":
                pending.append(token.content)
            elif token.type == "heading_open":
                heading = tokens[i + 1].content
                title = title or (heading if token.tag == "h1" else "")
                for label in pending:
                    targets[label] = Target(docname, make_id(label), heading)
                pending = []
            elif token.type == "math_block_label":
                numbers["equation"] += 1
                targets[token.info] = Target(
                    docname, f"equation-{token.info}", number=numbers["equation"]
                )
            elif token.type == "amsmath" and token.meta.get("numbered") != "*":
                numbers["equation"] += 1  # Sphinx también numera \begin{align} sin etiqueta
            elif token.type in ("fence", "colon_fence") and token.info.startswith("{"):
                name, _, options, _ = _directive_parts(token)
                if name == "exercise":
                    numbers["exercise"] += 1
                    n = numbers["exercise"]
                    if "label" in options:
                        targets[options["label"]] = Target(docname, options["label"], f"Ejercicio {n}", n)
                elif name in ("figure", "image") and "name" in options:
                    targets[options["name"]] = Target(docname, make_id(options["name"]), "figura")
        for label in pending:
            targets[label] = Target(docname, make_id(label))
        pending = []
    return title, targets


def _directive_parts(token: Token) -> tuple[str, str, dict[str, str], str]:
    """(nombre, argumento, opciones, cuerpo) de una directiva MyST."""
    head = token.info.strip()
    match = re.match(r"^\{([^}]+)\}\s*(.*)$", head)
    if match is None:
        raise EditionError(f"directiva mal escrita: {head!r}")
    name, argument = match.group(1), match.group(2).strip()
    lines = token.content.splitlines()
    if lines and lines[0].strip() == "---":
        raise EditionError(f"{{{name}}}: opciones en YAML (---) sin traducir; usa :clave: valor")
    options: dict[str, str] = {}
    while lines and (option := re.match(r"^:([\w-]+):\s*(.*)$", lines[0])):
        options[option.group(1)] = option.group(2).strip()
        lines.pop(0)
    return name, argument, options, "\n".join(lines).strip("\n")


@dataclass
class Converter:
    """Convierte la prosa de una página (un cuaderno) en Markdown sin MyST.

    Atributos:
        md: el analizador (:func:`myst_parser`).
        site: enlaces, bibliografía y etiquetas del libro.
        docname: la página (``chapters/02_multihead``).
        glue: nombre → ``text/plain`` de cada cifra guardada por el cuaderno ejecutado.
        format_glue: ``(text/plain, formato) → texto``, la función con que el libro lo pega.
        counts: lo convertido, por tipo (``role:cite:t``, ``directive:solution``, ``glue``…).
        glued: nombre → texto de cada cifra escrita en la prosa.
        stage: ``"draft"`` (todo menos los roles de glue, que quedan como marcador),
            ``"glue"`` (solo los roles de glue) o ``"final"`` (todo).
    """

    md: MarkdownIt
    site: Site
    docname: str
    glue: dict[str, str]
    format_glue: Callable[[str, str], str]
    counts: Counter = field(default_factory=Counter)
    glued: dict[str, str] = field(default_factory=dict)
    stage: str = "final"
    _exercises: int = 0

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ValueError(f"etapa desconocida {self.stage!r}: usa una de {STAGES}")
        self._exercises = self.site.exercises_before.get(self.docname, 0)

    def convert(self, text: str) -> str:
        """Markdown de ``text`` con cada construcción MyST traducida (ver el módulo)."""
        lines = text.splitlines(keepends=True)
        starts = [0]
        for line in lines:
            starts.append(starts[-1] + len(line))
        edits: list[tuple[int, int, str]] = []
        for token in _walk(self.md.parse(text)):
            if token.type == "inline" and token.map:
                edits += self._inline_edits(text, starts[token.map[0]], starts[token.map[1]], token)
            elif token.map and self.stage != "glue" and self._is_block(token):
                begin, end = starts[token.map[0]], starts[token.map[1]]
                indent = re.match(r"[ \t]*", text[begin:end]).group(0)
                if token.level and not indent and token.type != "myst_target":
                    raise EditionError(f"{self.docname}: {token.info or token.type} dentro de una cita")
                block = self._block(token)
                if block:
                    block = "".join(
                        (indent + line if line.strip() else line)
                        for line in block.splitlines(keepends=True)
                    )
                    block += "\n" if text[begin:end].endswith("\n") else ""
                    if text[end:].split("\n", 1)[0].strip():  # lo que sigue, separado
                        block += "\n"
                edits.append((begin, end, block))
        for begin, end, new in sorted(edits, reverse=True):
            text = text[:begin] + new + text[end:]
        return text

    # -- bloques ------------------------------------------------------------------------

    @staticmethod
    def _is_block(token: Token) -> bool:
        return token.type in MYST_TOKENS[1:] or (
            token.type in ("fence", "colon_fence") and token.info.strip().startswith("{")
        )

    def _block(self, token: Token) -> str:
        if token.type in ("myst_target", "myst_line_comment", "myst_block_break"):
            self.counts[token.type] += 1
            return ""
        if token.type == "math_block_label":
            target = self._target(token.info, "eq")
            self.counts["math_block_label"] += 1
            return f"$$\n{token.content.strip(chr(10))}\n\\tag{{{target.number}}}\n$$"
        name, argument, options, body = _directive_parts(token)
        self.counts[f"directive:{name}"] += 1
        if name == "exercise":
            self._exercises += 1
            title = f"Ejercicio {self._exercises}" + (f": {argument}" if argument else "")
            return _quote(f"**{title}**\n\n{self.convert(body)}")
        if name == "solution":
            return (
                "<details>\n<summary>Solución</summary>\n\n"
                f"{self.convert(body).strip()}\n\n</details>"
            )
        if name in ADMONITIONS or name == "admonition":
            title = argument if name == "admonition" else ADMONITIONS[name]
            if not title:
                raise EditionError(f"{self.docname}: {{admonition}} sin título")
            return _quote(f"**{self.convert(title).strip()}**\n\n{self.convert(body)}")
        if name in ("figure", "image"):
            if not options.get("alt"):
                raise EditionError(f"{self.docname}: la figura {argument!r} no tiene :alt:")
            image = f"![{escape_markdown(options['alt'])}]({self._file_url(argument)})"
            caption = self.convert(body).strip() if name == "figure" else ""
            return image + (f"\n\n*Figura:* {caption}" if caption else "")
        raise EditionError(f"{self.docname}: la directiva {{{name}}} no tiene traducción")

    def _file_url(self, path: str) -> str:
        if re.match(r"^[a-z]+://", path):
            return path
        base = PurePosixPath(self.docname).parent
        parts: list[str] = []
        for part in (base / path).parts:
            if part == "..":
                parts.pop()
            elif part != ".":
                parts.append(part)
        return self.site.raw_url + "/".join(parts)

    # -- roles --------------------------------------------------------------------------

    def _inline_edits(self, text: str, begin: int, end: int, token: Token) -> list[tuple[int, int, str]]:
        edits, cursor = [], begin
        for child in token.children or []:
            if child.type == "code_inline":
                found = _find(text, cursor, end, r"(`+) ?" + _flexible(child.content) + r" ?\1")
                cursor = found.end() if found else cursor
            elif child.type == "myst_role":
                name = child.meta["name"]
                pattern = re.escape("{" + name + "}") + r"(`+)" + _flexible(child.content) + r"\1"
                found = _find(text, cursor, end, pattern)
                if found is None:
                    raise EditionError(f"{self.docname}: no encuentro el rol {{{name}}} en el texto")
                cursor = found.end()
                if self.stage != "final" and (self.stage == "draft") == (name in GLUE_ROLES):
                    continue  # lo traduce la otra etapa
                edits.append((found.start(), found.end(), self._role(name, child.content)))
        return edits

    def _role(self, name: str, content: str) -> str:
        content = " ".join(content.split())
        self.counts[f"role:{name}"] += 1
        if name in GLUE_ROLES:
            return self._glue(content if name == "glue:text" else content + ":")
        if name == "doc":
            title, target = _title_target(content)
            docname = self._docname(target)
            if docname not in self.site.titles:
                raise EditionError(f"{self.docname}: {{doc}} a una página que no existe: {target!r}")
            return f"[{title or self.site.titles[docname]}]({self.site.page_url(docname)})"
        if name in ("ref", "numref"):
            title, label = _title_target(content)
            target = self._target(label, name)
            if name == "numref" and (not title or "%s" in title or "{" in title):
                raise EditionError(f"{self.docname}: {{numref}} necesita un texto sin número: {content!r}")
            if not (title or target.title):
                raise EditionError(f"{self.docname}: {{ref}}`{label}` necesita un texto")
            return f"[{title or target.title}]({self.site.page_url(target.docname, target.anchor)})"
        if name == "eq":
            target = self._target(content, "eq")
            return f"[({target.number})]({self.site.page_url(target.docname, target.anchor)})"
        if name in ("cite", "cite:p", "cite:t"):
            return self._cite(content, textual=name == "cite:t")
        if name == "math":
            return f"${content}$"
        raise EditionError(f"{self.docname}: el rol {{{name}}} no tiene traducción")

    def _glue(self, content: str) -> str:
        key, _, fmt = content.partition(":")
        if "::" in content:
            raise EditionError(f"{self.docname}: glue de otra página ({content!r}) sin traducción")
        if key not in self.glue:
            raise EditionError(
                f"{self.docname}: la cifra {key!r} no está en el cuaderno ejecutado "
                "(¿falta glue en una celda, o hay que ejecutar make book?)"
            )
        value = self.format_glue(self.glue[key], fmt)
        self.glued[key] = value
        self.counts["glue"] += 1
        return escape_markdown(value)

    def _cite(self, content: str, textual: bool) -> str:
        parts = []
        for key in (k.strip() for k in content.split(",")):
            if key not in self.site.citations:
                raise EditionError(f"{self.docname}: la cita {key!r} no está en references.bib")
            authors, year = self.site.citations[key]
            url = self.site.page_url(self.site.bibliography_doc, f"cite-{make_id(key)}")
            parts.append(f"[{authors} ({year})]({url})" if textual else f"[{authors}, {year}]({url})")
        return ", ".join(parts) if textual else "(" + "; ".join(parts) + ")"

    def _docname(self, target: str) -> str:
        if target.startswith("/"):
            return target.lstrip("/").removesuffix(".md").removesuffix(".ipynb")
        parts: list[str] = []
        for part in (PurePosixPath(self.docname).parent / target).parts:
            if part == "..":
                parts.pop()
            elif part != ".":
                parts.append(part)
        return "/".join(parts).removesuffix(".md").removesuffix(".ipynb")

    def _target(self, label: str, role: str) -> Target:
        target = self.site.targets.get(label)
        if target is None or (role == "eq" and target.number is None):
            raise EditionError(f"{self.docname}: {{{role}}} a una etiqueta que no existe: {label!r}")
        return target


def _quote(text: str) -> str:
    """``text`` como cita de Markdown (``> `` delante de cada línea)."""
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.strip().splitlines())


def _title_target(content: str) -> tuple[str, str]:
    match = _TITLE_TARGET.match(content)
    return (match.group("title").strip(), match.group("target").strip()) if match else ("", content)


def _flexible(content: str) -> str:
    """Patrón de ``content`` que admite cualquier espacio (o salto de línea) entre palabras."""
    return r"\s+".join(re.escape(word) for word in content.split())


def _find(text: str, begin: int, end: int, pattern: str) -> re.Match | None:
    return re.compile(pattern).search(text, begin, end)
