"""Comprobaciones de la tarea 3: bloque decoder Pre-LN, un GPT pequeño y su entrenamiento.

- :func:`check_block`: copia en tu ``PreLNBlock`` los pesos de un
  :class:`~transformer_lib.DecoderBlock` de la biblioteca (Pre-LN, GELU, sin atención
  cruzada) y compara salidas, gradientes y causalidad.
- :func:`check_gpt`: lo mismo con tu ``MiniGPT`` frente a :class:`~transformer_lib.GPT`.
- :func:`check_training`: calcula **él mismo** la pérdida de validación de tu
  modelo entrenado sobre lotes fijos del último 10 % del Quijote (no se fía de lo que
  imprimas) y la compara con :data:`VALIDATION_THRESHOLD`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..blocks import DecoderBlock
from ..models import GPT, GPTConfig
from ..multihead import MultiHeadAttention
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

SEED = 20250603

#: Pérdida de validación (entropía cruzada media, en nats por carácter) que hay que batir.
VALIDATION_THRESHOLD = 2.05
#: Lotes fijos de validación con los que se mide (lotes de :data:`LOTE_VALIDACION` ventanas).
VALIDATION_BATCHES = 40
VALIDATION_BATCH_SIZE = 32
VALIDATION_SEED = 4321


# --------------------------------------------------------------------------------------
# Correspondencia de nombres entre tu código y la biblioteca
# --------------------------------------------------------------------------------------

_BLOCK_NAMES = {  # nombre en tu PreLNBlock -> nombre en DecoderBlock de la biblioteca
    "ln_1": "res_self.norm",
    "attn": "self_attn",
    "ln_2": "res_ff.norm",
    "ff": "ff",
}


def _block_weights(lib: DecoderBlock, prefix: str = "") -> dict[str, torch.Tensor]:
    """state_dict de un DecoderBlock de la biblioteca con los nombres de tu PreLNBlock."""
    sd = lib.state_dict()
    out = {}
    for mine, theirs in _BLOCK_NAMES.items():
        for param_name, param in sd.items():
            if param_name.startswith(theirs + "."):
                out[prefix + mine + param_name[len(theirs):]] = param
    return out


def _gpt_weights(lib: GPT) -> dict[str, torch.Tensor]:
    """state_dict de un GPT de la biblioteca con los nombres de tu MiniGPT."""
    out = {
        "tok_emb.weight": lib.tok_emb.weight.detach(),
        "pos_emb.weight": lib.pos_emb.embedding.weight.detach(),
        "ln_f.weight": lib.ln_f.weight.detach(),
        "ln_f.bias": lib.ln_f.bias.detach(),
        "lm_head.weight": lib.lm_head.weight.detach(),
    }
    for i, block in enumerate(lib.blocks):
        out.update(_block_weights(block, f"blocks.{i}."))
    return out


def _load_weights(module: nn.Module, weights: dict[str, torch.Tensor], what: str) -> None:
    """Copia ``pesos`` en tu módulo o lanza un Fallo que explica qué nombres no encajan."""
    own = module.state_dict()
    missing = sorted(set(weights) - set(own))
    extra_keys = sorted(set(own) - set(weights))
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
    for param_name, param in weights.items():
        if own[param_name].shape != param.shape:
            raise Failure(
                f"El parámetro `{param_name}` de tu {what} tiene forma {shape_str(own[param_name])} y debería "
                f"tener {shape_str(param)}."
            )
    module.load_state_dict(weights)


def _uses_library(module: nn.Module, forbidden_types: tuple[type, ...]) -> bool:
    return any(isinstance(m, forbidden_types) for m in module.modules())


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
    if error == "ln_1_twice":
        ln2 = ln1
    if error == "relu":
        ff = lambda y: lib.ff.linear2(F.relu(lib.ff.linear1(y)))

    def att(y: torch.Tensor) -> torch.Tensor:
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


def _new_block(cls, d_model: int, n_heads: int, d_ff: int, g: torch.Generator):
    torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=g)))
    mine = call_student(cls, d_model, n_heads, d_ff)
    if not isinstance(mine, nn.Module):
        raise Failure(f"`PreLNBlock(d_model, n_heads, d_ff)` debería crear un nn.Module y creó {type(mine).__name__}.")
    if _uses_library(mine, (DecoderBlock,)):
        raise Failure("Tu bloque usa el DecoderBlock de la biblioteca: aquí se trata de escribirlo tú.")
    lib = DecoderBlock(d_model, n_heads, d_ff, dropout=0.0, norm_first=True, activation="gelu",
                       cross_attention=False)
    # LayerNorm con γ y β no triviales: así se nota si se usa la normalización equivocada.
    with torch.no_grad():
        for ln in (lib.res_self.norm, lib.res_ff.norm):
            ln.weight.copy_(1 + 0.3 * torch.randn(d_model, generator=g))
            ln.bias.copy_(0.3 * torch.randn(d_model, generator=g))
    _load_weights(mine, _block_weights(lib), "PreLNBlock")
    mine.eval()  # sin dropout durante la comparación
    return mine, lib


def _block_case(cls, g, d_model, n_heads, d_ff, B, T, dtype=torch.float32) -> None:
    mine, lib = _new_block(cls, d_model, n_heads, d_ff, g)
    if dtype == torch.float64:
        mine.double()
        lib.double()
    x = torch.randn(B, T, d_model, generator=g, dtype=dtype)
    saved = x.clone()
    output = ensure_tensor(call_student(mine, x), "Tu `forward`")
    if not torch.equal(x, saved):
        raise Failure("Tu `forward` modifica su entrada x (operación in-place como `x += …`); usa `x = x + …`.")
    with torch.no_grad():
        expected = lib(x, is_causal=True)
    if output.shape != expected.shape:
        raise Failure(f"Tu bloque devuelve forma {shape_str(output)} y debería devolver (B, T, d_model) = {shape_str(expected)}.")
    if output.dtype != expected.dtype:
        raise Failure(f"Con entradas {x.dtype} devuelves {output.dtype}: conserva el tipo.")
    if close(output, expected):
        return
    message = _diagnose_block(output, lib, x)
    raise Failure(message or (
        f"Tu salida no coincide con la de referencia (diferencia máxima {max_difference(output, expected):.3g}). "
        "Recuerda: `x = x + attn(ln_1(x), …, causal)` y luego `x = x + ff(ln_2(x))`."
    ))


def _check_causality(model_fn, seq: torch.Tensor, change, what: str) -> None:
    """Cambia el final de la secuencia y comprueba que las posiciones anteriores no se enteran."""
    T = seq.shape[1]
    t = max(1, T // 2)
    other = change(seq.clone(), t)
    a = model_fn(seq)
    b = model_fn(other)
    if not close(a[:, :t], b[:, :t]):
        raise Failure(
            f"Tu {what} mira al futuro: al cambiar las posiciones {t}…{T - 1} cambia también la "
            f"salida de las posiciones 0…{t - 1}. La atención necesita la máscara causal "
            "(`is_causal=True` o `mask=causal_mask(T)`)."
        )


def _block_gradients(cls, g) -> None:
    mine, lib = _new_block(cls, 32, 4, 64, g)
    x = torch.randn(2, 6, 32, generator=g)
    output = ensure_tensor(call_student(mine, x), "Tu `forward`")
    if output.shape != (2, 6, 32) or not close(output, lib(x, is_causal=True)):
        raise Failure("La salida no coincide (mira los otros fallos primero).")
    if not output.requires_grad:
        raise Failure("Tu salida no está conectada al grafo de gradientes (¿`.detach()` o `torch.no_grad()`?).")
    probe = torch.randn(2, 6, 32, generator=g)
    call_student(lambda: (output * probe).sum().backward())
    (lib(x, is_causal=True) * probe).sum().backward()
    own_params = dict(mine.named_parameters())
    for my_name, theirs in _BLOCK_NAMES.items():
        for name, p in lib.get_submodule(theirs).named_parameters():
            gp = own_params.get(f"{my_name}.{name}")
            if gp is None or gp.grad is None or not close(gp.grad, p.grad):
                raise Failure(
                    f"El gradiente de `{my_name}.{name}` no coincide con el de la referencia: "
                    "¿usas esa capa en el `forward`? ¿Hay algo que corte el grafo (`.detach()`)?"
                )


@exercise_check("bloque", "PreLNBlock", points=4)
def check_block(c: Checker, cls: type) -> None:
    """Comprueba tu clase ``PreLNBlock(d_model, n_heads, d_ff)``.

    Copia en tu bloque los pesos de un ``DecoderBlock`` Pre-LN de la biblioteca (por eso
    los submódulos deben llamarse ``ln_1``, ``attn``, ``ln_2`` y ``ff``) y compara con
    formas sorteadas, T = 1, float64, la causalidad y los gradientes.

    Parámetros:
        cls: tu clase (no una instancia).
        show: si se imprime el informe (por defecto, sí).
    """
    if isinstance(cls, nn.Module):
        cls = type(cls)
    g = checker_rng(SEED)
    if not c.run_test("crear PreLNBlock(32, 4, 128) con los nombres pedidos",
                    lambda: _new_block(cls, 32, 4, 128, g)):
        return
    r = lambda lo, hi: int(torch.randint(lo, hi + 1, (1,), generator=g))
    h = r(2, 4)
    cases = [
        (f"d_model={8 * h}, h={h}, T=7", dict(d_model=8 * h, n_heads=h, d_ff=32 * h, B=2, T=7)),
        ("d_model=48, h=6, d_ff=96, T=11", dict(d_model=48, n_heads=6, d_ff=96, B=3, T=11)),
        ("una cabeza, T=5", dict(d_model=16, n_heads=1, d_ff=64, B=2, T=5)),
        ("T = 1", dict(d_model=32, n_heads=4, d_ff=128, B=2, T=1)),
        ("float64", dict(d_model=16, n_heads=2, d_ff=32, B=2, T=6, dtype=torch.float64)),
    ]
    for description, case in cases:
        c.run_test(description, lambda case=case: _block_case(cls, g, **case))

    def causal() -> None:
        mine, _ = _new_block(cls, 32, 4, 64, g)
        x = torch.randn(2, 10, 32, generator=g)

        def change(t: torch.Tensor, start: int) -> torch.Tensor:
            t[:, start:] = torch.randn(t[:, start:].shape, generator=g)
            return t

        with torch.no_grad():
            _check_causality(lambda e: ensure_tensor(call_student(mine, e), "Tu `forward`"), x, change, "bloque")

    c.run_test("causalidad: el futuro no influye en el pasado", causal)
    c.run_test("gradientes", lambda: _block_gradients(cls, g))


# --------------------------------------------------------------------------------------
# MiniGPT
# --------------------------------------------------------------------------------------


def _test_config(g: torch.Generator, **changes) -> GPTConfig:
    base = dict(vocab_size=int(torch.randint(20, 60, (1,), generator=g)), block_size=16, n_layer=2,
                n_head=2, d_model=32, dropout=0.0)
    base.update(changes)
    return GPTConfig(**base)


def _new_gpt(cls, config: GPTConfig, g: torch.Generator):
    torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=g)))
    mine = call_student(cls, config)
    if not isinstance(mine, nn.Module):
        raise Failure(f"`MiniGPT(config)` debería crear un nn.Module y creó {type(mine).__name__}.")
    if isinstance(mine, GPT) or _uses_library(mine, (GPT, DecoderBlock)):
        raise Failure("Tu MiniGPT usa el GPT o el DecoderBlock de la biblioteca: usa tu PreLNBlock.")
    lib = GPT(config)
    with torch.no_grad():
        lib.ln_f.weight.copy_(1 + 0.3 * torch.randn(config.d_model, generator=g))
        lib.ln_f.bias.copy_(0.3 * torch.randn(config.d_model, generator=g))
    _load_weights(mine, _gpt_weights(lib), "MiniGPT")
    mine.eval()
    lib.eval()
    return mine, lib


def _gpt_output(mine: nn.Module, idx: torch.Tensor, targets: torch.Tensor | None = None):
    out = call_student(mine, idx) if targets is None else call_student(mine, idx, targets)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise Failure(
            "El `forward` de tu MiniGPT debe devolver una tupla `(logits, loss)` (con loss = None si "
            f"no hay targets), como el GPT de la biblioteca; devolvió {type(out).__name__}."
        )
    return out


def _gpt_case(cls, g, config: GPTConfig, B: int, T: int) -> None:
    mine, lib = _new_gpt(cls, config, g)
    idx = torch.randint(0, config.vocab_size, (B, T), generator=g)
    # Como en get_batch, los targets son ventanas de un tensor mayor: no son contiguos.
    targets = torch.randint(0, config.vocab_size, (B, T + 1), generator=g)[:, 1:]
    logits, loss = _gpt_output(mine, idx)
    ensure_tensor(logits, "Tu `forward`")
    with torch.no_grad():
        expected, _ = lib(idx)
        _, loss_ref = lib(idx, targets)
    if logits.shape != expected.shape:
        raise Failure(f"Tus logits tienen forma {shape_str(logits)} y deberían ser (B, T, vocab_size) = {shape_str(expected)}.")
    if loss is not None:
        raise Failure("Sin `targets`, la pérdida debe ser None.")
    if not close(logits, expected):
        message = (
            f"Tus logits no coinciden con los de referencia (diferencia máxima "
            f"{max_difference(logits, expected):.3g}). Orden: embedding de tokens + embedding de "
            "posiciones (`pos_emb(torch.arange(T))`) → bloques → `ln_f` → `lm_head`."
        )
        with torch.no_grad():
            x = lib.tok_emb(idx)
            if close(logits, lib.lm_head(lib.ln_f(_run_blocks(lib, x)))):
                message = "Te falta sumar el embedding de posiciones: `x = tok_emb(idx) + pos_emb(torch.arange(T))`."
            elif close(logits, lib.lm_head(_run_blocks(lib, lib.pos_emb(x)))):
                message = "Te falta la LayerNorm final `ln_f` antes de `lm_head` (en Pre-LN es imprescindible)."
        raise Failure(message)
    _, loss2 = _gpt_output(mine, idx, targets)
    if not isinstance(loss2, torch.Tensor) or loss2.dim() != 0:
        raise Failure("Con `targets`, la pérdida debe ser un tensor escalar (la entropía cruzada media).")
    if not close(loss2, loss_ref):
        raise Failure(
            f"Tu pérdida vale {float(loss2):.4f} y debería valer {float(loss_ref):.4f}: "
            "`F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))`."
        )


def _run_blocks(lib: GPT, x: torch.Tensor) -> torch.Tensor:
    for block in lib.blocks:
        x = block(x, is_causal=True)
    return x


@exercise_check("gpt", "MiniGPT", points=3)
def check_gpt(c: Checker, cls: type) -> None:
    """Comprueba tu clase ``MiniGPT(config)`` (con ``config`` un :class:`~transformer_lib.GPTConfig`).

    Copia en tu modelo los pesos de un :class:`~transformer_lib.GPT` de la biblioteca (por eso
    los nombres ``tok_emb``, ``pos_emb``, ``blocks``, ``ln_f`` y ``lm_head`` son obligatorios) y
    compara logits y pérdida con configuraciones sorteadas, T < block_size, T = 1 y la
    causalidad.

    Parámetros:
        cls: tu clase (no una instancia).
        show: si se imprime el informe (por defecto, sí).
    """
    if isinstance(cls, nn.Module):
        cls = type(cls)
    g = checker_rng(SEED + 1)
    if not c.run_test("crear MiniGPT(config) con los nombres pedidos", lambda: _new_gpt(cls, _test_config(g), g)):
        return
    cases = [
        ("T = block_size", _test_config(g), 2, 16),
        ("T < block_size", _test_config(g), 3, 7),
        ("T = 1", _test_config(g), 2, 1),
        ("3 bloques y 4 cabezas", _test_config(g, n_layer=3, n_head=4, d_model=48, block_size=12), 2, 12),
    ]
    for description, config, B, T in cases:
        c.run_test(description, lambda config=config, B=B, T=T: _gpt_case(cls, g, config, B, T))

    def causal() -> None:
        config = _test_config(g)
        mine, _ = _new_gpt(cls, config, g)
        idx = torch.randint(0, config.vocab_size, (2, 16), generator=g)

        def change(t: torch.Tensor, start: int) -> torch.Tensor:
            t[:, start:] = (t[:, start:] + 1) % config.vocab_size
            return t

        with torch.no_grad():
            _check_causality(lambda e: ensure_tensor(_gpt_output(mine, e)[0], "Tu `forward`"), idx, change, "MiniGPT")

    c.run_test("causalidad: el futuro no influye en el pasado", causal)


# --------------------------------------------------------------------------------------
# Entrenamiento
# --------------------------------------------------------------------------------------


def validation_batches(block_size: int, data=None) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Los lotes fijos de validación con los que se mide tu modelo (último 10 % del Quijote).

    Parámetros:
        block_size: longitud T de cada ventana (la de tu modelo).
        data: un ``QuijoteData`` ya cargado (None lo carga con ``prepare_quijote()``).
    """
    from ..data import get_batch, prepare_quijote

    data = data if data is not None else prepare_quijote()
    g = torch.Generator().manual_seed(VALIDATION_SEED)
    return [get_batch(data.val, block_size, VALIDATION_BATCH_SIZE, generator=g) for _ in range(VALIDATION_BATCHES)]


@torch.no_grad()
def validation_loss(model: nn.Module, block_size: int | None = None, data=None) -> float:
    """Pérdida de validación de ``modelo`` medida por el comprobador (nats por carácter).

    Parámetros:
        model: un modelo cuyo ``forward(idx)`` devuelve ``(logits, loss)`` o los logits.
        block_size: longitud de las ventanas; None usa la del modelo (``modelo.config.block_size``).
        data: un ``QuijoteData`` ya cargado (opcional).
    """
    if block_size is None:
        block_size = _block_size(model)
    dev = next(model.parameters()).device
    was_training = model.training
    model.eval()
    total, n = 0.0, 0
    try:
        for x, y in validation_batches(block_size, data):
            out = call_student(model, x.to(dev))
            logits = out[0] if isinstance(out, tuple) else out
            loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.to(dev).reshape(-1))
            total += float(loss) * y.numel()
            n += y.numel()
    finally:
        model.train(was_training)
    return total / n


def _block_size(model: nn.Module) -> int:
    config = getattr(model, "config", None)
    if config is not None and hasattr(config, "block_size"):
        return int(config.block_size)
    pos = getattr(model, "pos_emb", None)
    if isinstance(pos, nn.Embedding):
        return pos.num_embeddings
    raise Failure("No sé qué longitud de contexto tiene tu modelo: guarda la configuración en `self.config`.")


@exercise_check("entrenamiento", "entrenamiento con el Quijote", points=3,
              missing_message="`modelo` sigue valiendo None: crea y entrena tu MiniGPT en la celda del ejercicio.")
def check_training(c: Checker, model: nn.Module, threshold: float = VALIDATION_THRESHOLD,
                            data=None) -> None:
    """Mide la pérdida de validación de tu ``modelo`` entrenado y la compara con el umbral.

    La mide el propio comprobador sobre :data:`VALIDATION_BATCHES` lotes fijos del último
    10 % del Quijote (la parte de validación de ``prepare_quijote``), con la longitud de
    contexto de tu modelo.

    Parámetros:
        model: tu MiniGPT ya entrenado.
        threshold: pérdida que hay que batir (por defecto :data:`VALIDATION_THRESHOLD`).
        data: un ``QuijoteData`` ya cargado (opcional; si no, se carga).
        show: si se imprime el informe (por defecto, sí).
    """
    from ..data import prepare_quijote

    if not isinstance(model, nn.Module):
        c.stop(f"`modelo` debe ser tu MiniGPT entrenado (un nn.Module) y es {type(model).__name__}.")
        return
    if isinstance(model, GPT) or _uses_library(model, (GPT, DecoderBlock)):
        c.stop("Tienes que entrenar *tu* MiniGPT (con tu PreLNBlock), no el GPT de la biblioteca.")
        return
    if not any(isinstance(m, MultiHeadAttention) for m in model.modules()) and not list(model.parameters()):
        c.stop("Tu modelo no tiene parámetros: ¿es el MiniGPT que has entrenado?")
        return
    data = data if data is not None else prepare_quijote()
    vocab = data.tokenizer.vocab_size
    result: dict[str, float] = {}

    def measure() -> None:
        emb = getattr(model, "tok_emb", None)
        if isinstance(emb, nn.Embedding) and emb.num_embeddings != vocab:
            raise Failure(
                f"Tu modelo tiene un vocabulario de {emb.num_embeddings} tokens y el tokenizador de "
                f"caracteres del Quijote tiene {vocab}: crea la configuración con "
                "`vocab_size=datos.tokenizer.vocab_size`."
            )
        loss_value = validation_loss(model, _block_size(model), data)
        result["loss"] = loss_value
        if not math.isfinite(loss_value):
            raise Failure("La pérdida de validación de tu modelo es NaN o infinita: el entrenamiento divergió "
                        "(prueba una tasa de aprendizaje menor).")
        if loss_value >= threshold:
            raise Failure(
                f"Tu pérdida de validación es {loss_value:.3f} (medida por el comprobador sobre "
                f"{VALIDATION_BATCHES} lotes fijos del final del libro) y tiene que bajar de {threshold:.2f}. "
                "Entrena más pasos o revisa la tasa de aprendizaje (1e-3 funciona bien). Como "
                f"referencia, una pérdida de {math.log(vocab):.2f} (= ln {vocab}) es la de un modelo "
                "que no ha aprendido nada."
            )

    c.run_test("pérdida de validación por debajo del umbral", measure)
    if "loss" in result:
        c.note(f"Pérdida de validación medida: {result['loss']:.3f} (umbral: {threshold:.2f}).")
