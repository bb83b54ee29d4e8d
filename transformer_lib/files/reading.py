"""Leer archivos con errores en español que dicen qué archivo falla, qué le pasa y qué hacer.

Sin esto, un archivo sin permiso de lectura acaba en un ``[Errno 13] Permission denied`` en
inglés y sin pista de cómo arreglarlo.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from .problems import FileAccessError, MissingFileError, UnreadableFileError, describe_os_error


def _sentence(hint: str) -> str:
    return f" {hint}" if hint else ""


def read_error(path: str | os.PathLike, err: OSError, what: str, hint: str = "") -> FileAccessError:
    """Convierte el ``OSError`` de leer ``path`` en un error en español que lo nombra.

    Parámetros:
        path: el archivo que se intentaba leer.
        err: el error del sistema.
        what: qué es, para el mensaje («el checkpoint», «el tokenizador»…).
        hint: qué hacer (se añade al final del mensaje).

    Devuelve:
        Un :class:`MissingFileError` si no existe; si no, un :class:`FileAccessError`.
    """
    path = Path(path)
    if isinstance(err, FileNotFoundError):
        return MissingFileError(f"No encuentro {what} {path}: no existe.{_sentence(hint)}")
    if isinstance(err, PermissionError):
        reason = (f"no tienes permiso para leerlo. Dale permiso de lectura (p. ej. chmod u+r "
                  f"{path}) o usa otra copia")
    else:
        reason = describe_os_error(err)
    return FileAccessError(f"No puedo leer {what} {path}: {reason}.{_sentence(hint)}")


def is_file(path: str | os.PathLike, what: str, hint: str = "") -> bool:
    """Dice si ``path`` es un archivo; si no se puede ni mirar (permisos), lo explica.

    ``Path.is_file`` devuelve False si no existe, pero lanza un ``PermissionError`` crudo si
    una carpeta del camino no deja entrar; aquí se convierte en :class:`FileAccessError`.

    Parámetros:
        path: la ruta.
        what: qué es, para el mensaje (p. ej. «el Quijote»).
        hint: frase final del mensaje de error con qué hacer.

    Devuelve:
        True si es un archivo normal; False si no existe o es otra cosa.
    """
    path = Path(path)
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except PermissionError as err:
        folder = path.parent
        raise FileAccessError(
            f"No puedo llegar a {what} {path}: no tienes permiso para entrar en la carpeta "
            f"{folder}. Dale permiso (p. ej. chmod u+rx {folder}) o usa otra carpeta.{_sentence(hint)}"
        ) from err
    except OSError as err:
        raise read_error(path, err, what, hint) from err


def read_bytes(path: str | os.PathLike, what: str, hint: str = "") -> bytes:
    """Lee un archivo entero; los errores salen en español, con la ruta y qué hacer.

    Parámetros:
        path: la ruta.
        what: qué es, para el mensaje (p. ej. «el tokenizador»).
        hint: frase final del mensaje de error con qué hacer.

    Lanza:
        MissingFileError: si no existe (es un ``FileNotFoundError``).
        FileAccessError: si existe pero no se puede leer (sin permiso, es una carpeta…).
    """
    path = Path(path)
    try:
        return path.read_bytes()
    except OSError as err:
        raise read_error(path, err, what, hint) from err


def read_text(path: str | os.PathLike, *, what: str, hint: str = "") -> str:
    """Lee un archivo de texto UTF-8; los errores salen en español con su nombre.

    Parámetros:
        path: el archivo.
        what: qué es, para el mensaje («el checkpoint», «el tokenizador»…).
        hint: qué hacer si falla (se añade al mensaje).

    Lanza:
        MissingFileError, FileAccessError: si no existe o no se puede leer.
        UnreadableFileError: si no es UTF-8.
    """
    raw = read_bytes(path, what, hint)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise UnreadableFileError(
            f"No puedo leer {what} {path}: no es texto UTF-8 (byte {err.start}).{_sentence(hint)}"
        ) from err


def read_json(path: str | os.PathLike, *, what: str, hint: str = "") -> Any:
    """Lee un archivo JSON; los errores de lectura y de formato salen en español con su nombre.

    Lanza:
        UnreadableFileError: si no se puede leer o no es JSON válido (dice la línea y columna).
    """
    text = read_text(path, what=what, hint=hint)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise UnreadableFileError(
            f"{what[:1].upper()}{what[1:]} {path} está dañado: no es un JSON válido (línea "
            f"{err.lineno}, columna {err.colno}).{_sentence(hint)}"
        ) from err
