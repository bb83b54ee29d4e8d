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
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import shutil
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "FileProblem",
    "OutputPathError",
    "UnreadableFileError",
    "Terminated",
    "check_output_path",
    "atomic_file",
    "atomic_directory",
    "write_text_atomic",
    "write_json_atomic",
    "read_text",
    "read_json",
    "describe_os_error",
    "signals_as_exceptions",
    "current_umask",
]


class FileProblem(ValueError):
    """Un problema con un archivo del usuario, explicado en una línea en español."""


class OutputPathError(FileProblem):
    """La ruta donde se iba a escribir no se puede usar (existe, no es nuestra, no se puede escribir)."""


class UnreadableFileError(FileProblem):
    """Un archivo que no se puede leer o que está dañado (truncado, mal formado, de otro modelo)."""


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
}


def describe_os_error(err: OSError) -> str:
    """Describe en español un ``OSError`` (sin la ruta, que pone quien llama)."""
    return _OS_ERRORS.get(err.errno, err.strerror or type(err).__name__)


def current_umask() -> int:
    """La ``umask`` del proceso (sin cambiarla cuando se puede leer de ``/proc``)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _nearest_existing(path: Path) -> Path:
    for parent in (path, *path.parents):
        if parent.exists():
            return parent
    return Path(os.sep)


def _check_writable_folder(folder: Path, target: Path, flag: str) -> None:
    """Comprueba de verdad que se puede crear un archivo en ``folder`` (y lo borra)."""
    if not folder.is_dir():
        raise OutputPathError(
            f"No puedo escribir {target}: {folder} no es una carpeta. Elige otra ruta con {flag}."
        )
    probe = folder / f".transformer_lib-probe-{secrets.token_hex(4)}"
    try:
        fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError as err:
        raise OutputPathError(
            f"No puedo escribir en {folder} ({describe_os_error(err)}), así que no podría "
            f"guardar {target}. Elige otra ruta con {flag} o cambia los permisos de la carpeta."
        ) from err
    os.close(fd)
    probe.unlink()


def check_output_path(
    path: str | os.PathLike,
    *,
    what: str,
    is_ours: Callable[[Path], bool],
    overwrite: bool = False,
    flag: str = "--out",
    overwrite_flag: str = "--overwrite",
) -> Path:
    """Comprueba una ruta de salida **antes** de empezar el trabajo.

    Se acepta si no existe (y se puede crear), o si existe, es algo nuestro
    (``is_ours(path)``) y se pidió sobrescribirlo. No crea nada: solo prueba a escribir un
    archivo temporal en la carpeta existente más cercana y lo borra.

    Parámetros:
        path: la ruta donde se escribirá.
        what: qué se escribe, para los mensajes («checkpoint», «archivo de resultados»…).
        is_ours: dice si lo que ya hay en ``path`` lo escribió transformer_lib.
        overwrite: si el usuario pidió sobrescribir algo nuestro.
        flag: la opción de la línea de órdenes que da la ruta (para los mensajes).
        overwrite_flag: la opción que permite sobrescribir (para los mensajes).

    Devuelve:
        La ruta como ``Path``.

    Lanza:
        OutputPathError: si la ruta no se puede usar; el mensaje dice por qué y qué hacer.
    """
    path = Path(path)
    if path.name in ("", ".", ".."):
        raise OutputPathError(f"{flag}={str(path)!r} no es una ruta de {what} válida: ponle un nombre.")
    if path.exists() or path.is_symlink():
        if not is_ours(path):
            kind = "una carpeta" if path.is_dir() else "un archivo"
            raise OutputPathError(
                f"{path} ya existe y es {kind} que no es un {what} de transformer_lib: no lo "
                f"toco. Elige otra ruta con {flag}."
            )
        if not overwrite:
            raise OutputPathError(
                f"Ya existe el {what} {path}. Añade {overwrite_flag} para reemplazarlo o elige "
                f"otra ruta con {flag}."
            )
    _check_writable_folder(_nearest_existing(path.parent), path, flag)
    return path


def _temporary_name(target: Path, tag: str) -> Path:
    return target.with_name(f".{target.name}.{tag}-{secrets.token_hex(4)}")


@contextlib.contextmanager
def _signals_blocked() -> Iterator[None]:
    """Retrasa SIGINT y SIGTERM durante unos renombrados que no deben cortarse a medias."""
    can_block = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    if not can_block:
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[Path]:
    """Da una ruta temporal junto a ``path``; al salir bien, la renombra a ``path``.

    Si el bloque lanza una excepción (también ``KeyboardInterrupt`` o :class:`Terminated`),
    el temporal se borra y ``path`` conserva su contenido anterior. El archivo final tiene
    los permisos de la ``umask``. Crea la carpeta de destino si falta.

    Ejemplo::

        with atomic_file("resultados.json") as tmp:
            tmp.write_text(texto)
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary_name(target, "tmp")
    try:
        yield tmp
        if tmp.exists():
            os.chmod(tmp, 0o666 & ~current_umask())
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike) -> Iterator[Path]:
    """Da una carpeta temporal junto a ``path``; al salir bien, ocupa el lugar de ``path``.

    Si ``path`` ya existía (algo nuestro: compruébalo antes con :func:`check_output_path`),
    se aparta, se pone la nueva en su sitio y se borra la vieja; los dos renombrados se hacen
    con SIGINT/SIGTERM bloqueadas, así que ``path`` siempre tiene una versión completa. Si
    el bloque falla, la carpeta temporal se borra. Las carpetas creadas respetan la ``umask``.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary_name(target, "tmp")
    os.mkdir(tmp)  # respeta la umask (tempfile.mkdtemp crearía 0700)
    old: Path | None = None
    try:
        yield tmp
        with _signals_blocked():
            if target.exists() or target.is_symlink():
                old = _temporary_name(target, "old")
                os.replace(target, old)
            try:
                os.replace(tmp, target)
            except BaseException:
                if old is not None:  # se deja la versión anterior donde estaba
                    os.replace(old, target)
                    old = None
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    old.unlink()


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Escribe ``text`` (UTF-8) en ``path`` de forma atómica (ver :func:`atomic_file`)."""
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json_atomic(path: str | os.PathLike, data: Any, indent: int | None = 2) -> Path:
    """Escribe ``data`` como JSON legible (UTF-8) en ``path`` de forma atómica."""
    return write_text_atomic(path, json.dumps(data, indent=indent, ensure_ascii=False) + "\n")


def read_text(path: str | os.PathLike, *, what: str, hint: str = "") -> str:
    """Lee un archivo de texto UTF-8; los errores salen en español con su nombre.

    Parámetros:
        path: el archivo.
        what: qué es, para el mensaje («el checkpoint», «el tokenizador»…).
        hint: qué hacer si falla (se añade al mensaje).

    Lanza:
        UnreadableFileError: si no existe, no se puede leer o no es UTF-8.
    """
    path = Path(path)
    suffix = f" {hint}" if hint else ""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise UnreadableFileError(
            f"No puedo leer {what} {path}: no es texto UTF-8 (byte {err.start}).{suffix}"
        ) from err
    except OSError as err:
        raise UnreadableFileError(f"No puedo leer {what} {path}: {describe_os_error(err)}.{suffix}") from err


def read_json(path: str | os.PathLike, *, what: str, hint: str = "") -> Any:
    """Lee un archivo JSON; los errores de lectura y de formato salen en español con su nombre.

    Lanza:
        UnreadableFileError: si no se puede leer o no es JSON válido (dice la línea y columna).
    """
    text = read_text(path, what=what, hint=hint)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        suffix = f" {hint}" if hint else ""
        raise UnreadableFileError(
            f"{what.capitalize()} {path} está dañado: no es JSON válido (línea {err.lineno}, "
            f"columna {err.colno}).{suffix}"
        ) from err


@contextlib.contextmanager
def signals_as_exceptions() -> Iterator[None]:
    """Convierte SIGTERM en la excepción :class:`Terminated` mientras dura el bloque.

    Así un ``kill`` recorre los ``finally`` (y los temporales se borran) como Ctrl-C, que
    Python ya convierte en ``KeyboardInterrupt``. Fuera del hilo principal no hace nada.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated(f"señal {signal.Signals(signum).name}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
