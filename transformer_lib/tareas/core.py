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
CORRECT, WRONG, UNSOLVED, ERROR = "correcto", "incorrecto", "sin resolver", "error"

_ICONS = {CORRECT: "✅", WRONG: "❌", UNSOLVED: "⏳", ERROR: "💥"}
#: Máximo de mensajes de fallo distintos que se muestran por ejercicio.
MAX_MESSAGES = 3


class Unsolved(Exception):
    """El código del estudiante lanzó ``NotImplementedError`` (o no existe todavía)."""


class Failure(Exception):
    """Una prueba no se superó; el mensaje explica por qué y da una pista."""


class StudentError(Exception):
    """El código del estudiante lanzó una excepción (que no es ``NotImplementedError``)."""

    def __init__(self, original: BaseException):
        self.original = original
        super().__init__(describe_exception(original))


def describe_exception(err: BaseException) -> str:
    """Tipo y mensaje de una excepción en una línea (sin traza), recortado si es muy largo."""
    text = " ".join(str(err).split())
    if len(text) > 300:
        text = text[:297] + "…"
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


_ERROR_HINTS = (
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


def hint_for(err: BaseException) -> str:
    """Una pista en español para los errores de PyTorch más comunes (o cadena vacía)."""
    text = str(err)
    for pattern, hint in _ERROR_HINTS:
        if pattern.lower() in text.lower():
            return " Pista: " + hint
    return ""


def call_student(fn: Callable, *args, **kwargs):
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
        raise Unsolved(str(err)) from None
    except Exception as err:  # cualquier fallo del estudiante se informa, no se propaga
        raise StudentError(err) from None


@dataclass
class Result:
    """Resultado de comprobar un ejercicio.

    Atributos:
        exercise: identificador corto (p. ej. "atencion").
        title: lo que se comprueba (p. ej. "scaled_dot_product_attention").
        status: "correcto", "incorrecto", "sin resolver" o "error".
        points, max_points: puntuación obtenida y máxima (todo o nada por ejercicio).
        passed, total: pruebas superadas y ejecutadas.
        messages: explicaciones de lo que falla, con pistas.
    """

    exercise: str
    title: str
    status: str
    points: float
    max_points: float
    passed: int = 0
    total: int = 0
    messages: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def correct(self) -> bool:
        return self.status == CORRECT

    def text(self) -> str:
        """El informe del ejercicio en español, listo para imprimir."""
        icon = _ICONS.get(self.status, "•")
        tests_fn = f", {self.passed}/{self.total} pruebas" if self.total else ""
        header = (
            f"{icon} {self.title}: {self.status.upper()} "
            f"({_fmt(self.points)}/{_fmt(self.max_points)} puntos{tests_fn})"
        )
        lines = [header]
        for m in self.messages:
            lines.append(_indent("• " + m))
        for n in self.notes:
            lines.append(_indent("ℹ️ " + n))
        if self.status == CORRECT:
            lines.append("   ¡Bien hecho! Todas las pruebas, también las ocultas, salen bien.")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Result:
        return cls(**d)

    def __repr__(self) -> str:
        return f"Result({self.exercise!r}: {self.status}, {_fmt(self.points)}/{_fmt(self.max_points)})"


def _fmt(x: float) -> str:
    return f"{x:g}"


def _indent(text: str, n: int = 3) -> str:
    pad = " " * n
    return "\n".join(pad + line if i == 0 else pad + "  " + line for i, line in enumerate(text.split("\n")))


class Checker:
    """Ejecuta las pruebas de un ejercicio y reúne un :class:`Result`.

    Uso::

        c = Comprobador("atencion", "scaled_dot_product_attention", puntos=7)
        c.prueba("caso básico", lambda: ...)   # la lambda lanza Fallo si algo va mal
        return c.resultado()

    Tras el primer ``SinResolver`` deja de ejecutar pruebas.
    """

    def __init__(self, exercise: str, title: str, points: float):
        self.exercise, self.title, self.max_points = exercise, title, points
        self.passed = 0
        self.total = 0
        self.failures: dict[str, list[str]] = {}  # mensaje -> pruebas en que aparece
        self.unsolved: str | None = None
        self.fatal_error: str | None = None
        self.notes: list[str] = []

    @property
    def stopped(self) -> bool:
        return self.unsolved is not None or self.fatal_error is not None

    def run_test(self, description: str, fn: Callable[[], None]) -> bool:
        """Ejecuta una prueba; devuelve True si se supera."""
        if self.stopped:
            return False
        self.total += 1
        try:
            fn()
        except Unsolved:
            self.total -= 1
            self.unsolved = (
                "Aún no has escrito tu solución: tu código lanza NotImplementedError. Sustituye "
                "la línea `raise NotImplementedError()` por tu implementación y vuelve a "
                "ejecutar la celda."
            )
            return False
        except Failure as f:
            self._record(description, str(f))
            return False
        except StudentError as e:
            self._record(description, f"Tu código lanzó {e}.{hint_for(e.original)}")
            return False
        except Exception as err:  # p. ej. devolviste algo que no es un tensor
            self._record(
                description,
                f"No pude comprobar tu resultado ({describe_exception(err)}). "
                "¿Devuelve tu código lo que pide el enunciado?",
            )
            return False
        self.passed += 1
        return True

    def note(self, text: str) -> None:
        """Añade información que se muestra aunque el ejercicio esté bien."""
        self.notes.append(text)

    def mark_unsolved(self, message: str) -> None:
        """Marca el ejercicio como sin resolver (p. ej. falta una de sus funciones)."""
        self.unsolved = message

    def stop(self, message: str) -> None:
        """Marca un error que impide seguir (p. ej. nombres de parámetros equivocados)."""
        self.total += 1
        self.fatal_error = message

    def _record(self, description: str, message: str) -> None:
        self.failures.setdefault(message, []).append(description)

    @property
    def messages(self) -> list[str]:
        """Un mensaje por causa de fallo, con las pruebas en que aparece."""
        out = []
        for message, tests_fn in self.failures.items():
            where = f"«{tests_fn[0]}»"
            if len(tests_fn) > 1:
                where += f" y {len(tests_fn) - 1} prueba(s) más"
            out.append(f"[{where}] {message}")
        return out

    def result(self) -> Result:
        if self.unsolved is not None:
            return Result(self.exercise, self.title, UNSOLVED, 0, self.max_points,
                             self.passed, self.total, [self.unsolved])
        messages = list(self.messages)
        if self.fatal_error is not None:
            messages.insert(0, self.fatal_error)
        if len(messages) > MAX_MESSAGES:
            rest = len(messages) - MAX_MESSAGES
            messages = messages[:MAX_MESSAGES] + [f"(y {rest} fallo(s) más; corrige primero estos)"]
        if self.passed == self.total and self.total > 0 and self.fatal_error is None:
            return Result(self.exercise, self.title, CORRECT, self.max_points, self.max_points,
                             self.passed, self.total, [], self.notes)
        return Result(self.exercise, self.title, WRONG, 0, self.max_points,
                         self.passed, self.total, messages, self.notes)


def unsolved_result(exercise: str, title: str, points: float, message: str) -> Result:
    """Resultado de un ejercicio que no se puede comprobar porque falta lo que pide."""
    return Result(exercise, title, UNSOLVED, 0, points, 0, 0, [message])


def error_result(exercise: str, title: str, points: float, message: str) -> Result:
    """Resultado de un ejercicio cuya comprobación no pudo ni empezar."""
    return Result(exercise, title, ERROR, 0, points, 0, 0, [message])


@contextlib.contextmanager
def isolated_state() -> Iterator[None]:
    """Protege el estado global del estudiante: generador aleatorio y modo de gradiente."""
    with torch.random.fork_rng(devices=[]), torch.enable_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # los avisos de PyTorch ensuciarían el informe
        yield


def checker_rng(seed: int) -> torch.Generator:
    """Generador de PyTorch propio de las comprobaciones (no toca la semilla global)."""
    return torch.Generator().manual_seed(seed)


def ensure_tensor(x, what: str = "Tu código") -> torch.Tensor:
    """Comprueba que ``x`` sea un tensor; si no, lanza un Fallo explicativo."""
    if not isinstance(x, torch.Tensor):
        raise Failure(f"{what} debe devolver un torch.Tensor y devolvió {type(x).__name__}.")
    return x


def tolerances(dtype: torch.dtype) -> dict:
    """Tolerancias de comparación según el tipo de dato."""
    if dtype == torch.float64:
        return {"atol": 1e-9, "rtol": 1e-7}
    return {"atol": 2e-5, "rtol": 1e-4}


def close(a: torch.Tensor, b: torch.Tensor, dtype: torch.dtype | None = None) -> bool:
    """True si ``a`` y ``b`` tienen la misma forma y valores cercanos (NaN = NaN)."""
    if not isinstance(a, torch.Tensor) or not isinstance(b, torch.Tensor) or a.shape != b.shape:
        return False
    tol = tolerances(dtype or b.dtype)
    return bool(torch.allclose(a.detach().double(), b.detach().double(), equal_nan=True, **tol))


def max_difference(a: torch.Tensor, b: torch.Tensor) -> float:
    """Máxima diferencia absoluta entre dos tensores de la misma forma (ignora NaN)."""
    d = (a.detach().double() - b.detach().double()).abs()
    d = d[~torch.isnan(d)]
    return float(d.max()) if d.numel() else math.nan


def shape_str(t: torch.Tensor | torch.Size | tuple) -> str:
    """Forma de un tensor como texto: (2, 5, 8)."""
    shape = t.shape if isinstance(t, torch.Tensor) else t
    return str(tuple(shape))


def source_of(obj) -> str:
    """Código fuente de una función o clase del estudiante (cadena vacía si no se puede leer)."""
    import inspect

    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return ""


def exercise_check(exercise: str, title: str, points: float, missing_message: str | None = None):
    """Decorador que convierte una función de pruebas en una comprobación «a prueba de todo».

    La función decorada recibe un :class:`Checker` y el objeto del estudiante. La
    comprobación resultante:

    - informa de «sin resolver» si el objeto es None;
    - aísla el generador aleatorio global del estudiante;
    - nunca lanza: cualquier excepción inesperada se convierte en un resultado de error;
    - imprime el informe en español si ``mostrar=True`` (lo normal en el cuaderno) y
      devuelve el :class:`Result`.
    """

    def decorator(tests_fn: Callable) -> Callable:
        def check(obj=None, *args, show: bool = True, **kwargs) -> Result:
            try:
                if obj is None:
                    res = unsolved_result(
                        exercise, title, points,
                        missing_message or f"No encuentro tu `{title}`: ¿has ejecutado la celda del ejercicio?",
                    )
                else:
                    c = Checker(exercise, title, points)
                    with isolated_state():
                        tests_fn(c, obj, *args, **kwargs)
                    res = c.result()
            except Exception as err:  # un fallo del propio comprobador no debe romper tu cuaderno
                res = error_result(
                    exercise, title, points,
                    f"La comprobación no pudo terminar ({describe_exception(err)}).{hint_for(err)} "
                    "Si tu código parece correcto, avisa a tu profesor.",
                )
            if show:
                print(res.text())
            return res

        check.__name__ = tests_fn.__name__
        check.__qualname__ = tests_fn.__qualname__
        check.__doc__ = tests_fn.__doc__
        check.exercise = exercise
        check.title = title
        check.points = points
        return check

    return decorator
