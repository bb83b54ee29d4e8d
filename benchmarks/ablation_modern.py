"""Ablación del capítulo 11: del bloque de GPT-2 al de Llama, una pieza cada vez, en el Quijote.

La escalera (cada peldaño añade una pieza al anterior):

1. ``gpt2``: LayerNorm, posiciones aprendidas, MLP GELU de d_ff = 4·d_model, atención multi-cabeza.
2. ``+rmsnorm``: RMSNorm en lugar de LayerNorm.
3. ``+rope``: RoPE en lugar de posiciones aprendidas.
4. ``+swiglu``: SwiGLU con d_ff = 8/3·d_model (los mismos pesos que la MLP).
5. ``+gqa``: atención de consultas agrupadas con n_kv_head = n_head / 2; los pesos que
   ahorran W^K y W^V se devuelven a la FFN (d_ff un poco mayor), para no comparar
   modelos más pequeños.

Todos los peldaños se entrenan con el mismo número de pasos, la misma receta y las mismas
semillas (al menos dos), y con casi los mismos parámetros sin embeddings (se anotan). El
resultado es un JSON escrito de forma atómica con la orden, el entorno (máquina, versiones,
commit), el tiempo de cada entrenamiento y la pérdida de validación de cada semilla, en nats
por token y en bits por carácter.

Uso::

    python benchmarks/ablation_modern.py                       # la de results/ (horas en CPU)
    python benchmarks/ablation_modern.py --max-iters 20 --seeds 1 --out /tmp/abl.json  # prueba
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time

import torch

from transformer_lib import GPT, GPTConfig, TrainConfig, train
from transformer_lib.data import bits_per_char, prepare_quijote
from transformer_lib.feedforward import swiglu_hidden_size
from transformer_lib.files import write_json_atomic
from transformer_lib.scaling import sweep_metadata

RUNGS = ("gpt2", "+rmsnorm", "+rope", "+swiglu", "+gqa")


def ladder(vocab_size: int, block_size: int, n_layer: int, n_head: int, d_model: int) -> dict[str, GPTConfig]:
    """Las cinco configuraciones de la escalera, cada una con una pieza más que la anterior."""
    base = dict(vocab_size=vocab_size, block_size=block_size, n_layer=n_layer, n_head=n_head, d_model=d_model)
    n_kv = max(1, n_head // 2)
    d_kv = n_kv * (d_model // n_head)
    # GQA ahorra 2·d·(d − d_kv) pesos por bloque; SwiGLU los recupera con 3·d por unidad de d_ff.
    gqa_d_ff = round(swiglu_hidden_size(d_model) + 2 * (d_model - d_kv) / 3)
    steps = [
        {},
        {"norm": "rmsnorm"},
        {"position": "rope"},
        {"ffn": "swiglu"},
        {"n_kv_head": n_kv, "d_ff": gqa_d_ff},
    ]
    configs, fields = {}, dict(base)
    for name, change in zip(RUNGS, steps, strict=True):
        fields.update(change)
        configs[name] = GPTConfig(**fields)
    return configs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/ablation_modern.json", help="el JSON de resultados")
    parser.add_argument("--seeds", type=int, default=2, help="semillas por peldaño (al menos 2 para ver la dispersión)")
    parser.add_argument("--max-iters", type=int, default=2000)
    parser.add_argument("--n-layer", type=int, default=4)
    parser.add_argument("--n-head", type=int, default=4)
    parser.add_argument("--d-model", type=int, default=128)
    parser.add_argument("--block-size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=1, help="hilos de PyTorch")
    parser.add_argument("--rungs", default=",".join(RUNGS), help="peldaños a entrenar, separados por comas")
    args = parser.parse_args(argv)
    rungs = args.rungs.split(",")
    unknown = sorted(set(rungs) - set(RUNGS))
    if unknown:
        parser.error(f"peldaños desconocidos {unknown}: usa algunos de {', '.join(RUNGS)}")
    command = "python benchmarks/ablation_modern.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    meta = sweep_metadata(command=command, torch_threads=args.threads)
    data = prepare_quijote()
    configs = ladder(data.tokenizer.vocab_size, args.block_size, args.n_layer, args.n_head, args.d_model)
    start, rows = time.perf_counter(), []
    for name in rungs:
        config, runs = configs[name], []
        for seed in range(args.seeds):
            recipe = TrainConfig(max_iters=args.max_iters, batch_size=args.batch_size, block_size=args.block_size,
                                 lr=args.lr, warmup_iters=min(100, args.max_iters // 10), eval_interval=0,
                                 seed=seed, device="cpu", num_threads=args.threads, progress=False)
            torch.manual_seed(seed)
            model = GPT(config)
            history = train(model, recipe, data)
            runs.append({"seed": seed, "val_loss": round(history.final_val_loss, 4),
                         "val_bpc": round(bits_per_char(history.final_val_loss), 4),
                         "train_loss": round(history.final_train_loss, 4),
                         "seconds": round(history.seconds, 1), "ms_per_iter": round(history.ms_per_iter, 2)})
            print(f"{name:>9} semilla {seed}: val {history.final_val_loss:.4f} "
                  f"({runs[-1]['val_bpc']:.3f} bits/carácter), {history.seconds:.0f} s", flush=True)
        losses = [r["val_loss"] for r in runs]
        rows.append({"rung": name, "config": config.to_dict(),
                     "non_embedding_params": model.count_parameters().non_embedding,
                     "params": model.count_parameters().total, "runs": runs,
                     "val_loss_mean": round(statistics.mean(losses), 4),
                     "val_loss_spread": round(max(losses) - min(losses), 4)})
    meta["wall_seconds"] = round(time.perf_counter() - start, 1)
    meta["recipe"] = recipe.to_dict() | {"seeds": list(range(args.seeds))}
    write_json_atomic(args.out, {**meta, "rungs": rows})
    print(f"\nResultados en {args.out} ({meta['wall_seconds']:.0f} s)")
    for row in rows:
        print(f"{row['rung']:>9}: {row['val_loss_mean']:.4f} ± {row['val_loss_spread'] / 2:.4f} nats/carácter, "
              f"{row['non_embedding_params']:,} parámetros sin embeddings")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
