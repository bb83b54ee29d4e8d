"""Comprobaciones de la tarea 3, ejercicio 1: el bloque decoder Pre-LN (y lo que comparte con el 2).

- «bloque»: tu ``PreLNBlock`` con los pesos de un :class:`~transformer_lib.DecoderBlock`
  Pre-LN de la biblioteca (GELU, sin atención cruzada); se comparan salidas, gradientes y
  causalidad.
- «gpt» (:mod:`~transformer_lib.tareas.task3_gpt`) reutiliza la correspondencia de nombres.

El entrenamiento está en :mod:`~transformer_lib.tareas.task3_training`. Las entradas y los
pesos los prepara el calificador (``build_*``); tu código solo se ejecuta en el kernel del
cuaderno y el juicio (``judge_*``) se hace con lo que devolvió.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..blocks import DecoderBlock
from .compare import checker_rng, close, ensure_tensor, max_difference, output_of, shape_str
from .core import Failure, ScoreGroup, numeric, structural
from .exercise import ExerciseSpec, judge_each, notebook_check

SEED = 20250603
#: Las clases de la biblioteca que no puede contener tu bloque o tu GPT.
LIBRARY_BLOCK, LIBRARY_GPT = "transformer_lib.blocks.DecoderBlock", "transformer_lib.models.GPT"

# --------------------------------------------------------------------------------------
# Correspondencia de nombres entre tu código y la biblioteca
# --------------------------------------------------------------------------------------

BLOCK_NAMES = {  # nombre en tu PreLNBlock -> nombre en DecoderBlock de la biblioteca
    "ln_1": "res_self.norm",
    "attn": "self_attn",
    "ln_2": "res_ff.norm",
    "ff": "ff",
}
_GPT_NAMES = {"pos_emb.embedding.": "pos_emb."}  # GPT de la biblioteca -> tu MiniGPT


def student_key(library_key: str) -> str:
    """El nombre en tu ``PreLNBlock``/``MiniGPT`` de un parámetro del bloque o del GPT de la biblioteca."""
    for theirs, mine in _GPT_NAMES.items():
        if library_key.startswith(theirs):
            return mine + library_key[len(theirs):]
    prefix, rest = "", library_key
    if library_key.startswith("blocks."):
        _, i, rest = library_key.split(".", 2)
        prefix = f"blocks.{i}."
    for mine, theirs in BLOCK_NAMES.items():
        if rest.startswith(theirs + "."):
            return prefix + mine + rest[len(theirs):]
    return library_key


def student_weights(lib: torch.nn.Module) -> dict[str, torch.Tensor]:
    """state_dict de un DecoderBlock o GPT de la biblioteca con los nombres de tu código."""
    return {student_key(k): v for k, v in lib.state_dict().items()}


def check_names(module: dict, weights: dict[str, torch.Tensor], what: str) -> None:
    """Lanza un Failure si los parámetros descritos en ``module`` no son los de ``weights``."""
    own = module.get("state", {})
    missing, extra_keys = sorted(set(weights) - set(own)), sorted(set(own) - set(weights))
    if missing or extra_keys:
        parts = []
        if missing:
            parts.append("faltan " + ", ".join(missing[:6]) + (" …" if len(missing) > 6 else ""))
        if extra_keys:
            parts.append("sobran " + ", ".join(extra_keys[:6]) + (" …" if len(extra_keys) > 6 else ""))
        raise Failure(
            f"Los parámetros de tu {what} no se llaman como pide el enunciado ({'; '.join(parts)}). "
            "Necesito esos nombres para copiar los pesos de la referencia y comparar."
        )
    for name, param in weights.items():
        if tuple(own[name]) != tuple(param.shape):
            raise Failure(f"El parámetro `{name}` de tu {what} tiene forma {shape_str(tuple(own[name]))} y "
                          f"debería tener {shape_str(param)}.")


def check_created(module: dict, case: dict, what: str, forbidden: tuple[str, ...], message: str) -> None:
    output_of(module)  # la excepción del constructor, si la hubo
    if not module.get("is_module"):
        raise Failure(f"`{what}(…)` debería crear un nn.Module y creó {module.get('type_name')}.")
    if any(name in module.get("classes", []) for name in forbidden):
        raise Failure(message)
    check_names(module, case["load"], what)
    if module.get("load_error"):
        raise Failure(f"No pude copiar los pesos de la referencia en tu {what} ({module['load_error']['message']}).")


def draw_seed(g: torch.Generator) -> int:
    return int(torch.randint(0, 2**31 - 1, (1,), generator=g))


# --------------------------------------------------------------------------------------
# Bloque Pre-LN
# --------------------------------------------------------------------------------------


def block_variant(lib: DecoderBlock, x: torch.Tensor, error: str = "none") -> torch.Tensor:
    """El bloque Pre-LN de la biblioteca con un error opcional (para diagnosticar).

    Formas:
        x: (B, T, d_model); salida: (B, T, d_model).
    """
    ln1, ln2, attn, ff = lib.res_self.norm, lib.res_ff.norm, lib.self_attn, lib.ff
    causal = error != "no_mask"
    T = x.shape[-2]
    future = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)  # j > i
    if error == "ln_1_twice":
        ln2 = ln1
    if error == "relu":
        ff = lambda y: lib.ff.linear2(F.relu(lib.ff.linear1(y)))

    def att(y: torch.Tensor) -> torch.Tensor:
        if error == "future_only":
            return attn(y, y, y, mask=future)
        return attn(y, y, y, is_causal=causal)

    if error == "post_ln":
        x1 = ln1(x + att(x))
        return ln2(x1 + ff(x1))
    if error == "no_residual":
        return ff(ln2(att(ln1(x))))
    if error == "normalized_residual":
        h = ln1(x)
        x1 = h + att(h)
        h2 = ln2(x1)
        return h2 + ff(h2)
    if error == "parallel":
        return x + att(ln1(x)) + ff(ln2(x))
    x1 = x + att(ln1(x))  # subcapa 1: x + Atención(LN(x))
    return x1 + ff(ln2(x1))  # subcapa 2: x + FFN(LN(x))


_BLOCK_VARIANTS = (
    ("post_ln",
     "Tu bloque es Post-LN (normaliza después de sumar). Aquí se pide Pre-LN, como GPT-2: "
     "`x = x + atención(ln_1(x))` y `x = x + ff(ln_2(x))`; la suma residual queda fuera de la "
     "normalización."),
    ("no_mask",
     "Tu bloque no usa la máscara causal: cada posición ve el futuro. Pasa `is_causal=True` (o "
     "`mask=causal_mask(T)`) a la atención."),
    ("future_only",
     "Tu bloque mira al futuro y no al pasado: tu máscara deja atender a cada posición solo a las "
     "siguientes. En este curso `True` significa «puede atender» y la posición i ve las j ≤ i: "
     "`mask=causal_mask(T)` (o `is_causal=True`), no su contrario."),
    ("no_residual",
     "Faltan las conexiones residuales: cada subcapa debe *sumarse* a su entrada, `x = x + …`."),
    ("normalized_residual",
     "La conexión residual debe sumar la x original, sin normalizar: `x = x + atención(ln_1(x))`, "
     "no `h = ln_1(x); x = h + atención(h)`."),
    ("ln_1_twice",
     "Usas `ln_1` en las dos subcapas: la FFN tiene su propia normalización, `ln_2`."),
    ("parallel",
     "La FFN debe recibir la salida de la subcapa de atención (la x después de la primera suma), "
     "no la x de la entrada del bloque."),
    ("relu",
     "La FFN de este bloque usa GELU (como GPT-2), no ReLU: `FeedForward(d_model, d_ff, "
     "activation=\"gelu\")`."),
)


def _diagnose_block(output: torch.Tensor, lib: DecoderBlock, x: torch.Tensor) -> str | None:
    for error, message in _BLOCK_VARIANTS:
        with torch.no_grad():
            candidate = block_variant(lib, x, error)
        if close(output, candidate):
            return message
    return None


def _library_block(d_model: int, n_heads: int, d_ff: int, seed: int, g: torch.Generator) -> DecoderBlock:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        lib = DecoderBlock(d_model, n_heads, d_ff, dropout=0.0, norm_first=True, activation="gelu",
                           cross_attention=False)
    # LayerNorm con γ y β no triviales: así se nota si se usa la normalización equivocada.
    with torch.no_grad():
        for ln in (lib.res_self.norm, lib.res_ff.norm):
            ln.weight.copy_(1 + 0.3 * torch.randn(d_model, generator=g))
            ln.bias.copy_(0.3 * torch.randn(d_model, generator=g))
    return lib.eval()


def _block_case(description: str, g: torch.Generator, d_model: int, n_heads: int, d_ff: int,
                calls: list[dict], dtype: str | None = None) -> dict:
    seed = draw_seed(g)
    lib = _library_block(d_model, n_heads, d_ff, seed, g)
    return {"description": description, "kind": "module", "target": "PreLNBlock", "init": [d_model, n_heads, d_ff],
            "seed": seed, "load": student_weights(lib), "_reference": lib.state_dict(), "dtype": dtype,
            "calls": calls}


def build_block_cases(seed: int) -> list[dict]:
    """Los casos del ejercicio «bloque»: crear, cinco formas, causalidad y gradientes."""
    g = checker_rng(seed)
    r = lambda lo, hi: int(torch.randint(lo, hi + 1, (1,), generator=g))
    h = r(2, 4)
    cases = [_block_case("crear PreLNBlock(32, 4, 128) con los nombres pedidos", g, 32, 4, 128, [])]
    for description, (d, heads, d_ff, B, T, dtype) in (
        (f"d_model={8 * h}, h={h}, T=7", (8 * h, h, 32 * h, 2, 7, torch.float32)),
        ("d_model=48, h=6, d_ff=96, T=11", (48, 6, 96, 3, 11, torch.float32)),
        ("una cabeza, T=5", (16, 1, 64, 2, 5, torch.float32)),
        ("T = 1", (32, 4, 128, 2, 1, torch.float32)),
        ("float64", (16, 2, 32, 2, 6, torch.float64)),
    ):
        x = torch.randn(B, T, d, generator=g, dtype=dtype)
        cases.append(_block_case(description, g, d, heads, d_ff, [{"args": [x], "grad": None}],
                                 "float64" if dtype == torch.float64 else None))
    x = torch.randn(2, 10, 32, generator=g)
    changed = x.clone()
    changed[:, 5:] = torch.randn(2, 5, 32, generator=g)
    cases.append(_block_case("causalidad: el futuro no influye en el pasado", g, 32, 4, 64,
                             [{"args": [x], "grad": None}, {"args": [changed], "grad": None}]))
    x = torch.randn(2, 6, 32, generator=g)
    cases.append(_block_case("gradientes", g, 32, 4, 64,
                             [{"args": [x], "grad": {"probe": torch.randn(2, 6, 32, generator=g)}}]))
    return cases


def check_causality(first: torch.Tensor, second: torch.Tensor, changed_from: int, what: str) -> None:
    """Lanza un fallo estructural si cambiar las posiciones ``changed_from…`` cambió las anteriores."""
    if not close(first[:, :changed_from], second[:, :changed_from]):
        T = first.shape[1]
        raise structural(
            f"Tu {what} mira al futuro: al cambiar las posiciones {changed_from}…{T - 1} cambia también la "
            f"salida de las posiciones 0…{changed_from - 1}. La atención necesita la máscara causal "
            "(`is_causal=True` o `mask=causal_mask(T)`)."
        )


def _block_output(call: dict, lib: DecoderBlock, x: torch.Tensor) -> torch.Tensor:
    output = ensure_tensor(output_of(call), "Tu `forward`")
    if not torch.equal(x, call["inputs_after"][0]):
        raise Failure("Tu `forward` modifica su entrada x (operación in-place como `x += …`); usa `x = x + …`.")
    with torch.no_grad():
        expected = lib(x, is_causal=True)
    if output.shape != expected.shape:
        raise Failure(f"Tu bloque devuelve forma {shape_str(output)} y debería devolver (B, T, d_model) = {shape_str(expected)}.")
    if output.dtype != expected.dtype:
        raise Failure(f"Con entradas {x.dtype} devuelves {output.dtype}: conserva el tipo.")
    if close(output, expected):
        return output
    message = _diagnose_block(output, lib, x)
    if message is not None:
        raise structural(message)
    raise numeric("Recuerda: `x = x + attn(ln_1(x), …, causal)` y luego `x = x + ff(ln_2(x))`.",
                  max_difference(output, expected))


def _block_gradients(call: dict, lib: DecoderBlock, x: torch.Tensor, probe: torch.Tensor) -> None:
    output = ensure_tensor(output_of(call), "Tu `forward`")
    if output.shape != x.shape or not close(output, lib(x, is_causal=True)):
        raise Failure("La salida no coincide (mira los otros fallos primero).")
    if not call.get("requires_grad"):
        raise Failure("Tu salida no está conectada al grafo de gradientes (¿`.detach()` o `torch.no_grad()`?).")
    (lib(x, is_causal=True) * probe).sum().backward()
    grads = call.get("param_grads") or {}
    for name, p in lib.named_parameters():
        mine = student_key(name)
        if grads.get(mine) is None or not close(grads[mine], p.grad):
            raise Failure(
                f"El gradiente de `{mine}` no coincide con el de la referencia: "
                "¿usas esa capa en el `forward`? ¿Hay algo que corte el grafo (`.detach()`)?"
            )


def _judge_block_case(case: dict, module: dict) -> None:
    check_created(module, case, "PreLNBlock", (LIBRARY_BLOCK,),
             "Tu bloque usa el DecoderBlock de la biblioteca: aquí se trata de escribirlo tú.")
    if not case["calls"]:
        return
    lib = DecoderBlock(*case["init"], dropout=0.0, norm_first=True, activation="gelu", cross_attention=False)
    lib.load_state_dict(case["_reference"])
    lib = (lib.double() if case["dtype"] == "float64" else lib).eval()
    specs, calls = case["calls"], module["calls"]
    if len(specs) == 2:  # causalidad
        a, b = (ensure_tensor(output_of(c), "Tu `forward`") for c in calls)
        check_causality(a, b, 5, "bloque")
    elif specs[0]["grad"] is not None:
        _block_gradients(calls[0], lib, specs[0]["args"][0], specs[0]["grad"]["probe"])
    else:
        _block_output(calls[0], lib, specs[0]["args"][0])


#: Lo que no puede ejecutar tu bloque, tu MiniGPT ni tu modelo entrenado.
FORBIDDEN_LIBRARY_MODELS = (("lib:transformer_lib.GPT", "el `GPT` de la biblioteca"),
                            ("lib:transformer_lib.DecoderBlock", "el `DecoderBlock` de la biblioteca"))

BLOCK = ExerciseSpec(
    id="bloque", title="PreLNBlock", points=4, names=("PreLNBlock",),
    groups=(
        ScoreGroup("estructura", "crear el bloque con los nombres pedidos", 1, "^crear"),
        ScoreGroup("causalidad", "causalidad y gradientes", 1, "causalidad|gradientes"),
        ScoreGroup("salidas", "salidas frente a la referencia", 2),
    ),
    build=build_block_cases, judge=judge_each(_judge_block_case, stop_if_first_fails=True), seed=SEED,
    forbidden=FORBIDDEN_LIBRARY_MODELS[1:],
    forbidden_hint="aquí se trata de escribir el bloque tú, con las piezas de la biblioteca.",
)

check_block = notebook_check(BLOCK, "check_block", """Comprueba tu clase ``PreLNBlock(d_model, n_heads, d_ff)``.

    Copia en tu bloque los pesos de un ``DecoderBlock`` Pre-LN de la biblioteca (por eso
    los submódulos deben llamarse ``ln_1``, ``attn``, ``ln_2`` y ``ff``) y compara con
    formas sorteadas, T = 1, float64, la causalidad y los gradientes.

    Parámetros:
        cls: tu clase (no una instancia).
        show: si se imprime el informe (por defecto, sí).
    """)
