"""Herramientas del repositorio del curso (no se instalan con ``transformer_lib``).

Aquí vive lo que solo usan quienes mantienen el curso desde un clon del repositorio: la
configuración del libro, las comprobaciones de los cuadernos y lo que solo necesita el
profesor. Lo que ejecuta un estudiante está en ``transformer_lib``.
"""
