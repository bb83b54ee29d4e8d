"""Nada del usuario se destruye ni queda a medias, y cada fallo habla español y nombra el
archivo (issue 18): ``train``/``sweep --out``, señales mientras se guarda, checkpoints
dañados, corpus ilegible y permisos de lo que se crea."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from test_data import _deny  # simula «sin permiso» (como root chmod no basta)

from transformer_lib import GPT, GPTConfig, Transformer, cli
from transformer_lib.cli import sweep as cli_sweep
from transformer_lib.cli import train as cli_train
from transformer_lib.data import CharTokenizer, QuijoteData, train_val_split
from transformer_lib.files import FileProblem, UnreadableFileError
from transformer_lib.training import load_checkpoint, load_weights, save_checkpoint

ROOT = Path(__file__).resolve().parents[1]
TEXT = "En un lugar de la Mancha, de cuyo nombre no quiero acordarme, no ha mucho tiempo. " * 30
TINY = ["--n-layer", "1", "--n-head", "2", "--d-model", "32", "--block-size", "16", "--batch-size", "4",
        "--max-iters", "2", "--eval-interval", "0", "--eval-iters", "1", "--final-eval-iters", "1",
        "--num-threads", "1", "--no-progress", "--device", "cpu"]
SWEEP = ["sweep", "--sizes", "1,1,8", "--max-iters", "2", "--eval-interval", "0", "--eval-iters", "1",
         "--final-eval-iters", "1", "--batch-size", "2", "--block-size", "8", "--warmup-iters", "1",
         "--device", "cpu", "--num-threads", "1", "--no-progress"]


def tiny_data() -> QuijoteData:
    tok = CharTokenizer.from_text(TEXT)
    train, val = train_val_split(torch.tensor(tok.encode(TEXT)), 0.2)
    return QuijoteData(tok, train, val)


@pytest.fixture
def data_calls(monkeypatch):
    """``train`` y ``sweep`` usan un texto diminuto; la lista dice si llegaron a cargar datos."""
    calls = []

    def fake_prepare(args):
        calls.append(args.data_dir)
        return tiny_data()

    monkeypatch.setattr(cli_train, "prepare_data", fake_prepare)
    monkeypatch.setattr(cli_sweep, "prepare_data", fake_prepare)
    return calls


def run_cli(capsys, *argv: str) -> tuple[int, list[str]]:
    """Ejecuta la orden en este proceso; devuelve el código y las líneas de stderr."""
    code = cli.main(list(argv))
    return code, capsys.readouterr().err.strip().splitlines()


def assert_one_spanish_line(lines: list[str], command: str, *expected: str) -> None:
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"python -m transformer_lib {command}: error: "), lines[0]
    for text in expected:
        assert text in lines[0], (text, lines[0])
    for english in ("Traceback", "Errno", "Permission denied", "Error(s)", "Weights only", "Expecting"):
        assert english not in lines[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Todo lo que hay bajo ``folder`` (ruta relativa -> contenido) para ver que no cambió."""
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"<carpeta>"
            for p in sorted(folder.rglob("*"))}


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# ------------------------------------------------------------- 1 y 2: --out de otra cosa


def test_out_on_a_user_file_is_refused_as_a_new_user_would_see_it(tmp_path):
    notes = tmp_path / "notas.txt"
    notes.write_text("mis notas de clase", encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    env.pop("TRANSFORMER_LIB_DEBUG", None)
    proc = subprocess.run([sys.executable, "-m", "transformer_lib", "train", *TINY, "--out", str(notes)],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert proc.returncode == 1
    assert_one_spanish_line(proc.stderr.strip().splitlines(), "train", str(notes), "no lo toco", "--out")
    assert notes.read_text(encoding="utf-8") == "mis notas de clase"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notas.txt"]


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_out_on_a_user_file_is_refused_before_loading_data(tmp_path, capsys, data_calls, overwrite):
    notes = tmp_path / "notas.txt"
    notes.write_text("mis notas", encoding="utf-8")
    code, lines = run_cli(capsys, "train", *TINY, "--out", str(notes), *overwrite)
    assert code == 1 and data_calls == []
    assert_one_spanish_line(lines, "train", f"{notes} ya existe y es un archivo", "Elige otra ruta con --out")
    assert notes.read_text(encoding="utf-8") == "mis notas"


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_out_on_a_user_folder_is_refused_and_its_contents_kept(tmp_path, capsys, data_calls, overwrite):
    project = tmp_path / "proyecto"
    (project / "src").mkdir(parents=True)
    (project / "tesis.tex").write_text("\\chapter{Uno}", encoding="utf-8")
    (project / "src" / "main.py").write_text("print('hola')", encoding="utf-8")
    before = snapshot(project)
    code, lines = run_cli(capsys, "train", *TINY, "--out", str(project), *overwrite)
    assert code == 1 and data_calls == []
    assert_one_spanish_line(lines, "train", f"{project} ya existe y es una carpeta", "no lo toco")
    assert snapshot(project) == before and hidden(tmp_path) == []


def test_checkpoint_folder_with_a_user_file_inside_is_not_replaced(tmp_path, capsys, data_calls):
    ckpt = tmp_path / "ckpt"
    assert run_cli(capsys, "train", *TINY, "--out", str(ckpt))[0] == 0
    (ckpt / "apuntes.md").write_text("no me borres", encoding="utf-8")
    before = snapshot(ckpt)
    code, lines = run_cli(capsys, "train", *TINY, "--out", str(ckpt), "--overwrite")
    assert code == 1 and len(data_calls) == 1
    assert_one_spanish_line(lines, "train", str(ckpt), "no lo toco")
    assert snapshot(ckpt) == before


def test_sweep_out_on_a_user_file_is_refused_before_training(tmp_path, capsys, data_calls):
    notes = tmp_path / "notas.json"
    notes.write_text('{"mis": "datos"}', encoding="utf-8")
    code, lines = run_cli(capsys, *SWEEP, "--out", str(notes), "--overwrite")
    assert code == 1 and data_calls == []
    assert_one_spanish_line(lines, "sweep", f"{notes} ya existe y no es un barrido reanudable", "no lo toco",
                            "--out")
    assert notes.read_text(encoding="utf-8") == '{"mis": "datos"}'


# ------------------------------------------------------------- 3: --out que no se puede escribir


@pytest.fixture
def training_calls(monkeypatch):
    calls = []
    real_train = cli_train.train
    monkeypatch.setattr(cli_train, "train", lambda *a, **k: calls.append(1) or real_train(*a, **k))
    return calls


@pytest.mark.skipif(not Path("/sys").is_dir(), reason="sin /sys")
@pytest.mark.parametrize("command", [["train", *TINY], SWEEP])
def test_unwritable_out_is_refused_before_training(capsys, data_calls, training_calls, command):
    # En /sys no se pueden crear archivos ni siendo root: la comprobación lo prueba de verdad.
    code, lines = run_cli(capsys, *command, "--out", "/sys/transformer_lib_prueba/salida")
    assert code == 1 and data_calls == [] and training_calls == []
    assert_one_spanish_line(lines, command[0], "No puedo escribir en /sys", "/sys/transformer_lib_prueba/salida",
                            "--out")


def test_read_only_folder_is_refused_before_training(tmp_path, capsys, data_calls, training_calls,
                                                     monkeypatch):
    """Lo que vería alguien sin permiso de escritura (como root chmod no lo impide: se simula)."""
    real_open = os.open

    def read_only(path, *args, **kwargs):
        if Path(path).parent == tmp_path:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    code, lines = run_cli(capsys, "train", *TINY, "--out", str(tmp_path / "ckpt"))
    assert code == 1 and data_calls == [] and training_calls == []
    assert_one_spanish_line(lines, "train", f"No puedo escribir en {tmp_path} (no tienes permiso)")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------- --overwrite: solo lo nuestro, atómico


def test_existing_checkpoint_needs_overwrite_and_is_replaced_whole(tmp_path, capsys, data_calls):
    ckpt = tmp_path / "ckpt"
    assert run_cli(capsys, "train", *TINY, "--seed", "1", "--out", str(ckpt))[0] == 0
    before = snapshot(ckpt)
    code, lines = run_cli(capsys, "train", *TINY, "--seed", "2", "--out", str(ckpt))
    assert code == 1 and len(data_calls) == 1
    assert_one_spanish_line(lines, "train", f"Ya existe el checkpoint {ckpt}", "Añade --overwrite")
    assert snapshot(ckpt) == before
    assert run_cli(capsys, "train", *TINY, "--seed", "2", "--out", str(ckpt), "--overwrite")[0] == 0
    assert load_checkpoint(ckpt).config.seed == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]  # ni .tmp ni .old


def test_empty_folder_is_a_valid_out(tmp_path, capsys, data_calls):
    """Como hace ``benchmarks/bench_train.py`` con un ``TemporaryDirectory``."""
    (tmp_path / "vacia").mkdir()
    assert run_cli(capsys, "train", *TINY, "--out", str(tmp_path / "vacia"))[0] == 0
    assert sorted(p.name for p in (tmp_path / "vacia").iterdir()) == ["checkpoint.json", "model.pt"]


def test_overwrite_keeps_the_old_checkpoint_if_the_disk_fills(tmp_path, capsys, data_calls, monkeypatch):
    ckpt = tmp_path / "ckpt"
    assert run_cli(capsys, "train", *TINY, "--out", str(ckpt))[0] == 0
    before = snapshot(ckpt)

    def disk_full(obj, f, *args, **kwargs):
        Path(f).write_bytes(b"a medias")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", disk_full)
    code, lines = run_cli(capsys, "train", *TINY, "--out", str(ckpt), "--overwrite")
    assert code == 1
    assert_one_spanish_line(lines, "train", f"No pude guardar {ckpt}: no queda espacio en el disco",
                            "sigue como estaba")
    assert snapshot(ckpt) == before and hidden(tmp_path) == []


def test_sweep_results_are_resumed_and_overwrite_starts_again(tmp_path, capsys, data_calls):
    out = tmp_path / "barrido.json"
    assert run_cli(capsys, *SWEEP, "--out", str(out))[0] == 0
    before = out.read_bytes()
    code, lines = run_cli(capsys, *SWEEP, "--out", str(out))  # ya completo: no entrena nada
    assert code == 0 and lines == [] and len(data_calls) == 2
    assert out.read_bytes() == before
    code, lines = run_cli(capsys, *SWEEP, "--lr", "0.5", "--out", str(out))  # otra receta: no mezcla
    assert code == 1 and len(data_calls) == 3
    assert_one_spanish_line(lines, "sweep", f"{out} es de otro barrido (cambia recipe)", "--out")
    assert out.read_bytes() == before
    assert run_cli(capsys, *SWEEP, "--note", "otra vez", "--out", str(out), "--overwrite")[0] == 0
    assert json.loads(out.read_text(encoding="utf-8"))["note"] == "otra vez"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["barrido.json"]


# ------------------------------------------------------------- 4: señales mientras se guarda

CHILD = """
import signal, sys, time
# Ctrl-C como en una terminal, aunque este proceso herede SIGINT ignorada (un «nohup … &» la ignora).
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.path.insert(0, {root!r})
import torch
from transformer_lib import cli
from transformer_lib.cli import train as cli_train
from transformer_lib.data import CharTokenizer, QuijoteData, train_val_split

text = {text!r}
tok = CharTokenizer.from_text(text)
train, val = train_val_split(torch.tensor(tok.encode(text)), 0.2)
cli_train.prepare_data = lambda *a, **k: QuijoteData(tok, train, val)
real_save = torch.save

def slow_save(obj, f, *args, **kwargs):
    real_save(obj, f, *args, **kwargs)
    print("guardando", flush=True)
    # A trozos: si el núcleo entrega la señal a otro hilo (los de torch), el hilo principal no
    # sale de un sleep largo con EINTR y el manejador solo correría al acabarlo.
    for _ in range(2400):
        time.sleep(0.05)

torch.save = slow_save
sys.exit(cli.main({argv!r}))
"""


@pytest.mark.parametrize("sig, code, said, existing", [
    (signal.SIGTERM, 143, "terminado por una señal SIGTERM", False),
    (signal.SIGINT, 130, "interrumpido con Ctrl-C", False),
    (signal.SIGTERM, 143, "terminado por una señal SIGTERM", True),
], ids=["sigterm", "ctrl-c", "sigterm-al-reemplazar"])
def test_signal_while_saving_leaves_nothing(tmp_path, sig, code, said, existing):
    ckpt = tmp_path / "ckpt"
    argv = ["train", *TINY, "--out", str(ckpt)]
    if existing:
        save_checkpoint(ckpt, GPT(GPTConfig(vocab_size=5, block_size=4, n_layer=1, n_head=1, d_model=4)))
        argv.append("--overwrite")
    before = snapshot(ckpt) if existing else None
    script = CHILD.format(root=str(ROOT), text=TEXT, argv=argv)
    # -X faulthandler: si el hijo no termina, SIGABRT vuelca la pila de cada hilo en su stderr.
    proc = subprocess.Popen([sys.executable, "-X", "faulthandler", "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    try:
        assert proc.stdout.readline().strip() == "guardando"
        proc.send_signal(sig)
        try:  # communicate, no wait: vacía las tuberías mientras espera (un hijo no se bloquea al escribir)
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)
            _, err = proc.communicate(timeout=30)
            pytest.fail(f"el hijo no terminó 60 s después de {sig.name}; sus hilos:\n{err[-8000:]}")
        assert proc.returncode == code, err
    finally:
        proc.kill()
    lines = err.strip().splitlines()
    assert lines == [f"python -m transformer_lib train: error: {said}; no ha quedado nada a medio escribir"]
    assert hidden(tmp_path) == []  # ni .ckpt.tmp-… ni .ckpt.old-…
    if existing:
        assert snapshot(ckpt) == before
    else:
        assert not ckpt.exists()


# ------------------------------------------------------------- 5: checkpoints dañados


def _gpt(d_model: int = 32) -> GPT:
    return GPT(GPTConfig(vocab_size=len(set(TEXT)), block_size=16, n_layer=1, n_head=2, d_model=d_model, d_ff=64))


def _edit_meta(path: Path, change) -> None:
    meta = json.loads((path / "checkpoint.json").read_text(encoding="utf-8"))
    change(meta)
    (path / "checkpoint.json").write_text(json.dumps(meta), encoding="utf-8")


class _Payload:
    """Un pickle «manipulado»: al cargarse sin weights_only crearía un archivo."""

    marker = ""

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def _crafted(path: Path) -> None:
    payload = _Payload()
    payload.marker = str(path / "EJECUTADO")
    torch.save({"tok_emb.weight": payload}, path / "model.pt")


DAMAGES = {
    "truncated": (lambda p: (p / "model.pt").write_bytes((p / "model.pt").read_bytes()[:500]),
                  "model.pt", r"model\.pt está truncado o dañado"),
    "empty_weights": (lambda p: (p / "model.pt").write_bytes(b""), "model.pt", r"está truncado o dañado"),
    "broken_json": (lambda p: (p / "checkpoint.json").write_text('{"format": "transformer_lib-checkpoint",\n '
                                                                 '"version": }', encoding="utf-8"),
                    "checkpoint.json", r"está dañado: no es un JSON válido \(línea 2, columna 13\)"),
    "not_ours_json": (lambda p: (p / "checkpoint.json").write_text("[1, 2]", encoding="utf-8"),
                      "checkpoint.json", r"no es el checkpoint\.json de un checkpoint de transformer_lib"),
    "newer_version": (lambda p: _edit_meta(p, lambda m: m.update(version=99)), "checkpoint.json",
                      r"versión 99 del formato.*actualiza transformer_lib"),
    "unknown_kind": (lambda p: _edit_meta(p, lambda m: m["model"].update(kind="RNN")), "checkpoint.json",
                     r"modelo desconocido: 'RNN'"),
    "bad_model_config": (lambda p: _edit_meta(p, lambda m: m["model"]["config"].update(d_model=-3)),
                         "checkpoint.json", r"la configuración del modelo no vale"),
    "bad_tokenizer": (lambda p: _edit_meta(p, lambda m: m.update(tokenizer={"type": "CharTokenizer"})),
                      "checkpoint.json", r"el tokenizador no vale"),
    "bad_history": (lambda p: _edit_meta(p, lambda m: m.update(history=[1, 2])), "checkpoint.json",
                    r"el historial no vale"),
    "other_shape": (lambda p: torch.save(_gpt(64).state_dict(), p / "model.pt"), "model.pt",
                    r"tok_emb\.weight es \(\d+, 64\) en el archivo y \(\d+, 32\) en el modelo"),
    "crafted_pickle": (_crafted, "model.pt", r"contiene objetos que no son tensores; no lo cargo por seguridad"),
    "not_tensors": (lambda p: torch.save({"tok_emb.weight": [1, 2]}, p / "model.pt"), "model.pt",
                    r"contiene objetos que no son tensores"),
    "missing_weights": (lambda p: (p / "model.pt").unlink(), "", r"no es un checkpoint de transformer_lib: falta model\.pt"),
}


@pytest.fixture
def good_checkpoint(tmp_path):
    tok = CharTokenizer.from_text(TEXT)
    return save_checkpoint(tmp_path / "ckpt", _gpt(), tokenizer=tok)


@pytest.mark.parametrize("kind", list(DAMAGES))
def test_damaged_checkpoint_through_load_checkpoint(good_checkpoint, kind):
    damage, name, expected = DAMAGES[kind]
    damage(good_checkpoint)
    with pytest.raises(FileProblem, match=expected) as err:
        load_checkpoint(good_checkpoint)
    message = str(err.value)
    assert str(good_checkpoint / name) in message and "\n" not in message.strip()
    assert not (good_checkpoint / "EJECUTADO").exists()


@pytest.mark.parametrize("kind", list(DAMAGES))
def test_damaged_checkpoint_through_generate(good_checkpoint, capsys, kind):
    damage, name, expected = DAMAGES[kind]
    damage(good_checkpoint)
    code, lines = run_cli(capsys, "generate", "--checkpoint", str(good_checkpoint), "--max-new-tokens", "2")
    assert code == 1
    assert_one_spanish_line(lines, "generate", str(good_checkpoint / name))
    assert re.search(expected, lines[0]), lines[0]
    assert not (good_checkpoint / "EJECUTADO").exists()


def test_crafted_pickle_through_the_real_command_is_one_line(good_checkpoint):
    """En un proceso aparte: ni avisos de torch ni trazas, solo la línea (y el código no corre)."""
    _crafted(good_checkpoint)
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    env.pop("TRANSFORMER_LIB_DEBUG", None)
    proc = subprocess.run([sys.executable, "-m", "transformer_lib", "generate", "--checkpoint", str(good_checkpoint)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1
    assert_one_spanish_line(proc.stderr.strip().splitlines(), "generate", "no lo cargo por seguridad")
    assert not (good_checkpoint / "EJECUTADO").exists()


def test_unreadable_checkpoint_json_is_spanish(good_checkpoint, capsys, monkeypatch):
    meta = good_checkpoint / "checkpoint.json"
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: (_ for _ in ()).throw(
        PermissionError(13, "Permission denied", str(self))) if self == meta else real(self))
    code, lines = run_cli(capsys, "generate", "--checkpoint", str(good_checkpoint))
    assert code == 1
    assert_one_spanish_line(lines, "generate", f"No puedo leer el checkpoint {meta}: no tienes permiso para leerlo")


def test_load_weights_into_a_model_of_another_size(good_checkpoint):
    with pytest.raises(UnreadableFileError) as err:
        load_weights(_gpt(d_model=64), good_checkpoint)
    assert str(err.value).startswith(f"El checkpoint {good_checkpoint} es de un modelo con d_model=32 y este "
                                     "tiene 64.")
    model = _gpt()
    assert load_weights(model, good_checkpoint) is model
    torch.testing.assert_close(model.state_dict(), load_checkpoint(good_checkpoint).model.state_dict())


def test_load_weights_into_another_kind_of_model(good_checkpoint):
    other = Transformer(5, 5, d_model=8, n_heads=2, n_encoder_layers=1, n_decoder_layers=1, d_ff=16, max_len=8)
    with pytest.raises(UnreadableFileError, match=r"es de un GPT y este modelo es un Transformer"):
        load_weights(other, good_checkpoint)


def test_load_weights_with_inconsistent_files_names_the_tensors(good_checkpoint):
    torch.save(_gpt(64).state_dict(), good_checkpoint / "model.pt")
    with pytest.raises(UnreadableFileError, match=r"no son de este modelo: tok_emb\.weight es \(\d+, 64\)"):
        load_weights(_gpt(), good_checkpoint)


# ------------------------------------------------------------- 6: corpus ilegible


@pytest.fixture
def corpus_dir(tmp_path):
    folder = tmp_path / "datos"
    folder.mkdir()
    (folder / "pg2000.txt").write_text("cualquier cosa", encoding="utf-8")
    return folder


@pytest.mark.parametrize("command", [["train", *TINY], SWEEP], ids=["train", "sweep"])
@pytest.mark.parametrize("method, expected", [
    ("read_bytes", "no tienes permiso para leerlo"),
    ("stat", "no tienes permiso para entrar en la carpeta"),
], ids=["archivo", "carpeta"])
def test_unreadable_corpus_is_one_spanish_line(corpus_dir, tmp_path, capsys, monkeypatch, training_calls,
                                               command, method, expected):
    book = corpus_dir / "pg2000.txt"
    _deny(monkeypatch, method, book)
    out = tmp_path / ("salida.json" if command[0] == "sweep" else "ckpt")
    code, lines = run_cli(capsys, *command, "--data-dir", str(corpus_dir), "--out", str(out))
    assert code == 1 and training_calls == []
    assert_one_spanish_line(lines, command[0], str(book), expected, "chmod")
    assert not out.exists()


# ------------------------------------------------------------- 7: permisos según la umask

UMASK_CHILD = """
import json, os, sys
sys.path.insert(0, {root!r})
os.umask({umask})
from pathlib import Path
from transformer_lib import GPT, GPTConfig
from transformer_lib.data import CharTokenizer, quijote
from transformer_lib.files import write_json_atomic
from transformer_lib.training import save_checkpoint

out = Path({out!r})
ckpt = save_checkpoint(out / "a" / "ckpt", GPT(GPTConfig(vocab_size=5, block_size=4, n_layer=1, n_head=1, d_model=4)))
write_json_atomic(out / "b" / "sweep.json", {{"recipe": {{}}, "runs": []}})  # como run_grid
CharTokenizer.from_text("abc").save(out / "tok.json")
quijote.QUIJOTE_SHA256 = __import__("hashlib").sha256(b"libro").hexdigest()
quijote._downloader = lambda url, output_file, pooch_obj: Path(output_file).write_bytes(b"libro")
quijote._download(out / "cache")
paths = [ckpt, ckpt / "model.pt", ckpt / "checkpoint.json", out / "a", out / "b" / "sweep.json",
         out / "tok.json", out / "cache", out / "cache" / "pg2000.txt"]
print(json.dumps({{str(p.relative_to(out)): p.stat().st_mode & 0o777 for p in paths}}))
"""


@pytest.mark.parametrize("umask, folder, file", [(0o022, 0o755, 0o644), (0o002, 0o775, 0o664)])
def test_created_files_follow_the_umask(tmp_path, umask, folder, file):
    script = UMASK_CHILD.format(root=str(ROOT), umask=umask, out=str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert proc.returncode == 0, proc.stderr
    modes = json.loads(proc.stdout.strip().splitlines()[-1])
    expected = {"a/ckpt": folder, "a/ckpt/model.pt": file, "a/ckpt/checkpoint.json": file, "a": folder,
                "b/sweep.json": file, "tok.json": file, "cache": folder, "cache/pg2000.txt": file}
    assert {k: oct(v) for k, v in modes.items()} == {k: oct(v) for k, v in expected.items()}
