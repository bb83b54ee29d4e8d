"""Figuras del curso: mapas de atención, diagramas, curvas de entrenamiento y leyes de escala.

Todas las funciones siguen la misma regla: reciben ``ax=None`` (o ``axes=None``); si no
les das ejes, crean una figura nueva; dibujan con etiquetas en español y **devuelven la
figura**. No llaman a ``plt.show()``, no escriben archivos y no tocan ``rcParams``.
Comparten colores y piezas de :mod:`transformer_lib.plots.style`.

- :mod:`~transformer_lib.plots.attention`: :func:`plot_attention`, :func:`plot_heads`,
  :func:`plot_positional_encoding`.
- :mod:`~transformer_lib.plots.diagrams`: los diagramas ``draw_*`` de la arquitectura.
- :mod:`~transformer_lib.plots.history`: :func:`plot_history`, la curva de entrenamiento.
- :mod:`~transformer_lib.plots.scaling`: :func:`plot_scaling`, un barrido en log-log.

Importar este paquete no carga matplotlib: cada función lo importa cuando la llamas.
Se importan explícitamente, p. ej. ``from transformer_lib.plots import plot_attention``.
"""

from __future__ import annotations

from . import attention, diagrams, history, scaling
from .attention import *  # noqa: F403
from .diagrams import *  # noqa: F403
from .history import *  # noqa: F403
from .scaling import *  # noqa: F403

# Lo público es lo que cada módulo declara en su __all__ (once funciones en total).
__all__ = [*attention.__all__, *diagrams.__all__, *history.__all__, *scaling.__all__]
