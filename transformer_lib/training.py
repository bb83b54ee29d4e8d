"""Entrenamiento (capítulos 7, 9 y 10): bucle con AdamW, calentamiento y decaimiento coseno.

- :class:`TrainConfig`: todos los hiperparámetros del entrenamiento en un dataclass.
- :func:`train`: el bucle. Por defecto entrena un GPT sobre texto (``data=(train_ids, val_ids)``),
  pero acepta cualquier fuente de lotes ``get_batch(split)`` y cualquier pérdida
  ``loss_fn(model, batch)``, así que sirve igual para el Transformer encoder-decoder del
  capítulo 7 o para un barrido de tamaños del capítulo 9.
- :class:`History` y :func:`plot_history`: lo que pasó durante el entrenamiento.
- :func:`save_checkpoint` / :func:`load_checkpoint`: pesos, configuración y tokenizador en una
  carpeta; los pesos se leen con ``torch.load(..., weights_only=True)`` (sin código serializado)
  y el resto es JSON. La escritura es atómica: o queda la carpeta completa o no queda nada.

Receta por defecto: AdamW con β = (0.9, 0.99), 100 pasos de calentamiento lineal, decaimiento
coseno hasta lr/2 y recorte del gradiente a norma 1. Parte de la receta de nanoGPT para CPU
(que baja hasta lr/10 y usa decaimiento de pesos 0.1), ajustada a nuestros entrenamientos
cortos, de menos de una época: el modelo está lejos de converger y no sobreajusta, así que ni
frenar tanto la tasa al final ni el decaimiento de pesos le ayudan. Con el GPT de referencia
(2000 pasos sobre el Quijote, 3 semillas) cada cambio bajó la pérdida de validación en torno
a 0.01.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .data import CharTokenizer
from .data import get_batch as text_batch
from .models import GPT, GPTConfig, Transformer
from .utils import get_device, set_seed

PRECISIONS = ("fp32", "bf16", "auto")


@dataclass
class TrainConfig:
    """Hiperparámetros de :func:`train`.

    Atributos:
        max_iters: número de pasos de entrenamiento.
        batch_size: lote B (ventanas por paso, en el caso de texto).
        block_size: longitud T de cada ventana (caso de texto).
        lr: tasa de aprendizaje máxima (tras el calentamiento).
        min_lr: tasa final del decaimiento coseno; None = lr / 2.
        warmup_iters: pasos de calentamiento lineal desde 0 hasta ``lr``.
        lr_decay_iters: paso en que el coseno llega a ``min_lr``; None = ``max_iters``.
        weight_decay: decaimiento de pesos de AdamW (solo matrices y embeddings, no sesgos ni
            LayerNorm); 0 por defecto (ver la cabecera del módulo).
        beta1, beta2: β de AdamW.
        grad_clip: norma máxima del gradiente (0 = sin recorte).
        eval_interval: cada cuántos pasos se estima la pérdida (0 = solo al final).
        eval_iters: lotes con los que se estima la pérdida durante el entrenamiento (siempre los
            mismos, fijados con la semilla, para que la curva no tiemble por el muestreo).
        final_eval_iters: lotes de la evaluación final, más precisa (0 = usar ``eval_iters``).
        seed: semilla (inicialización, lotes y evaluación).
        device: "cpu", "cuda", "mps" o None para elegir solo.
        precision: "fp32", "bf16" (autocast bf16 en CPU o GPU) o "auto" (bf16 donde el hardware
            lo calcula de forma nativa: GPU CUDA con bf16 o CPU con AVX512-BF16/AMX; fp32 en
            otro caso, p. ej. Apple MPS).
        num_threads: hilos de PyTorch en CPU; None deja los que haya.
        progress: si se muestra la barra de progreso (``TQDM_DISABLE=1`` también la apaga).
    """

    max_iters: int = 2000
    batch_size: int = 12
    block_size: int = 64
    lr: float = 1e-3
    min_lr: float | None = None
    warmup_iters: int = 100
    lr_decay_iters: int | None = None
    weight_decay: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.99
    grad_clip: float = 1.0
    eval_interval: int = 500
    eval_iters: int = 20
    final_eval_iters: int = 200
    seed: int = 1337
    device: str | None = None
    precision: str = "fp32"
    num_threads: int | None = None
    progress: bool = True

    def __post_init__(self):
        for name in ("max_iters", "batch_size", "block_size", "eval_iters"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"TrainConfig.{name} debe ser un entero positivo y es {value!r}.")
        for name in ("warmup_iters", "eval_interval", "final_eval_iters"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"TrainConfig.{name} debe ser un entero >= 0 y es {value!r}.")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"TrainConfig.lr debe ser un número positivo y es {self.lr!r}.")
        if self.min_lr is not None and not 0 <= self.min_lr <= self.lr:
            raise ValueError(f"TrainConfig.min_lr debe estar en [0, lr={self.lr}] y es {self.min_lr!r}.")
        if self.weight_decay < 0 or self.grad_clip < 0:
            raise ValueError(
                f"weight_decay y grad_clip deben ser >= 0 y son {self.weight_decay!r}, {self.grad_clip!r}."
            )
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision debe ser una de {PRECISIONS} y es {self.precision!r}.")

    def to_dict(self) -> dict:
        """La configuración como diccionario (JSON)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        """Inverso de :meth:`to_dict` (ignora claves desconocidas)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def lr_at(step: int, config: TrainConfig) -> float:
    """Tasa de aprendizaje en el paso ``step``: calentamiento lineal y luego coseno hasta ``min_lr``.

    Parámetros:
        step: paso (0 = el primero).
        config: la configuración.
    """
    min_lr = config.lr / 2 if config.min_lr is None else config.min_lr
    decay_iters = config.max_iters if config.lr_decay_iters is None else config.lr_decay_iters
    if step < config.warmup_iters:
        return config.lr * (step + 1) / config.warmup_iters
    if step >= decay_iters:
        return min_lr
    progress = (step - config.warmup_iters) / max(1, decay_iters - config.warmup_iters)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (config.lr - min_lr)


@dataclass
class History:
    """Registro de un entrenamiento.

    Atributos:
        steps, train_loss, lr: por cada paso, su número (1, 2, …), la pérdida del lote y la tasa
            de aprendizaje usada.
        eval_steps, val_loss, eval_train_loss: en cada evaluación, el paso y la pérdida media en
            validación y en entrenamiento (sobre lotes fijos). La última evaluación usa
            ``final_eval_iters`` lotes.
        seconds: segundos de entrenamiento (sin contar las evaluaciones).
        eval_seconds: segundos dedicados a evaluar.
        tokens: tokens procesados en entrenamiento.
        tokens_per_s: tokens / seconds.
    """

    steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    eval_train_loss: list[float] = field(default_factory=list)
    seconds: float = 0.0
    eval_seconds: float = 0.0
    tokens: int = 0

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else float("nan")

    @property
    def ms_per_iter(self) -> float:
        return 1000 * self.seconds / len(self.steps) if self.steps else float("nan")

    @property
    def final_val_loss(self) -> float:
        """Última pérdida de validación medida (NaN si no hubo evaluación)."""
        return self.val_loss[-1] if self.val_loss else float("nan")

    @property
    def final_train_loss(self) -> float:
        """Última pérdida de entrenamiento medida sobre lotes fijos (NaN si no hubo evaluación)."""
        return self.eval_train_loss[-1] if self.eval_train_loss else float("nan")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> History:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def plot(self, ax=None):
        """Atajo de :func:`plot_history`."""
        return plot_history(self, ax)


def plot_history(history: History, ax=None):
    """Dibuja las curvas de pérdida: el lote de cada paso (tenue, suavizado) y las evaluaciones.

    Parámetros:
        history: el :class:`History` que devolvió :func:`train`.
        ax: ejes de matplotlib donde dibujar; None crea una figura nueva.

    Devuelve:
        La figura de matplotlib.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
    else:
        fig = ax.figure
    if history.steps:
        ax.plot(history.steps, history.train_loss, color="tab:blue", alpha=0.25, lw=0.8,
                label="entrenamiento (cada lote)")
        k = max(1, len(history.steps) // 50)
        if k > 1:
            smooth = torch.tensor(history.train_loss).unfold(0, k, 1).mean(dim=1).tolist()
            ax.plot(history.steps[k - 1:], smooth, color="tab:blue", lw=1.5,
                    label=f"entrenamiento (media de {k} pasos)")
    if history.eval_steps:
        ax.plot(history.eval_steps, history.val_loss, "o-", color="tab:orange", label="validación")
    ax.set_xlabel("paso de entrenamiento")
    ax.set_ylabel("pérdida (entropía cruzada)")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def cpu_has_fast_bf16() -> bool:
    """Si la CPU multiplica matrices bf16 en hardware (instrucciones AVX512-BF16 o AMX)."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def resolve_precision(device: torch.device, precision: str = "auto") -> str:
    """Traduce ``precision="auto"`` a "bf16" o "fp32" según el dispositivo."""
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    if device.type == "cpu":
        return "bf16" if cpu_has_fast_bf16() else "fp32"
    return "fp32"


def _autocast(device: torch.device, precision: str):
    precision = resolve_precision(device, precision)
    if precision == "bf16" and device.type in ("cpu", "cuda"):
        return lambda: torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.AdamW:
    """AdamW con decaimiento de pesos solo en los tensores de 2 o más dimensiones.

    Los sesgos y los parámetros de LayerNorm (1D) no decaen. Usa la versión fusionada del
    optimizador cuando el dispositivo la admite (un solo núcleo para todos los parámetros).
    """
    params = [p for p in model.parameters() if p.requires_grad]  # parameters() ya quita duplicados
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": config.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    kwargs: dict[str, Any] = {"lr": config.lr, "betas": (config.beta1, config.beta2)}
    device_type = params[0].device.type if params else "cpu"
    if "fused" in inspect.signature(torch.optim.AdamW).parameters and device_type in ("cpu", "cuda"):
        kwargs["fused"] = True
    return torch.optim.AdamW(groups, **kwargs)


def _default_loss(model: nn.Module, batch) -> torch.Tensor:
    x, y = batch
    _, loss = model(x, y)
    return loss


def _count_tokens(batch) -> int:
    if isinstance(batch, torch.Tensor):
        return batch.numel()
    if isinstance(batch, (tuple, list)) and batch and isinstance(batch[0], torch.Tensor):
        return batch[0].numel()
    for name in ("src", "x", "input_ids"):
        t = getattr(batch, name, None)
        if isinstance(t, torch.Tensor):
            return t.numel()
    return 0


def _to_device(batch, device: torch.device):
    """Mueve un lote (tensor, tupla, lista, dict u objeto con ``.to``) al dispositivo."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, (tuple, list)):
        return type(batch)(_to_device(b, device) for b in batch)
    if isinstance(batch, dict):
        return {k: _to_device(v, device) for k, v in batch.items()}
    if hasattr(batch, "to"):
        return batch.to(device)
    return batch


def _text_sources(data, config: TrainConfig, device: torch.device):
    """Fuente de lotes de texto y lotes fijos de evaluación para (train_ids, val_ids)."""
    if isinstance(data, dict):
        splits = {"train": data["train"], "val": data["val"]}
    elif hasattr(data, "train") and hasattr(data, "val"):
        splits = {"train": data.train, "val": data.val}
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        splits = {"train": data[0], "val": data[1]}
    else:
        raise TypeError(
            "data debe ser (train_ids, val_ids), un dict con 'train' y 'val' o un QuijoteData; "
            f"recibí {type(data).__name__}."
        )
    gen = torch.Generator().manual_seed(config.seed)

    def source(split: str):
        return text_batch(splits[split], config.block_size, config.batch_size, gen, device)

    def fixed(n_batches: int, seed: int):
        """n_batches·B ventanas fijas por split, agrupadas en lotes grandes para ir más rápido."""
        g = torch.Generator().manual_seed(seed)
        out = {}
        for split, ids in splits.items():
            x, y = text_batch(ids, config.block_size, n_batches * config.batch_size, g)
            rows = max(config.batch_size, 4096 // config.block_size)
            out[split] = [(x[i:i + rows].to(device), y[i:i + rows].to(device))
                          for i in range(0, len(x), rows)]
        return out

    return source, fixed


def _generic_sources(get_batch: Callable[[str], Any], device: torch.device):
    def source(split: str):
        return _to_device(get_batch(split), device)

    def fixed(n_batches: int, seed: int):
        return {split: [source(split) for _ in range(n_batches)] for split in ("train", "val")}

    return source, fixed


@torch.no_grad()
def estimate_loss(model: nn.Module, batches: list, loss_fn: Callable = _default_loss, autocast=None) -> float:
    """Pérdida media de ``model`` sobre una lista de lotes (en modo evaluación, sin gradientes).

    Si los lotes tienen distinto tamaño, se pondera por el número de tokens de cada uno.
    """
    was_training = model.training
    model.eval()
    total, weight = 0.0, 0
    ctx = autocast or contextlib.nullcontext
    for batch in batches:
        with ctx():
            loss = loss_fn(model, batch)
        w = _count_tokens(batch) or 1
        total += float(loss) * w
        weight += w
    model.train(was_training)
    return total / max(weight, 1)


def train(
    model: nn.Module,
    config: TrainConfig | None = None,
    data=None,
    *,
    get_batch: Callable[[str], Any] | None = None,
    loss_fn: Callable[[nn.Module, Any], torch.Tensor] | None = None,
    callback: Callable[[int, nn.Module, History], bool | None] | None = None,
    optimizer: torch.optim.Optimizer | None = None,
) -> History:
    """Entrena ``model`` y devuelve su :class:`History`.

    Dos formas de darle datos:

    - Texto (GPT): ``data=(train_ids, val_ids)`` (o un ``QuijoteData``); los lotes son ventanas
      al azar de ``config.block_size`` tokens y la pérdida es la de ``model(x, y)``.
    - Cualquier otra cosa: ``get_batch(split)`` devuelve un lote de "train" o "val" y
      ``loss_fn(model, batch)`` su pérdida escalar (por ejemplo ``DatesTask.batch_source`` y
      ``DatesTask.loss`` para el Transformer del capítulo 7).

    En cada paso: tasa de aprendizaje de :func:`lr_at`, pérdida (con autocast bf16 si
    ``config.precision`` lo pide), retropropagación, recorte del gradiente y paso de AdamW.
    Cada ``eval_interval`` pasos (y al principio y al final) estima la pérdida de
    entrenamiento y validación sobre ``eval_iters`` lotes fijos; al final usa
    ``final_eval_iters`` lotes.

    Parámetros:
        model: el modelo (se mueve a ``config.device``).
        config: hiperparámetros; None usa ``TrainConfig()``.
        data: ids de entrenamiento y validación (caso de texto).
        get_batch: fuente de lotes genérica, ``get_batch(split) -> lote``.
        loss_fn: pérdida genérica, ``loss_fn(model, lote) -> escalar``.
        callback: ``callback(step, model, history)``, llamada con step=0 antes de empezar y
            después de cada paso (con el modelo en modo evaluación); si devuelve True, el
            entrenamiento se detiene.
        optimizer: optimizador propio; None usa :func:`make_optimizer`.

    Devuelve:
        El :class:`History` del entrenamiento.
    """
    from tqdm.auto import tqdm

    config = config or TrainConfig()
    if (data is None) == (get_batch is None):
        raise ValueError("Pasa data=(train_ids, val_ids) para texto o get_batch=función, uno de los dos.")
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    device = get_device(config.device)
    set_seed(config.seed)
    model.to(device)
    if data is not None:
        get_batch, fixed_batches = _text_sources(data, config, device)
    else:
        get_batch, fixed_batches = _generic_sources(get_batch, device)
    loss_fn = loss_fn or _default_loss
    autocast = _autocast(device, config.precision)
    optimizer = optimizer or make_optimizer(model, config)
    eval_sets = fixed_batches(config.eval_iters, config.seed + 1)
    history = History()

    def evaluate(step: int, sets: dict) -> None:
        t = time.perf_counter()
        history.eval_steps.append(step)
        history.val_loss.append(estimate_loss(model, sets["val"], loss_fn, autocast))
        history.eval_train_loss.append(estimate_loss(model, sets["train"], loss_fn, autocast))
        history.eval_seconds += time.perf_counter() - t

    def run_callback(step: int) -> bool:
        if callback is None:
            return False
        model.eval()
        stop = bool(callback(step, model, history))
        model.train()
        return stop

    model.train()
    if config.eval_interval:
        evaluate(0, eval_sets)
    stop = run_callback(0)
    # Sin pasar disable cuando progress=True: así TQDM_DISABLE=1 (CI) sigue pudiendo apagarla.
    quiet = {} if config.progress else {"disable": True}
    bar = tqdm(total=config.max_iters, desc="entrenando", mininterval=0.5, **quiet)
    clip = config.grad_clip
    step = 0
    while step < config.max_iters and not stop:
        t0 = time.perf_counter()
        lr = lr_at(step, config)
        for group in optimizer.param_groups:
            group["lr"] = lr
        batch = get_batch("train")
        with autocast():
            loss = loss_fn(model, batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip:
            nn.utils.clip_grad_norm_(model.parameters(), clip, foreach=True)
        optimizer.step()
        step += 1
        loss_value = loss.item()
        history.seconds += time.perf_counter() - t0
        history.tokens += _count_tokens(batch)
        history.steps.append(step)
        history.train_loss.append(loss_value)
        history.lr.append(lr)
        if not math.isfinite(loss_value):
            bar.close()
            raise FloatingPointError(
                f"La pérdida se volvió {loss_value} en el paso {step}: prueba una tasa de "
                f"aprendizaje menor que lr={config.lr} o un grad_clip más estricto."
            )
        if config.eval_interval and step % config.eval_interval == 0 and step < config.max_iters:
            evaluate(step, eval_sets)
            bar.set_postfix(val=f"{history.val_loss[-1]:.3f}", refresh=False)
        bar.update(1)
        if step % 50 == 0:
            bar.set_postfix(loss=f"{loss_value:.3f}", refresh=False)
        stop = run_callback(step)
    bar.close()
    final_sets = fixed_batches(config.final_eval_iters, config.seed + 2) if config.final_eval_iters else eval_sets
    evaluate(step, final_sets)
    return history


# --------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------

_WEIGHTS, _META = "model.pt", "checkpoint.json"


def _model_spec(model: nn.Module) -> dict:
    """Lo necesario (en JSON) para reconstruir el modelo antes de cargar sus pesos."""
    if isinstance(model, GPT):
        return {"class": "GPT", "config": model.config.to_dict()}
    if isinstance(model, Transformer):
        enc = model.encoder[0] if len(model.encoder) else None
        dec = model.decoder[0]
        block = enc or dec
        return {"class": "Transformer", "config": {
            "src_vocab_size": model.src_vocab_size, "tgt_vocab_size": model.tgt_vocab_size,
            "d_model": model.d_model, "n_heads": block.self_attn.n_heads,
            "n_encoder_layers": len(model.encoder), "n_decoder_layers": len(model.decoder),
            "d_ff": block.ff.linear1.out_features, "dropout": model.drop.p,
            "max_len": model.pos.max_len, "norm_first": block.res_ff.norm_first,
            "activation": block.ff.activation_name,
        }}
    raise TypeError(
        f"save_checkpoint sabe guardar GPT y Transformer, no {type(model).__name__}; guarda su "
        "state_dict con torch.save."
    )


def _build_model(spec: dict) -> nn.Module:
    if spec.get("class") == "GPT":
        return GPT(GPTConfig(**spec["config"]))
    if spec.get("class") == "Transformer":
        return Transformer(**spec["config"])
    raise ValueError(f"Checkpoint con un modelo desconocido: {spec.get('class')!r}.")


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
    ``checkpoint.json`` (clase y configuración del modelo, ``TrainConfig``, tokenizador,
    historial y ``extra``). Todo se escribe primero en una carpeta temporal junto a la de
    destino, que después se renombra: si algo falla a medias, la carpeta de destino no queda
    a medio escribir (y, si ya existía, conserva el checkpoint anterior).

    Devuelve:
        La ruta de la carpeta.
    """
    directory = Path(directory)
    meta = {
        "format": "transformer_lib-checkpoint", "version": 1,
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

    Los pesos se leen con ``torch.load(..., weights_only=True)``: un archivo manipulado no
    puede ejecutar código al cargarse.

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
