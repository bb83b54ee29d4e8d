"""*Don Quijote de la Mancha* (Project Gutenberg, eBook #2000): buscarlo, descargarlo y comprobarlo.

:func:`load_quijote` devuelve el cuerpo del libro sin la cabecera ni la licencia de
Gutenberg, con saltos de línea ``\\n`` y en Unicode NFC. :func:`quijote_path` busca el
archivo ``pg2000.txt``, por este orden:

1. en la carpeta ``data_dir`` que le pases;
2. en la carpeta que indique la variable de entorno ``TRANSFORMER_LIB_DATA``;
3. en la caché del usuario (:func:`default_cache_dir`);
4. si no está, lo descarga de Project Gutenberg a la caché. La descarga va a un temporal
   junto a ``pg2000.txt`` que se comprueba (SHA-256) *antes* de renombrarlo: si se corta, la
   red falla o el contenido no es el esperado, no queda nada a medias.

Cada fallo (no está, no se puede leer, es otra edición, no hay red) da un error en español
que nombra el archivo y dice cómo conseguirlo.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from pathlib import Path

from ..files import (
    MissingFileError,
    OutputPathError,
    UnreadableFileError,
    atomic_file,
    check_output_path,
    is_file,
    read_bytes,
)

QUIJOTE_FILENAME = "pg2000.txt"
QUIJOTE_URLS = (
    "https://www.gutenberg.org/cache/epub/2000/pg2000.txt",
    "https://www.gutenberg.org/ebooks/2000.txt.utf-8",
)
#: SHA-256 del archivo tal como lo distribuye Project Gutenberg (2.225.769 bytes).
QUIJOTE_SHA256 = "485be638d952a55acbb944c964d0429418ca2da711df7bc48a36c612129ead9b"
#: SHA-256 del cuerpo limpio (UTF-8, NFC): 2.110.727 caracteres, 92 distintos.
QUIJOTE_BODY_SHA256 = "b23f7e93e3641ed041e59ed21da93c0d5610e991c9a2688e034c4345829b76b3"
DATA_ENV_VAR = "TRANSFORMER_LIB_DATA"

_START_MARK = "*** START OF THE PROJECT GUTENBERG EBOOK"
_END_MARK = "*** END OF THE PROJECT GUTENBERG EBOOK"


def default_cache_dir() -> Path:
    """Carpeta de caché del usuario para los datos (p. ej. ``~/.cache/transformer_lib`` en Linux)."""
    try:
        import pooch
    except ImportError:  # pooch es una dependencia; esto solo cubre instalaciones a medias
        return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "transformer_lib"
    return Path(pooch.os_cache("transformer_lib"))


def strip_gutenberg(raw: str) -> str:
    """Limpia un libro de Project Gutenberg y deja solo el cuerpo.

    Quita el BOM, convierte CRLF (y CR sueltos) en ``\\n``, se queda con lo que hay entre
    la línea ``*** START OF THE PROJECT GUTENBERG EBOOK …`` y la línea ``*** END OF …``,
    quita los espacios de los extremos, añade un salto de línea final y normaliza a
    Unicode NFC (algunas copias circulan en NFD, con las tildes como caracteres aparte).

    Parámetros:
        raw: el texto completo del archivo.

    Devuelve:
        El cuerpo del libro.
    """
    text = raw.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    start = text.find(_START_MARK)
    end = text.find(_END_MARK)
    if start < 0 or end < 0 or end < start:
        raise ValueError(
            "El texto no tiene las marcas de Project Gutenberg "
            f"({_START_MARK!r} … y {_END_MARK!r} …): ¿es el archivo correcto?"
        )
    body_start = text.find("\n", start) + 1  # la línea siguiente a la marca de inicio
    body = text[body_start:end].strip() + "\n"
    return unicodedata.normalize("NFC", body)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _how_to_get_it(cache: Path) -> str:
    return (
        f"Descárgalo a mano desde {QUIJOTE_URLS[0]} (o {QUIJOTE_URLS[1]}) y guárdalo como "
        f"{cache / QUIJOTE_FILENAME}, o bien guárdalo en cualquier carpeta y define la "
        f"variable de entorno {DATA_ENV_VAR} con esa carpeta "
        f"(p. ej. export {DATA_ENV_VAR}=/ruta/a/la/carpeta)."
    )


def _read_verified(path: Path, cache: Path) -> str:
    """Lee el archivo y comprueba que es la edición esperada; devuelve el cuerpo limpio."""
    raw = read_bytes(path, "el Quijote", _how_to_get_it(cache))
    try:
        decoded = raw.decode("utf-8")
        body = strip_gutenberg(decoded)
    except (UnicodeDecodeError, ValueError) as err:
        raise UnreadableFileError(
            f"El archivo {path} no es el Quijote de Project Gutenberg esperado ({err}). "
            + _how_to_get_it(cache)
        ) from None
    if _sha256(raw) == QUIJOTE_SHA256:
        return body
    # Se acepta también una copia con otros saltos de línea o en NFD si el cuerpo coincide.
    body_hash = _sha256(body.encode("utf-8"))
    if body_hash != QUIJOTE_BODY_SHA256:
        raise UnreadableFileError(
            f"El archivo {path} no coincide con la edición esperada del Quijote: su SHA-256 es "
            f"{_sha256(raw)} y se esperaba {QUIJOTE_SHA256} (o un cuerpo con SHA-256 "
            f"{QUIJOTE_BODY_SHA256}). Puede estar incompleto o ser otra edición; bórralo. "
            + _how_to_get_it(cache)
        )
    return body


def _downloader(url: str, output_file: str, pooch_obj=None) -> None:
    """Descarga ``url`` en ``output_file`` tal cual (lo comprueba quien llama)."""
    import pooch

    pooch.HTTPDownloader(progressbar=False, timeout=30)(url, output_file, pooch_obj)


def _download(cache: Path) -> Path:
    """Descarga el Quijote a la caché comprobando su SHA-256; prueba las URL por orden.

    Cada intento escribe en un temporal junto al destino (:func:`~transformer_lib.files.atomic_file`)
    que solo se renombra a ``pg2000.txt`` si su SHA-256 es el esperado; si no, se borra.
    """
    target = cache / QUIJOTE_FILENAME
    try:
        check_output_path(target, what="copia del Quijote", is_ours=lambda p: False, flag=None)
    except OutputPathError as err:
        raise OutputPathError(
            f"No encontré el Quijote y no puedo descargarlo a la caché: {err} " + _how_to_get_it(cache)
        ) from err
    errors = []
    for url in QUIJOTE_URLS:
        try:
            with atomic_file(target) as tmp:
                _downloader(url, str(tmp), None)
                digest = _sha256(tmp.read_bytes())
                if digest != QUIJOTE_SHA256:
                    raise ValueError(f"lo descargado tiene SHA-256 {digest} y se esperaba {QUIJOTE_SHA256}")
            return target
        except Exception as err:  # sin red, error HTTP, SHA-256 distinto…
            errors.append(f"{url}: {type(err).__name__}: {err}")
    raise MissingFileError(
        "No encontré el Quijote (pg2000.txt) y no pude descargarlo ("
        + " | ".join(errors)
        + "). "
        + _how_to_get_it(cache)
    )


def quijote_path(
    data_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    download: bool = True,
) -> Path:
    """Devuelve la ruta de ``pg2000.txt``, descargándolo a la caché si hace falta.

    Parámetros:
        data_dir: carpeta donde buscarlo primero; None usa ``$TRANSFORMER_LIB_DATA`` si existe.
        cache_dir: carpeta de caché; None usa :func:`default_cache_dir`.
        download: si se permite descargarlo cuando no está en ninguna parte.

    Devuelve:
        La ruta del archivo (no comprueba su SHA-256: eso lo hace :func:`load_quijote`).

    Lanza:
        FileNotFoundError: si no está donde se indicó, o no está en local y no se puede
            (o no se permite) descargar.
        FileAccessError: si una carpeta del camino no deja entrar (permisos); es el
            ``DataFileError`` de :mod:`transformer_lib.data`.
        OutputPathError: si hay que descargarlo y no se puede escribir en la caché.
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    how = _how_to_get_it(cache)
    if data_dir is None and os.environ.get(DATA_ENV_VAR):
        data_dir = os.environ[DATA_ENV_VAR]
        origin = f"la variable de entorno {DATA_ENV_VAR}"
    else:
        origin = "data_dir"
    if data_dir is not None:
        path = Path(data_dir).expanduser() / QUIJOTE_FILENAME
        if not is_file(path, "el Quijote", how):
            raise FileNotFoundError(
                f"{origin} apunta a {Path(data_dir)}, pero ahí no hay {QUIJOTE_FILENAME}. " + how
            )
        return path
    path = cache / QUIJOTE_FILENAME
    if is_file(path, "el Quijote", how):
        return path
    if not download:
        raise FileNotFoundError(f"No encontré {QUIJOTE_FILENAME} en la caché ({cache}). " + how)
    return _download(cache)


def load_quijote(
    data_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    download: bool = True,
) -> str:
    """Devuelve el texto de *Don Quijote de la Mancha* (Project Gutenberg, eBook #2000).

    Solo el cuerpo del libro (sin cabecera ni licencia de Gutenberg), con ``\\n`` como salto
    de línea y en Unicode NFC: 2.110.727 caracteres, 92 distintos. Antes de devolverlo
    comprueba el SHA-256 del archivo (o, si lo guardaste con otros saltos de línea, el del
    cuerpo); si no coincide, lanza un ``ValueError`` que dice qué hacer. Si el archivo existe
    pero no se puede leer (permisos), lanza un :class:`~transformer_lib.files.FileAccessError`
    (``DataFileError``, un ``OSError``) que nombra el archivo.

    Parámetros:
        data_dir: carpeta con ``pg2000.txt``; None busca en ``$TRANSFORMER_LIB_DATA``, después
            en la caché y, por último, lo descarga.
        cache_dir: carpeta de caché; None usa :func:`default_cache_dir`.
        download: False prohíbe descargar (error si no está en local).

    Devuelve:
        El cuerpo del libro como ``str``.
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = quijote_path(data_dir, cache, download)
    return _read_verified(path, cache)
