"""Configuración de pytest común a las pruebas y a nbval (vive en la raíz para que
también se aplique a ``pytest --nbval-lax chapters/…``).

Celdas que necesitan GPU
------------------------
Las celdas con la etiqueta ``requires-gpu`` (y ``skip-execution``, para que el libro no
las ejecute) se **saltan** en nbval cuando no hay GPU CUDA, con un motivo visible en el
informe (``-ra``). Con ``REQUIRE_GPU=1`` (``make test-gpu``) son obligatorias: si no hay
GPU, **fallan**.
"""

from __future__ import annotations

import os
from functools import cache

import pytest

GPU_TAG = "requires-gpu"


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
