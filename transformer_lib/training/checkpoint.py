"""Checkpoints: pesos, configuración del modelo, tokenizador e historial en una carpeta.

Los pesos se leen con ``torch.load(..., weights_only=True)`` (sin código serializado) y el resto
es JSON. El modelo se reconstruye desde la configuración guardada (``kind`` y
``model.config.to_dict()``), nunca leyendo tamaños de sus capas. La escritura es atómica: o
queda la carpeta completa o no queda nada.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..data import CharTokenizer
from ..models import GPT, GPTConfig, Transformer, TransformerConfig
from .config import TrainConfig
from .history import History

_WEIGHTS, _META = "model.pt", "checkpoint.json"
_FORMAT, _VERSION = "transformer_lib-checkpoint", 2

# Lo que ``save_checkpoint`` sabe guardar: nombre («kind») -> (clase del modelo, su configuración).
_MODEL_KINDS: dict[str, tuple[type[nn.Module], type]] = {
    "GPT": (GPT, GPTConfig),
    "Transformer": (Transformer, TransformerConfig),
}


def _model_spec(model: nn.Module) -> dict:
    """Lo necesario (en JSON) para reconstruir el modelo antes de cargar sus pesos."""
    for kind, (cls, _) in _MODEL_KINDS.items():
        if isinstance(model, cls):
            return {"kind": kind, "config": model.config.to_dict()}
    raise TypeError(
        f"save_checkpoint sabe guardar GPT y Transformer, no {type(model).__name__}; guarda su "
        "state_dict con torch.save."
    )


def _build_model(spec: dict) -> nn.Module:
    kind = spec.get("kind", spec.get("class"))  # "class" en los checkpoints de la versión 1
    if kind not in _MODEL_KINDS:
        raise ValueError(f"Checkpoint con un modelo desconocido: {kind!r}; conozco {sorted(_MODEL_KINDS)}.")
    cls, config_cls = _MODEL_KINDS[kind]
    return cls(config_cls.from_dict(spec["config"]))


def _tokenizer_to_json(tokenizer):
    if tokenizer is None:
        return None
    if isinstance(tokenizer, CharTokenizer):
        return tokenizer.to_dict()
    if isinstance(tokenizer, dict):
        return {"type": "dict", "items": {k: _tokenizer_to_json(v) for k, v in tokenizer.items()}}
    raise TypeError(f"tokenizer debe ser un CharTokenizer, un dict de ellos o None; es {type(tokenizer).__name__}.")


def _tokenizer_from_json(d):
    if d is None:
        return None
    if d.get("type") == "dict":
        return {k: _tokenizer_from_json(v) for k, v in d["items"].items()}
    return CharTokenizer.from_dict(d)


def save_checkpoint(
    directory: str | os.PathLike,
    model: nn.Module,
    config: TrainConfig | None = None,
    tokenizer: CharTokenizer | dict[str, CharTokenizer] | None = None,
    history: History | None = None,
    extra: dict | None = None,
) -> Path:
    """Guarda un checkpoint en la carpeta ``directory`` de forma atómica.

    Contenido: ``model.pt`` (solo el ``state_dict``: tensores, sin código) y
    ``checkpoint.json`` (tipo y configuración del modelo, ``TrainConfig``, tokenizador,
    historial y ``extra``). Todo se escribe primero en una carpeta temporal junto a la de
    destino, que después se renombra: si algo falla a medias, la carpeta de destino no queda
    a medio escribir (y, si ya existía, conserva el checkpoint anterior).

    Parámetros:
        directory: carpeta de destino.
        model: un :class:`GPT` o un :class:`Transformer` (con su ``model.config``).
        config: la ``TrainConfig`` del entrenamiento, si quieres guardarla.
        tokenizer: un ``CharTokenizer``, un dict de ellos (p. ej. ``{"src": ..., "tgt": ...}``)
            o None.
        history: el ``History`` del entrenamiento, si quieres guardarlo.
        extra: datos JSON adicionales.

    Devuelve:
        La ruta de la carpeta.
    """
    directory = Path(directory)
    meta = {
        "format": _FORMAT, "version": _VERSION,
        "model": _model_spec(model),
        "train_config": config.to_dict() if config is not None else None,
        "tokenizer": _tokenizer_to_json(tokenizer),
        "history": history.to_dict() if history is not None else None,
        "extra": extra or {},
    }
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.tmp-", dir=directory.parent))
    try:
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        torch.save(state, tmp / _WEIGHTS)
        (tmp / _META).write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
        old = None
        if directory.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{directory.name}.old-", dir=directory.parent))
            os.replace(directory, old / "ckpt")
        os.replace(tmp, directory)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return directory


@dataclass
class Checkpoint:
    """Lo que devuelve :func:`load_checkpoint`; se puede desempaquetar como
    ``model, tokenizer, config, history = load_checkpoint(dir)``."""

    model: nn.Module
    tokenizer: CharTokenizer | dict[str, CharTokenizer] | None
    config: TrainConfig | None
    history: History | None
    extra: dict

    def __iter__(self):
        return iter((self.model, self.tokenizer, self.config, self.history))


def load_checkpoint(directory: str | os.PathLike, device: torch.device | str | None = "cpu") -> Checkpoint:
    """Carga un checkpoint guardado con :func:`save_checkpoint`.

    El modelo se construye desde la configuración guardada y después recibe los pesos, que se
    leen con ``torch.load(..., weights_only=True)``: un archivo manipulado no puede ejecutar
    código al cargarse.

    Parámetros:
        directory: la carpeta del checkpoint.
        device: dispositivo donde dejar el modelo (por defecto la CPU).

    Devuelve:
        :class:`Checkpoint` con el modelo (en modo evaluación), el tokenizador, la
        ``TrainConfig``, el ``History`` y los datos ``extra``.
    """
    directory = Path(directory)
    if not (directory / _META).is_file() or not (directory / _WEIGHTS).is_file():
        raise FileNotFoundError(
            f"{directory} no es un checkpoint de transformer_lib: faltan {_META} o {_WEIGHTS}."
        )
    meta = json.loads((directory / _META).read_text(encoding="utf-8"))
    model = _build_model(meta["model"])
    state = torch.load(directory / _WEIGHTS, map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    model.to(device).eval()
    config = TrainConfig.from_dict(meta["train_config"]) if meta.get("train_config") else None
    history = History.from_dict(meta["history"]) if meta.get("history") else None
    return Checkpoint(model, _tokenizer_from_json(meta.get("tokenizer")), config, history,
                      meta.get("extra") or {})
