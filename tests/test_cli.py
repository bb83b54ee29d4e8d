"""Línea de órdenes: ayuda en español, errores de una línea sin traza, la receta común, entrenar,
generar y barrer tamaños."""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from pathlib import Path

import pytest

from transformer_lib import GPTConfig, TrainConfig, cli
from transformer_lib.scaling import RESULTS_SCHEMA

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("TRANSFORMER_LIB_DATA", "/nonexistent")) / "pg2000.txt"
needs_corpus = pytest.mark.skipif(not CORPUS.is_file(), reason="sin pg2000.txt en TRANSFORMER_LIB_DATA")

TINY = ["--n-layer", "1", "--n-head", "2", "--d-model", "32", "--block-size", "32", "--batch-size", "8",
        "--eval-interval", "0", "--eval-iters", "2", "--final-eval-iters", "4", "--num-threads", "1",
        "--no-progress", "--seed", "0"]


def _run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, TQDM_DISABLE="1", OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    env.pop("TRANSFORMER_LIB_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "transformer_lib", *args], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=timeout)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Entrena un GPT diminuto con la orden `train` (20 pasos sobre el Quijote real)."""
    if not CORPUS.is_file():
        pytest.skip("sin pg2000.txt en TRANSFORMER_LIB_DATA")
    out = tmp_path_factory.mktemp("cli") / "ckpt"
    proc = _run("train", "--data", "quijote", *TINY, "--max-iters", "20", "--lr", "3e-3",
                "--warmup-iters", "5", "--out", str(out))
    return out, proc


# Errores comprobados en un proceso aparte (como los vería quien usa la orden)…
ERROR_CASES = {
    "no_subcommand": ([], "faltan argumentos obligatorios"),
    "unknown_dataset": (["train", "--data", "shakespeare"], "opción no válida 'shakespeare'"),
    "n_head_does_not_divide": (["train", "--n-head", "3", "--d-model", "128"], "no es divisible entre --n-head=3"),
    "missing_checkpoint": (["generate", "--checkpoint", "/no/existe/ckpt"], "no es un checkpoint"),
}
# … y los que argparse detecta antes de empezar, dentro del mismo proceso (más rápido).
ARGPARSE_CASES = {
    "unknown_subcommand": (["entrena"], "opción no válida"),
    "negative_int": (["train", "--max-iters", "-5"], "se esperaba un entero positivo"),
    "malformed_number": (["train", "--lr", "rápido"], "se esperaba un número"),
    "unknown_option": (["train", "--capas", "3"], "argumentos no reconocidos: --capas 3"),
    "generate_without_checkpoint": (["generate"], "faltan argumentos obligatorios: --checkpoint"),
}


@pytest.fixture(scope="module")
def error_runs():
    """Lanza todas las órdenes erróneas a la vez (cada una es un proceso de Python aparte)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(_run, *args) for name, (args, _) in ERROR_CASES.items()}
        return {name: f.result() for name, f in futures.items()}


@pytest.mark.parametrize("name", list(ERROR_CASES))
def test_errors_are_one_spanish_line(error_runs, name):
    proc = error_runs[name]
    expected = ERROR_CASES[name][1]
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "error:" in lines[0] and expected in lines[0]


@pytest.mark.parametrize("name", list(ARGPARSE_CASES))
def test_argparse_errors_in_spanish(capsys, name):
    argv, expected = ARGPARSE_CASES[name]
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "error:" in lines[0] and expected in lines[0]


def test_help_is_in_spanish(capsys):
    for argv in ([], ["train"], ["generate"]):
        with pytest.raises(SystemExit) as exit_:
            cli.main([*argv, "--help"])
        assert exit_.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith("uso: ")
        assert "opciones:" in out and "muestra esta ayuda y termina" in out
        for english in ("usage:", "options:", "show this help", "positional arguments"):
            assert english not in out


def test_train_help_lists_recipe_options(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    out = capsys.readouterr().out
    for option in ("--n-layer", "--d-model", "--block-size", "--max-iters", "--lr", "--out"):
        assert option in out
    assert "(por defecto: 2000)" in out


def test_register_subcommand(capsys):
    def add(p):
        p.add_argument("--n", type=cli.positive_int, default=1, help="cuántas veces")

    def run(args):
        print("hola " * args.n)
        return 0

    cli.register_subcommand("greet", "saluda en español", add, run)
    try:
        assert cli.main(["greet", "--n", "2"]) == 0
        assert capsys.readouterr().out.strip() == "hola hola"
        with pytest.raises(ValueError, match="Ya hay un subcomando"):
            cli.register_subcommand("greet", "otra", add, run)
    finally:
        cli.SUBCOMMANDS.pop("greet")


@needs_corpus
def test_train_then_generate(trained, capsys):
    out, proc = trained
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    for key in ("val_loss", "train_loss", "tokens_per_s", "params", "seconds"):
        assert key in result
    assert result["iters"] == 20 and result["val_loss"] < 4.0  # ln(92) ≈ 4.52 al empezar
    assert (out / "model.pt").is_file() and (out / "checkpoint.json").is_file()

    gen = _run("generate", "--checkpoint", str(out), "--prompt", "En un lugar de la Mancha",
               "--max-new-tokens", "40", "--seed", "1")
    assert gen.returncode == 0, gen.stderr
    text = gen.stdout.rstrip("\n")
    assert text.startswith("En un lugar de la Mancha") and len(text) == len("En un lugar de la Mancha") + 40
    # Misma semilla, mismo texto (esta vez dentro del proceso, que es más rápido).
    assert cli.main(["generate", "--checkpoint", str(out), "--max-new-tokens", "40", "--seed", "1"]) == 0
    assert capsys.readouterr().out == gen.stdout


@needs_corpus
def test_prompt_outside_vocabulary(trained, capsys):
    out, _ = trained
    assert cli.main(["generate", "--checkpoint", str(out), "--prompt", "Hola 🙂", "--max-new-tokens", "5"]) == 1
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and "fuera del vocabulario" in line and "posición 5" in line


# --------------------------------------------------------------------------- la receta común

RECIPE = ["--block-size", "16", "--batch-size", "3", "--max-iters", "7", "--lr", "2e-3", "--min-lr", "1e-4",
          "--warmup-iters", "2", "--weight-decay", "0.1", "--eval-interval", "3", "--eval-iters", "2",
          "--final-eval-iters", "5", "--seed", "7", "--device", "cpu", "--precision", "bf16",
          "--num-threads", "1", "--no-progress", "--dropout", "0.1", "--no-tie-weights"]


def _parse(*argv: str):
    return cli.build_parser().parse_args(list(argv))


def test_same_recipe_builds_same_model_and_run_in_train_and_sweep():
    from transformer_lib.cli.recipe import recipe_from_args
    from transformer_lib.cli.sweep import parse_sizes

    for recipe in ([], RECIPE):  # la receta por defecto y una con todo cambiado
        train_kwargs, train_config = recipe_from_args(
            _parse("train", *recipe, "--n-layer", "2", "--n-head", "2", "--d-model", "32"))
        sweep_args = _parse("sweep", *recipe, "--sizes", "2,2,32")
        sweep_kwargs, sweep_config = recipe_from_args(sweep_args)
        if not recipe:  # la única diferencia: train mide la precisión; sweep, fp32 (archivos repetibles)
            assert (train_config.precision, sweep_config.precision) == ("auto", "fp32")
            train_config = dataclasses.replace(train_config, precision="fp32")
        assert train_config == sweep_config
        (size,) = parse_sizes(sweep_args.sizes)
        assert size.model_config(92, **sweep_kwargs) == GPTConfig(vocab_size=92, **train_kwargs)
    # Las opciones de RECIPE (la última vuelta) llegan de verdad a la configuración.
    assert (train_config.max_iters, train_config.precision, train_config.num_threads) == (7, "bf16", 1)
    assert not train_config.progress and train_kwargs["block_size"] == 16


def test_recipe_defaults_come_from_the_dataclasses():
    from transformer_lib.cli.recipe import recipe_from_args

    for command in ("train", "sweep"):
        gpt_kwargs, config = recipe_from_args(_parse(command))
        assert config == TrainConfig(precision="auto" if command == "train" else "fp32")
        assert GPTConfig(vocab_size=92, **gpt_kwargs) == GPTConfig(vocab_size=92)
        assert gpt_kwargs["tie_weights"] is GPTConfig(vocab_size=1).tie_weights is True


@pytest.mark.parametrize("command", ["train", "sweep"])
def test_every_train_config_field_is_an_option(command):
    args = vars(_parse(command))
    assert {f.name for f in fields(TrainConfig)} <= set(args)


def test_old_flag_spellings_are_hidden_aliases(capsys):
    for command in ("train", "sweep"):
        assert _parse(command, "--threads", "3").num_threads == 3
        assert _parse(command, "--tie-weights").tie_weights is True
        assert _parse(command, "--no-tie-weights").tie_weights is False
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        out = capsys.readouterr().out
        assert "--num-threads" in out and "--threads" not in out


@pytest.mark.parametrize("argv, expected", [
    (["sweep", "--dropout", "1"], "--dropout debe estar en [0, 1) y es 1.0"),
    (["train", "--min-lr", "0.1", "--lr", "0.01"], "--min-lr=0.1 no puede ser mayor que --lr=0.01"),
    (["sweep", "--sizes", "1,3,8"], "divisible entre cabezas"),
])
def test_recipe_errors_before_loading_data(capsys, argv, expected):
    assert cli.main([*argv, "--data-dir", "/no/existe"]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith(f"python -m transformer_lib {argv[0]}: error:") and expected in err


# --------------------------------------------------------------------------- sweep


def test_sweep_help_is_in_spanish(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["sweep", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("uso: python -m transformer_lib sweep ")
    assert "opciones:" in out and "muestra esta ayuda y termina" in out and "(por defecto: sí)" in out
    for option in ("--sizes", "--out", "--note", "--num-threads", "--eval-interval", "--precision",
                   "--tie-weights", "--no-tie-weights"):
        assert option in out
    for english in ("usage:", "options:", "show this help", "positional arguments", "default:",
                    "(default"):
        assert english not in out


@needs_corpus
def test_sweep_end_to_end(tmp_path, capsys):
    out = tmp_path / "sweep.json"
    argv = ["sweep", "--sizes", "1,1,8;1,2,16", "--max-iters", "3", "--eval-interval", "0",
            "--eval-iters", "1", "--final-eval-iters", "1", "--batch-size", "2", "--block-size", "8",
            "--warmup-iters", "1", "--device", "cpu", "--num-threads", "1", "--no-progress",
            "--note", "una nota con espacios", "--out", str(out)]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "size/L1-h1-d8/s1337" in printed and "size/L1-h2-d16/s1337" in printed and str(out) in printed
    saved = out.read_bytes()
    results = json.loads(saved.decode("utf-8"))
    # Sin --grid, el motor reanudable con la rejilla de tamaños y la semilla de la receta.
    assert results["schema"] == RESULTS_SCHEMA and results["complete"]
    assert results["grid"]["kind"] == "size" and results["grid"]["seeds"] == [1337]
    assert results["command"] == "python -m transformer_lib " + shlex.join(argv)
    assert shlex.split(results["command"])[3:] == argv
    assert results["note"] == "una nota con espacios"
    assert [r["name"] for r in results["runs"]] == ["L1-d8", "L1-d16"]
    assert all(r["steps"] == 3 and r["tokens"] == 3 * 2 * 8 for r in results["runs"])
    assert results["recipe"]["max_iters"] == 3 and results["recipe"]["eval_interval"] == 0
    assert results["model"] == {"dropout": 0.0, "tie_weights": True, "block_size": 8}
    assert results["hardware"]["torch_threads"] == 1 and "git_commit" in results
    assert set(results["fits"]) == {"params"}
    # La misma orden otra vez no rehace nada ni toca el archivo.
    assert cli.main(argv) == 0
    assert f"Reanudo {out}: ya estaba completo." in capsys.readouterr().out
    assert out.read_bytes() == saved


def test_scaling_module_runs_the_same_sweep_command():
    proc = subprocess.run([sys.executable, "-m", "transformer_lib.scaling", "sweep", "--sizes", "1,2"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 1
    assert proc.stderr.startswith("python -m transformer_lib.scaling sweep: error: Tamaño mal escrito '1,2'")


def test_importing_cli_and_scaling_does_not_load_matplotlib():
    code = "import sys, transformer_lib.scaling, transformer_lib.cli; print('matplotlib' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


# --------------------------------------------------------------------------- el analizador


def test_parser_accepts_raw_description_formatter(capsys):
    parser = cli.SpanishArgumentParser(prog="prueba", formatter_class=cli.SpanishRawDescriptionHelpFormatter,
                                       epilog="Ejemplos:\n  prueba uno\n  prueba dos")
    sub = parser.add_subparsers(dest="command", metavar="ORDEN")
    child = sub.add_parser("uno", help="la primera")
    child.add_argument("--n", type=cli.positive_int, default=3, help="cuántas")
    assert isinstance(child, cli.SpanishArgumentParser)
    assert child.formatter_class is cli.SpanishRawDescriptionHelpFormatter
    assert "Ejemplos:\n  prueba uno\n  prueba dos" in parser.format_help()
    assert "(por defecto: 3)" in child.format_help()
    with pytest.raises(SystemExit) as exit_:
        parser.parse_args(["uno", "--n", "0"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == ("prueba uno: error: argumento --n: se esperaba un entero positivo "
                                       "y recibí 0 (usa --help para ver las opciones)\n")


def test_every_public_name_is_importable():
    from transformer_lib.cli import parser

    for name in cli.__all__:
        assert getattr(cli, name) is not None, name
    for name in ("SpanishArgumentParser", "SpanishHelpFormatter", "positive_int", "non_negative_int",
                 "positive_float", "non_negative_float"):
        assert getattr(parser, name) is getattr(cli, name)
    assert set(cli.SUBCOMMANDS) >= {"train", "generate", "sweep"}


# --------------------------------------------------------------------------- --overwrite y --debug


@pytest.mark.parametrize("command", ["train", "sweep"])
def test_help_documents_overwrite_and_debug(capsys, command):
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    out = capsys.readouterr().out
    assert "--overwrite" in out and "--debug" in out and "traza completa" in out
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "--debug" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [
    ["--debug", "generate", "--checkpoint", "/no/existe/ckpt"],
    ["generate", "--checkpoint", "/no/existe/ckpt", "--debug"],
], ids=["antes", "despues"])
def test_debug_shows_the_traceback_and_then_the_line(capsys, argv, monkeypatch):
    monkeypatch.delenv("TRANSFORMER_LIB_DEBUG", raising=False)
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert "MissingFileError" in err and "load_checkpoint" in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("python -m transformer_lib generate: error: /no/existe/ckpt no es un checkpoint")


def test_without_debug_there_is_no_traceback(capsys, monkeypatch):
    monkeypatch.delenv("TRANSFORMER_LIB_DEBUG", raising=False)
    assert cli.main(["generate", "--checkpoint", "/no/existe/ckpt"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not _parse("generate", "--checkpoint", "x").debug
    assert _parse("--debug", "generate", "--checkpoint", "x").debug
    assert _parse("generate", "--checkpoint", "x", "--debug").debug


def test_debug_environment_variable_still_works(capsys, monkeypatch):
    monkeypatch.setenv("TRANSFORMER_LIB_DEBUG", "1")
    assert cli.main(["generate", "--checkpoint", "/no/existe/ckpt"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_check_before_work_uses_the_flag_names(tmp_path, capsys):
    """Los mensajes de la comprobación de --out hablan de --out y --overwrite, no de la API."""
    from transformer_lib import GPT
    from transformer_lib.training import save_checkpoint

    ckpt = save_checkpoint(tmp_path / "ckpt", GPT(GPTConfig(vocab_size=5, block_size=4, n_layer=1, n_head=1,
                                                            d_model=4)))
    assert cli.main(["train", "--out", str(ckpt), "--data-dir", "/no/existe"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (f"python -m transformer_lib train: error: Ya existe el checkpoint {ckpt}. Añade --overwrite "
                   "para reemplazarlo o elige otra ruta con --out.")
