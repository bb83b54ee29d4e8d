"""Lo único del calificador que se ejecuta dentro del kernel del estudiante.

El calificador (otro proceso) prepara los casos de prueba con entradas ocultas, los guarda
en un archivo y añade al final del cuaderno una celda que llama a :func:`run_request`. Esta
función busca en el espacio de nombres del cuaderno lo que pide cada ejercicio, lo ejecuta
con esas entradas y guarda **solo datos** (tensores, números, textos) en el archivo de
respuesta: las salidas, los gradientes, las entradas tras la llamada (para ver si se
modificaron), las excepciones y las operaciones que se ejecutaron. No compara nada ni decide
nada: la nota la calcula el calificador en su propio proceso, que lee la respuesta con
``torch.load(weights_only=True)`` y nunca importa ni ejecuta el código del estudiante.

Operaciones observadas (no buscadas en el texto): durante cada llamada se registran las
funciones de PyTorch (``TorchFunctionMode``), los operadores ``aten`` (``TorchDispatchMode``)
y las funciones de referencia de la biblioteca (``sys.setprofile`` sobre su código), sea cual
sea el nombre con el que se importaron. Este registro se produce en el kernel del estudiante:
quien quiera falsearlo a propósito puede hacerlo (ver «Qué garantiza la calificación» en la
página de las tareas); el calificador comprueba al menos que no llegue vacío.

Formato de un caso (diccionario):

- ``{"kind": "call", "calls": [{"target": NOMBRE, "args": [...], "grad": None | {"wrt": [i…],
  "probe": T}}]}``: llama a funciones en cadena; el texto ``"<prev>"`` en ``args`` es la
  salida de la llamada anterior.
- ``{"kind": "module", "target": NOMBRE, "init": [...] | None, "config": dict | None,
  "seed": int, "load": state_dict | None, "dtype": "float64" | None, "export": bool,
  "calls": [{"args": [...], "grad": None | {"probe": T}}]}``: crea el módulo (``init`` None:
  usa el objeto tal cual), le copia los pesos ``load`` y lo llama.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import io
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

#: Versión del formato de petición y respuesta.
PROTOCOL = 1
#: Marca, en los argumentos de una cadena de llamadas, de la salida de la llamada anterior.
PREVIOUS = "<prev>"


def _watched_code() -> dict:
    """Código de las funciones de referencia de la biblioteca que se vigilan (y su nombre)."""
    from .. import attention, blocks, models, multihead, positional

    functions = {
        "transformer_lib.scaled_dot_product_attention": attention.scaled_dot_product_attention,
        "transformer_lib.attention_weights": attention.attention_weights,
        "transformer_lib.MultiHeadAttention": multihead.MultiHeadAttention.forward,
        "transformer_lib.DecoderBlock": blocks.DecoderBlock.forward,
        "transformer_lib.GPT": models.GPT.forward,
        "transformer_lib.apply_rope": positional.apply_rope,
    }
    return {fn.__code__: name for name, fn in functions.items()}


class _FunctionRecorder(TorchFunctionMode):
    """Anota cada función de PyTorch que se llama (``torch:NOMBRE``)."""

    def __init__(self, seen: set[str]):
        super().__init__()
        self.seen = seen

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.seen.add("torch:" + getattr(func, "__name__", str(func)))
        return func(*args, **(kwargs or {}))


class _DispatchRecorder(TorchDispatchMode):
    """Anota cada operador ``aten`` que llega al despachador (``aten:NOMBRE``)."""

    def __init__(self, seen: set[str]):
        super().__init__()
        self.seen = seen

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.seen.add("aten:" + str(func.overloadpacket).removeprefix("aten."))
        return func(*args, **(kwargs or {}))


@contextlib.contextmanager
def recording(seen: set[str]) -> Iterator[set[str]]:
    """Registra en ``seen`` lo que se ejecuta dentro del bloque (ver la cabecera)."""
    watched = _watched_code()
    previous = sys.getprofile()

    def profile(frame, event, arg):
        if event == "call" and frame.f_code in watched:
            seen.add("lib:" + watched[frame.f_code])

    sys.setprofile(profile)
    try:
        with _FunctionRecorder(seen), _DispatchRecorder(seen):
            yield seen
    finally:
        sys.setprofile(previous)


def _error(err: BaseException) -> dict:
    text = " ".join(str(err).split())
    return {"type": type(err).__name__, "message": text[:600], "unsolved": isinstance(err, NotImplementedError)}


def _encode(value):
    """Solo datos: tensores (copias sin grafo), None, números, textos, tuplas y listas."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().clone().as_subclass(torch.Tensor)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (tuple, list)) and len(value) <= 8:
        return tuple(_encode(v) for v in value)
    return {"unsupported_type": type(value).__name__}


def _call(fn, args: list, grad: dict | None, params: nn.Module | None = None) -> tuple[dict, object]:
    """Llama a ``fn(*args)`` observando las operaciones; devuelve el registro y la salida."""
    record: dict = {"error": None, "output": None, "grads": None, "param_grads": None}
    seen: set[str] = set()
    if grad is not None and "wrt" in grad:
        args = [a.detach().clone().requires_grad_() if i in grad["wrt"] else a for i, a in enumerate(args)]
    out = None
    try:
        with recording(seen):
            out = fn(*args)
            main = out[0] if isinstance(out, tuple) and out else out
            record["requires_grad"] = isinstance(main, torch.Tensor) and main.requires_grad
            if grad is not None and record["requires_grad"]:
                loss = (main * grad["probe"]).sum()
                if "wrt" in grad:
                    leaves = [args[i] for i in grad["wrt"]]
                    record["grads"] = [_encode(g) for g in torch.autograd.grad(loss, leaves, allow_unused=True)]
                else:
                    loss.backward()
                    record["param_grads"] = {n: _encode(p.grad) for n, p in params.named_parameters()}
    except Exception as err:  # el error del estudiante se cuenta, no se propaga
        record["error"] = _error(err)
    record["output"] = _encode(out)
    record["inputs_after"] = [_encode(a) for a in args]
    record["ops"] = sorted(seen)
    return record, out


def _run_calls(namespace: dict, case: dict) -> dict:
    previous = None
    calls = []
    for spec in case["calls"]:
        fn = namespace.get(spec["target"])
        args = [previous if isinstance(a, str) and a == PREVIOUS else a for a in spec["args"]]
        record, previous = _call(fn, args, spec.get("grad"))
        calls.append(record)
        if record["error"] is not None:
            break
    return {"calls": calls}


def _describe_module(module: nn.Module) -> dict:
    return {
        "type": type(module).__module__ + "." + type(module).__qualname__,
        "classes": sorted({type(m).__module__ + "." + type(m).__qualname__ for m in module.modules()}),
        "state": {k: tuple(v.shape) for k, v in module.state_dict().items()},
    }


def _config_dict(module: nn.Module) -> dict | None:
    config = getattr(module, "config", None)
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return {k: v for k, v in dataclasses.asdict(config).items() if v is None or isinstance(v, (bool, int, float, str))}
    return None


def _run_module(namespace: dict, case: dict) -> dict:
    from ..models import GPTConfig

    obj = namespace.get(case["target"])
    result: dict = {"error": None, "calls": []}
    try:
        if case.get("init") is None:
            module = obj
        else:
            if isinstance(obj, nn.Module):  # te pasaron una instancia: se usa su clase
                obj = type(obj)
            torch.manual_seed(case.get("seed", 0))
            init = [GPTConfig(**case["config"])] if case.get("config") is not None else list(case["init"])
            module = obj(*init)
    except Exception as err:
        result["error"] = _error(err)
        return result
    result["is_module"] = isinstance(module, nn.Module)
    result["type_name"] = type(module).__name__
    if not result["is_module"]:
        return result
    result.update(_describe_module(module))
    if case.get("export"):
        result["config"] = _config_dict(module)
        result["state_dict"] = {k: _encode(v) for k, v in module.state_dict().items()}
    if case.get("load") is not None:
        try:
            module.load_state_dict(case["load"])
        except Exception as err:
            result["load_error"] = _error(err)
            return result
    if case.get("dtype") == "float64":
        module.double()
    device = next((p.device for p in module.parameters()), torch.device("cpu"))
    was_training = module.training
    module.eval()  # sin dropout
    for spec in case.get("calls", []):
        module.zero_grad(set_to_none=True)
        args = [a.to(device) if isinstance(a, torch.Tensor) else a for a in spec["args"]]
        record, _ = _call(module, args, spec.get("grad"), module)
        result["calls"].append(record)
    module.train(was_training)
    return result


def _source(obj) -> str:
    try:
        return inspect.getsource(obj if not isinstance(obj, nn.Module) else type(obj))[:20000]
    except (OSError, TypeError):
        return ""


def evaluate(namespace: dict, names: list[str] | tuple[str, ...], cases: list[dict]) -> dict:
    """Ejecuta los casos de un ejercicio con los objetos de ``namespace`` (en este proceso).

    Parámetros:
        namespace: el espacio de nombres del cuaderno (o un diccionario con tus objetos).
        names: los nombres que pide el ejercicio.
        cases: los casos preparados por el calificador.

    Devuelve:
        Un diccionario de datos: ``missing`` (nombres que faltan), ``sources`` y ``cases``.
    """
    missing = [n for n in names if namespace.get(n) is None]
    answer: dict = {"missing": missing, "sources": {n: _source(namespace.get(n)) for n in names if n not in missing},
                    "cases": []}
    if missing:
        return answer
    with torch.random.fork_rng(devices=[]), torch.enable_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # los avisos de PyTorch ensuciarían el informe
        for case in cases:
            run = _run_calls if case["kind"] == "call" else _run_module
            answer["cases"].append(run(namespace, case))
    return answer


def transport(obj):
    """``obj`` tal como llega al otro lado de un archivo: ``torch.save`` y ``torch.load(weights_only=True)``.

    Las comprobaciones del cuaderno lo usan para que tu código reciba copias (como al
    calificar) y para que de vuelta solo lleguen datos.
    """
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def for_kernel(cases: list[dict]) -> list[dict]:
    """Los casos sin sus claves privadas (las que empiezan por ``_``), que no salen del calificador."""
    return [{k: v for k, v in case.items() if not k.startswith("_")} for case in cases]


def run_request(namespace: dict, request_path: str | os.PathLike, response_path: str | os.PathLike) -> None:
    """Lee la petición del calificador, ejecuta cada ejercicio y escribe la respuesta.

    La llama la celda que el calificador añade al final del cuaderno. Escribe primero en un
    archivo temporal y lo renombra al final, así que la respuesta está entera o no está.
    """
    request = torch.load(request_path, weights_only=True)
    response = {"protocol": PROTOCOL, "nonce": request["nonce"], "exercises": {}}
    for exercise_id, spec in request["exercises"].items():
        try:
            response["exercises"][exercise_id] = evaluate(namespace, spec["names"], spec["cases"])
        except Exception as err:  # p. ej. un objeto del cuaderno que no se deja describir
            response["exercises"][exercise_id] = {"failed": _error(err)}
    temporary = Path(str(response_path) + ".tmp")
    torch.save(response, temporary)
    os.replace(temporary, response_path)
