"""Comprobaciones de la tarea 3, ejercicio 3: entrenar tu MiniGPT con el Quijote.

Se comprueba el **modelo**, no un número que imprima el cuaderno. El ejecutor del kernel
solo exporta los pesos de tu ``model`` (``state_dict``), su configuración y sus salidas para
dos secuencias que se diferencian en el futuro. El calificador, en su propio proceso:

1. carga esos pesos (datos, ``weights_only``) en la arquitectura que pide el enunciado, un
   :class:`~transformer_lib.GPT` de la biblioteca con tu configuración, nunca en tu clase: si
   los nombres, las formas o el número de parámetros no encajan, no es un MiniGPT;
2. comprueba la causalidad con tus salidas (cambiar el futuro no cambia el pasado) y que tu
   modelo calcule lo mismo que esa arquitectura con tus pesos;
3. mide la pérdida de validación con esa arquitectura sobre ventanas del 10 % final del
   libro elegidas con una semilla que el kernel nunca ve, y la compara con la de
   entrenamiento (si la validación sale mucho mejor, has entrenado con ella).
"""

from __future__ import annotations

import dataclasses
import functools
import math

import torch
import torch.nn.functional as F
from torch import nn

from ..models import GPT, GPTConfig
from .compare import close, max_difference
from .core import Checker, Failure, Result, structural
from .exercise import ExerciseSpec, evaluate_here, judge_answer
from .task3_block import (
    FORBIDDEN_LIBRARY_MODELS,
    LIBRARY_BLOCK,
    LIBRARY_GPT,
    SEED,
    check_causality,
    student_key,
)
from .task3_gpt import gpt_output

#: Pérdida de validación (entropía cruzada media, en nats por carácter) que hay que batir.
VALIDATION_THRESHOLD = 2.05
#: Lotes de validación con los que se mide (de :data:`VALIDATION_BATCH_SIZE` ventanas).
VALIDATION_BATCHES = 40
VALIDATION_BATCH_SIZE = 32
#: Semilla de las ventanas en el cuaderno; al calificar se sortea otra, que no sale del calificador.
VALIDATION_SEED = 4321
#: Lotes de entrenamiento con los que se compara, y la ventaja máxima de la validación.
TRAIN_BATCHES = 10
MAX_VALIDATION_ADVANTAGE = 0.25
#: Longitud de las secuencias de prueba de la causalidad (ids < 20, válidos con cualquier vocabulario).
PROBE_T, PROBE_VOCAB = 8, 20


def build_training_cases(seed: int) -> list[dict]:
    """El caso del ejercicio «entrenamiento»: exportar ``model`` y dos salidas para la causalidad.

    La clave ``_validation_seed`` (privada: el calificador no la envía al kernel) elige las
    ventanas con las que se mide.
    """
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, PROBE_VOCAB, (2, PROBE_T), generator=g)
    changed = idx.clone()
    changed[:, PROBE_T // 2:] = (changed[:, PROBE_T // 2:] + 1) % PROBE_VOCAB
    return [{"description": "tu modelo entrenado", "kind": "module", "target": "model", "init": None,
             "export": True, "calls": [{"args": [idx], "grad": None}, {"args": [changed], "grad": None}],
             "_validation_seed": seed}]


def windows(split: torch.Tensor, block_size: int, batches: int, seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Lotes de ventanas ``(x, y)`` de ``split`` elegidas con ``seed``."""
    from ..data import get_batch

    g = torch.Generator().manual_seed(seed)
    return [get_batch(split, block_size, VALIDATION_BATCH_SIZE, generator=g) for _ in range(batches)]


def validation_batches(block_size: int, data=None, seed: int = VALIDATION_SEED) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Los lotes de validación con los que se mide un modelo (10 % final del Quijote).

    Parámetros:
        block_size: longitud T de cada ventana.
        data: un ``QuijoteData`` ya cargado (None lo carga con ``prepare_quijote()``).
        seed: semilla de las ventanas (al calificar, una que no ve el kernel).
    """
    return windows(_data(data).val, block_size, VALIDATION_BATCHES, seed)


@torch.no_grad()
def mean_loss(model: nn.Module, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> float:
    """Entropía cruzada media (nats por carácter) de ``model`` sobre ``batches``."""
    was_training = model.training
    model.eval()
    total, n = 0.0, 0
    try:
        for x, y in batches:
            out = model(x)
            logits = out[0] if isinstance(out, tuple) else out
            loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1))
            total += float(loss) * y.numel()
            n += y.numel()
    finally:
        model.train(was_training)
    return total / n


def validation_loss(model: nn.Module, block_size: int | None = None, data=None, seed: int = VALIDATION_SEED) -> float:
    """Pérdida de validación de un modelo de la biblioteca (``GPT``) en nats por carácter.

    Parámetros:
        model: un modelo cuyo ``forward(idx)`` devuelve ``(logits, loss)`` o los logits.
        block_size: longitud de las ventanas; None usa ``model.config.block_size``.
        data: un ``QuijoteData`` ya cargado (opcional).
        seed: semilla de las ventanas.
    """
    block_size = block_size or int(model.config.block_size)
    return mean_loss(model, validation_batches(block_size, data, seed))


@functools.cache
def _quijote():
    from ..data import prepare_quijote

    return prepare_quijote()


def _data(data):
    return data if data is not None else _quijote()


def required_weights(config: GPTConfig) -> dict[str, tuple[int, ...]]:
    """Los nombres y formas que debe tener el ``state_dict`` de tu MiniGPT con ``config``.

    Son los del ``GPT`` de la biblioteca con esa configuración, traducidos a los nombres del
    enunciado: el calificador carga tus pesos en esa arquitectura, así que cualquier nombre o forma
    distinta hace que tu modelo no cuente.

    Parámetros:
        config: la configuración de tu modelo (un ``GPTConfig``).

    Devuelve:
        ``{nombre: forma}``, en el orden del ``state_dict``.
    """
    lib = GPT(dataclasses.replace(config, dropout=0.0))
    return {student_key(k): tuple(v.shape) for k, v in lib.state_dict().items()}


def reference_model(module: dict, vocab: int) -> GPT:
    """La arquitectura del enunciado (un GPT de la biblioteca) con los pesos exportados.

    Lanza:
        Failure (estructural) si los pesos no son los de un MiniGPT con su configuración.
    """
    if any(name in module.get("classes", []) for name in (LIBRARY_GPT, LIBRARY_BLOCK)):
        raise structural("Tienes que entrenar *tu* MiniGPT (con tu PreLNBlock), no el GPT de la biblioteca.")
    config = module.get("config")
    if not isinstance(config, dict):
        raise structural("Tu `model` no guarda su configuración en `self.config` (un GPTConfig): ¿es tu MiniGPT?")
    if config.get("vocab_size") != vocab:
        raise structural(
            f"Tu modelo tiene un vocabulario de {config.get('vocab_size')} tokens y el tokenizador de "
            f"caracteres del Quijote tiene {vocab}: crea la configuración con "
            "`vocab_size=data.tokenizer.vocab_size`.")
    state = module.get("state_dict", {})
    tied = torch.equal(state.get("tok_emb.weight", torch.zeros(0)), state.get("lm_head.weight", torch.ones(0)))
    try:
        fields = {f.name for f in dataclasses.fields(GPTConfig)}
        lib = GPT(GPTConfig(**{**{k: v for k, v in config.items() if k in fields}, "dropout": 0.0, "tie_weights": tied}))
    except (TypeError, ValueError) as err:
        raise structural(f"La configuración de tu modelo no es un GPTConfig válido ({err}).") from None
    expected = {student_key(k): v for k, v in lib.state_dict().items()}
    if set(expected) != set(state) or any(tuple(state[k].shape) != tuple(v.shape) for k, v in expected.items()):
        count = sum(v.numel() for k, v in state.items() if not (tied and k == "lm_head.weight"))
        blocks = len({k.split(".")[1] for k in state if k.startswith("blocks.")})
        raise structural(
            f"Tu `model` no es un MiniGPT con la arquitectura del enunciado: tiene {count} números en "
            f"{blocks} bloque(s) y un MiniGPT con su configuración (n_layer={lib.config.n_layer}, "
            f"d_model={lib.config.d_model}) tendría {sum(p.numel() for p in lib.parameters())} parámetros "
            "con los nombres tok_emb, pos_emb, blocks.N.{ln_1, attn, ln_2, ff}, ln_f y lm_head. Entrena "
            "el MiniGPT del ejercicio 2, no otro objeto.")
    lib.load_state_dict({k: state[student_key(k)] for k in lib.state_dict()})
    return lib.eval()


def _check_behaviour(module: dict, lib: GPT, case: dict) -> None:
    """Causalidad con tus salidas y que tu modelo calcule lo que dicen sus pesos."""
    first, second = (gpt_output(call)[0] for call in module["calls"])
    check_causality(first, second, PROBE_T // 2, "modelo")
    expected, _ = lib(case["calls"][0]["args"][0])
    if not close(first, expected):
        raise structural(
            "Tu modelo no calcula lo mismo que un MiniGPT con sus mismos pesos (diferencia máxima "
            f"{max_difference(first, expected):.3g}): ¿has cambiado el `forward` después de comprobarlo?")


def judge_training(c: Checker, cases: list[dict], answer: dict, threshold: float = VALIDATION_THRESHOLD,
                   data=None) -> None:
    """Juzga el modelo exportado (ver la cabecera del módulo)."""
    module, case = answer["cases"][0], cases[0]
    if module.get("error") is None and not module.get("is_module"):
        c.stop(f"`model` debe ser tu MiniGPT entrenado (un nn.Module) y es {module.get('type_name')}.")
        return
    data = _data(data)
    vocab = data.tokenizer.vocab_size
    built: dict = {}
    if not c.run_test("es un MiniGPT con la arquitectura del enunciado",
                      lambda: built.setdefault("lib", reference_model(module, vocab))):
        return
    lib = built["lib"]
    c.run_test("causalidad y coherencia con sus pesos", lambda: _check_behaviour(module, lib, case))
    seed, block_size = case["_validation_seed"], lib.config.block_size
    losses: dict[str, float] = {}

    def measure() -> None:
        loss = losses["val"] = mean_loss(lib, windows(data.val, block_size, VALIDATION_BATCHES, seed))
        if not math.isfinite(loss):
            raise Failure("La pérdida de validación de tu modelo es NaN o infinita: el entrenamiento divergió "
                          "(prueba una tasa de aprendizaje menor).")
        train = mean_loss(lib, windows(data.train, block_size, TRAIN_BATCHES, seed + 1))
        if loss < train - MAX_VALIDATION_ADVANTAGE:
            raise structural(
                f"Tu modelo predice el texto de validación mucho mejor que el de entrenamiento ({loss:.3f} "
                f"frente a {train:.3f}): ¿has entrenado con la parte de validación? Entrena solo con "
                "`data.train` (lo que hace `train(..., data=data)`).")
        if loss >= threshold:
            raise Failure(
                f"Tu pérdida de validación es {loss:.3f} (medida por el comprobador sobre "
                f"{VALIDATION_BATCHES} lotes de ventanas del final del libro) y tiene que bajar de {threshold:.2f}. "
                "Entrena más pasos o revisa la tasa de aprendizaje (1e-3 funciona bien). Como "
                f"referencia, una pérdida de {math.log(vocab):.2f} (= ln {vocab}) es la de un modelo "
                "que no ha aprendido nada.")

    c.run_test("pérdida de validación por debajo del umbral", measure)
    if "val" in losses:
        c.note(f"Pérdida de validación medida: {losses['val']:.3f} (umbral: {threshold:.2f}).")


TRAINING = ExerciseSpec(
    id="entrenamiento", title="entrenamiento con el Quijote", points=3, names=("model",),
    build=build_training_cases, judge=judge_training, seed=SEED + 2,
    forbidden=FORBIDDEN_LIBRARY_MODELS,
    forbidden_hint="tienes que entrenar *tu* MiniGPT (con tu PreLNBlock), no el GPT de la biblioteca.",
    missing="`model` sigue valiendo None: crea y entrena tu MiniGPT en la celda del ejercicio.",
    uses_data=True,
)


def check_training(model: nn.Module | None, threshold: float = VALIDATION_THRESHOLD, data=None,
                   show: bool = True) -> Result:
    """Comprueba tu ``model`` entrenado como lo hará el calificador (ver la cabecera del módulo).

    Parámetros:
        model: tu MiniGPT ya entrenado.
        threshold: pérdida que hay que batir (por defecto :data:`VALIDATION_THRESHOLD`).
        data: un ``QuijoteData`` ya cargado (opcional; si no, se carga).
        show: si se imprime el informe (por defecto, sí).

    Devuelve:
        Un :class:`~transformer_lib.tareas.Result`.
    """
    spec = dataclasses.replace(TRAINING, judge=functools.partial(judge_training, threshold=threshold, data=data))
    cases = spec.build(spec.seed)
    result = judge_answer(spec, cases, evaluate_here({"model": model}, spec, cases))
    if show:
        print(result.text())
    return result
