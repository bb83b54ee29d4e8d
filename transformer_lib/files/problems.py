"""Los errores de archivos, en español: qué archivo, qué le pasa y qué hacer.

Todos derivan de :class:`FileProblem` (un ``ValueError``); los de lectura que vienen del
sistema son además ``OSError`` (:class:`FileAccessError`) o ``FileNotFoundError``
(:class:`MissingFileError`), para que el código que ya capturaba esos los siga capturando.
"""

from __future__ import annotations

import errno


class FileProblem(ValueError):
    """Un problema con un archivo del usuario, explicado en una línea en español."""


class OutputPathError(FileProblem):
    """La ruta donde se iba a escribir no se puede usar (existe, no es nuestra, no se puede escribir)."""


class FileWriteError(FileProblem, OSError):
    """No se pudo terminar de escribir (disco lleno, permisos…); el destino quedó como estaba.

    Es también un ``OSError``, como el error del sistema que lo causó.
    """


class UnreadableFileError(FileProblem):
    """Un archivo que no se puede leer o que está dañado (truncado, mal formado, de otro modelo)."""


class FileAccessError(UnreadableFileError, OSError):
    """El sistema no deja leer un archivo (permisos, es una carpeta, disco…).

    Es también un ``OSError``: el código que ya capturaba ``OSError`` lo sigue capturando, pero
    el mensaje está en español, nombra la ruta y dice qué hacer. (En
    :mod:`transformer_lib.data` se llama también ``DataFileError``.)
    """


class MissingFileError(FileAccessError, FileNotFoundError):
    """Un archivo que no existe; es también un ``FileNotFoundError``."""


class Terminated(BaseException):  # noqa: N818 (como KeyboardInterrupt: no es un «Error»)
    """La señal SIGTERM convertida en excepción, para que los ``finally`` limpien."""


_OS_ERRORS = {
    errno.ENOENT: "no existe",
    errno.EACCES: "no tienes permiso",
    errno.EPERM: "la operación no está permitida",
    errno.EISDIR: "es una carpeta, no un archivo",
    errno.ENOTDIR: "una parte de la ruta no es una carpeta",
    errno.EROFS: "está en un sistema de archivos de solo lectura",
    errno.ENOSPC: "no queda espacio en el disco",
    errno.EINVAL: "el archivo está dañado o no es válido",
    errno.EEXIST: "ya existe",
    errno.EIO: "error de entrada/salida del disco",
    errno.ENAMETOOLONG: "el nombre es demasiado largo",
    errno.EDQUOT: "se acabó tu cuota de disco",
    errno.ENOTEMPTY: "la carpeta no está vacía",
}


def describe_os_error(err: OSError) -> str:
    """Describe en español un ``OSError`` (sin la ruta, que pone quien llama)."""
    return _OS_ERRORS.get(err.errno) or err.strerror or str(err) or type(err).__name__
