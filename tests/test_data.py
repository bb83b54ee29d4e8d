"""Datos: carga del Quijote (sin red), tokenizador de caracteres y lotes."""

from __future__ import annotations

import hashlib
import json
import os
import unicodedata
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from transformer_lib.data import (
    CharTokenizer,
    DataFileError,
    QuijoteData,
    get_batch,
    load_quijote,
    prepare_quijote,
    quijote_path,
    strip_gutenberg,
    train_val_split,
)
from transformer_lib.data import quijote as Q

SHARED = Path(os.environ.get("TRANSFORMER_LIB_DATA", "/nonexistent")) / "pg2000.txt"
needs_corpus = pytest.mark.skipif(not SHARED.is_file(), reason="sin pg2000.txt en TRANSFORMER_LIB_DATA")

# Un libro "de Gutenberg" diminuto: BOM, CRLF, cabecera, licencia y cuerpo en NFD.
BODY_NFC = "En un lugar de la Mancha, de cuyo nombre no quiero acordarme…\n\n¿Señor? ¡Ahí está Dulcinea!"
RAW = (
    "\ufeffThe Project Gutenberg eBook of Don Quijote\r\n\r\nLicencia y cabecera.\r\n"
    "*** START OF THE PROJECT GUTENBERG EBOOK DON QUIJOTE ***\r\n\r\n\r\n"
    + unicodedata.normalize("NFD", BODY_NFC).replace("\n", "\r\n")
    + "\r\n\r\n*** END OF THE PROJECT GUTENBERG EBOOK DON QUIJOTE ***\r\nLicencia final.\r\n"
)


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


@pytest.fixture
def fake_book(tmp_path, monkeypatch):
    """Escribe el libro sintético y hace que sus hashes sean los «esperados»."""
    raw = RAW.encode("utf-8")
    (tmp_path / "pg2000.txt").write_bytes(raw)
    monkeypatch.setattr(Q, "QUIJOTE_SHA256", _sha(raw))
    monkeypatch.setattr(Q, "QUIJOTE_BODY_SHA256", _sha((BODY_NFC + "\n").encode("utf-8")))
    monkeypatch.delenv("TRANSFORMER_LIB_DATA", raising=False)
    return tmp_path


@pytest.fixture
def no_network(monkeypatch):
    """Cualquier intento de descarga falla como si no hubiera red (y se cuenta)."""
    calls = []

    def offline(url, output_file, pooch_obj):
        calls.append(url)
        raise ConnectionError(f"sin red para {url}")

    monkeypatch.setattr(Q, "_downloader", offline)
    monkeypatch.delenv("TRANSFORMER_LIB_DATA", raising=False)
    return calls


# ------------------------------------------------------------------- el Quijote real


@needs_corpus
def test_real_quijote_matches_readme():
    text = load_quijote()
    assert len(text) == 2_110_727
    assert len(set(text)) == 92
    assert _sha(text.encode("utf-8")) == Q.QUIJOTE_BODY_SHA256
    assert unicodedata.is_normalized("NFC", text)
    assert text.startswith("El ingenioso hidalgo") or "En un lugar de la Mancha" in text[:5000]
    assert "\r" not in text and "\ufeff" not in text and "Gutenberg" not in text[:1000]


@needs_corpus
def test_prepare_quijote_split():
    q = prepare_quijote()
    assert q.tokenizer.vocab_size == 92
    n = len(q.train) + len(q.val)
    assert n == 2_110_727 and len(q.train) == int(0.9 * n)
    assert q.train.dtype == torch.long


# ----------------------------------------------------------- cargador con libro sintético


def test_strip_gutenberg_cleans_everything():
    body = strip_gutenberg(RAW)
    assert body == BODY_NFC + "\n"
    assert unicodedata.is_normalized("NFC", body) and not unicodedata.is_normalized("NFD", body)


def test_strip_gutenberg_without_marks():
    with pytest.raises(ValueError, match="marcas de Project Gutenberg"):
        strip_gutenberg("un texto cualquiera")


def test_load_from_data_dir_and_env(fake_book, monkeypatch):
    assert load_quijote(fake_book) == BODY_NFC + "\n"
    monkeypatch.setenv("TRANSFORMER_LIB_DATA", str(fake_book))
    assert load_quijote() == BODY_NFC + "\n"


def test_body_hash_accepts_copy_with_lf(fake_book, monkeypatch):
    # Otra copia (saltos LF, sin BOM) con el mismo cuerpo: vale por el hash del cuerpo.
    (fake_book / "pg2000.txt").write_text(RAW.lstrip("\ufeff").replace("\r\n", "\n"), encoding="utf-8")
    assert load_quijote(fake_book) == BODY_NFC + "\n"


def test_wrong_checksum_is_a_clear_error(fake_book, monkeypatch):
    (fake_book / "pg2000.txt").write_bytes(RAW.replace("Mancha", "Manxa").encode("utf-8"))
    with pytest.raises(ValueError, match=r"no coincide con la edición esperada.*SHA-256") as err:
        load_quijote(fake_book)
    assert "TRANSFORMER_LIB_DATA" in str(err.value)


def test_env_dir_without_file(tmp_path, monkeypatch, no_network):
    monkeypatch.setenv("TRANSFORMER_LIB_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="TRANSFORMER_LIB_DATA.*no hay pg2000.txt"):
        load_quijote(cache_dir=tmp_path / "cache")
    assert no_network == []  # con la variable definida nunca se descarga


def test_missing_everywhere_without_network(tmp_path, no_network):
    cache = tmp_path / "cache"
    with pytest.raises(FileNotFoundError) as err:
        load_quijote(cache_dir=cache)
    msg = str(err.value)
    assert "no pude descargarlo" in msg
    assert Q.QUIJOTE_URLS[0] in msg and str(cache / "pg2000.txt") in msg
    assert "TRANSFORMER_LIB_DATA" in msg
    assert no_network == list(Q.QUIJOTE_URLS)  # probó las dos direcciones
    assert not cache.exists() or list(cache.iterdir()) == []


def test_no_download_when_forbidden(tmp_path, no_network):
    with pytest.raises(FileNotFoundError, match="caché"):
        load_quijote(cache_dir=tmp_path, download=False)
    assert no_network == []


def test_corrupted_download_leaves_nothing(tmp_path, monkeypatch, no_network):
    def corrupt(url, output_file, pooch_obj):
        Path(output_file).write_text("contenido truncado", encoding="utf-8")

    monkeypatch.setattr(Q, "_downloader", corrupt)
    with pytest.raises(FileNotFoundError, match="SHA256|SHA-256|hash"):
        load_quijote(cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []  # ni el archivo ni temporales a medias


def test_download_then_cache(tmp_path, monkeypatch, fake_book):
    raw = RAW.encode("utf-8")
    calls = []

    def fake_download(url, output_file, pooch_obj):
        calls.append(url)
        Path(output_file).write_bytes(raw)

    monkeypatch.setattr(Q, "_downloader", fake_download)
    cache = tmp_path / "cache"
    assert load_quijote(cache_dir=cache) == BODY_NFC + "\n"
    assert (cache / "pg2000.txt").read_bytes() == raw
    assert load_quijote(cache_dir=cache) == BODY_NFC + "\n"
    assert len(calls) == 1  # la segunda vez lo lee de la caché


def _deny(monkeypatch, method: str, denied: Path) -> None:
    """Hace que ``Path.<method>`` de ``denied`` falle como sin permiso (root lee todo igual)."""
    original = getattr(Path, method)

    def fake(self, *args, **kwargs):
        if self == denied:
            raise PermissionError(13, "Permission denied", str(self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, method, fake)


def test_unreadable_corpus_is_a_spanish_error(fake_book, monkeypatch):
    book = fake_book / "pg2000.txt"
    _deny(monkeypatch, "read_bytes", book)
    with pytest.raises(DataFileError, match="no tienes permiso para leerlo") as err:
        load_quijote(fake_book)
    msg = str(err.value)
    assert str(book) in msg and "chmod" in msg and "TRANSFORMER_LIB_DATA" in msg
    assert "Errno" not in msg and "Permission denied" not in msg
    assert isinstance(err.value, OSError)  # quien ya capturaba OSError lo sigue capturando


def test_unreadable_data_folder_is_a_spanish_error(fake_book, monkeypatch):
    book = fake_book / "pg2000.txt"
    _deny(monkeypatch, "stat", book)  # lo que pasa si la carpeta no deja entrar
    monkeypatch.setenv("TRANSFORMER_LIB_DATA", str(fake_book))
    with pytest.raises(DataFileError, match="no tienes permiso para entrar en la carpeta") as err:
        quijote_path()
    assert str(book) in str(err.value) and f"chmod u+rx {fake_book}" in str(err.value)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="como root chmod no impide leer (la prueba con monkeypatch lo cubre)")
def test_unreadable_corpus_with_real_chmod(fake_book):
    book = fake_book / "pg2000.txt"
    book.chmod(0)
    try:
        with pytest.raises(DataFileError, match="no tienes permiso"):
            load_quijote(fake_book)
    finally:
        book.chmod(0o644)


# ---------------------------------------------------------------------- tokenizador


@settings(max_examples=50, deadline=None)
@given(st.text(min_size=1, max_size=200))
def test_tokenizer_round_trip(text):
    tok = CharTokenizer.from_text(text)
    ids = tok.encode(text)
    assert len(ids) == len(text) and max(ids) < tok.vocab_size
    assert tok.decode(ids) == text


@settings(max_examples=30, deadline=None)
@given(st.text(alphabet="abcñá ¿?", max_size=50))
def test_round_trip_with_specials(text):
    tok = CharTokenizer.from_text("abcñá ¿?", specials=("<pad>", "<bos>", "<eos>"))
    assert tok.token_id("<pad>") == 0 and tok.vocab_size == 3 + 8
    ids = tok.encode(text)
    assert min(ids, default=3) >= 3
    assert tok.decode([1, *ids, 2, 0], skip_specials=True) == text
    assert tok.decode([1, *ids]) == "<bos>" + text


def test_unknown_characters_error_names_char_and_position():
    tok = CharTokenizer.from_text("abc ")
    with pytest.raises(ValueError, match=r"'X' \(U\+0058\) en la posición 2.*'€' \(U\+20AC\) en la posición 5"):
        tok.encode("abXc €X")
    assert tok.encode("aXb", unknown="") == tok.encode("ab")
    assert tok.encode("aXb", unknown=" ") == tok.encode("a b")
    with pytest.raises(ValueError, match="unknown='Z'"):
        tok.encode("aXb", unknown="Z")


def test_tokenizer_save_load(tmp_path):
    tok = CharTokenizer.from_text("¿Qué tal, señor?", specials=("<pad>",))
    path = tmp_path / "tok.json"
    tok.save(path)
    assert "ñ" in path.read_text(encoding="utf-8")  # JSON legible, sin escapes \u00f1
    assert json.loads(path.read_text(encoding="utf-8"))["type"] == "CharTokenizer"
    again = CharTokenizer.load(path)
    assert again == tok and again.encode("señor") == tok.encode("señor")


@pytest.mark.parametrize(
    "content, reason",
    [
        (b'{"type": "CharTokenizer", "chars": ["a"', "no es un JSON válido"),
        (b"\xff\xfe basura", "no es texto UTF-8"),
        (b'{"type": "GPT"}', "no describe un CharTokenizer"),
        (b'{"type": "CharTokenizer"}', "no describe un CharTokenizer.*'chars'"),
        (b'["a", "b"]', "no describe un CharTokenizer"),
        (b'{"type": "CharTokenizer", "chars": ["a", "a"]}', "no describe un CharTokenizer.*repetidos"),
    ],
)
def test_tokenizer_load_broken_file(tmp_path, content, reason):
    path = tmp_path / "tok.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=reason) as err:
        CharTokenizer.load(path)
    msg = str(err.value)
    assert str(path) in msg and "tok.save" in msg and "\n" not in msg  # una línea, con la ruta


def test_tokenizer_load_missing_or_unreadable(tmp_path, monkeypatch):
    path = tmp_path / "no_existe.json"
    with pytest.raises(FileNotFoundError, match="No encuentro el tokenizador") as err:
        CharTokenizer.load(path)
    assert str(path) in str(err.value) and "Errno" not in str(err.value)
    CharTokenizer.from_text("ab").save(path)
    _deny(monkeypatch, "read_bytes", path)
    with pytest.raises(DataFileError, match="no tienes permiso") as err:
        CharTokenizer.load(path)
    assert str(path) in str(err.value)


def test_tokenizer_bad_inputs():
    with pytest.raises(ValueError, match="repetidos"):
        CharTokenizer(["a", "a"])
    with pytest.raises(ValueError, match="más de un carácter"):
        CharTokenizer(["a"], specials=("x",))
    with pytest.raises(ValueError, match="fuera del vocabulario"):
        CharTokenizer.from_text("ab").decode([5])
    with pytest.raises(TypeError, match="str"):
        CharTokenizer.from_text("ab").encode(["a"])


# ---------------------------------------------------------------------- lotes


def test_train_val_split():
    ids = torch.arange(100)
    train, val = train_val_split(ids)
    assert len(train) == 90 and len(val) == 10 and int(val[0]) == 90
    with pytest.raises(ValueError, match="val_fraction"):
        train_val_split(ids, 1.5)


def test_get_batch_shapes_shift_and_seed():
    data = torch.arange(1000)
    x, y = get_batch(data, block_size=16, batch_size=5, generator=torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (5, 16) and x.dtype == torch.long
    torch.testing.assert_close(y[:, :-1], x[:, 1:])
    torch.testing.assert_close(y, x + 1)  # con ids consecutivos, y = x + 1
    x2, _ = get_batch(data, 16, 5, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(x, x2)
    with pytest.raises(ValueError, match="block_size=2000"):
        get_batch(data, 2000, 2)


@pytest.fixture
def tiny_data():
    """Un QuijoteData de juguete: ids consecutivos, así y = x + 1 se ve a simple vista."""
    tok = CharTokenizer.from_text("abcdefghij")
    train, val = train_val_split(torch.arange(1000), 0.2)
    return QuijoteData(tok, train, val)


def test_quijote_data_get_batch_shapes_and_shift(tiny_data):
    x, y = tiny_data.get_batch("train", 16, 5, generator=torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (5, 16) and x.dtype == y.dtype == torch.long
    torch.testing.assert_close(y[:, :-1], x[:, 1:])
    torch.testing.assert_close(y, x + 1)
    assert int(y.max()) < 800  # todo sale del tramo de entrenamiento


def test_quijote_data_get_batch_is_get_batch_on_the_split(tiny_data):
    for split, ids in (("train", tiny_data.train), ("val", tiny_data.val)):
        x, y = tiny_data.get_batch(split, 8, 7, generator=torch.Generator().manual_seed(3))
        x2, y2 = get_batch(ids, 8, 7, generator=torch.Generator().manual_seed(3))
        torch.testing.assert_close(x, x2)
        torch.testing.assert_close(y, y2)
    xv, yv = tiny_data.get_batch("val", 8, 50)
    assert int(xv.min()) >= 800 and int(yv.max()) < 1000  # "val" sale del final


def test_quijote_data_get_batch_is_seeded(tiny_data):
    a = tiny_data.get_batch("train", 16, 5, generator=torch.Generator().manual_seed(1))
    b = tiny_data.get_batch("train", 16, 5, generator=torch.Generator().manual_seed(1))
    c = tiny_data.get_batch("train", 16, 5, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(a[0], b[0])
    assert not torch.equal(a[0], c[0])


def test_quijote_data_get_batch_bad_split(tiny_data):
    with pytest.raises(ValueError, match="split debe ser 'train' o 'val' y es 'test'"):
        tiny_data.get_batch("test", 8, 2)
    with pytest.raises(ValueError, match="block_size=500"):
        tiny_data.get_batch("val", 500, 2)  # val tiene 200 ids


# ------------------------------------------------------------- escrituras: caché y tokenizador


@pytest.mark.skipif(not Path("/sys").is_dir(), reason="sin /sys")
def test_unwritable_cache_is_refused_before_downloading(no_network):
    from transformer_lib.files import OutputPathError

    # En /sys no se pueden crear archivos ni siendo root.
    with pytest.raises(OutputPathError, match=r"no puedo descargarlo a la caché: No puedo escribir en /sys") as err:
        load_quijote(cache_dir="/sys/transformer_lib_cache")
    assert "/sys/transformer_lib_cache/pg2000.txt" in str(err.value) and "TRANSFORMER_LIB_DATA" in str(err.value)
    assert no_network == []  # ni lo intentó


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, SystemExit])
def test_interrupted_download_leaves_nothing(tmp_path, monkeypatch, no_network, interruption):
    def cut(url, output_file, pooch_obj):
        Path(output_file).write_bytes(b"*** START OF THE PROJECT GUTENBERG EBOOK a medias")
        raise interruption()

    monkeypatch.setattr(Q, "_downloader", cut)
    with pytest.raises(interruption):
        load_quijote(cache_dir=tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []  # ni pg2000.txt ni el temporal


def test_download_is_verified_before_it_takes_the_final_name(tmp_path, monkeypatch, fake_book):
    seen = []

    def fake_download(url, output_file, pooch_obj):
        seen.append(Path(output_file))
        Path(output_file).write_bytes(RAW.encode("utf-8"))
        assert not (tmp_path / "cache" / "pg2000.txt").exists()  # aún no tiene su nombre

    monkeypatch.setattr(Q, "_downloader", fake_download)
    load_quijote(cache_dir=tmp_path / "cache")
    assert seen[0].parent == tmp_path / "cache" and seen[0].name.startswith(".pg2000.txt.tmp-")
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["pg2000.txt"]


def test_tokenizer_save_is_atomic(tmp_path, monkeypatch):
    from transformer_lib.files import FileWriteError

    path = tmp_path / "tok.json"
    CharTokenizer.from_text("abc").save(path)
    before = path.read_bytes()

    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(FileWriteError, match=r"No pude guardar .*tok\.json: no queda espacio en el disco; "
                                             r".*sigue como estaba"):
        CharTokenizer.from_text("xyz").save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["tok.json"]


def test_data_file_error_is_the_one_mechanism():
    from transformer_lib import files
    from transformer_lib.data import files as data_files

    assert DataFileError is files.FileAccessError
    assert issubclass(DataFileError, OSError) and issubclass(DataFileError, files.FileProblem)
    assert data_files.read_bytes is files.read_bytes and data_files.is_file is files.is_file
