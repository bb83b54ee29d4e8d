"""Línea de órdenes: ayuda en español, errores de una línea sin traza, entrenar y generar."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from transformer_lib import cli

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("TRANSFORMER_LIB_DATA", "/nonexistent")) / "pg2000.txt"
needs_corpus = pytest.mark.skipif(not CORPUS.is_file(), reason="sin pg2000.txt en TRANSFORMER_LIB_DATA")

TINY = ["--n-layer", "1", "--n-head", "2", "--d-model", "32", "--block-size", "32", "--batch-size", "8",
        "--eval-interval", "0", "--eval-iters", "2", "--final-eval-iters", "4", "--threads", "1",
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
    "sin_subcomando": ([], "faltan argumentos obligatorios"),
    "datos_desconocidos": (["train", "--data", "shakespeare"], "opción no válida 'shakespeare'"),
    "n_head_no_divide": (["train", "--n-head", "3", "--d-model", "128"], "no es divisible entre --n-head=3"),
    "sin_checkpoint": (["generate", "--checkpoint", "/no/existe/ckpt"], "no es un checkpoint"),
}
# … y los que argparse detecta antes de empezar, dentro del mismo proceso (más rápido).
ARGPARSE_CASES = {
    "subcomando_desconocido": (["entrena"], "opción no válida"),
    "entero_negativo": (["train", "--max-iters", "-5"], "se esperaba un entero positivo"),
    "numero_mal_escrito": (["train", "--lr", "rápido"], "se esperaba un número"),
    "opcion_desconocida": (["train", "--capas", "3"], "argumentos no reconocidos: --capas 3"),
    "generate_sin_checkpoint": (["generate"], "faltan argumentos obligatorios: --checkpoint"),
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

    cli.register_subcommand("saluda", "saluda en español", add, run)
    try:
        assert cli.main(["saluda", "--n", "2"]) == 0
        assert capsys.readouterr().out.strip() == "hola hola"
        with pytest.raises(ValueError, match="Ya hay un subcomando"):
            cli.register_subcommand("saluda", "otra", add, run)
    finally:
        cli.SUBCOMMANDS.pop("saluda")


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
