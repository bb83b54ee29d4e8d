"""Catálogo de tareas: qué ejercicios tiene cada una, qué nombres del cuaderno se comprueban
y con qué función. Es la única lista que hay que tocar para añadir una tarea."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .atencion import comprobar_atencion, comprobar_mascara_causal
from .bloque_gpt import comprobar_bloque, comprobar_entrenamiento, comprobar_gpt
from .multihead import comprobar_cabezas, comprobar_multihead


@dataclass(frozen=True)
class Ejercicio:
    """Un ejercicio: los nombres que se buscan en el cuaderno y la función que los comprueba.

    Atributos:
        id: identificador corto (el de ``--ejercicio``).
        nombres: variables del cuaderno que se pasan, por orden, a ``comprobar``.
        comprobar: función de comprobación (decorada con ``comprobacion``).
    """

    id: str
    nombres: tuple[str, ...]
    comprobar: Callable

    @property
    def titulo(self) -> str:
        return self.comprobar.titulo

    @property
    def puntos(self) -> float:
        return self.comprobar.puntos


@dataclass(frozen=True)
class Tarea:
    """Una tarea: un cuaderno con varios ejercicios."""

    id: str
    titulo: str
    ejercicios: tuple[Ejercicio, ...]

    @property
    def puntos(self) -> float:
        return sum(e.puntos for e in self.ejercicios)

    def ejercicio(self, id_: str) -> Ejercicio:
        for e in self.ejercicios:
            if e.id == id_:
                return e
        validos = ", ".join(e.id for e in self.ejercicios)
        raise ValueError(f"La {self.id} no tiene el ejercicio {id_!r}; los ejercicios son: {validos}.")


TAREAS: dict[str, Tarea] = {
    t.id: t
    for t in (
        Tarea("tarea_01_atencion", "Tarea 1 · Atención por producto escalado", (
            Ejercicio("atencion", ("scaled_dot_product_attention",), comprobar_atencion),
            Ejercicio("mascara_causal", ("causal_mask",), comprobar_mascara_causal),
        )),
        Tarea("tarea_02_multihead", "Tarea 2 · Atención multi-cabeza", (
            Ejercicio("cabezas", ("split_heads", "merge_heads"), comprobar_cabezas),
            Ejercicio("multihead", ("MultiHeadAttention",), comprobar_multihead),
        )),
        Tarea("tarea_03_bloque_gpt", "Tarea 3 · Bloque Pre-LN y un GPT entrenado con el Quijote", (
            Ejercicio("bloque", ("PreLNBlock",), comprobar_bloque),
            Ejercicio("gpt", ("MiniGPT",), comprobar_gpt),
            Ejercicio("entrenamiento", ("modelo",), comprobar_entrenamiento),
        )),
    )
}


def buscar_tarea(id_o_nombre: str) -> Tarea:
    """Encuentra una tarea por su id o por el nombre de su cuaderno (``tarea_01_atencion.ipynb``)."""
    for id_, tarea in TAREAS.items():
        if id_o_nombre == id_ or id_o_nombre.startswith(id_):
            return tarea
    validas = ", ".join(TAREAS)
    raise ValueError(f"No conozco la tarea {id_o_nombre!r}; las tareas son: {validas}.")
