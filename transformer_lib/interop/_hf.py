"""Lo común a las conversiones desde Hugging Face: importar ``transformers`` al usarlo."""

from __future__ import annotations

from torch import nn


def check_hf_model(model: nn.Module, class_name: str, caller: str) -> None:
    """Comprueba que ``model`` sea un ``transformers.<class_name>``; importa ``transformers`` aquí.

    Parámetros:
        model: el modelo recibido.
        class_name: la clase de Hugging Face esperada, p. ej. ``"LlamaForCausalLM"``.
        caller: la función que convierte, para el mensaje de error.
    """
    try:
        import transformers
    except ImportError as err:  # pragma: no cover - depende del entorno
        raise ImportError(
            f"{caller} necesita el paquete transformers: instálalo con `pip install transformers`."
        ) from err
    if not isinstance(model, getattr(transformers, class_name)):
        raise TypeError(
            f"{caller} espera un {class_name} de Hugging Face y recibió {type(model).__name__}."
        )
