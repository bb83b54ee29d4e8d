"""Rejillas de experimentos descritas como datos (capítulo 9): tamaños, datos y cómputo.

Tres rejillas, cada una un dataclass que se expande en una lista de :class:`RunSpec`
(tamaño del modelo, pasos, tokens, semilla y una clave estable que la identifica):

- :class:`SizeGrid`: varios tamaños, los mismos pasos → L(N).
- :class:`DataGrid`: un tamaño (o varios) entrenado sobre **subconjuntos anidados** del
  entrenamiento (prefijos, cada uno dentro del siguiente, de 1/64 de los caracteres a todos),
  siempre con los mismos pasos: los subconjuntos pequeños se repiten muchas épocas
  (``epochs = tokens vistos / tokens del subconjunto``) → L(D) y dónde deja de ayudar repetir.
- :class:`IsoFlopGrid`: para cada presupuesto C (FLOPs, C = 6·N·D con N sin embeddings),
  varios tamaños con los pasos que lo agotan → las curvas IsoFLOP y N_opt(C).

Cada entrenamiento es completo: su calendario de la tasa (calentamiento y coseno) se ajusta a
**sus** pasos (:meth:`RunSpec.train_config`), así que el punto final de una ejecución corta no
es un punto intermedio de una larga.

Tiempo en la CPU de 2 núcleos (:func:`estimate_seconds`): se parte de los ≈ 23 ms por paso
medidos con el GPT de referencia (4 capas, d_model 128, B = 12, T = 64) y se escala con los
FLOPs por paso de cada tamaño, más ≈ 2 ms fijos por paso (lo que cuesta un paso del modelo
más pequeño aunque apenas tenga FLOPs) y la evaluación. Con las rejillas por defecto
(:data:`DEFAULT_GRIDS`; vocabulario de 92 caracteres, 1,9 M de caracteres de entrenamiento y
2 000 pasos de receta) sale:

- ``size``: 5 tamaños × 2 semillas × 2 000 pasos ≈ 7 min;
- ``data``: L4-d128 × 7 subconjuntos × 2 semillas × 2 000 pasos ≈ 13 min;
- ``isoflop``: 3 presupuestos (10¹², 3·10¹², 10¹³) × 5 o 6 tamaños (los de
  :data:`ISOFLOP_SIZES` cuyos pasos caben en [100, 90 000]), 2 semillas en los dos primeros
  y 1 en el mayor ≈ 21 min;

en total ≈ 41 min con la máquina libre; con otros procesos pesados, bastante más (los
archivos de ``results/`` guardan el tiempo real de cada ejecución y la carga de la máquina).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import ClassVar

from ..data import QuijoteData
from ..models import GPTConfig
from ..training import TrainConfig
from .counting import flops_per_token, gpt_param_count_exact
from .sweep import SWEEP_SIZES, SweepSize, _as_size

__all__ = [
    "RunSpec",
    "SizeGrid",
    "DataGrid",
    "IsoFlopGrid",
    "ISOFLOP_SIZES",
    "DEFAULT_GRIDS",
    "make_grid",
    "expand",
    "nested_subset",
    "estimate_seconds",
]

# Referencia de tiempos en la CPU de 2 núcleos (ver la cabecera del módulo).
REFERENCE_MS_PER_STEP = 23.0
REFERENCE_CONFIG = GPTConfig(vocab_size=92, block_size=64, n_layer=4, n_head=4, d_model=128)
REFERENCE_BATCH = 12
FIXED_MS_PER_STEP = 2.0

DATA_FRACTIONS = (1 / 64, 1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0)


@dataclass(frozen=True)
class RunSpec:
    """Un entrenamiento de una rejilla.

    Atributos:
        key: clave estable, p. ej. ``"isoflop/C3e+12/L2-h4-d64/s1337"``: la misma rejilla da
            siempre las mismas claves (así se reanuda un barrido).
        grid: ``"size"``, ``"data"`` o ``"isoflop"``.
        size: el tamaño del GPT.
        steps: pasos de entrenamiento (su calendario de la tasa acaba en el último).
        seed: semilla (inicialización, lotes y dropout).
        tokens: tokens que verá, pasos·B·T.
        subset_tokens: tokens distintos del entrenamiento que puede ver (un prefijo); None = todos.
        budget: presupuesto nominal C en FLOPs (solo en IsoFLOP).
    """

    key: str
    grid: str
    size: SweepSize
    steps: int
    seed: int
    tokens: int
    subset_tokens: int | None = None
    budget: float | None = None

    @property
    def point(self) -> str:
        """La clave sin la semilla: las ejecuciones con el mismo punto se promedian."""
        return self.key.rsplit("/s", 1)[0]

    def train_config(self, base: TrainConfig) -> TrainConfig:
        """La receta ``base`` ajustada a este entrenamiento.

        ``max_iters`` son sus pasos, el coseno llega a ``min_lr`` en su último paso
        (``lr_decay_iters=None``), el calentamiento es el de la receta pero nunca más de la
        décima parte de los pasos, la semilla es la suya y sin barra de progreso propia (la
        del barrido la sustituye).
        """
        if base.lr_decay_iters is not None:
            raise ValueError(f"lr_decay_iters={base.lr_decay_iters} no se usa en una rejilla: cada "
                             f"entrenamiento decae hasta su propio último paso. Quítalo de la receta.")
        return replace(base, max_iters=self.steps, seed=self.seed, lr_decay_iters=None,
                       warmup_iters=min(base.warmup_iters, self.steps // 10), progress=False)

    def to_dict(self) -> dict:
        """La especificación como diccionario (para JSON)."""
        return asdict(self)


def _seeds(seeds: Sequence[int] | None, config: TrainConfig) -> tuple[int, ...]:
    seeds = (config.seed,) if seeds is None else tuple(seeds)
    if not seeds or len(set(seeds)) != len(seeds) or not all(isinstance(s, int) for s in seeds):
        raise ValueError(f"seeds debe ser una lista de enteros distintos, no vacía; es {seeds!r}.")
    return seeds


def _size_key(size: SweepSize) -> str:
    return f"L{size.n_layer}-h{size.n_head}-d{size.d_model}"


def _tokens_per_step(config: TrainConfig) -> int:
    return config.batch_size * config.block_size


@dataclass(frozen=True)
class SizeGrid:
    """L(N): cada tamaño con los mismos pasos y semillas.

    Atributos:
        sizes: los tamaños.
        steps: pasos de cada entrenamiento; None = los ``max_iters`` de la receta.
        seeds: semillas; None = la de la receta.
    """

    kind: ClassVar[str] = "size"
    sizes: tuple[SweepSize, ...] = SWEEP_SIZES
    steps: int | None = None
    seeds: tuple[int, ...] | None = None

    def runs(self, config: TrainConfig, vocab_size: int, train_tokens: int,
             gpt_kwargs: dict | None = None) -> list[RunSpec]:
        """Las ejecuciones de la rejilla (ver :func:`expand`)."""
        steps = self.steps or config.max_iters
        return [RunSpec(f"size/{_size_key(s)}/s{seed}", "size", s, steps, seed,
                        steps * _tokens_per_step(config))
                for s in map(_as_size, self.sizes) for seed in _seeds(self.seeds, config)]

    def to_dict(self) -> dict:
        """La rejilla como diccionario (para JSON), con su tipo."""
        return {"kind": self.kind, **asdict(self)}


@dataclass(frozen=True)
class DataGrid:
    """L(D): un tamaño sobre prefijos anidados del entrenamiento, todos con los mismos pasos.

    Atributos:
        sizes: los tamaños (uno basta).
        fractions: fracciones de los tokens de entrenamiento de cada subconjunto, en (0, 1].
        steps: pasos de cada entrenamiento; None = los ``max_iters`` de la receta.
        seeds: semillas; None = la de la receta.
    """

    kind: ClassVar[str] = "data"
    sizes: tuple[SweepSize, ...] = (SweepSize(4, 4, 128),)
    fractions: tuple[float, ...] = DATA_FRACTIONS
    steps: int | None = None
    seeds: tuple[int, ...] | None = None

    def runs(self, config: TrainConfig, vocab_size: int, train_tokens: int,
             gpt_kwargs: dict | None = None) -> list[RunSpec]:
        """Las ejecuciones de la rejilla (ver :func:`expand`)."""
        if not self.fractions or any(not 0 < f <= 1 for f in self.fractions):
            raise ValueError(f"fractions deben estar en (0, 1] y son {self.fractions!r}.")
        steps = self.steps or config.max_iters
        specs = []
        for s in map(_as_size, self.sizes):
            for f in sorted(set(self.fractions)):
                subset = max(config.block_size + 2, round(f * train_tokens))
                specs += [RunSpec(f"data/{_size_key(s)}/D{subset}/s{seed}", "data", s, steps, seed,
                                  steps * _tokens_per_step(config), subset_tokens=subset)
                          for seed in _seeds(self.seeds, config)]
        return specs

    def to_dict(self) -> dict:
        """La rejilla como diccionario (para JSON), con su tipo."""
        return {"kind": self.kind, **asdict(self)}


# El IsoFLOP añade un modelo menor que los del barrido de tamaños: con C = 1e12 FLOPs el
# óptimo cae cerca de L2-d32, y sin un tamaño a su izquierda la parábola no lo encierra.
ISOFLOP_SIZES: tuple[SweepSize, ...] = (SweepSize(2, 2, 16), *SWEEP_SIZES)


@dataclass(frozen=True)
class IsoFlopGrid:
    """IsoFLOP: para cada presupuesto C, cada tamaño con los pasos que lo agotan.

    Los pasos de un tamaño con N parámetros sin embeddings son round(C / (6·N·B·T)); los
    que queden fuera de [min_steps, max_steps] se omiten (demasiado cortos para aprender o
    demasiado largos para la CPU), y cada presupuesto debe conservar al menos 3 tamaños.

    Atributos:
        budgets: presupuestos en FLOPs.
        sizes: tamaños candidatos.
        seeds: semillas; None = la de la receta.
        single_seed_from: desde este presupuesto solo se usa la primera semilla (None = todas
            en todos): así caben 2 semillas donde el tiempo lo permite.
        min_steps, max_steps: pasos admitidos.
    """

    kind: ClassVar[str] = "isoflop"
    budgets: tuple[float, ...] = (1e12, 3e12, 1e13)
    sizes: tuple[SweepSize, ...] = ISOFLOP_SIZES
    seeds: tuple[int, ...] | None = None
    single_seed_from: float | None = None
    min_steps: int = 100
    max_steps: int = 100_000

    def runs(self, config: TrainConfig, vocab_size: int, train_tokens: int,
             gpt_kwargs: dict | None = None) -> list[RunSpec]:
        """Las ejecuciones de la rejilla (ver :func:`expand`)."""
        if not self.budgets or any(not c > 0 for c in self.budgets):
            raise ValueError(f"budgets deben ser FLOPs positivos y son {self.budgets!r}.")
        kwargs = {"block_size": config.block_size, **(gpt_kwargs or {})}
        seeds, specs = _seeds(self.seeds, config), []
        for c in sorted(set(self.budgets)):
            these = seeds[:1] if self.single_seed_from is not None and c >= self.single_seed_from else seeds
            chosen = []
            for s in map(_as_size, self.sizes):
                n = gpt_param_count_exact(s.gpt_config(vocab_size, **kwargs)).non_embedding
                steps = round(c / (6 * n * _tokens_per_step(config)))
                if self.min_steps <= steps <= self.max_steps:
                    chosen += [RunSpec(f"isoflop/C{c:.3g}/{_size_key(s)}/s{seed}", "isoflop", s, steps,
                                       seed, steps * _tokens_per_step(config), budget=float(c))
                               for seed in these]
            if len({r.size for r in chosen}) < 3:
                raise ValueError(f"El presupuesto C = {c:.3g} deja {len({r.size for r in chosen})} "
                                 f"tamaños con pasos en [{self.min_steps}, {self.max_steps}]: hacen "
                                 f"falta 3 para su parábola. Cambia los tamaños o el presupuesto.")
            specs += chosen
        return specs

    def to_dict(self) -> dict:
        """La rejilla como diccionario (para JSON), con su tipo."""
        return {"kind": self.kind, **asdict(self)}


Grid = SizeGrid | DataGrid | IsoFlopGrid

DEFAULT_GRIDS: dict[str, Grid] = {
    "size": SizeGrid(seeds=(1337, 1338)),
    "data": DataGrid(seeds=(1337, 1338)),
    # max_steps: el L2-d16 con C = 3e12 (≈ 99 000 pasos, un cuarto de hora más de CPU) queda
    # fuera; ese perfil ya encierra su mínimo entre L2-d32 y L2-d64.
    "isoflop": IsoFlopGrid(seeds=(1337, 1338), single_seed_from=1e13, max_steps=90_000),
}


def make_grid(kind: str, **kwargs) -> Grid:
    """La rejilla por defecto de ``kind`` con los campos de ``kwargs`` cambiados.

    Parámetros:
        kind: ``"size"``, ``"data"`` o ``"isoflop"``.
        **kwargs: campos del dataclass (None = el valor por defecto).

    Devuelve:
        La rejilla.
    """
    if kind not in DEFAULT_GRIDS:
        raise ValueError(f"La rejilla debe ser una de {sorted(DEFAULT_GRIDS)} y es {kind!r}.")
    changes = {k: v for k, v in kwargs.items() if v is not None}
    for name in ("sizes", "seeds", "budgets", "fractions"):
        if name in changes:
            changes[name] = tuple(changes[name])
    return replace(DEFAULT_GRIDS[kind], **changes)


def nested_subset(data: QuijoteData, n_tokens: int) -> QuijoteData:
    """Los primeros ``n_tokens`` del entrenamiento, con la validación completa de siempre.

    Al ser prefijos, cada subconjunto está dentro de cualquiera mayor (subconjuntos anidados).

    Parámetros:
        data: los datos completos.
        n_tokens: tokens de entrenamiento que se conservan.

    Devuelve:
        Un ``QuijoteData`` con el mismo tokenizador, ``train[:n_tokens]`` y la misma ``val``.
    """
    if not isinstance(n_tokens, int) or not 1 < n_tokens <= len(data.train):
        raise ValueError(f"n_tokens debe ser un entero en [2, {len(data.train)}] y es {n_tokens!r}.")
    return QuijoteData(data.tokenizer, data.train[:n_tokens], data.val)


def estimate_seconds(spec: RunSpec, config: TrainConfig, vocab_size: int, val_tokens: int = 0,
                     gpt_kwargs: dict | None = None) -> float:
    """Segundos aproximados de un entrenamiento en la CPU de 2 núcleos (ver la cabecera).

    Parámetros:
        spec: el entrenamiento.
        config: la receta.
        vocab_size: tamaño del vocabulario.
        val_tokens: tokens de validación que se evalúan al final.
        gpt_kwargs: campos comunes de ``GPTConfig``.

    Devuelve:
        (2 ms + 23 ms·F/F_ref)·pasos más la evaluación (un tercio del coste de entrenar por
        token), con F los FLOPs por paso de este tamaño y F_ref los del GPT de referencia.
    """
    kwargs = {"block_size": config.block_size, **(gpt_kwargs or {})}
    per_token = flops_per_token(spec.size.gpt_config(vocab_size, **kwargs))
    ref = flops_per_token(REFERENCE_CONFIG) * REFERENCE_BATCH * REFERENCE_CONFIG.block_size
    ms = FIXED_MS_PER_STEP + REFERENCE_MS_PER_STEP * per_token * _tokens_per_step(config) / ref
    evals = (spec.steps // config.eval_interval) * config.eval_iters if config.eval_interval else 0
    eval_steps = (evals + config.final_eval_iters + val_tokens / _tokens_per_step(config)) / 3
    return ms * (spec.steps + eval_steps) / 1000


def expand(grid: Grid, config: TrainConfig, vocab_size: int, train_tokens: int,
           gpt_kwargs: dict | None = None) -> list[RunSpec]:
    """Las ejecuciones de ``grid`` con la receta ``config``, comprobando que las claves no se repiten.

    Parámetros:
        grid: la rejilla.
        config: la receta común (B, T, pasos por defecto, semilla por defecto).
        vocab_size: tamaño del vocabulario.
        train_tokens: tokens del entrenamiento completo.
        gpt_kwargs: campos comunes de ``GPTConfig``.

    Devuelve:
        La lista de :class:`RunSpec`, en el orden en que se entrenan.
    """
    specs = grid.runs(config, vocab_size, train_tokens, gpt_kwargs)
    keys = [s.key for s in specs]
    if not specs or len(set(keys)) != len(keys):
        raise ValueError(f"La rejilla {grid.kind} no da ejecuciones distintas: {keys}.")
    return specs

