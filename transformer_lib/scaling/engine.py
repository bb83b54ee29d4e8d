"""El motor de barridos reanudable (capítulo 9): entrena una rejilla y no pierde nada.

:func:`run_grid` entrena las ejecuciones de una rejilla (:mod:`~transformer_lib.scaling.grids`)
una a una y, al terminar cada una, reescribe el archivo de resultados **de forma atómica**
(:func:`~transformer_lib.files.write_json_atomic`): un Ctrl-C, un SIGTERM o un ``kill -9``
pierden como mucho la ejecución en curso y el archivo queda siempre entero (la versión
anterior o la nueva). Al volver a lanzar la misma orden con el mismo archivo, se saltan las
ejecuciones terminadas y se acaba con el mismo archivo que habría escrito un barrido sin
interrupciones (salvo tiempos y fechas). Si el archivo es de otra rejilla u otra receta, se
rechaza: nunca se mezclan resultados.

**Validación.** Cada modelo se evalúa al final sobre **toda** la validación: sus
⌊(N_val − 1)/T⌋ ventanas disjuntas (3 298 ventanas de T = 64 en el Quijote, ≈ 275 lotes de
12), siempre las mismas. Con 20 lotes al azar la lectura se mueve ≈ ±0,05; con ≈ 14 veces más
ventanas el error de muestreo bajaría a ≈ ±0,05/√14 ≈ ±0,014, pero además, como todas las
ejecuciones leen exactamente las mismas ventanas, al compararlas entre sí no hay error de
muestreo: queda solo el de la semilla (que miden las semillas repetidas).

El esquema del archivo está en :data:`RESULTS_SCHEMA` (ver :func:`run_grid`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path

import torch

from ..data import QuijoteData
from ..environment import describe_environment, git_commit, load_average
from ..files import (
    OutputPathError,
    UnreadableFileError,
    check_output_path,
    read_json,
    signals_as_exceptions,
    write_json_atomic,
)
from ..training import Resume, TrainConfig, estimate_loss
from .analysis import grid_fits
from .fitting import json_ready
from .grids import Grid, RunSpec, estimate_seconds, expand, nested_subset
from .sweep import _run_one, sweep_metadata

__all__ = ["RESULTS_SCHEMA", "check_grid_path", "checkpoint_path", "run_grid", "validation_batches"]

RESULTS_SCHEMA = "transformer_lib.sweep/2"
# Lo que debe coincidir para reanudar un archivo: la rejilla, la receta y los datos.
_IDENTITY = ("schema", "grid", "recipe", "model", "vocab_size", "data", "planned")
EVAL_BATCH = 64  # ventanas por lote de la evaluación final (no cambia la media)


def validation_batches(val: torch.Tensor, block_size: int, batch_size: int = EVAL_BATCH,
                       device: torch.device | str | None = None) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Toda la validación en ventanas disjuntas de ``block_size`` tokens, en lotes.

    Parámetros:
        val: ids de validación.
        block_size: longitud T de cada ventana.
        batch_size: ventanas por lote (la última puede tener menos).
        device: dispositivo de destino.

    Devuelve:
        Una lista de ``(x, y)``, con ``y`` desplazada una posición.

    Formas:
        val: (N,); cada x, y: (b, T) con b <= batch_size; en total ⌊(N − 1)/T⌋ ventanas.
    """
    n = (len(val) - 1) // block_size
    if n < 1:
        raise ValueError(f"La validación tiene {len(val)} tokens, pocos para ventanas de T={block_size}.")
    x = val[: n * block_size].view(n, block_size)  # (n, T)
    y = val[1 : n * block_size + 1].view(n, block_size)  # (n, T)
    return [(x[i : i + batch_size].to(device), y[i : i + batch_size].to(device))
            for i in range(0, n, batch_size)]


def _data_identity(data: QuijoteData) -> dict:
    digest = hashlib.sha256()
    for ids in (data.train, data.val):
        digest.update(ids.numpy().tobytes())
    return {"train_tokens": len(data.train), "val_tokens": len(data.val), "sha256": digest.hexdigest()}


def checkpoint_path(out: Path, key: str) -> Path:
    """Dónde guarda el motor el punto de control a mitad de la ejecución ``key`` de ``out``."""
    return out.with_name(out.name + ".partial") / (key.replace("/", "__") + ".pt")


def _train_run(spec: RunSpec, base: TrainConfig, data: QuijoteData, gpt_kwargs: dict,
               environment: dict, resume: Resume | None = None) -> dict:
    """Entrena una ejecución, la evalúa en toda la validación y devuelve su fila."""
    t0 = time.perf_counter()
    config = spec.train_config(base)
    model_config = spec.size.model_config(data.tokenizer.vocab_size, **gpt_kwargs)
    subset = nested_subset(data, spec.subset_tokens) if spec.subset_tokens else data
    model, row = _run_one(spec.size, model_config, config, subset, resume=resume)
    device = next(model.parameters()).device
    val_batches = validation_batches(data.val, config.block_size, device=device)
    row["val_loss_sampled"] = row["val_loss"]
    row["val_loss"] = estimate_loss(model, val_batches)
    subset_tokens = spec.subset_tokens or len(data.train)
    return {"key": spec.key, "grid": spec.grid, "seed": spec.seed, "budget": spec.budget,
            **row, "subset_tokens": subset_tokens, "epochs": row["tokens"] / subset_tokens,
            "val_windows": sum(len(x) for x, _ in val_batches),
            "model_config": model_config.to_dict(), "train_config": config.to_dict(),
            "environment": environment, "wall_seconds": round(time.perf_counter() - t0, 2)}


def _order(results: dict) -> Callable[[dict], int]:
    """Clave para ordenar las ejecuciones como en ``planned``."""
    order = {key: i for i, key in enumerate(results["planned"])}
    return lambda run: order[run["key"]]


def _is_results_file(path: Path) -> bool:
    try:
        return read_json(path, what="el archivo de resultados").get("schema") == RESULTS_SCHEMA
    except (UnreadableFileError, AttributeError):
        return False


def check_grid_path(out: str | os.PathLike, overwrite: bool = False) -> Path:
    """Comprueba ``out`` antes de cargar datos o entrenar (ver :func:`run_grid`).

    Un barrido reanudable nuestro se acepta tal cual (se reanudará, o se reemplazará con
    ``overwrite``); si no existe, debe poder crearse; cualquier otro archivo se rechaza.

    Devuelve:
        La ruta como ``Path``.
    """
    out = Path(out)
    exists = out.exists() or out.is_symlink()
    if exists and not _is_results_file(out):
        raise OutputPathError(
            f"{out} ya existe y no es un barrido reanudable de transformer_lib (le falta "
            f"'schema': {RESULTS_SCHEMA!r}): no lo toco. Elige otra ruta con --out.")
    if not exists or overwrite:
        check_output_path(out, what="archivo de resultados", is_ours=_is_results_file, overwrite=overwrite)
    return out


def _resume(out: Path, identity: dict) -> dict:
    """Lee un archivo existente y comprueba que es de esta misma rejilla y receta."""
    if not _is_results_file(out):
        raise ValueError(f"{out} ya existe y no es un barrido reanudable de transformer_lib (le falta "
                         f"'schema': {RESULTS_SCHEMA!r}): no lo toco. Elige otra ruta con --out.")
    results = read_json(out, what="el archivo de resultados")
    stored = dict(results)
    if isinstance(stored.get("grid"), dict):  # lo mismo con un campo nuevo de la rejilla o del tamaño
        grid = {**{k: v for k, v in identity["grid"].items() if v is None}, **stored["grid"]}
        if isinstance(grid.get("sizes"), list):
            grid["sizes"] = [{"arch": "gpt", **s} if isinstance(s, dict) else s for s in grid["sizes"]]
        stored["grid"] = grid
    if isinstance(stored.get("recipe"), dict):  # un campo nuevo de TrainConfig con su valor por
        with contextlib.suppress(TypeError, ValueError):  # defecto no cambia la receta
            stored["recipe"] = TrainConfig.from_dict(stored["recipe"]).to_dict()
    different = [k for k in _IDENTITY if json_ready(stored.get(k)) != json_ready(identity[k])]
    if different:
        raise ValueError(f"{out} es de otro barrido (cambia {', '.join(different)}): no mezclo "
                         f"resultados. Usa otra ruta con --out o repite la orden con la que se creó: "
                         f"{results.get('command') or '(no consta)'}.")
    return results


def run_grid(
    grid: Grid,
    config: TrainConfig,
    data: QuijoteData,
    out: str | Path,
    *,
    gpt_kwargs: dict | None = None,
    command: str = "",
    note: str = "",
    overwrite: bool = False,
    log: Callable[[str], None] | None = None,
    on_run: Callable[[dict], None] | None = None,
    checkpoint_every: int | None = None,
    extra: dict | None = None,
) -> dict:
    """Entrena una rejilla, guardando cada ejecución en ``out`` al terminarla; reanuda si ya existe.

    Parámetros:
        grid: la rejilla (:class:`~transformer_lib.scaling.grids.SizeGrid`, ``DataGrid`` o
            ``IsoFlopGrid``).
        config: la receta común; cada ejecución la ajusta a sus pasos (ver
            :meth:`~transformer_lib.scaling.grids.RunSpec.train_config`).
        data: los datos completos.
        out: archivo JSON de resultados. Si existe y es de la misma rejilla y receta, se
            continúa; si es de otra, error.
        gpt_kwargs: campos comunes de ``GPTConfig`` (``dropout``, ``tie_weights``…).
        command: la orden que se ejecutó (se guarda la de la primera vez).
        note: nota libre.
        overwrite: empezar de cero aunque ``out`` ya sea un barrido nuestro.
        log: dónde escribir la línea de resumen de cada ejecución (None = ``tqdm.write``).
            La barra de progreso (``TQDM_DISABLE=1`` la apaga) nombra la ejecución en curso y
            avanza en segundos estimados (:func:`~transformer_lib.scaling.grids.estimate_seconds`),
            así que su tiempo restante tiene en cuenta que unas ejecuciones cuestan más que otras.
        on_run: función llamada con la fila de cada ejecución, ya guardada.
        checkpoint_every: si se da, cada ejecución guarda un punto de control cada tantos pasos
            en ``<out>.partial/`` (:class:`~transformer_lib.training.Resume`): un corte a mitad
            de una ejecución larga pierde como mucho esos pasos, y al repetir la orden la
            ejecución sigue desde ahí y acaba igual, bit a bit. Se borra al terminarla.
        extra: campos que se añaden al archivo al crearlo (p. ej. el pronóstico que se
            verifica); no cuentan para reanudar.

    Devuelve:
        El diccionario de resultados, el mismo que queda en ``out``: ``schema``; los metadatos
        de :func:`~transformer_lib.scaling.sweep_metadata` (``command``, ``date``,
        ``library_version``, ``git_commit``, ``hardware``, ``note``); ``grid`` (la rejilla con
        su ``kind``), ``recipe`` (la receta común), ``model`` (campos comunes de ``GPTConfig``),
        ``vocab_size``, ``data`` (tokens de entrenamiento y validación y su SHA-256),
        ``planned`` (las claves de todas las ejecuciones); ``runs`` (una fila por ejecución
        terminada, en el orden de ``planned``); ``complete``; y al terminar, ``fits`` (ver
        :func:`grid_fits`), ``wall_seconds`` (la suma de las ejecuciones) y ``date_end``. Si
        se vuelve a lanzar sobre un archivo terminado, no entrena nada, pero recalcula
        ``fits`` con la biblioteca actual (y anota ``fits_git_commit``) si han cambiado.
    """
    from tqdm.auto import tqdm

    out = Path(out)
    common = {k: v for k, v in (gpt_kwargs or {}).items() if k != "block_size"}
    common["block_size"] = config.block_size
    vocab_size = data.tokenizer.vocab_size
    specs = expand(grid, config, vocab_size, len(data.train), common)
    identity = {"schema": RESULTS_SCHEMA, "grid": grid.to_dict(), "recipe": config.to_dict(),
                "model": common, "vocab_size": vocab_size, "data": _data_identity(data),
                "planned": [s.key for s in specs]}
    check_grid_path(out, overwrite)
    commit = git_commit(ignore=(out,))  # repetir la orden exige borrar el archivo confirmado
    if (out.exists() or out.is_symlink()) and not overwrite:
        results = _resume(out, identity)
    else:
        meta = {**sweep_metadata(command=command, note=note, torch_threads=config.num_threads), "git_commit": commit}
        results = {"schema": RESULTS_SCHEMA, **meta, **json_ready(identity), **json_ready(extra or {}),
                   "runs": [], "complete": False}
        write_json_atomic(out, results)
    done = {r["key"] for r in results["runs"]}
    pending = [s for s in specs if s.key not in done]
    environment = {**describe_environment(torch_threads=config.num_threads), "git_commit": commit}
    cost = {s.key: estimate_seconds(s, config, vocab_size, len(data.val), common) for s in pending}
    write = log or tqdm.write
    if done:
        state = "ya estaba completo" if not pending else f"{len(done)} de {len(specs)} ejecuciones ya terminadas"
        write(f"Reanudo {out}: {state}.")
    with signals_as_exceptions(), tqdm(total=round(sum(cost.values())), unit="s", desc="barrido",
                                       mininterval=1.0) as bar:
        for spec in pending:
            bar.set_description(spec.key)
            resume = (Resume(checkpoint_path(out, spec.key), checkpoint_every, key=spec.key)
                      if checkpoint_every else None)
            row = json_ready(_train_run(spec, config, data, common, environment, resume))
            results["runs"].append(row)
            write_json_atomic(out, results)
            if resume is not None:
                resume.path.unlink(missing_ok=True)
            bar.update(round(cost[spec.key]))
            write(f"[{len(results['runs'])}/{len(specs)}] {spec.key}: N = {row['params_non_embedding']:,} "
                  f"D = {row['tokens']:,} ({row['epochs']:.2f} épocas), val = {row['val_loss']:.4f} "
                  f"en {row['wall_seconds']:.0f} s")
            if on_run is not None:
                on_run(row)
    fits = json_ready(grid_fits({**results, "runs": sorted(results["runs"], key=_order(results))}))
    if results["complete"] and results.get("fits") != fits:
        # Los ajustes se derivan de las ejecuciones: un archivo terminado los recalcula con la
        # biblioteca de ahora (y anota su commit) sin volver a entrenar nada.
        results["fits"] = fits
        results["fits_git_commit"] = git_commit()
        write_json_atomic(out, results)
        write(f"Ajustes de {out} recalculados con la biblioteca actual.")
    if not results["complete"]:
        results["runs"].sort(key=_order(results))
        results["fits"] = fits
        results["wall_seconds"] = round(sum(r["wall_seconds"] for r in results["runs"]), 1)
        results["date_end"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        load = load_average()
        if load is not None:
            results["hardware"]["load_average_end"] = load
        results["complete"] = True
        write_json_atomic(out, results)
    return results
