"""Checkpoints: pesos, configuración del modelo, tokenizador e historial en una carpeta.

Los pesos se leen con ``torch.load(..., weights_only=True)`` (sin código serializado) y el resto
es JSON. El modelo se reconstruye desde la configuración guardada (``kind`` y
``model.config.to_dict()``), nunca leyendo tamaños de sus capas.

Nada se pierde (ver :mod:`transformer_lib.files`): :func:`save_checkpoint` solo reemplaza un
checkpoint nuestro y solo si se le pide (``overwrite=True``); escribe en una carpeta temporal
junto al destino que se renombra al final, así que o queda el checkpoint completo (el nuevo o
el anterior) o no queda nada. Cargar un checkpoint dañado (truncado, JSON roto, de otro
modelo, manipulado) da una sola línea en español que nombra el archivo y dice qué hacer.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..data import BPETokenizer, CharTokenizer, tokenizer_from_dict
from ..files import (
    MissingFileError,
    UnreadableFileError,
    atomic_directory,
    check_output_path,
    is_file,
    read_json,
)
from ..models import GPT, GPTConfig, Transformer, TransformerConfig
from .config import TrainConfig
from .history import History
from .weights import check_state_matches, load_state

_WEIGHTS, _META = "model.pt", "checkpoint.json"
_FORMAT, _VERSION = "transformer_lib-checkpoint", 2
_REDO = ("Vuelve a guardarlo (save_checkpoint o `python -m transformer_lib train --out …`) o usa "
         "una copia buena.")

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


def _stored_config(spec: object, meta_path: Path):
    """La clase del modelo y su configuración según ``checkpoint.json`` (error claro si no valen)."""
    kind = spec.get("kind", spec.get("class")) if isinstance(spec, dict) else None  # "class": versión 1
    if kind not in _MODEL_KINDS:
        raise UnreadableFileError(
            f"El checkpoint {meta_path} tiene un modelo desconocido: {kind!r}; conozco "
            f"{sorted(_MODEL_KINDS)}. {_REDO}"
        )
    cls, config_cls = _MODEL_KINDS[kind]
    return cls, _from_json(config_cls.from_dict, spec.get("config"), meta_path, "la configuración del modelo")


def _from_json(build, data, meta_path: Path, what: str):
    """``build(data)``, con sus errores convertidos en uno que nombra el archivo."""
    try:
        return build(data)
    except (TypeError, ValueError, KeyError, AttributeError) as err:
        raise UnreadableFileError(
            f"El checkpoint {meta_path} está dañado: {what} no vale ({err}). {_REDO}"
        ) from err


def _tokenizer_to_json(tokenizer):
    if tokenizer is None:
        return None
    if isinstance(tokenizer, (CharTokenizer, BPETokenizer)):
        return tokenizer.to_dict()
    if isinstance(tokenizer, dict):
        return {"type": "dict", "items": {k: _tokenizer_to_json(v) for k, v in tokenizer.items()}}
    raise TypeError(f"tokenizer debe ser un CharTokenizer o un BPETokenizer, un dict de ellos o None; es {type(tokenizer).__name__}.")


def _tokenizer_from_json(d):
    if d is None:
        return None
    if d.get("type") == "dict":
        return {k: _tokenizer_from_json(v) for k, v in d["items"].items()}
    return tokenizer_from_dict(d)


def is_checkpoint(path: str | os.PathLike) -> bool:
    """Dice si ``path`` es una carpeta de checkpoint de transformer_lib que se puede reemplazar.

    Lo es si solo contiene ``model.pt`` y ``checkpoint.json`` (aunque ``model.pt`` falte o esté
    dañado) y ``checkpoint.json`` lleva la marca de formato de :func:`save_checkpoint`. Una
    carpeta con cualquier otra cosa dentro no lo es: reemplazarla borraría algo del usuario.
    """
    path = Path(path)
    try:
        names = {p.name for p in path.iterdir()} if path.is_dir() else set()
        if _META not in names or not names <= {_META, _WEIGHTS}:
            return False
        meta = json.loads((path / _META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and meta.get("format") == _FORMAT


def check_checkpoint_path(
    directory: str | os.PathLike, overwrite: bool = False, flag: str | None = None,
    overwrite_flag: str = "overwrite=True",
) -> Path:
    """Comprueba, antes de entrenar, que se puede guardar un checkpoint en ``directory``.

    Vale si no existe, si es una carpeta vacía o, con ``overwrite``, si es un checkpoint
    nuestro (:func:`is_checkpoint`). Un archivo o una carpeta con otras cosas se rechaza
    siempre. También comprueba que se puede escribir en la carpeta que lo contendrá.

    Parámetros:
        directory: la carpeta del checkpoint.
        overwrite: si se permite reemplazar un checkpoint que ya esté ahí.
        flag, overwrite_flag: cómo se llaman la ruta y el permiso de sobrescribir en los
            mensajes (p. ej. ``"--out"`` y ``"--overwrite"`` en la línea de órdenes).

    Devuelve:
        La ruta como ``Path``.

    Lanza:
        OutputPathError: si no se puede usar; el mensaje dice por qué y qué hacer.
    """
    return check_output_path(directory, what="checkpoint", is_ours=is_checkpoint, overwrite=overwrite,
                             flag=flag, overwrite_flag=overwrite_flag, accept_empty_folder=True)


def save_checkpoint(
    directory: str | os.PathLike,
    model: nn.Module,
    config: TrainConfig | None = None,
    tokenizer: CharTokenizer | dict[str, CharTokenizer] | None = None,
    history: History | None = None,
    extra: dict | None = None,
    overwrite: bool = False,
) -> Path:
    """Guarda un checkpoint en la carpeta ``directory`` de forma atómica.

    Contenido: ``model.pt`` (solo el ``state_dict``: tensores, sin código) y
    ``checkpoint.json`` (tipo y configuración del modelo, ``TrainConfig``, tokenizador,
    historial y ``extra``). Todo se escribe primero en una carpeta temporal junto a la de
    destino, que después se renombra: si algo falla a medias (también Ctrl-C o SIGTERM con
    :func:`~transformer_lib.files.signals_as_exceptions`), la carpeta temporal se borra y el
    destino conserva lo que tenía. Las carpetas y archivos respetan la ``umask``.

    Parámetros:
        directory: carpeta de destino: no debe existir, o estar vacía, o (con ``overwrite``)
            ser un checkpoint de transformer_lib. Nunca se reemplaza otra cosa.
        model: un :class:`GPT` o un :class:`Transformer` (con su ``model.config``).
        config: la ``TrainConfig`` del entrenamiento, si quieres guardarla.
        tokenizer: un ``CharTokenizer``, un dict de ellos (p. ej. ``{"src": ..., "tgt": ...}``)
            o None.
        history: el ``History`` del entrenamiento, si quieres guardarlo.
        extra: datos JSON adicionales.
        overwrite: si se reemplaza el checkpoint que ya hubiera en ``directory``.

    Devuelve:
        La ruta de la carpeta.

    Lanza:
        OutputPathError: si ``directory`` ya existe y no se puede reemplazar, o no se puede
            escribir ahí (antes de escribir nada).
    """
    meta = {
        "format": _FORMAT, "version": _VERSION,
        "model": _model_spec(model),
        "train_config": config.to_dict() if config is not None else None,
        "tokenizer": _tokenizer_to_json(tokenizer),
        "history": history.to_dict() if history is not None else None,
        "extra": extra or {},
    }
    text = json.dumps(meta, ensure_ascii=False, indent=1)  # falla aquí si extra no es JSON
    directory = check_checkpoint_path(directory, overwrite=overwrite)
    with atomic_directory(directory) as tmp:
        torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, tmp / _WEIGHTS)
        (tmp / _META).write_text(text, encoding="utf-8")
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


def _read_meta(directory: Path) -> dict:
    """Lee y comprueba ``checkpoint.json``; los errores nombran el archivo."""
    meta_path, weights_path = directory / _META, directory / _WEIGHTS
    missing = [name for name, path in ((_META, meta_path), (_WEIGHTS, weights_path))
               if not is_file(path, "el checkpoint", _REDO)]
    if missing:
        detail = "la carpeta no existe" if not directory.exists() else "falta " + " y ".join(missing)
        raise MissingFileError(
            f"{directory} no es un checkpoint de transformer_lib: {detail}. Comprueba la ruta o "
            "guarda uno con save_checkpoint (o `python -m transformer_lib train --out …`)."
        )
    meta = read_json(meta_path, what="el checkpoint", hint=_REDO)
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        raise UnreadableFileError(
            f"{meta_path} no es el checkpoint.json de un checkpoint de transformer_lib (le falta "
            f"\"format\": \"{_FORMAT}\"). {_REDO}"
        )
    version = meta.get("version")
    if not isinstance(version, int) or version > _VERSION:
        raise UnreadableFileError(
            f"El checkpoint {meta_path} es de la versión {version!r} del formato y esta "
            f"transformer_lib lee hasta la {_VERSION}: actualiza transformer_lib."
        )
    return meta


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

    Lanza:
        MissingFileError: si no es un checkpoint (falta la carpeta, ``checkpoint.json`` o
            ``model.pt``; es un ``FileNotFoundError``).
        FileAccessError: si no se puede leer (permisos; es un ``OSError``).
        UnreadableFileError: si está dañado: JSON roto (dice la línea y la columna),
            ``model.pt`` truncado, con objetos que no son tensores, o con tensores que no son
            de este modelo (los nombra con sus formas).
    """
    directory = Path(directory)
    meta = _read_meta(directory)
    meta_path = directory / _META
    cls, model_config = _stored_config(meta.get("model"), meta_path)
    model = cls(model_config)
    state = load_state(directory / _WEIGHTS, _REDO)
    check_state_matches(state, model, f"Los pesos de {directory / _WEIGHTS} no son del modelo que "
                                      f"describe {meta_path}", _REDO)
    model.load_state_dict(state)
    model.to(device).eval()
    train_config = _from_json(lambda d: TrainConfig.from_dict(d) if d else None, meta.get("train_config"),
                              meta_path, "la configuración de entrenamiento")
    history = _from_json(lambda d: History.from_dict(d) if d else None, meta.get("history"), meta_path,
                         "el historial")
    tokenizer = _from_json(_tokenizer_from_json, meta.get("tokenizer"), meta_path, "el tokenizador")
    return Checkpoint(model, tokenizer, train_config, history, meta.get("extra") or {})


def load_weights(model: nn.Module, directory: str | os.PathLike) -> nn.Module:
    """Carga los pesos de un checkpoint en un modelo que ya tienes.

    El modelo debe ser del mismo tipo y con la misma configuración que el guardado; si no, el
    error dice en qué se diferencian (p. ej. «es de un modelo con d_model=64 y este tiene
    128»). El modelo se queda en su dispositivo y en el modo (entrenamiento o evaluación) en
    que estuviera.

    Parámetros:
        model: un :class:`GPT` o un :class:`Transformer`.
        directory: la carpeta del checkpoint.

    Devuelve:
        El mismo ``model``, con los pesos cargados.
    """
    directory = Path(directory)
    spec = _model_spec(model)
    meta = _read_meta(directory)
    cls, stored = _stored_config(meta.get("model"), directory / _META)
    if not isinstance(model, cls):
        raise UnreadableFileError(
            f"El checkpoint {directory} es de un {cls.__name__} y este modelo es un "
            f"{type(model).__name__}. Crea el modelo con load_checkpoint({str(directory)!r}).model."
        )
    ours, theirs = stored.to_dict(), spec["config"]
    diff = [k for k in theirs if ours.get(k) != theirs[k]]
    if diff:
        with_ = ", ".join(f"{k}={ours.get(k)!r}" for k in diff)
        has = ", ".join(f"{k}={theirs[k]!r}" for k in diff) if len(diff) > 1 else repr(theirs[diff[0]])
        raise UnreadableFileError(
            f"El checkpoint {directory} es de un modelo con {with_} y este tiene {has}. Crea el "
            f"modelo con esa configuración (o usa load_checkpoint({str(directory)!r}).model)."
        )
    state = load_state(directory / _WEIGHTS, _REDO)
    check_state_matches(state, model, f"Los pesos de {directory / _WEIGHTS} no son de este modelo", _REDO)
    model.load_state_dict(state)
    return model
