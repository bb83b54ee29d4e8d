"""Línea de órdenes de las tareas: ``python -m transformer_lib.tareas ORDEN …``.

- ``comprobar CUADERNO.ipynb …``: ejecuta cada cuaderno en un kernel nuevo, comprueba sus
  ejercicios e imprime un informe en español. Sale con 0 solo si todo está bien (1 si
  algo falla o está sin resolver; 2 si el cuaderno no se pudo ejecutar).
- ``lista``: las tareas, sus ejercicios y sus puntos.

Las órdenes del profesorado (generar las versiones del estudiante y las plantillas de GitHub
Classroom) no se instalan con la biblioteca: están en ``python -m coursetools.homework``,
dentro del repositorio del curso.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..cli import SpanishArgumentParser
from .catalog import TASKS

PROG = "python -m transformer_lib.tareas"


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Conserva los saltos de línea de los ejemplos y pone «uso:» en español."""

    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, prefix="uso: " if prefix is None else prefix)


def build_parser() -> SpanishArgumentParser:
    """El analizador de ``python -m transformer_lib.tareas`` (ayuda y errores en español)."""
    parser = SpanishArgumentParser(
        prog=PROG,
        formatter_class=_HelpFormatter,
        description="Tareas del curso «Transformers II» con corrección automática.",
        epilog=(
            "Ejemplos:\n"
            f"  {PROG} comprobar chapters/tareas/tarea_01_atencion.ipynb\n"
            f"  {PROG} comprobar tarea_03_bloque_gpt.ipynb --ejercicio gpt \\\n"
            "      --cache /tmp/tareas\n"
            f"  {PROG} lista\n"
        ),
    )
    sub = parser.add_subparsers(dest="command", title="órdenes", metavar="ORDEN",
                                parser_class=SpanishArgumentParser)
    sub.required = True

    check = sub.add_parser("comprobar", help="ejecuta y califica uno o varios cuadernos",
                           formatter_class=_HelpFormatter,
                           description="Ejecuta cada cuaderno en un kernel nuevo y comprueba sus ejercicios.")
    check.add_argument("notebooks", nargs="+", metavar="CUADERNO", type=Path, help="cuaderno .ipynb de una tarea")
    check.add_argument("--tarea", dest="task", choices=sorted(TASKS), metavar="TAREA",
                       help="id de la tarea (por defecto, se deduce del cuaderno); ver la orden «lista»")
    check.add_argument("--ejercicio", dest="exercise", metavar="ID",
                       help="califica solo este ejercicio (sale con 0 si está bien); ver la orden «lista»")
    check.add_argument("--grupo", dest="group", metavar="ID",
                       help="con --ejercicio, califica solo este grupo de pruebas (sale con 0 si gana sus "
                            "puntos); ver la orden «lista»")
    check.add_argument("--tiempo-limite", dest="time_limit", type=float, default=900.0, metavar="S",
                       help="segundos para ejecutar cada cuaderno entero (por defecto, 900)")
    check.add_argument("--datos", dest="data", metavar="CARPETA",
                       help="carpeta con pg2000.txt (el Quijote); se pasa al cuaderno como TRANSFORMER_LIB_DATA")
    check.add_argument("--cache", dest="cache", metavar="CARPETA",
                       help="reutiliza la calificación de un cuaderno idéntico guardada en esta carpeta")
    check.add_argument("--json", dest="json", metavar="ARCHIVO", type=Path,
                       help="guarda también el resultado en JSON")
    check.add_argument("--semilla", dest="seed", type=int, metavar="N",
                       help="semilla de las pruebas ocultas (por defecto, una nueva cada vez; el informe "
                            "dice cuál se usó, para repetir la misma calificación)")
    check.set_defaults(run=_run_check)

    listing = sub.add_parser("lista", help="muestra las tareas, sus ejercicios y sus puntos",
                             description="Muestra las tareas, sus ejercicios y sus puntos.")
    listing.set_defaults(run=_run_list)
    return parser


def _run_check(args: argparse.Namespace) -> int:
    try:
        import nbclient  # noqa: F401
        import nbformat  # noqa: F401
    except ImportError as err:
        print(f"Falta {err.name}: el calificador necesita el extra «tareas». Instálalo con "
              "`pip install \"transformer_lib[tareas] @ git+URL_DEL_CURSO\"` (o `pip install -e \".[tareas]\"` "
              "en el repositorio).", file=sys.stderr)
        return 2
    from .grader import exit_status, grade

    if args.exercise is not None:
        tasks = [TASKS[args.task]] if args.task else list(TASKS.values())
        if not any(e.id == args.exercise for t in tasks for e in t.exercises):
            valid = ", ".join(e.id for t in tasks for e in t.exercises)
            print(f"No conozco el ejercicio {args.exercise!r}; los ejercicios son: {valid}.", file=sys.stderr)
            return 2
    if args.group is not None:
        if args.exercise is None:
            print(f"--grupo {args.group} necesita --ejercicio: los grupos son de un ejercicio.", file=sys.stderr)
            return 2
        groups = {g.id for t in tasks for e in t.exercises if e.id == args.exercise for g in e.spec.score_groups}
        if args.group not in groups:
            print(f"El ejercicio {args.exercise} no tiene el grupo {args.group!r}; sus grupos son: "
                  f"{', '.join(sorted(groups))}.", file=sys.stderr)
            return 2
    grades = []
    for path in args.notebooks:
        print(f"Ejecutando {path} en un kernel nuevo…", file=sys.stderr, flush=True)
        graded = grade(path, args.task, args.time_limit, args.data, args.cache, args.seed)
        grades.append(graded)
        print(graded.text(args.exercise, args.group))
        print()
    if args.json is not None:
        args.json.write_text(json.dumps([g.to_dict() for g in grades], ensure_ascii=False, indent=1),
                             encoding="utf-8")
    return exit_status(grades, args.exercise, args.group)


def _run_list(args: argparse.Namespace) -> int:
    for t in TASKS.values():
        print(f"{t.id}: {t.title} ({t.points:g} puntos)")
        for e in t.exercises:
            print(f"  {e.id:<16} {e.title:<32} {e.points:g} puntos  (nombres: {', '.join(e.names)})")
            for g in e.spec.score_groups:
                print(f"    grupo {g.id:<18} {g.points:g} puntos: {g.name}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Punto de entrada; devuelve el código de salida."""
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
