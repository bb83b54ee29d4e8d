"""Subcomando ``sweep`` (capítulo 9): entrena varios tamaños de GPT y ajusta la ley de escalado.

Las opciones de la receta son las de :mod:`transformer_lib.cli.recipe`, las mismas que las de
``train``; el tamaño de cada modelo lo da ``--sizes``. Todo barrido va por el motor reanudable
(:func:`~transformer_lib.scaling.run_grid`): sin ``--grid``, la rejilla de tamaños con la semilla
de la receta; con ``--grid size|data|isoflop``, esa rejilla de
:mod:`transformer_lib.scaling.grids`. Repetir la orden con el mismo ``--out`` continúa donde se
quedó. El JSON de resultados guarda la orden
que se ejecutó de verdad (la que recibió :func:`transformer_lib.cli.main`), la fecha, la
máquina y el commit (ver :func:`~transformer_lib.scaling.sweep_metadata`).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from fractions import Fraction

from ..files import Terminated
from ..scaling import (
    SWEEP_SIZES,
    SweepSize,
    check_grid_path,
    fit_lr_rule,
    load_sweep,
    make_grid,
    run_grid,
)
from ..training import TrainConfig
from .recipe import add_recipe_arguments, prepare_data, recipe_from_args

HELP = "entrena varios tamaños de GPT y ajusta la ley de escalado (capítulo 9)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declara las opciones de ``sweep``: la receta (sin el tamaño), ``--sizes``, ``--note``, las
    de las rejillas, ``--out`` y ``--overwrite``."""
    add_recipe_arguments(parser, model_size=False)
    g = parser.add_argument_group("barrido")
    g.add_argument("--sizes", default=None, metavar="TAMAÑOS",
                   help="tamaños como 'capas,cabezas,d_model' separados por ';', p. ej. "
                        "'2,2,32;4,4,128' (por defecto, los cinco de SWEEP_SIZES)")
    g.add_argument("--note", default="", metavar="TEXTO", help="nota libre que se guarda con los resultados")
    add_grid_arguments(g)
    g = parser.add_argument_group("salida")
    g.add_argument("--out", default=None, metavar="ARCHIVO",
                   help="archivo JSON de resultados (por defecto, results/sweep_<rejilla>.json, "
                        "el de los capítulos; sin --grid, results/sweep.json)")
    g.add_argument("--overwrite", action="store_true",
                   help="empieza de cero y reemplaza los resultados que ya haya en --out (solo si "
                        "son de un barrido: otro archivo nunca se toca); sin ella, repetir la orden "
                        "continúa donde se quedó")


def parse_sizes(text: str | None, arch: str = "gpt") -> list[SweepSize]:
    """Lee ``--sizes``: ``'capas,cabezas,d_model'`` separados por ``;`` (None = :data:`SWEEP_SIZES`).

    Parámetros:
        text: el valor de la opción.
        arch: ``"gpt"`` o ``"lstm"`` (en una LSTM las cabezas no se usan: escribe 1).

    Devuelve:
        La lista de tamaños.
    """
    if not text:
        return list(SWEEP_SIZES)
    sizes = []
    for part in text.split(";"):
        try:
            size = SweepSize(*(int(v) for v in part.split(",")), arch=arch)
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"Tamaño mal escrito {part!r}: usa 'capas,cabezas,d_model', p. ej. '4,4,128'."
            ) from err
        if min(size.n_layer, size.n_head, size.d_model) <= 0 or size.d_model % size.n_head:
            raise ValueError(f"Tamaño no válido {part!r}: los tres deben ser positivos y d_model "
                             f"divisible entre cabezas.")
        sizes.append(size)
    return sizes


def recorded_command(args: argparse.Namespace) -> str:
    """La orden tal como se ejecutó: el programa y los argumentos que recibió ``main``.

    Parámetros:
        args: los argumentos leídos por :func:`transformer_lib.cli.main`, que añade
            ``_prog`` y ``_argv``.

    Devuelve:
        P. ej. ``"python -m transformer_lib sweep --max-iters 3"``; vacía si ``args`` no
        viene de ``main``.
    """
    argv = getattr(args, "_argv", None)
    return "" if argv is None else f"{args._prog} {shlex.join(argv)}"


def run(args: argparse.Namespace) -> int:
    """Entrena los tamaños de ``--sizes`` (o la rejilla de ``--grid``) con el motor reanudable.

    Sin ``--grid`` es la rejilla de tamaños con una semilla, la de la receta (o las de
    ``--seeds``). Todo va por :func:`~transformer_lib.scaling.run_grid`: cada ejecución se
    guarda en ``--out`` al terminarla, y repetir la misma orden tras un corte continúa donde se
    quedó sin rehacer nada. Antes de cargar datos comprueba que ``--out`` se puede escribir: un
    barrido nuestro se reanuda (``--overwrite`` empieza de cero); cualquier otro archivo se
    rechaza.
    """
    if getattr(args, "out", None) is None:
        args.out = f"results/sweep_{args.grid}.json" if getattr(args, "grid", None) else "results/sweep.json"
    gpt_kwargs, config = recipe_from_args(args)  # valida antes de cargar datos o entrenar
    grid = grid_from_args(args, config)
    overwrite = getattr(args, "overwrite", False)
    check_grid_path(args.out, overwrite)  # antes de cargar datos
    try:
        results = run_grid(grid, config, prepare_data(args), args.out,
                           gpt_kwargs=gpt_kwargs, command=recorded_command(args), note=args.note,
                           overwrite=overwrite, checkpoint_every=getattr(args, "checkpoint_every", None))
    except (KeyboardInterrupt, Terminated):
        print(f"Barrido interrumpido: lo terminado está en {args.out}; repite la misma orden para "
              f"continuar.", file=sys.stderr)
        raise
    f = results["fits"].get("params") if grid.kind == "size" else None
    fit = f" Ajuste L = {f['a']:.3g}·N^(−{f['alpha']:.3f})." if f and "alpha" in f else ""
    print(f"Rejilla {grid.kind}: {len(results['runs'])} ejecuciones en {results['wall_seconds']:.0f} s; "
          f"resultados en {args.out}.{fit}")
    return 0


# --------------------------------------------------------------------------- --grid


def add_grid_arguments(group) -> None:
    """Declara ``--grid`` y las opciones de las rejillas (ver :mod:`transformer_lib.scaling.grids`)."""
    group.add_argument("--grid", default=None, choices=("size", "data", "isoflop"),
                       help="entrena una rejilla con el motor reanudable: size = L(N), data = L(D) "
                            "sobre subconjuntos anidados, isoflop = presupuestos de cómputo fijos "
                            "(sin --grid, el barrido de tamaños de siempre: los de --sizes con la "
                            "semilla de la receta). Con o sin --grid, repetir la orden con el mismo "
                            "--out continúa donde se quedó")
    group.add_argument("--seeds", default=None, metavar="SEMILLAS",
                       help="semillas separadas por comas (por defecto, 1337,1338 con --grid; sin "
                            "--grid, la de --seed)")
    group.add_argument("--budgets", default=None, metavar="FLOPS",
                       help="con --grid isoflop: presupuestos en FLOPs separados por comas "
                            "(por defecto, 3e10,1e11,3e11,1e12)")
    group.add_argument("--single-seed-from", default=None, type=float, metavar="FLOPS",
                       help="con --grid isoflop: desde este presupuesto, solo la primera semilla "
                            "(por defecto, todas en todos)")
    group.add_argument("--arch", default="gpt", choices=("gpt", "lstm"),
                       help="sin --grid o con --grid size: gpt (por defecto) o lstm, la red recurrente de "
                            "referencia (con --sizes 'capas,1,d_model')")
    group.add_argument("--flops", default=None, choices=("full", "kaplan"),
                       help="con --grid isoflop: cómo se cuenta cada presupuesto: full (por defecto; "
                            "atención y capa de salida incluidas) o kaplan (6·N sin embeddings)")
    group.add_argument("--schedule", default=None, choices=("matched", "fixed"),
                       help="con --grid isoflop: matched (por defecto; el coseno de cada ejecución "
                            "acaba en su último paso) o fixed (un solo calendario, el de la más larga)")
    group.add_argument("--lrs", default=None, metavar="TASAS",
                       help="sin --grid o con --grid size|isoflop: barrido de tasas; cada tamaño con cada una "
                            "(separadas por comas)")
    group.add_argument("--lr-from", default=None, metavar="ARCHIVO",
                       help="sin --grid o con --grid size|isoflop: una tasa por tamaño, la regla lr(N) ajustada "
                            "al barrido de tasas de ese archivo (ver fit_lr_rule)")
    group.add_argument("--checkpoint-every", default=None, type=int, metavar="PASOS",
                       help="cada ejecución guarda un punto de control cada tantos pasos "
                            "(en <out>.partial/); repetir la orden tras un corte sigue desde él")
    group.add_argument("--fractions", default=None, metavar="FRACCIONES",
                       help="con --grid data: fracciones del entrenamiento separadas por comas "
                            "(por defecto, 1/64,1/32,1/16,1/8,1/4,1/2,1); el tamaño lo da --sizes "
                            "(por defecto, 4,4,128)")


def _numbers(text: str | None, flag: str, kind=float) -> list | None:
    """Lee una lista separada por comas (None si no se dio la opción)."""
    if text is None:
        return None
    try:
        return [kind(Fraction(v)) if kind is float else kind(v) for v in text.split(",")]
    except (ValueError, ZeroDivisionError) as err:
        raise ValueError(f"{flag}={text!r} no es una lista de números separados por comas.") from err


def lr_rule_from(path: str | None):
    """La regla lr(N) de un barrido de tasas guardado (None si no se pidió ``--lr-from``)."""
    if path is None:
        return None
    return fit_lr_rule(load_sweep(path), source=path)


def grid_from_args(args: argparse.Namespace, config: TrainConfig):
    """La rejilla que piden las opciones: la de ``--grid`` o, sin ella, la de tamaños de siempre.

    Parámetros:
        args: los argumentos de ``sweep``.
        config: la receta (sin ``--grid`` ni ``--seeds``, su semilla es la única del barrido).

    Devuelve:
        La rejilla (ver :func:`~transformer_lib.scaling.make_grid`).
    """
    kind = getattr(args, "grid", None) or "size"
    arch = getattr(args, "arch", "gpt")
    if arch != "gpt" and kind != "size":
        raise ValueError(f"--arch {arch} solo vale con --grid size (la rejilla es {kind!r}).")
    sizes = parse_sizes(args.sizes, arch) if args.sizes or not args.grid else None
    seeds = _numbers(getattr(args, "seeds", None), "--seeds", int)
    fields = {"sizes": sizes, "seeds": seeds if seeds or args.grid else [config.seed]}
    if kind in ("size", "isoflop"):
        fields |= {"lrs": _numbers(getattr(args, "lrs", None), "--lrs"),
                   "lr_rule": lr_rule_from(getattr(args, "lr_from", None))}
    if kind == "isoflop":
        fields |= {"budgets": _numbers(args.budgets, "--budgets"), "single_seed_from": args.single_seed_from,
                   "flops": getattr(args, "flops", None), "schedule": getattr(args, "schedule", None)}
    if kind == "data":
        fields["fractions"] = _numbers(args.fractions, "--fractions")
    return make_grid(kind, **fields)
