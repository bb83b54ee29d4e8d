"""La receta de entrenamiento de la línea de órdenes, declarada una sola vez.

``train`` y ``sweep`` comparten estas opciones: mismos nombres, misma ayuda y los mismos
valores por defecto, que se leen de los dataclasses :class:`~transformer_lib.training.TrainConfig`
y :class:`~transformer_lib.models.GPTConfig` (con ``dataclasses.fields``; aquí no se repite
ninguno). Cada opción se llama como su campo, con guiones: ``max_iters`` → ``--max-iters``;
los campos booleanos dan ``--campo/--no-campo``.

- :func:`add_recipe_arguments` declara las opciones en un analizador.
- :func:`recipe_from_args` convierte lo leído en ``(kwargs de GPTConfig, TrainConfig)``: con
  las mismas opciones, ``train`` y ``sweep`` construyen el mismo modelo y el mismo
  entrenamiento.

Para exponer un campo nuevo de ``TrainConfig`` o ``GPTConfig`` basta con añadirlo a
:data:`TRAIN_FLAGS`, :data:`MODEL_FLAGS` o :data:`SIZE_FLAGS` con su validador y su ayuda.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import MISSING, dataclass, fields
from typing import Any

from ..data import TOKENIZERS, prepare_quijote
from ..feedforward import FFNS
from ..models import GPTConfig
from ..models.gpt import POSITIONS
from ..normalization import NORMS
from ..training import PRECISIONS, TrainConfig
from .parser import non_negative_float, non_negative_int, positive_float, positive_int

DATASETS = ("quijote",)


@dataclass(frozen=True)
class Flag:
    """Cómo se expone un campo de un dataclass como opción (el valor por defecto es el del campo).

    Atributos:
        help: ayuda en español.
        type: validador de argparse (None para texto; no se usa en los campos booleanos).
        choices: valores permitidos, si los hay.
        aliases: otras grafías aceptadas por compatibilidad; no salen en la ayuda.
        metavar: nombre del valor en la ayuda (None = N para enteros, X para reales).
    """

    help: str
    type: Callable[[str], Any] | None = None
    choices: tuple[str, ...] | None = None
    aliases: tuple[str, ...] = ()
    metavar: str | None = None

    def value_name(self) -> str | None:
        """Cómo se llama el valor en la ayuda (None con ``choices``: argparse las enumera)."""
        if self.metavar or self.choices:
            return self.metavar
        if self.type in (int, positive_int, non_negative_int):
            return "N"
        return "X" if self.type in (positive_float, non_negative_float) else "TEXTO"


# Tamaño del modelo: solo en `train` (en `sweep` lo da --sizes).
SIZE_FLAGS: dict[str, Flag] = {
    "n_layer": Flag("número de bloques", positive_int),
    "n_head": Flag("cabezas de atención por bloque", positive_int),
    "d_model": Flag("dimensión del modelo", positive_int),
    "d_ff": Flag("dimensión de la FFN (por defecto 4·d_model)", positive_int),
}

# Arquitectura común a todos los tamaños.
MODEL_FLAGS: dict[str, Flag] = {
    "dropout": Flag("probabilidad de dropout, en [0, 1)", non_negative_float),
    "tie_weights": Flag("compartir la matriz de embeddings con la capa de salida"),
    "norm": Flag("normalización: layernorm (GPT-2) o rmsnorm (Llama)", choices=NORMS),
    "position": Flag("posiciones: learned (embedding aprendido, GPT-2) o rope (giros de q y k)",
                     choices=POSITIONS),
    "ffn": Flag("feed-forward: mlp (GELU, GPT-2) o swiglu (Llama; d_ff = 8/3·d_model por defecto)",
                choices=FFNS),
    "n_kv_head": Flag("cabezas de claves y valores (GQA; por defecto, las de --n-head; 1 = "
                      "multiconsulta); debe dividir a --n-head", positive_int),
    "rope_theta": Flag("base de las frecuencias de RoPE (solo con --position rope)", positive_float),
}

#: Las piezas de los modelos actuales (capítulo 11): solo pasan a la configuración (y a lo
#: que anotan ``train`` y ``sweep``) si no son las de GPT-2, así un resultado de GPT-2 se
#: anota igual que antes de que existieran.
MODERN_FLAGS = ("norm", "position", "ffn", "n_kv_head", "rope_theta")

TRAIN_FLAGS: dict[str, Flag] = {
    "block_size": Flag("longitud del contexto T", positive_int),
    "batch_size": Flag("ventanas por lote B", positive_int),
    "max_iters": Flag("pasos de entrenamiento (por modelo, en un barrido)", positive_int),
    "lr": Flag("tasa de aprendizaje máxima", positive_float),
    "min_lr": Flag("tasa de aprendizaje final (por defecto lr/2)", non_negative_float),
    "warmup_iters": Flag("pasos de calentamiento", non_negative_int),
    "lr_decay_iters": Flag("paso en que el coseno llega a --min-lr (por defecto --max-iters)",
                           positive_int),
    "weight_decay": Flag("decaimiento de pesos de AdamW", non_negative_float),
    "beta1": Flag("β₁ de AdamW", non_negative_float),
    "beta2": Flag("β₂ de AdamW", non_negative_float),
    "grad_clip": Flag("norma máxima del gradiente (0 = sin recorte)", non_negative_float),
    "grad_accum_steps": Flag("microlotes por proceso y paso (acumulación de gradiente; --batch-size "
                             "sigue siendo el lote total)", positive_int),
    "eval_interval": Flag("cada cuántos pasos se evalúa (0 = solo al final)", non_negative_int),
    "eval_iters": Flag("lotes por evaluación intermedia", positive_int),
    "final_eval_iters": Flag("lotes de la evaluación final (0 = los de --eval-iters)", non_negative_int),
    "seed": Flag("semilla (inicialización, lotes y evaluación)", int),
    "device": Flag("cpu, cuda o mps (por defecto, el mejor disponible)", metavar="DISPOSITIVO"),
    "precision": Flag("auto = cronometra unos pasos de cada candidata en esta máquina y usa la más "
                      "rápida (el resumen dice cuál y sus tiempos); tf32 solo en CUDA; bf16-math = "
                      "bf16 con la atención «math», que en CPU gana con contextos cortos",
                      choices=PRECISIONS),
    "compile": Flag("compilar el paso con torch.compile (el primer paso tarda más: el resumen lo da "
                    "aparte, en compile_seconds; en CPU no acelera este GPT)"),
    "num_threads": Flag("hilos de PyTorch en CPU (por defecto, los que haya; 1 rinde más en una "
                        "máquina compartida)", positive_int, aliases=("--threads",)),
    "progress": Flag("barra de progreso"),
}


def _add_bool_flag(parser, name: str, default: bool, help: str) -> argparse.Action:
    """Declara un interruptor ``--name/--no-name`` con ayuda en español.

    Parámetros:
        parser: el analizador o grupo de argumentos.
        name: la opción sin guiones iniciales, p. ej. ``"tie-weights"``.
        default: valor si no se da ninguna de las dos formas.
        help: ayuda en español (el formateador añade «(por defecto: sí/no)»).

    Devuelve:
        La acción de argparse creada.
    """
    action = parser.add_argument(f"--{name}", action=argparse.BooleanOptionalAction, default=default)
    action.help = help  # BooleanOptionalAction añadiría «(default: …)» en inglés
    return action


def _add_flags(group, cls: type, flags: dict[str, Flag], overrides: dict[str, Any] | None = None) -> None:
    """Declara las opciones de ``flags`` con los valores por defecto de los campos de ``cls``
    (o los de ``overrides``)."""
    defaults = {f.name: f.default for f in fields(cls)} | (overrides or {})
    for name, flag in flags.items():
        default = defaults[name]
        if default is MISSING:
            raise ValueError(f"{cls.__name__}.{name} no tiene valor por defecto: no puede ser una opción.")
        if isinstance(default, bool):
            _add_bool_flag(group, name.replace("_", "-"), default, flag.help)
            continue
        group.add_argument("--" + name.replace("_", "-"), dest=name, type=flag.type, default=default,
                           choices=flag.choices, metavar=flag.value_name(), help=flag.help)
        for alias in flag.aliases:  # grafías antiguas: funcionan, pero no se anuncian
            group.add_argument(alias, dest=name, type=flag.type, choices=flag.choices,
                               default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def add_recipe_arguments(parser: argparse.ArgumentParser, model_size: bool = False,
                         defaults: dict[str, Any] | None = None) -> None:
    """Declara las opciones de la receta: datos, modelo y entrenamiento.

    Parámetros:
        parser: el analizador del subcomando.
        model_size: si se declaran también ``--n-layer``, ``--n-head``, ``--d-model`` y
            ``--d-ff`` (en ``train``; en ``sweep`` el tamaño lo da ``--sizes``).
        defaults: valores por defecto distintos de los de ``TrainConfig`` (``train`` usa
            ``precision="auto"``; ``sweep`` se queda en fp32, para que repetir un barrido dé
            el mismo archivo).
    """
    g = parser.add_argument_group("datos")
    g.add_argument("--data", default=DATASETS[0], choices=DATASETS, help="conjunto de datos")
    g.add_argument("--data-dir", default=None, metavar="CARPETA",
                   help="carpeta con pg2000.txt (si no, $TRANSFORMER_LIB_DATA, la caché o descarga)")
    g.add_argument("--tokenizer", default=TOKENIZERS[0], choices=TOKENIZERS,
                   help="char = un token por carácter; bpe = BPE a nivel de bytes entrenado con la "
                        "parte de entrenamiento")
    g.add_argument("--vocab-size", default=None, type=positive_int, metavar="N",
                   help="tamaño del vocabulario BPE (por defecto 1024; solo con --tokenizer bpe)")
    g = parser.add_argument_group("modelo")
    _add_flags(g, GPTConfig, {**(SIZE_FLAGS if model_size else {}), **MODEL_FLAGS})
    _add_flags(parser.add_argument_group("entrenamiento"), TrainConfig, TRAIN_FLAGS, defaults)


def recipe_from_args(args: argparse.Namespace) -> tuple[dict[str, Any], TrainConfig]:
    """Convierte las opciones leídas en la configuración del modelo y la del entrenamiento.

    Valida antes de cargar datos o entrenar, con mensajes que nombran la opción.

    Parámetros:
        args: lo que devuelve ``parse_args`` de un analizador con :func:`add_recipe_arguments`.

    Devuelve:
        ``(gpt_kwargs, config)``: los campos de ``GPTConfig`` que hay en ``args`` (con
        ``block_size`` = ``config.block_size``; falta ``vocab_size``, que dan los datos; los
        de :data:`MODERN_FLAGS`, solo si no son los de GPT-2) y el ``TrainConfig``.
    """
    gpt_kwargs = {f.name: getattr(args, f.name) for f in fields(GPTConfig)
                  if f.name in {**SIZE_FLAGS, **MODEL_FLAGS} and hasattr(args, f.name)
                  and not (f.name in MODERN_FLAGS and getattr(args, f.name) == f.default)}
    if "n_head" in gpt_kwargs and gpt_kwargs["d_model"] % gpt_kwargs["n_head"]:
        raise ValueError(
            f"--d-model={gpt_kwargs['d_model']} no es divisible entre --n-head={gpt_kwargs['n_head']}: "
            f"cada cabeza necesita d_k = d_model / n_head entero."
        )
    n_kv = gpt_kwargs.get("n_kv_head")
    if n_kv is not None and "n_head" in gpt_kwargs and gpt_kwargs["n_head"] % n_kv:
        raise ValueError(
            f"--n-head={gpt_kwargs['n_head']} no es divisible entre --n-kv-head={n_kv}: cada cabeza "
            "de claves y valores atiende a un grupo de n_head / n_kv_head consultas."
        )
    if args.vocab_size is not None and args.tokenizer != "bpe":
        raise ValueError(f"--vocab-size={args.vocab_size} solo vale con --tokenizer bpe.")
    if args.tokenizer == "bpe" and args.vocab_size is not None and args.vocab_size < 256:
        raise ValueError(f"--vocab-size debe ser al menos 256 (los bytes) y es {args.vocab_size}.")
    if gpt_kwargs["dropout"] >= 1:
        raise ValueError(f"--dropout debe estar en [0, 1) y es {gpt_kwargs['dropout']}.")
    if args.min_lr is not None and args.min_lr > args.lr:
        raise ValueError(f"--min-lr={args.min_lr} no puede ser mayor que --lr={args.lr}.")
    config = TrainConfig(**{name: getattr(args, name) for name in TRAIN_FLAGS})
    gpt_kwargs["block_size"] = config.block_size
    return gpt_kwargs, config


def prepare_data(args: argparse.Namespace):
    """Los datos que piden ``--data``, ``--data-dir``, ``--tokenizer`` y ``--vocab-size``.

    Devuelve:
        El :class:`~transformer_lib.data.QuijoteData`, con el tokenizador elegido.
    """
    return prepare_quijote(data_dir=args.data_dir, tokenizer=args.tokenizer, vocab_size=args.vocab_size)
