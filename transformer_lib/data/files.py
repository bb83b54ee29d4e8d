"""Leer archivos de datos con errores en español (compatibilidad).

La lectura con errores que nombran el archivo y dicen qué hacer vive en
:mod:`transformer_lib.files`, la misma para los datos, los tokenizadores, los checkpoints y
los resultados. Aquí quedan los nombres de antes: :class:`DataFileError` es
:class:`~transformer_lib.files.FileAccessError` (un ``OSError`` con el mensaje en español),
y :func:`is_file` y :func:`read_bytes` son las de :mod:`transformer_lib.files`.
"""

from __future__ import annotations

from ..files import FileAccessError, is_file, read_bytes

#: Un archivo o carpeta de datos que existe pero no se puede leer (permisos, disco…).
DataFileError = FileAccessError

__all__ = ["DataFileError", "is_file", "read_bytes"]
