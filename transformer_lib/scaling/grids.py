"""Rejillas de experimentos descritas como datos (capítulo 9): tamaños, datos y cómputo.

Tres rejillas, cada una un dataclass que se expande en una lista de :class:`RunSpec`
(tamaño del modelo, pasos, tokens, semilla y una clave estable que la identifica):

- :class:`SizeGrid`: varios tamaños, los mismos pasos → L(N).
- :class:`DataGrid`: un tamaño (o varios) entrenado sobre **subconjuntos anidados** del
  entrenamiento (prefijos, cada uno dentro del siguiente, de 1/64 de los caracteres a todos),
  siempre con los mismos pasos: los subconjuntos pequeños se repiten muchas épocas
  (``epochs = tokens vistos / tokens del subconjunto``) → L(D) y dónde deja de ayudar repetir.
- :class:`IsoFlopGrid`: para cada presupuesto C (FLOPs contados enteros: atención y capa de
  salida incluidas; o, con ``flops="kaplan"``, C = 6·N·D con N sin embeddings), varios tamaños
  con los pasos que lo agotan → las curvas IsoFLOP y N_opt(C).

Las rejillas de tamaños e IsoFLOP admiten un barrido de tasas (``lrs``) o una tasa por tamaño
(``lr_rule``, ver :mod:`~transformer_lib.scaling.learning_rate`), y el IsoFLOP un calendario
común (``schedule="fixed"``, como Kaplan et al.) en lugar del ajustado a cada ejecución.

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
- ``isoflop``: 4 presupuestos (3·10¹⁰, 10¹¹, 3·10¹¹, 10¹²; 1,5 décadas) × 5 a 8 tamaños (los
  de :data:`ISOFLOP_SIZES` cuyos pasos caben en [150, 30 000]) × 2 semillas ≈ 11 min;

en total ≈ 30 min con la máquina libre; con otros procesos pesados, bastante más (los
archivos de ``results/`` guardan el tiempo real de cada ejecución y la carga de la máquina).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import ClassVar

from ..data import QuijoteData
from ..models import GPTConfig
from ..training import TrainConfig
from .counting import FLOP_CONVENTIONS, model_param_count, run_flops_per_token
from .learning_rate import LrRule, _lr_key, _lrs, _run_lr
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
        budget: presupuesto C en FLOPs (solo en IsoFLOP), contado con la convención de la rejilla.
        lr: tasa de aprendizaje de este entrenamiento; None = la de la receta.
        decay_iters: paso en que el coseno llega a su mínimo; None = el último paso de este
            entrenamiento (el calendario ajustado a cada ejecución).
    """

    key: str
    grid: str
    size: SweepSize
    steps: int
    seed: int
    tokens: int
    subset_tokens: int | None = None
    budget: float | None = None
    lr: float | None = None
    decay_iters: int | None = None

    @property
    def point(self) -> str:
        """La clave sin la semilla: las ejecuciones con el mismo punto se promedian."""
        return self.key.rsplit("/s", 1)[0]

    def train_config(self, base: TrainConfig) -> TrainConfig:
        """La receta ``base`` ajustada a este entrenamiento.

        ``max_iters`` son sus pasos, el coseno llega a ``min_lr`` en su último paso (o en
        ``decay_iters`` si la rejilla fija un calendario común), la tasa es ``lr`` si la
        rejilla la da, el calentamiento es el de la receta pero nunca más de la décima parte de
        los pasos, la semilla es la suya y sin barra de progreso propia (la del barrido la
        sustituye).
        """
        if base.lr_decay_iters is not None:
            raise ValueError(f"lr_decay_iters={base.lr_decay_iters} no se usa en una rejilla: cada "
                             f"entrenamiento decae hasta su propio último paso. Quítalo de la receta.")
        return replace(base, max_iters=self.steps, seed=self.seed, lr_decay_iters=self.decay_iters,
                       lr=base.lr if self.lr is None else self.lr,
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
    if size.arch == "lstm":
        return f"lstm-L{size.n_layer}-d{size.d_model}"
    return f"L{size.n_layer}-h{size.n_head}-d{size.d_model}"


def _tokens_per_step(config: TrainConfig) -> int:
    return config.batch_size * config.block_size


@dataclass(frozen=True)
class SizeGrid:
    """L(N): cada tamaño con los mismos pasos y semillas.

    Atributos:
        sizes: los tamaños (GPT o LSTM).
        steps: pasos de cada entrenamiento; None = los ``max_iters`` de la receta.
        seeds: semillas; None = la de la receta.
        lrs: si se da, cada tamaño se entrena con cada una de estas tasas (un barrido de
            tasas; la clave lleva ``/lr…``).
        lr_rule: una tasa por tamaño (:class:`LrRule`); None = la de la receta.
    """

    kind: ClassVar[str] = "size"
    sizes: tuple[SweepSize, ...] = SWEEP_SIZES
    steps: int | None = None
    seeds: tuple[int, ...] | None = None
    lrs: tuple[float, ...] | None = None
    lr_rule: LrRule | None = None

    def runs(self, config: TrainConfig, vocab_size: int, train_tokens: int,
             gpt_kwargs: dict | None = None) -> list[RunSpec]:
        """Las ejecuciones de la rejilla (ver :func:`expand`)."""
        steps = self.steps or config.max_iters
        kwargs = {"block_size": config.block_size, **(gpt_kwargs or {})}
        specs = []
        for s in map(_as_size, self.sizes):
            n = model_param_count(s.model_config(vocab_size, **kwargs)).non_embedding
            for lr in _lrs(self.lrs):
                specs += [RunSpec(f"size/{_size_key(s)}{_lr_key(lr)}/s{seed}", "size", s, steps, seed,
                                  steps * _tokens_per_step(config), lr=_run_lr(n, lr, self.lr_rule))
                          for seed in _seeds(self.seeds, config)]
        return specs

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


# La familia del IsoFLOP: de 888 a 793 000 parámetros sin embeddings, con un factor ≈ 2 entre
# vecinos (más fino que el barrido de tamaños), para que cada presupuesto de 3e10 a 1e12 FLOPs
# tenga su mínimo por dentro y varios tamaños a cada lado (con 3e10 el óptimo está por debajo
# de L2-d8: por eso el L1-d8).
ISOFLOP_SIZES: tuple[SweepSize, ...] = (
    SweepSize(1, 1, 8), SweepSize(2, 2, 8), SweepSize(2, 2, 12), SweepSize(2, 2, 16), SweepSize(2, 2, 24),
    SweepSize(2, 2, 32), SweepSize(2, 4, 48), SweepSize(2, 4, 64), SweepSize(3, 4, 96),
    SweepSize(4, 4, 128),
)
SCHEDULES = ("matched", "fixed")


@dataclass(frozen=True)
class IsoFlopGrid:
    """IsoFLOP: para cada presupuesto C, cada tamaño con los pasos que lo agotan.

    Los pasos de un tamaño son round(C / (F·B·T)), con F sus FLOPs de entrenamiento por token
    contados con la convención ``flops`` (:func:`~transformer_lib.scaling.run_flops_per_token`):
    ``"full"`` (la del curso: atención y capa de salida incluidas) o ``"kaplan"`` (6·N sin
    embeddings, que abarata los modelos pequeños). Los tamaños con pasos fuera de
    [min_steps, max_steps] se omiten y cada presupuesto debe conservar al menos 3.

    Atributos:
        budgets: presupuestos en FLOPs.
        sizes: tamaños candidatos.
        seeds: semillas; None = la de la receta.
        single_seed_from: desde este presupuesto solo se usa la primera semilla (None = todas
            en todos).
        min_steps, max_steps: pasos admitidos.
        flops: convención de FLOPs con la que se fija cada presupuesto.
        schedule: ``"matched"`` (el coseno de cada ejecución acaba en su último paso, como en
            Hoffmann et al., 2022) o ``"fixed"`` (un solo calendario, el de la ejecución más
            larga de la rejilla, para todas: las cortas acaban con la tasa sin decaer, como en
            Kaplan et al., 2020).
        lrs: barrido de tasas (cada tamaño con cada tasa; la clave lleva ``/lr…``).
        lr_rule: una tasa por tamaño (:class:`LrRule`); None = la de la receta.
    """

    kind: ClassVar[str] = "isoflop"
    budgets: tuple[float, ...] = (3e10, 1e11, 3e11, 1e12)
    sizes: tuple[SweepSize, ...] = ISOFLOP_SIZES
    seeds: tuple[int, ...] | None = None
    single_seed_from: float | None = None
    min_steps: int = 150
    max_steps: int = 30_000
    flops: str = "full"
    schedule: str = "matched"
    lrs: tuple[float, ...] | None = None
    lr_rule: LrRule | None = None

    def runs(self, config: TrainConfig, vocab_size: int, train_tokens: int,
             gpt_kwargs: dict | None = None) -> list[RunSpec]:
        """Las ejecuciones de la rejilla (ver :func:`expand`)."""
        if not self.budgets or any(not c > 0 for c in self.budgets):
            raise ValueError(f"budgets deben ser FLOPs positivos y son {self.budgets!r}.")
        if self.flops not in FLOP_CONVENTIONS:
            raise ValueError(f"flops debe ser una de {FLOP_CONVENTIONS} y es {self.flops!r}.")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule debe ser uno de {SCHEDULES} y es {self.schedule!r}.")
        kwargs = {"block_size": config.block_size, **(gpt_kwargs or {})}
        seeds, specs = _seeds(self.seeds, config), []
        for c in sorted(set(self.budgets)):
            these = seeds[:1] if self.single_seed_from is not None and c >= self.single_seed_from else seeds
            chosen = []
            for s in map(_as_size, self.sizes):
                model_config = s.model_config(vocab_size, **kwargs)
                n = model_param_count(model_config).non_embedding
                steps = round(c / (run_flops_per_token(model_config, self.flops) * _tokens_per_step(config)))
                if self.min_steps <= steps <= self.max_steps:
                    chosen += [RunSpec(f"isoflop/C{c:.3g}/{_size_key(s)}{_lr_key(lr)}/s{seed}", "isoflop",
                                       s, steps, seed, steps * _tokens_per_step(config), budget=float(c),
                                       lr=_run_lr(n, lr, self.lr_rule))
                               for lr in _lrs(self.lrs) for seed in these]
            if len({r.size for r in chosen}) < 3:
                raise ValueError(f"El presupuesto C = {c:.3g} deja {len({r.size for r in chosen})} "
                                 f"tamaños con pasos en [{self.min_steps}, {self.max_steps}]: hacen "
                                 f"falta 3 para su parábola. Cambia los tamaños o el presupuesto.")
            specs += chosen
        if self.schedule == "fixed":
            horizon = max(r.steps for r in specs)
            specs = [replace(r, decay_iters=horizon) for r in specs]
        return specs

    def to_dict(self) -> dict:
        """La rejilla como diccionario (para JSON), con su tipo."""
        return {"kind": self.kind, **asdict(self)}


Grid = SizeGrid | DataGrid | IsoFlopGrid

DEFAULT_GRIDS: dict[str, Grid] = {
    "size": SizeGrid(seeds=(1337, 1338)),
    "data": DataGrid(seeds=(1337, 1338)),
    # Presupuestos en FLOPs reales (cuenta completa), de 3e10 a 1e12: 1,5 décadas.
    "isoflop": IsoFlopGrid(seeds=(1337, 1338)),
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
    for name in ("sizes", "seeds", "budgets", "fractions", "lrs"):
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
    per_token = run_flops_per_token(spec.size.model_config(vocab_size, **kwargs))
    ref = run_flops_per_token(REFERENCE_CONFIG) * REFERENCE_BATCH * REFERENCE_CONFIG.block_size
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

