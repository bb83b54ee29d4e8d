"""Pruebas de ``transformer_lib.files``: rutas de salida, escrituras atómicas, señales y
lecturas con errores en español."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from transformer_lib.files import (
    FileWriteError,
    OutputPathError,
    Terminated,
    UnreadableFileError,
    atomic_directory,
    atomic_file,
    check_output_path,
    current_umask,
    read_json,
    read_text,
    signals_as_exceptions,
    write_json_atomic,
    write_text_atomic,
)

RAIZ = Path(__file__).resolve().parents[1]


def never_ours(path: Path) -> bool:
    return False


def always_ours(path: Path) -> bool:
    return True


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# ---------------------------------------------------------------------------------------
# check_output_path


def test_absent_path_is_accepted_and_nothing_is_created(tmp_path):
    target = tmp_path / "a" / "b" / "ckpt"
    assert check_output_path(target, what="checkpoint", is_ours=never_ours) == target
    assert not (tmp_path / "a").exists()
    assert leftovers(tmp_path) == []


def test_existing_file_of_the_user_is_refused_and_kept(tmp_path):
    notes = tmp_path / "notas.txt"
    notes.write_text("mis notas")
    with pytest.raises(OutputPathError, match=r"notas\.txt ya existe y es un archivo .*no lo toco.*--out"):
        check_output_path(notes, what="checkpoint", is_ours=never_ours, overwrite=True)
    assert notes.read_text() == "mis notas"


def test_existing_folder_of_the_user_is_refused_even_with_overwrite(tmp_path):
    project = tmp_path / "proyecto"
    (project / "src").mkdir(parents=True)
    (project / "tesis.tex").write_text("capítulo 1")
    with pytest.raises(OutputPathError, match=r"proyecto ya existe y es una carpeta"):
        check_output_path(project, what="checkpoint", is_ours=never_ours, overwrite=True)
    assert (project / "tesis.tex").read_text() == "capítulo 1"


def test_ours_needs_overwrite(tmp_path):
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    with pytest.raises(OutputPathError, match=r"Ya existe el checkpoint .*--overwrite"):
        check_output_path(ckpt, what="checkpoint", is_ours=always_ours)
    assert check_output_path(ckpt, what="checkpoint", is_ours=always_ours, overwrite=True) == ckpt


def test_unwritable_location_is_refused_before_any_work():
    # /sys no admite crear archivos ni siendo root: la comprobación debe verlo de verdad.
    if not Path("/sys").is_dir():
        pytest.skip("no hay /sys en esta máquina")
    with pytest.raises(OutputPathError, match=r"No puedo escribir en /sys .*--out"):
        check_output_path("/sys/transformer_lib_prueba/ckpt", what="checkpoint", is_ours=never_ours)


def test_parent_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "archivo").write_text("x")
    with pytest.raises(OutputPathError, match=r"no es una carpeta"):
        check_output_path(tmp_path / "archivo" / "ckpt", what="checkpoint", is_ours=never_ours)


def test_empty_name_is_refused():
    with pytest.raises(OutputPathError, match=r"no es una ruta de checkpoint válida"):
        check_output_path(".", what="checkpoint", is_ours=never_ours)


# ---------------------------------------------------------------------------------------
# Escrituras atómicas


def test_atomic_file_replaces_and_respects_umask(tmp_path):
    target = tmp_path / "res.json"
    target.write_text("viejo")
    write_json_atomic(target, {"a": 1})
    assert json.loads(target.read_text()) == {"a": 1}
    assert (target.stat().st_mode & 0o777) == (0o666 & ~current_umask())
    assert leftovers(tmp_path) == []


def test_atomic_file_keeps_old_version_on_error(tmp_path):
    target = tmp_path / "res.json"
    target.write_text("viejo")
    with pytest.raises(RuntimeError), atomic_file(target) as tmp:
        tmp.write_text("a medias")
        raise RuntimeError("fallo")
    assert target.read_text() == "viejo"
    assert leftovers(tmp_path) == []


def test_atomic_directory_new_and_replace(tmp_path):
    target = tmp_path / "ckpt"
    with atomic_directory(target) as tmp:
        (tmp / "a.txt").write_text("1")
    assert (target / "a.txt").read_text() == "1"
    assert (target.stat().st_mode & 0o777) == (0o777 & ~current_umask())
    with atomic_directory(target) as tmp:
        (tmp / "b.txt").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]
    assert leftovers(tmp_path) == []


def test_atomic_directory_keeps_old_version_on_interrupt(tmp_path):
    target = tmp_path / "ckpt"
    target.mkdir()
    (target / "viejo.txt").write_text("v")
    with pytest.raises(KeyboardInterrupt), atomic_directory(target) as tmp:
        (tmp / "nuevo.txt").write_text("n")
        raise KeyboardInterrupt
    assert sorted(p.name for p in target.iterdir()) == ["viejo.txt"]
    assert leftovers(tmp_path) == []


def _replace_old_while_renames_fail(tmp_path: Path, monkeypatch, failing_calls: range, err: OSError) -> tuple[Path, OSError]:
    """Reemplaza ``ckpt`` (con ``viejo.txt``) mientras ``os.replace`` falla con ``err`` en las
    llamadas de ``failing_calls`` (1 = la primera); devuelve la carpeta y el error que llegó."""
    target = tmp_path / "ckpt"
    target.mkdir()
    (target / "viejo.txt").write_text("v")
    real_replace = os.replace
    calls = []

    def flaky_replace(src, dst):
        calls.append((Path(src).name, Path(dst).name))
        if len(calls) in failing_calls:
            raise err
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky_replace)
    with pytest.raises(OSError) as raised, atomic_directory(target) as tmp:
        (tmp / "nuevo.txt").write_text("n")
    monkeypatch.undo()
    return target, raised.value


def test_atomic_directory_restores_old_if_final_rename_fails(tmp_path, monkeypatch):
    target, _ = _replace_old_while_renames_fail(tmp_path, monkeypatch, range(2, 3),
                                             OSError(28, "No space left on device"))
    assert sorted(p.name for p in target.iterdir()) == ["viejo.txt"]
    assert leftovers(tmp_path) == []


def test_sigterm_during_atomic_directory_leaves_nothing(tmp_path):
    """Un proceso que recibe SIGTERM mientras escribe no deja carpetas temporales."""
    script = textwrap.dedent(f"""
        import os, signal, sys, time
        sys.path.insert(0, {str(RAIZ)!r})
        from transformer_lib.files import atomic_directory, signals_as_exceptions, Terminated
        try:
            with signals_as_exceptions(), atomic_directory({str(tmp_path / "ckpt")!r}) as tmp:
                (tmp / "medio.bin").write_bytes(b"x" * 1000)
                print("listo", flush=True)
                time.sleep(30)
        except Terminated:
            sys.exit(143)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "listo"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 143
    assert list(tmp_path.iterdir()) == []


def test_signals_as_exceptions_restores_handler():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated), signals_as_exceptions():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # la excepción llega antes
    assert signal.getsignal(signal.SIGTERM) is before


# ---------------------------------------------------------------------------------------
# Lecturas


def test_read_text_missing_names_file(tmp_path):
    with pytest.raises(UnreadableFileError, match=r"No encuentro el tokenizador .*nada\.json: no existe\. Vuelve"):
        read_text(tmp_path / "nada.json", what="el tokenizador", hint="Vuelve a guardarlo.")


def test_read_text_permission_denied_is_spanish(tmp_path, monkeypatch):
    path = tmp_path / "secreto.txt"
    path.write_text("x")

    def denied(self, *a, **k):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(UnreadableFileError, match=r"secreto\.txt: no tienes permiso para leerlo\."):
        read_text(path, what="el corpus")


def test_read_text_not_utf8(tmp_path):
    path = tmp_path / "bin.txt"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(UnreadableFileError, match=r"no es texto UTF-8"):
        read_text(path, what="el corpus")


def test_read_json_broken_says_line_and_column(tmp_path):
    path = tmp_path / "checkpoint.json"
    path.write_text('{"a": 1,\n "b": }')
    with pytest.raises(UnreadableFileError, match=r"El checkpoint .*checkpoint\.json está dañado: no es un JSON válido \(línea 2, columna 7\)"):
        read_json(path, what="el checkpoint")


def test_write_text_atomic_creates_parents(tmp_path):
    target = tmp_path / "x" / "y.txt"
    write_text_atomic(target, "hola")
    assert target.read_text(encoding="utf-8") == "hola"


# ---------------------------------------------------------------------------------------
# Más casos: carpetas vacías, mensajes de la API, errores de escritura en español


def test_empty_folder_is_accepted_only_when_asked(tmp_path):
    (tmp_path / "vacia").mkdir()
    check = lambda **kw: check_output_path(tmp_path / "vacia", what="checkpoint", is_ours=never_ours, **kw)  # noqa: E731
    with pytest.raises(OutputPathError, match=r"vacia ya existe y es una carpeta"):
        check()
    assert check(accept_empty_folder=True) == tmp_path / "vacia"
    (tmp_path / "vacia" / "algo.txt").write_text("x")
    with pytest.raises(OutputPathError, match=r"no lo toco"):
        check(accept_empty_folder=True)


def test_messages_without_a_flag_speak_of_the_api(tmp_path):
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "x").write_text("x")
    with pytest.raises(OutputPathError) as err:
        check_output_path(ckpt, what="checkpoint", is_ours=always_ours, flag=None, overwrite_flag="overwrite=True")
    assert str(err.value) == f"Ya existe el checkpoint {ckpt}. Añade overwrite=True para reemplazarlo o elige otra ruta."
    with pytest.raises(OutputPathError, match=r"^'\.' no es una ruta de checkpoint válida"):
        check_output_path(".", what="checkpoint", is_ours=never_ours, flag=None)


def test_folder_that_cannot_be_looked_into_is_refused(tmp_path, monkeypatch):
    target = tmp_path / "privada" / "ckpt"
    real_lstat = Path.lstat

    def denied(self):
        if self == target:
            raise PermissionError(13, "Permission denied", str(self))
        return real_lstat(self)

    monkeypatch.setattr(Path, "lstat", denied)
    with pytest.raises(OutputPathError, match=r"No puedo comprobar .*ckpt \(no tienes permiso\), así que no sé"):
        check_output_path(target, what="checkpoint", is_ours=never_ours)


def test_disk_full_inside_the_block_is_spanish_and_leaves_nothing(tmp_path):
    from transformer_lib.files import FileWriteError

    with pytest.raises(FileWriteError, match=r"No pude guardar .*ckpt: no queda espacio en el disco; no ha quedado"):
        with atomic_directory(tmp_path / "ckpt") as tmp:
            (tmp / "a.bin").write_bytes(b"x")
            raise OSError(28, "No space left on device")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(OSError, match=r"No pude guardar .*res\.json: se acabó tu cuota"):
        with atomic_file(tmp_path / "res.json"):
            raise OSError(122, "Disk quota exceeded")
    assert list(tmp_path.iterdir()) == []


def test_other_errors_inside_the_block_pass_unchanged(tmp_path):
    """Un error de red durante una descarga no es «no pude guardar»: se deja como está."""
    with pytest.raises(ConnectionError, match="sin red"), atomic_file(tmp_path / "libro.txt") as tmp:
        tmp.write_text("a medias")
        raise ConnectionError("sin red")
    assert list(tmp_path.iterdir()) == []


def test_old_version_is_kept_if_it_cannot_even_be_restored(tmp_path, monkeypatch):
    """Si fallan el renombrado final y el de vuelta, la versión anterior no se borra."""
    _, error = _replace_old_while_renames_fail(tmp_path, monkeypatch, range(2, 99),
                                               OSError(5, "Input/output error"))
    assert isinstance(error, FileWriteError)
    assert re.search(r"ni devolver la versión anterior a su sitio .*está intacta en .*\.ckpt\.old-\w+: "
                     r"renómbrala a ckpt", str(error)), str(error)
    assert "sigue como estaba" not in str(error)
    (old,) = [p for p in tmp_path.iterdir() if p.name.startswith(".ckpt.old-")]
    assert (old / "viejo.txt").read_text() == "v"


def test_is_file_and_read_bytes(tmp_path, monkeypatch):
    from transformer_lib.files import FileAccessError, MissingFileError, is_file, read_bytes

    path = tmp_path / "a.bin"
    assert not is_file(path, "el archivo")
    with pytest.raises(MissingFileError, match=r"No encuentro el archivo .*a\.bin: no existe\. Haz X\.") as err:
        read_bytes(path, "el archivo", "Haz X.")
    assert isinstance(err.value, FileNotFoundError)
    path.write_bytes(b"\x00\x01")
    assert is_file(path, "el archivo") and read_bytes(path, "el archivo") == b"\x00\x01"
    assert not is_file(tmp_path, "el archivo")
    with pytest.raises(FileAccessError, match=r"es una carpeta, no un archivo"):
        read_bytes(tmp_path, "el archivo")
