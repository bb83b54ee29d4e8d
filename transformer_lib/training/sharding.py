"""La memoria del entrenamiento y cómo se reparte entre procesos: ZeRO y FSDP2 (capítulo 9a).

Con AdamW en precisión mixta, cada parámetro cuesta unos **16 bytes** durante el
entrenamiento (Rajbhandari et al., 2020): 2 de su copia en 16 bits, 2 de su gradiente en 16
bits y 12 del estado del optimizador en 32 bits (la copia maestra del peso y los dos momentos
de Adam). El paralelismo de datos puro (DDP) guarda todo eso **entero en cada proceso**; ZeRO
lo reparte en tres etapas: el estado del optimizador (1), también los gradientes (2) y también
los pesos (3). FSDP2 de PyTorch (``torch.distributed.fsdp.fully_shard``) es la etapa 3.

- :func:`training_memory`: los bytes por proceso de cada etapa, con su desglose.
- :func:`run_sharded`: unos pasos de AdamW de un GPT pequeño con ``fully_shard`` (o sin
  repartir, en un solo proceso) sobre lotes fijos: lanzado con ``torchrun`` muestra que cada
  proceso guarda 1/N de los parámetros y que las pérdidas son las de un solo proceso.

Desde la terminal (gloo en CPU; imprime un JSON por proceso 0)::

    torchrun --standalone --nproc_per_node=2 -m transformer_lib.training.sharding
    python -m transformer_lib.training.sharding          # la referencia, en un proceso
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from dataclasses import asdict, dataclass

import torch

from ..models import GPT, GPTConfig
from .distributed import check_batch_split, process_group, shard

__all__ = ["BYTES_PER_PARAMETER", "MemoryPerRank", "training_memory", "run_sharded"]

# Bytes por parámetro con AdamW en precisión mixta: peso y gradiente en 16 bits; copia maestra
# del peso y los dos momentos de Adam en 32 bits.
BYTES_PER_PARAMETER = {"weights": 2, "gradients": 2, "optimizer": 4 + 4 + 4}


@dataclass(frozen=True)
class MemoryPerRank:
    """Bytes que guarda cada proceso para entrenar (sin las activaciones).

    Atributos:
        stage: 0 = DDP (nada repartido); 1, 2, 3 = etapas de ZeRO (3 = FSDP).
        world_size: procesos entre los que se reparte.
        weights, gradients, optimizer: bytes de cada parte en un proceso.
    """

    stage: int
    world_size: int
    weights: float
    gradients: float
    optimizer: float

    @property
    def total(self) -> float:
        """Bytes por proceso."""
        return self.weights + self.gradients + self.optimizer

    def to_dict(self) -> dict:
        """Como diccionario, con el total."""
        return {**asdict(self), "total": self.total}


def training_memory(n_params: float, world_size: int = 1, stage: int = 0) -> MemoryPerRank:
    """Los bytes por proceso de entrenar ``n_params`` parámetros con AdamW en precisión mixta.

    Parámetros:
        n_params: parámetros del modelo.
        world_size: procesos de datos entre los que se reparte.
        stage: 0 (DDP: cada proceso lo guarda todo), 1 (ZeRO-1: se reparte el estado del
            optimizador), 2 (ZeRO-2: también los gradientes) o 3 (ZeRO-3 / FSDP: también los pesos).

    Devuelve:
        Un :class:`MemoryPerRank`; con stage 0, 16·N bytes en cada proceso.
    """
    if not n_params > 0:
        raise ValueError(f"n_params debe ser positivo y es {n_params!r}.")
    if not (isinstance(world_size, int) and world_size >= 1):
        raise ValueError(f"world_size debe ser un entero >= 1 y es {world_size!r}.")
    if stage not in (0, 1, 2, 3):
        raise ValueError(f"stage debe ser 0, 1, 2 o 3 (las etapas de ZeRO) y es {stage!r}.")
    split = {"optimizer": stage >= 1, "gradients": stage >= 2, "weights": stage >= 3}
    parts = {name: n_params * BYTES_PER_PARAMETER[name] / (world_size if split[name] else 1)
             for name in BYTES_PER_PARAMETER}
    return MemoryPerRank(stage, world_size, **parts)


def run_sharded(steps: int = 5, batch_size: int = 8, seed: int = 0, config: GPTConfig | None = None) -> dict:
    """Unos pasos de AdamW de un GPT, repartido con FSDP2 si hay varios procesos.

    Todos los procesos sortean el mismo lote global (``batch_size`` ventanas al azar, con la
    misma semilla; cada ventana cuenta de uno en uno desde un inicio al azar, algo que el modelo
    aprende en pocos pasos) y cada uno se queda con su trozo (:func:`~transformer_lib.training.shard`);
    ``fully_shard`` reparte los parámetros de cada bloque y del modelo entero y promedia los
    gradientes (reduce-scatter). En un solo proceso no se reparte nada: es la referencia.

    Devuelve:
        ``rank``, ``world_size``, ``params_total``, ``params_local`` (los que guarda este
        proceso), ``losses`` (la pérdida del lote global en cada paso, igual en todos) y
        ``sharded`` (si se usó ``fully_shard``).
    """
    config = config or GPTConfig(vocab_size=64, block_size=32, n_layer=2, n_head=2, d_model=64, dropout=0.0)
    with process_group("cpu") as env:
        check_batch_split(batch_size, env)
        torch.manual_seed(seed)
        model = GPT(config)
        total = sum(p.numel() for p in model.parameters())
        if env.enabled:
            from torch.distributed.fsdp import fully_shard

            for block in model.blocks:  # cada bloque, su grupo: se reúne justo antes de usarlo
                fully_shard(block)
            fully_shard(model)
        local = sum((p.to_local() if hasattr(p, "to_local") else p).numel() for p in model.parameters())
        opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
        gen = torch.Generator().manual_seed(seed + 1)
        losses = []
        for _ in range(steps):
            # Ventanas que cuentan de uno en uno desde un inicio al azar: algo que aprender pronto.
            start = torch.randint(config.vocab_size, (batch_size, 1), generator=gen)  # (B, 1)
            x = (start + torch.arange(config.block_size + 1)) % config.vocab_size  # (B, T + 1)
            mine = shard(x, env.rank, env.world_size)  # (B, T + 1) -> (B / N, T + 1)
            _, loss = model(mine[:, :-1], mine[:, 1:])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if env.enabled:  # la pérdida del lote global: la media de las de todos los trozos
                loss = loss.detach().clone()
                torch.distributed.all_reduce(loss)
                loss /= env.world_size
            losses.append(round(float(loss.detach()), 6))
        result = {"rank": env.rank, "world_size": env.world_size, "params_total": total,
                  "params_local": local, "losses": losses, "sharded": env.enabled}
        # Soltar el modelo repartido (y sus hilos de comunicación) antes de cerrar el grupo, y
        # esperar a que todos lleguen: si no, un proceso puede abortar al salir.
        del opt, model
        gc.collect()
        if env.enabled:
            torch.distributed.barrier()
    return result


def main(argv: list[str] | None = None) -> int:
    """``python -m transformer_lib.training.sharding``: imprime el JSON de :func:`run_sharded`."""
    parser = argparse.ArgumentParser(prog="python -m transformer_lib.training.sharding",
                                     description="Unos pasos de un GPT repartido con FSDP2 (con torchrun).")
    parser.add_argument("--steps", type=int, default=5, help="pasos de AdamW (por defecto: 5)")
    parser.add_argument("--batch-size", type=int, default=8, help="lote global (por defecto: 8)")
    args = parser.parse_args(argv)
    try:
        result = run_sharded(steps=args.steps, batch_size=args.batch_size)
    except (ValueError, RuntimeError) as err:  # un lote que no se reparte, un lanzamiento roto
        print(f"error: {err}", file=sys.stderr)
        return 2
    if result["rank"] == 0:
        print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
