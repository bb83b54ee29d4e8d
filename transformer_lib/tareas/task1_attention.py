"""Comprobaciones de la tarea 1: atención por producto escalado y máscara causal.

La referencia es :mod:`transformer_lib.attention`. Los casos (entradas ocultas) se
preparan con ``build_*`` y se juzgan con ``judge_*`` a partir de lo que devolvió el
código del estudiante (ver :mod:`~transformer_lib.tareas.runner`). Cuando la salida no
coincide, se compara con versiones *deliberadamente equivocadas* de la fórmula (sin
escalar, máscara invertida, softmax sobre el eje equivocado…) para explicar el error.
"""

from __future__ import annotations

import math
import re

import torch

from .. import attention as ref
from .compare import checker_rng, close, ensure_tensor, max_difference, output_of, shape_str
from .core import STRUCTURAL, Checker, Failure, ScoreGroup, StudentError, numeric, structural
from .exercise import ExerciseSpec, notebook_check

#: Semilla de las pruebas ocultas (las formas se sortean con ella).
SEED = 20250601
#: El nombre que se busca en el cuaderno.
TARGET = "scaled_dot_product_attention"


# --------------------------------------------------------------------------------------
# Referencia con «errores a propósito»
# --------------------------------------------------------------------------------------


def attention_variant(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    *,
    scale: str = "sqrt",
    axis: int = -1,
    invert: bool = False,
    fill: float = float("-inf"),
    after_softmax: bool = False,
    ignore_mask: bool = False,
    no_transpose: bool = False,
    k_as_v: bool = False,
    empty_rows_zero: bool = True,
) -> torch.Tensor:
    """La atención de la biblioteca con un error opcional; sirve para diagnosticar.

    Parámetros:
        scale: "sqrt" (correcto, ÷√d_k), "dk" (÷d_k), "times_sqrt" (×√d_k) o "none".
        axis: eje de la softmax (el correcto es -1).
        invert: usar ``~mask`` en lugar de ``mask``.
        fill: valor con el que se tapan las posiciones prohibidas (correcto: −∞).
        after_softmax: multiplicar los pesos por la máscara después de la softmax.
        ignore_mask: no aplicar la máscara.
        no_transpose: calcular ``q @ k`` en lugar de ``q @ kᵀ``.
        k_as_v: mezclar las claves en lugar de los valores.
        empty_rows_zero: poner a cero las filas sin ninguna clave permitida.

    Formas:
        q: (..., T_q, d_k); k: (..., T_k, d_k); v: (..., T_k, d_v); salida: (..., T_q, d_v).
    """
    d_k = q.shape[-1]
    kt = k if no_transpose else k.transpose(-2, -1)  # (..., d_k, T_k)
    scores = q @ kt  # (..., T_q, T_k)
    if scale == "sqrt":
        scores = scores / math.sqrt(d_k)
    elif scale == "dk":
        scores = scores / d_k
    elif scale == "times_sqrt":
        scores = scores * math.sqrt(d_k)
    m = None if (mask is None or ignore_mask) else (~mask if invert else mask)
    if m is not None and not after_softmax:
        scores = scores.masked_fill(~m, fill)
    weights = torch.softmax(scores, dim=axis)
    if m is not None and after_softmax:
        weights = weights * m
    if m is not None and empty_rows_zero:
        weights = weights.masked_fill(~m.any(dim=-1, keepdim=True), 0.0)
    return weights @ (k if k_as_v else v)


_SQRT = "√d_k"
_VARIANTS: tuple[tuple[dict, str], ...] = (
    (dict(scale="none"),
     f"Parece que no divides las puntuaciones entre {_SQRT}: tu salida coincide con "
     "softmax(Q·Kᵀ)·V. Sin esa escala, con d_k grande la softmax se satura y casi todo el peso "
     "va a una sola clave. Pista: `scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)`."),
    (dict(scale="dk"),
     f"Divides las puntuaciones entre d_k en lugar de entre {_SQRT}. La varianza de q·k crece "
     f"como d_k, así que para devolverla a 1 se divide por su raíz. Pista: `math.sqrt(d_k)`."),
    (dict(scale="times_sqrt"),
     f"Multiplicas las puntuaciones por {_SQRT} en lugar de dividirlas."),
    (dict(invert=True),
     "Tu máscara está invertida. En este curso `True` significa «puede atender»: tienes que "
     "tapar (con −∞) las posiciones donde la máscara es `False`. Pista: "
     "`scores.masked_fill(~mask, float('-inf'))`."),
    (dict(invert=True, empty_rows_zero=False),
     "Tu máscara está invertida. En este curso `True` significa «puede atender»: tapa con −∞ "
     "las posiciones donde la máscara es `False` (`scores.masked_fill(~mask, float('-inf'))`)."),
    (dict(axis=-2),
     "Haces la softmax sobre el eje equivocado. Cada fila de pesos (una consulta) debe sumar 1 "
     "sobre las claves, que están en el último eje: `torch.softmax(scores, dim=-1)`."),
    (dict(ignore_mask=True),
     "Tu salida es la de la atención sin máscara: parece que no aplicas `mask`. Tapa con −∞ las "
     "posiciones donde la máscara es `False` antes de la softmax."),
    (dict(fill=0.0),
     "Rellenas las posiciones prohibidas con 0 en lugar de con −∞: como e⁰ = 1, siguen "
     "recibiendo peso. Usa `float('-inf')` para que su peso sea exactamente 0."),
    (dict(after_softmax=True),
     "Aplicas la máscara después de la softmax (multiplicando los pesos): así las filas ya no "
     "suman 1. Tapa las puntuaciones con −∞ antes de la softmax."),
    (dict(no_transpose=True),
     "Calculas `q @ k` sin transponer k. Las puntuaciones son los productos escalares de cada "
     "consulta con cada clave: `q @ k.transpose(-2, -1)`."),
    (dict(k_as_v=True),
     "Mezclas las claves en lugar de los valores: el último producto es `pesos @ v`."),
)


def diagnose(
    output: torch.Tensor, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None
) -> str | None:
    """Busca qué error clásico explica ``salida``; devuelve el mensaje o None."""
    for options, message in _VARIANTS:
        if mask is None and any(o in options for o in ("invert", "ignore_mask", "fill", "after_softmax")):
            continue
        try:
            with torch.no_grad():
                candidate = attention_variant(q, k, v, mask, **options)
        except RuntimeError:  # la variante no tiene sentido con estas formas
            continue
        if _match_where_finite(output, candidate):
            return message
    return None


def _match_where_finite(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Como ``parecidos``, pero tolera NaN en filas distintas si casi todo lo demás coincide."""
    if close(a, b):
        return True
    if a.shape != b.shape:
        return False
    finite = torch.isfinite(a) & torch.isfinite(b)
    if finite.float().mean() < 0.6:
        return False
    return close(a[finite], b[finite], b.dtype)


# --------------------------------------------------------------------------------------
# Casos de prueba
# --------------------------------------------------------------------------------------


def _randn(g: torch.Generator, *shape: int, dtype=torch.float32) -> torch.Tensor:
    return torch.randn(*shape, generator=g, dtype=dtype)


def _input_sets(g: torch.Generator) -> list[tuple[str, dict]]:
    """Entradas de prueba con formas sorteadas (ocultas al estudiante)."""
    r = lambda lo, hi: int(torch.randint(lo, hi + 1, (1,), generator=g))
    cases = []
    B, T, d = r(2, 4), r(4, 9), 2 ** r(2, 5)
    cases.append((f"caso básico (B={B}, T={T}, d_k={d})",
                  dict(q=_randn(g, B, T, d), k=_randn(g, B, T, d), v=_randn(g, B, T, d))))
    Tq, Tk, dk, dv = r(2, 5), r(6, 10), 8, r(3, 7)
    cases.append((f"T_q={Tq} ≠ T_k={Tk} y d_v={dv} ≠ d_k={dk}",
                  dict(q=_randn(g, 2, Tq, dk), k=_randn(g, 2, Tk, dk), v=_randn(g, 2, Tk, dv))))
    B, h, T, d = 2, r(2, 4), r(3, 8), 16
    cases.append((f"con cabezas (B={B}, h={h}, T={T}, d_k={d})",
                  dict(q=_randn(g, B, h, T, d), k=_randn(g, B, h, T, d), v=_randn(g, B, h, T, d))))
    cases.append(("dos dimensiones de lote extra (2, 3, 2, T, d_k)",
                  dict(q=_randn(g, 2, 3, 2, 5, 4), k=_randn(g, 2, 3, 2, 6, 4), v=_randn(g, 2, 3, 2, 6, 3))))
    cases.append(("sin dimensión de lote (T, d_k)",
                  dict(q=_randn(g, 6, 8), k=_randn(g, 6, 8), v=_randn(g, 6, 8))))
    cases.append(("T = 1 (un solo token)",
                  dict(q=_randn(g, 3, 1, 8), k=_randn(g, 3, 1, 8), v=_randn(g, 3, 1, 8))))
    T = r(5, 9)
    cases.append((f"máscara causal (T, T) con T={T}, difundida sobre (B, h)",
                  dict(q=_randn(g, 2, 2, T, 8), k=_randn(g, 2, 2, T, 8), v=_randn(g, 2, 2, T, 8),
                       mask=ref.causal_mask(T))))
    T = 7
    lengths = [T, r(2, T - 1), r(1, 3)]
    cases.append((f"máscara de relleno (B, 1, 1, T_k) con longitudes {lengths}",
                  dict(q=_randn(g, 3, 2, T, 8), k=_randn(g, 3, 2, T, 8), v=_randn(g, 3, 2, T, 8),
                       mask=ref.padding_mask(lengths, T))))
    mask = torch.rand(2, 6, 6, generator=g) > 0.4
    mask[0, 2] = False  # la consulta 2 del primer ejemplo no ve ninguna clave
    mask[1, 5] = False
    mask[1, 0] = True
    cases.append(("máscara con consultas que no pueden atender a ninguna clave",
                  dict(q=_randn(g, 2, 6, 8), k=_randn(g, 2, 6, 8), v=_randn(g, 2, 6, 8), mask=mask)))
    cases.append(("tensores no contiguos (vienen de un transpose)",
                  dict(q=_randn(g, 2, 8, 5).transpose(-2, -1), k=_randn(g, 2, 8, 5).transpose(-2, -1),
                       v=_randn(g, 4, 5, 2).permute(2, 1, 0))))
    cases.append(("entradas float64",
                  dict(q=_randn(g, 2, 5, 8, dtype=torch.float64), k=_randn(g, 2, 5, 8, dtype=torch.float64),
                       v=_randn(g, 2, 5, 8, dtype=torch.float64), mask=ref.causal_mask(5))))
    cases.append(("puntuaciones muy grandes (q y k multiplicados por 40)",
                  dict(q=40 * _randn(g, 2, 5, 16), k=40 * _randn(g, 2, 5, 16), v=_randn(g, 2, 5, 16))))
    return cases


def build_attention_cases(seed: int) -> list[dict]:
    """Los casos del ejercicio «atencion»: uno por juego de entradas y uno de gradientes."""
    g = checker_rng(seed)
    cases = []
    for description, inputs in _input_sets(g):
        args = [inputs["q"], inputs["k"], inputs["v"]] + ([inputs["mask"]] if "mask" in inputs else [])
        cases.append({"description": description, "kind": "call",
                      "calls": [{"target": TARGET, "args": args, "grad": None}]})
    q, k, v = (_randn(g, 2, 4, 8) for _ in range(3))
    probe = _randn(g, 2, 4, 8)
    cases.append({"description": "gradientes respecto a q, k y v", "kind": "call",
                  "calls": [{"target": TARGET, "args": [q, k, v, ref.causal_mask(4)],
                             "grad": {"wrt": [0, 1, 2], "probe": probe}}]})
    return cases


def _raise_with_hint(err: StudentError, q: torch.Tensor, code: str) -> None:
    """Relanza el error del estudiante con una pista si su código tiene un error típico."""
    if re.search(r"q\s*@\s*k\b(?!\.(transpose|mT|T\b|permute|swapaxes))|matmul\(\s*q\s*,\s*k\s*\)", code):
        raise Failure(
            f"Tu código lanzó {err}. Pista: calculas `q @ k` sin transponer k. Las puntuaciones son "
            "los productos escalares de cada consulta con cada clave: `q @ k.transpose(-2, -1)`.",
            STRUCTURAL,
        ) from None
    if q.dim() > 2 and re.search(r"\.T\b", code):
        raise Failure(
            f"Tu código lanzó {err}. Pista: con más de 2 dimensiones `k.T` invierte *todos* los "
            "ejes; usa `k.transpose(-2, -1)`, que solo intercambia los dos últimos.",
            STRUCTURAL,
        ) from None
    raise err


def _check_case(call: dict, args: list[torch.Tensor], code: str) -> torch.Tensor:
    """Juzga una llamada; devuelve la salida si coincide con la referencia."""
    q, k, v = args[:3]
    mask = args[3] if len(args) > 3 else None
    try:
        output = ensure_tensor(output_of(call), "Tu función")
    except StudentError as e:
        _raise_with_hint(e, q, code)
    for name, before, after in zip(("q", "k", "v", "mask"), args, call["inputs_after"]):
        if not torch.equal(before, after):
            raise Failure(
                f"Tu función modifica su entrada `{name}` (una operación in-place como "
                "`masked_fill_`, `+=` o `[...] = ...` sobre ella). Quien te llama no espera que "
                "cambies sus tensores: trabaja sobre tensores nuevos (`masked_fill` sin guion bajo)."
            )
    expected = ref.scaled_dot_product_attention(q, k, v, mask)
    if output.shape != expected.shape:
        weights_shape = (*expected.shape[:-1], k.shape[-2])
        extra = ""
        if tuple(output.shape) == weights_shape:
            extra = " ¿Devuelves los pesos de atención? Falta multiplicarlos por v: `pesos @ v`."
        elif re.search(r"\.T\b", code) and q.dim() > 2:
            extra = (" Con más de 2 dimensiones `k.T` invierte *todos* los ejes; usa "
                     "`k.transpose(-2, -1)`, que solo intercambia los dos últimos.")
        raise Failure(
            f"Tu salida tiene forma {shape_str(output)} y debería ser {shape_str(expected)} = "
            f"(..., T_q, d_v).{extra}"
        )
    if output.dtype != expected.dtype:
        raise Failure(
            f"Con entradas {q.dtype} devuelves {output.dtype}: conserva el tipo de la entrada "
            "(no uses `.float()` ni crees tensores con un dtype fijo)."
        )
    if close(output, expected):
        return output
    _explain_difference(output, expected, q, k, v, mask)


def _explain_difference(output, expected, q, k, v, mask) -> None:
    if mask is not None:
        empty_rows = ~mask.expand(*expected.shape[:-1], k.shape[-2]).any(dim=-1)  # (..., T_q)
        if empty_rows.any():
            full_rows = ~empty_rows
            if close(output[full_rows], expected[full_rows]):
                rows = output[empty_rows]
                if torch.isnan(rows).any():
                    raise structural(
                        "Una consulta que no puede atender a ninguna clave te da NaN (la softmax de "
                        "una fila entera de −∞ es 0/0). En este curso su salida debe ser un vector de "
                        "ceros, como en la biblioteca y en `F.scaled_dot_product_attention`. Pista: tras "
                        "la softmax, `pesos = pesos.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)`."
                    )
                uniform = v.mean(dim=-2, keepdim=True).expand_as(expected)[empty_rows]
                if close(rows, uniform):
                    raise structural(
                        "Tapas con un número finito (como -1e9) en lugar de −∞: una consulta sin "
                        "ninguna clave permitida reparte entonces su peso a partes iguales entre "
                        "todas. En este curso su salida debe ser un vector de ceros. Pista: tras la "
                        "softmax, `pesos.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)`."
                    )
                raise structural(
                    "Las consultas con alguna clave permitida salen bien, pero las que no pueden "
                    "atender a ninguna deben dar un vector de ceros."
                )
    message = diagnose(output, q, k, v, mask)
    if message is not None:
        raise structural(message)
    if not torch.isfinite(output).all() and torch.isfinite(expected).all():
        raise Failure(
            "Tu salida tiene NaN o infinitos. Si escribes la softmax a mano con `torch.exp`, "
            "las puntuaciones grandes desbordan: resta el máximo de cada fila antes "
            "(`scores - scores.amax(dim=-1, keepdim=True)`) o usa `torch.softmax(scores, dim=-1)`."
        )
    raise numeric(
        "Repasa la fórmula paso a paso: softmax(Q·Kᵀ/√d_k) con la máscara aplicada antes de la "
        "softmax, y después · V.",
        max_difference(output, expected),
    )


def _check_gradient(call: dict, args: list[torch.Tensor], probe: torch.Tensor, code: str) -> None:
    _check_case(call, args, code)
    if not call.get("requires_grad"):
        raise Failure(
            "Tu salida no está conectada al grafo de gradientes: no se podría entrenar nada con "
            "ella. ¿Usas `.detach()`, `.numpy()`, `.item()` o `torch.tensor(...)` por el camino?"
        )
    leaves = [a.detach().clone().requires_grad_() for a in args[:3]]
    expected = torch.autograd.grad((ref.scaled_dot_product_attention(*leaves, args[3]) * probe).sum(), leaves)
    for name, got, want in zip("qkv", call["grads"] or [None] * 3, expected):
        if got is None or not close(got, want):
            raise Failure(
                f"El gradiente respecto a {name} no coincide con el de la referencia. ¿Hay alguna "
                "operación que corte el grafo (`.detach()`, `.data`) o alguna operación in-place?"
            )


def judge_attention(c: Checker, cases: list[dict], answer: dict) -> None:
    """Juzga las respuestas del ejercicio «atencion» (ver :func:`build_attention_cases`)."""
    code = answer["sources"].get(TARGET, "")
    for case, got in zip(cases, answer["cases"]):
        (spec,), (call,) = case["calls"], got["calls"]
        if spec["grad"] is None:
            c.run_test(case["description"], lambda call=call, spec=spec: _check_case(call, spec["args"], code))
        else:
            c.run_test(case["description"],
                       lambda call=call, spec=spec: _check_gradient(call, spec["args"], spec["grad"]["probe"], code))


ATTENTION = ExerciseSpec(
    id="atencion", title="scaled_dot_product_attention", points=7, names=(TARGET,),
    groups=(
        ScoreGroup("mascaras", "máscaras (causal, de relleno y consultas sin claves)", 2, "máscara"),
        ScoreGroup("gradientes", "gradientes", 1, "gradientes"),
        ScoreGroup("robustez", "tensores no contiguos, float64 y puntuaciones grandes", 1,
                   "no contiguos|float64|puntuaciones"),
        ScoreGroup("formas", "formas: lotes, cabezas, T_q ≠ T_k, T = 1", 3),
    ),
    build=build_attention_cases, judge=judge_attention, seed=SEED,
    forbidden=(
        ("torch:scaled_dot_product_attention", "la atención de PyTorch (`F.scaled_dot_product_attention`)"),
        ("aten:_scaled_dot_product", "la atención fusionada de PyTorch"),
        ("aten:_safe_softmax", "la atención de PyTorch (su softmax interna, `_safe_softmax`)"),
        ("torch:multi_head_attention_forward", "la atención multicabeza de PyTorch"),
        ("lib:transformer_lib.scaled_dot_product_attention",
         "la atención de la biblioteca (`transformer_lib.scaled_dot_product_attention`)"),
        ("lib:transformer_lib.attention_weights", "los pesos de atención de la biblioteca (`attention_weights`)"),
        ("lib:transformer_lib.MultiHeadAttention", "la `MultiHeadAttention` de la biblioteca"),
    ),
    forbidden_hint="aquí se trata de escribir la atención tú con operaciones básicas (`@`, "
                   "`transpose`, `masked_fill`, `torch.softmax`).",
)

check_attention = notebook_check(ATTENTION, "check_attention", """Comprueba tu ``scaled_dot_product_attention(q, k, v, mask=None)``.

    La compara con la de la biblioteca en casos con formas sorteadas: varias dimensiones
    de lote, T = 1, T_q ≠ T_k, máscaras causales y de relleno, consultas sin ninguna clave
    permitida (salida: ceros), tensores no contiguos, float64, puntuaciones grandes, y el
    gradiente. También vigila que no modifiques las entradas y que no uses la atención de
    PyTorch ni la de la biblioteca (se observa lo que se ejecuta, no el nombre).

    Parámetros:
        fn: tu función.
        show: si se imprime el informe (por defecto, sí).

    Devuelve:
        Un :class:`~transformer_lib.tareas.Result`.
    """)
