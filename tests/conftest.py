"""Configuración de las pruebas unitarias (``pytest tests``).

* Backend de matplotlib sin pantalla (``Agg``) y barras de progreso calladas, también
  cuando se llama a pytest a mano (``make test`` ya exporta estas variables).
* ``TRANSFORMER_LIB_DATA`` apunta a ``../shared/data`` si existe y no está definida.
* Semilla fija antes de cada prueba: los resultados no dependen del orden ni de xdist.

El salto de las celdas ``requires-gpu`` de nbval está en el ``conftest.py`` de la raíz,
que también se aplica a ``pytest --nbval-lax chapters/…``.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TQDM_DISABLE", "1")

_DATOS_COMPARTIDOS = Path(__file__).resolve().parents[2] / "shared" / "data"
if "TRANSFORMER_LIB_DATA" not in os.environ and _DATOS_COMPARTIDOS.is_dir():
    os.environ["TRANSFORMER_LIB_DATA"] = str(_DATOS_COMPARTIDOS)

import pytest  # noqa: E402
import torch  # noqa: E402

RAIZ = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _semilla_fija() -> None:
    """Fija la semilla de torch antes de cada prueba."""
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def raiz_repo() -> Path:
    """Carpeta raíz del repositorio."""
    return RAIZ
