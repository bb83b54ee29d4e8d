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

ETIQUETA_GPU = "requires-gpu"


def _etiquetas(item: pytest.Item) -> list[str]:
    """Etiquetas de la celda de un elemento de nbval (lista vacía para otras pruebas)."""
    celda = getattr(item, "cell", None)
    if celda is None:
        return []
    etiquetas = celda.get("metadata", {}).get("tags", [])
    return list(etiquetas) if isinstance(etiquetas, list) else []


@cache
def _hay_gpu() -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch es dependencia del paquete
        return False
    return bool(torch.cuda.is_available())


def _gpu_obligatoria() -> bool:
    return os.environ.get("REQUIRE_GPU", "").strip().lower() in {"1", "true", "sí", "si", "yes"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    celdas_gpu = [item for item in items if ETIQUETA_GPU in _etiquetas(item)]
    if not celdas_gpu or _hay_gpu() or _gpu_obligatoria():
        return
    motivo = (
        "celda marcada 'requires-gpu': no hay GPU CUDA disponible, se omite "
        "(usa `make test-gpu` en una máquina con GPU)"
    )
    for item in celdas_gpu:
        item.add_marker(pytest.mark.skip(reason=motivo))


def pytest_runtest_setup(item: pytest.Item) -> None:
    if ETIQUETA_GPU in _etiquetas(item) and _gpu_obligatoria() and not _hay_gpu():
        pytest.fail(
            "REQUIRE_GPU=1 pero no hay GPU CUDA: la celda 'requires-gpu' no puede ejecutarse.",
            pytrace=False,
        )
