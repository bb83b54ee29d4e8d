"""Tests de environment.git_commit: el commit que se anota en los resultados."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from transformer_lib.environment import git_commit

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="sin git")


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def test_dirty_unless_the_only_change_is_an_ignored_file(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / "results").mkdir(parents=True)
    (repo / "code.py").write_text("x = 1\n")
    (repo / "results" / "out.json").write_text("{}\n")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c")
    head = _git(repo, "rev-parse", "HEAD")
    assert git_commit(repo) == head
    (repo / "results" / "out.json").unlink()  # repetir la orden: se borra el archivo confirmado
    assert git_commit(repo) == head + "-dirty"
    monkeypatch.chdir(repo / "results")  # la ruta se interpreta desde la carpeta actual
    assert git_commit(repo, ignore=("out.json",)) == head
    assert git_commit(repo / "results", ignore=(repo / "results" / "out.json",)) == head
    (repo / "code.py").write_text("x = 2\n")  # un cambio de código sí cuenta
    assert git_commit(repo, ignore=("out.json",)) == head + "-dirty"
    assert git_commit(tmp_path) is None  # fuera de un repositorio
