"""Configuración de las pruebas unitarias (``pytest tests``).

* Backend de matplotlib sin pantalla (``Agg``) y barras de progreso calladas, también
  cuando se llama a pytest a mano (``make test`` ya exporta estas variables).
* ``TRANSFORMER_LIB_DATA`` apunta a ``../shared/data`` si existe y no está definida.
* Semilla fija antes de cada prueba: los resultados no dependen del orden ni de xdist.
* Un solo hilo de PyTorch en cada prueba (``one_thread``, automática: no hace falta
  importarla).

El salto de las celdas ``requires-gpu`` de nbval está en el ``conftest.py`` de la raíz,
que también se aplica a ``pytest --nbval-lax chapters/…``.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TQDM_DISABLE", "1")

_SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if "TRANSFORMER_LIB_DATA" not in os.environ and _SHARED_DATA.is_dir():
    os.environ["TRANSFORMER_LIB_DATA"] = str(_SHARED_DATA)

import pytest  # noqa: E402
import torch  # noqa: E402
from _helpers import single_thread  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _fixed_seed() -> None:
    """Fija la semilla de torch antes de cada prueba."""
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """Carpeta raíz del repositorio."""
    return ROOT


@pytest.fixture(autouse=True)
def one_thread():
    """Cada prueba con un solo hilo de PyTorch (y el número anterior restaurado al final).

    Los modelos de las pruebas son diminutos: con un hilo van igual de rápido y no sufren
    cuando la máquina está sobrecargada (varios hilos de OpenMP esperándose entre sí).
    """
    with single_thread():
        yield
