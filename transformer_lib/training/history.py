"""El registro de un entrenamiento: :class:`History`."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..utils import DictConvertible


@dataclass
class History(DictConvertible):
    """Registro de un entrenamiento.

    Atributos:
        steps, train_loss, lr: por cada paso, su número (1, 2, …), la pérdida del lote y la tasa
            de aprendizaje usada.
        eval_steps, val_loss, eval_train_loss: en cada evaluación, el paso y la pérdida media en
            validación y en entrenamiento (sobre lotes fijos). La última evaluación usa
            ``final_eval_iters`` lotes.
        seconds: segundos de entrenamiento (sin contar las evaluaciones).
        eval_seconds: segundos dedicados a evaluar.
        tokens: tokens procesados en entrenamiento.
        tokens_per_s: tokens / seconds.
        precision: la precisión con la que se entrenó (la elegida, si se pidió "auto").
        precision_ms: con "auto", los milisegundos por paso que midió cada candidata.
        precision_seconds: segundos que costó medirlas.
        compile_seconds: con ``compile``, lo que tardó de más el primer paso (la compilación);
            no cuenta en ``seconds``.
    """

    steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    eval_train_loss: list[float] = field(default_factory=list)
    seconds: float = 0.0
    eval_seconds: float = 0.0
    tokens: int = 0
    precision: str = ""
    precision_ms: dict[str, float] = field(default_factory=dict)
    precision_seconds: float = 0.0
    compile_seconds: float = 0.0

    @property
    def tokens_per_s(self) -> float:
        """Tokens de entrenamiento por segundo (NaN si no hubo tiempo medido)."""
        return self.tokens / self.seconds if self.seconds > 0 else float("nan")

    @property
    def ms_per_iter(self) -> float:
        """Milisegundos por paso de entrenamiento (NaN si no hubo pasos)."""
        return 1000 * self.seconds / len(self.steps) if self.steps else float("nan")

    @property
    def final_val_loss(self) -> float:
        """Última pérdida de validación medida (NaN si no hubo evaluación)."""
        return self.val_loss[-1] if self.val_loss else float("nan")

    @property
    def final_train_loss(self) -> float:
        """Última pérdida de entrenamiento medida sobre lotes fijos (NaN si no hubo evaluación)."""
        return self.eval_train_loss[-1] if self.eval_train_loss else float("nan")
