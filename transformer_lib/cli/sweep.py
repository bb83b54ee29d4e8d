"""Subcomando ``sweep`` (capítulo 9): entrena varios tamaños de GPT y ajusta la ley de escalado.

Las opciones de la receta son las de :mod:`transformer_lib.cli.recipe`, las mismas que las de
``train``; el tamaño de cada modelo lo da ``--sizes``. El JSON de resultados guarda la orden
que se ejecutó de verdad (la que recibió :func:`transformer_lib.cli.main`), la fecha, la
máquina y el commit (ver :func:`~transformer_lib.scaling.sweep_metadata`).
"""

from __future__ import annotations

import argparse
import shlex
import time

from ..environment import load_average
from ..scaling import (
    SWEEP_SIZES,
    SweepSize,
    check_sweep_path,
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
    g = parser.add_argument_group("salida")
    g.add_argument("--out", default="results/sweep_quijote.json", metavar="ARCHIVO", help="archivo JSON de resultados")
    g.add_argument("--overwrite", action="store_true",
                   help="reemplaza los resultados que ya haya en --out (solo si son de un barrido: "
                        "otro archivo nunca se toca)")


def parse_sizes(text: str | None) -> list[SweepSize]:
    """Lee ``--sizes``: ``'capas,cabezas,d_model'`` separados por ``;`` (None = :data:`SWEEP_SIZES`).

    Parámetros:
        text: el valor de la opción.

    Devuelve:
        La lista de tamaños.
    """
    if not text:
        return list(SWEEP_SIZES)
    sizes = []
    for part in text.split(";"):
        try:
            size = SweepSize(*(int(v) for v in part.split(",")))
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
    """
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
