"""Comprobaciones de la tarea 4, ejercicio 1: RoPE, ``apply_rope(x, positions, theta)``.

La referencia se calcula aquí en float64 con la convención de la biblioteca y de Hugging Face
(pares (i, i + d/2), θ_i = theta^(−2i/d)). Los errores clásicos se reconocen comparando la
salida con la de cada variante equivocada: pares vecinos, frecuencias sin el 2, giro al revés,
seno y coseno cambiados, theta o las posiciones ignorados y ángulos en float32.
"""

from __future__ import annotations

import torch

from .compare import checker_rng, close, ensure_tensor, max_difference, output_of, shape_str
from .core import Checker, Failure, ScoreGroup, numeric, structural
from .exercise import ExerciseSpec, notebook_check

SEED = 20250604

PAIRS = ("Emparejas componentes vecinas (0, 1), (2, 3)…, como el artículo de RoFormer. En este curso "
         "(y en Llama y Hugging Face) cada componente i gira con la i + d/2: parte el último eje en dos "
         "mitades, `x1, x2 = x.chunk(2, dim=-1)`, y usa `rotate_half(x) = cat(−x2, x1)`.")
FREQUENCIES = ("Tus frecuencias no son θ_i = theta^(−2i/d) para i = 0 … d/2 − 1: te falta el 2 del "
               "exponente (o divides por d/2), así que las frecuencias bajan el doble de rápido. "
               "Usa `theta ** (-torch.arange(0, d, 2) / d)`.")
DIRECTION = ("Giras al revés: x·cos − rotate_half(x)·sin es un giro de −m·θ_i. La puntuación "
             "seguiría dependiendo solo de la distancia, pero no es RoPE: usa x·cos + rotate_half(x)·sin.")
SWAPPED = ("Tienes el seno y el coseno cambiados: el giro de un ángulo α es x·cos α + rotate_half(x)·sin α, "
           "y en la posición 0 (α = 0) debe dejar x tal cual.")
THETA = ("Ignoras el argumento `theta` (usas siempre 10 000). Los modelos actuales cambian la base "
         "(Llama 3 usa 500 000): calcula las frecuencias con el `theta` que recibes.")
POSITIONS = ("Ignoras `positions` y giras como si los tokens estuvieran en 0, 1, …, T − 1. Con la caché "
             "KV el primer token nuevo no está en la posición 0: usa las posiciones que recibes.")
ANGLES_F32 = ("Calculas los ángulos en float32 aunque x sea float64, y con posiciones grandes el error "
              "se nota. Haz las cuentas en el tipo de x (`positions.to(x.dtype)`).")
IDENTITY = "Devuelves x sin girar: cada par (i, i + d/2) tiene que girar un ángulo m·θ_i."


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([-x2, x1], dim=-1)


def _angles(positions: torch.Tensor, d: int, theta: float, freq_step: int = 2) -> torch.Tensor:
    inv_freq = theta ** (-torch.arange(0, d, 2, dtype=torch.float64) * (freq_step / 2) / d)  # (d/2,)
    return positions.to(torch.float64)[:, None] * inv_freq[None, :]  # (T, d/2)


def rope_reference(x: torch.Tensor, positions: torch.Tensor, theta: float = 10000.0, *, pairs: str = "half",
                   sign: float = 1.0, swap: bool = False, freq_step: int = 2) -> torch.Tensor:
    """RoPE calculado aquí (y sus variantes equivocadas, para reconocerlas).

    Formas:
        x: (..., T, d) con d par; positions: (T,); salida: (..., T, d), en el dtype de x.
    """
    d = x.shape[-1]
    angles = _angles(positions, d, theta, freq_step)  # (T, d/2), en float64
    cos, sin = angles.cos(), angles.sin()
    if swap:
        cos, sin = sin, cos
    xd = x.to(torch.float64)
    if pairs == "half":
        cos, sin = torch.cat([cos, cos], -1), torch.cat([sin, sin], -1)  # (T, d)
        out = xd * cos + sign * _rotate_half(xd) * sin
    else:  # vecinos (2i, 2i + 1)
        even, odd = xd[..., 0::2], xd[..., 1::2]
        out = torch.stack([even * cos - sign * odd * sin, odd * cos + sign * even * sin], dim=-1).flatten(-2)
    return out.to(x.dtype)


def _call(x: torch.Tensor, positions: torch.Tensor, theta: float) -> dict:
    return {"target": "apply_rope", "args": [x, positions, theta], "grad": None}


def build_rope_cases(seed: int) -> list[dict]:
    """Los casos del ejercicio «rope»: 2D y 4D, d = 2, T = 1, posiciones desplazadas, otro theta y float64."""
    g = checker_rng(seed)
    r = lambda lo, hi: int(torch.randint(lo, hi + 1, (1,), generator=g))
    T, d = r(4, 9), 2 * r(3, 8)
    offset = r(5, 40)
    cases = [
        ("(T, d) con posiciones 0 … T − 1", torch.randn(T, d, generator=g), torch.arange(T), 10000.0),
        ("(B, h, T, d_k)", torch.randn(2, r(1, 4), T, d, generator=g), torch.arange(T), 10000.0),
        ("d = 2 (un solo par)", torch.randn(1, 3, 5, 2, generator=g), torch.arange(5), 10000.0),
        ("T = 1 en la posición 7 (un paso de generación)", torch.randn(2, 2, 1, d, generator=g),
         torch.tensor([7]), 10000.0),
        (f"posiciones {offset} … {offset + T - 1} (tras una caché)", torch.randn(2, 2, T, d, generator=g),
         torch.arange(offset, offset + T), 10000.0),
        ("theta = 500", torch.randn(1, 2, T, d, generator=g), torch.arange(T) * 3, 500.0),
        ("float64 con posiciones grandes (≈ 5000)", torch.randn(1, 2, 4, 16, generator=g, dtype=torch.float64),
         torch.arange(4997, 5001), 10000.0),
    ]
    return [{"description": desc, "kind": "call", "calls": [_call(x, pos, theta)]} for desc, x, pos, theta in cases]


def _check_rope_case(call: dict, x: torch.Tensor, positions: torch.Tensor, theta: float) -> None:
    out = ensure_tensor(output_of(call), "Tu `apply_rope`")
    if not torch.equal(x, call["inputs_after"][0]):
        raise Failure("Tu `apply_rope` modifica su entrada `x`; devuelve un tensor nuevo.")
    if out.shape != x.shape:
        raise Failure(f"Con x de forma {shape_str(x)} tu `apply_rope` devuelve {shape_str(out)}: el giro "
                      "no cambia la forma.")
    expected = rope_reference(x, positions, theta)
    if close(out, expected, x.dtype):
        if out.dtype != x.dtype:
            raise Failure(f"`apply_rope` cambia el tipo de {x.dtype} a {out.dtype}.")
        return
    variants = [
        (x, IDENTITY),
        (rope_reference(x, positions, theta, pairs="adjacent"), PAIRS),
        (rope_reference(x, positions, theta, freq_step=1), FREQUENCIES),
        (rope_reference(x, positions, theta, sign=-1.0), DIRECTION),
        (rope_reference(x, positions, theta, swap=True), SWAPPED),
        (rope_reference(x, positions, 10000.0), THETA),
        (rope_reference(x, torch.arange(len(positions)), theta), POSITIONS),
        (expected, ANGLES_F32),
    ]
    for candidate, message in variants:
        if message is THETA and theta == 10000.0 or message is POSITIONS and torch.equal(positions, torch.arange(len(positions))):
            continue  # en este caso la variante coincide con la buena
        if message is ANGLES_F32:
            # Con ángulos en float32 el error crece con la posición (≈ m · 6e-8 rad): lejos de la
            # precisión de float64, pero cerca de la buena; un error de concepto difiere en O(1).
            if x.dtype == torch.float64 and max_difference(out, expected) < 1e-2:
                raise structural(message)
            continue
        if close(out.to(candidate.dtype), candidate, x.dtype):
            raise structural(message)
    raise numeric("la salida no es x·cos(m·θ_i) + rotate_half(x)·sin(m·θ_i)", max_difference(out, expected))


def judge_rope(c: Checker, cases: list[dict], answer: dict) -> None:
    """Juzga las respuestas del ejercicio «rope»."""
    for case, got in zip(cases, answer["cases"]):
        x, positions, theta = case["calls"][0]["args"]
        c.run_test(case["description"], lambda call=got["calls"][0], x=x, p=positions, t=theta:
                   _check_rope_case(call, x, p, t))


ROPE = ExerciseSpec(
    id="rope", title="apply_rope", points=5, names=("apply_rope",),
    groups=(
        ScoreGroup("posiciones", "posiciones que no empiezan en 0", 2, "T = 1 en la posición|posiciones 20"),
        ScoreGroup("theta_y_precision", "theta y float64", 1, "theta|float64"),
        ScoreGroup("formas", "formas (T, d), (B, h, T, d_k) y un solo par", 2),
    ),
    build=build_rope_cases, judge=judge_rope, seed=SEED,
    forbidden=(("lib:transformer_lib.apply_rope", "el `apply_rope` de la biblioteca"),),
)

check_rope = notebook_check(ROPE, "check_rope", """Comprueba tu ``apply_rope(x, positions, theta=10000.0)``.

    Usa x de forma (T, d) y (B, h, T, d_k), d = 2, T = 1, posiciones que no empiezan en 0,
    theta distinto de 10 000 y float64 con posiciones grandes; reconoce y explica los errores
    clásicos (pares vecinos, frecuencias, sentido del giro, seno y coseno, theta y posiciones
    ignorados, ángulos en float32).

    Parámetros:
        apply_rope: tu función.
        show: si se imprime el informe (por defecto, sí).
    """)
