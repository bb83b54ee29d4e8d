"""Datos del curso (capítulos 7, 9 y 10): *Don Quijote*, un tokenizador de caracteres y fechas.

- :func:`load_quijote` devuelve el texto de *Don Quijote de la Mancha* (Project Gutenberg,
  eBook #2000) sin la cabecera ni la licencia de Gutenberg, con saltos de línea ``\\n`` y en
  Unicode NFC. Busca el archivo ``pg2000.txt``, por este orden:

  1. en la carpeta ``data_dir`` que le pases;
  2. en la carpeta que indique la variable de entorno ``TRANSFORMER_LIB_DATA``;
  3. en la caché del usuario (:func:`default_cache_dir`);
  4. si no está, lo descarga de Project Gutenberg con ``pooch`` y comprueba su SHA-256.

- :class:`CharTokenizer`: un token por carácter, con tokens especiales opcionales.
- :func:`train_val_split`, :func:`get_batch` y :func:`prepare_quijote`: del texto a lotes
  de ventanas ``(x, y)`` para entrenar un GPT.
- La tarea sintética de traducción de fechas del capítulo 7: :func:`number_to_spanish`,
  :func:`date_to_spanish` y :class:`DatesTask` ("tres de marzo de dos mil veintiuno" →
  "2021-03-03").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

# --------------------------------------------------------------------------------------
# Don Quijote
# --------------------------------------------------------------------------------------

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
    raw = path.read_bytes()
    try:
        decoded = raw.decode("utf-8")
        body = strip_gutenberg(decoded)
    except (UnicodeDecodeError, ValueError) as err:
        raise ValueError(
            f"El archivo {path} no es el Quijote de Project Gutenberg esperado ({err}). "
            + _how_to_get_it(cache)
        ) from None
    if _sha256(raw) == QUIJOTE_SHA256:
        return body
    # Se acepta también una copia con otros saltos de línea o en NFD si el cuerpo coincide.
    body_hash = _sha256(body.encode("utf-8"))
    if body_hash != QUIJOTE_BODY_SHA256:
        raise ValueError(
            f"El archivo {path} no coincide con la edición esperada del Quijote: su SHA-256 es "
            f"{_sha256(raw)} y se esperaba {QUIJOTE_SHA256} (o un cuerpo con SHA-256 "
            f"{QUIJOTE_BODY_SHA256}). Puede estar incompleto o ser otra edición; bórralo. "
            + _how_to_get_it(cache)
        )
    return body


def _downloader(url: str, output_file: str, pooch_obj) -> None:
    """Descarga ``url`` en ``output_file`` (pooch escribe en un temporal y lo renombra al final)."""
    import pooch

    pooch.HTTPDownloader(progressbar=False, timeout=30)(url, output_file, pooch_obj)


def _download(cache: Path) -> Path:
    """Descarga el Quijote a la caché comprobando su SHA-256; prueba las URL por orden."""
    import pooch

    errors = []
    for url in QUIJOTE_URLS:
        try:
            path = pooch.retrieve(
                url,
                known_hash=f"sha256:{QUIJOTE_SHA256}",
                fname=QUIJOTE_FILENAME,
                path=cache,
                downloader=_downloader,
                progressbar=False,
            )
            return Path(path)
        except Exception as err:  # sin red, error HTTP, SHA-256 distinto…
            errors.append(f"{url}: {type(err).__name__}: {err}")
    raise FileNotFoundError(
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
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if data_dir is None and os.environ.get(DATA_ENV_VAR):
        data_dir = os.environ[DATA_ENV_VAR]
        origin = f"la variable de entorno {DATA_ENV_VAR}"
    else:
        origin = "data_dir"
    if data_dir is not None:
        path = Path(data_dir).expanduser() / QUIJOTE_FILENAME
        if not path.is_file():
            raise FileNotFoundError(
                f"{origin} apunta a {Path(data_dir)}, pero ahí no hay {QUIJOTE_FILENAME}. "
                + _how_to_get_it(cache)
            )
        return path
    path = cache / QUIJOTE_FILENAME
    if path.is_file():
        return path
    if not download:
        raise FileNotFoundError(
            f"No encontré {QUIJOTE_FILENAME} en la caché ({cache}). " + _how_to_get_it(cache)
        )
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
    cuerpo); si no coincide, lanza un ``ValueError`` que dice qué hacer.

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


# --------------------------------------------------------------------------------------
# Tokenizador de caracteres
# --------------------------------------------------------------------------------------


class CharTokenizer:
    """Tokenizador de caracteres: cada carácter distinto es un token.

    Los tokens especiales (si los hay) ocupan los primeros ids en el orden dado; por
    ejemplo, con ``specials=("<pad>", "<bos>", "<eos>")`` el relleno es el id 0. Detrás van
    los caracteres ordenados por su código Unicode.

    Un carácter que no está en el vocabulario produce un ``ValueError`` que lo nombra junto
    con su posición; con ``unknown=`` puedes pedir otra política: ``""`` lo descarta y un
    carácter del vocabulario (p. ej. ``" "``) lo sustituye.

    Parámetros:
        chars: los caracteres del vocabulario (sin repetir).
        specials: nombres de los tokens especiales (cadenas de más de un carácter, como "<pad>").
    """

    def __init__(self, chars: Iterable[str], specials: Sequence[str] = ()):
        chars = list(chars)
        specials = list(specials)
        for c in chars:
            if not isinstance(c, str) or len(c) != 1:
                raise ValueError(f"Cada elemento de chars debe ser un solo carácter y hay {c!r}.")
        if len(set(chars)) != len(chars):
            raise ValueError("chars tiene caracteres repetidos.")
        for s in specials:
            if not isinstance(s, str) or len(s) < 2:
                raise ValueError(
                    f"Los tokens especiales deben tener más de un carácter (como '<pad>') y hay {s!r}."
                )
        if len(set(specials)) != len(specials):
            raise ValueError(f"specials tiene nombres repetidos: {specials}.")
        self.specials = specials
        self.chars = chars
        self.itos: list[str] = specials + chars
        self.stoi: dict[str, int] = {s: i for i, s in enumerate(self.itos)}

    @classmethod
    def from_text(cls, text: str, specials: Sequence[str] = ()) -> CharTokenizer:
        """Construye el vocabulario con los caracteres que aparecen en ``text``."""
        return cls(sorted(set(text)), specials)

    @property
    def vocab_size(self) -> int:
        """Número de tokens (especiales incluidos)."""
        return len(self.itos)

    def token_id(self, special: str) -> int:
        """Id de un token especial, p. ej. ``tok.token_id("<pad>")``."""
        if special not in self.specials:
            raise ValueError(f"{special!r} no es un token especial de este tokenizador: {self.specials}.")
        return self.stoi[special]

    def encode(self, text: str, unknown: str | None = None) -> list[int]:
        """Convierte un texto en una lista de ids (uno por carácter).

        Parámetros:
            text: el texto.
            unknown: qué hacer con caracteres fuera del vocabulario. None (por defecto) lanza
                ``ValueError`` nombrando los caracteres y sus posiciones; ``""`` los descarta;
                un carácter del vocabulario los sustituye.
        """
        if not isinstance(text, str):
            raise TypeError(f"encode espera un str y recibió {type(text).__name__}.")
        stoi = self.stoi
        missing = set(text).difference(self.chars)
        if missing:
            if unknown is None:
                raise ValueError(self._unknown_message(text, missing))
            if unknown == "":
                text = "".join(c for c in text if c not in missing)
            elif unknown in self.chars:
                text = "".join(unknown if c in missing else c for c in text)
            else:
                raise ValueError(
                    f"unknown={unknown!r} no vale: usa None (error), '' (descartar) o un carácter "
                    "del vocabulario."
                )
        return [stoi[c] for c in text]

    def _unknown_message(self, text: str, missing: set[str]) -> str:
        first: dict[str, int] = {}
        for i, c in enumerate(text):
            if c in missing and c not in first:
                first[c] = i
        shown = ", ".join(
            f"{c!r} (U+{ord(c):04X}) en la posición {i}" for c, i in sorted(first.items(), key=lambda kv: kv[1])[:5]
        )
        more = f" y {len(first) - 5} más" if len(first) > 5 else ""
        return (
            f"El texto tiene {len(first)} carácter(es) fuera del vocabulario: {shown}{more}. "
            "Quítalos, o usa encode(..., unknown='') para descartarlos o unknown=' ' para "
            "sustituirlos."
        )

    def decode(self, ids: Iterable[int] | torch.Tensor, skip_specials: bool = False) -> str:
        """Convierte ids en texto. Los especiales salen con su nombre (o se omiten con ``skip_specials``)."""
        if isinstance(ids, torch.Tensor):
            if ids.dim() > 1:
                raise ValueError(
                    f"decode espera una secuencia 1D de ids y recibió forma {tuple(ids.shape)}; "
                    "decodifica cada fila por separado."
                )
            ids = ids.tolist()
        n, itos, first = len(self.itos), self.itos, len(self.specials)
        out = []
        for i in ids:
            if not 0 <= i < n:
                raise ValueError(f"El id {i} está fuera del vocabulario [0, {n - 1}].")
            if skip_specials and i < first:
                continue
            out.append(itos[i])
        return "".join(out)

    def to_dict(self) -> dict:
        """El tokenizador como diccionario serializable en JSON."""
        return {"type": "CharTokenizer", "version": 1, "specials": self.specials, "chars": self.chars}

    @classmethod
    def from_dict(cls, d: dict) -> CharTokenizer:
        """Inverso de :meth:`to_dict`."""
        if d.get("type") != "CharTokenizer":
            raise ValueError(f"El diccionario no describe un CharTokenizer (type={d.get('type')!r}).")
        return cls(d["chars"], d.get("specials", ()))

    def save(self, path: str | os.PathLike) -> None:
        """Guarda el vocabulario como JSON (UTF-8)."""
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | os.PathLike) -> CharTokenizer:
        """Carga un tokenizador guardado con :meth:`save`."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharTokenizer) and self.itos == other.itos

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size}, specials={self.specials})"


# --------------------------------------------------------------------------------------
# Del texto a lotes
# --------------------------------------------------------------------------------------


def train_val_split(data: torch.Tensor, val_fraction: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """Parte una secuencia de ids: el primer ``1 - val_fraction`` para entrenar y el resto para validar.

    Sin barajar: la validación es el final del libro, texto que el modelo nunca vio.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction debe estar en (0, 1) y es {val_fraction!r}.")
    n = int(len(data) * (1.0 - val_fraction))
    return data[:n], data[n:]


def get_batch(
    data: torch.Tensor,
    block_size: int,
    batch_size: int,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Toma ``batch_size`` ventanas al azar de ``data``; ``y`` es ``x`` desplazada una posición.

    Parámetros:
        data: ids del texto, forma (N,).
        block_size: longitud T de cada ventana.
        batch_size: número B de ventanas.
        generator: generador de PyTorch para que el muestreo sea repetible.
        device: dispositivo de destino.

    Formas:
        x, y: (B, T), torch.long; y[:, t] es el token que sigue a x[:, t].
    """
    if data.dim() != 1:
        raise ValueError(f"data debe ser un tensor 1D de ids y tiene forma {tuple(data.shape)}.")
    if block_size <= 0 or batch_size <= 0:
        raise ValueError(f"block_size y batch_size deben ser positivos: {block_size}, {batch_size}.")
    if len(data) <= block_size:
        raise ValueError(f"data tiene {len(data)} tokens, pocos para ventanas de block_size={block_size}.")
    ix = torch.randint(len(data) - block_size, (batch_size,), generator=generator)
    windows = data.unfold(0, block_size + 1, 1)[ix]  # (B, T + 1)
    x, y = windows[:, :-1], windows[:, 1:]  # (B, T), (B, T)
    if device is not None and torch.device(device).type != "cpu":
        x = x.to(device, non_blocking=True)
        y = y.to(device, non_blocking=True)
    return x, y


@dataclass
class QuijoteData:
    """El Quijote listo para entrenar: tokenizador y ids de entrenamiento y validación."""

    tokenizer: CharTokenizer
    train: torch.Tensor
    val: torch.Tensor

    def get_batch(
        self, split: str, block_size: int, batch_size: int, generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Lote de ``split`` ("train" o "val"); ver :func:`get_batch`."""
        if split not in ("train", "val"):
            raise ValueError(f"split debe ser 'train' o 'val' y es {split!r}.")
        return get_batch(getattr(self, split), block_size, batch_size, generator, device)


def prepare_quijote(
    val_fraction: float = 0.1, data_dir: str | os.PathLike | None = None, download: bool = True
) -> QuijoteData:
    """Carga el Quijote, construye el tokenizador de caracteres y parte 90 % / 10 %.

    Devuelve:
        :class:`QuijoteData` con ``tokenizer`` (92 caracteres), ``train`` y ``val`` (tensores 1D de ids).
    """
    text = load_quijote(data_dir, download=download)
    tok = CharTokenizer.from_text(text)
    ids = torch.tensor(tok.encode(text), dtype=torch.long)
    train, val = train_val_split(ids, val_fraction)
    return QuijoteData(tok, train, val)


# --------------------------------------------------------------------------------------
# Números y fechas en español (tarea sintética del capítulo 7)
# --------------------------------------------------------------------------------------

_UNITS = ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve",
          "diez", "once", "doce", "trece", "catorce", "quince", "dieciséis", "diecisiete",
          "dieciocho", "diecinueve", "veinte", "veintiuno", "veintidós", "veintitrés",
          "veinticuatro", "veinticinco", "veintiséis", "veintisiete", "veintiocho", "veintinueve"]
_TENS = {3: "treinta", 4: "cuarenta", 5: "cincuenta", 6: "sesenta", 7: "setenta", 8: "ochenta",
         9: "noventa"}
_HUNDREDS = {1: "ciento", 2: "doscientos", 3: "trescientos", 4: "cuatrocientos", 5: "quinientos",
             6: "seiscientos", 7: "setecientos", 8: "ochocientos", 9: "novecientos"}
MONTHS = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
          "septiembre", "octubre", "noviembre", "diciembre")


def _below_thousand(n: int) -> str:
    if n < 30:
        return _UNITS[n]
    if n < 100:
        tens, unit = divmod(n, 10)
        return _TENS[tens] + (f" y {_UNITS[unit]}" if unit else "")
    if n == 100:
        return "cien"
    hundreds, rest = divmod(n, 100)
    return _HUNDREDS[hundreds] + (f" {_below_thousand(rest)}" if rest else "")


def _apocope(words: str) -> str:
    """'uno' → 'un' y 'veintiuno' → 'veintiún' delante de 'mil' (veintiún mil, treinta y un mil)."""
    if words.endswith("veintiuno"):
        return words[: -len("veintiuno")] + "veintiún"
    if words.endswith("uno"):
        return words[:-3] + "un"
    return words


def number_to_spanish(n: int) -> str:
    """Escribe un entero entre 0 y 999 999 con palabras, en español.

    Sigue la ortografía académica: "dieciséis", "veintidós", "veintitrés", "veintiséis"
    (con tilde), "treinta y uno", "cien" / "ciento uno", "quinientos", "mil" (no "un mil"),
    "dos mil veintiuno", "mil novecientos noventa y nueve". Al final del número se usa la
    forma completa "uno" / "veintiuno" (como cuando se cuenta o se dice una fecha: "uno de
    mayo", "veintiuno de marzo"); delante de "mil" se apocopa: "veintiún mil", "treinta y un mil".

    Parámetros:
        n: el número.

    Devuelve:
        El número en palabras, en minúsculas.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"number_to_spanish espera un int y recibió {type(n).__name__} ({n!r}).")
    if not 0 <= n <= 999_999:
        raise ValueError(f"number_to_spanish admite enteros de 0 a 999999 y recibió {n}.")
    thousands, rest = divmod(n, 1000)
    if thousands == 0:
        return _below_thousand(rest)
    head = "mil" if thousands == 1 else f"{_apocope(_below_thousand(thousands))} mil"
    return head + (f" {_below_thousand(rest)}" if rest else "")


def date_to_spanish(date: dt.date) -> str:
    """Escribe una fecha en palabras: ``date(2021, 3, 3)`` → "tres de marzo de dos mil veintiuno".

    El día se dice con el número cardinal en su forma completa ("uno de mayo", no
    "primero" ni "un"), y el año entero en palabras ("mil novecientos", "dos mil uno").
    """
    if not isinstance(date, dt.date):
        raise TypeError(f"date_to_spanish espera un datetime.date y recibió {type(date).__name__}.")
    return f"{number_to_spanish(date.day)} de {MONTHS[date.month - 1]} de {number_to_spanish(date.year)}"


@dataclass
class DatesBatch:
    """Un lote de la tarea de fechas ya convertido a tensores.

    Formas:
        src: (B, S) ids de la frase en español, rellena con <pad>;
        src_lengths: (B,) longitud real de cada frase;
        tgt_in: (B, T) ``<bos>`` + fecha ISO (entrada del decoder, forzado del profesor);
        tgt_out: (B, T) fecha ISO + ``<eos>`` (lo que el decoder debe predecir).
    """

    src: torch.Tensor
    src_lengths: torch.Tensor
    tgt_in: torch.Tensor
    tgt_out: torch.Tensor

    def __iter__(self):
        """Permite desempaquetar: ``src, src_lengths, tgt_in, tgt_out = batch``."""
        return iter((self.src, self.src_lengths, self.tgt_in, self.tgt_out))

    def to(self, device: torch.device | str) -> DatesBatch:
        """Copia el lote al dispositivo ``device``."""
        return DatesBatch(*(t.to(device) for t in (self.src, self.src_lengths, self.tgt_in, self.tgt_out)))

    def src_mask(self) -> torch.Tensor:
        """Máscara de relleno de la entrada, (B, 1, 1, S): True donde hay un token real."""
        S = self.src.shape[1]
        return (torch.arange(S, device=self.src.device)[None, :] < self.src_lengths[:, None])[:, None, None, :]


SPECIALS = ("<pad>", "<bos>", "<eos>")


class DatesTask:
    """Tarea sintética: traducir fechas escritas en español a formato ISO.

    "tres de marzo de dos mil veintiuno" → "2021-03-03". Las fechas van del 1 de enero de
    ``first_year`` al 31 de diciembre de ``last_year``. Todas las fechas se barajan una vez
    con ``split_seed`` y una fracción ``heldout_fraction`` se reserva para evaluar: ninguna
    fecha de evaluación aparece en el entrenamiento.

    Los dos tokenizadores son de caracteres, con ``<pad>`` = 0, ``<bos>`` = 1 y ``<eos>`` = 2.

    Es una tarea fácil para un Transformer pequeño: con d_model=64, 4 cabezas, 2 capas de
    encoder y 2 de decoder, d_ff=256, sin dropout, Pre-LN, lotes de 64 y lr=2e-3, 250 pasos
    de :func:`transformer_lib.training.train` dieron un 99 % de acierto exacto (decodificación
    voraz) sobre las 7304 fechas reservadas, y 400 pasos un 99,96 %.

    Parámetros:
        first_year, last_year: años extremos (incluidos).
        heldout_fraction: fracción de fechas reservadas para evaluación.
        split_seed: semilla del reparto entrenamiento / evaluación.
    """

    def __init__(self, first_year: int = 1900, last_year: int = 2099, heldout_fraction: float = 0.1,
                 split_seed: int = 0):
        if not 1 <= first_year <= last_year <= 9999:
            raise ValueError(f"Años no válidos: first_year={first_year}, last_year={last_year}.")
        if not 0.0 < heldout_fraction < 1.0:
            raise ValueError(f"heldout_fraction debe estar en (0, 1) y es {heldout_fraction!r}.")
        start, end = dt.date(first_year, 1, 1), dt.date(last_year, 12, 31)
        dates = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
        random.Random(split_seed).shuffle(dates)
        n_heldout = max(1, int(len(dates) * heldout_fraction))
        self.first_year, self.last_year = first_year, last_year
        self.heldout_dates: list[dt.date] = sorted(dates[:n_heldout])
        self.train_dates: list[dt.date] = sorted(dates[n_heldout:])
        letters = "abcdefghijklmnopqrstuvwxyzáéíóúñ "
        self.src_tokenizer = CharTokenizer(sorted(letters), SPECIALS)
        self.tgt_tokenizer = CharTokenizer("-0123456789", SPECIALS)
        self.pad_id, self.bos_id, self.eos_id = 0, 1, 2
        #: longitud de la fecha ISO más el <bos> o el <eos>
        self.max_target_len = 11

    def sample(self, n: int, seed: int = 0, split: str = "train") -> list[tuple[str, str]]:
        """``n`` pares (texto, ISO) al azar (con reemplazo) de ``split`` ("train" o "heldout").

        La misma semilla da siempre los mismos pares.
        """
        pool = self._pool(split)
        rng = random.Random(seed)
        return [self.pair(d) for d in rng.choices(pool, k=n)]

    def all_pairs(self, split: str = "heldout") -> list[tuple[str, str]]:
        """Todos los pares de ``split``, ordenados por fecha."""
        return [self.pair(d) for d in self._pool(split)]

    @staticmethod
    def pair(date: dt.date) -> tuple[str, str]:
        """El par (texto en español, fecha ISO) de una fecha."""
        return date_to_spanish(date), date.isoformat()

    def _pool(self, split: str) -> list[dt.date]:
        if split == "train":
            return self.train_dates
        if split in ("heldout", "val", "test"):
            return self.heldout_dates
        raise ValueError(f"split debe ser 'train' o 'heldout' y es {split!r}.")

    def encode(self, pairs: Sequence[tuple[str, str]], device: torch.device | str | None = None) -> DatesBatch:
        """Convierte pares (texto, ISO) en un :class:`DatesBatch` relleno con <pad>."""
        if len(pairs) == 0:
            raise ValueError("encode necesita al menos un par (texto, ISO).")
        src_ids = [self.src_tokenizer.encode(text) for text, _ in pairs]
        tgt_ids = [self.tgt_tokenizer.encode(iso) for _, iso in pairs]
        B, S, T = len(pairs), max(map(len, src_ids)), max(map(len, tgt_ids)) + 1
        src = torch.full((B, S), self.pad_id, dtype=torch.long)
        tgt_in = torch.full((B, T), self.pad_id, dtype=torch.long)
        tgt_out = torch.full((B, T), self.pad_id, dtype=torch.long)
        for i, (s, t) in enumerate(zip(src_ids, tgt_ids)):
            src[i, : len(s)] = torch.tensor(s)
            tgt_in[i, : len(t) + 1] = torch.tensor([self.bos_id, *t])
            tgt_out[i, : len(t) + 1] = torch.tensor([*t, self.eos_id])
        lengths = torch.tensor([len(s) for s in src_ids], dtype=torch.long)
        batch = DatesBatch(src, lengths, tgt_in, tgt_out)
        return batch.to(device) if device is not None else batch

    def decode_target(self, ids: torch.Tensor | Sequence[int]) -> str | list[str]:
        """Convierte ids del decoder en texto: ignora <bos> y <pad> y corta en el primer <eos>.

        Con un tensor 2D (B, T) devuelve una lista de B cadenas.
        """
        if isinstance(ids, torch.Tensor) and ids.dim() == 2:
            return [self.decode_target(row) for row in ids]
        ids = ids.tolist() if isinstance(ids, torch.Tensor) else list(ids)
        if self.eos_id in ids:
            ids = ids[: ids.index(self.eos_id)]
        return self.tgt_tokenizer.decode([i for i in ids if i not in (self.pad_id, self.bos_id)])

    def loss(self, model: torch.nn.Module, batch: DatesBatch) -> torch.Tensor:
        """Entropía cruzada del decoder con forzado del profesor, ignorando el relleno.

        Sirve como ``loss_fn`` de :func:`transformer_lib.training.train`.
        """
        logits = model(batch.src, batch.tgt_in, src_mask=batch.src_mask())  # (B, T, V)
        return torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), batch.tgt_out.reshape(-1), ignore_index=self.pad_id
        )

    def batch_source(self, batch_size: int, seed: int = 0, device: torch.device | str | None = None):
        """Función ``get_batch(split)`` para :func:`transformer_lib.training.train`.

        Cada llamada devuelve un :class:`DatesBatch` nuevo de ``split`` ("train" o "val",
        que usa las fechas reservadas); la secuencia es repetible con ``seed``.
        """
        rngs = {"train": random.Random(seed), "val": random.Random(seed + 1)}

        def source(split: str) -> DatesBatch:
            pool = self._pool("heldout" if split == "val" else split)
            dates = rngs[split].choices(pool, k=batch_size)
            return self.encode([self.pair(d) for d in dates], device)

        return source

    @torch.no_grad()
    def translate(self, model: torch.nn.Module, texts: Sequence[str], device: torch.device | str | None = None,
                  batch_size: int = 512) -> list[str]:
        """Traduce frases con decodificación voraz (``model.greedy_decode``).

        ``device`` None usa el dispositivo del modelo.
        """
        if device is None:
            device = next(model.parameters()).device
        was_training = model.training
        model.eval()
        out: list[str] = []
        for i in range(0, len(texts), batch_size):
            chunk = list(texts[i: i + batch_size])
            batch = self.encode([(t, "") for t in chunk], device)
            ys = model.greedy_decode(batch.src, self.bos_id, self.max_target_len, self.eos_id,
                                     src_mask=batch.src_mask())
            out.extend(self.decode_target(ys))
        model.train(was_training)
        return out

    def exact_match(self, model: torch.nn.Module, pairs: Sequence[tuple[str, str]],
                    device: torch.device | str | None = None) -> float:
        """Fracción de pares cuya fecha ISO predicha coincide exactamente con la correcta."""
        preds = self.translate(model, [t for t, _ in pairs], device)
        return sum(p == iso for p, (_, iso) in zip(preds, pairs)) / len(pairs)
