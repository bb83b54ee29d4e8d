"""Subcomando ``train``: entrena un GPT de caracteres sobre el Quijote.

Guarda el checkpoint (con ``--out``; antes de cargar datos comprueba que se puede guardar
ahí sin destruir nada, y solo reemplaza un checkpoint anterior con ``--overwrite``) y escribe como última línea un objeto JSON con
``val_loss``, ``train_loss``, ``tokens_per_s``, ``params``, ``seconds``… Las opciones de la
receta son las de :mod:`transformer_lib.cli.recipe`, las mismas que las de ``sweep``.

Funciona igual con ``torchrun --standalone --nproc_per_node=N -m transformer_lib train …``
(paralelismo de datos, ver :mod:`transformer_lib.training.distributed`): ``--batch-size`` es el
lote global, y solo el proceso 0 comprueba ``--out``, guarda el checkpoint e imprime el
resumen; si la comprobación falla, todos los procesos paran antes de entrenar.
"""

from __future__ import annotations

import argparse
import json

import torch

from ..models import GPT, GPTConfig
from ..training.checkpoint import check_checkpoint_path, save_checkpoint
from ..training.distributed import DistributedEnv, check_batch_split, main_first, process_group
from ..training.loop import train
from ..utils import get_device
from .recipe import add_recipe_arguments, prepare_data, recipe_from_args

HELP = "entrena un GPT de caracteres sobre el Quijote"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declara las opciones de ``train``: la receta completa (con el tamaño) y ``--out``."""
    add_recipe_arguments(parser, model_size=True, defaults={"precision": "auto"})
    g = parser.add_argument_group("salida")
    g.add_argument("--out", default=None, metavar="CARPETA", help="carpeta donde guardar el checkpoint (si no se da, no se guarda); "
                   "no debe existir o debe estar vacía")
    g.add_argument("--overwrite", action="store_true",
                   help="reemplaza el checkpoint que ya haya en --out (solo si es un checkpoint de "
                        "transformer_lib: otra cosa nunca se toca)")


def _check(args: argparse.Namespace, env: DistributedEnv):
    """Valida la receta, el reparto del lote y ``--out`` antes de cargar datos o entrenar."""
    gpt_kwargs, config = recipe_from_args(args)
    check_batch_split(config.batch_size, env, config.grad_accum_steps)
    if args.out and env.is_main:
        check_checkpoint_path(args.out, args.overwrite, flag="--out", overwrite_flag="--overwrite")
    return gpt_kwargs, config


def run(args: argparse.Namespace) -> int:
    """Entrena, guarda el checkpoint si se pidió e imprime el resumen en JSON."""
    with process_group(get_device(args.device)) as env:  # con torchrun; si no, no hace nada
        # Primero en el proceso 0: si algo falla, su error sale una vez y todos paran a la vez.
        gpt_kwargs, config = main_first(lambda: _check(args, env), env)
        data = main_first(lambda: prepare_data(args), env)  # descarga una vez
        torch.manual_seed(config.seed)
        model = GPT(GPTConfig(vocab_size=data.tokenizer.vocab_size, **gpt_kwargs))
        history = train(model, config, data)
        if not env.is_main:
            return 0
    counts = model.count_parameters()
    if args.out:
        save_checkpoint(args.out, model, config, data.tokenizer, history, extra={"data": args.data},
                        overwrite=args.overwrite)
    device = next(model.parameters()).device
    result = {
        "val_loss": round(history.final_val_loss, 4),
        "train_loss": round(history.final_train_loss, 4),
        "tokens_per_s": round(history.tokens_per_s, 1),
        "ms_per_iter": round(history.ms_per_iter, 2),
        "seconds": round(history.seconds, 2),
        "eval_seconds": round(history.eval_seconds, 2),
        "iters": len(history.steps),
        "params": counts.total,
        "non_embedding_params": counts.non_embedding,
        "device": str(device),
        "precision": history.precision,
        "precision_ms": history.precision_ms,
        "compile": config.compile,
        "compile_seconds": round(history.compile_seconds, 2),
        "checkpoint": str(args.out) if args.out else None,
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0
