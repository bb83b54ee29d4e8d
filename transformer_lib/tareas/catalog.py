"""Catálogo de tareas: qué ejercicios tiene cada una, qué nombres del cuaderno se comprueban
y con qué función. Es la única lista que hay que tocar para añadir una tarea."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .task1_attention import check_attention, check_causal_mask
from .task2_multihead import check_heads, check_multihead
from .task3_gpt import check_block, check_gpt, check_training


@dataclass(frozen=True)
class Exercise:
    """Un ejercicio: los nombres que se buscan en el cuaderno y la función que los comprueba.

    Atributos:
        id: identificador corto (el de ``--ejercicio``).
        names: variables del cuaderno que se pasan, por orden, a ``comprobar``.
        check: función de comprobación (decorada con ``comprobacion``).
    """

    id: str
    names: tuple[str, ...]
    check: Callable

    @property
    def title(self) -> str:
        return self.check.title

    @property
    def points(self) -> float:
        return self.check.points


@dataclass(frozen=True)
class Task:
    """Una tarea: un cuaderno con varios ejercicios."""

    id: str
    title: str
    exercises: tuple[Exercise, ...]

    @property
    def points(self) -> float:
        return sum(e.points for e in self.exercises)

    def exercise(self, task_key: str) -> Exercise:
        for e in self.exercises:
            if e.id == task_key:
                return e
        valid = ", ".join(e.id for e in self.exercises)
        raise ValueError(f"La {self.id} no tiene el ejercicio {task_key!r}; los ejercicios son: {valid}.")


TASKS: dict[str, Task] = {
    t.id: t
    for t in (
        Task("tarea_01_atencion", "Tarea 1 · Atención por producto escalado", (
            Exercise("atencion", ("scaled_dot_product_attention",), check_attention),
            Exercise("mascara_causal", ("causal_mask",), check_causal_mask),
        )),
        Task("tarea_02_multihead", "Tarea 2 · Atención multi-cabeza", (
            Exercise("cabezas", ("split_heads", "merge_heads"), check_heads),
            Exercise("multihead", ("MultiHeadAttention",), check_multihead),
        )),
        Task("tarea_03_bloque_gpt", "Tarea 3 · Bloque Pre-LN y un GPT entrenado con el Quijote", (
            Exercise("bloque", ("PreLNBlock",), check_block),
            Exercise("gpt", ("MiniGPT",), check_gpt),
            Exercise("entrenamiento", ("model",), check_training),
        )),
    )
}


def find_task(id_or_name: str) -> Task:
    """Encuentra una tarea por su id o por el nombre de su cuaderno (``tarea_01_atencion.ipynb``)."""
    for task_key, task in TASKS.items():
        if id_or_name == task_key or id_or_name.startswith(task_key):
            return task
    valid = ", ".join(TASKS)
    raise ValueError(f"No conozco la tarea {id_or_name!r}; las tareas son: {valid}.")
