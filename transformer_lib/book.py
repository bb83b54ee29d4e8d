"""Cifras calculadas en un cuaderno que la prosa del libro cita con ``{glue:text}``.

Un cuaderno guarda una cifra con :func:`glue` y el texto la cita con
``{glue:text}`nombre```. Una sola llamada sirve en los tres sitios donde se lee el cuaderno:

- **en el libro** (Jupyter Book, myst-nb), la cifra queda guardada para la prosa y la
  celda no enseña nada;
- **en Jupyter o en Colab**, la celda enseña ``nombre: texto``, y la edición de Colab
  (``tools/build_editions.py``) ya trae la cifra escrita en la prosa;
- **fuera de un núcleo de IPython** (un guion), se imprime ``nombre: texto``.

La salida es el registro de myst-nb (metadato ``scrapbook`` y tipos MIME con el prefijo
``application/papermill.record/``) más un ``text/plain`` que enseñan Jupyter y Colab: myst-nb
toma el registro y oculta la salida. No hace falta tener myst-nb instalado.
"""

from __future__ import annotations

import math

__all__ = ["GLUE_PREFIX", "format_number", "glue", "glue_output"]

#: Prefijo de los tipos MIME de una cifra guardada y oculta (el de ``myst_nb.glue``).
GLUE_PREFIX = "application/papermill.record/"


def format_number(value: float, digits: int = 2) -> str:
    """Un número con coma decimal, como lo escribe la prosa: ``format_number(2.154) == "2,15"``.

    Parámetros:
        value: el número.
        digits: cifras decimales (``0`` para un entero redondeado).

    Devuelve:
        El texto; «—» si ``value`` es NaN (una cifra que no se pudo calcular).
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"format_number espera un número, no {value!r} ({type(value).__name__}).")
    if not isinstance(digits, int) or isinstance(digits, bool) or digits < 0:
        raise ValueError(f"digits debe ser un entero >= 0, no {digits!r}.")
    if math.isnan(value):
        return "—"
    return f"{value:.{digits}f}".replace(".", ",")


def glue(name: str, value: str | int | float, digits: int | None = None, display: bool = True) -> str:
    """Guarda ``value`` como texto para citarlo en la prosa con ``{glue:text}`name```.

    Parámetros:
        name: nombre de la cifra (letras, cifras y ``_``), único en el cuaderno.
        value: un texto (se cita tal cual), un entero o un número con ``digits``.
        digits: cifras decimales de un número (con coma decimal, ver :func:`format_number`);
            obligatorio si ``value`` es un ``float``.
        display: si es ``True``, fuera del libro la celda enseña ``name: texto``; con
            ``False`` no enseña nada en ningún sitio.

    Devuelve:
        El texto guardado, el mismo que lee la prosa.
    """
    text, record, metadata = glue_output(name, value, digits, display)
    try:
        from IPython.core.interactiveshell import InteractiveShell
        from IPython.display import display as ipython_display
    except ImportError:
        InteractiveShell = None
    if InteractiveShell is not None and InteractiveShell.initialized():
        ipython_display(record, raw=True, metadata=metadata)
    elif display:
        print(f"{name}: {text}")
    return text


def glue_output(
    name: str, value: str | int | float, digits: int | None = None, display: bool = True
) -> tuple[str, dict[str, str], dict[str, dict[str, str]]]:
    """La salida que escribe :func:`glue` en el cuaderno, sin escribirla.

    Parámetros:
        name, value, digits, display: como en :func:`glue`.

    Devuelve:
        ``(texto, datos, metadatos)``: los datos y metadatos de la salida ``display_data``.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(
            f"El nombre de la cifra debe ser un identificador (letras, cifras y _), no {name!r}."
        )
    text = _as_text(name, value, digits)
    # myst-nb quita las comillas del text/plain con literal_eval: repr(text) llega intacto.
    record = {GLUE_PREFIX + "text/plain": repr(text)}
    if display:
        record["text/plain"] = f"{name}: {text}"
    return text, record, {"scrapbook": {"name": name, "mime_prefix": GLUE_PREFIX}}


def _as_text(name: str, value: object, digits: int | None) -> str:
    """El texto de ``value`` que leerá la prosa (ver :func:`glue`)."""
    if isinstance(value, str):
        if digits is not None:
            raise ValueError(f"{name}: digits solo vale para números, y {value!r} es un texto.")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(
            f"{name}: glue guarda textos y números, no {value!r} ({type(value).__name__}); "
            "conviértelo antes en el texto que debe leer la prosa."
        )
    if isinstance(value, float) and digits is None:
        raise ValueError(
            f"{name}: di cuántos decimales lleva {value!r} (digits=…), como los escribe la prosa."
        )
    return str(value) if digits is None else format_number(value, digits)
