"""La precisión elegida midiendo (``"auto"``), el paso sin esperas ni cortes de grafo y ``compile``."""

from __future__ import annotations

import json

import pytest
import torch

from transformer_lib import GPT, GPTConfig, TrainConfig, cli, train
from transformer_lib.training import (
    PrecisionPlan,
    candidate_precisions,
    choose_precision,
    cpu_has_fast_bf16,
    resolve_precision,
)
from transformer_lib.training import precision as precision_module

CPU = torch.device("cpu")


def _tiny(seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, d_model=16))


def _data(n: int = 400):
    g = torch.Generator().manual_seed(3)
    return torch.randint(11, (n,), generator=g), torch.randint(11, (n // 4,), generator=g)


# ------------------------------------------------------------------ la elección


class _FakeClock:
    """Un reloj que solo avanza cuando un paso «cuesta»: la elección no depende de la máquina."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_choose_precision_keeps_the_fastest_and_times_each_candidate_in_every_round(monkeypatch):
    clock = _FakeClock()
    monkeypatch.setattr(precision_module.time, "perf_counter", clock)
    cost = {"fp32": 0.030, "bf16": 0.020, "bf16-math": 0.012}
    calls = []

    def step(plan):
        calls.append(plan.name)
        clock.now += cost[plan.name]

    plans = [PrecisionPlan(n) for n in cost]
    best, ms = choose_precision(step, plans, rounds=4, warmup=2)
    assert best.name == "bf16-math"
    assert ms == {"fp32": 30.0, "bf16": 20.0, "bf16-math": 12.0}
    assert len(calls) == 3 * (2 + 4) and all(calls.count(n) == 6 for n in cost)
    # Intercalados: en cada ronda medida pasan todos, y quién va primero rota.
    measured = calls[6:]
    assert [measured[3 * r] for r in range(4)] == ["fp32", "bf16", "bf16-math", "fp32"]


def test_choose_precision_with_one_candidate_measures_nothing():
    best, ms = choose_precision(lambda plan: pytest.fail("no hace falta medir"), [PrecisionPlan("fp32")])
    assert best.name == "fp32" and ms == {}
    with pytest.raises(ValueError, match="al menos un candidato"):
        choose_precision(lambda plan: None, [])


def test_candidates_and_fixed_choices():
    names = [p.name for p in candidate_precisions(CPU)]
    assert names == (["fp32", "bf16", "bf16-math"] if cpu_has_fast_bf16() else ["fp32"])
    assert [p.name for p in candidate_precisions(torch.device("meta"))] == ["fp32"]
    assert resolve_precision(CPU, "bf16-math") == PrecisionPlan("bf16-math")
    with pytest.raises(ValueError, match="tf32' solo existe en GPU CUDA, y el dispositivo es cpu"):
        resolve_precision(CPU, "tf32")
    with pytest.raises(ValueError, match="se decide midiendo"):
        resolve_precision(CPU, "auto")
    with pytest.raises(ValueError, match="Precisión desconocida 'fp8'"):
        PrecisionPlan("fp8")
    with pytest.raises(ValueError, match="precision debe ser una de"):
        TrainConfig(precision="fp16")
    with pytest.raises(ValueError, match="TrainConfig.compile debe ser True o False y es 'sí'"):
        TrainConfig(compile="sí")


def _attention_ops(plan: PrecisionPlan) -> set[str]:
    model = _tiny()
    x = torch.randint(11, (2, 8))
    with torch.profiler.profile() as prof, plan.evaluation(CPU):
        model(x)
    return {e.key for e in prof.key_averages() if "scaled_dot_product" in e.key}


def test_bf16_math_uses_the_math_attention_and_bf16_the_fused_kernel():
    math_ops = _attention_ops(PrecisionPlan("bf16-math"))
    fused_ops = _attention_ops(PrecisionPlan("bf16"))
    assert any("math" in op for op in math_ops) and not any("flash" in op for op in math_ops)
    assert any("flash" in op for op in fused_ops)


def test_plans_restore_what_they_change():
    before = torch.backends.cuda.matmul.allow_tf32
    with PrecisionPlan("tf32").step(CPU), PrecisionPlan("bf16").forward(CPU):
        assert torch.is_autocast_enabled("cpu")
    assert not torch.is_autocast_enabled("cpu") and torch.backends.cuda.matmul.allow_tf32 == before


# ------------------------------------------------------------------ "auto" no cambia el entrenamiento


def _run(precision: str, **kw):
    model = _tiny()
    cfg = TrainConfig(max_iters=12, batch_size=4, block_size=8, eval_interval=4, eval_iters=2,
                      final_eval_iters=3, precision=precision, progress=False, device="cpu", **kw)
    rng = torch.get_rng_state()
    history = train(model, cfg, _data())
    assert torch.equal(torch.get_rng_state(), rng)  # train() deja el generador global como estaba
    return history, model.state_dict()


def test_auto_measures_on_a_copy_and_then_trains_exactly_like_the_fixed_choice():
    auto, auto_weights = _run("auto")
    assert auto.precision in [p.name for p in candidate_precisions(CPU)]
    if cpu_has_fast_bf16():
        assert set(auto.precision_ms) == {"fp32", "bf16", "bf16-math"}
        assert auto.precision_ms[auto.precision] == min(auto.precision_ms.values())
        assert auto.precision_seconds > 0
    fixed, fixed_weights = _run(auto.precision)
    assert fixed.precision == auto.precision and fixed.precision_ms == {}
    assert auto.train_loss == fixed.train_loss and auto.val_loss == fixed.val_loss
    assert all(torch.equal(auto_weights[k], fixed_weights[k]) for k in auto_weights)


def test_auto_with_a_generic_source_does_not_draw_extra_batches():
    drawn = []

    def run(precision):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.GELU(), torch.nn.Linear(8, 1))
        g = torch.Generator().manual_seed(1)

        def get_batch(split):
            drawn.append(split)
            x = torch.randn(6, 4, generator=g)
            return x, x.sum(1, keepdim=True)

        def loss_fn(m, batch):
            return torch.nn.functional.mse_loss(m(batch[0]), batch[1])

        cfg = TrainConfig(max_iters=5, eval_interval=0, eval_iters=2, final_eval_iters=0,
                          precision=precision, progress=False, device="cpu")
        return train(model, cfg, get_batch=get_batch, loss_fn=loss_fn), list(model.parameters())

    auto, auto_params = run("auto")
    n_auto = len(drawn)
    drawn.clear()
    fixed, fixed_params = run(auto.precision)
    assert n_auto == len(drawn)
    assert auto.train_loss == fixed.train_loss
    assert all(torch.equal(a, b) for a, b in zip(auto_params, fixed_params))


def test_cli_reports_the_choice_and_its_times(capsys, monkeypatch, tmp_path):
    from transformer_lib.cli import train as cli_train
    from transformer_lib.data import CharTokenizer, QuijoteData, train_val_split

    text = "En un lugar de la Mancha, de cuyo nombre no quiero acordarme. " * 20
    tok = CharTokenizer.from_text(text)
    tr, va = train_val_split(torch.tensor(tok.encode(text)), 0.2)
    monkeypatch.setattr(cli_train, "prepare_data", lambda *a, **k: QuijoteData(tok, tr, va))
    code = cli.main(["train", "--n-layer", "1", "--n-head", "2", "--d-model", "16", "--block-size", "8",
                     "--batch-size", "4", "--max-iters", "3", "--eval-interval", "0", "--final-eval-iters", "1",
                     "--num-threads", "1", "--no-progress", "--device", "cpu"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["precision"] in [p.name for p in candidate_precisions(CPU)]
    assert (set(summary["precision_ms"]) == {"fp32", "bf16", "bf16-math"}) == cpu_has_fast_bf16()
    assert summary["compile"] is False and summary["compile_seconds"] == 0


# ------------------------------------------------------------------ el paso: sin esperas ni cortes


def test_bad_token_ids_in_the_data_are_caught_once_before_training():
    train_ids, val_ids = _data()
    val_ids = val_ids.clone()
    val_ids[7] = 11
    with pytest.raises(ValueError, match=r"data \(val\) contiene el id de token 11, fuera del vocabulario \[0, 10\]"):
        train(_tiny(), TrainConfig(max_iters=2, progress=False, device="cpu"), (train_ids, val_ids))
    # Fuera del entrenamiento, el modelo sigue comprobando cada llamada.
    with pytest.raises(ValueError, match=r"idx contiene el id de token 11"):
        _tiny()(torch.tensor([[1, 11]]))


class _HostReads:
    """Cuenta las lecturas de tensores desde Python (en GPU, cada una es una espera)."""

    NAMES = ("item", "tolist", "__float__", "__int__", "__bool__")

    def __init__(self, monkeypatch):
        self.count = 0
        for name in self.NAMES:
            original = getattr(torch.Tensor, name)
            monkeypatch.setattr(torch.Tensor, name, self._counting(original))

    def _counting(self, original):
        def wrapper(t, *args, **kwargs):
            self.count += 1
            return original(t, *args, **kwargs)
        return wrapper


def test_the_training_step_reads_nothing_back_per_step(monkeypatch):
    reads = _HostReads(monkeypatch)

    def reads_for(steps: int) -> int:
        reads.count = 0
        cfg = TrainConfig(max_iters=steps, batch_size=4, block_size=8, eval_interval=0, eval_iters=1,
                          final_eval_iters=1, progress=False, device="cpu")
        train(_tiny(), cfg, _data())
        return reads.count

    short, long = reads_for(10), reads_for(110)
    # 100 pasos más solo añaden las dos lecturas de las pérdidas en los pasos 50 y 100.
    assert long - short <= 2, (short, long)


def test_gpt_forward_compiles_without_graph_breaks():
    model = _tiny()
    x, y = torch.randint(11, (2, 8)), torch.randint(11, (2, 8))
    compiled = torch.compile(model, backend="eager", fullgraph=True)  # un corte sería un error
    _, loss = compiled(x, y)
    _, expected = model(x, y)
    torch.testing.assert_close(loss, expected)


def test_compile_trains_the_same_run_and_reports_the_compile_time_apart(monkeypatch):
    # El compilador completo (inductor) tarda medio minuto en CPU; aot_eager recorre el mismo
    # camino (captura del grafo hacia delante y hacia atrás) en un par de segundos.
    real_compile = torch.compile
    monkeypatch.setattr(torch, "compile", lambda m, **kw: real_compile(m, backend="aot_eager", **kw))
    eager, eager_weights = _run("fp32")
    compiled, compiled_weights = _run("fp32", compile=True)
    assert compiled.compile_seconds > 0 and eager.compile_seconds == 0
    torch.testing.assert_close(compiled.train_loss, eager.train_loss, rtol=1e-5, atol=1e-6)
    for k in eager_weights:
        torch.testing.assert_close(compiled_weights[k], eager_weights[k], rtol=1e-4, atol=1e-6)


def test_matmul_rate_measures_this_machine_and_names_bad_input():
    from transformer_lib.scaling import matmul_rate

    assert matmul_rate(torch.float32, size=64, repeats=3) > 1e6  # FLOP/s: cualquier CPU pasa de 1 MFLOP/s
    with pytest.raises(ValueError, match="mide float32, bfloat16 o float16, no torch.int64"):
        matmul_rate(torch.int64)
    with pytest.raises(ValueError, match="size debe ser un entero positivo y es 0"):
        matmul_rate(size=0)
