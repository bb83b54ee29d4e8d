"""Lo común de las comprobaciones: el resultado de un ejercicio, los tipos de fallo y el informe.

Las comprobaciones **nunca** dejan escapar una excepción del estudiante: el ejecutor la
registra (tipo y texto, sin traza) y aquí se convierte en un mensaje en español.
``NotImplementedError`` significa «aún sin resolver». :class:`Checker` ordena el informe:
primero lo estructural, después lo demás y las diferencias numéricas en una sola línea.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

#: Estados posibles de un ejercicio.
CORRECT, WRONG, UNSOLVED, ERROR = "correcto", "incorrecto", "sin resolver", "error"

_ICONS = {CORRECT: "✅", WRONG: "❌", UNSOLVED: "⏳", ERROR: "💥"}
#: Máximo de fallos «de otro tipo» que se muestran por ejercicio (los estructurales, todos).
MAX_MESSAGES = 3
UNSOLVED_MESSAGE = (
    "Aún no has escrito tu solución: tu código lanza NotImplementedError. Sustituye "
    "la línea `raise NotImplementedError()` por tu implementación y vuelve a "
    "ejecutar la celda."
)


class Unsolved(Exception):
    """El código del estudiante lanzó ``NotImplementedError`` (o no existe todavía)."""


#: Tipos de fallo, por orden de importancia en el informe.
STRUCTURAL, OTHER, NUMERIC = "estructural", "otro", "numérico"


class Failure(Exception):
    """Una prueba no se superó; el mensaje explica por qué y da una pista.

    Parámetros:
        message: la explicación, en español.
        kind: :data:`STRUCTURAL` (un error de concepto reconocido: causalidad, máscara,
            escala, eje…), :data:`OTHER` (forma, tipo, entradas modificadas…) o
            :data:`NUMERIC` (los números no coinciden y no sé por qué; ``message`` es la pista).
        diff: diferencia máxima con la referencia (solo en los numéricos).
    """

    def __init__(self, message: str, kind: str = OTHER, diff: float | None = None):
        super().__init__(message)
        self.kind, self.diff = kind, diff


def structural(message: str) -> Failure:
    """Un fallo estructural (se muestra siempre, antes que los demás)."""
    return Failure(message, STRUCTURAL)


def numeric(hint: str, diff: float | None) -> Failure:
    """Una diferencia numérica sin diagnóstico (todas se agrupan en una línea del informe)."""
    return Failure(hint, NUMERIC, diff)


class StudentError(Exception):
    """El código del estudiante lanzó una excepción (que no es ``NotImplementedError``).

    Parámetros:
        error: el registro de la excepción que devuelve el ejecutor (``type``, ``message``).
    """

    def __init__(self, error: dict):
        self.type, self.message = str(error.get("type", "Exception")), str(error.get("message", ""))
        text = self.message if len(self.message) <= 300 else self.message[:297] + "…"
        super().__init__(f"{self.type}: {text}" if text else self.type)


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


def hint_for(err: BaseException | str) -> str:
    """Una pista en español para los errores de PyTorch más comunes (o cadena vacía)."""
    text = str(err)
    for pattern, hint in _ERROR_HINTS:
        if pattern.lower() in text.lower():
            return " Pista: " + hint
    return ""


@dataclass(frozen=True)
class ScoreGroup:
    """Un grupo de pruebas de un ejercicio con nombre y puntos: se ganan si pasan todas las suyas.

    Atributos:
        id: identificador corto (el de ``--grupo``).
        name: nombre legible, el que ve el estudiante en el informe.
        points: puntos del grupo.
        pattern: expresión regular que se busca en la descripción de cada prueba; la prueba es
            del primer grupo cuya expresión la encuentra. ``""`` (solo en el último grupo)
            recoge las demás.
    """

    id: str
    name: str
    points: float
    pattern: str = ""

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z0-9_]+", self.id):
            raise ValueError(f"El id de un grupo debe ser minúsculas, cifras o _ y es {self.id!r}.")
        if not self.points > 0:
            raise ValueError(f"El grupo {self.id!r} debe dar puntos positivos y da {self.points!r}.")


def group_of(groups: tuple[ScoreGroup, ...], description: str) -> ScoreGroup:
    """El grupo de una prueba: el primero cuya expresión aparece en su descripción."""
    for group in groups:
        if not group.pattern or re.search(group.pattern, description):
            return group
    raise ValueError(f"La prueba «{description}» no cae en ningún grupo: {[g.id for g in groups]}.")


@dataclass
class Result:
    """Resultado de comprobar un ejercicio.

    Atributos:
        exercise: identificador corto (p. ej. "atencion").
        title: lo que se comprueba (p. ej. "scaled_dot_product_attention").
        status: "correcto", "incorrecto", "sin resolver" o "error".
        points, max_points: puntuación obtenida y máxima: la suma de los grupos de pruebas
            que pasan enteros.
        passed, total: pruebas superadas y ejecutadas.
        messages: explicaciones de lo que falla, con pistas.
        groups: un diccionario por grupo de pruebas (``id``, ``name``, ``points``,
            ``max_points``, ``passed``, ``total``).
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
    groups: list[dict] = field(default_factory=list)

    @property
    def correct(self) -> bool:
        return self.status == CORRECT

    def group(self, group_id: str) -> dict | None:
        """El grupo ``group_id`` de este resultado (None si no lo tiene)."""
        return next((g for g in self.groups if g["id"] == group_id), None)

    def group_passed(self, group_id: str) -> bool:
        """True si el grupo ``group_id`` se llevó todos sus puntos."""
        g = self.group(group_id)
        return g is not None and g["points"] == g["max_points"]

    def text(self) -> str:
        """El informe del ejercicio en español, listo para imprimir."""
        icon = _ICONS.get(self.status, "•")
        tests_fn = f", {self.passed}/{self.total} pruebas" if self.total else ""
        header = (
            f"{icon} {self.title}: {self.status.upper()} "
            f"({_fmt(self.points)}/{_fmt(self.max_points)} puntos{tests_fn})"
        )
        lines = [header]
        if len(self.groups) > 1 and any(g["total"] for g in self.groups):
            for g in self.groups:
                mark = "✔" if g["points"] == g["max_points"] else "✘"
                lines.append(f"   {mark} {g['name']}: {_fmt(g['points'])}/{_fmt(g['max_points'])} puntos "
                             f"({g['passed']}/{g['total']} pruebas)")
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
    """Ejecuta las pruebas de un ejercicio y reúne un :class:`Result` con los fallos ordenados.

    Uso::

        c = Checker("atencion", "scaled_dot_product_attention", points=7)
        c.run_test("caso básico", lambda: ...)   # la lambda lanza Failure si algo va mal
        return c.result()

    Orden del informe: primero el error que impide seguir (``stop``), después los hallazgos
    estructurales (causalidad, convención de la máscara, escala, eje…), que nunca se
    recortan; luego los demás fallos (como mucho :data:`MAX_MESSAGES`) y, al final, una sola
    línea con todas las diferencias numéricas sin diagnóstico. Tras el primer ``Unsolved``
    deja de ejecutar pruebas.
    """

    def __init__(self, exercise: str, title: str, points: float, groups: tuple[ScoreGroup, ...] = ()):
        self.exercise, self.title, self.max_points = exercise, title, points
        self.groups = groups or (ScoreGroup("todo", title, points),)
        if abs(sum(g.points for g in self.groups) - points) > 1e-9:
            raise ValueError(f"Los grupos de {exercise} suman {sum(g.points for g in self.groups):g} puntos "
                             f"y el ejercicio vale {points:g}.")
        self.group_counts = {g.id: [0, 0] for g in self.groups}  # id -> [superadas, ejecutadas]
        self.passed = 0
        self.total = 0
        self.failures: dict[tuple[str, str], list[str]] = {}  # (tipo, mensaje) -> pruebas
        self.numeric: list[tuple[str, Failure]] = []
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
        counts = self.group_counts[group_of(self.groups, description).id]
        counts[1] += 1
        try:
            fn()
        except Unsolved:
            self.total -= 1
            counts[1] -= 1
            self.unsolved = UNSOLVED_MESSAGE
            return False
        except Failure as f:
            if f.kind == NUMERIC:
                self.numeric.append((description, f))
            else:
                self.failures.setdefault((f.kind, str(f)), []).append(description)
            return False
        except StudentError as e:
            self._record(description, f"Tu código lanzó {e}.{hint_for(e.message)}")
            return False
        except Exception as err:  # p. ej. devolviste algo que no es un tensor
            self._record(
                description,
                f"No pude comprobar tu resultado ({describe_exception(err)}). "
                "¿Devuelve tu código lo que pide el enunciado?",
            )
            return False
        self.passed += 1
        counts[0] += 1
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
        self.failures.setdefault((OTHER, message), []).append(description)

    @staticmethod
    def _where(tests: list[str]) -> str:
        where = f"«{tests[0]}»"
        if len(tests) > 1:
            where += f" y {len(tests) - 1} prueba(s) más"
        return where

    @property
    def messages(self) -> list[str]:
        """Los mensajes del informe, ordenados (ver la cabecera de la clase)."""
        structural = [f"[{self._where(t)}] {m}" for (k, m), t in self.failures.items() if k == STRUCTURAL]
        other = [f"[{self._where(t)}] {m}" for (k, m), t in self.failures.items() if k == OTHER]
        if len(other) > MAX_MESSAGES:
            rest = len(other) - MAX_MESSAGES
            other = other[:MAX_MESSAGES] + [f"(y {rest} fallo(s) más de otro tipo; corrige primero estos)"]
        out = ([self.fatal_error] if self.fatal_error else []) + structural + other
        if self.numeric:
            tests = [d for d, _ in self.numeric]
            diffs = [f.diff for _, f in self.numeric if f.diff is not None]
            worst = f" (diferencia máxima {max(diffs):.3g})" if diffs else ""
            out.append(f"[{self._where(tests)}] Tu resultado no coincide con la referencia{worst}. {self.numeric[0][1]}")
        return out

    def _group_results(self) -> list[dict]:
        """Puntos de cada grupo: los suyos si pasan todas sus pruebas (y al menos una), si no 0."""
        out = []
        for g in self.groups:
            passed, total = self.group_counts[g.id]
            earned = g.points if (total > 0 and passed == total and not self.stopped) else 0
            out.append({"id": g.id, "name": g.name, "points": earned, "max_points": g.points,
                        "passed": passed, "total": total})
        return out

    def result(self) -> Result:
        groups = self._group_results()
        if self.unsolved is not None:
            return Result(self.exercise, self.title, UNSOLVED, 0, self.max_points,
                          self.passed, self.total, [self.unsolved], groups=groups)
        if self.passed == self.total and self.total > 0 and self.fatal_error is None:
            return Result(self.exercise, self.title, CORRECT, self.max_points, self.max_points,
                          self.passed, self.total, [], self.notes, groups)
        return Result(self.exercise, self.title, WRONG, sum(g["points"] for g in groups), self.max_points,
                      self.passed, self.total, self.messages, self.notes, groups)


def unsolved_result(exercise: str, title: str, points: float, message: str) -> Result:
    """Resultado de un ejercicio que no se puede comprobar porque falta lo que pide."""
    return Result(exercise, title, UNSOLVED, 0, points, 0, 0, [message])


def error_result(exercise: str, title: str, points: float, message: str) -> Result:
    """Resultado de un ejercicio cuya comprobación no pudo ni empezar."""
    return Result(exercise, title, ERROR, 0, points, 0, 0, [message])
