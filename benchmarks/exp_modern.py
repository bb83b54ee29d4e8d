"""Del bloque de GPT-2 al de Llama, medido (capítulo 11): ablación, GQA, RoPE, RMSNorm y BPE.

Los modelos y las medidas están en :mod:`transformer_lib.experiments.modern`; este guion los
recorre con cada semilla y guarda cada fila, de forma atómica, en ``--out``:

- ``ablation``: GPT-2 → + RMSNorm → + RoPE → + SwiGLU → + GQA, con la pérdida de cada
  posición en ventanas de ``--long`` tokens para los peldaños + RMSNorm (posiciones
  aprendidas) y + RoPE, que solo difieren en eso.
- ``kv``: el último bloque con n_kv_head = 1 (los de n_head y n_head/2 son los peldaños
  + SwiGLU y + GQA) y los bytes de caché KV por token de cada uno.
- ``norm_time``: milisegundos por paso con LayerNorm y con RMSNorm, intercalados.
- ``tokenizer``: caracteres frente a BPE de ``--bpe-vocab`` tokens, en bits por carácter.

Uso (unos 25 minutos en un núcleo de la CPU de 2 núcleos):

    python benchmarks/exp_modern.py --out results/modern.json

Prueba rápida: ``python benchmarks/exp_modern.py --quick`` (no escribe nada sin ``--out``).
"""

from __future__ import annotations

import argparse
from dataclasses import asdict

import torch
from _results import ResultsLog

from transformer_lib.data import prepare_quijote
from transformer_lib.experiments.modern import (
    MODERN_RUNGS,
    ModernRecipe,
    kv_bytes_per_token,
    kv_variants,
    loss_by_position,
    modern_configs,
    norm_step_ms,
    tokenizer_pair,
    train_modern,
)

PARTS = ("ablation", "kv", "norm_time", "tokenizer")


def main() -> None:
    p = argparse.ArgumentParser(description="La ablación del capítulo 11 y las medidas de cada pieza moderna.")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--long", type=int, default=256, help="longitud de las ventanas para RoPE frente a posiciones aprendidas")
    p.add_argument("--bpe-vocab", type=int, default=512)
    p.add_argument("--parts", nargs="+", default=list(PARTS), choices=PARTS)
    p.add_argument("--num-threads", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="pocos pasos y una semilla, para comprobar que funciona")
    p.add_argument("--out", default=None, help="archivo JSON (p. ej. results/modern.json)")
    args = p.parse_args()
    recipe = ModernRecipe(steps=args.steps)
    if args.quick:
        args.seeds, args.long = [0], 96
        recipe = ModernRecipe(steps=20, eval_iters=2)
    torch.set_num_threads(args.num_threads)
    data = prepare_quijote()
    vocab = data.tokenizer.vocab_size
    labels = dict(MODERN_RUNGS)
    log = ResultsLog(args.out, {k: v for k, v in vars(args).items() if k != "out"}, threads=args.num_threads,
                     recipe=asdict(recipe), rungs=[list(r) for r in MODERN_RUNGS])
    configs, variants = modern_configs(vocab, recipe), kv_variants(vocab, recipe)
    for seed in args.seeds:
        if "ablation" in args.parts:
            for key, config in configs.items():
                model, row = train_modern(config, data, seed, recipe)
                extra = {}
                if key in ("rmsnorm", "rope"):
                    extra["loss_by_position"] = loss_by_position(model, data.val, args.long, seed=seed)
                log.add({"part": "ablation", "key": key, "label": labels[key], "config": config.to_dict(),
                         "kv_bytes_per_token": kv_bytes_per_token(config), **row, **extra})
                print(f"{labels[key]:>16} semilla {seed}: validación {row['val_loss']:.4f} "
                      f"({row['non_embedding_params']:,d} parámetros sin embeddings, {row['train_seconds']:.0f} s)",
                      flush=True)
        if "kv" in args.parts:
            config = variants[1]
            _, row = train_modern(config, data, seed, recipe)
            log.add({"part": "kv", "key": "mqa", "n_kv_head": 1, "config": config.to_dict(),
                     "kv_bytes_per_token": kv_bytes_per_token(config), **row})
            print(f"{'n_kv_head = 1':>16} semilla {seed}: validación {row['val_loss']:.4f}", flush=True)
        if "tokenizer" in args.parts:
            bpe = prepare_quijote(tokenizer="bpe", vocab_size=args.bpe_vocab)
            for row in tokenizer_pair(data, bpe, recipe, seed):
                log.add({"part": "tokenizer", **row})
                print(f"{row['tokenizer']:>16} semilla {seed}: {row['val_bpc']:.3f} bits/carácter "
                      f"({row['chars_per_token']:.2f} caracteres por token)", flush=True)
    if "norm_time" in args.parts:
        times = norm_step_ms(vocab, recipe, rounds=3 if args.quick else 9)
        for norm, ms in times.items():
            log.add({"part": "norm_time", "norm": norm, "ms_per_step": ms})
            print(f"{norm:>16}: {sorted(ms)[len(ms) // 2]:.2f} ms por paso (mediana de {len(ms)} rondas)")
    log.finish(kv_variants={str(n): {"config": c.to_dict(), "kv_bytes_per_token": kv_bytes_per_token(c)}
                            for n, c in variants.items()})


if __name__ == "__main__":
    main()
