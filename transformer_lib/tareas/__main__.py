"""Línea de órdenes de las tareas: ``python -m transformer_lib.tareas ORDEN …``.

- ``comprobar CUADERNO.ipynb …``: ejecuta cada cuaderno en un kernel nuevo, comprueba sus
  ejercicios e imprime un informe en español. Sale con 0 solo si todo está bien (1 si
  algo falla o está sin resolver; 2 si el cuaderno no se pudo ejecutar).
- ``generar``: escribe las versiones del estudiante a partir de los cuadernos con solución
  (con ``--comprobar``, solo verifica que estén al día y sin fugas).
- ``plantilla TAREA CARPETA``: crea el repositorio plantilla de GitHub Classroom de una tarea.
- ``lista``: las tareas, sus ejercicios y sus puntos.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .catalogo import TAREAS


class _Formato(argparse.RawDescriptionHelpFormatter):
    """Formato de ayuda con los rótulos en español."""

    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, prefix="uso: " if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """ArgumentParser con ayuda y errores en español."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formato)
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        self._positionals.title = "argumentos"
        self._optionals.title = "opciones"
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                          help="muestra esta ayuda y termina")

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error en los argumentos ({message}). Usa --help para ver la ayuda.\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m transformer_lib.tareas",
        description="Tareas del curso «Transformers II» con corrección automática.",
        epilog=(
            "Ejemplos:\n"
            "  python -m transformer_lib.tareas comprobar chapters/tareas/tarea_01_atencion.ipynb\n"
            "  python -m transformer_lib.tareas comprobar tarea_03_bloque_gpt.ipynb --ejercicio gpt \\\n"
            "      --cache /tmp/tareas\n"
            "  python -m transformer_lib.tareas generar\n"
        ),
    )
    sub = p.add_subparsers(dest="orden", metavar="ORDEN", parser_class=_Parser)
    sub.required = True

    c = sub.add_parser("comprobar", help="ejecuta y califica uno o varios cuadernos",
                       description="Ejecuta cada cuaderno en un kernel nuevo y comprueba sus ejercicios.")
    c.add_argument("cuadernos", nargs="+", metavar="CUADERNO", type=Path, help="cuaderno .ipynb de una tarea")
    c.add_argument("--tarea", choices=sorted(TAREAS), metavar="TAREA",
                   help="id de la tarea (por defecto, se deduce del cuaderno); ver la orden «lista»")
    c.add_argument("--ejercicio", metavar="ID",
                   help="califica solo este ejercicio (sale con 0 si está bien); ver la orden «lista»")
    c.add_argument("--tiempo-limite", type=float, default=900.0, metavar="S",
                   help="segundos para ejecutar cada cuaderno entero (por defecto, 900)")
    c.add_argument("--datos", metavar="CARPETA",
                   help="carpeta con pg2000.txt (el Quijote); se pasa al cuaderno como TRANSFORMER_LIB_DATA")
    c.add_argument("--cache", metavar="CARPETA",
                   help="reutiliza la calificación de un cuaderno idéntico guardada en esta carpeta")
    c.add_argument("--json", metavar="ARCHIVO", type=Path, help="guarda también el resultado en JSON")

    g = sub.add_parser("generar", help="genera las versiones del estudiante",
                       description="Escribe las versiones del estudiante a partir de los cuadernos con solución.")
    g.add_argument("--fuente", default="instructor/tareas", metavar="CARPETA",
                   help="carpeta con los cuadernos del profesor (por defecto, instructor/tareas)")
    g.add_argument("--destino", default="chapters/tareas", metavar="CARPETA",
                   help="carpeta de las versiones del estudiante (por defecto, chapters/tareas)")
    g.add_argument("--classroom", default=".github/classroom", metavar="CARPETA",
                   help="carpeta de los flujos de GitHub Classroom (por defecto, .github/classroom)")
    g.add_argument("--comprobar", action="store_true",
                   help="no escribe nada: sale con 1 si alguna versión está desactualizada o filtra la solución")

    pl = sub.add_parser("plantilla", help="crea el repositorio plantilla de GitHub Classroom de una tarea",
                        description="Crea una carpeta lista para subir como repositorio plantilla de GitHub "
                                    "Classroom: el cuaderno del estudiante, el flujo de calificación y un README.")
    pl.add_argument("tarea", choices=sorted(TAREAS), metavar="TAREA", help="id de la tarea (ver la orden «lista»)")
    pl.add_argument("destino", type=Path, metavar="CARPETA", help="carpeta donde crear la plantilla")
    pl.add_argument("--cuadernos", default="chapters/tareas", metavar="CARPETA",
                    help="carpeta de las versiones del estudiante (por defecto, chapters/tareas)")

    sub.add_parser("lista", help="muestra las tareas, sus ejercicios y sus puntos",
                   description="Muestra las tareas, sus ejercicios y sus puntos.")
    return p


def _comprobar(args) -> int:
    from .calificador import calificar, estado_salida

    if args.ejercicio is not None:
        tareas = [TAREAS[args.tarea]] if args.tarea else list(TAREAS.values())
        if not any(e.id == args.ejercicio for t in tareas for e in t.ejercicios):
            validos = ", ".join(e.id for t in tareas for e in t.ejercicios)
            print(f"No conozco el ejercicio {args.ejercicio!r}; los ejercicios son: {validos}.", file=sys.stderr)
            return 2
    calificaciones = []
    for ruta in args.cuadernos:
        print(f"Ejecutando {ruta} en un kernel nuevo…", file=sys.stderr, flush=True)
        cal = calificar(ruta, args.tarea, args.tiempo_limite, args.datos, args.cache)
        calificaciones.append(cal)
        print(cal.texto(args.ejercicio))
        print()
    if args.json is not None:
        args.json.write_text(json.dumps([c.to_dict() for c in calificaciones], ensure_ascii=False, indent=1),
                             encoding="utf-8")
    return estado_salida(calificaciones, args.ejercicio)


def _generar(args) -> int:
    from .generador import generar, problemas

    try:
        if args.comprobar:
            encontrados = problemas(args.fuente, args.destino, args.classroom)
            for p in encontrados:
                print("✗ " + p)
            if not encontrados:
                print("✓ Las versiones del estudiante están al día y no contienen soluciones.")
            return 1 if encontrados else 0
        for ruta in generar(args.fuente, args.destino, args.classroom):
            print(f"✓ {ruta}")
    except (FileNotFoundError, ValueError) as err:
        print(f"Error: {err}", file=sys.stderr)
        return 2
    return 0


def _plantilla(args) -> int:
    from .classroom import crear_plantilla

    try:
        for ruta in crear_plantilla(args.tarea, args.destino, args.cuadernos):
            print(f"✓ {ruta}")
    except FileNotFoundError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 2
    print(f"Sube {args.destino} a un repositorio nuevo, márcalo como plantilla y úsalo en la tarea de Classroom.")
    return 0


def _lista(args) -> int:
    for t in TAREAS.values():
        print(f"{t.id}: {t.titulo} ({t.puntos:g} puntos)")
        for e in t.ejercicios:
            print(f"  {e.id:<16} {e.titulo:<32} {e.puntos:g} puntos  (nombres: {', '.join(e.nombres)})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Punto de entrada; devuelve el código de salida."""
    args = _parser().parse_args(argv)
    ordenes = {"comprobar": _comprobar, "generar": _generar, "plantilla": _plantilla, "lista": _lista}
    return ordenes[args.orden](args)


if __name__ == "__main__":
    sys.exit(main())
