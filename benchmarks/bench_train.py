"""Velocidad de entrenamiento, lado a lado con nanoGPT (issue #16).

La receta es el GPT pequeño del curso sobre el Quijote: 4 bloques, 4 cabezas, d_model 128,
contexto 64, lotes de 12, 2000 pasos, lr 1e-3 (calentamiento 100, coseno hasta lr/2), β₂ 0,99,
recorte 1, dropout 0. La pérdida de validación de las dos partes sale de **los mismos** 200 lotes
fijos (los de nuestra evaluación final): los pesos finales de nanoGPT se traducen a nuestro GPT,
comprobando que dan sus mismos logits (su propia estimación, de otros lotes al azar, se guarda
también, en ``val_loss_own_batches``). Las dos partes
corren como procesos aparte, como los lanzaría una persona, **intercaladas** ronda a ronda en
la misma máquina, y se comparan las medianas del tiempo de reloj de cada proceso entero
(importaciones, datos, compilación y evaluaciones incluidas):

- **nuestra**: ``python -m transformer_lib train`` con la receta y sus opciones por defecto
  (``--precision auto``, ``--compile auto``);
- **referencia**: con ``--nanogpt RUTA`` (una copia de https://github.com/karpathy/nanoGPT
  fuera de este repositorio; aquí no se copia nada de su código), su propio ``train.py`` con la
  misma receta sobre los mismos ids de entrenamiento y validación (los escribimos en su
  formato, ``train.bin``/``val.bin``/``meta.pkl``, en una carpeta temporal). Sin ``--nanogpt``,
  el mismo GPT construido con ``nn.TransformerEncoderLayer`` y un bucle de PyTorch sin más
  (``benchmarks/_torch_gpt.py``).

También mide el ritmo de la máquina multiplicando matrices (fp32 y bf16) y da el paso de
entrenamiento como fracción de ese ritmo. Uso::

    TRANSFORMER_LIB_DATA=/ruta/a/data python benchmarks/bench_train.py \\
        [--nanogpt ~/nanoGPT] [--nanogpt-compile False True] [--rounds 3] [--max-iters 2000] \\
        [--ours '' '--precision fp32' ...] [--out results/train_speed.json]

No es un test: cada ronda tarda unos minutos y el resultado depende de la máquina.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _results import ResultsLog  # noqa: E402

from transformer_lib.data import prepare_quijote  # noqa: E402
from transformer_lib.models import GPT, GPTConfig  # noqa: E402
from transformer_lib.scaling import flops_per_token, matmul_rate  # noqa: E402
from transformer_lib.training import estimate_loss  # noqa: E402
from transformer_lib.training.sources import text_sources  # noqa: E402

# La receta, en las dos grafías. Las evaluaciones: al principio y al final, 200 lotes por parte
# (nanoGPT evalúa en el paso 0 y cada eval_interval; nosotros al principio y al final).
MODEL = dict(n_layer=4, n_head=4, d_model=128, block_size=64)
RECIPE = dict(batch_size=12, lr=1e-3, min_lr=5e-4, warmup_iters=100, beta2=0.99, grad_clip=1.0,
              weight_decay=0.0, dropout=0.0, eval_iters=200, seed=1337)


def ours_command(max_iters: int, out: str, extra: list[str]) -> list[str]:
    """La orden de ``python -m transformer_lib train`` con la receta."""
    r = RECIPE
    return [sys.executable, "-m", "transformer_lib", "train", "--data", "quijote",
            "--n-layer", str(MODEL["n_layer"]), "--n-head", str(MODEL["n_head"]),
            "--d-model", str(MODEL["d_model"]), "--block-size", str(MODEL["block_size"]),
            "--batch-size", str(r["batch_size"]), "--max-iters", str(max_iters), "--lr", str(r["lr"]),
            "--min-lr", str(r["min_lr"]), "--warmup-iters", str(r["warmup_iters"]),
            "--beta2", str(r["beta2"]), "--grad-clip", str(r["grad_clip"]),
            "--weight-decay", str(r["weight_decay"]), "--dropout", str(r["dropout"]),
            "--eval-interval", str(max_iters), "--eval-iters", str(r["eval_iters"]),
            "--final-eval-iters", str(r["eval_iters"]), "--seed", str(r["seed"]),
            "--out", out, "--no-progress", *extra]


def nanogpt_command(checkout: Path, max_iters: int, compile_: bool) -> list[str]:
    """La orden del ``train.py`` de nanoGPT con la misma receta (sus opciones ``--clave=valor``)."""
    r, m = RECIPE, MODEL
    options = dict(dataset="quijote", out_dir="out", device="cpu", dtype="float32", compile=compile_,
                   n_layer=m["n_layer"], n_head=m["n_head"], n_embd=m["d_model"],
                   block_size=m["block_size"], bias=True, dropout=r["dropout"],
                   batch_size=r["batch_size"], gradient_accumulation_steps=1,
                   max_iters=max_iters, lr_decay_iters=max_iters, learning_rate=r["lr"],
                   min_lr=r["min_lr"], warmup_iters=r["warmup_iters"], beta2=r["beta2"],
                   grad_clip=r["grad_clip"], weight_decay=r["weight_decay"],
                   eval_interval=max_iters, eval_iters=r["eval_iters"], log_interval=max_iters,
                   always_save_checkpoint=False)
    return [sys.executable, str(checkout / "train.py"), *(f"--{k}={v}" for k, v in options.items())]


def write_nanogpt_data(folder: Path, checkout: Path) -> None:
    """Los ids del Quijote (los de nuestra partición) en el formato de nanoGPT, en ``folder``."""
    data = prepare_quijote()
    target = folder / "data" / "quijote"
    target.mkdir(parents=True)
    if max(int(data.train.max()), int(data.val.max())) >= 2**16:
        raise SystemExit("nanoGPT guarda los ids en uint16: el vocabulario no cabe.")
    np.asarray(data.train, dtype=np.uint16).tofile(target / "train.bin")
    np.asarray(data.val, dtype=np.uint16).tofile(target / "val.bin")
    with open(target / "meta.pkl", "wb") as f:
        pickle.dump({"vocab_size": data.tokenizer.vocab_size}, f)
    # train.py lee configurator.py de la carpeta de trabajo: un enlace a la copia de nanoGPT.
    (folder / "configurator.py").symlink_to(checkout / "configurator.py")


def timed(cmd: list[str], cwd: str | None = None) -> tuple[float, subprocess.CompletedProcess]:
    env = dict(os.environ, TQDM_DISABLE="1", PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"La orden falló ({proc.returncode}): {shlex.join(cmd)}\n{proc.stderr.strip()[-3000:]}")
    return wall, proc


def run_ours(max_iters: int, extra: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        wall, proc = timed(ours_command(max_iters, str(Path(tmp) / "ckpt"), extra))
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"wall_s": round(wall, 2), "val_loss": summary["val_loss"], "ms_per_iter": summary["ms_per_iter"],
            "precision": summary.get("precision"), "compile": summary.get("compile"),
            "compile_s": summary.get("compile_seconds"), "precision_ms": summary.get("precision_ms")}


def our_final_val_batches(data) -> list:
    """Los 200 lotes fijos de validación de nuestra evaluación final (semilla + 2)."""
    _, fixed = text_sources(data, MODEL["block_size"], RECIPE["batch_size"], RECIPE["seed"], torch.device("cpu"))
    return fixed(RECIPE["eval_iters"], RECIPE["seed"] + 2)["val"]


def nanogpt_into_ours(checkout: Path, ckpt: Path, config: GPTConfig, probe: torch.Tensor) -> GPT:
    """Los pesos finales de nanoGPT (su ``ckpt.pt``) en nuestro GPT, comprobando que los logits
    coinciden con los de su propio modelo (importado de la copia, no de aquí)."""
    state = torch.load(ckpt, map_location="cpu", weights_only=False)
    sd = {k.removeprefix("_orig_mod."): v for k, v in state["model"].items()}
    gpt = GPT(config).eval()

    def linear(ours, name):
        ours.weight.copy_(sd[name + ".weight"])
        ours.bias.copy_(sd[name + ".bias"])

    with torch.no_grad():
        gpt.tok_emb.weight.copy_(sd["transformer.wte.weight"])
        gpt.pos_emb.embedding.weight.copy_(sd["transformer.wpe.weight"])
        for i, block in enumerate(gpt.blocks):
            p = f"transformer.h.{i}."
            linear(block.res_self.norm, p + "ln_1")
            linear(block.res_ff.norm, p + "ln_2")
            attn = block.self_attn
            qkv = zip(sd[p + "attn.c_attn.weight"].chunk(3), sd[p + "attn.c_attn.bias"].chunk(3))
            for lin, (w, b) in zip((attn.w_q, attn.w_k, attn.w_v), qkv):
                lin.weight.copy_(w)
                lin.bias.copy_(b)
            linear(attn.w_o, p + "attn.c_proj")
            linear(block.ff.linear1, p + "mlp.c_fc")
            linear(block.ff.linear2, p + "mlp.c_proj")
        linear(gpt.ln_f, "transformer.ln_f")
    sys.path.insert(0, str(checkout))
    try:
        import model as nanogpt_model  # el model.py de la copia de nanoGPT
    finally:
        sys.path.remove(str(checkout))
    theirs = nanogpt_model.GPT(nanogpt_model.GPTConfig(**state["model_args"])).eval()
    theirs.load_state_dict(sd)
    with torch.no_grad():
        expected, _ = theirs(probe, probe)  # con objetivos da los logits de todas las posiciones
        got, _ = gpt(probe)
    diff = (expected - got).abs().max().item()
    if diff > 1e-4:
        raise SystemExit(f"Los pesos de nanoGPT no se traducen bien a nuestro GPT (logits a {diff:.2e}).")
    return gpt


def run_nanogpt(checkout: Path, folder: Path, max_iters: int, compile_: bool, val_batches: list,
                config: GPTConfig) -> dict:
    ckpt = folder / "out" / "ckpt.pt"
    ckpt.unlink(missing_ok=True)
    wall, proc = timed(nanogpt_command(checkout, max_iters, compile_), cwd=str(folder))
    evals = re.findall(r"step (\d+): train loss ([\d.]+), val loss ([\d.]+)", proc.stdout)
    if not evals or int(evals[-1][0]) != max_iters:
        raise SystemExit(f"No encuentro la evaluación final de nanoGPT en su salida:\n{proc.stdout[-2000:]}")
    row = {"wall_s": round(wall, 2), "val_loss_own_batches": float(evals[-1][2])}
    if ckpt.exists():  # nanoGPT lo guarda si la validación final mejora la del paso 0 (siempre)
        gpt = nanogpt_into_ours(checkout, ckpt, config, val_batches[0][0][:2].contiguous())
        row["val_loss"] = round(estimate_loss(gpt, val_batches), 4)
    return row


def run_torch(max_iters: int) -> dict:
    cmd = [sys.executable, str(ROOT / "benchmarks" / "_torch_gpt.py"), "--max-iters", str(max_iters),
           "--recipe", json.dumps({**MODEL, **RECIPE})]
    wall, proc = timed(cmd)
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"wall_s": round(wall, 2), "val_loss": summary["val_loss"], "ms_per_iter": summary["ms_per_iter"]}


def median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def paired_ratio(rows: list[dict], slow: str, fast: str) -> float:
    """Mediana, ronda a ronda, de wall(slow) / wall(fast): cada par corrió seguido, así que la
    deriva de la máquina entre rondas (que mueve las medianas sueltas) se cancela."""
    wall = {(r["round"], r["variant"]): r["wall_s"] for r in rows}
    rounds = sorted({r["round"] for r in rows})
    return statistics.median(wall[k, slow] / wall[k, fast] for k in rounds)


def main() -> None:
    p = argparse.ArgumentParser(description="Velocidad de entrenamiento frente a nanoGPT (o torch.nn).")
    p.add_argument("--nanogpt", type=Path, default=None, help="copia de nanoGPT (fuera del repositorio)")
    p.add_argument("--nanogpt-compile", nargs="+", default=["False"], choices=["False", "True"],
                   help="variantes de nanoGPT: compile=False (su receta para CPU) y/o True")
    p.add_argument("--ours", nargs="+", default=[""],
                   help="variantes nuestras: opciones extra de train entre comillas ('' = por defecto)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--max-iters", type=int, default=2000)
    p.add_argument("--out", default=None, help="archivo JSON de resultados (p. ej. results/train_speed.json)")
    args = p.parse_args()
    if args.nanogpt is not None:
        args.nanogpt = args.nanogpt.expanduser().resolve()
        if not (args.nanogpt / "train.py").is_file():
            raise SystemExit(f"{args.nanogpt} no parece una copia de nanoGPT: no tiene train.py.")
        if ROOT in args.nanogpt.parents or args.nanogpt == ROOT:
            raise SystemExit(f"La copia de nanoGPT ({args.nanogpt}) debe estar fuera de este repositorio.")
    threads = torch.get_num_threads()
    data = prepare_quijote()
    config = GPTConfig(vocab_size=data.tokenizer.vocab_size, **MODEL)
    val_batches = our_final_val_batches(data)
    step_flops = flops_per_token(config) * RECIPE["batch_size"] * MODEL["block_size"]
    rates = {dtype: matmul_rate(getattr(torch, dtype)) for dtype in ("float32", "bfloat16")}
    print(f"Máquina: {threads} hilos; matmul 1024² fp32 {rates['float32'] / 1e9:.0f} GFLOP/s, "
          f"bf16 {rates['bfloat16'] / 1e9:.0f} GFLOP/s; un paso son {step_flops / 1e9:.2f} GFLOP")

    refs = ([f"nanogpt compile={c}" for c in args.nanogpt_compile] if args.nanogpt else ["torch.nn"])
    ours = [f"ours {x}".strip() for x in args.ours]
    log = ResultsLog(args.out, vars(args) | {"nanogpt": str(args.nanogpt) if args.nanogpt else None},
                     threads, recipe={**MODEL, **RECIPE}, matmul_flops=rates, step_flops=step_flops)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.nanogpt:
            write_nanogpt_data(folder, args.nanogpt)
        for rnd in range(args.rounds):
            order = refs + ours if rnd % 2 == 0 else ours + refs  # intercaladas, y alternando quién va antes
            for name in order:
                if name.startswith("nanogpt"):
                    row = run_nanogpt(args.nanogpt, folder, args.max_iters, name.endswith("True"),
                                      val_batches, config)
                elif name == "torch.nn":
                    row = run_torch(args.max_iters)
                else:
                    row = run_ours(args.max_iters, shlex.split(args.ours[ours.index(name)]))
                row = {"round": rnd, "variant": name, **row}
                log.add(row)
                print(json.dumps(row, ensure_ascii=False), flush=True)

    print(f"\nMedianas de {args.rounds} rondas ({args.max_iters} pasos; tiempo de reloj del proceso entero):")
    best_ref = min(refs, key=lambda n: median([r for r in log.rows if r["variant"] == n], "wall_s"))
    ref_wall = median([r for r in log.rows if r["variant"] == best_ref], "wall_s")
    summary = {}
    for name in refs + ours:
        rows = [r for r in log.rows if r["variant"] == name]
        wall, val = median(rows, "wall_s"), median(rows, "val_loss")
        line = f"  {name:<28} {wall:7.1f} s   val {val:.4f}"
        entry = {"wall_s": wall, "val_loss": val}
        if name in ours:
            ms = median(rows, "ms_per_iter")
            achieved = step_flops / (ms / 1e3)
            paired = paired_ratio(log.rows, best_ref, name)
            entry |= {"ms_per_iter": ms, "speedup_vs_" + best_ref.replace(" ", "_"): round(ref_wall / wall, 3),
                      "paired_speedup_vs_" + best_ref.replace(" ", "_"): round(paired, 3),
                      "fraction_fp32_peak": achieved / rates["float32"],
                      "fraction_bf16_peak": achieved / rates["bfloat16"]}
            line += (f"   {ms:.2f} ms/paso = {achieved / 1e9:.0f} GFLOP/s "
                     f"({achieved / rates['float32']:.0%} del matmul fp32, {achieved / rates['bfloat16']:.0%} "
                     f"del bf16)   × {ref_wall / wall:.2f} frente a {best_ref} (ronda a ronda, × {paired:.2f})")
        summary[name] = entry
        print(line)
    log.finish(summary=summary, reference=best_ref)


if __name__ == "__main__":
    main()
