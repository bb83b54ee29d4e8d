"""Del texto a lotes (capítulos 3, 4, 8, 9 y 10): partir los ids y muestrear ventanas.

- :func:`train_val_split` parte la secuencia de ids sin barajar (la validación es el final).
- :func:`get_batch` es la única función que muestrea ventanas ``(x, y)``, con ``y`` desplazada
  una posición; :meth:`QuijoteData.get_batch` y el bucle de
  :func:`transformer_lib.training.train` la usan por debajo.
- :func:`prepare_quijote` junta el Quijote, el tokenizador y el reparto en un :class:`QuijoteData`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from .bpe import BPETokenizer
from .quijote import load_quijote
from .tokenizers import CharTokenizer

TOKENIZERS = ("char", "bpe")
#: Vocabulario del BPE si no se pide otro.
DEFAULT_BPE_VOCAB_SIZE = 1024


def train_val_split(data: torch.Tensor, val_fraction: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """Parte una secuencia de ids: el primer ``1 - val_fraction`` para entrenar y el resto para validar.

    Sin barajar: la validación es el final del libro, texto que el modelo nunca vio.

    Parámetros:
        data: ids del texto.
        val_fraction: fracción final que se reserva para validar, en (0, 1).

    Devuelve:
        ``(train, val)``, dos vistas de ``data`` (no copias).

    Formas:
        data: (N,); train: (⌊N·(1 − val_fraction)⌋,); val: el resto.
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
        device: dispositivo de destino (None o "cpu": se quedan donde está ``data``).

    Devuelve:
        ``(x, y)``: las ventanas y sus objetivos. Son vistas de ``data`` (no contiguas en
        memoria): aplánalas con ``reshape``, no con ``view``.

    Formas:
        data: (N,); x, y: (B, T), del dtype de ``data``; y[:, t] es el token que sigue a x[:, t].
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
    """El Quijote listo para entrenar: tokenizador y ids de entrenamiento y validación.

    Lo devuelve :func:`prepare_quijote`; :func:`transformer_lib.training.train` lo acepta
    directamente como ``data``.

    Formas:
        train: (N_train,) y val: (N_val,), ids ``torch.long``.
    """

    tokenizer: CharTokenizer | BPETokenizer
    train: torch.Tensor
    val: torch.Tensor

    def get_batch(
        self, split: str, block_size: int, batch_size: int, generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Lote de ventanas de ``split``: lo mismo que :func:`get_batch` sobre ``self.train`` o ``self.val``.

        Parámetros:
            split: "train" o "val".
            block_size, batch_size, generator, device: como en :func:`get_batch`.

        Devuelve:
            ``(x, y)``, con ``y`` desplazada una posición.

        Formas:
            x, y: (B, T).
        """
        if split not in ("train", "val"):
            raise ValueError(f"split debe ser 'train' o 'val' y es {split!r}.")
        return get_batch(getattr(self, split), block_size, batch_size, generator, device)


def prepare_quijote(
    val_fraction: float = 0.1, data_dir: str | os.PathLike | None = None, download: bool = True,
    tokenizer: str = "char", vocab_size: int | None = None,
) -> QuijoteData:
    """Carga el Quijote, construye el tokenizador y parte 90 % / 10 %.

    Con ``tokenizer="char"`` (por defecto) el vocabulario son los caracteres del libro y se
    parten los ids. Con ``tokenizer="bpe"`` se parte antes el *texto* (por caracteres, en el
    mismo punto) y el BPE (:class:`~transformer_lib.data.bpe.BPETokenizer`) se entrena solo
    con la parte de entrenamiento: la validación no decide el vocabulario.

    Parámetros:
        val_fraction: fracción final del libro reservada para validar.
        data_dir, download: como en :func:`~transformer_lib.data.quijote.load_quijote`.
        tokenizer: ``"char"`` o ``"bpe"``.
        vocab_size: tamaño del vocabulario BPE (None = 1024); con ``"char"`` debe ser None.

    Devuelve:
        :class:`QuijoteData` con ``tokenizer`` (92 caracteres, o el BPE), ``train`` y ``val``
        (tensores 1D de ids).
    """
    if tokenizer not in TOKENIZERS:
        raise ValueError(f"tokenizer debe ser uno de {', '.join(map(repr, TOKENIZERS))} y es {tokenizer!r}.")
    if tokenizer == "char" and vocab_size is not None:
        raise ValueError(
            f"vocab_size={vocab_size} solo vale con tokenizer='bpe': el de caracteres tiene el "
            "vocabulario que salga del texto."
        )
    text = load_quijote(data_dir, download=download)
    if tokenizer == "bpe":
        train_text, val_text = train_val_split(text, val_fraction)  # también parte un str
        tok = BPETokenizer.train(train_text, vocab_size or DEFAULT_BPE_VOCAB_SIZE)
        as_ids = lambda t: torch.tensor(tok.encode(t), dtype=torch.long)  # noqa: E731
        return QuijoteData(tok, as_ids(train_text), as_ids(val_text))
    tok = CharTokenizer.from_text(text)
    ids = torch.tensor(tok.encode(text), dtype=torch.long)
    train, val = train_val_split(ids, val_fraction)
    return QuijoteData(tok, train, val)
