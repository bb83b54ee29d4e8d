"""Comprobaciones de la tarea 1: atención por producto escalado y máscara causal.

La referencia es :mod:`transformer_lib.attention`. Cuando la salida del estudiante no
coincide, se compara con versiones *deliberadamente equivocadas* de la fórmula (sin
escalar, máscara invertida, softmax sobre el eje equivocado…) para explicar el error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import torch

from .. import attention as ref
from ._nucleo import (
    Comprobador,
    ErrorDelEstudiante,
    Fallo,
    comprobacion,
    es_tensor,
    forma,
    fuente,
    generador,
    llamar,
    max_diferencia,
    parecidos,
)

#: Semilla de las pruebas ocultas (las formas se sortean con ella).
SEMILLA = 20250601


# --------------------------------------------------------------------------------------
# Referencia con «errores a propósito»
# --------------------------------------------------------------------------------------


def atencion_variante(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None = None,
    *,
    escala: str = "raiz",
    eje: int = -1,
    invertir: bool = False,
    relleno: float = float("-inf"),
    tras_softmax: bool = False,
    ignorar_mascara: bool = False,
    sin_transponer: bool = False,
    usar_k_como_v: bool = False,
    filas_vacias_cero: bool = True,
) -> torch.Tensor:
    """La atención de la biblioteca con un error opcional; sirve para diagnosticar.

    Parámetros:
        escala: "raiz" (correcto, ÷√d_k), "dk" (÷d_k), "por_raiz" (×√d_k) o "ninguna".
        eje: eje de la softmax (el correcto es -1).
        invertir: usar ``~mask`` en lugar de ``mask``.
        relleno: valor con el que se tapan las posiciones prohibidas (correcto: −∞).
        tras_softmax: multiplicar los pesos por la máscara después de la softmax.
        ignorar_mascara: no aplicar la máscara.
        sin_transponer: calcular ``q @ k`` en lugar de ``q @ kᵀ``.
        usar_k_como_v: mezclar las claves en lugar de los valores.
        filas_vacias_cero: poner a cero las filas sin ninguna clave permitida.

    Formas:
        q: (..., T_q, d_k); k: (..., T_k, d_k); v: (..., T_k, d_v); salida: (..., T_q, d_v).
    """
    d_k = q.shape[-1]
    kt = k if sin_transponer else k.transpose(-2, -1)  # (..., d_k, T_k)
    scores = q @ kt  # (..., T_q, T_k)
    if escala == "raiz":
        scores = scores / math.sqrt(d_k)
    elif escala == "dk":
        scores = scores / d_k
    elif escala == "por_raiz":
        scores = scores * math.sqrt(d_k)
    m = None if (mask is None or ignorar_mascara) else (~mask if invertir else mask)
    if m is not None and not tras_softmax:
        scores = scores.masked_fill(~m, relleno)
    weights = torch.softmax(scores, dim=eje)
    if m is not None and tras_softmax:
        weights = weights * m
    if m is not None and filas_vacias_cero:
        weights = weights.masked_fill(~m.any(dim=-1, keepdim=True), 0.0)
    return weights @ (k if usar_k_como_v else v)


_RAIZ = "√d_k"
_VARIANTES: tuple[tuple[dict, str], ...] = (
    (dict(escala="ninguna"),
     f"Parece que no divides las puntuaciones entre {_RAIZ}: tu salida coincide con "
     "softmax(Q·Kᵀ)·V. Sin esa escala, con d_k grande la softmax se satura y casi todo el peso "
     "va a una sola clave. Pista: `scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)`."),
    (dict(escala="dk"),
     f"Divides las puntuaciones entre d_k en lugar de entre {_RAIZ}. La varianza de q·k crece "
     f"como d_k, así que para devolverla a 1 se divide por su raíz. Pista: `math.sqrt(d_k)`."),
    (dict(escala="por_raiz"),
     f"Multiplicas las puntuaciones por {_RAIZ} en lugar de dividirlas."),
    (dict(invertir=True),
     "Tu máscara está invertida. En este curso `True` significa «puede atender»: tienes que "
     "tapar (con −∞) las posiciones donde la máscara es `False`. Pista: "
     "`scores.masked_fill(~mask, float('-inf'))`."),
    (dict(invertir=True, filas_vacias_cero=False),
     "Tu máscara está invertida. En este curso `True` significa «puede atender»: tapa con −∞ "
     "las posiciones donde la máscara es `False` (`scores.masked_fill(~mask, float('-inf'))`)."),
    (dict(eje=-2),
     "Haces la softmax sobre el eje equivocado. Cada fila de pesos (una consulta) debe sumar 1 "
     "sobre las claves, que están en el último eje: `torch.softmax(scores, dim=-1)`."),
    (dict(ignorar_mascara=True),
     "Tu salida es la de la atención sin máscara: parece que no aplicas `mask`. Tapa con −∞ las "
     "posiciones donde la máscara es `False` antes de la softmax."),
    (dict(relleno=0.0),
     "Rellenas las posiciones prohibidas con 0 en lugar de con −∞: como e⁰ = 1, siguen "
     "recibiendo peso. Usa `float('-inf')` para que su peso sea exactamente 0."),
    (dict(tras_softmax=True),
     "Aplicas la máscara después de la softmax (multiplicando los pesos): así las filas ya no "
     "suman 1. Tapa las puntuaciones con −∞ antes de la softmax."),
    (dict(sin_transponer=True),
     "Calculas `q @ k` sin transponer k. Las puntuaciones son los productos escalares de cada "
     "consulta con cada clave: `q @ k.transpose(-2, -1)`."),
    (dict(usar_k_como_v=True),
     "Mezclas las claves en lugar de los valores: el último producto es `pesos @ v`."),
)


def diagnosticar(
    salida: torch.Tensor, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None
) -> str | None:
    """Busca qué error clásico explica ``salida``; devuelve el mensaje o None."""
    for opciones, mensaje in _VARIANTES:
        if mask is None and any(o in opciones for o in ("invertir", "ignorar_mascara", "relleno", "tras_softmax")):
            continue
        try:
            with torch.no_grad():
                candidata = atencion_variante(q, k, v, mask, **opciones)
        except RuntimeError:  # la variante no tiene sentido con estas formas
            continue
        if _coinciden_donde_son_finitas(salida, candidata):
            return mensaje
    return None


def _coinciden_donde_son_finitas(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Como ``parecidos``, pero tolera NaN en filas distintas si casi todo lo demás coincide."""
    if parecidos(a, b):
        return True
    if a.shape != b.shape:
        return False
    finitas = torch.isfinite(a) & torch.isfinite(b)
    if finitas.float().mean() < 0.6:
        return False
    return parecidos(a[finitas], b[finitas], b.dtype)


# --------------------------------------------------------------------------------------
# Casos de prueba
# --------------------------------------------------------------------------------------


def _randn(g: torch.Generator, *shape: int, dtype=torch.float32) -> torch.Tensor:
    return torch.randn(*shape, generator=g, dtype=dtype)


def _casos(g: torch.Generator) -> list[tuple[str, dict]]:
    """Casos de prueba con formas sorteadas (ocultas al estudiante)."""
    r = lambda lo, hi: int(torch.randint(lo, hi + 1, (1,), generator=g))
    casos = []
    B, T, d = r(2, 4), r(4, 9), 2 ** r(2, 5)
    casos.append((f"caso básico (B={B}, T={T}, d_k={d})",
                  dict(q=_randn(g, B, T, d), k=_randn(g, B, T, d), v=_randn(g, B, T, d))))
    Tq, Tk, dk, dv = r(2, 5), r(6, 10), 8, r(3, 7)
    casos.append((f"T_q={Tq} ≠ T_k={Tk} y d_v={dv} ≠ d_k={dk}",
                  dict(q=_randn(g, 2, Tq, dk), k=_randn(g, 2, Tk, dk), v=_randn(g, 2, Tk, dv))))
    B, h, T, d = 2, r(2, 4), r(3, 8), 16
    casos.append((f"con cabezas (B={B}, h={h}, T={T}, d_k={d})",
                  dict(q=_randn(g, B, h, T, d), k=_randn(g, B, h, T, d), v=_randn(g, B, h, T, d))))
    casos.append(("dos dimensiones de lote extra (2, 3, 2, T, d_k)",
                  dict(q=_randn(g, 2, 3, 2, 5, 4), k=_randn(g, 2, 3, 2, 6, 4), v=_randn(g, 2, 3, 2, 6, 3))))
    casos.append(("sin dimensión de lote (T, d_k)",
                  dict(q=_randn(g, 6, 8), k=_randn(g, 6, 8), v=_randn(g, 6, 8))))
    casos.append(("T = 1 (un solo token)",
                  dict(q=_randn(g, 3, 1, 8), k=_randn(g, 3, 1, 8), v=_randn(g, 3, 1, 8))))
    T = r(5, 9)
    casos.append((f"máscara causal (T, T) con T={T}, difundida sobre (B, h)",
                  dict(q=_randn(g, 2, 2, T, 8), k=_randn(g, 2, 2, T, 8), v=_randn(g, 2, 2, T, 8),
                       mask=ref.causal_mask(T))))
    T = 7
    longitudes = [T, r(2, T - 1), r(1, 3)]
    casos.append((f"máscara de relleno (B, 1, 1, T_k) con longitudes {longitudes}",
                  dict(q=_randn(g, 3, 2, T, 8), k=_randn(g, 3, 2, T, 8), v=_randn(g, 3, 2, T, 8),
                       mask=ref.padding_mask(longitudes, T))))
    mask = torch.rand(2, 6, 6, generator=g) > 0.4
    mask[0, 2] = False  # la consulta 2 del primer ejemplo no ve ninguna clave
    mask[1, 5] = False
    mask[1, 0] = True
    casos.append(("máscara con consultas que no pueden atender a ninguna clave",
                  dict(q=_randn(g, 2, 6, 8), k=_randn(g, 2, 6, 8), v=_randn(g, 2, 6, 8), mask=mask)))
    casos.append(("tensores no contiguos (vienen de un transpose)",
                  dict(q=_randn(g, 2, 8, 5).transpose(-2, -1), k=_randn(g, 2, 8, 5).transpose(-2, -1),
                       v=_randn(g, 4, 5, 2).permute(2, 1, 0))))
    casos.append(("entradas float64",
                  dict(q=_randn(g, 2, 5, 8, dtype=torch.float64), k=_randn(g, 2, 5, 8, dtype=torch.float64),
                       v=_randn(g, 2, 5, 8, dtype=torch.float64), mask=ref.causal_mask(5))))
    casos.append(("puntuaciones muy grandes (q y k multiplicados por 40)",
                  dict(q=40 * _randn(g, 2, 5, 16), k=40 * _randn(g, 2, 5, 16), v=_randn(g, 2, 5, 16))))
    return casos


def _comprobar_caso(fn: Callable, entradas: dict, codigo: str) -> None:
    q, k, v, mask = entradas["q"], entradas["k"], entradas["v"], entradas.get("mask")
    copias = {n: t.clone() for n, t in entradas.items()}
    args = (q, k, v) if mask is None else (q, k, v, mask)
    try:
        salida = es_tensor(llamar(fn, *args), "Tu función")
    except ErrorDelEstudiante as e:
        if re.search(r"q\s*@\s*k\b(?!\.(transpose|mT|T\b|permute|swapaxes))|matmul\(\s*q\s*,\s*k\s*\)", codigo):
            raise Fallo(
                f"Tu código lanzó {e}. Pista: calculas `q @ k` sin transponer k. Las puntuaciones son "
                "los productos escalares de cada consulta con cada clave: `q @ k.transpose(-2, -1)`."
            ) from None
        if q.dim() > 2 and re.search(r"\.T\b", codigo):
            raise Fallo(
                f"Tu código lanzó {e}. Pista: con más de 2 dimensiones `k.T` invierte *todos* los "
                "ejes; usa `k.transpose(-2, -1)`, que solo intercambia los dos últimos."
            ) from None
        raise
    for nombre, copia in copias.items():
        if not torch.equal(entradas[nombre], copia):
            raise Fallo(
                f"Tu función modifica su entrada `{nombre}` (una operación in-place como "
                "`masked_fill_`, `+=` o `[...] = ...` sobre ella). Quien te llama no espera que "
                "cambies sus tensores: trabaja sobre tensores nuevos (`masked_fill` sin guion bajo)."
            )
    esperado = ref.scaled_dot_product_attention(q, k, v, mask)
    if salida.shape != esperado.shape:
        pesos_shape = (*esperado.shape[:-1], k.shape[-2])
        extra = ""
        if tuple(salida.shape) == pesos_shape:
            extra = " ¿Devuelves los pesos de atención? Falta multiplicarlos por v: `pesos @ v`."
        elif re.search(r"\.T\b", codigo) and q.dim() > 2:
            extra = (" Con más de 2 dimensiones `k.T` invierte *todos* los ejes; usa "
                     "`k.transpose(-2, -1)`, que solo intercambia los dos últimos.")
        raise Fallo(
            f"Tu salida tiene forma {forma(salida)} y debería ser {forma(esperado)} = "
            f"(..., T_q, d_v).{extra}"
        )
    if salida.dtype != esperado.dtype:
        raise Fallo(
            f"Con entradas {q.dtype} devuelves {salida.dtype}: conserva el tipo de la entrada "
            "(no uses `.float()` ni crees tensores con un dtype fijo)."
        )
    if parecidos(salida, esperado):
        return
    _explicar_diferencia(salida, esperado, q, k, v, mask)


def _explicar_diferencia(salida, esperado, q, k, v, mask) -> None:
    if mask is not None:
        vacias = ~mask.expand(*esperado.shape[:-1], k.shape[-2]).any(dim=-1)  # (..., T_q)
        if vacias.any():
            llenas = ~vacias
            if parecidos(salida[llenas], esperado[llenas]):
                filas = salida[vacias]
                if torch.isnan(filas).any():
                    raise Fallo(
                        "Una consulta que no puede atender a ninguna clave te da NaN (la softmax de "
                        "una fila entera de −∞ es 0/0). En este curso su salida debe ser un vector de "
                        "ceros, como en la biblioteca y en `F.scaled_dot_product_attention`. Pista: tras "
                        "la softmax, `pesos = pesos.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)`."
                    )
                uniforme = v.mean(dim=-2, keepdim=True).expand_as(esperado)[vacias]
                if parecidos(filas, uniforme):
                    raise Fallo(
                        "Tapas con un número finito (como -1e9) en lugar de −∞: una consulta sin "
                        "ninguna clave permitida reparte entonces su peso a partes iguales entre "
                        "todas. En este curso su salida debe ser un vector de ceros. Pista: tras la "
                        "softmax, `pesos.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)`."
                    )
                raise Fallo(
                    "Las consultas con alguna clave permitida salen bien, pero las que no pueden "
                    "atender a ninguna deben dar un vector de ceros."
                )
    mensaje = diagnosticar(salida, q, k, v, mask)
    if mensaje is None and not torch.isfinite(salida).all() and torch.isfinite(esperado).all():
        mensaje = (
            "Tu salida tiene NaN o infinitos. Si escribes la softmax a mano con `torch.exp`, "
            "las puntuaciones grandes desbordan: resta el máximo de cada fila antes "
            "(`scores - scores.amax(dim=-1, keepdim=True)`) o usa `torch.softmax(scores, dim=-1)`."
        )
    if mensaje is None:
        mensaje = (
            "Tu salida no coincide con la de referencia (diferencia máxima "
            f"{max_diferencia(salida, esperado):.3g}). Repasa la fórmula paso a paso: "
            "softmax(Q·Kᵀ/√d_k) con la máscara aplicada antes de la softmax, y después · V."
        )
    raise Fallo(mensaje)


def _comprobar_gradiente(fn: Callable, g: torch.Generator) -> None:
    q, k, v = (_randn(g, 2, 4, 8).requires_grad_() for _ in range(3))
    mask = ref.causal_mask(4)
    salida = es_tensor(llamar(fn, q, k, v, mask), "Tu función")
    if not salida.requires_grad:
        raise Fallo(
            "Tu salida no está conectada al grafo de gradientes: no se podría entrenar nada con "
            "ella. ¿Usas `.detach()`, `.numpy()`, `.item()` o `torch.tensor(...)` por el camino?"
        )
    with torch.no_grad():
        esperado = ref.scaled_dot_product_attention(q, k, v, mask)
        if salida.shape != esperado.shape:
            raise Fallo(f"Tu salida tiene forma {forma(salida)} y debería ser {forma(esperado)}.")
        if not parecidos(salida, esperado):
            _explicar_diferencia(salida, esperado, q, k, v, mask)  # el mismo fallo que arriba
    peso = _randn(g, *salida.shape)
    try:
        grads = torch.autograd.grad((salida * peso).sum(), (q, k, v), allow_unused=True)
    except RuntimeError as err:
        raise Fallo(f"No se puede derivar a través de tu función ({err}).") from None
    q2, k2, v2 = (t.detach().clone().requires_grad_() for t in (q, k, v))
    esperados = torch.autograd.grad((ref.scaled_dot_product_attention(q2, k2, v2, mask) * peso).sum(),
                                    (q2, k2, v2))
    for nombre, gr, ge in zip("qkv", grads, esperados):
        if gr is None or not parecidos(gr, ge):
            raise Fallo(
                f"El gradiente respecto a {nombre} no coincide con el de la referencia. ¿Hay alguna "
                "operación que corte el grafo (`.detach()`, `.data`) o alguna operación in-place?"
            )


@comprobacion("atencion", "scaled_dot_product_attention", puntos=7)
def comprobar_atencion(c: Comprobador, fn: Callable) -> None:
    """Comprueba tu ``scaled_dot_product_attention(q, k, v, mask=None)``.

    La compara con la de la biblioteca en casos con formas sorteadas: varias dimensiones
    de lote, T = 1, T_q ≠ T_k, máscaras causales y de relleno, consultas sin ninguna clave
    permitida (salida: ceros), tensores no contiguos, float64, puntuaciones grandes, y el
    gradiente. También vigila que no modifiques las entradas.

    Parámetros:
        fn: tu función.
        mostrar: si se imprime el informe (por defecto, sí).

    Devuelve:
        Un :class:`~transformer_lib.tareas.Resultado`.
    """
    if not callable(fn):
        raise TypeError(f"comprobar_atencion espera tu función y recibió {type(fn).__name__}.")
    g = generador(SEMILLA)
    codigo = fuente(fn)
    prohibido = re.search(r"(functional\.|F\.|transformer_lib\.|\bref\.)scaled_dot_product_attention|"
                          r"attention_weights\(", codigo)
    if prohibido:
        c.detener(
            f"Tu función usa `{prohibido.group(0).rstrip('(')}`: aquí se trata de escribir la atención tú "
            "con operaciones básicas (`@`, `transpose`, `masked_fill`, `torch.softmax`)."
        )
        return
    for descripcion, entradas in _casos(g):
        c.prueba(descripcion, lambda e=entradas: _comprobar_caso(fn, e, codigo))
    c.prueba("gradientes respecto a q, k y v", lambda: _comprobar_gradiente(fn, g))


# --------------------------------------------------------------------------------------
# Máscara causal
# --------------------------------------------------------------------------------------


def _comprobar_mascara(fn: Callable, T: int) -> None:
    m = es_tensor(llamar(fn, T), "Tu `causal_mask`")
    esperado = ref.causal_mask(T)
    if m.shape != esperado.shape:
        raise Fallo(f"Con T={T} tu máscara tiene forma {forma(m)} y debería ser ({T}, {T}).")
    if m.dtype != torch.bool:
        if m.is_floating_point() and torch.isinf(m).any():
            raise Fallo(
                "Devuelves una máscara aditiva (0 / −∞). En este curso las máscaras son booleanas "
                "(True = puede atender); la aditiva la calcula `additive_mask` a partir de ella."
            )
        raise Fallo(
            f"Tu máscara tiene dtype {m.dtype} y debe ser booleana (`dtype=torch.bool` o `.bool()`): "
            "True = puede atender."
        )
    if torch.equal(m, esperado):
        return
    explicaciones = (
        (esperado.T, "Tu máscara es triangular superior: deja a cada posición ver el futuro. La "
                     "posición i solo puede ver las j ≤ i, que es la parte triangular *inferior* "
                     "(`torch.tril`)."),
        (~esperado, "Tu máscara está invertida: marcas con True lo que está prohibido. En este "
                    "curso True = puede atender; la posición i ve las j ≤ i."),
        (esperado.tril(-1), "Te falta la diagonal: cada posición también puede verse a sí misma "
                            "(j = i). Usa `torch.tril(...)` sin desplazar la diagonal."),
    )
    for candidata, mensaje in explicaciones:
        if torch.equal(m, candidata):
            raise Fallo(mensaje)
    raise Fallo(f"Con T={T} tu máscara no es la causal: mask[i, j] debe ser True si y solo si j ≤ i.")


@comprobacion("mascara_causal", "causal_mask", puntos=3)
def comprobar_mascara_causal(c: Comprobador, fn: Callable) -> None:
    """Comprueba tu ``causal_mask(T)`` para varios T (incluido T = 1) sorteados.

    Parámetros:
        fn: tu función.
        mostrar: si se imprime el informe (por defecto, sí).

    Devuelve:
        Un :class:`~transformer_lib.tareas.Resultado`.
    """
    if not callable(fn):
        raise TypeError(f"comprobar_mascara_causal espera tu función y recibió {type(fn).__name__}.")
    g = generador(SEMILLA + 1)
    tamanos = [1, 2] + sorted({int(t) for t in torch.randint(3, 40, (3,), generator=g)})
    for T in tamanos:
        c.prueba(f"T = {T}", lambda T=T: _comprobar_mascara(fn, T))
