"""Modelos completos (capítulos 7, 8 y 10): el Transformer encoder-decoder y GPT.

- :class:`Transformer`: la arquitectura de Vaswani et al. (2017), con embeddings,
  codificación posicional sinusoidal, pila de encoders, pila de decoders y proyección
  de salida; más decodificación voraz.
- :class:`GPT`: un modelo solo-decoder (Radford et al., 2019) configurado con
  :class:`GPTConfig`; sus bloques no tienen atención cruzada, así que el recuento de
  parámetros es exacto.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ._checks import check_activation, check_dropout, check_heads, check_token_ids
from .attention import causal_mask
from .blocks import DecoderBlock, EncoderBlock
from .normalization import LayerNorm
from .positional import LearnedPositionalEncoding, SinusoidalPositionalEncoding


@dataclass(frozen=True)
class ParameterCount:
    """Recuento de parámetros de un modelo.

    ``embedding`` son los embeddings de tokens y de posiciones (con los pesos atados,
    la proyección de salida comparte la matriz de tokens y no suma nada);
    ``non_embedding`` es el resto, la N de las leyes de escalado de Kaplan et al. (2020).
    """

    total: int
    embedding: int
    non_embedding: int


class Transformer(nn.Module):
    """Transformer encoder-decoder completo (Vaswani et al., 2017).

    Parámetros:
        src_vocab_size, tgt_vocab_size: tamaños de vocabulario de entrada y de salida.
        d_model, n_heads, d_ff: dimensiones (como en :class:`EncoderBlock`).
        n_encoder_layers, n_decoder_layers: número de bloques de cada pila.
        dropout: dropout general.
        max_len: longitud máxima de la codificación posicional.
        norm_first: False = Post-LN (el original); True = Pre-LN (añade una LayerNorm final
            a cada pila, como hace ``nn.Transformer``).
        activation: activación de la FFN.

    Formas (capítulo 7):
        src: (B, S) ids; tgt: (B, T) ids; src_mask: difundible a (B, h, S, S) y se usa
        también para la atención cruzada, por lo que su última dimensión es S
        (lo normal: ``padding_mask(longitudes, S)``, de forma (B, 1, 1, S));
        tgt_mask: difundible a (B, h, T, T), por defecto ``causal_mask(T)``;
        salida: logits (B, T, tgt_vocab_size).
    """

    def __init__(
        self,
        src_vocab_size: int,
        tgt_vocab_size: int,
        d_model: int = 512,
        n_heads: int = 8,
        n_encoder_layers: int = 6,
        n_decoder_layers: int = 6,
        d_ff: int = 2048,
        dropout: float = 0.1,
        max_len: int = 512,
        norm_first: bool = False,
        activation: str = "relu",
    ):
        super().__init__()
        check_heads(d_model, n_heads)
        self.d_model, self.src_vocab_size, self.tgt_vocab_size = d_model, src_vocab_size, tgt_vocab_size
        self.src_emb = nn.Embedding(src_vocab_size, d_model)
        self.tgt_emb = nn.Embedding(tgt_vocab_size, d_model)
        self.pos = SinusoidalPositionalEncoding(d_model, max_len)
        self.drop = nn.Dropout(dropout)
        block = dict(d_model=d_model, n_heads=n_heads, d_ff=d_ff, dropout=dropout,
                     norm_first=norm_first, activation=activation)
        self.encoder = nn.ModuleList(EncoderBlock(**block) for _ in range(n_encoder_layers))
        self.decoder = nn.ModuleList(DecoderBlock(**block) for _ in range(n_decoder_layers))
        self.enc_norm = LayerNorm(d_model) if norm_first else nn.Identity()
        self.dec_norm = LayerNorm(d_model) if norm_first else nn.Identity()
        self.out = nn.Linear(d_model, tgt_vocab_size)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def embed(self, ids: torch.Tensor, emb: nn.Embedding) -> torch.Tensor:
        """Embedding escalado por √d_model más la posición.

        Formas:
            ids: (B, T); salida: (B, T, d_model).
        """
        check_token_ids(ids, emb.num_embeddings, "src" if emb is self.src_emb else "tgt")
        return self.drop(self.pos(emb(ids) * math.sqrt(self.d_model)))

    def encode(self, src: torch.Tensor, src_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Codifica la entrada con la pila de encoders.

        Formas:
            src: (B, S); src_mask: difundible a (B, h, S, S); salida (memory): (B, S, d_model).
        """
        x = self.embed(src, self.src_emb)
        for block in self.encoder:
            x = block(x, mask=src_mask)
        return self.enc_norm(x)

    def decode(
        self,
        tgt: torch.Tensor,
        memory: torch.Tensor,
        src_mask: torch.Tensor | None = None,
        tgt_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Decodifica con forzado del profesor (teacher forcing).

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

    def forward(
        self,
        src: torch.Tensor,
        tgt: torch.Tensor,
        src_mask: torch.Tensor | None = None,
        tgt_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Codifica ``src`` y decodifica ``tgt`` con forzado del profesor.

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


@dataclass
class GPTConfig:
    """Configuración de :class:`GPT`.

    Atributos:
        vocab_size: tamaño del vocabulario.
        block_size: longitud máxima de contexto T.
        n_layer: número de bloques.
        n_head: número de cabezas por bloque.
        d_model: dimensión del modelo.
        d_ff: dimensión interna de la FFN; None significa 4·d_model.
        dropout: dropout (0 para modelos pequeños que no sobreajustan).
        bias: si las capas lineales y las LayerNorm llevan sesgo en las lineales.
        norm_first: True = Pre-LN (GPT-2); False = Post-LN.
        activation: activación de la FFN ("gelu" en GPT-2).
        tie_weights: si la proyección de salida comparte la matriz de embeddings de tokens.
    """

    vocab_size: int
    block_size: int = 64
    n_layer: int = 4
    n_head: int = 4
    d_model: int = 128
    d_ff: int | None = None
    dropout: float = 0.0
    bias: bool = True
    norm_first: bool = True
    activation: str = "gelu"
    tie_weights: bool = True

    def __post_init__(self):
        for name in ("vocab_size", "block_size", "n_layer"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"GPTConfig.{name} debe ser un entero positivo y es {value!r}.")
        check_heads(self.d_model, self.n_head)
        check_dropout(self.dropout)
        check_activation(self.activation)
        if self.d_ff is None:
            self.d_ff = 4 * self.d_model

    def to_dict(self) -> dict:
        """La configuración como diccionario (para guardarla en JSON o en un checkpoint)."""
        return asdict(self)


class GPT(nn.Module):
    """Modelo de lenguaje solo-decoder al estilo GPT-2.

    Embeddings de tokens y posiciones aprendidas → n_layer bloques decoder sin atención
    cruzada y con máscara causal → LayerNorm final (en Pre-LN) → proyección al vocabulario.

    Formas (capítulos 8 y 10):
        idx: (B, T) ids con T <= block_size; targets: (B, T);
        logits: (B, T, vocab_size); loss: escalar o None.
    """

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = c = config
        self.tok_emb = nn.Embedding(c.vocab_size, c.d_model)
        self.pos_emb = LearnedPositionalEncoding(c.d_model, c.block_size)
        self.drop = nn.Dropout(c.dropout)
        self.blocks = nn.ModuleList(
            DecoderBlock(c.d_model, c.n_head, c.d_ff, c.dropout, c.norm_first, c.activation,
                         c.bias, cross_attention=False)
            for _ in range(c.n_layer)
        )
        self.ln_f = LayerNorm(c.d_model) if c.norm_first else nn.Identity()
        self.lm_head = nn.Linear(c.d_model, c.vocab_size, bias=False)
        if c.tie_weights:
            self.lm_head.weight = self.tok_emb.weight
        self.apply(self._init_weights)
        for block in self.blocks:  # proyecciones que suman al camino residual (GPT-2)
            for layer in (block.self_attn.w_o, block.ff.linear2):
                nn.init.normal_(layer.weight, mean=0.0, std=0.02 / math.sqrt(2 * c.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits del siguiente token en cada posición y, si das ``targets``, la entropía cruzada.

        Formas:
            idx: (B, T) con T <= block_size; targets: (B, T) o None;
            salida: (logits (B, T, vocab_size), loss escalar o None).
        """
        self._check_idx(idx)
        x = self.drop(self.pos_emb(self.tok_emb(idx)))  # (B, T) -> (B, T, d_model)
        for block in self.blocks:
            x = block(x, is_causal=True)  # (B, T, d_model)
        logits = self.lm_head(self.ln_f(x))  # (B, T, vocab_size)
        loss = None
        if targets is not None:
            self._check_targets(targets, idx)
            loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.reshape(-1))
        return logits, loss

    @torch.no_grad()
    def generate(
        self,
        idx: torch.Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Genera ``max_new_tokens`` tokens de forma autorregresiva.

        En cada paso mira como mucho las últimas ``block_size`` posiciones, divide los
        logits entre ``temperature`` (0 = elegir siempre el más probable), se queda con los
        ``top_k`` mejores si se indica, y muestrea.

        Formas:
            idx: (B, T0); salida: (B, T0 + max_new_tokens).
        """
        if temperature < 0:
            raise ValueError(f"temperature debe ser >= 0 y es {temperature}.")
        if top_k is not None and top_k <= 0:
            raise ValueError(f"top_k debe ser un entero positivo o None y es {top_k!r}.")
        for _ in range(max_new_tokens):
            logits, _ = self(idx[:, -self.config.block_size:])
            logits = logits[:, -1, :]  # (B, vocab_size): solo la última posición
            if temperature == 0:
                nxt = logits.argmax(dim=-1, keepdim=True)  # (B, 1)
            else:
                logits = logits / temperature
                if top_k is not None:
                    kth = torch.topk(logits, min(top_k, logits.shape[-1])).values[:, [-1]]
                    logits = logits.masked_fill(logits < kth, float("-inf"))
                probs = torch.softmax(logits, dim=-1)
                nxt = torch.multinomial(probs, num_samples=1, generator=generator)  # (B, 1)
            idx = torch.cat([idx, nxt], dim=1)
        return idx

    def count_parameters(self) -> ParameterCount:
        """Cuenta parámetros (cada tensor una vez, aunque esté compartido)."""
        total = sum(p.numel() for p in self.parameters())
        embedding = self.tok_emb.weight.numel() + self.pos_emb.embedding.weight.numel()
        return ParameterCount(total=total, embedding=embedding, non_embedding=total - embedding)

    def _check_idx(self, idx: torch.Tensor) -> None:
        check_token_ids(idx, self.config.vocab_size, "idx")
        if idx.dim() != 2:
            raise ValueError(f"idx debe tener forma (B, T) y tiene {tuple(idx.shape)}.")
        if idx.shape[1] > self.config.block_size:
            raise ValueError(
                f"La secuencia tiene T={idx.shape[1]} tokens y el modelo admite como mucho "
                f"block_size={self.config.block_size}."
            )

    def _check_targets(self, targets: torch.Tensor, idx: torch.Tensor) -> None:
        if targets.shape != idx.shape:
            raise ValueError(
                f"targets debe tener la misma forma que idx {tuple(idx.shape)} y tiene "
                f"{tuple(targets.shape)}."
            )
        check_token_ids(targets, self.config.vocab_size, "targets")
