"""El bucle de entrenamiento (capítulos 7, 9 y 10): :func:`train` y sus piezas.

:func:`train` es una secuencia corta de pasos con nombre: abrir el grupo de procesos si se
lanzó con ``torchrun`` (:mod:`~transformer_lib.training.distributed`), elegir dispositivo y
precisión, preparar las fuentes de lotes y el optimizador, el bucle de pasos (:class:`_Run`),
la evaluación final y el :class:`~transformer_lib.training.History` que resume todo.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from ..utils import get_device, seeded_torch_rng, torch_threads
from .config import TrainConfig, lr_at
from .distributed import (
    DistributedEnv,
    all_reduce_sum,
    broadcast_from_main,
    check_batch_split,
    current_env,
    device_for,
    process_group,
    shard,
    wrap_model,
)
from .evaluation import LossFn, loss_sum
from .history import History
from .precision import PrecisionPlan, candidate_precisions, measure_precisions, resolve_precision
from .resume import Resume, load_snapshot, restore_snapshot, save_snapshot
from .sources import (
    FixedBatches,
    Source,
    checked_text_data,
    count_tokens,
    default_loss,
    generic_sources,
    text_sources,
    to_device,
)

Callback = Callable[[int, nn.Module, History], "bool | None"]


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.AdamW:
    """AdamW con decaimiento de pesos solo en los tensores de 2 o más dimensiones.

    Los sesgos y los parámetros de LayerNorm (1D) no decaen. Usa la versión fusionada del
    optimizador cuando el dispositivo la admite (un solo núcleo para todos los parámetros).

    Parámetros:
        model: el modelo, ya en su dispositivo.
        config: de aquí salen ``lr``, ``beta1``, ``beta2`` y ``weight_decay``.

    Devuelve:
        El optimizador.
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


class _Run:
    """Un entrenamiento en curso: el modelo, sus lotes, el optimizador y el historial.

    Con varios procesos (``env.enabled``), ``ddp`` es el modelo envuelto en
    ``DistributedDataParallel`` (el que calcula la pérdida, para que se sumen los gradientes) y
    ``model`` el de dentro (el que se evalúa y se da al callback).

    Las pérdidas de cada paso se quedan en el dispositivo (``pending``) y se leen de una vez
    (:meth:`flush`) cada ``LOG_EVERY`` pasos, al evaluar y al final: leerlas en cada paso
    obligaría a esperar a la GPU (y, con varios procesos, a un all-reduce) en cada paso. Con
    callback se leen en cada paso, porque el callback puede mirar el historial.
    """

    LOG_EVERY = 50

    def __init__(self, model: nn.Module, config: TrainConfig, sources: tuple[Source, FixedBatches],
                 loss_fn: LossFn, optimizer: torch.optim.Optimizer, callback: Callback | None,
                 env: DistributedEnv, device: torch.device, text: bool, resume: Resume | None = None):
        self.model, self.config, self.loss_fn, self.optimizer = model, config, loss_fn, optimizer
        self.next_batch, self.fixed_batches = sources
        self.callback, self.env, self.device, self.text = callback, env, device, text
        self.resume = resume
        self.snapshot = load_snapshot(resume, config) if resume is not None else None
        self.ddp = wrap_model(model, env, device)
        self.parameters = list(model.parameters())  # para el recorte, sin recorrer el modelo en cada paso
        self.history = History()
        self.eval_sets = self.fixed_batches(config.eval_iters, config.seed + 1)
        self.pending: list[torch.Tensor] = []
        self.plan = self.choose_plan()
        self.history.precision = self.plan.name
        self.step_model = torch.compile(self.ddp) if config.compile else self.ddp
        self.autocast = lambda: self.plan.evaluation(self.device)

    # ----------------------------------------------------------------- precisión

    def probe_batch(self):
        """Un microlote de entrenamiento de este proceso para cronometrar, sin tocar la fuente."""
        cfg = self.config
        if self.text:  # un lote de tamaño B con su propia semilla
            batch = self.fixed_batches(1, cfg.seed + 3)["train"][0]
        else:  # el primero de los fijos (ya sacado): pedir otro cambiaría los lotes del entrenamiento
            batch = self.eval_sets["train"][0]
        local = shard(batch, self.env.rank, self.env.world_size)
        return to_device(shard(local, 0, cfg.grad_accum_steps), self.device)

    def choose_plan(self) -> PrecisionPlan:
        """La precisión pedida, o con "auto" la más rápida midiendo pasos sobre una copia."""
        if self.snapshot is not None:  # al reanudar, la que se eligió al empezar
            return PrecisionPlan(self.snapshot["precision"])
        if self.config.precision != "auto":
            return resolve_precision(self.device, self.config.precision)
        candidates = candidate_precisions(self.device)
        if len(candidates) == 1:
            return candidates[0]
        t0 = time.perf_counter()
        best, ms = measure_precisions(self.model, self.loss_fn, self.probe_batch(), self.device, candidates)
        # Todos los procesos entrenan con lo que midió el 0 (si no, dejarían de ser el mismo run).
        name, ms = broadcast_from_main((best.name, ms), self.env)
        self.history.precision_ms = ms
        self.history.precision_seconds = round(time.perf_counter() - t0, 3)
        return PrecisionPlan(name)

    # ----------------------------------------------------------------- evaluación

    def mean_loss(self, batches: list) -> float:
        """Pérdida media sobre ``batches``: cada proceso evalúa una parte y se suman entre todos."""
        mine = batches[self.env.rank::self.env.world_size]
        total, weight = all_reduce_sum(list(loss_sum(self.model, mine, self.loss_fn, self.autocast)),
                                       self.env, self.device)
        return total / max(weight, 1)

    def evaluate(self, step: int, sets: dict[str, list]) -> None:
        """Pérdida de validación y de entrenamiento sobre los lotes fijos ``sets``."""
        self.flush()
        t = time.perf_counter()
        h = self.history
        h.eval_steps.append(step)
        h.val_loss.append(self.mean_loss(sets["val"]))
        h.eval_train_loss.append(self.mean_loss(sets["train"]))
        h.eval_seconds += time.perf_counter() - t

    def notify(self, step: int) -> bool:
        """Llama al callback con el modelo en modo evaluación; devuelve si pide parar."""
        if self.callback is None:
            return False
        self.flush()
        stop = False
        if self.env.is_main:  # el callback solo corre en el proceso 0; los demás siguen su decisión
            self.model.eval()
            stop = bool(self.callback(step, self.model, self.history))
            self.model.train()
        return bool(broadcast_from_main(stop, self.env))

    # ----------------------------------------------------------------- pasos

    def optimization_step(self, step: int) -> None:
        """El paso ``step`` (0 = el primero) de AdamW y su registro (la pérdida queda pendiente)."""
        t0 = time.perf_counter()
        lr = lr_at(step, self.config)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        batch = self.next_batch("train")  # el lote global, el mismo en todos los procesos
        loss = self.backward(shard(batch, self.env.rank, self.env.world_size))
        if self.config.grad_clip:
            nn.utils.clip_grad_norm_(self.parameters, self.config.grad_clip, foreach=True)
        self.optimizer.step()
        self.pending.append(loss)
        h = self.history
        elapsed = time.perf_counter() - t0
        if self.config.compile and step == 0:  # el primer paso compila: se anota aparte
            h.compile_seconds = elapsed
        else:
            h.seconds += elapsed
        h.tokens += count_tokens(batch)
        h.steps.append(step + 1)
        h.lr.append(lr)

    def flush(self) -> None:
        """Lee las pérdidas pendientes (una espera y, con varios procesos, un all-reduce)."""
        if not self.pending:
            return
        t0 = time.perf_counter()
        losses = torch.stack(self.pending).double()
        if self.env.enabled:  # la pérdida del lote global: la media de las de cada proceso
            torch.distributed.all_reduce(losses, op=torch.distributed.ReduceOp.SUM)
            losses /= self.env.world_size
        values = losses.tolist()
        self.pending.clear()
        h = self.history
        first = len(h.train_loss) + 1
        h.train_loss.extend(values)
        h.seconds += time.perf_counter() - t0
        for i, value in enumerate(values):
            if not math.isfinite(value):
                raise FloatingPointError(
                    f"La pérdida se volvió {value} en el paso {first + i}: prueba una tasa de "
                    f"aprendizaje menor que lr={self.config.lr} o un grad_clip más estricto."
                )

    def backward(self, local) -> torch.Tensor:
        """Gradiente del trozo ``local`` de este proceso, en ``grad_accum_steps`` microlotes.

        Cada microlote aporta su pérdida media / k, así que el gradiente acumulado es el de la
        media del trozo. El all-reduce de DDP solo se hace en el último (``no_sync`` en los
        demás). Devuelve la pérdida media del trozo (sin gradiente, en el dispositivo).
        """
        k = self.config.grad_accum_steps
        self.optimizer.zero_grad(set_to_none=True)
        total = torch.zeros((), device=self.device)
        with self.plan.step(self.device):
            for i in range(k):
                micro = to_device(shard(local, i, k), self.device)
                last = i == k - 1
                sync = contextlib.nullcontext() if last or not self.env.enabled else self.ddp.no_sync()
                with sync:
                    with self.plan.forward(self.device):
                        loss = self.loss_fn(self.step_model, micro)
                    (loss / k).backward()
                total += loss.detach().float() / k
        return total

    def loop(self) -> int:
        """Evalúa al empezar y cada ``eval_interval`` pasos y entrena hasta ``max_iters`` pasos
        o hasta que el callback pida parar; devuelve los pasos dados."""
        from tqdm.auto import tqdm

        cfg = self.config
        self.model.train()
        step = self.restore()
        if step == 0 and cfg.eval_interval:
            self.evaluate(0, self.eval_sets)
        stop = self.notify(step)
        # Sin pasar disable cuando progress=True: así TQDM_DISABLE=1 (CI) sigue pudiendo apagarla.
        quiet = {} if cfg.progress and self.env.is_main else {"disable": True}
        with tqdm(total=cfg.max_iters, initial=step, desc="entrenando", mininterval=0.5, **quiet) as bar:
            while step < cfg.max_iters and not stop:
                self.optimization_step(step)
                step += 1
                if cfg.eval_interval and step % cfg.eval_interval == 0 and step < cfg.max_iters:
                    self.evaluate(step, self.eval_sets)
                    bar.set_postfix(val=f"{self.history.val_loss[-1]:.3f}", refresh=False)
                if self.resume is not None and step % self.resume.every == 0 and step < cfg.max_iters:
                    self.flush()
                    save_snapshot(self.resume, step, cfg, self.model, self.optimizer, self.history,
                                  self.next_batch.generator, self.plan.name)
                bar.update(1)
                if step % self.LOG_EVERY == 0:
                    self.flush()
                    bar.set_postfix(loss=f"{self.history.train_loss[-1]:.3f}", refresh=False)
                stop = self.notify(step)
        self.flush()
        return step

    def restore(self) -> int:
        """Con un punto de control guardado, vuelve a su estado y devuelve sus pasos; si no, 0."""
        if self.snapshot is None:
            return 0
        self.history = restore_snapshot(self.snapshot, self.model, self.optimizer, self.next_batch.generator)
        step, self.snapshot = self.snapshot["step"], None
        return step

    def final_evaluation(self, step: int) -> None:
        """La evaluación del final, sobre ``final_eval_iters`` lotes fijos nuevos (más precisa)."""
        cfg = self.config
        sets = self.fixed_batches(cfg.final_eval_iters, cfg.seed + 2) if cfg.final_eval_iters else self.eval_sets
        self.evaluate(step, sets)


def train(
    model: nn.Module,
    config: TrainConfig | None = None,
    data=None,
    *,
    get_batch: Callable[[str], Any] | None = None,
    loss_fn: LossFn | None = None,
    callback: Callback | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    resume: Resume | None = None,
) -> History:
    """Entrena ``model`` y devuelve su :class:`~transformer_lib.training.History`.

    Dos formas de darle datos:

    - Texto (GPT): ``data=(train_ids, val_ids)`` (o un ``QuijoteData``); los lotes son ventanas
      al azar de ``config.block_size`` tokens y la pérdida es la de ``model(x, y)``.
    - Cualquier otra cosa: ``get_batch(split)`` devuelve un lote de "train" o "val" y
      ``loss_fn(model, batch)`` su pérdida escalar (por ejemplo ``DatesTask.batch_source`` y
      ``DatesTask.loss`` para el Transformer del capítulo 7).

    En cada paso: tasa de aprendizaje de :func:`~transformer_lib.training.lr_at`, pérdida (con
    autocast bf16 si ``config.precision`` lo pide), retropropagación, recorte del gradiente y
    paso de AdamW. Cada ``eval_interval`` pasos (y al principio y al final) estima la pérdida de
    entrenamiento y validación sobre ``eval_iters`` lotes fijos; al final usa
    ``final_eval_iters`` lotes.

    Qué toca fuera del modelo: nada que dure más que la llamada. Los lotes de texto salen de un
    ``torch.Generator`` propio sembrado con ``config.seed``. El generador global de PyTorch (el
    que usa el dropout) se siembra con ``config.seed`` al empezar y, al terminar, vuelve al
    estado que tenía; ``random`` y NumPy no se tocan. Si das ``config.num_threads``, PyTorch usa
    esos hilos durante el entrenamiento y después recupera los de antes. La inicialización del
    modelo es anterior: siémbrala tú (``set_seed``) antes de construirlo.

    En varios procesos (lanzado con ``torchrun``; ver :mod:`~transformer_lib.training.distributed`)
    entrena con paralelismo de datos: ``config.batch_size`` sigue siendo el lote global, que se
    reparte entre los procesos; las ventanas, las pérdidas registradas y los pesos finales son
    los de un solo proceso (dentro del redondeo, y con dropout 0). Todos los procesos devuelven
    el mismo historial; el callback y la barra de progreso solo corren en el proceso 0.
    ``loss_fn`` debe llamar al modelo como ``model(...)`` (es el envoltorio
    ``DistributedDataParallel``, que suma los gradientes) y todos sus parámetros deben recibir
    gradiente.

    Parámetros:
        model: el modelo (se mueve a ``config.device`` y queda en modo entrenamiento).
        config: hiperparámetros; None usa ``TrainConfig()``.
        data: ids de entrenamiento y validación (caso de texto).
        get_batch: fuente de lotes genérica, ``get_batch(split) -> lote``.
        loss_fn: pérdida genérica, ``loss_fn(model, lote) -> escalar``.
        callback: ``callback(step, model, history)``, llamada con step=0 antes de empezar y
            después de cada paso (con el modelo en modo evaluación; en el proceso 0); si
            devuelve True, el entrenamiento se detiene (en todos los procesos).
        optimizer: optimizador propio; None usa :func:`make_optimizer`.
        resume: dónde guardar un punto de control cada ``resume.every`` pasos y, si ya hay uno,
            seguir desde él (ver :mod:`~transformer_lib.training.resume`); solo con texto y en
            un proceso. El entrenamiento reanudado acaba igual, bit a bit, que uno sin cortes.

    Devuelve:
        El :class:`~transformer_lib.training.History` del entrenamiento.
    """
    config = config or TrainConfig()
    if (data is None) == (get_batch is None):
        raise ValueError("Pasa data=(train_ids, val_ids) para texto o get_batch=función, uno de los dos.")
    check_batch_split(config.batch_size, current_env(), config.grad_accum_steps)  # antes de esperar a nadie
    if resume is not None and (data is None or current_env().enabled):
        raise ValueError("resume solo vale para texto (data=…) en un solo proceso, no con get_batch "
                         "ni con torchrun.")
    device = get_device(config.device)
    with process_group(device) as env:
        device = device_for(device, env)
        # Dropout distinto en cada proceso (cada uno ve filas distintas); el 0 usa la semilla tal cual.
        with torch_threads(config.num_threads), seeded_torch_rng(config.seed + env.rank, device):
            model.to(device)
            if data is not None:
                sources = text_sources(data, config.block_size, config.batch_size, config.seed, device)
                checked = checked_text_data(model, data)
            else:
                sources = generic_sources(get_batch, device)
                checked = contextlib.nullcontext()
            optimizer = optimizer or make_optimizer(model, config)
            with checked:
                run = _Run(model, config, sources, loss_fn or default_loss, optimizer, callback,
                           env, device, text=data is not None, resume=resume)
                try:
                    steps = run.loop()
                    run.final_evaluation(steps)
                finally:  # DDP suelta el grupo antes de que se cierre (si no, su destructor espera)
                    run.ddp = run.step_model = None
    return run.history
