"""Configuración de pytest común a las pruebas y a nbval (vive en la raíz para que
también se aplique a ``pytest --nbval-lax chapters/…``).

Celdas que necesitan GPU
------------------------
Las celdas con la etiqueta ``requires-gpu`` (y ``skip-execution``, para que el libro no
las ejecute) se **saltan** en nbval cuando no hay GPU CUDA, con un motivo visible en el
informe (``-ra``). Con ``REQUIRE_GPU=1`` (``make test-gpu``) son obligatorias: si no hay
GPU, **fallan**.

Lo que imprime cada celda ``requires-gpu`` al ejecutarse se guarda como propiedad
``gpu_cell_stdout`` del informe (la recoge ``--junitxml``): ``tools/gpu_check.py`` la copia a
``results/gpu/`` y el libro la muestra junto a la celda.
"""

from __future__ import annotations

import os
from functools import cache

import pytest

GPU_TAG = "requires-gpu"
STDOUT_PROPERTY = "gpu_cell_stdout"
STDOUT_LIMIT = 4000  # caracteres (los últimos) que se guardan de cada celda


def _tags(item: pytest.Item) -> list[str]:
    """Etiquetas de la celda de un elemento de nbval (lista vacía para otras pruebas)."""
    cell = getattr(item, "cell", None)
    if cell is None:
        return []
    tags = cell.get("metadata", {}).get("tags", [])
    return list(tags) if isinstance(tags, list) else []


@cache
def _has_gpu() -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch es dependencia del paquete
        return False
    return bool(torch.cuda.is_available())


def _gpu_required() -> bool:
    return os.environ.get("REQUIRE_GPU", "").strip().lower() in {"1", "true", "sí", "si", "yes"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    gpu_cells = [item for item in items if GPU_TAG in _tags(item)]
    if not gpu_cells or _has_gpu() or _gpu_required():
        return
    reason = (
        "celda marcada 'requires-gpu': no hay GPU CUDA disponible, se omite "
        "(usa `make test-gpu` en una máquina con GPU)"
    )
    for item in gpu_cells:
        item.add_marker(pytest.mark.skip(reason=reason))


def pytest_runtest_setup(item: pytest.Item) -> None:
    if GPU_TAG in _tags(item) and _gpu_required() and not _has_gpu():
        pytest.fail(
            "REQUIRE_GPU=1 pero no hay GPU CUDA: la celda 'requires-gpu' no puede ejecutarse.",
            pytrace=False,
        )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Guarda lo que imprimió una celda ``requires-gpu`` (su stdout) en ``item.user_properties``.

    De ahí lo copia el informe del final de la prueba (*teardown*), que es el que lee ``--junitxml``.
    """
    yield
    if call.when != "call" or GPU_TAG not in _tags(item):
        return
    outputs = getattr(item, "test_outputs", None) or []
    text = "".join(out.get("text", "") for out in outputs
                   if out.get("output_type") == "stream" and out.get("name") == "stdout")
    if text:
        item.user_properties.append((STDOUT_PROPERTY, text[-STDOUT_LIMIT:]))
