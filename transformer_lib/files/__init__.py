"""Archivos que no se pierden: rutas de salida comprobadas antes de trabajar, escrituras
atómicas que se limpian solas y lecturas con errores en español que nombran el archivo.

Lo usan todas las órdenes que escriben algo del usuario (checkpoints, resultados de
barridos, cuadernos y plantillas generados, cachés) y todas las que lo leen.

Tres garantías:

1. **Nada del usuario se mueve ni se borra.** :func:`check_output_path` se llama *antes* de
   empezar el trabajo: la ruta de salida debe no existir, o ser algo nuestro (un checkpoint,
   un archivo de resultados) que el usuario pidió sobrescribir. Cualquier otra cosa se
   rechaza con un mensaje que la nombra y dice qué hacer.
2. **El destino queda entero: la versión vieja o la nueva.** :func:`atomic_file` y
   :func:`atomic_directory` escriben en un temporal *junto al destino* y lo renombran al
   final; si algo falla (una excepción, Ctrl-C o SIGTERM con :func:`signals_as_exceptions`),
   el temporal se borra.
3. **Permisos normales.** Lo que se crea respeta la ``umask`` (no el 0700/0600 de
   ``tempfile``), para que un compañero o el servidor web puedan leerlo.

Y una cuarta para leer: cada error de lectura (no existe, sin permiso, dañado) es **una
línea en español** que nombra el archivo y dice qué hacer.

Un módulo por idea, todo importable desde aquí: :mod:`~transformer_lib.files.problems` (los
errores), :mod:`~transformer_lib.files.writing` (comprobar la salida, escribir de forma
atómica, señales) y :mod:`~transformer_lib.files.reading` (leer con errores en español); y
:mod:`~transformer_lib.files.results` (encontrar ``results/`` desde un cuaderno).
"""

from .problems import (
    FileAccessError,
    FileProblem,
    FileWriteError,
    MissingFileError,
    OutputPathError,
    Terminated,
    UnreadableFileError,
    describe_os_error,
)
from .reading import is_file, read_bytes, read_error, read_json, read_text
from .results import COURSE_RAW_URL, find_results
from .writing import (
    atomic_directory,
    atomic_file,
    check_output_path,
    current_umask,
    signals_as_exceptions,
    write_json_atomic,
    write_text_atomic,
)

__all__ = [
    "FileProblem",
    "OutputPathError",
    "FileWriteError",
    "UnreadableFileError",
    "FileAccessError",
    "MissingFileError",
    "Terminated",
    "check_output_path",
    "atomic_file",
    "atomic_directory",
    "write_text_atomic",
    "write_json_atomic",
    "is_file",
    "read_bytes",
    "read_text",
    "read_json",
    "read_error",
    "describe_os_error",
    "signals_as_exceptions",
    "current_umask",
    "COURSE_RAW_URL",
    "find_results",
]
