"""Tokenizador BPE a nivel de bytes (capítulo 11; Sennrich et al., 2016) y bits por carácter.

:class:`BPETokenizer` se entrena con la biblioteca ``tokenizers`` de Hugging Face
(:meth:`BPETokenizer.train`) y tiene la interfaz de
:class:`~transformer_lib.data.tokenizers.CharTokenizer`: ``encode``, ``decode``,
``vocab_size``, ``to_dict``/``from_dict`` y ``save``/``load``, así que viaja igual dentro de
los checkpoints. Parte de los 256 bytes: cualquier texto Unicode se codifica, sin
caracteres desconocidos, y se decodifica exactamente.

Comparar la pérdida por token de dos tokenizadores no tiene sentido (un token BPE lleva
varios caracteres): :func:`bits_per_char` la pasa a bits por carácter.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

import torch

from .tokenizers import CharTokenizer, SavedTokenizer, ids_to_list

#: Los 256 bytes, el alfabeto de partida de un BPE a nivel de bytes.
BYTE_ALPHABET_SIZE = 256


class BPETokenizer(SavedTokenizer):
    """BPE a nivel de bytes: empieza con los 256 bytes y fusiona los pares más frecuentes.

    Cada fusión aprendida crea un token nuevo con la concatenación de dos existentes, hasta
    llegar a ``vocab_size``. El texto se parte antes en palabras (con su espacio delante,
    como en GPT-2), así que un token nunca cruza de una palabra a otra.

    No lo construyas a mano: usa :meth:`train` o :meth:`from_dict`.

    Parámetros:
        tokenizer: un ``tokenizers.Tokenizer`` de Hugging Face ya entrenado.
    """

    def __init__(self, tokenizer):
        self._tok = tokenizer

    @classmethod
    def train(cls, text: str, vocab_size: int, min_frequency: int = 2) -> BPETokenizer:
        """Aprende las fusiones de un BPE a nivel de bytes sobre ``text``.

        Parámetros:
            text: el texto de entrenamiento (solo el de entrenamiento: que la validación no
                decida el vocabulario).
            vocab_size: tamaño final del vocabulario, al menos 256 (los bytes).
            min_frequency: un par se fusiona solo si aparece al menos estas veces.

        Devuelve:
            El tokenizador entrenado; puede tener menos de ``vocab_size`` tokens si el texto
            no da para más fusiones.
        """
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

        if not isinstance(text, str) or not text:
            raise ValueError("BPETokenizer.train necesita un texto no vacío (un str).")
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < BYTE_ALPHABET_SIZE:
            raise ValueError(
                f"vocab_size debe ser un entero >= {BYTE_ALPHABET_SIZE} (los bytes de partida) y es "
                f"{vocab_size!r}."
            )
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size, min_frequency=min_frequency, show_progress=False,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[],
        )
        tok.train_from_iterator(text.splitlines(keepends=True), trainer=trainer)
        return cls(tok)

    @property
    def vocab_size(self) -> int:
        """Número de tokens (los 256 bytes y las fusiones)."""
        return self._tok.get_vocab_size()

    def encode(self, text: str) -> list[int]:
        """Convierte un texto en ids; ningún carácter es desconocido (todo son bytes).

        Parámetros:
            text: el texto.

        Devuelve:
            Los ids, normalmente bastantes menos que caracteres.
        """
        if not isinstance(text, str):
            raise TypeError(f"encode espera un str y recibió {type(text).__name__}.")
        return self._tok.encode(text).ids

    def decode(self, ids: Iterable[int] | torch.Tensor) -> str:
        """Convierte ids en texto: ``decode(encode(t)) == t`` para cualquier texto ``t``.

        Una secuencia que corta un carácter de varios bytes por la mitad (p. ej. al generar)
        decodifica ese trozo como «�».

        Parámetros:
            ids: lista de ids o tensor 1D.

        Devuelve:
            El texto.

        Formas:
            ids: (T,); un tensor 2D da ``ValueError`` (decodifica fila a fila).
        """
        ids = ids_to_list(ids)
        n = self.vocab_size
        for i in ids:
            if not 0 <= i < n:
                raise ValueError(f"El id {i} está fuera del vocabulario [0, {n - 1}].")
        return self._tok.decode(ids)

    def token_strings(self, ids: Iterable[int] | torch.Tensor) -> list[str]:
        """El texto de cada token por separado (para ver por dónde corta el BPE)."""
        return [self.decode([i]) for i in ids_to_list(ids)]

    def to_dict(self) -> dict:
        """El tokenizador como diccionario serializable en JSON (las fusiones incluidas)."""
        return {"type": "BPETokenizer", "version": 1, "tokenizer": json.loads(self._tok.to_str())}

    @classmethod
    def from_dict(cls, d: dict) -> BPETokenizer:
        """Inverso de :meth:`to_dict`.

        Parámetros:
            d: diccionario con ``type="BPETokenizer"`` y ``tokenizer`` (el JSON de Hugging Face).

        Devuelve:
            El tokenizador.
        """
        from tokenizers import Tokenizer

        if not isinstance(d, dict) or d.get("type") != "BPETokenizer":
            found = d.get("type") if isinstance(d, dict) else type(d).__name__
            raise ValueError(f"El diccionario no describe un BPETokenizer (type={found!r}).")
        if not isinstance(d.get("tokenizer"), dict):
            raise ValueError("El diccionario del BPETokenizer no tiene la clave 'tokenizer' (un objeto JSON).")
        try:
            return cls(Tokenizer.from_str(json.dumps(d["tokenizer"])))
        except Exception as err:  # el error de Rust no es un ValueError
            raise ValueError(f"La descripción del tokenizador BPE no es válida: {err}") from err

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BPETokenizer) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"BPETokenizer(vocab_size={self.vocab_size})"


def tokenizer_from_dict(d: dict) -> CharTokenizer | BPETokenizer:
    """El tokenizador que describe ``d``, de caracteres o BPE según su ``type``.

    Parámetros:
        d: lo que devolvió ``to_dict`` de un :class:`CharTokenizer` o un :class:`BPETokenizer`.

    Devuelve:
        El tokenizador.
    """
    if isinstance(d, dict) and d.get("type") == "BPETokenizer":
        return BPETokenizer.from_dict(d)
    return CharTokenizer.from_dict(d)


def chars_per_token(tokenizer: CharTokenizer | BPETokenizer, text: str) -> float:
    """Caracteres por token de ``tokenizer`` sobre ``text`` (1 con el de caracteres).

    Parámetros:
        tokenizer: el tokenizador.
        text: el texto (p. ej. la validación).

    Devuelve:
        ``len(text) / len(tokenizer.encode(text))``.
    """
    n = len(tokenizer.encode(text))
    if n == 0:
        raise ValueError("El texto no produce ningún token: no hay caracteres por token que medir.")
    return len(text) / n


def bits_per_char(loss_nats_per_token: float, chars_per_token: float = 1.0) -> float:
    """Pasa una entropía cruzada por token (en nats) a bits por carácter.

    bpc = pérdida / ln 2 / (caracteres por token): dividir entre ln 2 pasa de nats a bits,
    y dividir entre los caracteres que lleva cada token la reparte por carácter. Es la
    medida justa para comparar tokenizadores distintos sobre el mismo texto.

    Parámetros:
        loss_nats_per_token: la pérdida (``F.cross_entropy``, en nats por token).
        chars_per_token: caracteres por token (:func:`chars_per_token`; 1 con caracteres).

    Devuelve:
        Bits por carácter.
    """
    for name, value in (("loss_nats_per_token", loss_nats_per_token), ("chars_per_token", chars_per_token)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{name} debe ser un número finito y es {value!r}.")
    if loss_nats_per_token < 0:
        raise ValueError(f"loss_nats_per_token no puede ser negativa y es {loss_nats_per_token!r}.")
    if chars_per_token <= 0:
        raise ValueError(f"chars_per_token debe ser positivo y es {chars_per_token!r}.")
    return loss_nats_per_token / math.log(2) / chars_per_token
