"""GPT, el modelo solo-decoder (capítulos 8 y 10), y su configuración :class:`GPTConfig`.

Sus bloques no tienen atención cruzada, así que el recuento de parámetros es exacto.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_activation, check_dropout, check_heads, check_int, check_token_ids
from ..blocks import DecoderBlock
from ..normalization import LayerNorm
from ..positional import LearnedPositionalEncoding
from ..utils import DictConvertible
from .counting import ParameterCount


@dataclass
class GPTConfig(DictConvertible):
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
            check_int(getattr(self, name), f"GPTConfig.{name}")
        check_heads(self.d_model, self.n_head)
        check_dropout(self.dropout)
        check_activation(self.activation)
        if self.d_ff is None:
            self.d_ff = 4 * self.d_model
        check_int(self.d_ff, "GPTConfig.d_ff")


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
