"""Comprobaciones de la tarea 3: bloque decoder Pre-LN, un GPT pequeño y su entrenamiento.

- :func:`comprobar_bloque`: copia en tu ``PreLNBlock`` los pesos de un
  :class:`~transformer_lib.DecoderBlock` de la biblioteca (Pre-LN, GELU, sin atención
  cruzada) y compara salidas, gradientes y causalidad.
- :func:`comprobar_gpt`: lo mismo con tu ``MiniGPT`` frente a :class:`~transformer_lib.GPT`.
- :func:`comprobar_entrenamiento`: calcula **él mismo** la pérdida de validación de tu
  modelo entrenado sobre lotes fijos del último 10 % del Quijote (no se fía de lo que
  imprimas) y la compara con :data:`UMBRAL_VALIDACION`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..blocks import DecoderBlock
from ..models import GPT, GPTConfig
from ..multihead import MultiHeadAttention
from ._nucleo import (
    Comprobador,
    Fallo,
    comprobacion,
    es_tensor,
    forma,
    generador,
    llamar,
    max_diferencia,
    parecidos,
)

SEMILLA = 20250603

#: Pérdida de validación (entropía cruzada media, en nats por carácter) que hay que batir.
UMBRAL_VALIDACION = 2.05
#: Lotes fijos de validación con los que se mide (lotes de :data:`LOTE_VALIDACION` ventanas).
LOTES_VALIDACION = 40
LOTE_VALIDACION = 32
SEMILLA_VALIDACION = 4321


# --------------------------------------------------------------------------------------
# Correspondencia de nombres entre tu código y la biblioteca
# --------------------------------------------------------------------------------------

_BLOQUE = {  # nombre en tu PreLNBlock -> nombre en DecoderBlock de la biblioteca
    "ln_1": "res_self.norm",
    "attn": "self_attn",
    "ln_2": "res_ff.norm",
    "ff": "ff",
}


def _pesos_bloque(lib: DecoderBlock, prefijo: str = "") -> dict[str, torch.Tensor]:
    """state_dict de un DecoderBlock de la biblioteca con los nombres de tu PreLNBlock."""
    sd = lib.state_dict()
    out = {}
    for mio, suyo in _BLOQUE.items():
        for clave, valor in sd.items():
            if clave.startswith(suyo + "."):
                out[prefijo + mio + clave[len(suyo):]] = valor
    return out


def _pesos_gpt(lib: GPT) -> dict[str, torch.Tensor]:
    """state_dict de un GPT de la biblioteca con los nombres de tu MiniGPT."""
    out = {
        "tok_emb.weight": lib.tok_emb.weight.detach(),
        "pos_emb.weight": lib.pos_emb.embedding.weight.detach(),
        "ln_f.weight": lib.ln_f.weight.detach(),
        "ln_f.bias": lib.ln_f.bias.detach(),
        "lm_head.weight": lib.lm_head.weight.detach(),
    }
    for i, bloque in enumerate(lib.blocks):
        out.update(_pesos_bloque(bloque, f"blocks.{i}."))
    return out


def _cargar(modulo: nn.Module, pesos: dict[str, torch.Tensor], que: str) -> None:
    """Copia ``pesos`` en tu módulo o lanza un Fallo que explica qué nombres no encajan."""
    propias = modulo.state_dict()
    faltan = sorted(set(pesos) - set(propias))
    sobran = sorted(set(propias) - set(pesos))
    if faltan or sobran:
        partes = []
        if faltan:
            partes.append("faltan " + ", ".join(faltan[:6]) + (" …" if len(faltan) > 6 else ""))
        if sobran:
            partes.append("sobran " + ", ".join(sobran[:6]) + (" …" if len(sobran) > 6 else ""))
        raise Fallo(
            f"Los parámetros de tu {que} no se llaman como pide el enunciado ({'; '.join(partes)}). "
            "Necesito esos nombres para copiar los pesos de la referencia y comparar."
        )
    for clave, valor in pesos.items():
        if propias[clave].shape != valor.shape:
            raise Fallo(
                f"El parámetro `{clave}` de tu {que} tiene forma {forma(propias[clave])} y debería "
                f"tener {forma(valor)}."
            )
    modulo.load_state_dict(pesos)


def _usa_biblioteca(modulo: nn.Module, prohibidas: tuple[type, ...]) -> bool:
    return any(isinstance(m, prohibidas) for m in modulo.modules())


# --------------------------------------------------------------------------------------
# Bloque Pre-LN
# --------------------------------------------------------------------------------------


def bloque_variante(lib: DecoderBlock, x: torch.Tensor, error: str = "ninguno") -> torch.Tensor:
    """El bloque Pre-LN de la biblioteca con un error opcional (para diagnosticar).

    Formas:
        x: (B, T, d_model); salida: (B, T, d_model).
    """
    ln1, ln2, attn, ff = lib.res_self.norm, lib.res_ff.norm, lib.self_attn, lib.ff
    causal = error != "sin_mascara"
    if error == "ln_1_dos_veces":
        ln2 = ln1
    if error == "relu":
        ff = lambda y: lib.ff.linear2(F.relu(lib.ff.linear1(y)))

    def att(y: torch.Tensor) -> torch.Tensor:
        return attn(y, y, y, is_causal=causal)

    if error == "post_ln":
        x1 = ln1(x + att(x))
        return ln2(x1 + ff(x1))
    if error == "sin_residual":
        return ff(ln2(att(ln1(x))))
    if error == "residual_normalizada":
        h = ln1(x)
        x1 = h + att(h)
        h2 = ln2(x1)
        return h2 + ff(h2)
    if error == "paralelo":
        return x + att(ln1(x)) + ff(ln2(x))
    x1 = x + att(ln1(x))  # subcapa 1: x + Atención(LN(x))
    return x1 + ff(ln2(x1))  # subcapa 2: x + FFN(LN(x))


_VARIANTES_BLOQUE = (
    ("post_ln",
     "Tu bloque es Post-LN (normaliza después de sumar). Aquí se pide Pre-LN, como GPT-2: "
     "`x = x + atención(ln_1(x))` y `x = x + ff(ln_2(x))`; la suma residual queda fuera de la "
     "normalización."),
    ("sin_mascara",
     "Tu bloque no usa la máscara causal: cada posición ve el futuro. Pasa `is_causal=True` (o "
     "`mask=causal_mask(T)`) a la atención."),
    ("sin_residual",
     "Faltan las conexiones residuales: cada subcapa debe *sumarse* a su entrada, `x = x + …`."),
    ("residual_normalizada",
     "La conexión residual debe sumar la x original, sin normalizar: `x = x + atención(ln_1(x))`, "
     "no `h = ln_1(x); x = h + atención(h)`."),
    ("ln_1_dos_veces",
     "Usas `ln_1` en las dos subcapas: la FFN tiene su propia normalización, `ln_2`."),
    ("paralelo",
     "La FFN debe recibir la salida de la subcapa de atención (la x después de la primera suma), "
     "no la x de la entrada del bloque."),
    ("relu",
     "La FFN de este bloque usa GELU (como GPT-2), no ReLU: `FeedForward(d_model, d_ff, "
     "activation=\"gelu\")`."),
)


def _diagnostico_bloque(salida: torch.Tensor, lib: DecoderBlock, x: torch.Tensor) -> str | None:
    for error, mensaje in _VARIANTES_BLOQUE:
        with torch.no_grad():
            candidata = bloque_variante(lib, x, error)
        if parecidos(salida, candidata):
            return mensaje
    return None


def _nuevo_bloque(cls, d_model: int, n_heads: int, d_ff: int, g: torch.Generator):
    torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=g)))
    mio = llamar(cls, d_model, n_heads, d_ff)
    if not isinstance(mio, nn.Module):
        raise Fallo(f"`PreLNBlock(d_model, n_heads, d_ff)` debería crear un nn.Module y creó {type(mio).__name__}.")
    if _usa_biblioteca(mio, (DecoderBlock,)):
        raise Fallo("Tu bloque usa el DecoderBlock de la biblioteca: aquí se trata de escribirlo tú.")
    lib = DecoderBlock(d_model, n_heads, d_ff, dropout=0.0, norm_first=True, activation="gelu",
                       cross_attention=False)
    # LayerNorm con γ y β no triviales: así se nota si se usa la normalización equivocada.
    with torch.no_grad():
        for ln in (lib.res_self.norm, lib.res_ff.norm):
            ln.weight.copy_(1 + 0.3 * torch.randn(d_model, generator=g))
            ln.bias.copy_(0.3 * torch.randn(d_model, generator=g))
    _cargar(mio, _pesos_bloque(lib), "PreLNBlock")
    mio.eval()  # sin dropout durante la comparación
    return mio, lib


def _caso_bloque(cls, g, d_model, n_heads, d_ff, B, T, dtype=torch.float32) -> None:
    mio, lib = _nuevo_bloque(cls, d_model, n_heads, d_ff, g)
    if dtype == torch.float64:
        mio.double()
        lib.double()
    x = torch.randn(B, T, d_model, generator=g, dtype=dtype)
    copia = x.clone()
    salida = es_tensor(llamar(mio, x), "Tu `forward`")
    if not torch.equal(x, copia):
        raise Fallo("Tu `forward` modifica su entrada x (operación in-place como `x += …`); usa `x = x + …`.")
    with torch.no_grad():
        esperado = lib(x, is_causal=True)
    if salida.shape != esperado.shape:
        raise Fallo(f"Tu bloque devuelve forma {forma(salida)} y debería devolver (B, T, d_model) = {forma(esperado)}.")
    if salida.dtype != esperado.dtype:
        raise Fallo(f"Con entradas {x.dtype} devuelves {salida.dtype}: conserva el tipo.")
    if parecidos(salida, esperado):
        return
    mensaje = _diagnostico_bloque(salida, lib, x)
    raise Fallo(mensaje or (
        f"Tu salida no coincide con la de referencia (diferencia máxima {max_diferencia(salida, esperado):.3g}). "
        "Recuerda: `x = x + attn(ln_1(x), …, causal)` y luego `x = x + ff(ln_2(x))`."
    ))


def _causalidad(modelo_fn, entrada: torch.Tensor, cambiar, que: str) -> None:
    """Cambia el final de la secuencia y comprueba que las posiciones anteriores no se enteran."""
    T = entrada.shape[1]
    t = max(1, T // 2)
    otra = cambiar(entrada.clone(), t)
    a = modelo_fn(entrada)
    b = modelo_fn(otra)
    if not parecidos(a[:, :t], b[:, :t]):
        raise Fallo(
            f"Tu {que} mira al futuro: al cambiar las posiciones {t}…{T - 1} cambia también la "
            f"salida de las posiciones 0…{t - 1}. La atención necesita la máscara causal "
            "(`is_causal=True` o `mask=causal_mask(T)`)."
        )


def _gradientes_bloque(cls, g) -> None:
    mio, lib = _nuevo_bloque(cls, 32, 4, 64, g)
    x = torch.randn(2, 6, 32, generator=g)
    salida = es_tensor(llamar(mio, x), "Tu `forward`")
    if salida.shape != (2, 6, 32) or not parecidos(salida, lib(x, is_causal=True)):
        raise Fallo("La salida no coincide (mira los otros fallos primero).")
    if not salida.requires_grad:
        raise Fallo("Tu salida no está conectada al grafo de gradientes (¿`.detach()` o `torch.no_grad()`?).")
    peso = torch.randn(2, 6, 32, generator=g)
    llamar(lambda: (salida * peso).sum().backward())
    (lib(x, is_causal=True) * peso).sum().backward()
    propios = dict(mio.named_parameters())
    for mio_nombre, suyo in _BLOQUE.items():
        for nombre, p in lib.get_submodule(suyo).named_parameters():
            gp = propios.get(f"{mio_nombre}.{nombre}")
            if gp is None or gp.grad is None or not parecidos(gp.grad, p.grad):
                raise Fallo(
                    f"El gradiente de `{mio_nombre}.{nombre}` no coincide con el de la referencia: "
                    "¿usas esa capa en el `forward`? ¿Hay algo que corte el grafo (`.detach()`)?"
                )


@comprobacion("bloque", "PreLNBlock", puntos=4)
def comprobar_bloque(c: Comprobador, cls: type) -> None:
    """Comprueba tu clase ``PreLNBlock(d_model, n_heads, d_ff)``.

    Copia en tu bloque los pesos de un ``DecoderBlock`` Pre-LN de la biblioteca (por eso
    los submódulos deben llamarse ``ln_1``, ``attn``, ``ln_2`` y ``ff``) y compara con
    formas sorteadas, T = 1, float64, la causalidad y los gradientes.

    Parámetros:
        cls: tu clase (no una instancia).
        mostrar: si se imprime el informe (por defecto, sí).
    """
    if isinstance(cls, nn.Module):
        cls = type(cls)
    g = generador(SEMILLA)
    if not c.prueba("crear PreLNBlock(32, 4, 128) con los nombres pedidos",
                    lambda: _nuevo_bloque(cls, 32, 4, 128, g)):
        return
    r = lambda lo, hi: int(torch.randint(lo, hi + 1, (1,), generator=g))
    h = r(2, 4)
    casos = [
        (f"d_model={8 * h}, h={h}, T=7", dict(d_model=8 * h, n_heads=h, d_ff=32 * h, B=2, T=7)),
        ("d_model=48, h=6, d_ff=96, T=11", dict(d_model=48, n_heads=6, d_ff=96, B=3, T=11)),
        ("una cabeza, T=5", dict(d_model=16, n_heads=1, d_ff=64, B=2, T=5)),
        ("T = 1", dict(d_model=32, n_heads=4, d_ff=128, B=2, T=1)),
        ("float64", dict(d_model=16, n_heads=2, d_ff=32, B=2, T=6, dtype=torch.float64)),
    ]
    for descripcion, caso in casos:
        c.prueba(descripcion, lambda caso=caso: _caso_bloque(cls, g, **caso))

    def causal() -> None:
        mio, _ = _nuevo_bloque(cls, 32, 4, 64, g)
        x = torch.randn(2, 10, 32, generator=g)

        def cambiar(t: torch.Tensor, desde: int) -> torch.Tensor:
            t[:, desde:] = torch.randn(t[:, desde:].shape, generator=g)
            return t

        with torch.no_grad():
            _causalidad(lambda e: es_tensor(llamar(mio, e), "Tu `forward`"), x, cambiar, "bloque")

    c.prueba("causalidad: el futuro no influye en el pasado", causal)
    c.prueba("gradientes", lambda: _gradientes_bloque(cls, g))


# --------------------------------------------------------------------------------------
# MiniGPT
# --------------------------------------------------------------------------------------


def _config_prueba(g: torch.Generator, **cambios) -> GPTConfig:
    base = dict(vocab_size=int(torch.randint(20, 60, (1,), generator=g)), block_size=16, n_layer=2,
                n_head=2, d_model=32, dropout=0.0)
    base.update(cambios)
    return GPTConfig(**base)


def _nuevo_gpt(cls, config: GPTConfig, g: torch.Generator):
    torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=g)))
    mio = llamar(cls, config)
    if not isinstance(mio, nn.Module):
        raise Fallo(f"`MiniGPT(config)` debería crear un nn.Module y creó {type(mio).__name__}.")
    if isinstance(mio, GPT) or _usa_biblioteca(mio, (GPT, DecoderBlock)):
        raise Fallo("Tu MiniGPT usa el GPT o el DecoderBlock de la biblioteca: usa tu PreLNBlock.")
    lib = GPT(config)
    with torch.no_grad():
        lib.ln_f.weight.copy_(1 + 0.3 * torch.randn(config.d_model, generator=g))
        lib.ln_f.bias.copy_(0.3 * torch.randn(config.d_model, generator=g))
    _cargar(mio, _pesos_gpt(lib), "MiniGPT")
    mio.eval()
    lib.eval()
    return mio, lib


def _salida_gpt(mio: nn.Module, idx: torch.Tensor, targets: torch.Tensor | None = None):
    out = llamar(mio, idx) if targets is None else llamar(mio, idx, targets)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise Fallo(
            "El `forward` de tu MiniGPT debe devolver una tupla `(logits, loss)` (con loss = None si "
            f"no hay targets), como el GPT de la biblioteca; devolvió {type(out).__name__}."
        )
    return out


def _caso_gpt(cls, g, config: GPTConfig, B: int, T: int) -> None:
    mio, lib = _nuevo_gpt(cls, config, g)
    idx = torch.randint(0, config.vocab_size, (B, T), generator=g)
    # Como en get_batch, los targets son ventanas de un tensor mayor: no son contiguos.
    targets = torch.randint(0, config.vocab_size, (B, T + 1), generator=g)[:, 1:]
    logits, loss = _salida_gpt(mio, idx)
    es_tensor(logits, "Tu `forward`")
    with torch.no_grad():
        esperado, _ = lib(idx)
        _, loss_ref = lib(idx, targets)
    if logits.shape != esperado.shape:
        raise Fallo(f"Tus logits tienen forma {forma(logits)} y deberían ser (B, T, vocab_size) = {forma(esperado)}.")
    if loss is not None:
        raise Fallo("Sin `targets`, la pérdida debe ser None.")
    if not parecidos(logits, esperado):
        mensaje = (
            f"Tus logits no coinciden con los de referencia (diferencia máxima "
            f"{max_diferencia(logits, esperado):.3g}). Orden: embedding de tokens + embedding de "
            "posiciones (`pos_emb(torch.arange(T))`) → bloques → `ln_f` → `lm_head`."
        )
        with torch.no_grad():
            x = lib.tok_emb(idx)
            if parecidos(logits, lib.lm_head(lib.ln_f(_pasar_bloques(lib, x)))):
                mensaje = "Te falta sumar el embedding de posiciones: `x = tok_emb(idx) + pos_emb(torch.arange(T))`."
            elif parecidos(logits, lib.lm_head(_pasar_bloques(lib, lib.pos_emb(x)))):
                mensaje = "Te falta la LayerNorm final `ln_f` antes de `lm_head` (en Pre-LN es imprescindible)."
        raise Fallo(mensaje)
    _, loss2 = _salida_gpt(mio, idx, targets)
    if not isinstance(loss2, torch.Tensor) or loss2.dim() != 0:
        raise Fallo("Con `targets`, la pérdida debe ser un tensor escalar (la entropía cruzada media).")
    if not parecidos(loss2, loss_ref):
        raise Fallo(
            f"Tu pérdida vale {float(loss2):.4f} y debería valer {float(loss_ref):.4f}: "
            "`F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))`."
        )


def _pasar_bloques(lib: GPT, x: torch.Tensor) -> torch.Tensor:
    for bloque in lib.blocks:
        x = bloque(x, is_causal=True)
    return x


@comprobacion("gpt", "MiniGPT", puntos=3)
def comprobar_gpt(c: Comprobador, cls: type) -> None:
    """Comprueba tu clase ``MiniGPT(config)`` (con ``config`` un :class:`~transformer_lib.GPTConfig`).

    Copia en tu modelo los pesos de un :class:`~transformer_lib.GPT` de la biblioteca (por eso
    los nombres ``tok_emb``, ``pos_emb``, ``blocks``, ``ln_f`` y ``lm_head`` son obligatorios) y
    compara logits y pérdida con configuraciones sorteadas, T < block_size, T = 1 y la
    causalidad.

    Parámetros:
        cls: tu clase (no una instancia).
        mostrar: si se imprime el informe (por defecto, sí).
    """
    if isinstance(cls, nn.Module):
        cls = type(cls)
    g = generador(SEMILLA + 1)
    if not c.prueba("crear MiniGPT(config) con los nombres pedidos", lambda: _nuevo_gpt(cls, _config_prueba(g), g)):
        return
    casos = [
        ("T = block_size", _config_prueba(g), 2, 16),
        ("T < block_size", _config_prueba(g), 3, 7),
        ("T = 1", _config_prueba(g), 2, 1),
        ("3 bloques y 4 cabezas", _config_prueba(g, n_layer=3, n_head=4, d_model=48, block_size=12), 2, 12),
    ]
    for descripcion, config, B, T in casos:
        c.prueba(descripcion, lambda config=config, B=B, T=T: _caso_gpt(cls, g, config, B, T))

    def causal() -> None:
        config = _config_prueba(g)
        mio, _ = _nuevo_gpt(cls, config, g)
        idx = torch.randint(0, config.vocab_size, (2, 16), generator=g)

        def cambiar(t: torch.Tensor, desde: int) -> torch.Tensor:
            t[:, desde:] = (t[:, desde:] + 1) % config.vocab_size
            return t

        with torch.no_grad():
            _causalidad(lambda e: es_tensor(_salida_gpt(mio, e)[0], "Tu `forward`"), idx, cambiar, "MiniGPT")

    c.prueba("causalidad: el futuro no influye en el pasado", causal)


# --------------------------------------------------------------------------------------
# Entrenamiento
# --------------------------------------------------------------------------------------


def lotes_validacion(block_size: int, datos=None) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Los lotes fijos de validación con los que se mide tu modelo (último 10 % del Quijote).

    Parámetros:
        block_size: longitud T de cada ventana (la de tu modelo).
        datos: un ``QuijoteData`` ya cargado (None lo carga con ``prepare_quijote()``).
    """
    from ..data import get_batch, prepare_quijote

    datos = datos if datos is not None else prepare_quijote()
    g = torch.Generator().manual_seed(SEMILLA_VALIDACION)
    return [get_batch(datos.val, block_size, LOTE_VALIDACION, generator=g) for _ in range(LOTES_VALIDACION)]


@torch.no_grad()
def perdida_validacion(modelo: nn.Module, block_size: int | None = None, datos=None) -> float:
    """Pérdida de validación de ``modelo`` medida por el comprobador (nats por carácter).

    Parámetros:
        modelo: un modelo cuyo ``forward(idx)`` devuelve ``(logits, loss)`` o los logits.
        block_size: longitud de las ventanas; None usa la del modelo (``modelo.config.block_size``).
        datos: un ``QuijoteData`` ya cargado (opcional).
    """
    if block_size is None:
        block_size = _block_size(modelo)
    dispositivo = next(modelo.parameters()).device
    estaba_entrenando = modelo.training
    modelo.eval()
    total, n = 0.0, 0
    try:
        for x, y in lotes_validacion(block_size, datos):
            out = llamar(modelo, x.to(dispositivo))
            logits = out[0] if isinstance(out, tuple) else out
            loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.to(dispositivo).reshape(-1))
            total += float(loss) * y.numel()
            n += y.numel()
    finally:
        modelo.train(estaba_entrenando)
    return total / n


def _block_size(modelo: nn.Module) -> int:
    config = getattr(modelo, "config", None)
    if config is not None and hasattr(config, "block_size"):
        return int(config.block_size)
    pos = getattr(modelo, "pos_emb", None)
    if isinstance(pos, nn.Embedding):
        return pos.num_embeddings
    raise Fallo("No sé qué longitud de contexto tiene tu modelo: guarda la configuración en `self.config`.")


@comprobacion("entrenamiento", "entrenamiento con el Quijote", puntos=3,
              falta="`modelo` sigue valiendo None: crea y entrena tu MiniGPT en la celda del ejercicio.")
def comprobar_entrenamiento(c: Comprobador, modelo: nn.Module, umbral: float = UMBRAL_VALIDACION,
                            datos=None) -> None:
    """Mide la pérdida de validación de tu ``modelo`` entrenado y la compara con el umbral.

    La mide el propio comprobador sobre :data:`LOTES_VALIDACION` lotes fijos del último
    10 % del Quijote (la parte de validación de ``prepare_quijote``), con la longitud de
    contexto de tu modelo.

    Parámetros:
        modelo: tu MiniGPT ya entrenado.
        umbral: pérdida que hay que batir (por defecto :data:`UMBRAL_VALIDACION`).
        datos: un ``QuijoteData`` ya cargado (opcional; si no, se carga).
        mostrar: si se imprime el informe (por defecto, sí).
    """
    from ..data import prepare_quijote

    if not isinstance(modelo, nn.Module):
        c.detener(f"`modelo` debe ser tu MiniGPT entrenado (un nn.Module) y es {type(modelo).__name__}.")
        return
    if isinstance(modelo, GPT) or _usa_biblioteca(modelo, (GPT, DecoderBlock)):
        c.detener("Tienes que entrenar *tu* MiniGPT (con tu PreLNBlock), no el GPT de la biblioteca.")
        return
    if not any(isinstance(m, MultiHeadAttention) for m in modelo.modules()) and not list(modelo.parameters()):
        c.detener("Tu modelo no tiene parámetros: ¿es el MiniGPT que has entrenado?")
        return
    datos = datos if datos is not None else prepare_quijote()
    vocab = datos.tokenizer.vocab_size
    resultado: dict[str, float] = {}

    def medir() -> None:
        emb = getattr(modelo, "tok_emb", None)
        if isinstance(emb, nn.Embedding) and emb.num_embeddings != vocab:
            raise Fallo(
                f"Tu modelo tiene un vocabulario de {emb.num_embeddings} tokens y el tokenizador de "
                f"caracteres del Quijote tiene {vocab}: crea la configuración con "
                "`vocab_size=datos.tokenizer.vocab_size`."
            )
        perdida = perdida_validacion(modelo, _block_size(modelo), datos)
        resultado["perdida"] = perdida
        if not math.isfinite(perdida):
            raise Fallo("La pérdida de validación de tu modelo es NaN o infinita: el entrenamiento divergió "
                        "(prueba una tasa de aprendizaje menor).")
        if perdida >= umbral:
            raise Fallo(
                f"Tu pérdida de validación es {perdida:.3f} (medida por el comprobador sobre "
                f"{LOTES_VALIDACION} lotes fijos del final del libro) y tiene que bajar de {umbral:.2f}. "
                "Entrena más pasos o revisa la tasa de aprendizaje (1e-3 funciona bien). Como "
                f"referencia, una pérdida de {math.log(vocab):.2f} (= ln {vocab}) es la de un modelo "
                "que no ha aprendido nada."
            )

    c.prueba("pérdida de validación por debajo del umbral", medir)
    if "perdida" in resultado:
        c.nota(f"Pérdida de validación medida: {resultado['perdida']:.3f} (umbral: {umbral:.2f}).")
