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
from ..multihead import MultiHeadAttention as _MHABiblioteca
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

SEMILLA = 20250602

_MEZCLA_PARTIR = (
    "Mezclas las cabezas al partir: `x.view(B, h, T, d_k)` reparte los números en el orden en "
    "que están en memoria, así que cada «cabeza» recibe trozos de posiciones distintas. Parte "
    "primero el último eje y después intercambia ejes: `x.view(B, T, h, d_k).transpose(1, 2)` "
    "→ (B, h, T, d_k)."
)
_MEZCLA_JUNTAR = (
    "Mezclas las cabezas al juntarlas: antes del `reshape(B, T, d_model)` tienes que devolver "
    "cada cabeza junto a su posición con `.transpose(1, 2)`: (B, h, T, d_k) → (B, T, h, d_k) → "
    "(B, T, d_model)."
)
_INTERCALADA = (
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


def _formas_cabezas(g: torch.Generator) -> list[tuple[int, int, int, int]]:
    r = lambda lo, hi: int(torch.randint(lo, hi + 1, (1,), generator=g))
    h = r(2, 4)
    return [(2, r(3, 7), h * r(2, 6), h), (1, 1, 8, 2), (3, r(2, 5), 12, 1), (2, r(3, 6), 6, 6),
            (r(2, 3), r(4, 8), 4 * r(3, 5), 4)]


def _probar_split(fn: Callable, x: torch.Tensor, h: int) -> None:
    copia = x.clone()
    out = es_tensor(llamar(fn, x, h), "Tu `split_heads`")
    if not torch.equal(x, copia):
        raise Fallo("Tu `split_heads` modifica su entrada; devuelve un tensor nuevo.")
    B, T, D = x.shape
    esperado = _split_ref(x, h)
    if out.shape != esperado.shape:
        extra = ""
        if tuple(out.shape) == (B, T, h, D // h):
            extra = " Te falta intercambiar los ejes de las posiciones y las cabezas: `.transpose(1, 2)`."
        raise Fallo(
            f"Con x de forma (B={B}, T={T}, d_model={D}) y h={h}, `split_heads` devuelve "
            f"{forma(out)} y debería devolver (B, h, T, d_k) = {forma(esperado)}.{extra}"
        )
    if torch.equal(out, esperado):
        if out.dtype != x.dtype:
            raise Fallo(f"`split_heads` cambia el tipo de {x.dtype} a {out.dtype}.")
        return
    if torch.equal(out, x.reshape(B, h, T, D // h)):
        raise Fallo(_MEZCLA_PARTIR)
    if torch.equal(out, x.reshape(B, T, D // h, h).permute(0, 3, 1, 2)):
        raise Fallo(_INTERCALADA)
    raise Fallo(
        "La forma de `split_heads` es buena, pero los números no están donde deben: "
        "out[b, i, t] tiene que ser x[b, t, i·d_k:(i+1)·d_k]."
    )


def _probar_merge(fn: Callable, x: torch.Tensor) -> None:
    copia = x.clone()
    out = es_tensor(llamar(fn, x), "Tu `merge_heads`")
    if not torch.equal(x, copia):
        raise Fallo("Tu `merge_heads` modifica su entrada; devuelve un tensor nuevo.")
    B, h, T, dk = x.shape
    esperado = _merge_ref(x)
    if out.shape != esperado.shape:
        raise Fallo(
            f"Con x de forma (B={B}, h={h}, T={T}, d_k={dk}), `merge_heads` devuelve {forma(out)} "
            f"y debería devolver (B, T, d_model) = {forma(esperado)}."
        )
    if torch.equal(out, esperado):
        if out.dtype != x.dtype:
            raise Fallo(f"`merge_heads` cambia el tipo de {x.dtype} a {out.dtype}.")
        return
    if torch.equal(out, x.reshape(B, T, h * dk)):
        raise Fallo(_MEZCLA_JUNTAR)
    raise Fallo(
        "La forma de `merge_heads` es buena, pero los números no están donde deben: "
        "out[b, t, i·d_k:(i+1)·d_k] tiene que ser x[b, i, t]."
    )


@comprobacion("cabezas", "split_heads y merge_heads", puntos=4)
def comprobar_cabezas(c: Comprobador, split_heads: Callable, merge_heads: Callable | None = None) -> None:
    """Comprueba tus ``split_heads(x, n_heads)`` y ``merge_heads(x)``.

    Usa formas sorteadas (incluidas h = 1, d_k = 1 y T = 1), float64, y la ida y vuelta
    ``merge_heads(split_heads(x, h)) == x``. ``merge_heads`` recibe tensores contiguos de
    forma (B, h, T, d_k), como los que salen de la atención: tras su ``transpose`` ya no
    son contiguos y un ``view`` falla.

    Parámetros:
        split_heads: tu función (B, T, d_model) -> (B, h, T, d_k).
        merge_heads: tu función (B, h, T, d_k) -> (B, T, d_model).
        mostrar: si se imprime el informe (por defecto, sí).
    """
    if merge_heads is None:
        c.marcar_sin_resolver("No encuentro tu `merge_heads`: ¿has ejecutado su celda?")
        return
    g = generador(SEMILLA)
    for B, T, D, h in _formas_cabezas(g):
        x = torch.randn(B, T, D, generator=g)
        c.prueba(f"split_heads con (B={B}, T={T}, d_model={D}), h={h}", lambda x=x, h=h: _probar_split(split_heads, x, h))
    for B, T, D, h in _formas_cabezas(g):
        x = torch.randn(B, h, T, D // h, generator=g)  # como la salida de la atención
        c.prueba(f"merge_heads con (B={B}, h={h}, T={T}, d_k={D // h})", lambda x=x: _probar_merge(merge_heads, x))
    x64 = torch.randn(2, 5, 12, generator=g, dtype=torch.float64)
    c.prueba("float64", lambda: (_probar_split(split_heads, x64, 3), _probar_merge(merge_heads, torch.randn(2, 3, 5, 4, generator=g, dtype=torch.float64))))

    def ida_y_vuelta() -> None:
        x = torch.randn(3, 7, 20, generator=g)
        y = es_tensor(llamar(merge_heads, es_tensor(llamar(split_heads, x, 5), "Tu `split_heads`")), "Tu `merge_heads`")
        if y.shape != x.shape or not torch.equal(y, x):
            raise Fallo("`merge_heads(split_heads(x, h))` debería devolver exactamente x.")

    c.prueba("ida y vuelta: merge_heads(split_heads(x, h)) == x", ida_y_vuelta)


# --------------------------------------------------------------------------------------
# MultiHeadAttention
# --------------------------------------------------------------------------------------


def mha_variante(
    lib: _MHABiblioteca,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    mask: torch.Tensor | None = None,
    *,
    particion: str = "ok",
    union: str = "ok",
    escala: str = "d_k",
    sin_wo: bool = False,
    solo_query: bool = False,
    kv_cambiadas: bool = False,
    invertir: bool = False,
) -> torch.Tensor:
    """La atención multi-cabeza con los pesos de ``lib`` y un error opcional (para diagnosticar).

    Formas:
        query: (B, T_q, d_model); key, value: (B, T_k, d_model); salida: (B, T_q, d_model).
    """
    if solo_query:
        key = value = query
    B, Tq, D = query.shape
    Tk, h = key.shape[1], lib.n_heads
    dk = D // h
    q = lib.w_q(query)
    k, v = (lib.w_v(key), lib.w_k(value)) if kv_cambiadas else (lib.w_k(key), lib.w_v(value))

    def split(x: torch.Tensor, T: int) -> torch.Tensor:
        if particion == "sin_transponer":
            return x.reshape(B, h, T, dk)
        if particion == "intercalada":
            return x.reshape(B, T, dk, h).permute(0, 3, 1, 2)
        return x.reshape(B, T, h, dk).transpose(1, 2)  # (B, T, d_model) -> (B, h, T, d_k)

    q, k, v = split(q, Tq), split(k, Tk), split(v, Tk)
    divisor = {"d_k": math.sqrt(dk), "d_model": math.sqrt(D), "ninguna": 1.0, "dk_sin_raiz": float(dk)}[escala]
    scores = q @ k.transpose(-2, -1) / divisor  # (B, h, T_q, T_k)
    if mask is not None:
        m = ~mask if invertir else mask
        scores = scores.masked_fill(~m, float("-inf"))
    w = torch.softmax(scores, dim=-1)
    if mask is not None:
        w = w.masked_fill(~m.any(dim=-1, keepdim=True), 0.0)
    out = w @ v  # (B, h, T_q, d_k)
    if union == "sin_transponer":
        out = out.reshape(B, Tq, D)
    else:
        out = out.transpose(1, 2).reshape(B, Tq, D)  # (B, h, T_q, d_k) -> (B, T_q, d_model)
    return out if sin_wo else lib.w_o(out)


_VARIANTES_MHA: tuple[tuple[dict, str], ...] = (
    (dict(particion="sin_transponer"), _MEZCLA_PARTIR),
    (dict(union="sin_transponer"), _MEZCLA_JUNTAR),
    (dict(particion="sin_transponer", union="sin_transponer"),
     "Mezclas las cabezas al partir y al juntar (un `view`/`reshape` directo sin `transpose`). "
     "Partir: `x.view(B, T, h, d_k).transpose(1, 2)`; juntar: `x.transpose(1, 2).reshape(B, T, d_model)`."),
    (dict(particion="intercalada"), _INTERCALADA),
    (dict(escala="d_model"),
     "Escalas las puntuaciones por √d_model en lugar de por √d_k: cada cabeza hace su propia "
     "atención con vectores de dimensión d_k = d_model / h."),
    (dict(escala="ninguna"), "No divides las puntuaciones entre √d_k."),
    (dict(escala="dk_sin_raiz"), "Divides las puntuaciones entre d_k en lugar de entre √d_k."),
    (dict(sin_wo=True),
     "Te falta la proyección de salida: después de juntar las cabezas hay que aplicar `self.w_o`."),
    (dict(solo_query=True),
     "Calculas las claves y los valores a partir de `query`. En la atención cruzada vienen de "
     "otra secuencia: usa `self.w_k(key)` y `self.w_v(value)`."),
    (dict(kv_cambiadas=True),
     "Tienes cambiadas las proyecciones de claves y valores: las claves son `self.w_k(key)` y "
     "los valores `self.w_v(value)`."),
    (dict(invertir=True),
     "Tu máscara está invertida: True = puede atender, así que se tapan con −∞ las posiciones "
     "donde la máscara es False."),
)


_NOMBRES = ("w_q", "w_k", "w_v", "w_o")


def _claves_esperadas() -> set[str]:
    return {f"{n}.{p}" for n in _NOMBRES for p in ("weight", "bias")}


def _comprobar_estructura(modulo: nn.Module, d_model: int) -> str | None:
    """Devuelve un mensaje si los parámetros no se llaman como pide el enunciado."""
    if isinstance(modulo, _MHABiblioteca) or any(
        isinstance(m, (_MHABiblioteca, nn.MultiheadAttention)) for m in modulo.modules()
    ):
        return ("Tu módulo usa la MultiHeadAttention de la biblioteca (o `nn.MultiheadAttention`): "
                "aquí se trata de escribirla tú con cuatro `nn.Linear`.")
    claves = set(modulo.state_dict())
    esperadas = _claves_esperadas()
    if claves != esperadas:
        faltan, sobran = sorted(esperadas - claves), sorted(claves - esperadas)
        partes = []
        if faltan:
            partes.append("faltan " + ", ".join(faltan))
        if sobran:
            partes.append("sobran " + ", ".join(sobran))
        return ("Tu módulo debe tener exactamente cuatro capas `nn.Linear(d_model, d_model)` con sesgo "
                f"llamadas w_q, w_k, w_v y w_o (así puedo copiarles los pesos de la referencia): "
                f"{'; '.join(partes)}.")
    for nombre in _NOMBRES:
        w = modulo.state_dict()[f"{nombre}.weight"]
        if tuple(w.shape) != (d_model, d_model):
            return (f"`{nombre}` tiene pesos de forma {forma(w)} y debería ser "
                    f"nn.Linear(d_model, d_model) con pesos ({d_model}, {d_model}).")
    return None


def _construir(cls, d_model: int, n_heads: int, g: torch.Generator):
    """Crea tu módulo y el de la biblioteca con los mismos pesos."""
    torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=g)))
    modulo = llamar(cls, d_model, n_heads)
    if not isinstance(modulo, nn.Module):
        raise Fallo(f"`{getattr(cls, '__name__', cls)}(d_model, n_heads)` debería crear un nn.Module.")
    lib = _MHABiblioteca(d_model, n_heads)
    return modulo, lib


def _caso_mha(modulo, lib, query, key, value, mask, descripcion_formas: str) -> None:
    entradas = {"query": query, "key": key, "value": value}
    copias = {n: t.clone() for n, t in entradas.items()}
    args = (query, key, value) if mask is None else (query, key, value, mask)
    out = es_tensor(llamar(modulo, *args), "Tu `forward`")
    for n, t in entradas.items():
        if not torch.equal(t, copias[n]):
            raise Fallo(f"Tu `forward` modifica su entrada `{n}` (operación in-place); no lo hagas.")
    with torch.no_grad():
        esperado = lib(query, key, value, mask=mask)
    if out.shape != esperado.shape:
        raise Fallo(f"Con {descripcion_formas} tu salida tiene forma {forma(out)} y debería ser "
                    f"(B, T_q, d_model) = {forma(esperado)}.")
    if out.dtype != esperado.dtype:
        raise Fallo(f"Con entradas {query.dtype} devuelves {out.dtype}: conserva el tipo.")
    if parecidos(out, esperado):
        return
    if not torch.isfinite(out).all():
        raise Fallo("Tu salida tiene NaN o infinitos.")
    for opciones, mensaje in _VARIANTES_MHA:
        if mask is None and "invertir" in opciones:
            continue
        try:
            with torch.no_grad():
                candidata = mha_variante(lib, query, key, value, mask, **opciones)
        except RuntimeError:
            continue
        if parecidos(out, candidata):
            raise Fallo(mensaje)
    raise Fallo(
        f"Con {descripcion_formas} tu salida no coincide con la de referencia (diferencia máxima "
        f"{max_diferencia(out, esperado):.3g}). Repasa los pasos: proyectar, partir en cabezas, "
        "atención con escala 1/√d_k (y máscara), juntar cabezas y proyectar con w_o."
    )


def _casos_mha(g: torch.Generator) -> list[tuple[str, dict]]:
    r = lambda lo, hi: int(torch.randint(lo, hi + 1, (1,), generator=g))
    h = r(2, 4)
    D = h * 2 ** r(2, 4)
    T = r(4, 8)
    casos = [
        (f"autoatención (d_model={D}, h={h}, B=2, T={T})", dict(D=D, h=h, B=2, Tq=T, Tk=T, propia=True)),
        ("atención cruzada (d_model=48, h=6, T_q=3, T_k=7)", dict(D=48, h=6, B=2, Tq=3, Tk=7)),
        ("una sola cabeza (d_model=16, h=1)", dict(D=16, h=1, B=3, Tq=5, Tk=5, propia=True)),
        ("d_k = 1 (d_model=8, h=8)", dict(D=8, h=8, B=2, Tq=4, Tk=4, propia=True)),
        ("T = 1", dict(D=32, h=4, B=2, Tq=1, Tk=1, propia=True)),
        ("máscara causal (T, T)", dict(D=32, h=4, B=2, Tq=6, Tk=6, propia=True, mask="causal")),
        ("máscara de relleno (B, 1, 1, T_k)", dict(D=24, h=3, B=3, Tq=5, Tk=6, mask="relleno")),
        ("entradas no contiguas", dict(D=32, h=2, B=3, Tq=5, Tk=5, no_contiguas=True)),
        ("float64", dict(D=16, h=4, B=2, Tq=5, Tk=5, propia=True, dtype=torch.float64, mask="causal")),
    ]
    return casos


def _preparar(g: torch.Generator, D, h, B, Tq, Tk, propia=False, mask=None, no_contiguas=False,
              dtype=torch.float32):
    if no_contiguas:
        query = torch.randn(Tq, B, D, generator=g, dtype=dtype).transpose(0, 1)
        key = torch.randn(Tk, B, D, generator=g, dtype=dtype).transpose(0, 1)
        value = torch.randn(B, D, Tk, generator=g, dtype=dtype).transpose(1, 2)
    else:
        query = torch.randn(B, Tq, D, generator=g, dtype=dtype)
        key = query if propia else torch.randn(B, Tk, D, generator=g, dtype=dtype)
        value = query if propia else torch.randn(B, Tk, D, generator=g, dtype=dtype)
    m = None
    if mask == "causal":
        m = causal_mask(Tq)
    elif mask == "relleno":
        longitudes = torch.randint(1, Tk + 1, (B,), generator=g)
        longitudes[0] = Tk
        m = padding_mask(longitudes, Tk)
    return query, key, value, m


def _gradientes(cls, g: torch.Generator) -> None:
    modulo, lib = _construir(cls, 24, 3, g)
    modulo.load_state_dict(lib.state_dict())
    x = torch.randn(2, 5, 24, generator=g)
    y = torch.randn(2, 5, 24, generator=g)
    out = es_tensor(llamar(modulo, x, x, x, causal_mask(5)), "Tu `forward`")
    if out.shape != (2, 5, 24) or not parecidos(out, lib(x, x, x, mask=causal_mask(5))):
        raise Fallo("La salida no coincide (mira los otros fallos primero).")
    if not out.requires_grad:
        raise Fallo("Tu salida no está conectada al grafo de gradientes: ¿usas `.detach()` o `torch.no_grad()`?")
    llamar(lambda: (out * y).sum().backward())
    (lib(x, x, x, mask=causal_mask(5)) * y).sum().backward()
    params = dict(modulo.named_parameters())
    for nombre, p in lib.named_parameters():
        gp = params[nombre].grad
        if gp is None or not parecidos(gp, p.grad):
            raise Fallo(f"El gradiente de `{nombre}` no coincide con el de la referencia: ¿usas esa capa "
                        "en el `forward`? ¿Hay algo que corte el grafo (`.detach()`, `.data`)?")


@comprobacion("multihead", "MultiHeadAttention", puntos=6)
def comprobar_multihead(c: Comprobador, cls: type) -> None:
    """Comprueba tu clase ``MultiHeadAttention(d_model, n_heads)``.

    Crea tu módulo con varias combinaciones de d_model y h, le copia los pesos de la
    :class:`~transformer_lib.MultiHeadAttention` de la biblioteca (por eso tus capas deben
    llamarse ``w_q``, ``w_k``, ``w_v`` y ``w_o``) y compara salidas y gradientes en
    autoatención, atención cruzada, máscaras causal y de relleno, T = 1, h = 1, d_k = 1,
    entradas no contiguas y float64.

    Parámetros:
        cls: tu clase (no una instancia).
        mostrar: si se imprime el informe (por defecto, sí).
    """
    if isinstance(cls, nn.Module):
        cls = type(cls)
    g = generador(SEMILLA + 1)
    estructura: dict[str, str | None] = {}

    def crear() -> None:
        modulo, _ = _construir(cls, 32, 4, g)
        estructura["mensaje"] = _comprobar_estructura(modulo, 32)

    if not c.prueba("crear MultiHeadAttention(32, 4)", crear):
        return
    if estructura.get("mensaje"):
        c.detener(estructura["mensaje"])
        return
    for descripcion, caso in _casos_mha(g):

        def probar(caso=caso, descripcion=descripcion) -> None:
            modulo, lib = _construir(cls, caso["D"], caso["h"], g)
            mensaje = _comprobar_estructura(modulo, caso["D"])
            if mensaje:
                raise Fallo(mensaje)
            modulo.load_state_dict(lib.state_dict())
            if caso.get("dtype") == torch.float64:
                modulo.double()
                lib.double()
            query, key, value, mask = _preparar(g, **{k: v for k, v in caso.items()})
            _caso_mha(modulo, lib, query, key, value, mask, descripcion)

        c.prueba(descripcion, probar)
    c.prueba("gradientes de w_q, w_k, w_v y w_o", lambda: _gradientes(cls, g))
