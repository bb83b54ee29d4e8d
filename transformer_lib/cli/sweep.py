"""Subcomando ``sweep`` (capítulo 9): entrena varios tamaños de GPT y ajusta la ley de escalado.

Las opciones de la receta son las de :mod:`transformer_lib.cli.recipe`, las mismas que las de
``train``; el tamaño de cada modelo lo da ``--sizes``. Con ``--grid size|data|isoflop`` entrena
una rejilla de :mod:`transformer_lib.scaling.grids` con el motor reanudable
(:func:`~transformer_lib.scaling.run_grid`). El JSON de resultados guarda la orden
que se ejecutó de verdad (la que recibió :func:`transformer_lib.cli.main`), la fecha, la
máquina y el commit (ver :func:`~transformer_lib.scaling.sweep_metadata`).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from fractions import Fraction

from ..environment import load_average
from ..files import Terminated
from ..scaling import (
    SWEEP_SIZES,
    SweepSize,
    check_grid_path,
    check_sweep_path,
    fit_lr_rule,
    load_sweep,
    make_grid,
    run_grid,
    run_sweep,
    save_sweep,
    sweep_metadata,
)
from .recipe import add_recipe_arguments, prepare_data, recipe_from_args

HELP = "entrena varios tamaños de GPT y ajusta la ley de escalado (capítulo 9)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declara las opciones de ``sweep``: la receta (sin el tamaño), ``--sizes``, ``--note``,
    ``--out`` y ``--overwrite``."""
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
                   help="reemplaza los resultados que ya haya en --out (solo si son de un barrido: "
                        "otro archivo nunca se toca)")


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
    """Entrena cada tamaño, ajusta las leyes y guarda todo en ``--out``.

    Antes de cargar datos comprueba que ``--out`` se puede escribir y no destruye nada: si ya
    hay resultados de un barrido, hace falta ``--overwrite``; cualquier otro archivo se rechaza.
    Con ``--grid`` entrena una rejilla con el motor reanudable.
    """
    if getattr(args, "out", None) is None:
        args.out = f"results/sweep_{args.grid}.json" if getattr(args, "grid", None) else "results/sweep.json"
    if getattr(args, "grid", None):
        return run_grid_command(args)
    sizes = parse_sizes(args.sizes)
    gpt_kwargs, config = recipe_from_args(args)  # valida antes de cargar datos o entrenar
    check_sweep_path(args.out, args.overwrite, flag="--out", overwrite_flag="--overwrite")
    meta = sweep_metadata(command=recorded_command(args), note=args.note, torch_threads=config.num_threads)
    t0 = time.perf_counter()

    def report(run: dict) -> None:
        print(f"{run['name']:>9}: N = {run['params_non_embedding']:>9,d}  "
              f"val = {run['val_loss']:.4f}  ({run['seconds']:.0f} s)", flush=True)

    results = run_sweep(sizes, config, prepare_data(args), on_run=report,
                        gpt_kwargs=gpt_kwargs)
    meta["wall_seconds"] = round(time.perf_counter() - t0, 1)
    load = load_average()
    if load is not None:
        meta["hardware"]["load_average_end"] = load
    save_sweep({**meta, **results}, args.out, overwrite=args.overwrite)
    f = results["fits"].get("params")
    fit = f"Ajuste L = {f['a']:.3g}·N^(−{f['alpha']:.3f}); " if f else "Sin ajuste (hace falta más de un tamaño); "
    print(f"{fit}resultados en {args.out}")
    return 0


# --------------------------------------------------------------------------- --grid


def add_grid_arguments(group) -> None:
    """Declara ``--grid`` y las opciones de las rejillas (ver :mod:`transformer_lib.scaling.grids`)."""
    group.add_argument("--grid", default=None, choices=("size", "data", "isoflop"),
                       help="entrena una rejilla con el motor reanudable: size = L(N), data = L(D) "
                            "sobre subconjuntos anidados, isoflop = presupuestos de cómputo fijos "
                            "(sin --grid, el barrido de tamaños de siempre). Repetir la orden con el "
                            "mismo --out continúa donde se quedó")
    group.add_argument("--seeds", default=None, metavar="SEMILLAS",
                       help="con --grid: semillas separadas por comas (por defecto, 1337,1338)")
    group.add_argument("--budgets", default=None, metavar="FLOPS",
                       help="con --grid isoflop: presupuestos en FLOPs separados por comas "
                            "(por defecto, 3e10,1e11,3e11,1e12)")
    group.add_argument("--single-seed-from", default=None, type=float, metavar="FLOPS",
                       help="con --grid isoflop: desde este presupuesto, solo la primera semilla "
                            "(por defecto, todas en todos)")
    group.add_argument("--arch", default="gpt", choices=("gpt", "lstm"),
                       help="con --grid size: gpt (por defecto) o lstm, la red recurrente de "
                            "referencia (con --sizes 'capas,1,d_model')")
    group.add_argument("--flops", default=None, choices=("full", "kaplan"),
                       help="con --grid isoflop: cómo se cuenta cada presupuesto: full (por defecto; "
                            "atención y capa de salida incluidas) o kaplan (6·N sin embeddings)")
    group.add_argument("--schedule", default=None, choices=("matched", "fixed"),
                       help="con --grid isoflop: matched (por defecto; el coseno de cada ejecución "
                            "acaba en su último paso) o fixed (un solo calendario, el de la más larga)")
    group.add_argument("--lrs", default=None, metavar="TASAS",
                       help="con --grid size|isoflop: barrido de tasas; cada tamaño con cada una "
                            "(separadas por comas)")
    group.add_argument("--lr-from", default=None, metavar="ARCHIVO",
                       help="con --grid size|isoflop: una tasa por tamaño, la regla lr(N) ajustada "
                            "al barrido de tasas de ese archivo (ver fit_lr_rule)")
    group.add_argument("--checkpoint-every", default=None, type=int, metavar="PASOS",
                       help="con --grid: cada ejecución guarda un punto de control cada tantos pasos "
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


def run_grid_command(args: argparse.Namespace) -> int:
    """``sweep --grid``: entrena la rejilla pedida con :func:`~transformer_lib.scaling.run_grid`."""
    gpt_kwargs, config = recipe_from_args(args)
    arch = getattr(args, "arch", "gpt")
    if arch != "gpt" and args.grid != "size":
        raise ValueError(f"--arch {arch} solo vale con --grid size (la rejilla es {args.grid!r}).")
    sizes = parse_sizes(args.sizes, arch) if args.sizes else None
    fields = {"sizes": sizes, "seeds": _numbers(args.seeds, "--seeds", int)}
    if args.grid in ("size", "isoflop"):
        fields |= {"lrs": _numbers(getattr(args, "lrs", None), "--lrs"),
                   "lr_rule": lr_rule_from(getattr(args, "lr_from", None))}
    if args.grid == "isoflop":
        fields |= {"budgets": _numbers(args.budgets, "--budgets"), "single_seed_from": args.single_seed_from,
                   "flops": getattr(args, "flops", None), "schedule": getattr(args, "schedule", None)}
    if args.grid == "data":
        fields["fractions"] = _numbers(args.fractions, "--fractions")
    grid = make_grid(args.grid, **fields)
    check_grid_path(args.out, getattr(args, "overwrite", False))  # antes de cargar datos
    try:
        results = run_grid(grid, config, prepare_data(args), args.out,
                           gpt_kwargs=gpt_kwargs, command=recorded_command(args), note=args.note,
                           overwrite=getattr(args, "overwrite", False),
                           checkpoint_every=getattr(args, "checkpoint_every", None))
    except (KeyboardInterrupt, Terminated):
        print(f"Barrido interrumpido: lo terminado está en {args.out}; repite la misma orden para "
              f"continuar.", file=sys.stderr)
        raise
    print(f"Rejilla {args.grid}: {len(results['runs'])} ejecuciones en {results['wall_seconds']:.0f} s; "
          f"resultados en {args.out}")
    return 0
