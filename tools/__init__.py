"""Herramientas de mantenimiento del repositorio (no se instalan con ``transformer_lib``).

Se ejecutan como módulos desde la raíz del repositorio, p. ej.
``python -m tools.check_notebooks``, para que puedan importar ``coursetools``.
"""
