"""La mitad CUDA de la velocidad de entrenamiento (issue 27): tokens/s y MFU de un GPT en una GPU.

``bench_train.py`` compara en CPU procesos enteros con nanoGPT. Este guion mide el régimen
estable de un paso de entrenamiento en una GPU CUDA con lo que usa quien entrena en serio:

- precisión mixta **bf16** con ``torch.autocast`` (en una GPU sin bf16, como la T4, fp16 con
  escalado de la pérdida);
- **atención fusionada**: ``scaled_dot_product_attention`` con ``is_causal`` y solo los núcleos
  fusionados permitidos (flash, *memory-efficient* o cuDNN; el «math» queda prohibido, así que
  si la atención no se fusionara, el paso fallaría en vez de ir lento en silencio);
- **torch.compile** del modelo y **AdamW fusionado**;
- **ningún paso espera a la CPU**: los lotes se sortean en la propia GPU, la pérdida se acumula
  allí y solo se sincroniza al principio y al final de la medida. Se comprueba: unos pasos con
  ``torch.cuda.set_sync_debug_mode("warn")`` cuentan las sincronizaciones implícitas por paso.

Los tokens son aleatorios (medimos velocidad, no aprendizaje). La MFU es tokens/s ·
``flops_per_token`` / el pico denso bf16 de la tarjeta (``GPU_PEAK_FLOPS`` de
:mod:`transformer_lib.scaling.hardware`: H100, H200, A100, L4, T4…). El tamaño se elige por la
memoria de la tarjeta (``--preset auto``): con 40 GiB o más, 12 capas de d_model 1024 y contexto
1024 (``large``); con menos, el GPT de 10,7 M del capítulo 10 (``small``). ``--preset xl`` (8 capas de
d_model 2048) prueba si matrices más grandes suben la MFU.

Uso::

    python benchmarks/bench_train_cuda.py --out _build/gpu-check/train.json
    python benchmarks/bench_train_cuda.py --dry-run     # en CPU: tamaños mínimos, compilación "eager"

No es un test: el resultado depende de la tarjeta (``tools/gpu_check.sh`` lo ejecuta).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import torch
from torch.nn.attention import sdpa_kernel

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import ResultsLog  # noqa: E402

from transformer_lib import GPT, GPTConfig  # noqa: E402
from transformer_lib._checks import token_ids_checked  # noqa: E402
from transformer_lib.scaling import flops_per_token, gpu_peak_flops, mfu  # noqa: E402

VOCAB = 92  # el de los caracteres del Quijote
# Tamaños: modelo, lote y pasos (los de calentamiento no se cronometran; el primero compila).
PRESETS = {
    "xl": dict(n_layer=8, n_head=16, d_model=2048, block_size=1024, batch_size=16, warmup=8, steps=20),
    "large": dict(n_layer=12, n_head=16, d_model=1024, block_size=1024, batch_size=32, warmup=8, steps=30),
    "small": dict(n_layer=6, n_head=6, d_model=384, block_size=256, batch_size=64, warmup=10, steps=50),
    "dry-run": dict(n_layer=2, n_head=2, d_model=32, block_size=32, batch_size=4, warmup=2, steps=3),
}
LARGE_MIN_GIB = 40


def choose_preset(name: str, device: torch.device) -> str:
    """El tamaño pedido, o con "auto" el que cabe en la memoria de la tarjeta."""
    if name != "auto":
        if name not in PRESETS:
            raise SystemExit(f"--preset {name!r} no existe: usa auto o uno de {', '.join(PRESETS)}.")
        return name
    if device.type != "cuda":
        return "dry-run"
    gib = torch.cuda.get_device_properties(device).total_memory / 2**30
    return "large" if gib >= LARGE_MIN_GIB else "small"


def choose_precision(device: torch.device) -> str:
    """bf16 si la GPU lo tiene en hardware (Ampere o posterior); fp16 en las anteriores; en CPU, bf16."""
    if device.type == "cuda" and torch.cuda.get_device_capability(device) < (8, 0):
        return "fp16"
    return "bf16"


def fused_backends(device: torch.device) -> list:
    """Los núcleos de atención fusionados de ``device`` (en CPU solo hay flash); nunca «math»."""
    from torch.nn.attention import SDPBackend

    backends = [SDPBackend.FLASH_ATTENTION]
    if device.type == "cuda":
        backends += [SDPBackend.EFFICIENT_ATTENTION, SDPBackend.CUDNN_ATTENTION]
    return backends


class Stepper:
    """Un paso de entrenamiento sin esperas a la CPU: lote sorteado en el dispositivo, pérdida
    acumulada allí (``total``) y AdamW fusionado."""

    def __init__(self, model: torch.nn.Module, runnable, batch_size: int, block_size: int,
                 device: torch.device, precision: str):
        self.model, self.runnable, self.device = model, runnable, device
        self.B, self.T = batch_size, block_size
        self.dtype = torch.float16 if precision == "fp16" else torch.bfloat16
        fused = device.type == "cuda"
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.95), weight_decay=0.1,
                                           fused=fused)
        self.scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")
        self.gen = torch.Generator(device=device).manual_seed(0)
        self.offsets = torch.arange(block_size + 1, device=device)
        self.stream = torch.randint(0, VOCAB, (1 << 20,), device=device, generator=self.gen)
        self.total = torch.zeros((), device=device)

    def batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        starts = torch.randint(0, self.stream.numel() - self.T - 1, (self.B, 1), device=self.device,
                               generator=self.gen)
        windows = self.stream[starts + self.offsets]  # (B, T + 1), sin salir del dispositivo
        return windows[:, :-1], windows[:, 1:]

    def __call__(self) -> None:
        x, y = self.batch()
        with torch.autocast(self.device.type, dtype=self.dtype):
            _, loss = self.runnable(x, y)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0, foreach=True)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        self.total += loss.detach().float()


def count_host_syncs(step, steps: int, device: torch.device) -> float | None:
    """Sincronizaciones implícitas con la CPU por paso (``set_sync_debug_mode``); None fuera de CUDA."""
    if device.type != "cuda":
        return None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            for _ in range(steps):
                step()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    syncs = [w for w in caught if "synchroniz" in str(w.message).lower()]
    return len(syncs) / steps


def measure(preset: str, device: torch.device, compile_mode: str) -> dict:
    """Compila, calienta, cuenta las esperas y cronometra ``steps`` pasos del tamaño ``preset``."""
    size = PRESETS[preset]
    config = GPTConfig(vocab_size=VOCAB, block_size=size["block_size"], n_layer=size["n_layer"],
                       n_head=size["n_head"], d_model=size["d_model"], dropout=0.0)
    precision = choose_precision(device)
    torch.manual_seed(0)
    model = GPT(config).to(device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True  # lo que quede en fp32 fuera de autocast
        torch.backends.cudnn.allow_tf32 = True
    runnable = model if compile_mode == "none" else torch.compile(model, backend=compile_mode)
    step = Stepper(model, runnable, size["batch_size"], size["block_size"], device, precision)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    backends = fused_backends(device)
    with sdpa_kernel(backends), token_ids_checked():
        t0 = time.perf_counter()
        step()
        sync()
        compile_s = time.perf_counter() - t0
        for _ in range(size["warmup"] - 1):
            step()
        syncs = count_host_syncs(step, 3, device)
        sync()
        t0 = time.perf_counter()
        for _ in range(size["steps"]):
            step()
        sync()
        seconds = time.perf_counter() - t0
    tokens = size["steps"] * size["batch_size"] * size["block_size"]
    tokens_per_s = tokens / seconds
    peak = gpu_peak_flops(torch.cuda.get_device_name(device)) if device.type == "cuda" else None
    mean_loss = float(step.total) / (size["warmup"] + size["steps"] + (3 if syncs is not None else 0))
    return {
        "preset": preset, "config": config.to_dict(), "batch_size": size["batch_size"],
        "timed_steps": size["steps"], "warmup_steps": size["warmup"],
        "precision": precision, "autocast": f"torch.autocast({device.type}, {precision})",
        "compile": compile_mode, "attention": "sdpa fusionada: " + "/".join(b.name.lower() for b in backends) + " (math prohibido)",
        "optimizer": "AdamW fused" if device.type == "cuda" else "AdamW",
        "compile_and_first_step_s": round(compile_s, 2), "ms_per_step": round(1e3 * seconds / size["steps"], 3),
        "tokens_per_s": round(tokens_per_s, 1),
        "model_tflops_per_s": round(tokens_per_s * flops_per_token(config) / 1e12, 3),
        "flops_per_token": flops_per_token(config), "peak_bf16_flops": peak,
        "mfu": None if peak is None else round(mfu(tokens_per_s, config, peak), 4),
        "host_syncs_per_step": syncs, "mean_loss": round(mean_loss, 4),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dry-run", action="store_true", help="en CPU, con el tamaño mínimo y compilación 'eager'")
    p.add_argument("--device", default=None, help="cuda (por defecto) o cpu (con --dry-run)")
    p.add_argument("--preset", default="auto", help=f"auto o uno de {', '.join(PRESETS)}")
    p.add_argument("--compile", default=None, dest="compile_mode",
                   help="backend de torch.compile: inductor (por defecto en CUDA), eager o none")
    p.add_argument("--out", default=None, help="archivo JSON de resultados")
    args = p.parse_args(argv)
    device = torch.device(args.device or ("cpu" if args.dry_run else "cuda"))
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("No hay GPU CUDA: usa --dry-run para probar el guion en CPU.")
    if device.type != "cuda" and not args.dry_run:
        raise SystemExit(f"--device {device} solo con --dry-run: la medida de verdad es en CUDA.")
    preset = choose_preset("dry-run" if args.dry_run and args.preset == "auto" else args.preset, device)
    compile_mode = args.compile_mode or ("eager" if args.dry_run else "inductor")
    if compile_mode not in ("inductor", "eager", "none"):
        raise SystemExit(f"--compile {compile_mode!r} no existe: usa inductor, eager o none.")
    log = ResultsLog(args.out, vars(args), torch.get_num_threads())
    try:
        row = measure(preset, device, compile_mode)
    except Exception as err:  # sin la compilación, al menos la medida (y el error, en el archivo)
        if compile_mode == "none":
            raise
        error = f"{type(err).__name__}: {' '.join(str(err).split())[:500]}"
        print(f"torch.compile ({compile_mode}) falló: {error}. Se mide sin compilar.", file=sys.stderr)
        if device.type == "cuda":
            torch.cuda.empty_cache()
        row = measure(preset, device, "none") | {"compile_error": error}
    log.add(row)
    print(json.dumps(row, ensure_ascii=False))
    log.finish()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
