"""tools/uv_install.py: uv recibe los orígenes de pip y nunca instala en silencio un torch CUDA."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tools import uv_install


def test_uv_gets_pip_find_links_and_existing_indexes(tmp_path: Path, monkeypatch) -> None:
    wheels = tmp_path / "ruedas"
    wheels.mkdir()
    monkeypatch.setenv("PIP_FIND_LINKS", f"{wheels} {tmp_path / 'no-existe'}")
    monkeypatch.setenv(
        "PIP_EXTRA_INDEX_URL", f"https://download.pytorch.org/whl/cpu file://{tmp_path}/falta"
    )
    cmd = uv_install.uv_command("uv", "/env/bin/python", ["-c", "constraints.txt", "torch"])
    assert cmd[:6] == ["uv", "pip", "install", "--quiet", "--python", "/env/bin/python"]
    assert cmd[cmd.index("--index-strategy") + 1] == "unsafe-best-match"
    assert [cmd[i + 1] for i, a in enumerate(cmd) if a == "--find-links"] == [str(wheels)]
    assert [cmd[i + 1] for i, a in enumerate(cmd) if a == "--extra-index-url"] == [
        "https://download.pytorch.org/whl/cpu"
    ]
    assert cmd[-3:] == ["-c", "constraints.txt", "torch"]


def _fake_python(tmp_path: Path, version: str) -> Path:
    """Un «Python» que responde a la pregunta por la versión de torch con ``version``."""
    script = tmp_path / "python"
    script.write_text(f"#!/bin/sh\necho {version}\n", encoding="utf-8")
    script.chmod(0o755)
    return script


def test_cpu_torch_is_accepted_and_cuda_is_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("ALLOW_CUDA_TORCH", raising=False)
    assert uv_install.check_cpu_torch(_fake_python(tmp_path, "2.13.0+cpu")) == "2.13.0+cpu"
    with pytest.raises(SystemExit, match=r"torch 2\.13\.0, que no es la compilación CPU"):
        uv_install.check_cpu_torch(_fake_python(tmp_path, "2.13.0"))
    monkeypatch.setenv("ALLOW_CUDA_TORCH", "1")
    assert uv_install.check_cpu_torch(_fake_python(tmp_path, "2.13.0")) == "2.13.0"


def test_this_environment_was_installed_with_cpu_torch() -> None:
    # make venv instala con uv: el torch del entorno de las pruebas es la compilación CPU.
    assert uv_install.check_cpu_torch(sys.executable).endswith("+cpu")
    assert uv_install.find_uv(sys.executable).name == "uv"


def test_the_makefile_installs_the_environment_with_uv() -> None:
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text(encoding="utf-8")
    venv_rule = makefile[makefile.index("\n$(STAMP):") : makefile.index("\n# Jupyter Book")]
    assert "-m tools.uv_install --python $(PY)" in venv_rule
    assert "from tools.uv_install import UV_REQUIREMENT" in venv_rule



def test_make_lets_python_write_bytecode(monkeypatch) -> None:
    # uv no escribe los .pyc al instalar: make quita PYTHONDONTWRITEBYTECODE para que Python los
    # guarde al importar (si no, cada proceso de make test volvería a compilar torch).
    import subprocess

    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    root = Path(__file__).resolve().parents[1]
    show = 'mostrar:;@python3 -c "import sys; print(sys.flags.dont_write_bytecode)"'
    done = subprocess.run(["make", "-s", "--eval", show, "mostrar"], cwd=root, capture_output=True,
                          text=True, check=True)  # fmt: skip
    assert done.stdout.strip() == "0"
