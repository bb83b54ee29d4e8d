"""Compatibilidad: los diagramas viven ahora en :mod:`transformer_lib.plots`.

``from transformer_lib.diagrams import draw_block_diagram`` sigue funcionando; en código
nuevo escribe ``from transformer_lib.plots import draw_block_diagram``.
"""

from __future__ import annotations

from .plots.diagrams import *  # noqa: F403  (los seis draw_*)
from .plots.diagrams import __all__  # noqa: F401
