"""Línea de órdenes: ``python -m transformer_lib <subcomando> ...`` (ayuda y errores en español).

Subcomandos, uno por módulo:

- ``train`` (:mod:`~transformer_lib.cli.train`): entrena un GPT de caracteres sobre el
  Quijote, guarda el checkpoint y escribe como última línea un objeto JSON con el resumen.
- ``generate`` (:mod:`~transformer_lib.cli.generate`): carga un checkpoint y continúa un texto.
- ``sweep`` (:mod:`~transformer_lib.cli.sweep`): barrido de tamaños del capítulo 9
  (también ``python -m transformer_lib.scaling sweep``).
- ``forecast`` (:mod:`~transformer_lib.cli.forecast`): el pronóstico de un entrenamiento mayor
  y su verificación (capítulo 10).

``train`` y ``sweep`` comparten la receta de entrenamiento (:mod:`~transformer_lib.cli.recipe`):
las mismas opciones, con los valores por defecto de ``TrainConfig`` y ``GPTConfig``. El
analizador en español y los validadores están en :mod:`~transformer_lib.cli.parser`.

Cómo añadir un subcomando: escribe dos funciones, ``add_arguments(parser)`` (declara las
opciones con ``parser.add_argument``, con ayuda en español) y ``run(args) -> int`` (hace el
trabajo y devuelve el código de salida), y regístralas::

    register_subcommand("nombre", "qué hace, en una línea", add_arguments, run)

``run`` recibe en ``args._argv`` los argumentos con que se llamó a :func:`main` y en
``args._prog`` el nombre del programa. Los errores esperables (``ValueError``, ``TypeError``,
``FileNotFoundError``, los de :mod:`transformer_lib.files`…) que lance ``run`` se muestran como
una sola línea ``PROGRAMA SUBCOMANDO: error: …`` con código de salida 1, sin traza; la opción
``--debug`` (antes o después del subcomando) o la variable de entorno
``TRANSFORMER_LIB_DEBUG=1`` muestran además la traza completa.

``run`` se ejecuta con SIGTERM convertida en excepción
(:func:`~transformer_lib.files.signals_as_exceptions`), así que un ``kill`` o Ctrl-C a mitad de
guardar recorren los ``finally`` y no dejan temporales: Ctrl-C termina con código 130 y
SIGTERM con 143 (128 + número de la señal, como en la shell), cada uno con su línea en español.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..files import Terminated, signals_as_exceptions
from . import forecast, generate, sweep, train
from .parser import (
    SpanishArgumentParser,
    SpanishHelpFormatter,
    SpanishRawDescriptionHelpFormatter,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
)

__all__ = [
    "PROG",
    "SpanishArgumentParser",
    "SpanishHelpFormatter",
    "SpanishRawDescriptionHelpFormatter",
    "positive_int",
    "non_negative_int",
    "positive_float",
    "non_negative_float",
    "Subcommand",
    "SUBCOMMANDS",
    "register_subcommand",
    "build_parser",
    "main",
]

PROG = "python -m transformer_lib"
_DEBUG_HELP = "si algo falla, muestra también la traza completa (para informar de un error)"


@dataclass
class Subcommand:
    """Un subcomando: nombre, ayuda de una línea, declarador de opciones y función que lo ejecuta."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


SUBCOMMANDS: dict[str, Subcommand] = {}


def register_subcommand(
    name: str,
    help: str,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace], int],
) -> None:
    """Registra un subcomando de ``python -m transformer_lib`` (ver la cabecera del módulo).

    Parámetros:
        name: nombre del subcomando.
        help: ayuda de una línea, en español.
        add_arguments: declara sus opciones en el analizador del subcomando.
        run: lo ejecuta con los argumentos leídos y devuelve el código de salida.
    """
    if name in SUBCOMMANDS:
        raise ValueError(f"Ya hay un subcomando llamado {name!r}.")
    SUBCOMMANDS[name] = Subcommand(name, help, add_arguments, run)


def build_parser(prog: str = PROG) -> SpanishArgumentParser:
    """Construye el analizador con todos los subcomandos registrados.

    Parámetros:
        prog: nombre del programa en la ayuda y en los errores.
    """
    parser = SpanishArgumentParser(
        prog=prog,
        description="transformer_lib: entrena y usa los modelos del curso «Transformers II».",
    )
    parser.add_argument("--debug", action="store_true", help=_DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", title="subcomandos", metavar="SUBCOMANDO")
    sub.required = True
    for cmd in SUBCOMMANDS.values():
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        cmd.add_arguments(p)
        # También detrás del subcomando; SUPPRESS: si no se da, vale lo de antes del subcomando.
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=_DEBUG_HELP)
        p.set_defaults(_run=cmd.run)
    return parser


def main(argv: Sequence[str] | None = None, prog: str = PROG) -> int:
    """Punto de entrada: analiza ``argv``, ejecuta el subcomando y devuelve el código de salida.

    Parámetros:
        argv: los argumentos (sin el programa); None = ``sys.argv[1:]``.
        prog: nombre del programa, p. ej. ``"python -m transformer_lib.scaling"``.

    Devuelve:
        0 si todo fue bien, 1 si el subcomando falló, 130 si se interrumpió con Ctrl-C y 143 si
        se terminó con SIGTERM (los errores en los argumentos terminan con ``SystemExit(2)``).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(prog).parse_args(argv)
    args._argv, args._prog = argv, prog
    debug = args.debug or bool(os.environ.get("TRANSFORMER_LIB_DEBUG"))
    where = f"{prog} {args.command}"
    try:
        with signals_as_exceptions():
            return int(args._run(args) or 0)
    except KeyboardInterrupt as err:
        return _fail(where, err, debug, 130, "interrumpido con Ctrl-C; no ha quedado nada a medio escribir")
    except Terminated as err:
        return _fail(where, err, debug, 143, "terminado por una señal SIGTERM; no ha quedado nada a medio escribir")
    except Exception as err:  # un error de usuario no debe acabar en una traza
        return _fail(where, err, debug, 1, " ".join(str(err).split()) or type(err).__name__)


def _fail(where: str, err: BaseException, debug: bool, code: int, message: str) -> int:
    """Escribe la línea de error (y, con ``debug``, antes la traza) y devuelve el código de salida."""
    if debug:
        traceback.print_exception(err)
    print(f"{where}: error: {message}", file=sys.stderr)
    return code


register_subcommand("train", train.HELP, train.add_arguments, train.run)
register_subcommand("generate", generate.HELP, generate.add_arguments, generate.run)
register_subcommand("sweep", sweep.HELP, sweep.add_arguments, sweep.run)
register_subcommand("forecast", forecast.HELP, forecast.add_arguments, forecast.run)
