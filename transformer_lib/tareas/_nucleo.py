"""Infraestructura común de las comprobaciones: resultados, llamadas seguras e informes.

Las comprobaciones ejecutan el código del estudiante y **nunca** dejan escapar una
excepción suya: la convierten en un mensaje en español (tipo y texto de la excepción,
sin traza). ``NotImplementedError`` significa «aún sin resolver».
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

import torch

#: Estados posibles de un ejercicio.
CORRECTO, INCORRECTO, SIN_RESOLVER, ERROR = "correcto", "incorrecto", "sin resolver", "error"

_ICONOS = {CORRECTO: "✅", INCORRECTO: "❌", SIN_RESOLVER: "⏳", ERROR: "💥"}
#: Máximo de mensajes de fallo distintos que se muestran por ejercicio.
MAX_MENSAJES = 3


class SinResolver(Exception):
    """El código del estudiante lanzó ``NotImplementedError`` (o no existe todavía)."""


class Fallo(Exception):
    """Una prueba no se superó; el mensaje explica por qué y da una pista."""


class ErrorDelEstudiante(Exception):
    """El código del estudiante lanzó una excepción (que no es ``NotImplementedError``)."""

    def __init__(self, original: BaseException):
        self.original = original
        super().__init__(describir_excepcion(original))


def describir_excepcion(err: BaseException) -> str:
    """Tipo y mensaje de una excepción en una línea (sin traza), recortado si es muy largo."""
    texto = " ".join(str(err).split())
    if len(texto) > 300:
        texto = texto[:297] + "…"
    return f"{type(err).__name__}: {texto}" if texto else type(err).__name__


_PISTAS_DE_ERRORES = (
    ("view size is not compatible", "`.view()` no funciona sobre tensores no contiguos (por ejemplo, "
     "tras un `transpose`): usa `.reshape(...)` o `.contiguous().view(...)`."),
    ("shapes cannot be multiplied", "las dimensiones de una multiplicación de matrices no encajan: "
     "revisa qué eje transpones y que cada capa lineal reciba (..., d_model)."),
    ("must match the size of tensor", "dos tensores no se pueden difundir (broadcast) juntos: "
     "imprime sus formas (`x.shape`) justo antes de la línea que falla."),
    ("expected scalar type", "mezclas tipos (float32 y float64): no conviertas los tensores con "
     "`.float()` ni crees tensores nuevos sin `dtype=`/`device=` del tensor de entrada."),
    ("found dtype", "mezclas tipos (float32 y float64): crea los tensores auxiliares con el "
     "mismo `dtype` que la entrada."),
    ("dimension out of range", "usas un eje que no existe: con ejes negativos (`-1`, `-2`) tu "
     "código funciona con cualquier número de dimensiones de lote."),
    ("can't call numpy() on tensor that requires grad", "no pases por NumPy: haz todo con "
     "operaciones de PyTorch para que el gradiente pueda fluir."),
    ("is not implemented for 'bool'", "las máscaras son booleanas: combínalas con `~`, `&` y "
     "`|`, no con `-` ni `*`."),
    ("does not match the shape of the indexed tensor", "la indexación booleana `scores[~mask]` "
     "exige que la máscara tenga exactamente la forma de `scores`; `scores.masked_fill(~mask, "
     "float('-inf'))` sí la difunde (broadcast)."),
    ("Subtraction, the `-` operator, with a bool tensor", "para invertir una máscara booleana "
     "usa `~mask`, no `1 - mask`."),
)


def pista_para(err: BaseException) -> str:
    """Una pista en español para los errores de PyTorch más comunes (o cadena vacía)."""
    texto = str(err)
    for patron, pista in _PISTAS_DE_ERRORES:
        if patron.lower() in texto.lower():
            return " Pista: " + pista
    return ""


def llamar(fn: Callable, *args, **kwargs):
    """Llama al código del estudiante traduciendo sus excepciones.

    Devuelve:
        Lo que devuelva ``fn``.

    Lanza:
        SinResolver si ``fn`` lanza ``NotImplementedError``; ErrorDelEstudiante con
        cualquier otra excepción.
    """
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as err:
        raise SinResolver(str(err)) from None
    except Exception as err:  # cualquier fallo del estudiante se informa, no se propaga
        raise ErrorDelEstudiante(err) from None


@dataclass
class Resultado:
    """Resultado de comprobar un ejercicio.

    Atributos:
        ejercicio: identificador corto (p. ej. "atencion").
        titulo: lo que se comprueba (p. ej. "scaled_dot_product_attention").
        estado: "correcto", "incorrecto", "sin resolver" o "error".
        puntos, puntos_max: puntuación obtenida y máxima (todo o nada por ejercicio).
        superadas, total: pruebas superadas y ejecutadas.
        mensajes: explicaciones de lo que falla, con pistas.
    """

    ejercicio: str
    titulo: str
    estado: str
    puntos: float
    puntos_max: float
    superadas: int = 0
    total: int = 0
    mensajes: list[str] = field(default_factory=list)
    notas: list[str] = field(default_factory=list)

    @property
    def correcto(self) -> bool:
        return self.estado == CORRECTO

    def texto(self) -> str:
        """El informe del ejercicio en español, listo para imprimir."""
        icono = _ICONOS.get(self.estado, "•")
        pruebas = f", {self.superadas}/{self.total} pruebas" if self.total else ""
        cabecera = (
            f"{icono} {self.titulo}: {self.estado.upper()} "
            f"({_fmt(self.puntos)}/{_fmt(self.puntos_max)} puntos{pruebas})"
        )
        lineas = [cabecera]
        for m in self.mensajes:
            lineas.append(_sangrar("• " + m))
        for n in self.notas:
            lineas.append(_sangrar("ℹ️ " + n))
        if self.estado == CORRECTO:
            lineas.append("   ¡Bien hecho! Todas las pruebas, también las ocultas, salen bien.")
        return "\n".join(lineas)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Resultado:
        return cls(**d)

    def __repr__(self) -> str:
        return f"Resultado({self.ejercicio!r}: {self.estado}, {_fmt(self.puntos)}/{_fmt(self.puntos_max)})"


def _fmt(x: float) -> str:
    return f"{x:g}"


def _sangrar(texto: str, n: int = 3) -> str:
    pad = " " * n
    return "\n".join(pad + linea if i == 0 else pad + "  " + linea for i, linea in enumerate(texto.split("\n")))


class Comprobador:
    """Ejecuta las pruebas de un ejercicio y reúne un :class:`Resultado`.

    Uso::

        c = Comprobador("atencion", "scaled_dot_product_attention", puntos=7)
        c.prueba("caso básico", lambda: ...)   # la lambda lanza Fallo si algo va mal
        return c.resultado()

    Tras el primer ``SinResolver`` deja de ejecutar pruebas.
    """

    def __init__(self, ejercicio: str, titulo: str, puntos: float):
        self.ejercicio, self.titulo, self.puntos_max = ejercicio, titulo, puntos
        self.superadas = 0
        self.total = 0
        self.fallos: dict[str, list[str]] = {}  # mensaje -> pruebas en que aparece
        self.sin_resolver: str | None = None
        self.error_grave: str | None = None
        self.notas: list[str] = []

    @property
    def detenido(self) -> bool:
        return self.sin_resolver is not None or self.error_grave is not None

    def prueba(self, descripcion: str, fn: Callable[[], None]) -> bool:
        """Ejecuta una prueba; devuelve True si se supera."""
        if self.detenido:
            return False
        self.total += 1
        try:
            fn()
        except SinResolver:
            self.total -= 1
            self.sin_resolver = (
                "Aún no has escrito tu solución: tu código lanza NotImplementedError. Sustituye "
                "la línea `raise NotImplementedError()` por tu implementación y vuelve a "
                "ejecutar la celda."
            )
            return False
        except Fallo as f:
            self._anotar(descripcion, str(f))
            return False
        except ErrorDelEstudiante as e:
            self._anotar(descripcion, f"Tu código lanzó {e}.{pista_para(e.original)}")
            return False
        except Exception as err:  # p. ej. devolviste algo que no es un tensor
            self._anotar(
                descripcion,
                f"No pude comprobar tu resultado ({describir_excepcion(err)}). "
                "¿Devuelve tu código lo que pide el enunciado?",
            )
            return False
        self.superadas += 1
        return True

    def nota(self, texto: str) -> None:
        """Añade información que se muestra aunque el ejercicio esté bien."""
        self.notas.append(texto)

    def marcar_sin_resolver(self, mensaje: str) -> None:
        """Marca el ejercicio como sin resolver (p. ej. falta una de sus funciones)."""
        self.sin_resolver = mensaje

    def detener(self, mensaje: str) -> None:
        """Marca un error que impide seguir (p. ej. nombres de parámetros equivocados)."""
        self.total += 1
        self.error_grave = mensaje

    def _anotar(self, descripcion: str, mensaje: str) -> None:
        self.fallos.setdefault(mensaje, []).append(descripcion)

    @property
    def mensajes(self) -> list[str]:
        """Un mensaje por causa de fallo, con las pruebas en que aparece."""
        out = []
        for mensaje, pruebas in self.fallos.items():
            donde = f"«{pruebas[0]}»"
            if len(pruebas) > 1:
                donde += f" y {len(pruebas) - 1} prueba(s) más"
            out.append(f"[{donde}] {mensaje}")
        return out

    def resultado(self) -> Resultado:
        if self.sin_resolver is not None:
            return Resultado(self.ejercicio, self.titulo, SIN_RESOLVER, 0, self.puntos_max,
                             self.superadas, self.total, [self.sin_resolver])
        mensajes = list(self.mensajes)
        if self.error_grave is not None:
            mensajes.insert(0, self.error_grave)
        if len(mensajes) > MAX_MENSAJES:
            resto = len(mensajes) - MAX_MENSAJES
            mensajes = mensajes[:MAX_MENSAJES] + [f"(y {resto} fallo(s) más; corrige primero estos)"]
        if self.superadas == self.total and self.total > 0 and self.error_grave is None:
            return Resultado(self.ejercicio, self.titulo, CORRECTO, self.puntos_max, self.puntos_max,
                             self.superadas, self.total, [], self.notas)
        return Resultado(self.ejercicio, self.titulo, INCORRECTO, 0, self.puntos_max,
                         self.superadas, self.total, mensajes, self.notas)


def resultado_sin_resolver(ejercicio: str, titulo: str, puntos: float, mensaje: str) -> Resultado:
    """Resultado de un ejercicio que no se puede comprobar porque falta lo que pide."""
    return Resultado(ejercicio, titulo, SIN_RESOLVER, 0, puntos, 0, 0, [mensaje])


def resultado_error(ejercicio: str, titulo: str, puntos: float, mensaje: str) -> Resultado:
    """Resultado de un ejercicio cuya comprobación no pudo ni empezar."""
    return Resultado(ejercicio, titulo, ERROR, 0, puntos, 0, 0, [mensaje])


@contextlib.contextmanager
def entorno_aislado() -> Iterator[None]:
    """Protege el estado global del estudiante: generador aleatorio y modo de gradiente."""
    with torch.random.fork_rng(devices=[]), torch.enable_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # los avisos de PyTorch ensuciarían el informe
        yield


def generador(semilla: int) -> torch.Generator:
    """Generador de PyTorch propio de las comprobaciones (no toca la semilla global)."""
    return torch.Generator().manual_seed(semilla)


def es_tensor(x, que: str = "Tu código") -> torch.Tensor:
    """Comprueba que ``x`` sea un tensor; si no, lanza un Fallo explicativo."""
    if not isinstance(x, torch.Tensor):
        raise Fallo(f"{que} debe devolver un torch.Tensor y devolvió {type(x).__name__}.")
    return x


def tolerancias(dtype: torch.dtype) -> dict:
    """Tolerancias de comparación según el tipo de dato."""
    if dtype == torch.float64:
        return {"atol": 1e-9, "rtol": 1e-7}
    return {"atol": 2e-5, "rtol": 1e-4}


def parecidos(a: torch.Tensor, b: torch.Tensor, dtype: torch.dtype | None = None) -> bool:
    """True si ``a`` y ``b`` tienen la misma forma y valores cercanos (NaN = NaN)."""
    if not isinstance(a, torch.Tensor) or not isinstance(b, torch.Tensor) or a.shape != b.shape:
        return False
    tol = tolerancias(dtype or b.dtype)
    return bool(torch.allclose(a.detach().double(), b.detach().double(), equal_nan=True, **tol))


def max_diferencia(a: torch.Tensor, b: torch.Tensor) -> float:
    """Máxima diferencia absoluta entre dos tensores de la misma forma (ignora NaN)."""
    d = (a.detach().double() - b.detach().double()).abs()
    d = d[~torch.isnan(d)]
    return float(d.max()) if d.numel() else math.nan


def forma(t: torch.Tensor | torch.Size | tuple) -> str:
    """Forma de un tensor como texto: (2, 5, 8)."""
    shape = t.shape if isinstance(t, torch.Tensor) else t
    return str(tuple(shape))


def fuente(obj) -> str:
    """Código fuente de una función o clase del estudiante (cadena vacía si no se puede leer)."""
    import inspect

    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return ""


def comprobacion(ejercicio: str, titulo: str, puntos: float, falta: str | None = None):
    """Decorador que convierte una función de pruebas en una comprobación «a prueba de todo».

    La función decorada recibe un :class:`Comprobador` y el objeto del estudiante. La
    comprobación resultante:

    - informa de «sin resolver» si el objeto es None;
    - aísla el generador aleatorio global del estudiante;
    - nunca lanza: cualquier excepción inesperada se convierte en un resultado de error;
    - imprime el informe en español si ``mostrar=True`` (lo normal en el cuaderno) y
      devuelve el :class:`Resultado`.
    """

    def decorador(pruebas: Callable) -> Callable:
        def comprobar(objeto=None, *args, mostrar: bool = True, **kwargs) -> Resultado:
            try:
                if objeto is None:
                    res = resultado_sin_resolver(
                        ejercicio, titulo, puntos,
                        falta or f"No encuentro tu `{titulo}`: ¿has ejecutado la celda del ejercicio?",
                    )
                else:
                    c = Comprobador(ejercicio, titulo, puntos)
                    with entorno_aislado():
                        pruebas(c, objeto, *args, **kwargs)
                    res = c.resultado()
            except Exception as err:  # un fallo del propio comprobador no debe romper tu cuaderno
                res = resultado_error(
                    ejercicio, titulo, puntos,
                    f"La comprobación no pudo terminar ({describir_excepcion(err)}).{pista_para(err)} "
                    "Si tu código parece correcto, avisa a tu profesor.",
                )
            if mostrar:
                print(res.texto())
            return res

        comprobar.__name__ = pruebas.__name__
        comprobar.__qualname__ = pruebas.__qualname__
        comprobar.__doc__ = pruebas.__doc__
        comprobar.ejercicio = ejercicio
        comprobar.titulo = titulo
        comprobar.puntos = puntos
        return comprobar

    return decorador
