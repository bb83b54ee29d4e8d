"""El Transformer encoder-decoder completo (capítulo 7) y su configuración.

:class:`TransformerConfig` reúne los tamaños; :class:`Transformer` es la arquitectura de
Vaswani et al. (2017): embeddings, codificación posicional sinusoidal, pila de encoders, pila
de decoders y proyección de salida, más decodificación voraz.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import torch
from torch import nn

from .._checks import check_activation, check_dropout, check_heads, check_int, check_token_ids
from ..attention import causal_mask
from ..blocks import DecoderBlock, EncoderBlock
from ..normalization import LayerNorm
from ..positional import SinusoidalPositionalEncoding
from ..utils import DictConvertible


@dataclass
class TransformerConfig(DictConvertible):
    """Configuración de :class:`Transformer`.

    Atributos:
        src_vocab_size, tgt_vocab_size: tamaños de vocabulario de entrada y de salida.
        d_model, n_heads, d_ff: dimensiones (como en :class:`EncoderBlock`).
        norm_first: False = Post-LN (el original); True = Pre-LN (añade una LayerNorm final
            a cada pila, como hace ``nn.Transformer``).
        activation: activación de la FFN.
        n_encoder_layers, n_decoder_layers: número de bloques de cada pila (el encoder puede
            no tener ninguno; el decoder necesita al menos uno).
        dropout: dropout general.
        max_len: longitud máxima de la codificación posicional.

    Fuera de los dos vocabularios, pásalos por nombre: el orden de los campos no es el de los
    argumentos que tenía ``Transformer``.
    """

    src_vocab_size: int
    tgt_vocab_size: int
    d_model: int = 512
    n_heads: int = 8
    d_ff: int = 2048
    norm_first: bool = False
    activation: str = "relu"
    n_encoder_layers: int = 6
    n_decoder_layers: int = 6
    dropout: float = 0.1
    max_len: int = 512

    def __post_init__(self):
        for name in ("src_vocab_size", "tgt_vocab_size", "n_decoder_layers", "d_ff", "max_len"):
            check_int(getattr(self, name), f"TransformerConfig.{name}")
        check_int(self.n_encoder_layers, "TransformerConfig.n_encoder_layers", minimum=0)
        check_heads(self.d_model, self.n_heads)
        check_dropout(self.dropout)
        check_activation(self.activation)


def _as_config(config: TransformerConfig | int | None, tgt_vocab_size: int | None,
               sizes: dict[str, Any]) -> TransformerConfig:
    """La configuración de :class:`Transformer`, dada entera o por tamaños sueltos."""
    if isinstance(config, TransformerConfig):
        extra = sorted(sizes) + (["tgt_vocab_size"] if tgt_vocab_size is not None else [])
        if extra:
            raise TypeError(
                "Transformer recibe una TransformerConfig o los tamaños sueltos, no las dos cosas "
                f"(sobran {extra})."
            )
        return config
    names = [f.name for f in fields(TransformerConfig)]
    unknown = sorted(set(sizes) - set(names))
    if unknown:
        raise TypeError(
            f"Transformer no tiene el parámetro {unknown[0]!r}; los tamaños son los campos de "
            f"TransformerConfig: {', '.join(names)}."
        )
    given = {"src_vocab_size": config, "tgt_vocab_size": tgt_vocab_size}
    sizes = {**{k: v for k, v in given.items() if v is not None}, **sizes}
    if "src_vocab_size" not in sizes or "tgt_vocab_size" not in sizes:
        raise TypeError("Transformer necesita src_vocab_size y tgt_vocab_size (o una TransformerConfig).")
    return TransformerConfig(**sizes)


class Transformer(nn.Module):
    """Transformer encoder-decoder completo (Vaswani et al., 2017).

    Se construye con una :class:`TransformerConfig` o con sus campos sueltos, como
    ``Transformer(src_vocab_size, tgt_vocab_size, d_model=64, n_heads=4, ...)``; en los dos casos
    la configuración queda en ``model.config``.

    Parámetros:
        config: una :class:`TransformerConfig`, o ``src_vocab_size`` si das los tamaños sueltos.
        tgt_vocab_size: tamaño del vocabulario de salida (con los tamaños sueltos).
        **sizes: el resto de campos de :class:`TransformerConfig`, por nombre (``d_model``,
            ``n_heads``, ``d_ff``, ``norm_first``, ``activation``, ``n_encoder_layers``,
            ``n_decoder_layers``, ``dropout``, ``max_len``).

    Formas (capítulo 7):
        src: (B, S) ids; tgt: (B, T) ids; src_mask: difundible a (B, h, S, S) y se usa
        también para la atención cruzada, por lo que su última dimensión es S
        (lo normal: ``padding_mask(longitudes, S)``, de forma (B, 1, 1, S));
        tgt_mask: difundible a (B, h, T, T), por defecto ``causal_mask(T)``;
        salida: logits (B, T, tgt_vocab_size).
    """

    def __init__(self, config: TransformerConfig | int | None = None, tgt_vocab_size: int | None = None,
                 **sizes: Any):
        super().__init__()
        self.config = c = _as_config(config, tgt_vocab_size, sizes)
        self.src_emb = nn.Embedding(c.src_vocab_size, c.d_model)
        self.tgt_emb = nn.Embedding(c.tgt_vocab_size, c.d_model)
        self.pos = SinusoidalPositionalEncoding(c.d_model, c.max_len)
        self.drop = nn.Dropout(c.dropout)
        block = dict(d_model=c.d_model, n_heads=c.n_heads, d_ff=c.d_ff, dropout=c.dropout,
                     norm_first=c.norm_first, activation=c.activation)
        self.encoder = nn.ModuleList(EncoderBlock(**block) for _ in range(c.n_encoder_layers))
        self.decoder = nn.ModuleList(DecoderBlock(**block) for _ in range(c.n_decoder_layers))
        self.enc_norm = LayerNorm(c.d_model) if c.norm_first else nn.Identity()
        self.dec_norm = LayerNorm(c.d_model) if c.norm_first else nn.Identity()
        self.out = nn.Linear(c.d_model, c.tgt_vocab_size)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def embed(self, ids: torch.Tensor, emb: nn.Embedding) -> torch.Tensor:
        """Embedding escalado por √d_model más la posición.

        Formas:
            ids: (B, T); salida: (B, T, d_model).
        """
        check_token_ids(ids, emb.num_embeddings, "src" if emb is self.src_emb else "tgt")
        return self.drop(self.pos(emb(ids) * math.sqrt(self.config.d_model)))

    def encode(self, src: torch.Tensor, src_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Codifica la entrada con la pila de encoders.

        Formas:
            src: (B, S); src_mask: difundible a (B, h, S, S); salida (memory): (B, S, d_model).
        """
        x = self.embed(src, self.src_emb)
        for block in self.encoder:
            x = block(x, mask=src_mask)
        return self.enc_norm(x)

    def decode(self, tgt: torch.Tensor, memory: torch.Tensor, src_mask: torch.Tensor | None = None,
               tgt_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Decodifica con forzamiento del profesor (teacher forcing).

        Formas:
            tgt: (B, T); memory: (B, S, d_model); src_mask: difundible a (B, h, T, S);
            tgt_mask: difundible a (B, h, T, T) (None = causal); salida: logits (B, T, V).
        """
        x = self.embed(tgt, self.tgt_emb)
        if tgt_mask is None:
            tgt_mask = causal_mask(tgt.shape[1], device=tgt.device)  # (T, T)
        for block in self.decoder:
            x = block(x, memory, self_mask=tgt_mask, memory_mask=src_mask)
        return self.out(self.dec_norm(x))  # (B, T, d_model) -> (B, T, V)

    def forward(self, src: torch.Tensor, tgt: torch.Tensor, src_mask: torch.Tensor | None = None,
                tgt_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Codifica ``src`` y decodifica ``tgt`` con forzamiento del profesor.

        Formas:
            src: (B, S); tgt: (B, T); salida: logits (B, T, tgt_vocab_size).
        """
        return self.decode(tgt, self.encode(src, src_mask), src_mask, tgt_mask)

    @torch.no_grad()
    def greedy_decode(
        self,
        src: torch.Tensor,
        bos_id: int,
        max_len: int,
        eos_id: int | None = None,
        src_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Decodificación voraz: en cada paso, el token más probable.

        Se detiene antes si todas las secuencias han emitido ``eos_id``; las que ya lo
        emitieron siguen rellenándose con ``eos_id``.

        Formas:
            src: (B, S); salida: (B, ≤ max_len + 1) tokens, empezando por ``bos_id``.
        """
        memory = self.encode(src, src_mask)  # (B, S, d_model)
        ys = torch.full((src.shape[0], 1), bos_id, dtype=torch.long, device=src.device)
        done = torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)
        for _ in range(max_len):
            logits = self.decode(ys, memory, src_mask)[:, -1]  # (B, V)
            nxt = logits.argmax(dim=-1)  # (B,)
            if eos_id is not None:
                nxt = nxt.masked_fill(done, eos_id)
                done |= nxt == eos_id
            ys = torch.cat([ys, nxt[:, None]], dim=1)  # (B, t + 1)
            if eos_id is not None and bool(done.all()):
                break
        return ys
