"""Comprobaciones de la tarea 3, ejercicio 2: un GPT pequeño (``MiniGPT``).

Tu ``MiniGPT`` recibe los pesos de un :class:`~transformer_lib.GPT` de la biblioteca (con
los nombres de tu código, ver :func:`~transformer_lib.tareas.task3_block.student_key`) y se
comparan logits, pérdida y causalidad.
"""

from __future__ import annotations

import dataclasses

import torch

from ..models import GPT, GPTConfig
from .compare import checker_rng, close, ensure_tensor, max_difference, output_of, shape_str
from .core import Failure, ScoreGroup, numeric, structural
from .exercise import ExerciseSpec, judge_each, notebook_check
from .task3_block import (
    FORBIDDEN_LIBRARY_MODELS,
    LIBRARY_BLOCK,
    LIBRARY_GPT,
    SEED,
    check_causality,
    check_created,
    draw_seed,
    student_weights,
)

USES_LIBRARY = "Tu MiniGPT usa el GPT o el DecoderBlock de la biblioteca: usa tu PreLNBlock."


def _test_config(g: torch.Generator, **changes) -> GPTConfig:
    base = dict(vocab_size=int(torch.randint(20, 60, (1,), generator=g)), block_size=16, n_layer=2,
                n_head=2, d_model=32, dropout=0.0)
    base.update(changes)
    return GPTConfig(**base)


def _library_gpt(config: GPTConfig, seed: int, g: torch.Generator) -> GPT:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        lib = GPT(config)
    with torch.no_grad():
        lib.ln_f.weight.copy_(1 + 0.3 * torch.randn(config.d_model, generator=g))
        lib.ln_f.bias.copy_(0.3 * torch.randn(config.d_model, generator=g))
    return lib.eval()


def _gpt_case(description: str, g: torch.Generator, config: GPTConfig, calls: list[dict]) -> dict:
    seed = draw_seed(g)
    lib = _library_gpt(config, seed, g)
    return {"description": description, "kind": "module", "target": "MiniGPT", "init": [],
            "config": dataclasses.asdict(config), "seed": seed, "load": student_weights(lib),
            "_reference": lib.state_dict(), "calls": calls}


def build_gpt_cases(seed: int) -> list[dict]:
    """Los casos del ejercicio «gpt»: crear, cuatro configuraciones y la causalidad."""
    g = checker_rng(seed)
    cases = [_gpt_case("crear MiniGPT(config) con los nombres pedidos", g, _test_config(g), [])]
    for description, config, B, T in (
        ("T = block_size", _test_config(g), 2, 16),
        ("T < block_size", _test_config(g), 3, 7),
        ("T = 1", _test_config(g), 2, 1),
        ("3 bloques y 4 cabezas", _test_config(g, n_layer=3, n_head=4, d_model=48, block_size=12), 2, 12),
    ):
        idx = torch.randint(0, config.vocab_size, (B, T), generator=g)
        # Como en get_batch, los targets son ventanas de un tensor mayor: no son contiguos.
        targets = torch.randint(0, config.vocab_size, (B, T + 1), generator=g)[:, 1:]
        cases.append(_gpt_case(description, g, config, [{"args": [idx], "grad": None},
                                                         {"args": [idx, targets], "grad": None}]))
    config = _test_config(g)
    idx = torch.randint(0, config.vocab_size, (2, 16), generator=g)
    changed = idx.clone()
    changed[:, 8:] = (changed[:, 8:] + 1) % config.vocab_size
    cases.append(_gpt_case("causalidad: el futuro no influye en el pasado", g, config,
                           [{"args": [idx], "grad": None}, {"args": [changed], "grad": None}]))
    return cases


def gpt_output(call: dict) -> tuple:
    """La tupla ``(logits, loss)`` que devolvió tu ``forward`` (o un Failure que lo explica)."""
    out = output_of(call)
    if not (isinstance(out, tuple) and len(out) == 2):
        kind = "tensor" if isinstance(out, torch.Tensor) else type(out).__name__
        raise structural(
            "El `forward` de tu MiniGPT debe devolver una tupla `(logits, loss)` (con loss = None si "
            f"no hay targets), como el GPT de la biblioteca; devolvió {kind}."
        )
    return out


def _run_blocks(lib: GPT, x: torch.Tensor) -> torch.Tensor:
    for block in lib.blocks:
        x = block(x, is_causal=True)
    return x


def _diagnose_logits(logits: torch.Tensor, lib: GPT, idx: torch.Tensor, expected: torch.Tensor) -> None:
    with torch.no_grad():
        x = lib.tok_emb(idx)
        if close(logits, lib.lm_head(lib.ln_f(_run_blocks(lib, x)))):
            raise structural("Te falta sumar el embedding de posiciones: `x = tok_emb(idx) + pos_emb(torch.arange(T))`.")
        if close(logits, lib.lm_head(_run_blocks(lib, lib.pos_emb(x)))):
            raise structural("Te falta la LayerNorm final `ln_f` antes de `lm_head` (en Pre-LN es imprescindible).")
    raise numeric("Orden: embedding de tokens + embedding de posiciones (`pos_emb(torch.arange(T))`) → "
                  "bloques → `ln_f` → `lm_head`.", max_difference(logits, expected))


def _check_logits_and_loss(calls: list[dict], lib: GPT, idx: torch.Tensor, targets: torch.Tensor) -> None:
    logits, loss = gpt_output(calls[0])
    ensure_tensor(logits, "Tu `forward`")
    with torch.no_grad():
        expected, _ = lib(idx)
        _, loss_ref = lib(idx, targets)
    if logits.shape != expected.shape:
        raise Failure(f"Tus logits tienen forma {shape_str(logits)} y deberían ser (B, T, vocab_size) = {shape_str(expected)}.")
    if loss is not None:
        raise Failure("Sin `targets`, la pérdida debe ser None.")
    if not close(logits, expected):
        _diagnose_logits(logits, lib, idx, expected)
    if len(calls) < 2:
        raise Failure("Tu `forward` no funcionó con `targets`.")
    _, loss2 = gpt_output(calls[1])
    if not isinstance(loss2, torch.Tensor) or loss2.dim() != 0:
        raise Failure("Con `targets`, la pérdida debe ser un tensor escalar (la entropía cruzada media).")
    if not close(loss2, loss_ref):
        raise Failure(
            f"Tu pérdida vale {float(loss2):.4f} y debería valer {float(loss_ref):.4f}: "
            "`F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))`."
        )


def _judge_gpt_case(case: dict, module: dict) -> None:
    check_created(module, case, "MiniGPT", (LIBRARY_BLOCK, LIBRARY_GPT), USES_LIBRARY)
    if not case["calls"]:
        return
    lib = GPT(GPTConfig(**case["config"]))
    lib.load_state_dict(case["_reference"])
    lib.eval()
    specs, calls = case["calls"], module["calls"]
    if case["description"].startswith("causalidad"):
        a, b = (ensure_tensor(gpt_output(c)[0], "Tu `forward`") for c in calls)
        check_causality(a, b, 8, "MiniGPT")
    else:
        _check_logits_and_loss(calls, lib, *specs[1]["args"])


MINIGPT = ExerciseSpec(
    id="gpt", title="MiniGPT", points=3, names=("MiniGPT",),
    groups=(
        ScoreGroup("estructura", "crear el modelo con los nombres pedidos", 1, "^crear"),
        ScoreGroup("causalidad", "causalidad", 1, "causalidad"),
        ScoreGroup("salidas", "logits frente a la referencia", 1),
    ),
    build=build_gpt_cases, judge=judge_each(_judge_gpt_case, stop_if_first_fails=True), seed=SEED + 1,
    forbidden=FORBIDDEN_LIBRARY_MODELS,
    forbidden_hint="aquí se trata de escribir el modelo tú: usa tu PreLNBlock.",
)

check_gpt = notebook_check(MINIGPT, "check_gpt", """Comprueba tu clase ``MiniGPT(config)`` (con ``config`` un :class:`~transformer_lib.GPTConfig`).

    Copia en tu modelo los pesos de un :class:`~transformer_lib.GPT` de la biblioteca (por eso
    los nombres ``tok_emb``, ``pos_emb``, ``blocks``, ``ln_f`` y ``lm_head`` son obligatorios) y
    compara logits y pérdida con configuraciones sorteadas, T < block_size, T = 1 y la
    causalidad.

    Parámetros:
        cls: tu clase (no una instancia).
        show: si se imprime el informe (por defecto, sí).
    """)
