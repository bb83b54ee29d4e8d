"""Comprobaciones de la tarea 2, ejercicio 1: partir y juntar cabezas.

Los mensajes de las cabezas mezcladas los reutiliza :mod:`~transformer_lib.tareas.task2_multihead`.
"""

from __future__ import annotations

import torch

from .compare import checker_rng, ensure_tensor, output_of, shape_str
from .core import Checker, Failure, ScoreGroup, structural
from .exercise import ExerciseSpec, notebook_check

SEED = 20250602

MIXED_SPLIT = (
    "Mezclas las cabezas al partir: `x.view(B, h, T, d_k)` reparte los números en el orden en "
    "que están en memoria, así que cada «cabeza» recibe trozos de posiciones distintas. Parte "
    "primero el último eje y después intercambia ejes: `x.view(B, T, h, d_k).transpose(1, 2)` "
    "→ (B, h, T, d_k)."
)
MIXED_MERGE = (
    "Mezclas las cabezas al juntarlas: antes del `reshape(B, T, d_model)` tienes que devolver "
    "cada cabeza junto a su posición con `.transpose(1, 2)`: (B, h, T, d_k) → (B, T, h, d_k) → "
    "(B, T, d_model)."
)
INTERLEAVED = (
    "Cada cabeza debe quedarse con d_k columnas *consecutivas* (la cabeza i, con las columnas "
    "i·d_k … (i+1)·d_k − 1), y tu partición las intercala. Usa `x.view(B, T, h, d_k)`, no "
    "`x.view(B, T, d_k, h)`."
)


def _split_ref(x: torch.Tensor, h: int) -> torch.Tensor:
    B, T, D = x.shape
    return x.view(B, T, h, D // h).transpose(1, 2)  # (B, T, d_model) -> (B, h, T, d_k)


def _merge_ref(x: torch.Tensor) -> torch.Tensor:
    B, h, T, dk = x.shape
    return x.transpose(1, 2).reshape(B, T, h * dk)  # (B, h, T, d_k) -> (B, T, d_model)


def _head_shapes(g: torch.Generator) -> list[tuple[int, int, int, int]]:
    r = lambda lo, hi: int(torch.randint(lo, hi + 1, (1,), generator=g))
    h = r(2, 4)
    return [(2, r(3, 7), h * r(2, 6), h), (1, 1, 8, 2), (3, r(2, 5), 12, 1), (2, r(3, 6), 6, 6),
            (r(2, 3), r(4, 8), 4 * r(3, 5), 4)]


def _check_heads_output(call: dict, name: str, x: torch.Tensor, expected: torch.Tensor, shapes: str,
                        mixups: list[tuple[torch.Tensor, str]], where: str, extra: str = "") -> None:
    """Lo común de ``split_heads`` y ``merge_heads``: entrada intacta, forma, tipo y mezclas conocidas."""
    out = ensure_tensor(output_of(call), f"Tu `{name}`")
    if not torch.equal(x, call["inputs_after"][0]):
        raise Failure(f"Tu `{name}` modifica su entrada; devuelve un tensor nuevo.")
    if out.shape != expected.shape:
        raise Failure(f"Con x de forma {shapes}, `{name}` devuelve {shape_str(out)} y debería devolver "
                      f"{shape_str(expected)}.{extra if out.dim() == 4 else ''}")
    if torch.equal(out, expected):
        if out.dtype != x.dtype:
            raise Failure(f"`{name}` cambia el tipo de {x.dtype} a {out.dtype}.")
        return
    for candidate, message in mixups:
        if torch.equal(out, candidate):
            raise structural(message)
    raise Failure(f"La forma de `{name}` es buena, pero los números no están donde deben: {where}.")


def _check_split(call: dict, x: torch.Tensor, h: int) -> None:
    B, T, D = x.shape
    _check_heads_output(
        call, "split_heads", x, _split_ref(x, h), f"(B={B}, T={T}, d_model={D}) y h={h}",
        [(x.reshape(B, h, T, D // h), MIXED_SPLIT), (x.reshape(B, T, D // h, h).permute(0, 3, 1, 2), INTERLEAVED)],
        "out[b, i, t] tiene que ser x[b, t, i·d_k:(i+1)·d_k]",
        " (B, h, T, d_k). Te falta intercambiar los ejes de las posiciones y las cabezas: `.transpose(1, 2)`.",
    )


def _check_merge(call: dict, x: torch.Tensor) -> None:
    B, h, T, dk = x.shape
    _check_heads_output(
        call, "merge_heads", x, _merge_ref(x), f"(B={B}, h={h}, T={T}, d_k={dk})",
        [(x.reshape(B, T, h * dk), MIXED_MERGE)], "out[b, t, i·d_k:(i+1)·d_k] tiene que ser x[b, i, t]",
    )


def _call(target: str, *args) -> dict:
    return {"target": target, "args": list(args), "grad": None}


def build_heads_cases(seed: int) -> list[dict]:
    """Los casos del ejercicio «cabezas» (formas sorteadas, float64 y la ida y vuelta)."""
    g = checker_rng(seed)
    cases = []
    for B, T, D, h in _head_shapes(g):
        cases.append({"description": f"split_heads con (B={B}, T={T}, d_model={D}), h={h}", "kind": "call",
                      "calls": [_call("split_heads", torch.randn(B, T, D, generator=g), h)]})
    for B, T, D, h in _head_shapes(g):
        x = torch.randn(B, h, T, D // h, generator=g)  # como la salida de la atención
        cases.append({"description": f"merge_heads con (B={B}, h={h}, T={T}, d_k={D // h})", "kind": "call",
                      "calls": [_call("merge_heads", x)]})
    x64 = torch.randn(2, 5, 12, generator=g, dtype=torch.float64)
    y64 = torch.randn(2, 3, 5, 4, generator=g, dtype=torch.float64)
    cases.append({"description": "float64", "kind": "call",
                  "calls": [_call("split_heads", x64, 3), _call("merge_heads", y64)]})
    cases.append({"description": "ida y vuelta: merge_heads(split_heads(x, h)) == x", "kind": "call",
                  "calls": [_call("split_heads", torch.randn(3, 7, 20, generator=g), 5),
                            _call("merge_heads", "<prev>")]})
    return cases


def _check_round_trip(calls: list[dict], x: torch.Tensor) -> None:
    ensure_tensor(output_of(calls[0]), "Tu `split_heads`")
    y = ensure_tensor(output_of(calls[1]), "Tu `merge_heads`")
    if y.shape != x.shape or not torch.equal(y, x):
        raise Failure("`merge_heads(split_heads(x, h))` debería devolver exactamente x.")


def _judge_heads_case(case: dict, calls: list[dict]) -> None:
    if case["description"].startswith("ida y vuelta"):
        _check_round_trip(calls, case["calls"][0]["args"][0])
        return
    for spec, call in zip(case["calls"], calls):
        if spec["target"] == "split_heads":
            _check_split(call, *spec["args"])
        else:
            _check_merge(call, spec["args"][0])
    if len(calls) < len(case["calls"]):  # la cadena se cortó: el error está en la llamada anterior
        output_of(calls[-1])


def judge_heads(c: Checker, cases: list[dict], answer: dict) -> None:
    """Juzga las respuestas del ejercicio «cabezas»."""
    for case, got in zip(cases, answer["cases"]):
        c.run_test(case["description"], lambda case=case, calls=got["calls"]: _judge_heads_case(case, calls))


HEADS = ExerciseSpec(
    id="cabezas", title="split_heads y merge_heads", points=4, names=("split_heads", "merge_heads"),
    groups=(
        ScoreGroup("split_heads", "split_heads", 2, "^split_heads"),
        ScoreGroup("merge_heads", "merge_heads", 1, "^merge_heads"),
        ScoreGroup("ida_y_vuelta", "float64 e ida y vuelta", 1),
    ),
    build=build_heads_cases, judge=judge_heads, seed=SEED,
)

check_heads = notebook_check(HEADS, "check_heads", """Comprueba tus ``split_heads(x, n_heads)`` y ``merge_heads(x)``.

    Usa formas sorteadas (incluidas h = 1, d_k = 1 y T = 1), float64, y la ida y vuelta
    ``merge_heads(split_heads(x, h)) == x``. ``merge_heads`` recibe tensores contiguos de
    forma (B, h, T, d_k), como los que salen de la atención: tras su ``transpose`` ya no
    son contiguos y un ``view`` falla.

    Parámetros:
        split_heads: tu función (B, T, d_model) -> (B, h, T, d_k).
        merge_heads: tu función (B, h, T, d_k) -> (B, T, d_model).
        show: si se imprime el informe (por defecto, sí).
    """)
