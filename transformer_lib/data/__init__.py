"""Datos del curso: *Don Quijote*, tokenizadores (caracteres y BPE), lotes y la tarea de fechas.

Un módulo por idea; todo se importa también desde aquí
(``from transformer_lib.data import prepare_quijote``):

- :mod:`~transformer_lib.data.quijote` (capítulos 1, 8, 9 y 10): buscar, descargar,
  comprobar y leer el Quijote: :func:`load_quijote`, :func:`quijote_path`,
  :func:`strip_gutenberg`, :func:`default_cache_dir`.
- :mod:`~transformer_lib.data.tokenizers`: :class:`CharTokenizer`, un token por carácter.
- :mod:`~transformer_lib.data.bpe` (capítulo 11): :class:`BPETokenizer`, BPE a nivel de
  bytes entrenado con ``tokenizers`` de Hugging Face; :func:`tokenizer_from_dict`,
  :func:`chars_per_token` y :func:`bits_per_char` (comparar tokenizadores en bits por carácter).
- :mod:`~transformer_lib.data.batching` (capítulos 3, 4, 8, 9 y 10): :func:`train_val_split`,
  :func:`get_batch` (la única función que muestrea ventanas), :class:`QuijoteData` y
  :func:`prepare_quijote`.
- :mod:`~transformer_lib.data.dates` (capítulo 7): :func:`number_to_spanish`,
  :func:`date_to_spanish`, :class:`DatesTask` y :class:`DatesBatch`
  ("tres de marzo de dos mil veintiuno" → "2021-03-03").
- :mod:`~transformer_lib.data.needle` (capítulo 9): :func:`~transformer_lib.data.needle.make_needle_batch`,
  la tarea de la aguja a distancia al azar (se importa desde su módulo).
- :mod:`~transformer_lib.data.files`: lectura de archivos con errores en español
  (:class:`DataFileError`).
"""

from __future__ import annotations

from .batching import TOKENIZERS, QuijoteData, get_batch, prepare_quijote, train_val_split
from .bpe import BPETokenizer, bits_per_char, chars_per_token, tokenizer_from_dict
from .dates import MONTHS, SPECIALS, DatesBatch, DatesTask, date_to_spanish, number_to_spanish
from .files import DataFileError
from .quijote import (
    DATA_ENV_VAR,
    QUIJOTE_BODY_SHA256,
    QUIJOTE_FILENAME,
    QUIJOTE_SHA256,
    QUIJOTE_URLS,
    default_cache_dir,
    load_quijote,
    quijote_path,
    strip_gutenberg,
)
from .tokenizers import CharTokenizer

__all__ = [
    # quijote
    "DATA_ENV_VAR",
    "QUIJOTE_BODY_SHA256",
    "QUIJOTE_FILENAME",
    "QUIJOTE_SHA256",
    "QUIJOTE_URLS",
    "default_cache_dir",
    "load_quijote",
    "quijote_path",
    "strip_gutenberg",
    # files
    "DataFileError",
    # tokenizers
    "CharTokenizer",
    "BPETokenizer",
    "TOKENIZERS",
    "bits_per_char",
    "chars_per_token",
    "tokenizer_from_dict",
    # batching
    "QuijoteData",
    "get_batch",
    "prepare_quijote",
    "train_val_split",
    # dates
    "MONTHS",
    "SPECIALS",
    "DatesBatch",
    "DatesTask",
    "date_to_spanish",
    "number_to_spanish",
]
