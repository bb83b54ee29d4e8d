"""Del bloque de GPT-2 al de Llama (capítulo 11): la ablación y lo que mide cada pieza.

Todo con el :class:`GPT` de la biblioteca, que cambia de pieza con un campo de
:class:`GPTConfig`, y con la misma receta (:class:`ModernRecipe`) para cada modelo:

- :func:`modern_configs`: la escalera GPT-2 → + RMSNorm → + RoPE → + SwiGLU → + GQA, cada
  peldaño con una pieza más y casi los mismos parámetros (SwiGLU con d_ff = 8/3·d_model; con
  GQA, los pesos que ahorran W^K y W^V vuelven a la FFN).
- :func:`kv_variants`: el último bloque con n_kv_head = n_head, n_head/2 y 1, para comparar la
  calidad con la memoria de la caché KV (:func:`kv_bytes_per_token`).
- :func:`loss_by_position`: la pérdida en cada posición de ventanas más largas que las del
  entrenamiento; con posiciones aprendidas, recortando el contexto a ``block_size`` como hace
  ``generate``, y con RoPE, mirando la ventana entera.
- :func:`norm_step_ms`: el tiempo de un paso con LayerNorm y con RMSNorm, intercalados.
- :func:`tokenizer_pair`: caracteres frente a BPE con el mismo modelo, los mismos pasos y los
  mismos tokens por paso, comparados en bits por carácter.

``benchmarks/exp_modern.py`` lo recorre todo con varias semillas y lo guarda en
``results/modern.json``, que el capítulo lee.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from ..data import bits_per_char, chars_per_token
from ..feedforward import swiglu_hidden_size
from ..models import GPT, GPTConfig
from ..scaling.counting import measure_flops
from ..training import TrainConfig, train
from ..utils import set_seed

__all__ = ["MODERN_RUNGS", "ModernRecipe", "gqa_d_ff", "modern_configs", "kv_variants", "kv_bytes_per_token",
           "train_modern", "loss_by_position", "norm_step_ms", "tokenizer_pair"]

#: Los peldaños, en orden: (clave, nombre en el libro). Cada uno añade una pieza al anterior.
MODERN_RUNGS: tuple[tuple[str, str], ...] = (
    ("gpt2", "bloque de GPT-2"),
    ("rmsnorm", "+ RMSNorm"),
    ("rope", "+ RoPE"),
    ("swiglu", "+ SwiGLU"),
    ("gqa", "+ GQA"),
)


@dataclass(frozen=True)
class ModernRecipe:
    """El modelo y la receta comunes: AdamW, calentamiento y coseno, recorte a norma 1, fp32."""

    d_model: int = 64
    n_layer: int = 4
    n_head: int = 4
    block_size: int = 64
    steps: int = 1000
    batch_size: int = 32
    lr: float = 1e-3
    warmup: int = 100
    eval_iters: int = 50

    def train_config(self, seed: int) -> TrainConfig:
        """El :class:`TrainConfig` de un entrenamiento con la semilla ``seed``."""
        return TrainConfig(max_iters=self.steps, batch_size=self.batch_size, block_size=self.block_size, lr=self.lr,
                           warmup_iters=self.warmup, eval_interval=0, eval_iters=self.eval_iters,
                           final_eval_iters=self.eval_iters, seed=seed, device="cpu", progress=False)

    def base(self, vocab_size: int) -> GPTConfig:
        """El bloque de GPT-2 de este tamaño (el primer peldaño)."""
        return GPTConfig(vocab_size=vocab_size, block_size=self.block_size, n_layer=self.n_layer,
                         n_head=self.n_head, d_model=self.d_model)


def gqa_d_ff(d_model: int, n_head: int, n_kv_head: int) -> int:
    """d_ff de SwiGLU que devuelve a la FFN los pesos que GQA quita a W^K y W^V.

    Cada bloque ahorra 2·d·(d − d_kv) pesos (d_kv = n_kv_head·d_k) y SwiGLU gasta 3·d por
    unidad de d_ff.
    """
    if n_head % n_kv_head:
        raise ValueError(f"n_kv_head={n_kv_head} debe dividir a n_head={n_head}.")
    d_kv = n_kv_head * (d_model // n_head)
    return round(swiglu_hidden_size(d_model) + 2 * (d_model - d_kv) / 3)


def modern_configs(vocab_size: int, recipe: ModernRecipe = ModernRecipe()) -> dict[str, GPTConfig]:
    """Las cinco configuraciones de la escalera, en orden, cada una con una pieza más."""
    config = recipe.base(vocab_size)
    n_kv = max(1, recipe.n_head // 2)
    changes = {"gpt2": {}, "rmsnorm": {"norm": "rmsnorm"}, "rope": {"position": "rope"},
               "swiglu": {"ffn": "swiglu", "d_ff": None},
               "gqa": {"n_kv_head": n_kv, "d_ff": gqa_d_ff(recipe.d_model, recipe.n_head, n_kv)}}
    configs = {}
    for key, _ in MODERN_RUNGS:
        config = replace(config, **changes[key])  # replace vuelve a pasar por __post_init__ (d_ff None = el de SwiGLU)
        configs[key] = config
    return configs


def kv_variants(vocab_size: int, recipe: ModernRecipe = ModernRecipe()) -> dict[int, GPTConfig]:
    """El último bloque (RMSNorm, RoPE, SwiGLU) con n_kv_head = n_head, n_head/2 y 1, los mismos pesos."""
    swiglu = modern_configs(vocab_size, recipe)["swiglu"]
    counts = sorted({recipe.n_head, max(1, recipe.n_head // 2), 1}, reverse=True)
    return {n: replace(swiglu, n_kv_head=n, d_ff=gqa_d_ff(recipe.d_model, recipe.n_head, n)) for n in counts}


def kv_bytes_per_token(config: GPTConfig, bytes_per_value: int = 4) -> int:
    """Bytes de caché KV por token generado: K y V de n_kv_head cabezas en cada capa."""
    return 2 * config.n_layer * config.kv_heads * (config.d_model // config.n_head) * bytes_per_value


def train_modern(config: GPTConfig, data, seed: int, recipe: ModernRecipe = ModernRecipe(),
                 chars_per_token: float = 1.0) -> tuple[GPT, dict]:
    """Entrena ``config`` sobre ``data`` con la receta; devuelve el modelo y su fila (con la
    pérdida también en bits por carácter, con ``chars_per_token`` caracteres por token)."""
    set_seed(seed)
    model = GPT(config)
    history = train(model, recipe.train_config(seed), data)
    counts = model.count_parameters()
    return model, {"seed": seed, "steps": recipe.steps, "params": counts.total,
                   "non_embedding_params": counts.non_embedding, "val_loss": history.final_val_loss,
                   "val_bpc": bits_per_char(history.final_val_loss, chars_per_token), "train_seconds": round(history.seconds, 1),
                   "ms_per_iter": round(history.ms_per_iter, 2)}


@torch.no_grad()
def loss_by_position(model: GPT, ids: torch.Tensor, length: int, n_windows: int = 16, seed: int = 0) -> list[float]:
    """Pérdida media en cada posición de ``n_windows`` ventanas de ``length`` tokens de ``ids``.

    Con RoPE el modelo mira la ventana entera, aunque sea más larga que ``block_size``. Con
    posiciones aprendidas no puede: cada posición p ≥ block_size se predice con sus últimos
    ``block_size`` tokens, el recorte que hace ``generate``.

    Formas:
        ids: (N,); devuelve una lista de ``length`` pérdidas (nats por token).
    """
    model.eval()
    g = torch.Generator().manual_seed(seed)
    starts = torch.randint(0, len(ids) - length - 1, (n_windows,), generator=g)
    windows = torch.stack([ids[s : s + length + 1] for s in starts.tolist()])  # (n, length + 1)
    x, y = windows[:, :-1], windows[:, 1:]
    T = model.config.block_size
    if model.config.position == "rope" or length <= T:
        logits, _ = model(x)  # (n, length, V)
        return F.cross_entropy(logits.transpose(1, 2), y, reduction="none").mean(0).tolist()
    first, _ = model(x[:, :T])  # las primeras T posiciones, con todo su contexto
    losses = F.cross_entropy(first.transpose(1, 2), y[:, :T], reduction="none").mean(0).tolist()
    crops = x.unfold(1, T, 1)[:, 1:]  # (n, length − T, T): la ventana que acaba en cada p ≥ T
    last, _ = model(crops.reshape(-1, T))  # (n·(length − T), T, V)
    tail = F.cross_entropy(last[:, -1], y[:, T:].reshape(-1), reduction="none")
    return losses + tail.view(len(x), -1).mean(0).tolist()


def norm_step_ms(vocab_size: int, recipe: ModernRecipe = ModernRecipe(), rounds: int = 7,
                 steps: int = 10) -> dict[str, list[float]]:
    """Milisegundos de un paso (ida, vuelta y AdamW) del bloque de GPT-2 con LayerNorm y con RMSNorm.

    Los dos modelos se cronometran por turnos, ``steps`` pasos cada vez y cambiando cuál va
    primero en cada ronda; devuelve la media de cada ronda (una lista por normalización).
    """
    base = recipe.base(vocab_size)
    models = {norm: GPT(replace(base, norm=norm)) for norm in ("layernorm", "rmsnorm")}
    optimizers = {k: torch.optim.AdamW(m.parameters(), lr=recipe.lr) for k, m in models.items()}
    g = torch.Generator().manual_seed(0)
    x = torch.randint(vocab_size, (recipe.batch_size, recipe.block_size + 1), generator=g)

    def step(norm: str) -> None:
        _, loss = models[norm](x[:, :-1], x[:, 1:])
        optimizers[norm].zero_grad(set_to_none=True)
        loss.backward()
        optimizers[norm].step()

    times: dict[str, list[float]] = {k: [] for k in models}
    for norm in models:  # calentar: la primera vez reserva memoria
        step(norm)
    for r in range(rounds):
        for norm in (list(models) if r % 2 == 0 else list(models)[::-1]):
            t0 = time.perf_counter()
            for _ in range(steps):
                step(norm)
            times[norm].append(1000 * (time.perf_counter() - t0) / steps)
    return times


def tokenizer_pair(chars, bpe, recipe: ModernRecipe = ModernRecipe(), seed: int = 0,
                   prompt: str = "En un lugar de la Mancha") -> list[dict]:
    """El bloque de GPT-2 con caracteres y con BPE: mismo modelo, pasos, lote y tokens por paso.

    ``chars`` y ``bpe`` son dos ``QuijoteData`` del mismo texto partido en el mismo punto. Los
    FLOPs de un paso (contados con ``FlopCounterMode``) solo difieren en la proyección de
    salida, más grande con más vocabulario; la fila los anota.
    """
    rows = []
    val_text = chars.tokenizer.decode(chars.val)
    for name, data in (("caracteres", chars), ("BPE", bpe)):
        cpt = chars_per_token(data.tokenizer, val_text)
        config = recipe.base(data.tokenizer.vocab_size)
        model, row = train_modern(config, data, seed, recipe, cpt)
        idx = torch.zeros(recipe.batch_size, recipe.block_size, dtype=torch.long)
        flops = measure_flops(GPT(config), idx, idx).total
        start = torch.tensor([data.tokenizer.encode(prompt)])
        sample = model.generate(start, 120, temperature=0.8, generator=torch.Generator().manual_seed(seed))
        rows.append({"tokenizer": name, "vocab_size": data.tokenizer.vocab_size,
                     "chars_per_token": cpt, "flops_per_step": flops,
                     "sample": data.tokenizer.decode(sample[0].tolist()), **row})
    return rows

