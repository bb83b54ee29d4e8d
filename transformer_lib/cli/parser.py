"""El analizador de argumentos en español de las dos líneas de órdenes del paquete.

Lo usan ``python -m transformer_lib …`` (:mod:`transformer_lib.cli`) y
``python -m transformer_lib.tareas …``: ayuda con «uso:», «opciones» y «(por defecto: …)», y
errores en una sola línea con el mismo formato::

    PROGRAMA: error: MENSAJE (usa --help para ver las opciones)

:class:`SpanishArgumentParser` acepta ``formatter_class`` como ``argparse.ArgumentParser``; con
:class:`SpanishRawDescriptionHelpFormatter` la descripción y el epílogo (p. ej. una lista de
ejemplos) se muestran tal cual están escritos. Los validadores (:func:`positive_int`,
:func:`non_negative_int`, :func:`positive_float`, :func:`non_negative_float`) se pasan como
``type=`` y dan sus mensajes en español.
"""

from __future__ import annotations

import argparse
import functools
import math
import re

_ARGPARSE_ES = [
    (r"the following arguments are required: (.*)", r"faltan argumentos obligatorios: \1"),
    (r"unrecognized arguments: (.*)", r"argumentos no reconocidos: \1"),
    (r"argument (\S+): invalid choice: (.*?) \(choose from (.*)\)",
     r"argumento \1: opción no válida \2 (elige entre \3)"),
    (r"argument (\S+): invalid (\w+) value: (.*)", r"argumento \1: valor no válido \3"),
    (r"argument (\S+): expected one argument", r"argumento \1: falta su valor"),
    (r"argument (\S+): ignored explicit argument (.*)", r"argumento \1: no admite valor y recibió \2"),
    (r"argument (\S+): expected (.*)", r"argumento \1: se esperaba \2"),
    (r"argument (\S+): not allowed with argument (.*)", r"argumento \1: no se puede usar junto con \2"),
    (r"ambiguous option: (\S+) could match (.*)", r"opción ambigua: \1 puede ser \2"),
    (r"argument (\S+): (.*)", r"argumento \1: \2"),
]


def _translate(message: str) -> str:
    """Traduce al español los mensajes de error propios de argparse."""
    for pattern, repl in _ARGPARSE_ES:
        if re.fullmatch(pattern, message, flags=re.S):
            return re.sub(pattern, repl, message, flags=re.S)
    return message


class SpanishHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Formateador de ayuda con «uso:» en lugar de «usage:» y «(por defecto: …)».

    No añade el valor por defecto si la ayuda ya lo explica («por defecto» en el texto), si es
    None o vacío, o si la opción es un interruptor ``store_true``/``store_false``; en las opciones
    ``--x/--no-x`` lo escribe como «sí» o «no».
    """

    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, prefix="uso: " if prefix is None else prefix)

    def _get_help_string(self, action):
        text = action.help or ""
        if "%(default)" in text or "por defecto" in text or action.default in (None, "", argparse.SUPPRESS):
            return text
        if isinstance(action, argparse.BooleanOptionalAction):
            return text + (" (por defecto: sí)" if action.default else " (por defecto: no)")
        if isinstance(action.default, bool):
            return text
        if action.option_strings or action.nargs in (argparse.OPTIONAL, argparse.ZERO_OR_MORE):
            text += " (por defecto: %(default)s)"
        return text


class SpanishRawDescriptionHelpFormatter(SpanishHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Como :class:`SpanishHelpFormatter`, pero respeta los saltos de línea de la descripción y
    del epílogo (para listas de ejemplos)."""


class SpanishArgumentParser(argparse.ArgumentParser):
    """``ArgumentParser`` con ayuda en español y errores en una sola línea.

    Acepta los mismos argumentos que ``argparse.ArgumentParser``; ``formatter_class`` es
    :class:`SpanishHelpFormatter` si no se da otro. La opción ``-h/--help`` siempre está
    (con su ayuda en español). Los subanalizadores de :meth:`add_subparsers` son también
    ``SpanishArgumentParser`` y heredan el ``formatter_class``.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", SpanishHelpFormatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "argumentos posicionales"
        self._optionals.title = "opciones"
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                          help="muestra esta ayuda y termina")

    def add_subparsers(self, **kwargs):
        """Como en argparse; sin ``parser_class``, los subanalizadores son de esta misma clase y
        usan el ``formatter_class`` de este analizador."""
        kwargs.setdefault("parser_class", functools.partial(type(self), formatter_class=self.formatter_class))
        return super().add_subparsers(**kwargs)

    def error(self, message: str):
        """Termina con código 2 y una sola línea de error en español."""
        self.exit(2, f"{self.prog}: error: {_translate(message)} (usa --help para ver las opciones)\n")


def _int_at_least(text: str, minimum: int, what: str) -> int:
    """Convierte ``text`` en un entero >= ``minimum``; si no, un error de argparse con ``what``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"se esperaba {what} y recibí {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"se esperaba {what} y recibí {value}")
    return value


def positive_int(text: str) -> int:
    """Tipo de argparse: entero mayor que cero."""
    return _int_at_least(text, 1, "un entero positivo")


def non_negative_int(text: str) -> int:
    """Tipo de argparse: entero mayor o igual que cero."""
    return _int_at_least(text, 0, "un entero >= 0")


def non_negative_float(text: str) -> float:
    """Tipo de argparse: número real finito mayor o igual que cero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"se esperaba un número y recibí {text!r}") from None
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"se esperaba un número finito >= 0 y recibí {text!r}")
    return value


def positive_float(text: str) -> float:
    """Tipo de argparse: número real finito mayor que cero."""
    value = non_negative_float(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"se esperaba un número positivo y recibí {text!r}")
    return value
