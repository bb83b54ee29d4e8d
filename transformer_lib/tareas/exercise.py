"""Un ejercicio: cómo se preparan sus casos, cómo se juzgan y qué operaciones prohíbe.

El mismo código sirve a las dos formas de comprobar:

- en el cuaderno, ``check_attention(tu_funcion)`` prepara los casos, los ejecuta con
  :func:`~transformer_lib.tareas.runner.evaluate` en el propio proceso y los juzga (es una
  ayuda para ti: si la engañas, solo te engañas a ti);
- al calificar, el calificador prepara los casos, el kernel del cuaderno solo los ejecuta
  (:func:`~transformer_lib.tareas.runner.run_request`) y el calificador juzga la respuesta
  en su propio proceso (:func:`judge_answer`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .core import (
    Checker,
    Result,
    ScoreGroup,
    describe_exception,
    error_result,
    hint_for,
    unsolved_result,
)
from .runner import evaluate, for_kernel, transport


@dataclass(frozen=True)
class ExerciseSpec:
    """Lo que define un ejercicio.

    Atributos:
        id: identificador corto (el de ``--ejercicio``).
        title: lo que se comprueba (p. ej. ``"scaled_dot_product_attention"``).
        points: puntos del ejercicio, repartidos entre ``groups``.
        names: nombres del cuaderno que usa, por orden.
        build: ``build(seed) -> casos`` (lista de diccionarios del formato del ejecutor, con
            una ``"description"``).
        judge: ``judge(checker, casos, respuestas)``: compara y diagnostica.
        seed: semilla de las comprobaciones del cuaderno (al calificar se sortea otra).
        forbidden: ``(prefijo, nombre legible)`` de las operaciones prohibidas (ver
            :mod:`~transformer_lib.tareas.runner`: ``torch:…``, ``aten:…``, ``lib:…``).
        forbidden_hint: qué se pide en su lugar (se añade al mensaje).
        missing: mensaje si falta el primer nombre (None: uno genérico).
        uses_data: si ``judge`` necesita el Quijote (recibe ``data=``).
        groups: grupos de pruebas con nombre y puntos (suman ``points``); cada uno se gana
            entero si pasan todas sus pruebas. Vacío: un solo grupo, todo o nada.
    """

    id: str
    title: str
    points: float
    names: tuple[str, ...]
    build: Callable[[int], list[dict]]
    judge: Callable[[Checker, list[dict], list[dict]], None]
    seed: int
    forbidden: tuple[tuple[str, str], ...] = ()
    forbidden_hint: str = "aquí se trata de escribirlo tú con operaciones básicas de PyTorch."
    missing: str | None = None
    uses_data: bool = False
    groups: tuple[ScoreGroup, ...] = ()

    def __post_init__(self) -> None:
        Checker(self.id, self.title, self.points, self.groups)  # comprueba que los grupos suman los puntos

    @property
    def score_groups(self) -> tuple[ScoreGroup, ...]:
        """Los grupos de pruebas (uno solo, con todos los puntos, si no se definieron)."""
        return Checker(self.id, self.title, self.points, self.groups).groups


def judge_each(judge_case: Callable[[dict, dict], None], stop_if_first_fails: bool = False):
    """Un ``judge`` que juzga cada caso con ``judge_case(caso, respuesta)`` como una prueba.

    Parámetros:
        judge_case: lanza ``Failure`` si el caso no sale bien.
        stop_if_first_fails: si el primer caso (crear el módulo) falla, no se sigue.
    """

    def judge(c: Checker, cases: list[dict], answer: dict) -> None:
        for i, (case, got) in enumerate(zip(cases, answer["cases"])):
            passed = c.run_test(case["description"], lambda case=case, got=got: judge_case(case, got))
            if i == 0 and not passed and stop_if_first_fails:
                return

    return judge


def _calls(answer_case: dict) -> list[dict]:
    return list(answer_case.get("calls", []))


def forbidden_use(spec: ExerciseSpec, answer: dict) -> str | None:
    """El mensaje si el código usó una operación prohibida (o si no se pudo observar nada)."""
    if not spec.forbidden:
        return None
    seen = {op for case in answer["cases"] for call in _calls(case) for op in call.get("ops", [])}
    for prefix, name in spec.forbidden:
        if any(op.startswith(prefix) for op in seen):
            return (f"Tu código usa {name} (da igual con qué nombre lo importes: cuenta lo que se "
                    f"ejecuta), y {spec.forbidden_hint}")
    if not any(prefix.startswith(("torch:", "aten:")) for prefix, _ in spec.forbidden):
        return None  # solo se prohíben clases de la biblioteca: se ven también en la estructura
    ran = [call for case in answer["cases"] for call in _calls(case) if call.get("error") is None]
    if ran and not any(op.startswith("aten:") for call in ran for op in call.get("ops", [])):
        return ("No pude observar ninguna operación de PyTorch mientras se ejecutaba tu código. ¿Has "
                "desactivado los modos de PyTorch o `sys.setprofile`? Sin eso no puedo calificarte.")
    return None


def judge_answer(spec: ExerciseSpec, cases: list[dict], answer: dict | None) -> Result:
    """Juzga la respuesta del ejecutor a los casos de un ejercicio; nunca lanza.

    Parámetros:
        spec: el ejercicio.
        cases: los casos que se enviaron.
        answer: lo que devolvió :func:`~transformer_lib.tareas.runner.evaluate` (None si el
            cuaderno no llegó a ejecutarlo).
    """
    if not isinstance(answer, dict) or "failed" in answer or len(answer.get("cases", [])) not in (0, len(cases)):
        detail = answer["failed"]["message"] if isinstance(answer, dict) and "failed" in answer else ""
        return error_result(spec.id, spec.title, spec.points,
                            "No pude ejecutar las pruebas en tu cuaderno" + (f" ({detail})" if detail else "")
                            + ". ¿Falló al ejecutarse alguna de sus celdas?")
    if answer["missing"]:
        name = answer["missing"][0]
        message = spec.missing if (spec.missing and name == spec.names[0]) else (
            f"No encuentro `{name}` en tu cuaderno: ¿has ejecutado su celda, o la has borrado o renombrado?")
        return unsolved_result(spec.id, spec.title, spec.points, message)
    try:
        checker = Checker(spec.id, spec.title, spec.points, spec.groups)
        forbidden = forbidden_use(spec, answer)
        if forbidden is not None:
            checker.stop(forbidden)
        else:
            spec.judge(checker, cases, answer)
        return checker.result()
    except Exception as err:  # un fallo del propio comprobador no debe romper tu cuaderno
        return error_result(
            spec.id, spec.title, spec.points,
            f"La comprobación no pudo terminar ({describe_exception(err)}).{hint_for(err)} "
            "Si tu código parece correcto, avisa a tu profesor.",
        )


def evaluate_here(namespace: dict, spec: ExerciseSpec, cases: list[dict]) -> dict:
    """Ejecuta los casos en este proceso como lo haría el kernel: con copias y devolviendo solo datos."""
    try:
        return transport(evaluate(namespace, spec.names, transport(for_kernel(cases))))
    except Exception as err:  # no debería pasar: el ejecutor no lanza
        return {"failed": {"message": describe_exception(err)}}


def notebook_check(spec: ExerciseSpec, name: str, doc: str) -> Callable[..., Result]:
    """La función ``check_*`` del cuaderno para un ejercicio (ver la cabecera del módulo).

    Parámetros:
        spec: el ejercicio.
        name: el nombre de la función (p. ej. ``"check_attention"``).
        doc: su documentación (en español).
    """

    def check(*objects, show: bool = True) -> Result:
        namespace = dict(zip(spec.names, objects))
        cases = spec.build(spec.seed)
        result = judge_answer(spec, cases, evaluate_here(namespace, spec, cases))
        if show:
            print(result.text())
        return result

    check.__name__ = check.__qualname__ = name
    check.__doc__ = doc
    check.spec = spec
    return check
