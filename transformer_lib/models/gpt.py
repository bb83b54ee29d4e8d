"""GPT, el modelo solo decoder (capítulos 8, 10 y 11), y su configuración :class:`GPTConfig`.

Sus bloques no tienen atención cruzada, así que el recuento de parámetros es exacto. Por
defecto es el bloque de GPT-2; cinco campos de :class:`GPTConfig` lo llevan, uno a uno, al
de Llama y los modelos de hoy (capítulo 11): ``norm="rmsnorm"``, ``position="rope"``,
``ffn="swiglu"``, ``n_kv_head`` (atención de consultas agrupadas) y ``rope_theta``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_activation, check_dropout, check_heads, check_int, check_token_ids
from ..blocks import DecoderBlock
from ..feedforward import FFNS, output_projection, swiglu_hidden_size
from ..multihead import KVCache, check_kv_heads
from ..normalization import NO_NORM, NORMS, make_norm
from ..positional import LearnedPositionalEncoding, check_rope
from ..utils import DictConvertible
from .counting import ParameterCount

POSITIONS = ("learned", "rope")


def _check_choice(value: str, name: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"GPTConfig.{name}={value!r} no vale: usa uno de {', '.join(map(repr, choices))}.")


@dataclass
class GPTConfig(DictConvertible):
    """Configuración de :class:`GPT`.

    Atributos:
        vocab_size: tamaño del vocabulario.
        block_size: longitud máxima de contexto T.
        n_layer: número de bloques.
        n_head: número de cabezas por bloque.
        d_model: dimensión del modelo.
        d_ff: dimensión interna de la FFN; None significa 4·d_model con ``ffn="mlp"`` y
            8/3·d_model (los mismos parámetros) con ``ffn="swiglu"``.
        dropout: dropout (0 para modelos pequeños que no sobreajustan).
        bias: si las capas lineales (atención y FFN) llevan sesgo.
        norm_first: True = Pre-LN (GPT-2); False = Post-LN.
        activation: activación de la FFN ("gelu" en GPT-2); SwiGLU usa siempre SiLU.
        tie_weights: si la proyección de salida comparte la matriz de embeddings de tokens.
        norm: ``"layernorm"`` (GPT-2), ``"rmsnorm"`` (Llama) o ``"none"`` (sin normalización:
            todas las normalizaciones, también la final, son ``nn.Identity``; capítulo 4).
        position: ``"learned"`` (embedding de posición, GPT-2) o ``"rope"`` (giros de q y k).
        ffn: ``"mlp"`` (GPT-2) o ``"swiglu"`` (Llama).
        n_kv_head: cabezas de claves y valores; None = n_head (atención multicabeza de
            siempre), 1 = multiconsulta; debe dividir a n_head.
        rope_theta: base de las frecuencias de RoPE (solo con ``position="rope"``).
        norm_eps: el ε de las normalizaciones.
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
    norm: str = "layernorm"
    position: str = "learned"
    ffn: str = "mlp"
    n_kv_head: int | None = None
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5

    def __post_init__(self):
        for name in ("vocab_size", "block_size", "n_layer"):
            check_int(getattr(self, name), f"GPTConfig.{name}")
        check_heads(self.d_model, self.n_head)
        check_dropout(self.dropout)
        check_activation(self.activation)
        _check_choice(self.norm, "norm", (*NORMS, NO_NORM))
        _check_choice(self.position, "position", POSITIONS)
        _check_choice(self.ffn, "ffn", FFNS)
        check_kv_heads(self.n_head, self.kv_heads)
        if self.position == "rope":
            check_rope(self.d_model // self.n_head, self.rope_theta)
        if isinstance(self.norm_eps, bool) or not isinstance(self.norm_eps, (int, float)) or self.norm_eps <= 0:
            raise ValueError(f"GPTConfig.norm_eps debe ser un número positivo y es {self.norm_eps!r}.")
        if self.d_ff is None:
            self.d_ff = swiglu_hidden_size(self.d_model) if self.ffn == "swiglu" else 4 * self.d_model
        check_int(self.d_ff, "GPTConfig.d_ff")

    @property
    def kv_heads(self) -> int:
        """Cabezas de claves y valores: ``n_kv_head``, o ``n_head`` si es None."""
        return self.n_head if self.n_kv_head is None else self.n_kv_head


class GPT(nn.Module):
    """Modelo de lenguaje solo decoder: GPT-2 por defecto, Llama con los campos del capítulo 11.

    Embeddings de tokens (y de posiciones aprendidas, con ``position="learned"``) → n_layer
    bloques decoder sin atención cruzada y con máscara causal → normalización final (en
    Pre-LN) → proyección al vocabulario.

    Con ``position="rope"`` no hay tabla de posiciones: el modelo acepta secuencias más
    largas que ``block_size`` (la longitud con la que se entrena), aunque nunca las haya visto.

    Formas (capítulos 8, 10 y 11):
        idx: (B, T) ids con T <= block_size (con RoPE, cualquier T); targets: (B, T);
        logits: (B, T, vocab_size); loss: escalar o None.
    """

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = c = config
        self.tok_emb = nn.Embedding(c.vocab_size, c.d_model)
        self.pos_emb = LearnedPositionalEncoding(c.d_model, c.block_size) if c.position == "learned" else None
        self.drop = nn.Dropout(c.dropout)
        rope_theta = c.rope_theta if c.position == "rope" else None
        self.blocks = nn.ModuleList(
            DecoderBlock(c.d_model, c.n_head, c.d_ff, c.dropout, c.norm_first, c.activation,
                         c.bias, cross_attention=False, norm=c.norm, norm_eps=c.norm_eps, ffn=c.ffn,
                         n_kv_heads=c.kv_heads, rope_theta=rope_theta)
            for _ in range(c.n_layer)
        )
        self.ln_f = make_norm(c.norm, c.d_model, c.norm_eps) if c.norm_first else nn.Identity()
        self.lm_head = nn.Linear(c.d_model, c.vocab_size, bias=False)
        if c.tie_weights:
            self.lm_head.weight = self.tok_emb.weight
        self.apply(self._init_weights)
        for block in self.blocks:  # proyecciones que suman al camino residual (GPT-2)
            for layer in (block.self_attn.w_o, output_projection(block.ff)):
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
        self, idx: torch.Tensor, targets: torch.Tensor | None = None, cache: KVCache | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits del siguiente token en cada posición y, si das ``targets``, la entropía cruzada.

        Con ``cache`` (una :class:`~transformer_lib.multihead.KVCache`), ``idx`` son solo los
        tokens nuevos: sus posiciones siguen a las ya guardadas y la atención usa también
        las claves y valores de antes. Es lo que hace :meth:`generate` con ``use_cache=True``.

        Formas:
            idx: (B, T) con T <= block_size; targets: (B, T) o None;
            salida: (logits (B, T, vocab_size), loss escalar o None).
        """
        start = 0 if cache is None else cache.length
        self._check_idx(idx, start)
        x = self.tok_emb(idx)  # (B, T) -> (B, T, d_model)
        if self.pos_emb is not None:
            x = self.pos_emb(x, offset=start)  # + la posición de cada token
        x = self.drop(x)
        for i, block in enumerate(self.blocks):  # sin caché, la llamada de siempre (vale un bloque propio)
            x = block(x, is_causal=True) if cache is None else block(x, is_causal=True, cache=cache[i])
        logits = self.lm_head(self.ln_f(x))  # (B, T, vocab_size)
        loss = None
        if targets is not None:
            self._check_targets(targets, idx)
            loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.reshape(-1))
        return logits, loss

    def new_cache(self) -> KVCache:
        """Una caché KV vacía para este modelo: ``n_layer`` capas de ``block_size`` posiciones.

        Cada capa guarda claves y valores de forma (B, n_kv_head, block_size, d_k).
        """
        return KVCache(self.config.n_layer, self.config.block_size)

    @torch.no_grad()
    def generate(
        self,
        idx: torch.Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: torch.Generator | None = None,
        use_cache: bool = False,
    ) -> torch.Tensor:
        """Genera ``max_new_tokens`` tokens de forma autorregresiva.

        En cada paso mira como mucho las últimas ``block_size`` posiciones, divide los
        logits entre ``temperature`` (0 = elegir siempre el más probable), se queda con los
        ``top_k`` mejores si se indica, y muestrea.

        Con ``use_cache=True`` guarda las claves y los valores de cada capa
        (:class:`~transformer_lib.multihead.KVCache`, de n_kv_head cabezas) y en cada paso
        solo procesa el token nuevo; da los mismos tokens que sin caché. Cuando el contexto
        llega a ``block_size`` hay que recortarlo, y entonces las claves guardadas dejan de
        valer: la caché se abandona y cada paso siguiente recalcula la ventana entera, como
        sin caché. Con posiciones aprendidas es evidente (recortar cambia la posición de todos
        los tokens). Con RoPE la posición no sería el problema, porque la puntuación solo
        depende de la distancia; pero desde la segunda capa, las claves de los tokens que
        quedan se calcularon atendiendo al token que sale de la ventana, y en la ventana
        recortada no lo verían. (Un modelo con RoPE acepta en ``forward`` contextos más
        largos que ``block_size``; ``generate`` los recorta igual, porque el modelo no ha
        visto posiciones más lejanas al entrenar.)

        Formas:
            idx: (B, T0); salida: (B, T0 + max_new_tokens).
        """
        if temperature < 0:
            raise ValueError(f"temperature debe ser >= 0 y es {temperature}.")
        if top_k is not None and top_k <= 0:
            raise ValueError(f"top_k debe ser un entero positivo o None y es {top_k!r}.")
        block_size = self.config.block_size
        cache = self.new_cache() if use_cache else None
        logits = None
        for _ in range(max_new_tokens):
            if logits is None:  # sin caché, o al empezar: la ventana entera
                logits, _ = self(idx[:, -block_size:], cache=cache)
            nxt = self._sample(logits[:, -1, :], temperature, top_k, generator)  # (B, 1)
            idx = torch.cat([idx, nxt], dim=1)
            if cache is not None and cache.length >= block_size:
                cache = None  # ventana llena: desde aquí, recortar y recalcular
            logits = self(nxt, cache=cache)[0] if cache is not None else None
        return idx

    @staticmethod
    def _sample(logits: torch.Tensor, temperature: float, top_k: int | None,
                generator: torch.Generator | None) -> torch.Tensor:
        """El siguiente token a partir de los logits de la última posición: (B, V) -> (B, 1)."""
        if temperature == 0:
            return logits.argmax(dim=-1, keepdim=True)  # (B, 1)
        logits = logits / temperature
        if top_k is not None:
            kth = torch.topk(logits, min(top_k, logits.shape[-1])).values[:, [-1]]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        probs = torch.softmax(logits, dim=-1)
        return torch.multinomial(probs, num_samples=1, generator=generator)  # (B, 1)

    def count_parameters(self) -> ParameterCount:
        """Cuenta parámetros (cada tensor una vez, aunque esté compartido)."""
        total = sum(p.numel() for p in self.parameters())
        embedding = self.tok_emb.weight.numel()
        if self.pos_emb is not None:
            embedding += self.pos_emb.embedding.weight.numel()
        return ParameterCount(total=total, embedding=embedding, non_embedding=total - embedding)

    def _check_idx(self, idx: torch.Tensor, start: int = 0) -> None:
        check_token_ids(idx, self.config.vocab_size, "idx")
        if idx.dim() != 2:
            raise ValueError(f"idx debe tener forma (B, T) y tiene {tuple(idx.shape)}.")
        if self.pos_emb is not None and start + idx.shape[1] > self.config.block_size:
            raise ValueError(
                f"La secuencia tiene T={start + idx.shape[1]} tokens y el modelo admite como mucho "
                f"block_size={self.config.block_size}."
            )

    def _check_targets(self, targets: torch.Tensor, idx: torch.Tensor) -> None:
        if targets.shape != idx.shape:
            raise ValueError(
                f"targets debe tener la misma forma que idx {tuple(idx.shape)} y tiene "
                f"{tuple(targets.shape)}."
            )
        check_token_ids(targets, self.config.vocab_size, "targets")
