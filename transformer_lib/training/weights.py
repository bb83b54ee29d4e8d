"""Leer el ``model.pt`` de un checkpoint sin confiar en él.

:func:`load_state` lo lee con ``torch.load(..., weights_only=True)``, que no ejecuta código, y
convierte cada fallo en una línea en español que nombra el archivo: truncado o dañado, con
objetos que no son tensores (un pickle manipulado), sin permiso. :func:`check_state_matches`
compara sus tensores con los de un modelo antes de cargarlos y nombra los que no cuadran,
con sus formas.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import torch
from torch import nn

from ..files import UnreadableFileError, read_error

_SHOWN = 5  # cuántos tensores que no cuadran se nombran en el mensaje


def _is_blocked_object(err: pickle.UnpicklingError) -> bool:
    """Si ``weights_only`` rechazó el archivo porque pide construir objetos que no son tensores."""
    text = str(err).lower()
    return "weights only" in text and ("global" in text or "unsupported" in text)


def load_state(path: Path, hint: str) -> dict[str, torch.Tensor]:
    """Lee un ``state_dict`` guardado con ``torch.save`` (solo tensores).

    Parámetros:
        path: el archivo ``model.pt``.
        hint: qué hacer si está mal (se añade a los mensajes).

    Devuelve:
        El diccionario nombre → tensor, en la CPU.

    Lanza:
        FileAccessError: si no se puede leer (permisos…); ver :mod:`transformer_lib.files`.
        UnreadableFileError: si está truncado o dañado, o contiene algo que no son tensores.
    """
    try:
        with warnings.catch_warnings():  # p. ej. «Detected pickle protocol 4»: el error ya lo dice
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if _is_blocked_object(err):
            raise UnreadableFileError(
                f"El archivo de pesos {path} contiene objetos que no son tensores; no lo cargo por "
                f"seguridad (podría ejecutar código). Usa solo checkpoints guardados con transformer_lib."
            ) from err
        raise UnreadableFileError(f"El archivo de pesos {path} está truncado o dañado. {hint}") from err
    except (PermissionError, FileNotFoundError, IsADirectoryError) as err:
        raise read_error(path, err, "los pesos", hint) from err
    except Exception as err:  # zip truncado, EOF, [Errno 22]…: torch no lo dice mejor
        raise UnreadableFileError(f"El archivo de pesos {path} está truncado o dañado. {hint}") from err
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise UnreadableFileError(
            f"El archivo de pesos {path} no es un state_dict: contiene objetos que no son tensores. {hint}"
        )
    return state


def _shape(t: torch.Tensor) -> str:
    return str(tuple(t.shape))


def check_state_matches(state: dict[str, torch.Tensor], model: nn.Module, what: str, hint: str) -> None:
    """Comprueba que ``state`` tiene exactamente los tensores de ``model``, con sus formas.

    Parámetros:
        state: lo que devuelve :func:`load_state`.
        model: el modelo que recibirá los pesos.
        what: principio del mensaje de error (p. ej. «Los pesos de X no son de este modelo»).
        hint: qué hacer (final del mensaje).

    Lanza:
        UnreadableFileError: si faltan, sobran o tienen otra forma; nombra los primeros.
    """
    expected = model.state_dict()
    problems = [f"{name} es {_shape(state[name])} en el archivo y {_shape(t)} en el modelo"
                for name, t in expected.items() if name in state and state[name].shape != t.shape]
    problems += [f"falta {name}" for name in expected if name not in state]
    problems += [f"sobra {name}" for name in state if name not in expected]
    if problems:
        more = f" y {len(problems) - _SHOWN} más" if len(problems) > _SHOWN else ""
        raise UnreadableFileError(f"{what}: {'; '.join(problems[:_SHOWN])}{more}. {hint}")
