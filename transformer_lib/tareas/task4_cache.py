"""Comprobaciones de la tarea 4, ejercicio 2: la atención con caché KV, ``attend_with_cache``.

``attend_with_cache(q, k, v, past_k, past_v)`` recibe las consultas, claves y valores de los
``t`` tokens nuevos, (B, h, t, d_k), y la caché de los ``S`` anteriores, (B, h, S, d_k) (S puede
ser 0), y devuelve ``(out, k_all, v_all)``: la atención de los nuevos sobre los S + t, con la
máscara causal desplazada S posiciones, y la caché ampliada. La referencia es la atención causal
sin caché sobre la secuencia entera: sus filas S … S + t − 1 tienen que coincidir con ``out``.
"""

from __future__ import annotations

import math

import torch

from .compare import checker_rng, close, ensure_tensor, max_difference, output_of, shape_str
from .core import Checker, Failure, ScoreGroup, numeric, structural
from .exercise import ExerciseSpec, notebook_check

SEED = 20250605

NO_MASK = ("Los tokens nuevos ven a los nuevos que van *después* de ellos: falta la máscara causal dentro "
           "del trozo nuevo. El token nuevo i (posición absoluta S + i) solo puede atender a las "
           "claves j ≤ S + i.")
TOP_LEFT = ("Tu máscara causal empieza en la esquina de arriba a la izquierda, como la de "
            "`is_causal=True` de `scaled_dot_product_attention` (y `torch.tril` de (t, S + t) sin "
            "desplazar): con una caché de S tokens, el token nuevo i está en la posición S + i y ve las "
            "claves 0 … S + i. Desplaza la diagonal S posiciones (`torch.ones(t, S + t).tril(S)`).")
NOT_APPENDED = ("No añades las claves y valores nuevos a la caché: `k_all` y `v_all` tienen que ser la caché "
                "anterior seguida de los nuevos, `torch.cat([past_k, k], dim=2)`.")
ORDER = ("Pones las claves nuevas *delante* de las de la caché. El orden es el de la secuencia: "
         "primero las S anteriores y después las t nuevas, `torch.cat([past_k, k], dim=2)`.")
ONLY_NEW = ("Los tokens nuevos solo atienden a los nuevos: no usas la caché. La atención es sobre las "
            "S + t claves, las de la caché y las nuevas.")
ONLY_PAST = "Los tokens nuevos solo atienden a la caché: cada uno también debe verse a sí mismo y a los nuevos anteriores."
NO_SCALE = "Falta dividir las puntuaciones entre √d_k antes de la softmax."
SOFTMAX_AXIS = ("Haces la softmax sobre el eje equivocado: cada consulta reparte su peso entre las claves, "
                "así que la softmax va sobre el último eje (`dim=-1`).")
NOT_A_TUPLE = "Tu `attend_with_cache` debe devolver la tupla `(out, k_all, v_all)`."


def cached_reference(q, k, v, past_k, past_v, *, shift: bool = True, masked: bool = True, scale: bool = True,
                     axis: int = -1, keys: str = "all") -> torch.Tensor:
    """La salida de referencia (y sus variantes equivocadas, para reconocerlas).

    Formas:
        q, k, v: (B, h, t, d_k); past_k, past_v: (B, h, S, d_k); salida: (B, h, t, d_k).
    """
    S, t, d_k = past_k.shape[-2], q.shape[-2], q.shape[-1]
    if keys == "new":
        K, V, S = k, v, 0
    elif keys == "past":
        K, V = past_k, past_v
    else:
        K, V = torch.cat([past_k, k], dim=-2), torch.cat([past_v, v], dim=-2)  # (B, h, S + t, d_k)
    scores = (q.double() @ K.double().transpose(-2, -1)) / (math.sqrt(d_k) if scale else 1.0)  # (B, h, t, S + t)
    if masked and keys != "past":
        allowed = torch.ones(t, K.shape[-2], dtype=torch.bool).tril(S if shift else 0)
        scores = scores.masked_fill(~allowed, float("-inf"))
    return (torch.softmax(scores, dim=axis) @ V.double()).to(q.dtype)


def _case(description: str, g: torch.Generator, B: int, h: int, S: int, t: int, d_k: int,
          dtype: torch.dtype = torch.float32) -> dict:
    q, k, v = (torch.randn(B, h, t, d_k, generator=g, dtype=dtype) for _ in range(3))
    past_k, past_v = (torch.randn(B, h, S, d_k, generator=g, dtype=dtype) for _ in range(2))
    return {"description": description, "kind": "call",
            "calls": [{"target": "attend_with_cache", "args": [q, k, v, past_k, past_v], "grad": None}]}


def build_cache_cases(seed: int) -> list[dict]:
    """Los casos del ejercicio «cache_kv»: llenar la caché, un paso, un trozo, h = 1, d_k = 1 y float64."""
    g = checker_rng(seed)
    r = lambda lo, hi: int(torch.randint(lo, hi + 1, (1,), generator=g))
    S, t = r(3, 9), r(2, 5)
    return [
        _case(f"caché vacía: los primeros {t + S} tokens (S = 0)", g, 2, 2, 0, t + S, 8),
        _case(f"un paso de generación (S = {S}, t = 1)", g, 2, r(1, 4), S, 1, 8),
        _case(f"un trozo de {t} tokens tras una caché de {S}", g, 2, 2, S, t, 8),
        _case("h = 1 y d_k = 1", g, 1, 1, r(2, 6), r(2, 4), 1),
        _case("float64", g, 1, 3, r(2, 6), r(2, 4), 4, torch.float64),
    ]


def _check_cache_case(call: dict, args: list[torch.Tensor]) -> None:
    q, k, v, past_k, past_v = args
    got = output_of(call)
    if not isinstance(got, tuple) or len(got) != 3:
        raise Failure(NOT_A_TUPLE)
    out, k_all, v_all = (ensure_tensor(x, "Tu `attend_with_cache`") for x in got)
    if any(not torch.equal(a, b) for a, b in zip(args, call["inputs_after"])):
        raise Failure("Tu `attend_with_cache` modifica sus entradas (¿`past_k` o `q`?); crea tensores nuevos.")
    S, t = past_k.shape[-2], q.shape[-2]
    expected_k = torch.cat([past_k, k], dim=-2)
    if k_all.shape != expected_k.shape or v_all.shape != expected_k.shape:
        if k_all.shape == past_k.shape:
            raise structural(NOT_APPENDED)
        raise Failure(f"Con una caché de {S} tokens y {t} nuevos, `k_all` y `v_all` deben tener forma "
                      f"{shape_str(expected_k)} y tienen {shape_str(k_all)} y {shape_str(v_all)}: se concatena "
                      "sobre el eje de las posiciones (`dim=2`).")
    if not (torch.equal(k_all, expected_k) and torch.equal(v_all, torch.cat([past_v, v], dim=-2))):
        if torch.equal(k_all, torch.cat([k, past_k], dim=-2)):
            raise structural(ORDER)
        raise Failure("`k_all` y `v_all` tienen la forma buena pero no son la caché seguida de los nuevos: "
                      "`torch.cat([past_k, k], dim=2)` y `torch.cat([past_v, v], dim=2)`.")
    expected = cached_reference(q, k, v, past_k, past_v)
    if out.shape != expected.shape:
        raise Failure(f"`out` debe tener la forma de q, {shape_str(q)}, y tiene {shape_str(out)}.")
    if close(out, expected, q.dtype):
        return
    variants = [
        (dict(masked=False), NO_MASK), (dict(shift=False), TOP_LEFT), (dict(keys="new"), ONLY_NEW),
        (dict(keys="past"), ONLY_PAST), (dict(scale=False), NO_SCALE), (dict(axis=-2), SOFTMAX_AXIS),
    ]
    for change, message in variants:
        if change.get("keys") == "past" and S == 0:
            continue
        if close(out, cached_reference(q, k, v, past_k, past_v, **change), q.dtype):
            raise structural(message)
    raise numeric("`out` no es la atención causal de los tokens nuevos sobre la caché y ellos mismos",
                  max_difference(out, expected))


def judge_cache(c: Checker, cases: list[dict], answer: dict) -> None:
    """Juzga las respuestas del ejercicio «cache_kv»."""
    for case, got in zip(cases, answer["cases"]):
        c.run_test(case["description"], lambda call=got["calls"][0], args=case["calls"][0]["args"]:
                   _check_cache_case(call, args))


KV_CACHE = ExerciseSpec(
    id="cache_kv", title="attend_with_cache", points=5, names=("attend_with_cache",),
    groups=(
        ScoreGroup("cache_vacia", "caché vacía (S = 0)", 1, "caché vacía"),
        ScoreGroup("con_cache", "pasos con caché (t = 1 y un trozo)", 3, "un paso|un trozo"),
        ScoreGroup("extremos", "h = 1, d_k = 1 y float64", 1),
    ),
    build=build_cache_cases, judge=judge_cache, seed=SEED,
    forbidden=(("lib:transformer_lib.MultiHeadAttention", "la `MultiHeadAttention` de la biblioteca (que ya tiene caché)"),),
)

check_kv_cache = notebook_check(KV_CACHE, "check_kv_cache", """Comprueba tu ``attend_with_cache(q, k, v, past_k, past_v)``.

    Compara con la atención causal sin caché de la secuencia entera: caché vacía (S = 0), un
    paso de generación (t = 1), un trozo de varios tokens, h = 1, d_k = 1 y float64; reconoce
    la máscara sin desplazar, la caché sin ampliar o en otro orden, la atención solo a los
    nuevos, la escala y el eje de la softmax.

    Parámetros:
        attend_with_cache: tu función; devuelve ``(out, k_all, v_all)``.
        show: si se imprime el informe (por defecto, sí).
    """)
