"""Escribir sin perder nada: rutas de salida comprobadas antes, escrituras atómicas y señales.

- :func:`check_output_path`: antes de trabajar, ¿se puede escribir ahí sin destruir nada?
- :func:`atomic_file`, :func:`atomic_directory`, :func:`write_text_atomic`,
  :func:`write_json_atomic`: un temporal junto al destino que se renombra al final.
- :func:`signals_as_exceptions`: SIGTERM como excepción, para que los ``finally`` limpien.
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

from .problems import FileProblem, FileWriteError, OutputPathError, Terminated, describe_os_error


def current_umask() -> int:
    """La ``umask`` del proceso (sin cambiarla cuando se puede leer de ``/proc``)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _exists(path: Path, target: Path, flag: str | None) -> bool:
    """Como ``path.exists()`` (sin seguir el último enlace), pero sin permiso da un error claro."""
    try:
        path.lstat()
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as err:
        raise OutputPathError(
            f"No puedo comprobar {path} ({describe_os_error(err)}), así que no sé si guardar "
            f"{target} destruiría algo. {_choose_another(flag)} o cambia los permisos de la carpeta."
        ) from err
    return True


def _nearest_existing(path: Path, target: Path, flag: str | None) -> Path:
    for parent in (path, *path.parents):
        if _exists(parent, target, flag):
            return parent
    return Path(os.sep)


def _choose_another(flag: str | None) -> str:
    return f"Elige otra ruta con {flag}" if flag else "Elige otra ruta"


def _check_writable_folder(folder: Path, target: Path, flag: str | None) -> None:
    """Comprueba de verdad que se puede crear un archivo en ``folder`` (y lo borra)."""
    if not folder.is_dir():
        raise OutputPathError(
            f"No puedo escribir {target}: {folder} no es una carpeta. {_choose_another(flag)}."
        )
    probe = folder / f".transformer_lib-probe-{secrets.token_hex(4)}"
    try:
        fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError as err:
        raise OutputPathError(
            f"No puedo escribir en {folder} ({describe_os_error(err)}), así que no podría "
            f"guardar {target}. {_choose_another(flag)} o cambia los permisos de la carpeta."
        ) from err
    os.close(fd)
    probe.unlink()


def _is_empty_folder(path: Path) -> bool:
    try:
        return path.is_dir() and not path.is_symlink() and next(path.iterdir(), None) is None
    except OSError:
        return False


def check_output_path(
    path: str | os.PathLike,
    *,
    what: str,
    is_ours: Callable[[Path], bool],
    overwrite: bool = False,
    flag: str | None = "--out",
    overwrite_flag: str = "--overwrite",
    accept_empty_folder: bool = False,
) -> Path:
    """Comprueba una ruta de salida **antes** de empezar el trabajo.

    Se acepta si no existe (y se puede crear), si existe, es algo nuestro (``is_ours(path)``)
    y se pidió sobrescribirlo, o (con ``accept_empty_folder``) si es una carpeta vacía. No
    crea nada: solo prueba a escribir un archivo temporal en la carpeta existente más cercana
    y lo borra.

    Parámetros:
        path: la ruta donde se escribirá.
        what: qué se escribe, para los mensajes («checkpoint», «archivo de resultados»…).
        is_ours: dice si lo que ya hay en ``path`` lo escribió transformer_lib.
        overwrite: si el usuario pidió sobrescribir algo nuestro.
        flag: la opción de la línea de órdenes que da la ruta (para los mensajes); None si
            la ruta llega como argumento de una función.
        overwrite_flag: cómo se pide sobrescribir (para los mensajes), p. ej. ``"--overwrite"``
            u ``"overwrite=True"``.
        accept_empty_folder: si una carpeta vacía vale como destino (para salidas que son
            carpetas, como un checkpoint: reemplazarla no pierde nada).

    Devuelve:
        La ruta como ``Path``.

    Lanza:
        OutputPathError: si la ruta no se puede usar; el mensaje dice por qué y qué hacer.
    """
    path = Path(path)
    if path.name in ("", ".", ".."):
        shown = f"{flag}={str(path)!r}" if flag else repr(str(path))
        raise OutputPathError(f"{shown} no es una ruta de {what} válida: ponle un nombre.")
    if _exists(path, path, flag) and not (accept_empty_folder and _is_empty_folder(path)):
        if not is_ours(path):
            kind = "una carpeta" if path.is_dir() else "un archivo"
            raise OutputPathError(
                f"{path} ya existe y es {kind} que no es un {what} de transformer_lib: no lo "
                f"toco. {_choose_another(flag)}."
            )
        if not overwrite:
            raise OutputPathError(
                f"Ya existe el {what} {path}. Añade {overwrite_flag} para reemplazarlo o "
                f"{_choose_another(flag).lower()}."
            )
    _check_writable_folder(_nearest_existing(path.parent, path, flag), path, flag)
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


# Los errores del sistema que quieren decir «no se pudo escribir» (otros, como los de red de una
# descarga dentro del bloque, se dejan pasar tal cual).
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EACCES, errno.EPERM,
                 errno.ENAMETOOLONG, errno.EFBIG}


@contextlib.contextmanager
def _write_errors_explained(target: Path) -> Iterator[None]:
    """Convierte en :class:`FileWriteError` (en español) los errores de escritura del bloque."""
    existed = target.exists()
    try:
        yield
    except OSError as err:
        if isinstance(err, FileProblem) or err.errno not in _WRITE_ERRNOS:
            raise
        after = f"{target} sigue como estaba" if existed else "no ha quedado nada a medias"
        raise FileWriteError(f"No pude guardar {target}: {describe_os_error(err)}; {after}.") from err


@contextlib.contextmanager
def _cleaned_up(temporaries: list[Path]) -> Iterator[None]:
    """Al salir del bloque (como sea) borra los temporales de la lista que existan."""
    try:
        yield
    finally:
        with _signals_blocked():  # que un segundo Ctrl-C no deje la limpieza a medias
            for path in temporaries:
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()


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
    tmp = _temporary_name(target, "tmp")
    with _write_errors_explained(target), _cleaned_up([tmp]):
        target.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        if tmp.exists():
            os.chmod(tmp, 0o666 & ~current_umask())
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
        os.replace(tmp, target)


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike) -> Iterator[Path]:
    """Da una carpeta temporal junto a ``path``; al salir bien, ocupa el lugar de ``path``.

    Si ``path`` ya existía (algo nuestro: compruébalo antes con :func:`check_output_path`),
    se aparta, se pone la nueva en su sitio y se borra la vieja; los dos renombrados se hacen
    con SIGINT/SIGTERM bloqueadas, así que ``path`` siempre tiene una versión completa. Si
    el bloque falla, la carpeta temporal se borra. Las carpetas creadas respetan la ``umask``.
    """
    target = Path(path)
    tmp = _temporary_name(target, "tmp")
    old = _temporary_name(target, "old")
    temporaries = [tmp, old]
    with _write_errors_explained(target), _cleaned_up(temporaries):
        target.parent.mkdir(parents=True, exist_ok=True)
        os.mkdir(tmp)  # respeta la umask (tempfile.mkdtemp crearía 0700)
        yield tmp
        with _signals_blocked():
            moved = target.exists() or target.is_symlink()
            if moved:
                os.replace(target, old)
            try:
                os.replace(tmp, target)
            except BaseException as err:
                if moved:  # se deja la versión anterior donde estaba
                    temporaries.remove(old)  # y si ni eso se puede, no se borra
                    _restore(old, target, err)
                    temporaries.append(old)
                raise


def _restore(old: Path, target: Path, err: BaseException) -> None:
    """Devuelve la versión anterior a su sitio; si no se puede, dice dónde quedó intacta."""
    try:
        os.replace(old, target)
    except OSError as restore_err:
        why = describe_os_error(err) if isinstance(err, OSError) else type(err).__name__
        raise FileWriteError(
            f"No pude guardar {target} ({why}) ni devolver la versión anterior a su sitio "
            f"({describe_os_error(restore_err)}). La versión anterior está intacta en {old}: "
            f"renómbrala a {target.name} cuando se arregle el problema."
        ) from restore_err


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Escribe ``text`` (UTF-8) en ``path`` de forma atómica (ver :func:`atomic_file`)."""
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json_atomic(path: str | os.PathLike, data: Any, indent: int | None = 2) -> Path:
    """Escribe ``data`` como JSON legible (UTF-8) en ``path`` de forma atómica."""
    return write_text_atomic(path, json.dumps(data, indent=indent, ensure_ascii=False) + "\n")


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
