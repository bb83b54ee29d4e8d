"""Tests de transformer_lib.scaling: recuentos, FLOPs, leyes publicadas, ajustes y barridos."""

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from transformer_lib import GPT, GPTConfig
from transformer_lib.plots import plot_scaling
from transformer_lib.scaling import (
    BESIROGLU2024,
    CHINCHILLA2022,
    KAPLAN2020,
    PowerLawFit,
    SizeGrid,
    SweepSize,
    chinchilla_loss,
    chinchilla_optimal,
    compute_frontier,
    expand,
    fit_power_law,
    fit_power_law_with_offset,
    fit_sweep,
    flops_per_token,
    gpt_param_count_exact,
    gpt_param_count_formula,
    gpu_peak_flops,
    kaplan_loss_d,
    kaplan_loss_n,
    load_sweep,
    measure_flops,
    mfu,
    run_flops_per_token,
    run_grid,
    sweep_metadata,
    training_flops,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


CONFIGS = [
    GPTConfig(vocab_size=92, block_size=64, n_layer=4, n_head=4, d_model=128),
    GPTConfig(vocab_size=50, block_size=16, n_layer=2, n_head=2, d_model=32, d_ff=48, bias=False),
    GPTConfig(vocab_size=30, block_size=8, n_layer=3, n_head=3, d_model=24, tie_weights=False),
    GPTConfig(vocab_size=40, block_size=12, n_layer=1, n_head=1, d_model=16, norm_first=False),
]


# --------------------------------------------------------------------------- recuentos


@pytest.mark.parametrize("config", CONFIGS)
def test_exact_param_count_matches_model(config):
    assert gpt_param_count_exact(config) == GPT(config).count_parameters()


def test_formula_is_12_l_d2_and_close_to_exact():
    config = GPTConfig(vocab_size=92, n_layer=6, n_head=6, d_model=384)
    assert gpt_param_count_formula(config) == 12 * 6 * 384**2
    exact = gpt_param_count_exact(config).non_embedding
    assert 0.99 < gpt_param_count_formula(config) / exact < 1.0  # solo faltan sesgos y LayerNorm


def test_param_count_rejects_non_config():
    with pytest.raises(TypeError, match="GPTConfig"):
        gpt_param_count_formula({"n_layer": 2})


# --------------------------------------------------------------------------- FLOPs


def test_flops_per_token_terms():
    c = CONFIGS[0]
    n = gpt_param_count_exact(c).non_embedding
    assert flops_per_token(c, include_attention=False) == 6 * n
    assert flops_per_token(c) == 6 * n + 12 * c.n_layer * c.d_model * c.block_size
    assert flops_per_token(c, training=False) == pytest.approx(flops_per_token(c) / 3)
    assert flops_per_token(c, include_lm_head=True) - flops_per_token(c) == 6 * c.d_model * c.vocab_size
    assert flops_per_token(c, seq_len=32) < flops_per_token(c)
    with pytest.raises(ValueError, match="seq_len"):
        flops_per_token(c, seq_len=0)


def test_training_flops():
    assert training_flops(1e6, 2e6) == 1.2e13
    with pytest.raises(ValueError, match="n_tokens"):
        training_flops(1e6, -1)


@pytest.mark.parametrize("config", CONFIGS[:3])
def test_measured_flops_match_formula(config):
    torch.manual_seed(0)
    model = GPT(config)
    B, T = 3, config.block_size
    idx = torch.randint(0, config.vocab_size, (B, T))
    m = measure_flops(model, idx, idx)
    formula = flops_per_token(config, include_lm_head=True) * B * T
    # Lo único que el contador no ve son sesgos y LayerNorm (6 FLOPs por parámetro y token).
    assert m.total == pytest.approx(formula, rel=0.05)
    # Exacto: 6 FLOPs por peso de matriz (incluida la salida al vocabulario) + la atención.
    matrices = gpt_param_count_formula(config) + config.d_model * config.vocab_size
    assert m.total == 6 * matrices * B * T + 12 * config.n_layer * config.d_model * T * B * T
    assert m.backward == pytest.approx(2 * m.forward, rel=1e-6)
    assert m.by_op["aten.bmm"] == 12 * config.n_layer * config.d_model * T * B * T
    assert all(p.grad is None for p in model.parameters())


def test_measure_flops_forward_only_and_fused_attention():
    config = CONFIGS[0]
    model = GPT(config)
    idx = torch.randint(0, config.vocab_size, (2, config.block_size))
    with torch.no_grad():
        fwd = measure_flops(model, idx)
    assert fwd.backward == 0 and fwd.total == fwd.forward
    assert fwd.forward == pytest.approx(flops_per_token(config, training=False, include_lm_head=True) * idx.numel(), rel=0.02)
    # Sin forzar el backend matemático, el núcleo fusionado de CPU no se cuenta: menos FLOPs.
    fused = measure_flops(model, idx, idx, count_attention=False)
    assert "aten.bmm" not in fused.by_op
    assert fused.total < measure_flops(model, idx, idx).total


def test_mfu():
    c = CONFIGS[0]
    # La MFU usa la cuenta completa (con la capa de salida atada), la misma de los presupuestos.
    assert mfu(1e6, c, peak_flops=run_flops_per_token(c) * 1e6) == pytest.approx(1.0)
    assert mfu(1e6, c, peak_flops=flops_per_token(c) * 1e6) > 1.0
    with pytest.raises(ValueError, match="peak_flops"):
        mfu(1.0, c, peak_flops=0)


def test_gpu_peak_flops_lookup():
    assert gpu_peak_flops("NVIDIA H100 80GB HBM3") == 989e12
    assert gpu_peak_flops("NVIDIA H100 PCIe") == 756e12
    assert gpu_peak_flops("NVIDIA A100-SXM4-40GB") == 312e12
    assert gpu_peak_flops("Tesla T4") == 65e12
    assert gpu_peak_flops("NVIDIA L40") == 181e12 and gpu_peak_flops("NVIDIA L4") == 121e12
    assert gpu_peak_flops("GPU desconocida", default=1.0) == 1.0


# --------------------------------------------------------------------------- leyes publicadas


def test_kaplan_and_chinchilla_values():
    assert kaplan_loss_n(KAPLAN2020.n_c) == pytest.approx(1.0)
    assert kaplan_loss_n(1e9) == pytest.approx((8.8e13 / 1e9) ** 0.076)
    assert chinchilla_loss(np.inf, np.inf) == pytest.approx(CHINCHILLA2022.e)
    assert chinchilla_loss(1e9, 2e10, BESIROGLU2024) > BESIROGLU2024.e


def test_kaplan_loss_d_closed_form():
    d = np.array([1e8, 1e10, 1e12])
    expected = (KAPLAN2020.d_c / d) ** KAPLAN2020.alpha_d
    assert kaplan_loss_d(d) == pytest.approx(expected)
    assert kaplan_loss_d(1e10) == pytest.approx((5.4e13 / 1e10) ** 0.095)
    assert kaplan_loss_d(KAPLAN2020.d_c) == pytest.approx(1.0)
    assert kaplan_loss_d(d).shape == d.shape and np.all(np.diff(kaplan_loss_d(d)) < 0)
    # Diez veces más datos multiplican la pérdida por 10^(−α_D).
    assert kaplan_loss_d(1e11) / kaplan_loss_d(1e10) == pytest.approx(10 ** -0.095)


@pytest.mark.parametrize("constants", [CHINCHILLA2022, BESIROGLU2024])
def test_chinchilla_optimal_minimises_on_isoflop(constants):
    compute = 1e21
    n_opt, d_opt = chinchilla_optimal(compute, constants)
    assert 6 * n_opt * d_opt == pytest.approx(compute)
    n = np.geomspace(n_opt / 10, n_opt * 10, 2001)
    losses = chinchilla_loss(n, compute / (6 * n), constants)
    assert n[np.argmin(losses)] == pytest.approx(n_opt, rel=0.01)


def test_besiroglu_gives_about_20_tokens_per_parameter():
    n_opt, d_opt = chinchilla_optimal(5.76e23, BESIROGLU2024)  # cómputo de Chinchilla
    assert 15 < d_opt / n_opt < 25


# --------------------------------------------------------------------------- ajustes


def test_fit_power_law_recovers_exponent():
    rng = np.random.default_rng(0)
    x = np.geomspace(1e4, 1e8, 12)
    y = 7.0 * x**-0.076 * np.exp(rng.normal(0, 0.002, x.size))
    fit = fit_power_law(x, y)
    assert fit.alpha == pytest.approx(0.076, abs=0.003)
    assert fit.a == pytest.approx(7.0, rel=0.1)
    assert fit.r2 > 0.99
    assert fit(x) == pytest.approx(y, rel=0.01)


def test_fit_power_law_exact_data():
    x = np.array([1.0, 10.0, 100.0])
    fit = fit_power_law(x, 3.0 * x**-0.5)
    assert (fit.a, fit.alpha, fit.e) == pytest.approx((3.0, 0.5, 0.0))


def test_fit_power_law_with_offset_recovers_parameters():
    x = np.geomspace(1e4, 1e7, 8)
    y = 1.5 + 40.0 * x**-0.3
    fit = fit_power_law_with_offset(x, y)
    assert fit.e == pytest.approx(1.5, abs=0.02)
    assert fit.alpha == pytest.approx(0.3, abs=0.02)
    assert fit(x) == pytest.approx(y, rel=1e-3)


@pytest.mark.parametrize("x, y, match", [
    ([1.0], [1.0], "al menos 2"),
    ([1.0, 2.0], [1.0], "mismo número"),
    ([1.0, -2.0], [1.0, 1.0], "positivos"),
])
def test_fit_power_law_bad_input(x, y, match):
    with pytest.raises(ValueError, match=match):
        fit_power_law(x, y)


def test_fit_with_offset_needs_three_points():
    with pytest.raises(ValueError, match="3 puntos"):
        fit_power_law_with_offset([1.0, 2.0], [2.0, 1.0])


def test_power_law_fit_to_dict():
    assert PowerLawFit(a=2.0, alpha=0.1, e=1.0, r2=0.9).to_dict() == {"a": 2.0, "alpha": 0.1, "e": 1.0, "r2": 0.9}


# --------------------------------------------------------------------------- barridos


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory):
    """El barrido de tamaños de siempre (una semilla, la de la receta) con el motor reanudable."""
    from transformer_lib.data import CharTokenizer, QuijoteData
    from transformer_lib.training import TrainConfig

    text = "en un lugar de la mancha, de cuyo nombre no quiero acordarme. " * 40
    tok = CharTokenizer.from_text(text)
    ids = torch.tensor(tok.encode(text))
    data = QuijoteData(tok, ids[:2000], ids[2000:])
    config = TrainConfig(max_iters=12, batch_size=4, block_size=16, eval_interval=4, eval_iters=2,
                         final_eval_iters=3, warmup_iters=2, lr=3e-3, device="cpu", progress=False)
    grid = SizeGrid(sizes=tuple(SweepSize(*s) for s in [(1, 1, 8), (1, 2, 16), (2, 2, 24), (2, 4, 32)]))
    seen = []
    path = tmp_path_factory.mktemp("sweep") / "sub" / "sweep.json"
    results = run_grid(grid, config, data, path, on_run=seen.append, log=lambda _: None)
    return results, seen, path


def test_size_sweep_structure(tiny_sweep):
    results, seen, _ = tiny_sweep
    runs = results["runs"]
    assert [r["name"] for r in runs] == ["L1-d8", "L1-d16", "L2-d24", "L2-d32"] == [r["name"] for r in seen]
    for r in runs:
        config = GPTConfig(vocab_size=results["vocab_size"], block_size=16, n_layer=r["n_layer"],
                           n_head=r["n_head"], d_model=r["d_model"])
        assert r["seed"] == 1337  # la semilla de la receta
        assert r["params_non_embedding"] == gpt_param_count_exact(config).non_embedding
        assert r["tokens"] == 12 * 4 * 16
        assert r["compute_kaplan"] == training_flops(r["params_non_embedding"], r["tokens"])
        assert r["compute"] == run_flops_per_token(config) * r["tokens"] > r["compute_kaplan"]
        assert r["curve"]["steps"] == [0, 4, 8, 12]
        assert r["curve"]["val_loss"][-1] == r["val_loss_sampled"]
        assert np.isfinite(r["val_loss"])
    assert set(results["fits"]) == {"params", "params_offset", "compute"}


def test_save_load_plot_sweep(tiny_sweep):
    results, _, path = tiny_sweep
    loaded = load_sweep(path)
    assert loaded == json.loads(json.dumps(results))
    fits = fit_sweep(loaded)
    assert fits["params"].alpha == pytest.approx(results["fits"]["params"]["alpha"])
    for x in ("params", "compute"):
        fig = plot_scaling(loaded, x=x)
        assert isinstance(fig, Figure)
        assert fig.axes[0].get_xscale() == "log"
    fig, ax = plt.subplots()
    assert plot_scaling(loaded, ax=ax, fit=False) is fig
    with pytest.raises(ValueError, match="'params' o 'compute'"):
        plot_scaling(loaded, x="tokens")


def _curve_run(name, n, tokens, losses):
    return {"name": name, "params_non_embedding": n, "val_loss": losses[-1],
            "curve": {"tokens": tokens, "val_loss": losses}}


def test_compute_frontier():
    results = {"runs": [
        _curve_run("pequeño", 100, [0, 10, 20], [5.0, 3.0, 2.5]),
        _curve_run("grande", 1000, [0, 10, 20], [5.0, 2.8, 2.0]),
        {"name": "sin curva", "params_non_embedding": 10, "val_loss": 4.0},
    ]}
    c, loss = compute_frontier(results)
    # C = 6·N·D; el punto (6·10⁴, 2.8) no mejora a (1.2·10⁴, 2.5) y queda fuera; los de D = 0 también.
    assert c.tolist() == [6e3, 1.2e4, 1.2e5]
    assert loss.tolist() == [3.0, 2.5, 2.0]
    fits = fit_sweep(results)
    assert fits["compute"] == fit_power_law(c, loss)
    assert set(fits) == {"params", "compute"}
    assert fit_sweep({"runs": results["runs"][:1]}) == {}  # un solo modelo: nada que ajustar
    with pytest.raises(ValueError, match="runs"):
        compute_frontier({"runs": []})


def test_sweep_frontier_is_monotone(tiny_sweep):
    results, _, _ = tiny_sweep
    c, loss = compute_frontier(results)
    assert len(c) >= 3 and np.all(np.diff(c) > 0) and np.all(np.diff(loss) < 0)
    best = min(min(r["curve"]["val_loss"]) for r in results["runs"])
    assert loss[-1] == best


def test_sweep_metadata_describes_the_environment():
    from transformer_lib.environment import cpu_model

    meta = sweep_metadata(command="python -m transformer_lib sweep", note="nota", torch_threads=3)
    assert meta["command"] == "python -m transformer_lib sweep" and meta["note"] == "nota"
    assert meta["hardware"]["torch_threads"] == 3
    assert meta["hardware"]["cpu"] == cpu_model() and meta["hardware"]["torch"] == torch.__version__
    assert meta["git_commit"] is None or len(meta["git_commit"].removesuffix("-dirty")) == 40
    assert json.loads(json.dumps(meta)) == meta


def test_cpu_model_reads_cpuinfo(tmp_path):
    from transformer_lib.environment import cpu_model

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: CPU de prueba 3000\nflags\t: avx\n")
    assert cpu_model(cpuinfo) == "CPU de prueba 3000"
    assert isinstance(cpu_model(tmp_path / "no_existe"), str)


def test_load_sweep_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="transformer_lib sweep"):
        load_sweep(tmp_path / "no_existe.json")
    (tmp_path / "malo.json").write_text("{}")
    with pytest.raises(ValueError, match="runs"):
        load_sweep(tmp_path / "malo.json")
    with pytest.raises(ValueError, match="runs"):
        fit_sweep({})


def test_size_grid_rejects_bad_sizes():
    from transformer_lib.training import TrainConfig

    with pytest.raises(TypeError, match="n_layer, n_head, d_model"):
        expand(SizeGrid(sizes=((1, 2),)), TrainConfig(), vocab_size=10, train_tokens=100)


def test_sweep_cli_registered_and_validates():
    from transformer_lib.cli import build_parser, main

    args = build_parser().parse_args(["sweep", "--sizes", "1,1,8", "--max-iters", "5"])
    assert args.max_iters == 5 and args._run is not None
    assert main(["sweep", "--sizes", "1,2", "--out", "/nonexistent/x.json"]) == 1


def test_sweep_help_in_spanish(capsys):
    from transformer_lib.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["sweep", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("uso: ") and "--max-iters" in out and "(por defecto: 2000)" in out


def test_every_public_name_is_importable():
    import transformer_lib.scaling as scaling

    assert len(set(scaling.__all__)) == len(scaling.__all__)
    for name in scaling.__all__:
        assert getattr(scaling, name) is not None, name
    assert not hasattr(scaling, "plot_scaling")  # la figura vive en transformer_lib.plots, sin reenvíos
    with pytest.raises(AttributeError, match="no_existe"):
        scaling.no_existe  # noqa: B018
