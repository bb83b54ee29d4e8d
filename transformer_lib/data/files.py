"""Leer archivos de datos con errores en español que dicen qué archivo falla y qué hacer.

Sin esto, un archivo sin permiso de lectura acaba en un ``[Errno 13] Permission denied``
en inglés y sin pista de cómo arreglarlo. Lo usan el cargador del Quijote
(:mod:`transformer_lib.data.quijote`) y :meth:`CharTokenizer.load
<transformer_lib.data.tokenizers.CharTokenizer.load>`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class DataFileError(OSError):
    """Un archivo o carpeta de datos que existe pero no se puede leer (permisos, disco…).

    Es un ``OSError``: el código que ya capturaba ``OSError`` lo sigue capturando, pero el
    mensaje está en español, nombra la ruta y dice qué hacer.
    """


def _unreadable(path: Path, err: OSError, what: str, remedy: str) -> DataFileError:
    if isinstance(err, PermissionError):
        reason = "no tienes permiso para leerlo"
        fix = f"Dale permiso de lectura (p. ej. chmod u+r {path}) o usa otra copia. "
    elif isinstance(err, IsADirectoryError):
        reason = "es una carpeta, no un archivo"
        fix = ""
    else:
        reason = err.strerror or type(err).__name__
        fix = ""
    return DataFileError(f"No puedo leer {what} {path}: {reason}. {fix}{remedy}".rstrip())


def is_file(path: str | os.PathLike, what: str, remedy: str = "") -> bool:
    """Dice si ``path`` es un archivo; si no se puede ni mirar (permisos), lo explica.

    ``Path.is_file`` devuelve False si no existe, pero lanza un ``PermissionError`` crudo
    si una carpeta del camino no deja entrar; aquí se convierte en :class:`DataFileError`.

    Parámetros:
        path: la ruta.
        what: qué es, para el mensaje (p. ej. "el Quijote").
        remedy: frase final del mensaje de error con qué hacer.

    Devuelve:
        True si es un archivo normal; False si no existe o es otra cosa.
    """
    path = Path(path)
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except PermissionError:
        folder = path.parent
        raise DataFileError(
            f"No puedo llegar a {what} {path}: no tienes permiso para entrar en la carpeta "
            f"{folder}. Dale permiso (p. ej. chmod u+rx {folder}) o usa otra carpeta. {remedy}".rstrip()
        ) from None
    except OSError as err:
        raise _unreadable(path, err, what, remedy) from None


def read_bytes(path: str | os.PathLike, what: str, remedy: str = "") -> bytes:
    """Lee un archivo entero; los errores salen en español, con la ruta y qué hacer.

    Parámetros:
        path: la ruta.
        what: qué es, para el mensaje (p. ej. "el tokenizador").
        remedy: frase final del mensaje de error con qué hacer.

    Devuelve:
        El contenido del archivo.

    Lanza:
        FileNotFoundError: si no existe.
        DataFileError: si existe pero no se puede leer (sin permiso, es una carpeta…).
    """
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"No encuentro {what} {path}: no existe. {remedy}".rstrip()) from None
    except OSError as err:
        raise _unreadable(path, err, what, remedy) from None
