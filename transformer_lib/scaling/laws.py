"""Leyes de escalado publicadas (capítulo 9).

Constantes de Kaplan et al. (2020) (:data:`KAPLAN2020`), de Hoffmann et al. (2022,
«Chinchilla», enfoque 3; :data:`CHINCHILLA2022`) y la reestimación de Besiroglu et al. (2024)
(:data:`BESIROGLU2024`), con :func:`kaplan_loss_n`, :func:`kaplan_loss_d`,
:func:`chinchilla_loss` y :func:`chinchilla_optimal`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class KaplanConstants:
    """Leyes de escalado de Kaplan et al. (2020), pérdida en nats por token (BPE, WebText2).

    L(N) = (N_c / N)^α_N con N = parámetros sin embeddings; L(D) = (D_c / D)^α_D con D en
    tokens; L(C_min) = (C_c / C_min)^α_C con C en PF-días (1 PF-día = 8.64·10¹⁹ FLOPs).
    """

    # L(N): parámetros sin embeddings.
    alpha_n: float = 0.076
    n_c: float = 8.8e13
    # L(D): tokens de entrenamiento.
    alpha_d: float = 0.095
    d_c: float = 5.4e13
    # L(C_min): cómputo en PF-días.
    alpha_c: float = 0.050
    c_c_pf_days: float = 3.1e8


@dataclass(frozen=True)
class ChinchillaConstants:
    """Ajuste paramétrico L(N, D) = E + A / N^α + B / D^β (Hoffmann et al., 2022, enfoque 3).

    N = parámetros, D = tokens de entrenamiento; E es la pérdida irreducible (nats por token).
    """

    e: float
    a: float
    b: float
    alpha: float
    beta: float
    name: str = ""


KAPLAN2020 = KaplanConstants()
CHINCHILLA2022 = ChinchillaConstants(1.69, 406.4, 410.7, 0.34, 0.28, "Hoffmann et al. (2022)")
BESIROGLU2024 = ChinchillaConstants(1.82, 482.0, 2085.4, 0.348, 0.366, "Besiroglu et al. (2024)")


def kaplan_loss_n(n: float | np.ndarray, constants: KaplanConstants = KAPLAN2020) -> np.ndarray:
    """L(N) = (N_c / N)^α_N: pérdida límite de un modelo con N parámetros sin embeddings.

    Parámetros:
        n: parámetros sin embeddings (escalar o array).
        constants: constantes de la ley.

    Devuelve:
        Pérdida en nats por token (array de la misma forma que ``n``).
    """
    n = np.asarray(n, dtype=float)
    return (constants.n_c / n) ** constants.alpha_n


def kaplan_loss_d(d: float | np.ndarray, constants: KaplanConstants = KAPLAN2020) -> np.ndarray:
    """L(D) = (D_c / D)^α_D: pérdida de un modelo grande entrenado con D tokens (con parada temprana).

    Parámetros:
        d: tokens de entrenamiento (escalar o array).
        constants: constantes de la ley.

    Devuelve:
        Pérdida en nats por token (array de la misma forma que ``d``).
    """
    d = np.asarray(d, dtype=float)
    return (constants.d_c / d) ** constants.alpha_d


def chinchilla_loss(
    n: float | np.ndarray, d: float | np.ndarray, constants: ChinchillaConstants = CHINCHILLA2022
) -> np.ndarray:
    """L(N, D) = E + A / N^α + B / D^β (Hoffmann et al., 2022).

    Parámetros:
        n: parámetros.
        d: tokens de entrenamiento (difundible con ``n``).
        constants: :data:`CHINCHILLA2022` o :data:`BESIROGLU2024`.

    Devuelve:
        Pérdida en nats por token.
    """
    n, d = np.asarray(n, dtype=float), np.asarray(d, dtype=float)
    c = constants
    return c.e + c.a / n**c.alpha + c.b / d**c.beta


def chinchilla_optimal(
    compute: float | np.ndarray, constants: ChinchillaConstants = CHINCHILLA2022
) -> tuple[np.ndarray, np.ndarray]:
    """Reparto óptimo de un presupuesto C = 6·N·D entre parámetros y tokens.

    Minimizar E + A/N^α + B/D^β con D = C/(6N) da N_opt = G·(C/6)^(β/(α+β)) y
    D_opt = (C/6)/N_opt, con G = (α·A / (β·B))^(1/(α+β)).

    Parámetros:
        compute: C en FLOPs (escalar o array).
        constants: constantes del ajuste.

    Devuelve:
        ``(n_opt, d_opt)``, arrays de la forma de ``compute``.
    """
    compute = np.asarray(compute, dtype=float)
    if np.any(compute <= 0):
        raise ValueError("compute debe ser positivo.")
    c = constants
    g = (c.alpha * c.a / (c.beta * c.b)) ** (1.0 / (c.alpha + c.beta))
    n_opt = g * (compute / 6.0) ** (c.beta / (c.alpha + c.beta))
    return n_opt, compute / 6.0 / n_opt


# Exponentes publicados de la asignación óptima N_opt ∝ C^a: Kaplan et al. (2020, ec. 6.1,
# N sin embeddings y C = 6·N·D) y Hoffmann et al. (2022, tabla 2, enfoques 1–3: 0,50, 0,49 y 0,46).
ALLOCATION_KAPLAN2020 = 0.73
ALLOCATION_CHINCHILLA2022 = 0.50

HOFFMANN_FIGURE4_CSV = "hoffmann2022_figure4.csv"


def load_hoffmann_points() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Los 245 entrenamientos de la figura 4 de Hoffmann et al. (2022), leídos por Epoch AI.

    Epoch AI extrajo del SVG del artículo N (parámetros), C (FLOPs de entrenamiento) y L (pérdida
    final) de cada punto (repositorio ``epoch-research/analyzing-chinchilla``,
    ``data/svg_extracted_data.csv``; Besiroglu et al., 2024). El archivo que acompaña a la
    biblioteca conserva esas tres columnas; el repositorio de origen no declara licencia y son
    medidas publicadas leídas de una figura, citadas con su fuente. D se deduce como C/(6·N),
    la convención del artículo.

    Devuelve:
        ``(n, d, loss)``, tres arrays de 245 valores.
    """
    import csv
    from importlib import resources

    text = resources.files(__package__).joinpath(HOFFMANN_FIGURE4_CSV).read_text(encoding="utf-8")
    rows = list(csv.DictReader(line for line in text.splitlines() if not line.startswith("#")))
    n = np.array([float(r["params"]) for r in rows])
    c = np.array([float(r["training_flops"]) for r in rows])
    loss = np.array([float(r["loss"]) for r in rows])
    return n, c / (6.0 * n), loss
