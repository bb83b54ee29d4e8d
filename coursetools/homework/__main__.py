"""Órdenes del profesorado: ``python -m coursetools.homework ORDEN …``.

- ``generar``: escribe las versiones del estudiante a partir de los cuadernos con solución y
  los flujos de GitHub Classroom (con ``--comprobar``, solo verifica que estén al día y sin fugas).
- ``plantilla TAREA CARPETA``: crea el repositorio plantilla de GitHub Classroom de una tarea.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from transformer_lib.cli import SpanishArgumentParser
from transformer_lib.tareas.catalog import TASKS

from .notebooks import CLASSROOM, COMMAND, SOURCE, TARGET


def build_parser() -> SpanishArgumentParser:
    """El analizador de ``python -m coursetools.homework`` (ayuda y errores en español)."""
    parser = SpanishArgumentParser(
        prog=COMMAND,
        description="Herramientas del profesorado para las tareas: versiones del estudiante y "
                    "plantillas de GitHub Classroom.",
    )
    sub = parser.add_subparsers(dest="command", title="órdenes", metavar="ORDEN",
                                parser_class=SpanishArgumentParser)
    sub.required = True

    gen = sub.add_parser("generar", help="genera las versiones del estudiante y los flujos de Classroom",
                         description="Escribe las versiones del estudiante a partir de los cuadernos con "
                                     "solución, y los flujos de GitHub Classroom.")
    gen.add_argument("--fuente", dest="source", default=str(SOURCE), metavar="CARPETA",
                     help="carpeta con los cuadernos del profesor")
    gen.add_argument("--destino", dest="target", default=str(TARGET), metavar="CARPETA",
                     help="carpeta de las versiones del estudiante")
    gen.add_argument("--classroom", dest="classroom", default=str(CLASSROOM), metavar="CARPETA",
                     help="carpeta de los flujos de GitHub Classroom")
    gen.add_argument("--comprobar", dest="check_only", action="store_true",
                     help="no escribe nada: sale con 1 si alguna versión está desactualizada o filtra la solución")
    gen.set_defaults(run=_run_generate)

    tpl = sub.add_parser("plantilla", help="crea el repositorio plantilla de GitHub Classroom de una tarea",
                         description="Crea una carpeta lista para subir como repositorio plantilla de GitHub "
                                     "Classroom: el cuaderno del estudiante, el flujo de calificación y un README.")
    tpl.add_argument("task", choices=sorted(TASKS), metavar="TAREA",
                     help="id de la tarea (ver `python -m transformer_lib.tareas lista`)")
    tpl.add_argument("target", type=Path, metavar="CARPETA", help="carpeta nueva donde crear la plantilla")
    tpl.add_argument("--cuadernos", dest="notebooks", default=str(TARGET), metavar="CARPETA",
                     help="carpeta de las versiones del estudiante")
    tpl.set_defaults(run=_run_template)
    return parser


def _run_generate(args: argparse.Namespace) -> int:
    from .notebooks import generate, problems

    try:
        if args.check_only:
            found = problems(args.source, args.target, args.classroom)
            for p in found:
                print("✗ " + p)
            if not found:
                print("✓ Las versiones del estudiante están al día y no contienen soluciones.")
            return 1 if found else 0
        for path in generate(args.source, args.target, args.classroom):
            print(f"✓ {path}")
    except (FileNotFoundError, ValueError) as err:
        print(f"Error: {err}", file=sys.stderr)
        return 2
    return 0


def _run_template(args: argparse.Namespace) -> int:
    from .classroom import create_template

    try:
        for path in create_template(args.task, args.target, args.notebooks):
            print(f"✓ {path}")
    except (FileNotFoundError, FileExistsError, ValueError) as err:
        print(f"Error: {err}", file=sys.stderr)
        return 2
    print(f"Sube {args.target} a un repositorio nuevo, márcalo como plantilla y úsalo en la tarea de Classroom.")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Punto de entrada; devuelve el código de salida."""
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
