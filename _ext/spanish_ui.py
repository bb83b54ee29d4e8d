"""Traducciones al español de la interfaz del libro que los temas dejan en inglés.

Incluye también los estilos bibliográficos en español (``es`` para la lista de referencias
y ``author_year_es`` para las citas en el texto: «Vaswani y Shazeer (2017)»).

Extensión local de Sphinx (la carga ``_config.yml`` con ``sphinx.local_extensions``).
sphinx-book-theme 1.3, pydata-sphinx-theme 0.17 y Sphinx 7.4 traen catálogos en español,
pero les faltan cadenas (los botones de repositorio y de Colab, los enlaces permanentes…)
y algunas traducciones son poco naturales («Tema abierto» para *open issue*). Aquí se
completan y corrigen esas cadenas en los catálogos ya cargados, antes de escribir el HTML.

Si actualizas el tema, reconstruye el libro y busca restos en inglés en el HTML
(``tests/test_book.py`` lo hace con los textos más visibles).
"""

from __future__ import annotations

import gettext
from collections import Counter
from dataclasses import dataclass, field

import sphinxcontrib.bibtex.plugin
from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.template import field as template_field
from pybtex.style.template import (
    first_of,
    names,
    optional,
    optional_field,
    sentence,
    together,
    words,
)
from sphinx.application import Sphinx
from sphinx.locale import get_translator, translators
from sphinxcontrib.bibtex.style.referencing import BracketStyle, PersonStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

#: Catálogo ``booktheme`` (sphinx-book-theme): botones de la cabecera y barra lateral.
BOOKTHEME: dict[str, str] = {
    "Launch on": "Abrir en",
    "Launch": "Abrir",
    "Launch interactive content": "Abrir en un entorno interactivo",
    "Live Code": "Código en vivo",
    "Launch Thebe": "Activar Thebe",
    "logo": "(logotipo)",
    "Repository": "Repositorio",
    "repository": "repositorio",
    "Source repository": "Repositorio del curso",
    "Source repositories": "Repositorio del curso",
    "Suggest edit": "Sugerir un cambio",
    "suggest edit": "sugerir un cambio",
    "Edit this page": "Editar esta página",
    "Open issue": "Abrir una incidencia",
    "open issue": "abrir una incidencia",
    "Open an issue": "Abrir una incidencia",
    "Download this page": "Descargar esta página",
    "Download source file": "Descargar el archivo fuente",
    "Download notebook file": "Descargar el cuaderno",
    "Print to PDF": "Imprimir en PDF",
    "Fullscreen mode": "Pantalla completa",
    "Contents": "Contenido",
    "Search": "Buscar",
    "Toggle navigation": "Mostrar u ocultar la navegación",
    "previous page": "página anterior",
    "next page": "página siguiente",
    "Last updated on": "Última actualización:",
    "By": "Por",
    "By the": "Por",
    "Copyright": "Derechos de autor",
    "Theme by the": "Tema de",
}

#: Catálogo ``sphinx`` (Sphinx y las plantillas de pydata-sphinx-theme).
SPHINX: dict[str, str] = {
    "Link to this heading": "Enlace a esta sección",
    "Link to this equation": "Enlace a esta ecuación",
    "Link to this definition": "Enlace a esta definición",
    "Link to this term": "Enlace a este término",
    "Link to this table": "Enlace a esta tabla",
    "Link to this code": "Enlace a este código",
    "Link to this image": "Enlace a esta imagen",
    "Link to this toctree": "Enlace a este índice",
    "Search": "Buscar",
    "Copyright": "Derechos de autor",
    "Back to top": "Volver arriba",
    "© Copyright %(copyright)s.": "© %(copyright)s.",
}


class _Catalog(gettext.NullTranslations):
    """Catálogo en memoria que delega en otro lo que no sabe traducir."""

    def __init__(self, messages: dict[str, str]) -> None:
        super().__init__()
        self._messages = dict(messages)

    def gettext(self, message: str) -> str:
        if message in self._messages:
            return self._messages[message]
        if self._fallback is not None:
            return self._fallback.gettext(message)
        return message


def _install(catalog: str, messages: dict[str, str]) -> None:
    """Pone ``mensajes`` por delante del catálogo ``catalogo`` ya cargado.

    Para los catálogos GNU se actualiza su diccionario en el sitio, porque las plantillas
    Jinja guardan una referencia al objeto traductor creado al arrancar el constructor.
    """
    translator = get_translator(catalog)
    if isinstance(translator, gettext.GNUTranslations):
        translator._catalog.update(messages)  # noqa: SLF001 (API estable de gettext)
        return
    new = _Catalog(messages)
    if type(translator) is not gettext.NullTranslations:
        new.add_fallback(translator)
    translators["general", catalog] = new


def _on_builder_inited(app: Sphinx) -> None:
    if not (app.config.language or "").startswith("es"):
        return
    _install("booktheme", BOOKTHEME)
    _install("sphinx", SPHINX)


class AuthorYearLabels(BaseLabelStyle):
    """Etiquetas «Apellido, año», «A y B, año» o «A et al., año» para la lista de referencias.

    Así la bibliografía usa las mismas etiquetas que las citas del texto. Si dos entradas
    coinciden, se añaden letras: «Radford et al., 2019a», «…2019b».
    """

    def format_labels(self, sorted_entries):
        labels = [self._label(e) for e in sorted_entries]
        repeated = Counter(labels)
        seen: Counter[str] = Counter()
        for label in labels:
            if repeated[label] > 1:
                seen[label] += 1
                # "Autor, 2019" -> "Autor, 2019a"
                yield label + "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
            else:
                yield label

    @staticmethod
    def _label(entry) -> str:
        persons = entry.persons.get("author") or entry.persons.get("editor") or []
        surnames = [
            Text.from_latex(" ".join(p.prelast_names + p.last_names)).render_as("text")
            for p in persons
        ]
        if not surnames:
            authors = entry.fields.get("key", entry.key)
        elif len(surnames) == 1:
            authors = surnames[0]
        elif len(surnames) == 2 and surnames[1] != "others":
            authors = f"{surnames[0]} y {surnames[1]}"
        else:
            authors = f"{surnames[0]} et al."
        return f"{authors}, {entry.fields.get('year', 's. f.')}"


class SpanishBibliographyStyle(PlainStyle):
    """Estilo ``plain`` de pybtex con las palabras fijas en español («En», «y», «Volumen»…)."""

    default_label_style = "autor_anio_es"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        base_format_name = self.format_name

        def format_name(person, abbr=False):
            # «and others» en BibTeX: la lista de autores sigue; en español, «y otros».
            if str(person) == "others":
                return words["otros"]
            return base_format_name(person, abbr)

        self.format_name = format_name

    def format_names(self, role, as_sentence=True):
        name_list = names(role, sep=", ", sep2=" y ", last_sep=" y ")
        return sentence[name_list] if as_sentence else name_list

    def get_inproceedings_template(self, e):
        template = super().get_inproceedings_template(e)
        return _replace_word(template, "In", "En")

    def format_volume_and_series(self, e, as_sentence=True):
        volume = optional[
            words[
                together["Volumen" if as_sentence else "volumen", template_field("volume")],
                optional[words["de", template_field("series")]],
            ]
        ]
        number = optional[
            words[
                together["Número" if as_sentence else "número", template_field("number")],
                optional[words["en", template_field("series")]],
            ]
        ]
        result = first_of[volume, number, optional_field("series")]
        return sentence(capfirst=True)[result] if as_sentence else result

    def get_article_template(self, e):
        template = super().get_article_template(e)
        return _replace_word(template, "pages", "págs.")

    def get_techreport_template(self, e):
        template = super().get_techreport_template(e)
        return _replace_word(template, "Technical Report", "Informe técnico")


def _replace_word(node, old: str, new_word: str):
    """Sustituye un literal de texto dentro de una plantilla de pybtex (recursivo)."""
    children_ = getattr(node, "children", None)
    if children_ is None:
        return node
    new_children = [new_word if child == old else _replace_word(child, old, new_word) for child in children_]
    node.children = new_children
    return node


def _parentheses() -> BracketStyle:
    return BracketStyle(left="(", right=")")


def _persons() -> PersonStyle:
    return PersonStyle(sep2=" y ", last_sep=" y ")


@dataclass
class SpanishCitationStyle(AuthorYearReferenceStyle):
    """Citas autor-año con paréntesis y «y» entre dos autores: «(Ba y Hinton, 2016)»."""

    bracket_parenthetical: BracketStyle = field(default_factory=_parentheses)
    bracket_textual: BracketStyle = field(default_factory=_parentheses)
    bracket_author: BracketStyle = field(default_factory=_parentheses)
    bracket_label: BracketStyle = field(default_factory=_parentheses)
    bracket_year: BracketStyle = field(default_factory=_parentheses)
    person: PersonStyle = field(default_factory=_persons)


register_plugin("pybtex.style.labels", "autor_anio_es", AuthorYearLabels)
register_plugin("pybtex.style.formatting", "es", SpanishBibliographyStyle)
sphinxcontrib.bibtex.plugin.register_plugin(
    "sphinxcontrib.bibtex.style.referencing", "author_year_es", SpanishCitationStyle
)


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("builder-inited", _on_builder_inited)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
