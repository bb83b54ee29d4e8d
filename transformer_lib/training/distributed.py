"""Paralelismo de datos con ``torch.distributed``: el mismo entrenamiento repartido en N procesos.

Cuando lanzas ``torchrun --standalone --nproc_per_node=N -m transformer_lib train …`` (o
cualquier script que llame a :func:`~transformer_lib.training.train`), ``torchrun`` arranca N
procesos con las variables ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` y
``MASTER_PORT``. :func:`process_group` las lee, une los procesos en un grupo (gloo en CPU,
nccl en GPU CUDA) y lo cierra siempre al salir; sin esas variables no hace nada y el
entrenamiento es el de un solo proceso.

Cómo se reparte un paso (lo hace el bucle de :mod:`~transformer_lib.training.loop`):

- ``batch_size`` es el lote **global**: todos los procesos sortean las mismas ventanas, con el
  mismo generador, que sortearía un solo proceso, y cada uno se queda con su trozo
  (:func:`shard`: el proceso r toma las filas ``r·B/N … (r+1)·B/N``). Las ventanas y su orden
  son idénticos a los de un proceso.
- Cada proceso calcula la pérdida media de su trozo y su gradiente; ``DistributedDataParallel``
  suma los gradientes de todos (all-reduce) y los divide entre N. Como los trozos son del mismo
  tamaño, la media de las medias es la media del lote global: el paso de AdamW es el mismo que
  daría un proceso con el lote entero (salvo el redondeo de coma flotante y el dropout, que
  sortea máscaras distintas).
- Con acumulación de gradiente (``grad_accum_steps`` = k) el trozo de cada proceso se parte en
  k microlotes; el all-reduce se salta (``no_sync``) en todos menos el último.
- La evaluación también se reparte: cada proceso evalúa una parte de los lotes fijos y se suman
  las pérdidas (all-reduce), así que todos obtienen el mismo número y paran a la vez. La barra
  de progreso, el callback, el resumen y el checkpoint son cosa del proceso 0
  (:func:`is_main_process`).

Un lanzamiento roto (``WORLD_SIZE`` sin ``MASTER_ADDR``, un ``RANK`` fuera de rango, procesos
que no llegan) da un error en español en lugar de quedarse colgado: la espera tiene un límite
de ``TRANSFORMER_LIB_DIST_TIMEOUT`` segundos (120 por defecto).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

_TIMEOUT_VAR = "TRANSFORMER_LIB_DIST_TIMEOUT"
_DEFAULT_TIMEOUT_S = 120.0
_groups_opened = 0  # grupos abiertos por este proceso (todos los procesos abren los mismos)
_LAUNCH_HINT = ("Lanza los procesos con torchrun (p. ej. `torchrun --standalone --nproc_per_node=2 -m "
                "transformer_lib train …`), que define RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR y "
                "MASTER_PORT, o quita WORLD_SIZE para entrenar en un solo proceso.")


@dataclass(frozen=True)
class DistributedEnv:
    """Qué proceso soy dentro de un entrenamiento repartido.

    Atributos:
        rank: número de este proceso entre todos (0 … world_size - 1).
        world_size: número total de procesos (1 = sin repartir).
        local_rank: número de este proceso dentro de su máquina (elige la GPU).
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Si es el proceso 0, el que escribe, registra y guarda."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        """Si hay más de un proceso."""
        return self.world_size > 1


def _env_int(environ: Mapping[str, str], name: str, default: int) -> int:
    text = environ.get(name)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"La variable de entorno {name}={text!r} debe ser un entero. {_LAUNCH_HINT}") from None


def distributed_env(environ: Mapping[str, str] | None = None) -> DistributedEnv:
    """Lee de las variables de entorno (las que pone ``torchrun``) qué proceso soy.

    Parámetros:
        environ: las variables; None = ``os.environ``.

    Devuelve:
        El :class:`DistributedEnv`; sin ``WORLD_SIZE``, el de un solo proceso.

    Lanza:
        ValueError: si las variables no forman un lanzamiento válido (en español, con qué falta).
    """
    environ = os.environ if environ is None else environ
    world = _env_int(environ, "WORLD_SIZE", 1)
    rank = _env_int(environ, "RANK", 0)
    local = _env_int(environ, "LOCAL_RANK", rank)
    if world < 1 or not 0 <= rank < world or not 0 <= local < world:
        raise ValueError(f"Lanzamiento distribuido no válido: RANK={rank}, LOCAL_RANK={local} y WORLD_SIZE="
                         f"{world}; hace falta 0 <= RANK < WORLD_SIZE. {_LAUNCH_HINT}")
    if world > 1 and not dist.is_initialized():
        missing = [name for name in ("RANK", "MASTER_ADDR", "MASTER_PORT") if not environ.get(name)]
        if missing:
            raise ValueError(f"WORLD_SIZE={world} pide {world} procesos, pero falta {', '.join(missing)}: "
                             f"sin dirección no se pueden encontrar. {_LAUNCH_HINT}")
    return DistributedEnv(rank, world, local)


def current_env() -> DistributedEnv:
    """El :class:`DistributedEnv` de este proceso: el del grupo si ya está abierto, o el del entorno."""
    if dist.is_available() and dist.is_initialized():
        env = distributed_env()
        return DistributedEnv(dist.get_rank(), dist.get_world_size(), env.local_rank)
    return distributed_env()


def is_main_process() -> bool:
    """Si este proceso es el 0 (o el único): el que debe imprimir, registrar y guardar."""
    return current_env().is_main


def _timeout_s() -> float:
    text = os.environ.get(_TIMEOUT_VAR)
    try:
        value = float(text) if text else _DEFAULT_TIMEOUT_S
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ValueError(f"{_TIMEOUT_VAR}={text!r} debe ser un número de segundos positivo.")
    return value


@contextlib.contextmanager
def process_group(device: torch.device | str = "cpu") -> Iterator[DistributedEnv]:
    """Abre el grupo de procesos si el entorno lo pide y lo cierra siempre al salir.

    Sin ``WORLD_SIZE`` > 1 no hace nada. Si el grupo ya está abierto (por ti o por una
    llamada de fuera, como la de la línea de órdenes) lo usa y no lo cierra.

    Parámetros:
        device: dispositivo del entrenamiento; elige el backend (nccl en CUDA, gloo en lo demás).

    Devuelve:
        El :class:`DistributedEnv` de este proceso (como valor del ``with``).

    Lanza:
        ValueError: si el lanzamiento no es válido o se pide repartir en Apple MPS.
        RuntimeError: si los demás procesos no aparecen en ``TRANSFORMER_LIB_DIST_TIMEOUT`` segundos.
    """
    env = distributed_env()
    device = torch.device(device)
    if not env.enabled or dist.is_initialized():
        yield current_env()
        return
    if device.type == "mps":
        raise ValueError("El entrenamiento en varios procesos no funciona en Apple MPS: usa device='cpu'.")
    backend = "nccl" if device.type == "cuda" else "gloo"
    timeout = _timeout_s()
    if device.type == "cuda":
        torch.cuda.set_device(env.local_rank)
    global _groups_opened
    try:
        delta = datetime.timedelta(seconds=timeout)
        store, rank, world = next(dist.rendezvous("env://", timeout=delta))
        # Un prefijo por grupo: con torchrun el almacén de claves dura lo que el lanzamiento, y un
        # segundo grupo en el mismo proceso leería las direcciones viejas del primero.
        store = dist.PrefixStore(f"transformer_lib/{_groups_opened}", store)
        _groups_opened += 1
        dist.init_process_group(backend, store=store, rank=rank, world_size=world, timeout=delta)
    except (RuntimeError, ValueError) as err:  # DistStoreError y compañía son RuntimeError
        raise RuntimeError(
            f"El proceso {env.rank} de {env.world_size} no pudo unirse al grupo ({backend}, "
            f"{os.environ.get('MASTER_ADDR')}:{os.environ.get('MASTER_PORT')}) en {timeout:g} s: "
            f"{' '.join(str(err).split())[:300]}. Comprueba que lanzaste los {env.world_size} procesos con "
            f"la misma dirección y puerto (usa 127.0.0.1 mejor que localhost) o sube {_TIMEOUT_VAR}."
        ) from err
    try:
        yield env
    finally:
        dist.destroy_process_group()


def device_for(device: torch.device, env: DistributedEnv) -> torch.device:
    """La GPU de este proceso (``cuda:LOCAL_RANK``) si se reparte en CUDA; si no, ``device``."""
    if env.enabled and device.type == "cuda":
        return torch.device("cuda", env.local_rank)
    return device


def check_batch_split(batch_size: int, env: DistributedEnv, grad_accum_steps: int = 1) -> int:
    """Comprueba que el lote global se reparte en trozos iguales; devuelve el tamaño de cada uno.

    Parámetros:
        batch_size: el lote global (ventanas por paso de AdamW).
        env: los procesos.
        grad_accum_steps: microlotes por proceso y paso.

    Devuelve:
        Ejemplos por microlote de cada proceso.

    Lanza:
        ValueError: si ``batch_size`` no es múltiplo de procesos × microlotes.
    """
    parts = env.world_size * grad_accum_steps
    if batch_size % parts:
        raise ValueError(
            f"El lote global batch_size={batch_size} no se reparte en partes iguales entre "
            f"{env.world_size} proceso(s) × {grad_accum_steps} microlote(s) = {parts}: usa un "
            f"batch_size múltiplo de {parts} (p. ej. {max(parts, batch_size - batch_size % parts)})."
        )
    return batch_size // parts


def shard(batch: Any, index: int, parts: int) -> Any:
    """La parte ``index`` de ``parts`` de un lote, cortado por su primera dimensión.

    Sirve para tensores y para tuplas, listas, diccionarios y dataclasses de tensores (todos con
    la misma primera dimensión); lo que haya dentro y no sea tensor se deja igual.

    Parámetros:
        batch: el lote.
        index: qué parte (0 … parts - 1).
        parts: en cuántas partes iguales se corta.

    Devuelve:
        El trozo, del mismo tipo que ``batch``; con ``parts=1``, el propio ``batch``.

    Lanza:
        ValueError: si la primera dimensión no es múltiplo de ``parts``.
        TypeError: si ``batch`` no es de ninguno de esos tipos (no sé cómo partirlo).

    Formas:
        cada tensor (B, …) -> (B / parts, …).
    """
    if parts == 1:
        return batch
    if not (isinstance(batch, (torch.Tensor, tuple, list, dict)) or _is_dataclass_instance(batch)):
        raise TypeError(f"No sé partir un lote de tipo {type(batch).__name__} entre procesos o microlotes: "
                        "get_batch debe devolver un tensor o una tupla, lista, dict o dataclass de tensores.")
    return _cut(batch, index, parts)


def _is_dataclass_instance(obj: Any) -> bool:
    return dataclasses.is_dataclass(obj) and not isinstance(obj, type)


def _cut(batch: Any, index: int, parts: int) -> Any:
    if isinstance(batch, torch.Tensor):
        if batch.dim() == 0 or batch.shape[0] % parts:
            raise ValueError(f"No puedo partir un lote de forma {tuple(batch.shape)} en {parts} trozos "
                             f"iguales por su primera dimensión: usa un batch_size múltiplo de {parts}.")
        size = batch.shape[0] // parts
        return batch[index * size:(index + 1) * size]
    if isinstance(batch, (tuple, list)):
        return type(batch)(_cut(b, index, parts) for b in batch)
    if isinstance(batch, dict):
        return {k: _cut(v, index, parts) for k, v in batch.items()}
    if _is_dataclass_instance(batch):
        changes = {f.name: _cut(getattr(batch, f.name), index, parts)
                   for f in dataclasses.fields(batch) if isinstance(getattr(batch, f.name), torch.Tensor)}
        return dataclasses.replace(batch, **changes)
    return batch


def all_reduce_sum(values: list[float], env: DistributedEnv, device: torch.device) -> list[float]:
    """Suma ``values`` entre todos los procesos (en float64); sin repartir, los devuelve tal cual."""
    if not env.enabled:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.tolist()


def broadcast_from_main(value: Any, env: DistributedEnv | None = None) -> Any:
    """El ``value`` del proceso 0, en todos los procesos (un objeto de Python que se pueda
    serializar); sin repartir, el propio ``value``."""
    env = env or current_env()
    if not env.enabled:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def wrap_model(model: torch.nn.Module, env: DistributedEnv, device: torch.device) -> torch.nn.Module:
    """Envuelve ``model`` en ``DistributedDataParallel`` si se reparte; si no, lo devuelve igual.

    DDP copia los pesos del proceso 0 a los demás al envolver (todos empiezan iguales) y, en
    cada ``backward``, promedia los gradientes entre procesos por cubetas mientras se calculan.
    """
    if not env.enabled:
        return model
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)


def main_first(fn: Callable[[], Any], env: DistributedEnv | None = None, everywhere: bool = True) -> Any:
    """Ejecuta ``fn()`` primero en el proceso 0 y, si le fue bien, en los demás.

    Para lo que no debe hacerse a la vez (descargar datos) o solo una vez (comprobar la carpeta
    de salida, con ``everywhere=False``). Si ``fn`` falla en el proceso 0, allí se lanza su
    error y los demás terminan con ``SystemExit(1)`` sin escribir nada: todos paran a la vez y
    el mensaje sale una sola vez.

    Parámetros:
        fn: la función, sin argumentos.
        env: los procesos; None = :func:`current_env`.
        everywhere: si los demás procesos también ejecutan ``fn`` (después del 0).

    Devuelve:
        Lo que devuelva ``fn`` en este proceso (None en los demás con ``everywhere=False``).
    """
    env = env or current_env()
    result, error = None, None
    if env.is_main:
        try:
            result = fn()
        except BaseException as err:  # también Ctrl-C: los demás no deben quedarse esperando
            error = err
    failed = broadcast_from_main(error is not None, env)
    if error is not None:
        raise error
    if failed:
        raise SystemExit(1)
    if not env.is_main and everywhere:
        result = fn()
    return result
