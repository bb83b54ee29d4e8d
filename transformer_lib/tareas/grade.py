"""El resultado de calificar un cuaderno entero (:class:`Grade`) y su informe en español.

Vive aparte de :mod:`~transformer_lib.tareas.grader` para que
:mod:`~transformer_lib.tareas.execution` lo construya sin importar al calificador.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .catalog import TASKS
from .core import CORRECT, Result


@dataclass
class Grade:
    """Resultado de calificar un cuaderno.

    Atributos:
        notebook: ruta del cuaderno.
        task: id de la tarea.
        results: un :class:`Result` por ejercicio.
        cell_errors: errores de celdas (sin contar los ``NotImplementedError``).
        failure: por qué no se pudo ejecutar el cuaderno (None si se ejecutó).
        seconds: duración de la ejecución.
        seed: semilla de las pruebas ocultas (con ``--semilla`` se repite la misma calificación).
    """

    notebook: str
    task: str
    results: list[Result] = field(default_factory=list)
    cell_errors: list[str] = field(default_factory=list)
    failure: str | None = None
    seconds: float = 0.0
    seed: int | None = None

    @property
    def points(self) -> float:
        return sum(r.points for r in self.results)

    @property
    def max_points(self) -> float:
        return TASKS[self.task].points

    def passed_all(self, exercise: str | None = None, group: str | None = None) -> bool:
        """True si todo está bien (o solo ``exercise``, o solo su grupo ``group``, si se indican)."""
        if self.failure is not None:
            return False
        if exercise is not None and group is not None:
            return any(r.exercise == exercise and r.group_passed(group) for r in self.results)
        if exercise is not None:
            return any(r.exercise == exercise and r.status == CORRECT for r in self.results)
        return not self.cell_errors and all(r.status == CORRECT for r in self.results)

    def to_dict(self) -> dict:
        return {
            "cuaderno": self.notebook,
            "tarea": self.task,
            "resultados": [r.to_dict() for r in self.results],
            "errores_celdas": self.cell_errors,
            "fallo": self.failure,
            "segundos": self.seconds,
            "semilla": self.seed,
            "puntos": self.points,
            "puntos_max": self.max_points,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Grade:
        return cls(d["cuaderno"], d["tarea"], [Result.from_dict(r) for r in d["resultados"]],
                   d["errores_celdas"], d["fallo"], d["segundos"], d.get("semilla"))

    def text(self, exercise: str | None = None, group: str | None = None) -> str:
        """Informe en español (solo de ``exercise``, y la línea de su grupo ``group``, si se indican)."""
        task = TASKS[self.task]
        rule = "═" * 72
        lines = [rule, task.title, f"Cuaderno: {self.notebook}"
                 + (f" (ejecutado en {self.seconds:.0f} s)" if self.seconds else "")]
        if self.seed is not None:
            lines.append(f"Semilla de las pruebas ocultas: {self.seed} (para repetir esta calificación: --semilla {self.seed})")
        lines.append(rule)
        if self.failure is not None:
            lines += [f"💥 No pude ejecutar tu cuaderno: {self.failure}", "", "Nota: 0/"
                       f"{task.points:g} puntos."]
            return "\n".join(lines)
        results = [r for r in self.results if exercise is None or r.exercise == exercise]
        for r in results:
            lines += [r.text(), ""]
        if self.cell_errors and exercise is None:
            lines.append("💥 Errores al ejecutar tu cuaderno (debe poder ejecutarse de principio a fin):")
            lines += [f"   • {e}" for e in self.cell_errors]
            lines.append("")
        lines.append("─" * 72)
        if exercise is None:
            lines.append(f"Nota: {self.points:g}/{task.points:g} puntos.")
            pending = [f"{r.title} ({r.status})" for r in self.results if r.status != CORRECT]
            if pending:
                lines.append("Te falta: " + "; ".join(pending) + ".")
            elif self.cell_errors:
                lines.append("Los ejercicios están bien, pero arregla los errores de las celdas.")
            else:
                lines.append("🎉 ¡Tarea completa! Todo está bien.")
        else:
            r = results[0] if results else None
            lines.append(f"Ejercicio {exercise}: {r.points:g}/{r.max_points:g} puntos." if r else
                          f"No hay resultado del ejercicio {exercise}.")
            g = r.group(group) if (r and group) else None
            if group is not None:
                lines.append(f"Grupo «{g['name']}»: {g['points']:g}/{g['max_points']:g} puntos "
                             f"({g['passed']}/{g['total']} pruebas)." if g else
                             f"El ejercicio {exercise} no llegó a las pruebas del grupo {group}.")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Fuera del kernel
# --------------------------------------------------------------------------------------
