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
from pybtex.style.template import field as campo
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


class _Catalogo(gettext.NullTranslations):
    """Catálogo en memoria que delega en otro lo que no sabe traducir."""

    def __init__(self, mensajes: dict[str, str]) -> None:
        super().__init__()
        self._mensajes = dict(mensajes)

    def gettext(self, message: str) -> str:
        if message in self._mensajes:
            return self._mensajes[message]
        if self._fallback is not None:
            return self._fallback.gettext(message)
        return message


def _instalar(catalogo: str, mensajes: dict[str, str]) -> None:
    """Pone ``mensajes`` por delante del catálogo ``catalogo`` ya cargado.

    Para los catálogos GNU se actualiza su diccionario en el sitio, porque las plantillas
    Jinja guardan una referencia al objeto traductor creado al arrancar el constructor.
    """
    traductor = get_translator(catalogo)
    if isinstance(traductor, gettext.GNUTranslations):
        traductor._catalog.update(mensajes)  # noqa: SLF001 (API estable de gettext)
        return
    nuevo = _Catalogo(mensajes)
    if type(traductor) is not gettext.NullTranslations:
        nuevo.add_fallback(traductor)
    translators["general", catalogo] = nuevo


def _al_iniciar_constructor(app: Sphinx) -> None:
    if not (app.config.language or "").startswith("es"):
        return
    _instalar("booktheme", BOOKTHEME)
    _instalar("sphinx", SPHINX)


class EtiquetasAutorAnio(BaseLabelStyle):
    """Etiquetas «Apellido, año», «A y B, año» o «A et al., año» para la lista de referencias.

    Así la bibliografía usa las mismas etiquetas que las citas del texto. Si dos entradas
    coinciden, se añaden letras: «Radford et al., 2019a», «…2019b».
    """

    def format_labels(self, sorted_entries):
        etiquetas = [self._etiqueta(e) for e in sorted_entries]
        repetidas = Counter(etiquetas)
        vistas: Counter[str] = Counter()
        for etiqueta in etiquetas:
            if repetidas[etiqueta] > 1:
                vistas[etiqueta] += 1
                # "Autor, 2019" -> "Autor, 2019a"
                yield etiqueta + "abcdefghijklmnopqrstuvwxyz"[vistas[etiqueta] - 1]
            else:
                yield etiqueta

    @staticmethod
    def _etiqueta(entrada) -> str:
        personas = entrada.persons.get("author") or entrada.persons.get("editor") or []
        apellidos = [
            Text.from_latex(" ".join(p.prelast_names + p.last_names)).render_as("text")
            for p in personas
        ]
        if not apellidos:
            autores = entrada.fields.get("key", entrada.key)
        elif len(apellidos) == 1:
            autores = apellidos[0]
        elif len(apellidos) == 2 and apellidos[1] != "others":
            autores = f"{apellidos[0]} y {apellidos[1]}"
        else:
            autores = f"{apellidos[0]} et al."
        return f"{autores}, {entrada.fields.get('year', 's. f.')}"


class EstiloBibliografiaEs(PlainStyle):
    """Estilo ``plain`` de pybtex con las palabras fijas en español («En», «y», «Volumen»…)."""

    default_label_style = "autor_anio_es"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        formatear = self.format_name

        def format_name(person, abbr=False):
            # «and others» en BibTeX: la lista de autores sigue; en español, «y otros».
            if str(person) == "others":
                return words["otros"]
            return formatear(person, abbr)

        self.format_name = format_name

    def format_names(self, role, as_sentence=True):
        nombres = names(role, sep=", ", sep2=" y ", last_sep=" y ")
        return sentence[nombres] if as_sentence else nombres

    def get_inproceedings_template(self, e):
        plantilla = super().get_inproceedings_template(e)
        return _reemplazar_palabra(plantilla, "In", "En")

    def format_volume_and_series(self, e, as_sentence=True):
        volumen = optional[
            words[
                together["Volumen" if as_sentence else "volumen", campo("volume")],
                optional[words["de", campo("series")]],
            ]
        ]
        numero = optional[
            words[
                together["Número" if as_sentence else "número", campo("number")],
                optional[words["en", campo("series")]],
            ]
        ]
        resultado = first_of[volumen, numero, optional_field("series")]
        return sentence(capfirst=True)[resultado] if as_sentence else resultado

    def get_article_template(self, e):
        plantilla = super().get_article_template(e)
        return _reemplazar_palabra(plantilla, "pages", "págs.")

    def get_techreport_template(self, e):
        plantilla = super().get_techreport_template(e)
        return _reemplazar_palabra(plantilla, "Technical Report", "Informe técnico")


def _reemplazar_palabra(nodo, antes: str, despues: str):
    """Sustituye un literal de texto dentro de una plantilla de pybtex (recursivo)."""
    hijos = getattr(nodo, "children", None)
    if hijos is None:
        return nodo
    nuevos = [despues if h == antes else _reemplazar_palabra(h, antes, despues) for h in hijos]
    nodo.children = nuevos
    return nodo


def _parentesis() -> BracketStyle:
    return BracketStyle(left="(", right=")")


def _personas() -> PersonStyle:
    return PersonStyle(sep2=" y ", last_sep=" y ")


@dataclass
class EstiloCitasEs(AuthorYearReferenceStyle):
    """Citas autor-año con paréntesis y «y» entre dos autores: «(Ba y Hinton, 2016)»."""

    bracket_parenthetical: BracketStyle = field(default_factory=_parentesis)
    bracket_textual: BracketStyle = field(default_factory=_parentesis)
    bracket_author: BracketStyle = field(default_factory=_parentesis)
    bracket_label: BracketStyle = field(default_factory=_parentesis)
    bracket_year: BracketStyle = field(default_factory=_parentesis)
    person: PersonStyle = field(default_factory=_personas)


register_plugin("pybtex.style.labels", "autor_anio_es", EtiquetasAutorAnio)
register_plugin("pybtex.style.formatting", "es", EstiloBibliografiaEs)
sphinxcontrib.bibtex.plugin.register_plugin(
    "sphinxcontrib.bibtex.style.referencing", "author_year_es", EstiloCitasEs
)


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("builder-inited", _al_iniciar_constructor)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
