"""Comprobaciones de la tarea 2, ejercicio 2: la atención multicabeza.

La referencia es :class:`transformer_lib.MultiHeadAttention`: tu módulo recibe sus pesos
(por eso los nombres ``w_q``, ``w_k``, ``w_v`` y ``w_o`` son obligatorios) y se comparan las
salidas y los gradientes.
"""

from __future__ import annotations

import math

import torch

from ..attention import causal_mask, padding_mask
from ..multihead import MultiHeadAttention as _LibraryMHA
from .compare import checker_rng, close, ensure_tensor, max_difference, output_of, shape_str
from .core import Checker, Failure, ScoreGroup, numeric, structural
from .exercise import ExerciseSpec, judge_each, notebook_check
from .task2_heads import INTERLEAVED, MIXED_MERGE, MIXED_SPLIT, SEED


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
    """La atención multicabeza con los pesos de ``lib`` y un error opcional (para diagnosticar).

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


#: Errores clásicos que se reconocen: mensaje -> opciones de :func:`mha_variant`.
_MHA_VARIANTS: dict[str, dict] = {
    MIXED_SPLIT: dict(split_mode="no_transpose"),
    MIXED_MERGE: dict(merge_mode="no_transpose"),
    "Mezclas las cabezas al partir y al juntar (un `view`/`reshape` directo sin `transpose`). "
    "Partir: `x.view(B, T, h, d_k).transpose(1, 2)`; juntar: `x.transpose(1, 2).reshape(B, T, d_model)`.": dict(split_mode="no_transpose", merge_mode="no_transpose"),
    INTERLEAVED: dict(split_mode="interleaved"),
    "Escalas las puntuaciones por √d_model en lugar de por √d_k: cada cabeza hace su propia "
    "atención con vectores de dimensión d_k = d_model / h.": dict(scale="d_model"),
    "No divides las puntuaciones entre √d_k.": dict(scale="none"),
    "Divides las puntuaciones entre d_k en lugar de entre √d_k.": dict(scale="dk_no_sqrt"),
    "Te falta la proyección de salida: después de juntar las cabezas hay que aplicar `self.w_o`.": dict(no_w_o=True),
    "Calculas las claves y los valores a partir de `query`. En la atención cruzada vienen de "
    "otra secuencia: usa `self.w_k(key)` y `self.w_v(value)`.": dict(query_only=True),
    "Tienes cambiadas las proyecciones de claves y valores: las claves son `self.w_k(key)` y "
    "los valores `self.w_v(value)`.": dict(kv_swapped=True),
    "Tu máscara está invertida: True = puede atender, así que se tapan con −∞ las posiciones "
    "donde la máscara es False.": dict(invert=True),
}


_NAMES = ("w_q", "w_k", "w_v", "w_o")


def _expected_keys() -> set[str]:
    return {f"{n}.{p}" for n in _NAMES for p in ("weight", "bias")}


_FORBIDDEN_CLASSES = ("transformer_lib.multihead.MultiHeadAttention", "torch.nn.modules.activation.MultiheadAttention")


def _check_structure(module: dict, d_model: int) -> str | None:
    """Devuelve un mensaje si el módulo no es el que pide el enunciado (según su descripción)."""
    if any(name in module.get("classes", []) for name in _FORBIDDEN_CLASSES):
        return ("Tu módulo usa la MultiHeadAttention de la biblioteca (o `nn.MultiheadAttention`): "
                "aquí se trata de escribirla tú con cuatro `nn.Linear`.")
    state = module.get("state", {})
    keys, expected_keys = set(state), _expected_keys()
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
        shape = tuple(state[f"{name}.weight"])
        if shape != (d_model, d_model):
            return (f"`{name}` tiene pesos de forma {shape_str(shape)} y debería ser "
                    f"nn.Linear(d_model, d_model) con pesos ({d_model}, {d_model}).")
    return None


def _created(module: dict, d_model: int) -> None:
    """Comprueba que se pudo crear el módulo y que tiene la estructura pedida."""
    output_of(module)  # la excepción del constructor, si la hubo
    if not module.get("is_module"):
        raise Failure(f"`MultiHeadAttention(d_model, n_heads)` debería crear un nn.Module y creó "
                      f"{module.get('type_name')}.")
    message = _check_structure(module, d_model)
    if message:
        raise Failure(message)
    if module.get("load_error"):
        raise Failure(f"No pude copiar los pesos de la referencia en tu módulo ({module['load_error']['message']}).")


def _library(case: dict) -> _LibraryMHA:
    """La MultiHeadAttention de la biblioteca con los pesos que se enviaron al estudiante."""
    lib = _LibraryMHA(*case["init"])
    lib.load_state_dict(case["load"])
    if case.get("dtype") == "float64":
        lib.double()
    return lib.eval()


def _mha_case(call: dict, lib: _LibraryMHA, args: list[torch.Tensor], shapes_description: str) -> None:
    query, key, value = args[:3]
    mask = args[3] if len(args) > 3 else None
    out = ensure_tensor(output_of(call), "Tu `forward`")
    for n, before, after in zip(("query", "key", "value"), args, call["inputs_after"]):
        if not torch.equal(before, after):
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
    for message, options in _MHA_VARIANTS.items():
        if mask is None and "invert" in options:
            continue
        try:
            with torch.no_grad():
                candidate = mha_variant(lib, query, key, value, mask, **options)
        except RuntimeError:
            continue
        if close(out, candidate):
            raise structural(message)
    raise numeric("Repasa los pasos: proyectar, partir en cabezas, atención con escala 1/√d_k (y "
                  "máscara), juntar cabezas y proyectar con w_o.", max_difference(out, expected))


def _mha_shapes(g: torch.Generator) -> list[tuple[str, dict]]:
    r = lambda lo, hi: int(torch.randint(lo, hi + 1, (1,), generator=g))
    h = r(2, 4)
    D = h * 2 ** r(2, 4)
    T = r(4, 8)
    return [
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


def _prepare(g: torch.Generator, D, h, B, Tq, Tk, self_attention=False, mask=None, non_contiguous=False,
             dtype=torch.float32) -> list[torch.Tensor]:
    if non_contiguous:
        query = torch.randn(Tq, B, D, generator=g, dtype=dtype).transpose(0, 1)
        key = torch.randn(Tk, B, D, generator=g, dtype=dtype).transpose(0, 1)
        value = torch.randn(B, D, Tk, generator=g, dtype=dtype).transpose(1, 2)
    else:
        query = torch.randn(B, Tq, D, generator=g, dtype=dtype)
        key = query if self_attention else torch.randn(B, Tk, D, generator=g, dtype=dtype)
        value = query if self_attention else torch.randn(B, Tk, D, generator=g, dtype=dtype)
    args = [query, key, value]
    if mask == "causal":
        args.append(causal_mask(Tq))
    elif mask == "padding":
        lengths = torch.randint(1, Tk + 1, (B,), generator=g)
        lengths[0] = Tk
        args.append(padding_mask(lengths, Tk))
    return args


def _module_case(description: str, g: torch.Generator, D: int, h: int, calls: list[dict],
                 dtype: torch.dtype = torch.float32) -> dict:
    """Un caso «module»: tu clase con los pesos de una MultiHeadAttention de la biblioteca."""
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=g))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        lib = _LibraryMHA(D, h)
    return {"description": description, "kind": "module", "target": "MultiHeadAttention", "init": [D, h],
            "seed": seed, "load": lib.state_dict(), "dtype": "float64" if dtype == torch.float64 else None,
            "calls": calls}


def build_multihead_cases(seed: int) -> list[dict]:
    """Los casos del ejercicio «multihead» (crear, nueve juegos de entradas y gradientes)."""
    g = checker_rng(seed)
    cases = [dict(_module_case("crear MultiHeadAttention(32, 4)", g, 32, 4, []), load=None)]
    for description, shapes in _mha_shapes(g):
        args = _prepare(g, **shapes)
        cases.append(_module_case(description, g, shapes["D"], shapes["h"], [{"args": args, "grad": None}],
                                  shapes.get("dtype", torch.float32)))
    x = torch.randn(2, 5, 24, generator=g)
    probe = torch.randn(2, 5, 24, generator=g)
    cases.append(_module_case("gradientes de w_q, w_k, w_v y w_o", g, 24, 3,
                              [{"args": [x, x, x, causal_mask(5)], "grad": {"probe": probe}}]))
    return cases


def _mha_gradients(call: dict, lib: _LibraryMHA, args: list[torch.Tensor], probe: torch.Tensor) -> None:
    out = ensure_tensor(output_of(call), "Tu `forward`")
    expected = lib(*args[:3], mask=args[3])
    if out.shape != expected.shape or not close(out, expected):
        raise Failure("La salida no coincide (mira los otros fallos primero).")
    if not call.get("requires_grad"):
        raise Failure("Tu salida no está conectada al grafo de gradientes: ¿usas `.detach()` o `torch.no_grad()`?")
    (expected * probe).sum().backward()
    grads = call.get("param_grads") or {}
    for name, p in lib.named_parameters():
        if grads.get(name) is None or not close(grads[name], p.grad):
            raise Failure(f"El gradiente de `{name}` no coincide con el de la referencia: ¿usas esa capa "
                          "en el `forward`? ¿Hay algo que corte el grafo (`.detach()`, `.data`)?")


def _judge_mha_case(case: dict, module: dict) -> None:
    _created(module, case["init"][0])
    if not case["calls"]:
        return
    lib, (spec,), (call,) = _library(case), case["calls"], module["calls"]
    if spec["grad"] is None:
        _mha_case(call, lib, spec["args"], case["description"])
    else:
        _mha_gradients(call, lib, spec["args"], spec["grad"]["probe"])


def judge_multihead(c: Checker, cases: list[dict], answer: dict) -> None:
    """Juzga las respuestas del ejercicio «multihead»; se detiene si la estructura no es la pedida."""
    first = answer["cases"][0]
    if first.get("error") is None and first.get("is_module"):
        message = _check_structure(first, 32)
        if message:
            c.stop(message)
            return
    judge_each(_judge_mha_case)(c, cases, answer)


MULTIHEAD = ExerciseSpec(
    id="multihead", title="MultiHeadAttention", points=6, names=("MultiHeadAttention",),
    groups=(
        ScoreGroup("estructura", "crear el módulo con los nombres pedidos", 1, "^crear"),
        ScoreGroup("mascaras", "máscaras causal y de relleno", 1, "máscara"),
        ScoreGroup("gradientes", "gradientes de las proyecciones", 1, "gradientes"),
        ScoreGroup("robustez", "entradas no contiguas y float64", 1, "no contiguas|float64"),
        ScoreGroup("formas", "autoatención, atención cruzada, h = 1, d_k = 1, T = 1", 2),
    ),
    build=build_multihead_cases, judge=judge_multihead, seed=SEED + 1,
    forbidden=(("lib:transformer_lib.MultiHeadAttention", "la `MultiHeadAttention` de la biblioteca"),
               ("torch:multi_head_attention_forward", "`nn.MultiheadAttention` de PyTorch")),
    forbidden_hint="aquí se trata de escribirla tú con cuatro `nn.Linear`.",
)

check_multihead = notebook_check(MULTIHEAD, "check_multihead", """Comprueba tu clase ``MultiHeadAttention(d_model, n_heads)``.

    Crea tu módulo con varias combinaciones de d_model y h, le copia los pesos de la
    :class:`~transformer_lib.MultiHeadAttention` de la biblioteca (por eso tus capas deben
    llamarse ``w_q``, ``w_k``, ``w_v`` y ``w_o``) y compara salidas y gradientes en
    autoatención, atención cruzada, máscaras causal y de relleno, T = 1, h = 1, d_k = 1,
    entradas no contiguas y float64.

    Parámetros:
        cls: tu clase (no una instancia).
        show: si se imprime el informe (por defecto, sí).
    """)
