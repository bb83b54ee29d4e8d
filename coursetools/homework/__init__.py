"""Herramientas del profesorado para las tareas (no se instalan con ``transformer_lib``).

- :mod:`coursetools.homework.notebooks`: genera las versiones del estudiante de
  ``chapters/tareas/`` a partir de los cuadernos con solución de ``instructor/tareas/``
  y comprueba que estén al día y no filtren la solución.
- :mod:`coursetools.homework.classroom`: los flujos de calificación de GitHub Classroom de
  ``.github/classroom/`` y el repositorio plantilla de cada tarea.

Orden: ``python -m coursetools.homework generar|plantilla …`` (desde la raíz del repositorio).
Lo que ejecuta un estudiante (las comprobaciones y el calificador) está en
:mod:`transformer_lib.tareas`.
"""
