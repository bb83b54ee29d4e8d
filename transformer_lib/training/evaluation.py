"""La evaluación (capítulos 7, 9 y 10): la pérdida media de un modelo sobre unos lotes fijos."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from .sources import count_tokens, default_loss

LossFn = Callable[[nn.Module, Any], torch.Tensor]

__all__ = ["LossFn", "estimate_loss", "loss_sum"]


@torch.no_grad()
def loss_sum(model: nn.Module, batches: list, loss_fn: LossFn = default_loss, autocast=None) -> tuple[float, int]:
    """Suma de las pérdidas de ``batches`` ponderadas por sus tokens, y la suma de los pesos.

    Es lo que se suma entre procesos al evaluar repartido; :func:`estimate_loss` divide una
    cosa entre la otra. Mismos parámetros que :func:`estimate_loss`.
    """
    was_training = model.training
    model.eval()
    total, weight = None, 0
    ctx = autocast or contextlib.nullcontext
    for batch in batches:
        with ctx():
            loss = loss_fn(model, batch)
        w = count_tokens(batch) or 1
        term = loss.detach().double() * w  # se suma en el dispositivo: una sola espera al final
        total = term if total is None else total + term
        weight += w
    model.train(was_training)
    return (0.0 if total is None else float(total)), weight


def estimate_loss(model: nn.Module, batches: list, loss_fn: LossFn = default_loss, autocast=None) -> float:
    """Pérdida media de ``model`` sobre una lista de lotes (en modo evaluación, sin gradientes).

    Si los lotes tienen distinto tamaño, se pondera por el número de tokens de cada uno.

    Parámetros:
        model: el modelo; al terminar vuelve al modo (entrenamiento o evaluación) que tenía.
        batches: los lotes, ya en el dispositivo del modelo.
        loss_fn: ``loss_fn(model, lote) -> escalar``.
        autocast: fábrica de contextos para la pasada (p. ej. ``lambda: plan.evaluation(device)``
            con un :class:`~transformer_lib.training.PrecisionPlan`); None = fp32 tal cual.

    Devuelve:
        La pérdida media.
    """
    total, weight = loss_sum(model, batches, loss_fn, autocast)
    return total / max(weight, 1)
