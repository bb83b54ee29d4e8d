"""Subcomando ``forecast`` (capítulo 10): pronosticar un entrenamiento mayor y verificarlo.

Dos pasos, con un commit entre ellos::

    python -m transformer_lib forecast --from results/sweep_isoflop.json --budget 1e13 \\
        --out results/forecast_1e13.json
    git add results/forecast_1e13.json && git commit -m "pronóstico"
    python -m transformer_lib forecast --verify results/forecast_1e13.json \\
        --out results/forecast_1e13_verify.json [--device cuda]

El primero escribe el pronóstico (:func:`~transformer_lib.scaling.make_forecast`). El segundo
exige que el pronóstico esté confirmado en git y sin cambios, guarda su commit, entrena las
tres formas con el motor reanudable (con un punto de control cada ``--checkpoint-every`` pasos:
un corte a mitad sigue donde se quedó al repetir la orden) y añade la comparación.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

from ..data import prepare_quijote
from ..files import Terminated, check_output_path, read_json, write_json_atomic
from ..scaling import compare_forecast, load_sweep, make_forecast, run_grid, verification_grid
from ..training import TrainConfig
from .parser import positive_float, positive_int
from .sweep import recorded_command

HELP = "pronostica la pérdida de un entrenamiento mayor a partir de una rejilla IsoFLOP y la verifica"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declara las opciones de ``forecast``."""
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--from", dest="source", metavar="ARCHIVO",
                      help="la rejilla IsoFLOP terminada de la que sale el pronóstico")
    what.add_argument("--verify", metavar="PRONÓSTICO",
                      help="entrena las formas de este pronóstico (confirmado en git) y compara")
    parser.add_argument("--budget", type=positive_float, metavar="FLOPS",
                        help="con --from: el presupuesto que se pronostica (≥ 10 veces el mayor ajustado)")
    parser.add_argument("--resamples", type=positive_int, default=200, metavar="N",
                        help="con --from: remuestreos del bootstrap (por defecto, 200)")
    parser.add_argument("--out", required=True, metavar="ARCHIVO", help="archivo JSON de salida")
    parser.add_argument("--device", default=None, metavar="DISPOSITIVO",
                        help="con --verify: cpu, cuda… (por defecto, el de la receta)")
    parser.add_argument("--num-threads", type=positive_int, default=None, metavar="N",
                        help="con --verify: hilos de PyTorch en la CPU")
    parser.add_argument("--forecast-commit", default=None, metavar="COMMIT",
                        help="con --verify en una copia sin git (una máquina remota): el commit que "
                             "confirmó el pronóstico; tests/test_results.py comprueba después que es "
                             "anterior a la verificación")
    parser.add_argument("--checkpoint-every", type=positive_int, default=500, metavar="PASOS",
                        help="con --verify: un punto de control cada tantos pasos (por defecto, 500)")


def _committed(path: Path, given: str | None = None) -> str:
    """El commit que confirmó ``path`` tal como está (o un error que dice qué hacer).

    En una copia sin git (una máquina remota con GPU) hace falta ``given``, el commit que lo
    confirmó: no se puede comprobar aquí, y lo comprueba la prueba de ``results/`` en el repositorio.
    """
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=path.resolve().parent, capture_output=True,
                                  text=True).stdout.strip()
        except OSError:  # git no está instalado
            return ""

    if not git("rev-parse", "--is-inside-work-tree"):
        if given is None or not re.fullmatch(r"[0-9a-f]{40}", given):
            raise ValueError(f"{path} no está en un repositorio git: da el commit que confirmó el pronóstico "
                             f"con --forecast-commit (40 cifras hexadecimales); se recibió {given!r}.")
        return given
    rel = path.resolve()
    if git("status", "--porcelain", "--", str(rel)) or not git("ls-files", "--", str(rel)):
        raise ValueError(f"{path} no está confirmado en git tal como está: un pronóstico se confirma "
                         f"antes de verificarlo (git add {path} && git commit).")
    return git("log", "-1", "--format=%H", "--", str(rel))


def run(args: argparse.Namespace) -> int:
    """Escribe el pronóstico o entrena su verificación (ver la cabecera)."""
    out = Path(args.out)
    if args.source:
        if args.budget is None:
            raise ValueError("Con --from hace falta --budget (el presupuesto que se pronostica, en FLOPs).")
        check_output_path(out, what="pronóstico", is_ours=lambda p: False)
        forecast = make_forecast(load_sweep(args.source), args.budget, n_resamples=args.resamples,
                                 source=args.source)
        forecast["command"] = recorded_command(args)
        write_json_atomic(out, forecast)
        best = forecast["shapes"][1]
        print(f"Pronóstico para C = {args.budget:.3g}: {best['name']} (N = {best['params_total']:,}) con "
              f"pérdida {best['loss']:.3f} [{best['loss_low']:.3f}, {best['loss_high']:.3f}]; "
              f"orden {' < '.join(forecast['ranking'])}. En {out}: confírmalo en git antes de verificarlo.")
        return 0
    source = Path(args.verify)
    forecast = read_json(source, what="el pronóstico")
    commit = _committed(source, getattr(args, "forecast_commit", None))
    config = TrainConfig.from_dict(forecast["recipe"])
    overrides = {k: v for k, v in (("device", args.device), ("num_threads", args.num_threads)) if v is not None}
    config = TrainConfig.from_dict({**config.to_dict(), **overrides, "progress": False})
    try:
        results = run_grid(verification_grid(forecast), config, prepare_quijote(), out,
                           gpt_kwargs=forecast["model"], command=recorded_command(args),
                           checkpoint_every=args.checkpoint_every,
                           extra={"forecast": {"file": str(source), "git_commit": commit}})
    except (KeyboardInterrupt, Terminated):
        print(f"Verificación interrumpida: repite la misma orden para seguir desde el último punto de "
              f"control ({out}).", file=sys.stderr)
        raise
    results["comparison"] = compare_forecast(forecast, results)
    write_json_atomic(out, results)
    for row in results["comparison"]["shapes"]:
        print(f"{row['role']:>7} {row['name']:>9}: predicha {row['predicted']:.4f} "
              f"[{row['low']:.4f}, {row['high']:.4f}], medida {row['measured']:.4f} "
              f"({100 * row['relative_error']:+.2f} %, {'dentro' if row['inside'] else 'FUERA'})")
    return 0
