"""Precisión numérica del entrenamiento, elegida midiendo en la máquina donde corre.

Cada precisión es un plan (:class:`PrecisionPlan`):

- ``"fp32"``: todo en float32.
- ``"tf32"`` (solo CUDA): float32, pero los productos de matrices usan los núcleos TF32.
- ``"bf16"``: *autocast* bf16 en la pasada hacia delante (los pesos y AdamW siguen en fp32).
- ``"bf16-math"``: lo mismo, pero la atención con la implementación «math» de PyTorch (dos
  productos de matrices y una softmax) en vez del kernel fusionado: en CPU y con contextos
  cortos es bastante más rápida en bf16; con contextos largos, al revés.

``"auto"`` no adivina por el hardware: :func:`choose_precision` cronometra unos pasos reales de
cada candidato (:func:`candidate_precisions`) sobre una copia del modelo, intercalados, y se
queda con el más rápido. El historial anota lo elegido y los tiempos; para repetir un
entrenamiento exactamente, pasa esa precisión fija.
"""

from __future__ import annotations

import contextlib
import copy
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

import torch

# Las que se pueden pedir; "auto" elige entre las candidatas del dispositivo.
PRECISIONS = ("auto", "fp32", "tf32", "bf16", "bf16-math")


def cpu_has_fast_bf16() -> bool:
    """Si la CPU multiplica matrices bf16 en hardware (instrucciones AVX512-BF16 o AMX)."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


@dataclass(frozen=True)
class PrecisionPlan:
    """Cómo se calcula un paso: el tipo de los productos de matrices y el núcleo de atención.

    Atributos:
        name: una de :data:`PRECISIONS` salvo ``"auto"``.
    """

    name: str

    def __post_init__(self):
        if self.name not in PRECISIONS or self.name == "auto":
            raise ValueError(f"Precisión desconocida {self.name!r}: usa una de {', '.join(PRECISIONS[1:])}.")

    @property
    def autocast_bf16(self) -> bool:
        return self.name.startswith("bf16")

    @contextlib.contextmanager
    def step(self, device: torch.device) -> Iterator[None]:
        """El contexto de un paso entero (hacia delante **y** hacia atrás): TF32 y el núcleo de
        atención son ajustes globales que también lee la retropropagación."""
        with contextlib.ExitStack() as stack:
            if self.name == "tf32" and device.type == "cuda":
                old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
                torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
                stack.callback(_restore_tf32, *old)
            if self.name == "bf16-math":
                from torch.nn.attention import SDPBackend, sdpa_kernel

                stack.enter_context(sdpa_kernel(SDPBackend.MATH))
            yield

    def forward(self, device: torch.device) -> AbstractContextManager:
        """El contexto de la pasada hacia delante: autocast bf16 o nada."""
        if self.autocast_bf16 and device.type in ("cpu", "cuda"):
            return torch.autocast(device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    @contextlib.contextmanager
    def evaluation(self, device: torch.device) -> Iterator[None]:
        """Los dos contextos juntos, para evaluar (no hay retropropagación)."""
        with self.step(device), self.forward(device):
            yield


def _restore_tf32(matmul: bool, cudnn: bool) -> None:
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = matmul, cudnn


def candidate_precisions(device: torch.device) -> list[PrecisionPlan]:
    """Los planes entre los que elige ``"auto"`` en ``device``.

    CUDA: fp32, tf32 y, si la GPU tiene bf16, bf16. CPU: fp32 y, si la CPU tiene bf16 en
    hardware, bf16 y bf16-math (sin él, bf16 se emula y nunca gana). Otros (MPS): fp32.
    """
    names = ["fp32"]
    if device.type == "cuda":
        names += ["tf32"] + (["bf16"] if torch.cuda.is_bf16_supported() else [])
    elif device.type == "cpu" and cpu_has_fast_bf16():
        names += ["bf16", "bf16-math"]
    return [PrecisionPlan(n) for n in names]


def resolve_precision(device: torch.device, precision: str) -> PrecisionPlan:
    """El plan de una precisión fija, comprobando que el dispositivo la admite.

    Parámetros:
        device: el dispositivo del entrenamiento.
        precision: una de :data:`PRECISIONS` salvo ``"auto"`` (para esa, :func:`choose_precision`).
    """
    if precision == "auto":
        raise ValueError('precision="auto" se decide midiendo: usa choose_precision.')
    plan = PrecisionPlan(precision)
    if plan.name == "tf32" and device.type != "cuda":
        raise ValueError(f"precision='tf32' solo existe en GPU CUDA, y el dispositivo es {device.type}.")
    return plan


def choose_precision(
    step: Callable[[PrecisionPlan], None],
    candidates: list[PrecisionPlan],
    rounds: int = 5,
    warmup: int = 2,
    sync: Callable[[], None] | None = None,
) -> tuple[PrecisionPlan, dict[str, float]]:
    """Cronometra ``step(plan)`` con cada candidato y devuelve el más rápido y sus tiempos.

    Primero ``warmup`` pasos de cada uno sin medir (la primera vez se preparan los núcleos);
    luego ``rounds`` rondas en las que cada candidato da un paso, en un orden que va rotando,
    para que el ruido de la máquina les toque a todos por igual. Gana la mediana menor.

    Parámetros:
        step: un paso de entrenamiento completo con ese plan (sobre una copia: no debe tocar
            el entrenamiento de verdad).
        candidates: los planes (p. ej. :func:`candidate_precisions`).
        rounds, warmup: pasos medidos y de calentamiento por candidato.
        sync: espera a que el dispositivo acabe (``torch.cuda.synchronize`` en GPU).

    Devuelve:
        ``(plan, {nombre: ms por paso})``.
    """
    if not candidates:
        raise ValueError("choose_precision necesita al menos un candidato.")
    if len(candidates) == 1:
        return candidates[0], {}
    sync = sync or (lambda: None)
    for plan in candidates:
        for _ in range(warmup):
            step(plan)
    times: dict[str, list[float]] = {p.name: [] for p in candidates}
    for r in range(rounds):
        for plan in candidates[r % len(candidates):] + candidates[:r % len(candidates)]:
            sync()
            t0 = time.perf_counter()
            step(plan)
            sync()
            times[plan.name].append(time.perf_counter() - t0)
    ms = {name: round(1e3 * statistics.median(t), 3) for name, t in times.items()}
    best = min(candidates, key=lambda p: ms[p.name])
    return best, ms


def measure_precisions(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.nn.Module, object], torch.Tensor],
    batch: object,
    device: torch.device,
    candidates: list[PrecisionPlan] | None = None,
) -> tuple[PrecisionPlan, dict[str, float]]:
    """:func:`choose_precision` con pasos de entrenamiento reales sobre una **copia** de ``model``.

    Cada paso: pérdida de ``batch`` con el plan, retropropagación y AdamW. Ni el modelo, ni su
    optimizador, ni el generador global (el dropout) salen tocados. La copia ocupa lo mismo
    que el modelo mientras dura la medida.

    Parámetros:
        model: el modelo, ya en ``device``.
        loss_fn: ``loss_fn(model, batch) -> escalar``.
        batch: un lote con la forma de los del entrenamiento, ya en ``device``.
        device: el dispositivo.
        candidates: None = :func:`candidate_precisions` de ``device``.

    Devuelve:
        ``(plan, {nombre: ms por paso})``.
    """
    candidates = candidate_precisions(device) if candidates is None else candidates
    twin = copy.deepcopy(model)
    optimizer = torch.optim.AdamW(twin.parameters(), lr=1e-4)

    def step(plan: PrecisionPlan) -> None:
        optimizer.zero_grad(set_to_none=True)
        with plan.step(device):
            with plan.forward(device):
                loss = loss_fn(twin, batch)
            loss.backward()
        optimizer.step()

    sync = torch.cuda.synchronize if device.type == "cuda" else None
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        return choose_precision(step, candidates, sync=sync)
