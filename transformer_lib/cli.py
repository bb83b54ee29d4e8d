"""Línea de órdenes: ``python -m transformer_lib <subcomando> ...`` (ayuda y errores en español).

Subcomandos incluidos:

- ``train``: entrena un GPT de caracteres sobre el Quijote, guarda el checkpoint y escribe como
  última línea un objeto JSON con ``val_loss``, ``train_loss``, ``tokens_per_s``, ``params``,
  ``seconds``…
- ``generate``: carga un checkpoint y continúa un texto.

Cómo añadir un subcomando (p. ej. ``sweep``): escribe dos funciones,
``add_arguments(parser)`` (declara las opciones con ``parser.add_argument``, con ayuda en
español) y ``run(args) -> int`` (hace el trabajo y devuelve el código de salida), y
regístralas al final de este archivo::

    register_subcommand("sweep", "barrido de tamaños (capítulo 9)", add_arguments, run)

Los errores esperables (``ValueError``, ``TypeError``, ``FileNotFoundError``…) que lance ``run``
se muestran como una sola línea ``error: …`` con código de salida 1, sin traza; la variable de
entorno ``TRANSFORMER_LIB_DEBUG=1`` muestra la traza completa. Los validadores de tipos de este
módulo (:func:`positive_int`, :func:`non_negative_float`…) dan mensajes en español.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

PROG = "python -m transformer_lib"

# --------------------------------------------------------------------------------------
# argparse en español
# --------------------------------------------------------------------------------------

_ARGPARSE_ES = [
    (r"the following arguments are required: (.*)", r"faltan argumentos obligatorios: \1"),
    (r"unrecognized arguments: (.*)", r"argumentos no reconocidos: \1"),
    (r"argument (\S+): invalid choice: (.*?) \(choose from (.*)\)",
     r"argumento \1: opción no válida \2 (elige entre \3)"),
    (r"argument (\S+): invalid (\w+) value: (.*)", r"argumento \1: valor no válido \3"),
    (r"argument (\S+): expected one argument", r"argumento \1: falta su valor"),
    (r"argument (\S+): expected (.*)", r"argumento \1: se esperaba \2"),
    (r"argument (\S+): not allowed with argument (.*)", r"argumento \1: no se puede usar junto con \2"),
    (r"ambiguous option: (\S+) could match (.*)", r"opción ambigua: \1 puede ser \2"),
    (r"argument (\S+): (.*)", r"argumento \1: \2"),
]


def _translate(message: str) -> str:
    for pattern, repl in _ARGPARSE_ES:
        if re.fullmatch(pattern, message, flags=re.S):
            return re.sub(pattern, repl, message, flags=re.S)
    return message


class SpanishHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Formateador de ayuda con "uso:" en lugar de "usage:" y "(por defecto: …)"."""

    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, prefix="uso: " if prefix is None else prefix)

    def _get_help_string(self, action):
        text = action.help or ""
        if "%(default)" in text or action.default in (None, False, argparse.SUPPRESS):
            return text
        if action.option_strings or action.nargs in (argparse.OPTIONAL, argparse.ZERO_OR_MORE):
            text += " (por defecto: %(default)s)"
        return text


class SpanishArgumentParser(argparse.ArgumentParser):
    """``ArgumentParser`` con ayuda en español y errores en una sola línea."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", SpanishHelpFormatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "argumentos posicionales"
        self._optionals.title = "opciones"
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                          help="muestra esta ayuda y termina")

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {_translate(message)} (usa --help para ver las opciones)\n")


def positive_int(text: str) -> int:
    """Tipo de argparse: entero mayor que cero."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"se esperaba un entero positivo y recibí {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"se esperaba un entero positivo y recibí {value}")
    return value


def non_negative_int(text: str) -> int:
    """Tipo de argparse: entero mayor o igual que cero."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"se esperaba un entero >= 0 y recibí {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"se esperaba un entero >= 0 y recibí {value}")
    return value


def non_negative_float(text: str) -> float:
    """Tipo de argparse: número real finito mayor o igual que cero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"se esperaba un número y recibí {text!r}") from None
    if not (value >= 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"se esperaba un número finito >= 0 y recibí {text!r}")
    return value


def positive_float(text: str) -> float:
    """Tipo de argparse: número real finito mayor que cero."""
    value = non_negative_float(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"se esperaba un número positivo y recibí {text!r}")
    return value


# --------------------------------------------------------------------------------------
# Registro de subcomandos
# --------------------------------------------------------------------------------------


@dataclass
class Subcommand:
    """Un subcomando: nombre, ayuda de una línea, declarador de opciones y función que lo ejecuta."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


SUBCOMMANDS: dict[str, Subcommand] = {}


def register_subcommand(
    name: str,
    help: str,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace], int],
) -> None:
    """Registra un subcomando de ``python -m transformer_lib`` (ver la cabecera del módulo)."""
    if name in SUBCOMMANDS:
        raise ValueError(f"Ya hay un subcomando llamado {name!r}.")
    SUBCOMMANDS[name] = Subcommand(name, help, add_arguments, run)


def build_parser() -> SpanishArgumentParser:
    """Construye el analizador con todos los subcomandos registrados."""
    parser = SpanishArgumentParser(
        prog=PROG,
        description="transformer_lib: entrena y usa los modelos del curso «Transformers II».",
    )
    sub = parser.add_subparsers(dest="command", title="subcomandos", metavar="SUBCOMANDO",
                                parser_class=SpanishArgumentParser)
    sub.required = True
    for cmd in SUBCOMMANDS.values():
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        cmd.add_arguments(p)
        p.set_defaults(_run=cmd.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Punto de entrada: analiza ``argv``, ejecuta el subcomando y devuelve el código de salida."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print("error: interrumpido por el usuario", file=sys.stderr)
        return 130
    except Exception as err:  # un error de usuario no debe acabar en una traza
        if os.environ.get("TRANSFORMER_LIB_DEBUG"):
            raise
        message = " ".join(str(err).split()) or type(err).__name__
        print(f"{PROG} {args.command}: error: {message}", file=sys.stderr)
        return 1


# --------------------------------------------------------------------------------------
# train
# --------------------------------------------------------------------------------------

DATASETS = ("quijote",)


def _add_train_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("datos")
    g.add_argument("--data", default="quijote", choices=DATASETS, help="conjunto de datos")
    g.add_argument("--data-dir", default=None,
                   help="carpeta con pg2000.txt (si no, $TRANSFORMER_LIB_DATA, la caché o descarga)")
    g = p.add_argument_group("modelo")
    g.add_argument("--n-layer", type=positive_int, default=4, help="número de bloques")
    g.add_argument("--n-head", type=positive_int, default=4, help="cabezas de atención por bloque")
    g.add_argument("--d-model", type=positive_int, default=128, help="dimensión del modelo")
    g.add_argument("--d-ff", type=positive_int, default=None, help="dimensión de la FFN (por defecto 4·d_model)")
    g.add_argument("--dropout", type=non_negative_float, default=0.0, help="probabilidad de dropout")
    g.add_argument("--tie-weights", action="store_true",
                   help="compartir la matriz de embeddings con la capa de salida (por defecto no: "
                        "con un vocabulario de caracteres la capa de salida es pequeña y entrenarla "
                        "aparte aprende más deprisa)")
    g = p.add_argument_group("entrenamiento")
    g.add_argument("--block-size", type=positive_int, default=64, help="longitud del contexto T")
    g.add_argument("--batch-size", type=positive_int, default=12, help="ventanas por lote B")
    g.add_argument("--max-iters", type=positive_int, default=2000, help="pasos de entrenamiento")
    g.add_argument("--lr", type=positive_float, default=1e-3, help="tasa de aprendizaje máxima")
    g.add_argument("--min-lr", type=non_negative_float, default=None,
                   help="tasa de aprendizaje final (por defecto lr/2)")
    g.add_argument("--warmup-iters", type=non_negative_int, default=100, help="pasos de calentamiento")
    g.add_argument("--weight-decay", type=non_negative_float, default=0.0, help="decaimiento de pesos de AdamW")
    g.add_argument("--grad-clip", type=non_negative_float, default=1.0, help="norma máxima del gradiente (0 = sin recorte)")
    g.add_argument("--eval-interval", type=non_negative_int, default=500,
                   help="cada cuántos pasos se evalúa (0 = solo al final)")
    g.add_argument("--eval-iters", type=positive_int, default=20, help="lotes por evaluación intermedia")
    g.add_argument("--final-eval-iters", type=non_negative_int, default=200, help="lotes de la evaluación final")
    g.add_argument("--seed", type=int, default=1337, help="semilla")
    g.add_argument("--device", default=None, help="cpu, cuda o mps (por defecto, el mejor disponible)")
    g.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"),
                   help="auto = bf16 si el hardware lo calcula de forma nativa (GPU CUDA, CPU con "
                        "AVX512-BF16 o AMX) y fp32 en otro caso")
    g.add_argument("--threads", type=positive_int, default=None, help="hilos de PyTorch en CPU")
    g.add_argument("--no-progress", action="store_true", help="sin barra de progreso")
    g = p.add_argument_group("salida")
    g.add_argument("--out", default=None, help="carpeta donde guardar el checkpoint (si no se da, no se guarda)")


def _run_train(args: argparse.Namespace) -> int:
    import torch

    from .data import prepare_quijote
    from .models import GPT, GPTConfig
    from .training import TrainConfig, resolve_precision, save_checkpoint, train

    # Validamos todo antes de cargar datos o entrenar: los errores salen al momento.
    if args.d_model % args.n_head:
        raise ValueError(
            f"--d-model={args.d_model} no es divisible entre --n-head={args.n_head}: cada cabeza "
            f"necesita d_k = d_model / n_head entero."
        )
    if args.dropout >= 1:
        raise ValueError(f"--dropout debe estar en [0, 1) y es {args.dropout}.")
    if args.min_lr is not None and args.min_lr > args.lr:
        raise ValueError(f"--min-lr={args.min_lr} no puede ser mayor que --lr={args.lr}.")
    config = TrainConfig(
        max_iters=args.max_iters, batch_size=args.batch_size, block_size=args.block_size,
        lr=args.lr, min_lr=args.min_lr, warmup_iters=args.warmup_iters,
        weight_decay=args.weight_decay, grad_clip=args.grad_clip,
        eval_interval=args.eval_interval, eval_iters=args.eval_iters,
        final_eval_iters=args.final_eval_iters, seed=args.seed, device=args.device,
        precision=args.precision, num_threads=args.threads, progress=not args.no_progress,
    )
    data = prepare_quijote(data_dir=args.data_dir)
    torch.manual_seed(args.seed)
    model = GPT(GPTConfig(vocab_size=data.tokenizer.vocab_size, block_size=args.block_size,
                          n_layer=args.n_layer, n_head=args.n_head, d_model=args.d_model,
                          d_ff=args.d_ff, dropout=args.dropout, tie_weights=args.tie_weights))
    history = train(model, config, data)
    counts = model.count_parameters()
    if args.out:
        save_checkpoint(args.out, model, config, data.tokenizer, history, extra={"data": args.data})
    result = {
        "val_loss": round(history.final_val_loss, 4),
        "train_loss": round(history.final_train_loss, 4),
        "tokens_per_s": round(history.tokens_per_s, 1),
        "ms_per_iter": round(history.ms_per_iter, 2),
        "seconds": round(history.seconds, 2),
        "eval_seconds": round(history.eval_seconds, 2),
        "iters": len(history.steps),
        "params": counts.total,
        "non_embedding_params": counts.non_embedding,
        "device": str(next(model.parameters()).device),
        "precision": resolve_precision(next(model.parameters()).device, args.precision),
        "checkpoint": str(args.out) if args.out else None,
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0


# --------------------------------------------------------------------------------------
# generate
# --------------------------------------------------------------------------------------


def _add_generate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, help="carpeta de un checkpoint guardado con train --out")
    p.add_argument("--prompt", default="En un lugar de la Mancha", help="texto inicial")
    p.add_argument("--max-new-tokens", type=non_negative_int, default=300, help="caracteres que se generan")
    p.add_argument("--temperature", type=non_negative_float, default=0.8,
                   help="temperatura del muestreo (0 = siempre el más probable)")
    p.add_argument("--top-k", type=positive_int, default=None, help="muestrear solo entre los k más probables")
    p.add_argument("--seed", type=int, default=1, help="semilla del muestreo")
    p.add_argument("--device", default="cpu", help="cpu, cuda o mps")


def _run_generate(args: argparse.Namespace) -> int:
    import torch

    from .data import CharTokenizer
    from .models import GPT
    from .training import load_checkpoint

    ckpt = load_checkpoint(args.checkpoint, device=args.device)
    model, tok = ckpt.model, ckpt.tokenizer
    if not isinstance(model, GPT) or not isinstance(tok, CharTokenizer):
        raise ValueError(f"{args.checkpoint} no es un checkpoint de un GPT de caracteres.")
    if not args.prompt:
        raise ValueError("--prompt no puede estar vacío: el modelo necesita al menos un carácter.")
    idx = torch.tensor([tok.encode(args.prompt)], dtype=torch.long, device=args.device)  # (1, T0)
    gen = torch.Generator(device=args.device).manual_seed(args.seed)
    out = model.generate(idx, args.max_new_tokens, temperature=args.temperature, top_k=args.top_k,
                         generator=gen)
    print(tok.decode(out[0]))
    return 0


register_subcommand("train", "entrena un GPT de caracteres sobre el Quijote",
                    _add_train_arguments, _run_train)
register_subcommand("generate", "genera texto con un checkpoint entrenado",
                    _add_generate_arguments, _run_generate)


# --------------------------------------------------------------------------------------
# sweep (capítulo 9; el código vive en transformer_lib.scaling)
# --------------------------------------------------------------------------------------


def _add_sweep_arguments(p: argparse.ArgumentParser) -> None:
    from .scaling import add_sweep_arguments

    add_sweep_arguments(p)


def _run_sweep(args: argparse.Namespace) -> int:
    from .scaling import sweep_command

    return sweep_command(args)


register_subcommand("sweep", "entrena varios tamaños de GPT y ajusta la ley de escalado (capítulo 9)",
                    _add_sweep_arguments, _run_sweep)
