"""Comprobaciones de la tarea 2: partir y juntar cabezas, y la atención multi-cabeza.

La referencia es :class:`transformer_lib.MultiHeadAttention`: la comprobación copia sus
pesos en tu módulo (por eso los nombres ``w_q``, ``w_k``, ``w_v`` y ``w_o`` son
obligatorios) y compara las salidas y los gradientes.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from ..attention import causal_mask, padding_mask
from ..multihead import MultiHeadAttention as _LibraryMHA
from .core import (
    Checker,
    Failure,
    call_student,
    checker_rng,
    close,
    ensure_tensor,
    exercise_check,
    max_difference,
    shape_str,
)

SEED = 20250602

_MIXED_SPLIT = (
    "Mezclas las cabezas al partir: `x.view(B, h, T, d_k)` reparte los números en el orden en "
    "que están en memoria, así que cada «cabeza» recibe trozos de posiciones distintas. Parte "
    "primero el último eje y después intercambia ejes: `x.view(B, T, h, d_k).transpose(1, 2)` "
    "→ (B, h, T, d_k)."
)
_MIXED_MERGE = (
    "Mezclas las cabezas al juntarlas: antes del `reshape(B, T, d_model)` tienes que devolver "
    "cada cabeza junto a su posición con `.transpose(1, 2)`: (B, h, T, d_k) → (B, T, h, d_k) → "
    "(B, T, d_model)."
)
_INTERLEAVED = (
    "Cada cabeza debe quedarse con d_k columnas *consecutivas* (la cabeza i, con las columnas "
    "i·d_k … (i+1)·d_k − 1), y tu partición las intercala. Usa `x.view(B, T, h, d_k)`, no "
    "`x.view(B, T, d_k, h)`."
)


# --------------------------------------------------------------------------------------
# Partir y juntar cabezas
# --------------------------------------------------------------------------------------


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


def _check_split(fn: Callable, x: torch.Tensor, h: int) -> None:
    saved = x.clone()
    out = ensure_tensor(call_student(fn, x, h), "Tu `split_heads`")
    if not torch.equal(x, saved):
        raise Failure("Tu `split_heads` modifica su entrada; devuelve un tensor nuevo.")
    B, T, D = x.shape
    expected = _split_ref(x, h)
    if out.shape != expected.shape:
        extra = ""
        if tuple(out.shape) == (B, T, h, D // h):
            extra = " Te falta intercambiar los ejes de las posiciones y las cabezas: `.transpose(1, 2)`."
        raise Failure(
            f"Con x de forma (B={B}, T={T}, d_model={D}) y h={h}, `split_heads` devuelve "
            f"{shape_str(out)} y debería devolver (B, h, T, d_k) = {shape_str(expected)}.{extra}"
        )
    if torch.equal(out, expected):
        if out.dtype != x.dtype:
            raise Failure(f"`split_heads` cambia el tipo de {x.dtype} a {out.dtype}.")
        return
    if torch.equal(out, x.reshape(B, h, T, D // h)):
        raise Failure(_MIXED_SPLIT)
    if torch.equal(out, x.reshape(B, T, D // h, h).permute(0, 3, 1, 2)):
        raise Failure(_INTERLEAVED)
    raise Failure(
        "La forma de `split_heads` es buena, pero los números no están donde deben: "
        "out[b, i, t] tiene que ser x[b, t, i·d_k:(i+1)·d_k]."
    )


def _check_merge(fn: Callable, x: torch.Tensor) -> None:
    saved = x.clone()
    out = ensure_tensor(call_student(fn, x), "Tu `merge_heads`")
    if not torch.equal(x, saved):
        raise Failure("Tu `merge_heads` modifica su entrada; devuelve un tensor nuevo.")
    B, h, T, dk = x.shape
    expected = _merge_ref(x)
    if out.shape != expected.shape:
        raise Failure(
            f"Con x de forma (B={B}, h={h}, T={T}, d_k={dk}), `merge_heads` devuelve {shape_str(out)} "
            f"y debería devolver (B, T, d_model) = {shape_str(expected)}."
        )
    if torch.equal(out, expected):
        if out.dtype != x.dtype:
            raise Failure(f"`merge_heads` cambia el tipo de {x.dtype} a {out.dtype}.")
        return
    if torch.equal(out, x.reshape(B, T, h * dk)):
        raise Failure(_MIXED_MERGE)
    raise Failure(
        "La forma de `merge_heads` es buena, pero los números no están donde deben: "
        "out[b, t, i·d_k:(i+1)·d_k] tiene que ser x[b, i, t]."
    )


@exercise_check("cabezas", "split_heads y merge_heads", points=4)
def check_heads(c: Checker, split_heads: Callable, merge_heads: Callable | None = None) -> None:
    """Comprueba tus ``split_heads(x, n_heads)`` y ``merge_heads(x)``.

    Usa formas sorteadas (incluidas h = 1, d_k = 1 y T = 1), float64, y la ida y vuelta
    ``merge_heads(split_heads(x, h)) == x``. ``merge_heads`` recibe tensores contiguos de
    forma (B, h, T, d_k), como los que salen de la atención: tras su ``transpose`` ya no
    son contiguos y un ``view`` falla.

    Parámetros:
        split_heads: tu función (B, T, d_model) -> (B, h, T, d_k).
        merge_heads: tu función (B, h, T, d_k) -> (B, T, d_model).
        show: si se imprime el informe (por defecto, sí).
    """
    if merge_heads is None:
        c.mark_unsolved("No encuentro tu `merge_heads`: ¿has ejecutado su celda?")
        return
    g = checker_rng(SEED)
    for B, T, D, h in _head_shapes(g):
        x = torch.randn(B, T, D, generator=g)
        c.run_test(f"split_heads con (B={B}, T={T}, d_model={D}), h={h}", lambda x=x, h=h: _check_split(split_heads, x, h))
    for B, T, D, h in _head_shapes(g):
        x = torch.randn(B, h, T, D // h, generator=g)  # como la salida de la atención
        c.run_test(f"merge_heads con (B={B}, h={h}, T={T}, d_k={D // h})", lambda x=x: _check_merge(merge_heads, x))
    x64 = torch.randn(2, 5, 12, generator=g, dtype=torch.float64)
    c.run_test("float64", lambda: (_check_split(split_heads, x64, 3), _check_merge(merge_heads, torch.randn(2, 3, 5, 4, generator=g, dtype=torch.float64))))

    def round_trip() -> None:
        x = torch.randn(3, 7, 20, generator=g)
        y = ensure_tensor(call_student(merge_heads, ensure_tensor(call_student(split_heads, x, 5), "Tu `split_heads`")), "Tu `merge_heads`")
        if y.shape != x.shape or not torch.equal(y, x):
            raise Failure("`merge_heads(split_heads(x, h))` debería devolver exactamente x.")

    c.run_test("ida y vuelta: merge_heads(split_heads(x, h)) == x", round_trip)


# --------------------------------------------------------------------------------------
# MultiHeadAttention
# --------------------------------------------------------------------------------------


def mha_variant(
    lib: _LibraryMHA,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    mask: torch.Tensor | None = None,
    *,
    split_mode: str = "ok",
    merge_mode: str = "ok",
    scale: str = "d_k",
    no_w_o: bool = False,
    query_only: bool = False,
    kv_swapped: bool = False,
    invert: bool = False,
) -> torch.Tensor:
    """La atención multi-cabeza con los pesos de ``lib`` y un error opcional (para diagnosticar).

    Formas:
        query: (B, T_q, d_model); key, value: (B, T_k, d_model); salida: (B, T_q, d_model).
    """
    if query_only:
        key = value = query
    B, Tq, D = query.shape
    Tk, h = key.shape[1], lib.n_heads
    dk = D // h
    q = lib.w_q(query)
    k, v = (lib.w_v(key), lib.w_k(value)) if kv_swapped else (lib.w_k(key), lib.w_v(value))

    def split(x: torch.Tensor, T: int) -> torch.Tensor:
        if split_mode == "no_transpose":
            return x.reshape(B, h, T, dk)
        if split_mode == "interleaved":
            return x.reshape(B, T, dk, h).permute(0, 3, 1, 2)
        return x.reshape(B, T, h, dk).transpose(1, 2)  # (B, T, d_model) -> (B, h, T, d_k)

    q, k, v = split(q, Tq), split(k, Tk), split(v, Tk)
    divisor = {"d_k": math.sqrt(dk), "d_model": math.sqrt(D), "none": 1.0, "dk_no_sqrt": float(dk)}[scale]
    scores = q @ k.transpose(-2, -1) / divisor  # (B, h, T_q, T_k)
    if mask is not None:
        m = ~mask if invert else mask
        scores = scores.masked_fill(~m, float("-inf"))
    w = torch.softmax(scores, dim=-1)
    if mask is not None:
        w = w.masked_fill(~m.any(dim=-1, keepdim=True), 0.0)
    out = w @ v  # (B, h, T_q, d_k)
    if merge_mode == "no_transpose":
        out = out.reshape(B, Tq, D)
    else:
        out = out.transpose(1, 2).reshape(B, Tq, D)  # (B, h, T_q, d_k) -> (B, T_q, d_model)
    return out if no_w_o else lib.w_o(out)


_MHA_VARIANTS: tuple[tuple[dict, str], ...] = (
    (dict(split_mode="no_transpose"), _MIXED_SPLIT),
    (dict(merge_mode="no_transpose"), _MIXED_MERGE),
    (dict(split_mode="no_transpose", merge_mode="no_transpose"),
     "Mezclas las cabezas al partir y al juntar (un `view`/`reshape` directo sin `transpose`). "
     "Partir: `x.view(B, T, h, d_k).transpose(1, 2)`; juntar: `x.transpose(1, 2).reshape(B, T, d_model)`."),
    (dict(split_mode="interleaved"), _INTERLEAVED),
    (dict(scale="d_model"),
     "Escalas las puntuaciones por √d_model en lugar de por √d_k: cada cabeza hace su propia "
     "atención con vectores de dimensión d_k = d_model / h."),
    (dict(scale="none"), "No divides las puntuaciones entre √d_k."),
    (dict(scale="dk_no_sqrt"), "Divides las puntuaciones entre d_k en lugar de entre √d_k."),
    (dict(no_w_o=True),
     "Te falta la proyección de salida: después de juntar las cabezas hay que aplicar `self.w_o`."),
    (dict(query_only=True),
     "Calculas las claves y los valores a partir de `query`. En la atención cruzada vienen de "
     "otra secuencia: usa `self.w_k(key)` y `self.w_v(value)`."),
    (dict(kv_swapped=True),
     "Tienes cambiadas las proyecciones de claves y valores: las claves son `self.w_k(key)` y "
     "los valores `self.w_v(value)`."),
    (dict(invert=True),
     "Tu máscara está invertida: True = puede atender, así que se tapan con −∞ las posiciones "
     "donde la máscara es False."),
)


_NAMES = ("w_q", "w_k", "w_v", "w_o")


def _expected_keys() -> set[str]:
    return {f"{n}.{p}" for n in _NAMES for p in ("weight", "bias")}


def _check_structure(module: nn.Module, d_model: int) -> str | None:
    """Devuelve un mensaje si los parámetros no se llaman como pide el enunciado."""
    if isinstance(module, _LibraryMHA) or any(
        isinstance(m, (_LibraryMHA, nn.MultiheadAttention)) for m in module.modules()
    ):
        return ("Tu módulo usa la MultiHeadAttention de la biblioteca (o `nn.MultiheadAttention`): "
                "aquí se trata de escribirla tú con cuatro `nn.Linear`.")
    keys = set(module.state_dict())
    expected_keys = _expected_keys()
    if keys != expected_keys:
        missing, extra_keys = sorted(expected_keys - keys), sorted(keys - expected_keys)
        parts = []
        if missing:
            parts.append("faltan " + ", ".join(missing))
        if extra_keys:
            parts.append("sobran " + ", ".join(extra_keys))
        return ("Tu módulo debe tener exactamente cuatro capas `nn.Linear(d_model, d_model)` con sesgo "
                f"llamadas w_q, w_k, w_v y w_o (así puedo copiarles los pesos de la referencia): "
                f"{'; '.join(parts)}.")
    for name in _NAMES:
        w = module.state_dict()[f"{name}.weight"]
        if tuple(w.shape) != (d_model, d_model):
            return (f"`{name}` tiene pesos de forma {shape_str(w)} y debería ser "
                    f"nn.Linear(d_model, d_model) con pesos ({d_model}, {d_model}).")
    return None


def _build(cls, d_model: int, n_heads: int, g: torch.Generator):
    """Crea tu módulo y el de la biblioteca con los mismos pesos."""
    torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=g)))
    module = call_student(cls, d_model, n_heads)
    if not isinstance(module, nn.Module):
        raise Failure(f"`{getattr(cls, '__name__', cls)}(d_model, n_heads)` debería crear un nn.Module.")
    lib = _LibraryMHA(d_model, n_heads)
    return module, lib


def _mha_case(module, lib, query, key, value, mask, shapes_description: str) -> None:
    inputs = {"query": query, "key": key, "value": value}
    copies = {n: t.clone() for n, t in inputs.items()}
    args = (query, key, value) if mask is None else (query, key, value, mask)
    out = ensure_tensor(call_student(module, *args), "Tu `forward`")
    for n, t in inputs.items():
        if not torch.equal(t, copies[n]):
            raise Failure(f"Tu `forward` modifica su entrada `{n}` (operación in-place); no lo hagas.")
    with torch.no_grad():
        expected = lib(query, key, value, mask=mask)
    if out.shape != expected.shape:
        raise Failure(f"Con {shapes_description} tu salida tiene forma {shape_str(out)} y debería ser "
                    f"(B, T_q, d_model) = {shape_str(expected)}.")
    if out.dtype != expected.dtype:
        raise Failure(f"Con entradas {query.dtype} devuelves {out.dtype}: conserva el tipo.")
    if close(out, expected):
        return
    if not torch.isfinite(out).all():
        raise Failure("Tu salida tiene NaN o infinitos.")
    for options, message in _MHA_VARIANTS:
        if mask is None and "invert" in options:
            continue
        try:
            with torch.no_grad():
                candidate = mha_variant(lib, query, key, value, mask, **options)
        except RuntimeError:
            continue
        if close(out, candidate):
            raise Failure(message)
    raise Failure(
        f"Con {shapes_description} tu salida no coincide con la de referencia (diferencia máxima "
        f"{max_difference(out, expected):.3g}). Repasa los pasos: proyectar, partir en cabezas, "
        "atención con escala 1/√d_k (y máscara), juntar cabezas y proyectar con w_o."
    )


def _mha_cases(g: torch.Generator) -> list[tuple[str, dict]]:
    r = lambda lo, hi: int(torch.randint(lo, hi + 1, (1,), generator=g))
    h = r(2, 4)
    D = h * 2 ** r(2, 4)
    T = r(4, 8)
    cases = [
        (f"autoatención (d_model={D}, h={h}, B=2, T={T})", dict(D=D, h=h, B=2, Tq=T, Tk=T, self_attention=True)),
        ("atención cruzada (d_model=48, h=6, T_q=3, T_k=7)", dict(D=48, h=6, B=2, Tq=3, Tk=7)),
        ("una sola cabeza (d_model=16, h=1)", dict(D=16, h=1, B=3, Tq=5, Tk=5, self_attention=True)),
        ("d_k = 1 (d_model=8, h=8)", dict(D=8, h=8, B=2, Tq=4, Tk=4, self_attention=True)),
        ("T = 1", dict(D=32, h=4, B=2, Tq=1, Tk=1, self_attention=True)),
        ("máscara causal (T, T)", dict(D=32, h=4, B=2, Tq=6, Tk=6, self_attention=True, mask="causal")),
        ("máscara de relleno (B, 1, 1, T_k)", dict(D=24, h=3, B=3, Tq=5, Tk=6, mask="padding")),
        ("entradas no contiguas", dict(D=32, h=2, B=3, Tq=5, Tk=5, non_contiguous=True)),
        ("float64", dict(D=16, h=4, B=2, Tq=5, Tk=5, self_attention=True, dtype=torch.float64, mask="causal")),
    ]
    return cases


def _prepare(g: torch.Generator, D, h, B, Tq, Tk, self_attention=False, mask=None, non_contiguous=False,
              dtype=torch.float32):
    if non_contiguous:
        query = torch.randn(Tq, B, D, generator=g, dtype=dtype).transpose(0, 1)
        key = torch.randn(Tk, B, D, generator=g, dtype=dtype).transpose(0, 1)
        value = torch.randn(B, D, Tk, generator=g, dtype=dtype).transpose(1, 2)
    else:
        query = torch.randn(B, Tq, D, generator=g, dtype=dtype)
        key = query if self_attention else torch.randn(B, Tk, D, generator=g, dtype=dtype)
        value = query if self_attention else torch.randn(B, Tk, D, generator=g, dtype=dtype)
    m = None
    if mask == "causal":
        m = causal_mask(Tq)
    elif mask == "padding":
        lengths = torch.randint(1, Tk + 1, (B,), generator=g)
        lengths[0] = Tk
        m = padding_mask(lengths, Tk)
    return query, key, value, m


def _mha_gradients(cls, g: torch.Generator) -> None:
    module, lib = _build(cls, 24, 3, g)
    module.load_state_dict(lib.state_dict())
    x = torch.randn(2, 5, 24, generator=g)
    y = torch.randn(2, 5, 24, generator=g)
    out = ensure_tensor(call_student(module, x, x, x, causal_mask(5)), "Tu `forward`")
    if out.shape != (2, 5, 24) or not close(out, lib(x, x, x, mask=causal_mask(5))):
        raise Failure("La salida no coincide (mira los otros fallos primero).")
    if not out.requires_grad:
        raise Failure("Tu salida no está conectada al grafo de gradientes: ¿usas `.detach()` o `torch.no_grad()`?")
    call_student(lambda: (out * y).sum().backward())
    (lib(x, x, x, mask=causal_mask(5)) * y).sum().backward()
    params = dict(module.named_parameters())
    for name, p in lib.named_parameters():
        gp = params[name].grad
        if gp is None or not close(gp, p.grad):
            raise Failure(f"El gradiente de `{name}` no coincide con el de la referencia: ¿usas esa capa "
                        "en el `forward`? ¿Hay algo que corte el grafo (`.detach()`, `.data`)?")


@exercise_check("multihead", "MultiHeadAttention", points=6)
def check_multihead(c: Checker, cls: type) -> None:
    """Comprueba tu clase ``MultiHeadAttention(d_model, n_heads)``.

    Crea tu módulo con varias combinaciones de d_model y h, le copia los pesos de la
    :class:`~transformer_lib.MultiHeadAttention` de la biblioteca (por eso tus capas deben
    llamarse ``w_q``, ``w_k``, ``w_v`` y ``w_o``) y compara salidas y gradientes en
    autoatención, atención cruzada, máscaras causal y de relleno, T = 1, h = 1, d_k = 1,
    entradas no contiguas y float64.

    Parámetros:
        cls: tu clase (no una instancia).
        show: si se imprime el informe (por defecto, sí).
    """
    if isinstance(cls, nn.Module):
        cls = type(cls)
    g = checker_rng(SEED + 1)
    structure: dict[str, str | None] = {}

    def create() -> None:
        module, _ = _build(cls, 32, 4, g)
        structure["message"] = _check_structure(module, 32)

    if not c.run_test("crear MultiHeadAttention(32, 4)", create):
        return
    if structure.get("message"):
        c.stop(structure["message"])
        return
    for description, case in _mha_cases(g):

        def run_case(case=case, description=description) -> None:
            module, lib = _build(cls, case["D"], case["h"], g)
            message = _check_structure(module, case["D"])
            if message:
                raise Failure(message)
            module.load_state_dict(lib.state_dict())
            if case.get("dtype") == torch.float64:
                module.double()
                lib.double()
            query, key, value, mask = _prepare(g, **{k: v for k, v in case.items()})
            _mha_case(module, lib, query, key, value, mask, description)

        c.run_test(description, run_case)
    c.run_test("gradientes de w_q, w_k, w_v y w_o", lambda: _mha_gradients(cls, g))
