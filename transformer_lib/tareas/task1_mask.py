"""Comprobaciones de la tarea 1, ejercicio 2: la máscara causal ``causal_mask(T)``."""

from __future__ import annotations

import torch

from .. import attention as ref
from .compare import checker_rng, ensure_tensor, output_of, shape_str
from .core import Checker, Failure, ScoreGroup, structural
from .exercise import ExerciseSpec, notebook_check
from .task1_attention import SEED


def _check_mask_case(call: dict, T: int) -> None:
    m = ensure_tensor(output_of(call), "Tu `causal_mask`")
    expected = ref.causal_mask(T)
    if m.shape != expected.shape:
        raise Failure(f"Con T={T} tu máscara tiene forma {shape_str(m)} y debería ser ({T}, {T}).")
    if m.dtype != torch.bool:
        if m.is_floating_point() and torch.isinf(m).any():
            raise structural(
                "Devuelves una máscara aditiva (0 / −∞). En este curso las máscaras son booleanas "
                "(True = puede atender); la aditiva la calcula `additive_mask` a partir de ella."
            )
        raise Failure(
            f"Tu máscara tiene dtype {m.dtype} y debe ser booleana (`dtype=torch.bool` o `.bool()`): "
            "True = puede atender."
        )
    if torch.equal(m, expected):
        return
    explanations = (
        (expected.T, "Tu máscara es triangular superior: deja a cada posición ver el futuro. La "
                     "posición i solo puede ver las j ≤ i, que es la parte triangular *inferior* "
                     "(`torch.tril`)."),
        (~expected, "Tu máscara está invertida: marcas con True lo que está prohibido. En este "
                    "curso True = puede atender; la posición i ve las j ≤ i."),
        (expected.tril(-1), "Te falta la diagonal: cada posición también puede verse a sí misma "
                            "(j = i). Usa `torch.tril(...)` sin desplazar la diagonal."),
    )
    for candidate, message in explanations:
        if torch.equal(m, candidate):
            raise structural(message)
    raise Failure(f"Con T={T} tu máscara no es la causal: mask[i, j] debe ser True si y solo si j ≤ i.")


def build_mask_cases(seed: int) -> list[dict]:
    """Los casos del ejercicio «mascara_causal»: varios T sorteados, y T = 1 y 2."""
    g = checker_rng(seed)
    sizes = [1, 2] + sorted({int(t) for t in torch.randint(3, 40, (3,), generator=g)})
    return [{"description": f"T = {T}", "kind": "call", "calls": [{"target": "causal_mask", "args": [T], "grad": None}]}
            for T in sizes]


def judge_mask(c: Checker, cases: list[dict], answer: dict) -> None:
    """Juzga las respuestas del ejercicio «mascara_causal»."""
    for case, got in zip(cases, answer["cases"]):
        T = case["calls"][0]["args"][0]
        c.run_test(case["description"], lambda call=got["calls"][0], T=T: _check_mask_case(call, T))


CAUSAL_MASK = ExerciseSpec(
    id="mascara_causal", title="causal_mask", points=3, names=("causal_mask",),
    groups=(
        ScoreGroup("extremos", "T = 1 y T = 2", 1, r"^T = [12]$"),
        ScoreGroup("sorteados", "T sorteados", 2),
    ),
    build=build_mask_cases, judge=judge_mask, seed=SEED + 1,
)

check_causal_mask = notebook_check(CAUSAL_MASK, "check_causal_mask", """Comprueba tu ``causal_mask(T)`` para varios T (incluido T = 1) sorteados.

    Parámetros:
        fn: tu función.
        show: si se imprime el informe (por defecto, sí).

    Devuelve:
        Un :class:`~transformer_lib.tareas.Result`.
    """)
