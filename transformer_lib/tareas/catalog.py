"""Catálogo de tareas: qué ejercicios tiene cada una. Es la única lista que hay que tocar
para añadir una tarea (cada ejercicio es un :class:`~transformer_lib.tareas.exercise.ExerciseSpec`)."""

from __future__ import annotations

from dataclasses import dataclass

from .exercise import ExerciseSpec
from .task1_attention import ATTENTION, check_attention
from .task1_mask import CAUSAL_MASK, check_causal_mask
from .task2_heads import HEADS, check_heads
from .task2_multihead import MULTIHEAD, check_multihead
from .task3_block import BLOCK, check_block
from .task3_gpt import MINIGPT, check_gpt
from .task3_training import TRAINING, check_training
from .task4_cache import KV_CACHE, check_kv_cache
from .task4_rope import ROPE, check_rope


@dataclass(frozen=True)
class Exercise:
    """Un ejercicio del catálogo: su especificación y la función ``check_*`` del cuaderno.

    Atributos:
        spec: cómo se preparan, ejecutan y juzgan sus casos.
        check: la comprobación que se llama desde el cuaderno.
    """

    spec: ExerciseSpec
    check: object

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def names(self) -> tuple[str, ...]:
        return self.spec.names

    @property
    def title(self) -> str:
        return self.spec.title

    @property
    def points(self) -> float:
        return self.spec.points


@dataclass(frozen=True)
class Task:
    """Una tarea: un cuaderno con varios ejercicios."""

    id: str
    title: str
    exercises: tuple[Exercise, ...]

    @property
    def points(self) -> float:
        return sum(e.points for e in self.exercises)

    def exercise(self, exercise_id: str) -> Exercise:
        for e in self.exercises:
            if e.id == exercise_id:
                return e
        valid = ", ".join(e.id for e in self.exercises)
        raise ValueError(f"La {self.id} no tiene el ejercicio {exercise_id!r}; los ejercicios son: {valid}.")


TASKS: dict[str, Task] = {
    t.id: t
    for t in (
        Task("tarea_01_atencion", "Tarea 1 · Atención por producto escalado", (
            Exercise(ATTENTION, check_attention),
            Exercise(CAUSAL_MASK, check_causal_mask),
        )),
        Task("tarea_02_multihead", "Tarea 2 · Atención multicabeza", (
            Exercise(HEADS, check_heads),
            Exercise(MULTIHEAD, check_multihead),
        )),
        Task("tarea_03_bloque_gpt", "Tarea 3 · Bloque Pre-LN y un GPT entrenado con el Quijote", (
            Exercise(BLOCK, check_block),
            Exercise(MINIGPT, check_gpt),
            Exercise(TRAINING, check_training),
        )),
        Task("tarea_04_rope_cache", "Tarea 4 · RoPE y la caché KV", (
            Exercise(ROPE, check_rope),
            Exercise(KV_CACHE, check_kv_cache),
        )),
    )
}


def find_task(id_or_name: str) -> Task:
    """Encuentra una tarea por su id o por el nombre de su cuaderno (``tarea_01_atencion.ipynb``)."""
    for task_id, task in TASKS.items():
        if id_or_name == task_id or id_or_name.startswith(task_id):
            return task
    valid = ", ".join(TASKS)
    raise ValueError(f"No conozco la tarea {id_or_name!r}; las tareas son: {valid}.")
