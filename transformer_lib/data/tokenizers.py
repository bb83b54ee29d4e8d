"""Tokenizador de caracteres (capítulos 1, 7 y 8): cada carácter distinto es un token.

:class:`CharTokenizer` guarda el vocabulario, codifica y decodifica, y se guarda y se carga
como JSON (:meth:`CharTokenizer.save`, :meth:`CharTokenizer.load`), que es como viaja dentro
de los checkpoints.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import torch

from ..files import UnreadableFileError, read_json, write_json_atomic


def ids_to_list(ids: Iterable[int] | torch.Tensor) -> list[int]:
    """Los ids de ``decode`` como lista: acepta listas y tensores 1D.

    Formas:
        ids: (T,); un tensor 2D da ``ValueError`` (decodifica fila a fila).
    """
    if isinstance(ids, torch.Tensor):
        if ids.dim() > 1:
            raise ValueError(
                f"decode espera una secuencia 1D de ids y recibió forma {tuple(ids.shape)}; "
                "decodifica cada fila por separado."
            )
        return ids.tolist()
    return list(ids)


class SavedTokenizer:
    """Guardar y cargar un tokenizador como JSON, a partir de su ``to_dict``/``from_dict``.

    La comparten :class:`CharTokenizer` y :class:`~transformer_lib.data.bpe.BPETokenizer`.
    """

    def to_dict(self) -> dict:  # pragma: no cover - lo define cada tokenizador
        raise NotImplementedError

    @classmethod
    def from_dict(cls, d: dict):  # pragma: no cover - lo define cada tokenizador
        raise NotImplementedError

    def save(self, path: str | os.PathLike) -> None:
        """Guarda el tokenizador como JSON (UTF-8, legible: sin escapes ``\\u00f1``).

        La escritura es atómica (ver :func:`transformer_lib.files.write_json_atomic`): si se
        corta a medias, ``path`` conserva lo que tenía.
        """
        write_json_atomic(path, self.to_dict(), indent=None)

    @classmethod
    def load(cls, path: str | os.PathLike):
        """Carga un tokenizador guardado con :meth:`save`.

        Parámetros:
            path: el archivo JSON.

        Devuelve:
            El tokenizador.

        Lanza:
            MissingFileError: si el archivo no existe (es un ``FileNotFoundError``).
            FileAccessError: si existe pero no se puede leer (permisos; es un ``OSError``).
            UnreadableFileError: si no es un JSON válido de esta clase de tokenizador (es un
                ``ValueError``); el mensaje nombra el archivo.
        """
        remedy = "Vuelve a guardarlo con tok.save(ruta)."
        data = read_json(path, what="el tokenizador", hint=remedy)
        try:
            return cls.from_dict(data)
        except (ValueError, TypeError) as err:
            raise UnreadableFileError(
                f"El tokenizador {path} no describe un {cls.__name__} válido ({err}). {remedy}"
            ) from err


class CharTokenizer(SavedTokenizer):
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
        """Construye el vocabulario con los caracteres que aparecen en ``text``.

        Parámetros:
            text: el texto del que salen los caracteres (ordenados por código Unicode).
            specials: tokens especiales, que ocupan los primeros ids.

        Devuelve:
            El tokenizador.
        """
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

        Devuelve:
            Un id por carácter que queda (con ``unknown=""``, menos que ``len(text)``).
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
        """Convierte ids en texto.

        Parámetros:
            ids: lista de ids o tensor 1D.
            skip_specials: si se omiten los tokens especiales (si no, salen con su nombre).

        Devuelve:
            El texto.

        Formas:
            ids: (T,); un tensor 2D da ``ValueError`` (decodifica fila a fila).
        """
        ids = ids_to_list(ids)
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
        """Inverso de :meth:`to_dict`.

        Parámetros:
            d: diccionario con ``type="CharTokenizer"``, ``chars`` y, opcionalmente, ``specials``.

        Devuelve:
            El tokenizador.
        """
        if not isinstance(d, dict) or d.get("type") != "CharTokenizer":
            found = d.get("type") if isinstance(d, dict) else type(d).__name__
            raise ValueError(f"El diccionario no describe un CharTokenizer (type={found!r}).")
        if "chars" not in d:
            raise ValueError("El diccionario del CharTokenizer no tiene la clave 'chars'.")
        return cls(d["chars"], d.get("specials", ()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharTokenizer) and self.itos == other.itos

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size}, specials={self.specials})"
