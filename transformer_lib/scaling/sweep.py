"""Barridos de tamaños (capítulo 9): los tamaños, una ejecución y las leyes ajustadas.

- :class:`SweepSize` y :data:`SWEEP_SIZES`: los tamaños (profundidad, cabezas y anchura).
- :func:`build_model` y ``_run_one``: el modelo de un tamaño y su entrenamiento, la fila que
  guarda el motor reanudable (:func:`~transformer_lib.scaling.run_grid`, que entrena todos los
  barridos: el de tamaños es la rejilla :class:`~transformer_lib.scaling.SizeGrid`).
- :func:`compute_frontier` y :func:`fit_sweep`: la frontera de cómputo y las leyes ajustadas.
- :func:`sweep_metadata` y :func:`load_sweep`: los metadatos que acompañan al JSON de
  resultados y su lectura.

Desde la terminal: ``python -m transformer_lib sweep --sizes '2,2,32;4,4,128' --out
results/sweep.json`` o ``… sweep --grid size --out results/sweep_size.json`` (ver
:mod:`transformer_lib.cli.sweep`).
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..data import QuijoteData
from ..environment import describe_environment, git_commit, library_version, load_average
from ..files import UnreadableFileError, read_json
from ..models import GPT, GPTConfig, LSTMConfig, LSTMLanguageModel
from ..training import Resume, TrainConfig, train
from .counting import run_flops_per_token, training_flops
from .fitting import PowerLawFit, fit_power_law, fit_power_law_with_offset

_SIZE_FIELDS = ("n_layer", "n_head", "d_model")


ARCHITECTURES = ("gpt", "lstm")


@dataclass(frozen=True)
class SweepSize:
    """Un tamaño del barrido: profundidad, cabezas y anchura, y la arquitectura.

    Atributos:
        n_layer: bloques (GPT) o capas de LSTM.
        n_head: cabezas de atención (en una LSTM no se usa: pon 1).
        d_model: anchura.
        arch: ``"gpt"`` (el de siempre) o ``"lstm"`` (la red recurrente de referencia).
    """

    n_layer: int
    n_head: int
    d_model: int
    arch: str = "gpt"

    def __post_init__(self):
        if self.arch not in ARCHITECTURES:
            raise ValueError(f"arch debe ser una de {ARCHITECTURES} y es {self.arch!r}.")

    @property
    def name(self) -> str:
        """Nombre corto, p. ej. ``"L4-d128"`` (``"LSTM-L2-d64"`` en una LSTM)."""
        return f"{'LSTM-' if self.arch == 'lstm' else ''}L{self.n_layer}-d{self.d_model}"

    def model_config(self, vocab_size: int, **kwargs) -> GPTConfig | LSTMConfig:
        """La configuración del modelo de este tamaño.

        Parámetros:
            vocab_size: tamaño del vocabulario.
            **kwargs: el resto de campos de la configuración, comunes a todo el barrido
                (``block_size``, ``dropout``, ``tie_weights``…); no pueden repetir el tamaño.
                Una LSTM solo toma ``block_size``, ``dropout`` y ``tie_weights``.

        Devuelve:
            ``GPTConfig(vocab_size, n_layer, n_head, d_model, **kwargs)`` o el ``LSTMConfig``.
        """
        repeated = sorted(set(kwargs) & {"vocab_size", *_SIZE_FIELDS})
        if repeated:
            raise ValueError(f"{repeated} los fija el tamaño {self.name}: no los pases aparte.")
        if self.arch == "lstm":
            kept = {k: v for k, v in kwargs.items() if k in ("block_size", "dropout", "tie_weights")}
            return LSTMConfig(vocab_size=vocab_size, n_layer=self.n_layer, d_model=self.d_model, **kept)
        return GPTConfig(vocab_size=vocab_size, n_layer=self.n_layer, n_head=self.n_head,
                         d_model=self.d_model, **kwargs)


# Cinco tamaños con N ≈ 12·n_layer·d_model² entre 25 mil y 1,8 millones (factor ≈ 3 entre vecinos).
SWEEP_SIZES: tuple[SweepSize, ...] = (
    SweepSize(2, 2, 32),
    SweepSize(2, 4, 64),
    SweepSize(3, 4, 96),
    SweepSize(4, 4, 128),
    SweepSize(4, 6, 192),
)


def _as_size(size) -> SweepSize:
    if isinstance(size, SweepSize):
        return size
    if isinstance(size, (tuple, list)) and len(size) == 3:
        return SweepSize(*(int(v) for v in size))
    raise TypeError(f"Cada tamaño debe ser un SweepSize o una tupla (n_layer, n_head, d_model); recibí {size!r}.")


def build_model(config: GPTConfig | LSTMConfig) -> GPT | LSTMLanguageModel:
    """El modelo de una configuración de barrido: un :class:`GPT` o una LSTM."""
    return LSTMLanguageModel(config) if isinstance(config, LSTMConfig) else GPT(config)


def _run_one(size: SweepSize, model_config: GPTConfig | LSTMConfig, config: TrainConfig,
             data: QuijoteData, resume: Resume | None = None) -> tuple[GPT | LSTMLanguageModel, dict]:
    """Entrena un tamaño y devuelve el modelo entrenado y su fila del barrido.

    La fila guarda los dos recuentos de parámetros (total y sin embeddings) y los dos de
    cómputo: ``compute`` con la cuenta completa (atención y capa de salida incluidas, la del
    curso) y ``compute_kaplan`` = 6·N·D con N sin embeddings (Kaplan et al., 2020).
    """
    torch.manual_seed(config.seed)
    model = build_model(model_config)
    counts = model.count_parameters()
    history = train(model, config, data, resume=resume)
    tokens = history.tokens
    tokens_per_step = config.batch_size * config.block_size
    return model, {
        "name": size.name,
        "arch": size.arch,
        "n_layer": size.n_layer,
        "n_head": size.n_head,
        "d_model": size.d_model,
        "params_total": counts.total,
        "params_non_embedding": counts.non_embedding,
        "steps": len(history.steps),
        "tokens": tokens,
        "lr": config.lr,
        "compute": run_flops_per_token(model_config, "full") * tokens,
        "compute_kaplan": training_flops(counts.non_embedding, tokens),
        "val_loss": history.final_val_loss,
        "train_loss": history.final_train_loss,
        "seconds": round(history.seconds + history.eval_seconds, 2),
        "ms_per_iter": round(history.ms_per_iter, 2),
        "curve": {"steps": list(history.eval_steps),
                  "tokens": [s * tokens_per_step for s in history.eval_steps],
                  "val_loss": list(history.val_loss)},
    }


def row_flops_per_token(row: dict, convention: str = "full") -> float:
    """FLOPs por token de entrenamiento del modelo de una fila de barrido.

    Se recalculan de su configuración (``row["model_config"]``) con
    :func:`~transformer_lib.scaling.counting.run_flops_per_token`; así dan lo mismo en los
    archivos de cualquier versión. Una fila sin configuración (la de un barrido antiguo) usa
    su ``compute`` (completo) o ``compute_kaplan`` entre sus tokens; una fila hecha a mano sin
    nada de eso, 6·N (lo único que se sabe de ella).

    Parámetros:
        row: una fila de ``results["runs"]``.
        convention: ``"full"`` o ``"kaplan"``.

    Devuelve:
        FLOPs por token.
    """
    cfg = row.get("model_config")
    if cfg:
        config = LSTMConfig.from_dict(cfg) if row.get("arch") == "lstm" else GPTConfig.from_dict(cfg)
        return run_flops_per_token(config, convention)
    if "compute_kaplan" in row and row.get("tokens"):
        return row["compute" if convention == "full" else "compute_kaplan"] / row["tokens"]
    return 6.0 * row["params_non_embedding"]  # sin configuración ni cuentas: solo se sabe 6·N


def compute_frontier(results: dict, convention: str = "full") -> tuple[np.ndarray, np.ndarray]:
    """Frontera de cómputo de un barrido: la mejor pérdida alcanzada con cada presupuesto.

    De todos los puntos (C, L) de las curvas de validación se quedan los que tienen menor
    pérdida que todos los de menor cómputo. C se cuenta entero (atención y capa de salida
    incluidas); con ``convention="kaplan"``, como 6·N·D.

    Parámetros:
        results: lo que devuelve :func:`~transformer_lib.scaling.run_grid` o :func:`load_sweep`.
        convention: ``"full"`` o ``"kaplan"`` (ver :func:`row_flops_per_token`).

    Devuelve:
        ``(compute, loss)``: dos arrays ordenados por cómputo creciente (pérdida decreciente).

    Formas:
        compute, loss: (k,), con k <= número total de puntos de las curvas.
    """
    runs = results.get("runs") if isinstance(results, dict) else None
    if not runs:
        raise ValueError("results no tiene 'runs': pásale lo que devuelve run_grid o load_sweep.")
    points = []
    for run in runs:
        per_token, curve = row_flops_per_token(run, convention), run.get("curve") or {}
        for tokens, loss in zip(curve.get("tokens", []), curve.get("val_loss", [])):
            if tokens > 0:
                points.append((per_token * tokens, loss))
    points.sort()
    c_front, l_front, best = [], [], float("inf")
    for c, loss in points:
        if loss < best:
            best = loss
            c_front.append(c)
            l_front.append(loss)
    return np.array(c_front), np.array(l_front)


def fit_sweep(results: dict) -> dict[str, PowerLawFit]:
    """Ajusta leyes de potencia a un barrido.

    - ``"params"``: pérdida final frente a N (parámetros sin embeddings), L = A·N^(−α_N)
      (si hay >= 2 modelos).
    - ``"params_offset"``: lo mismo con término irreducible, L = E + A·N^(−α) (si hay >= 4 modelos).
    - ``"compute"``: la frontera de cómputo de las curvas de validación, L = A·C^(−α_C),
      con C contado entero (si la frontera tiene >= 3 puntos; ver :func:`compute_frontier`).

    Parámetros:
        results: lo que devuelve :func:`~transformer_lib.scaling.run_grid` o :func:`load_sweep`.

    Devuelve:
        Un diccionario de :class:`PowerLawFit`.
    """
    c_front, l_front = compute_frontier(results)
    runs = results["runs"]
    n = [r["params_non_embedding"] for r in runs]
    loss = [r["val_loss"] for r in runs]
    fits = {"params": fit_power_law(n, loss)} if len(runs) >= 2 else {}
    if len(runs) >= 4:
        fits["params_offset"] = fit_power_law_with_offset(n, loss)
    if len(c_front) >= 3:
        fits["compute"] = fit_power_law(c_front, l_front)
    return fits


def sweep_metadata(command: str = "", note: str = "", torch_threads: int | None = None) -> dict:
    """Fecha, versión de la biblioteca, commit y hardware, para guardarlos junto a un barrido.

    Parámetros:
        command: la orden que produjo el barrido.
        note: una nota libre (p. ej. «máquina compartida y cargada»).
        torch_threads: hilos de PyTorch con los que se entrena; None = los actuales.

    Devuelve:
        Un diccionario con ``command``, ``date``, ``library_version``, ``git_commit``,
        ``hardware`` (ver :func:`~transformer_lib.environment.describe_environment`, más la
        carga media al empezar) y ``note``.
    """
    hardware = describe_environment(torch_threads=torch_threads)
    load = load_average()
    if load is not None:
        hardware["load_average_start"] = load
    return {
        "command": command,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "library_version": library_version(),
        "git_commit": git_commit(),
        "hardware": hardware,
        "note": note,
    }


def load_sweep(path: str | os.PathLike) -> dict:
    """Lee un barrido guardado (el archivo que escribe :func:`~transformer_lib.scaling.run_grid`).

    Parámetros:
        path: el archivo JSON.

    Devuelve:
        El diccionario del barrido.

    Lanza:
        MissingFileError: si no existe (es un ``FileNotFoundError``).
        UnreadableFileError: si no se puede leer, no es JSON (dice la línea y la columna) o no
            es un barrido; el mensaje nombra el archivo y dice qué hacer.
    """
    path = Path(path)
    redo = f"Genéralo con `python -m transformer_lib sweep --out {path}`."
    results = read_json(path, what="el barrido", hint=redo)
    if not isinstance(results, dict) or not isinstance(results.get("runs"), list):
        raise UnreadableFileError(f"{path} no parece un barrido: le falta la lista 'runs'. {redo}")
    return results
