"""Datos del repositorio del curso leídos de ``_config.yml`` (una sola fuente)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG_FILE = ROOT / "_config.yml"


@cache
def book_config(path: str | Path = CONFIG_FILE) -> dict:
    """Devuelve ``_config.yml`` como diccionario.

    Parámetros:
        path: ruta del archivo de configuración (por defecto, el del repositorio).

    Devuelve:
        El contenido del archivo.
    """
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise FileNotFoundError(
            f"No puedo leer la configuración del libro {path}: {err.strerror or err}. "
            "Ejecuta esto desde un clon completo del repositorio."
        ) from err
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path} no es un diccionario YAML: revisa su formato.")
    return data


def repository_url(path: str | Path = CONFIG_FILE) -> str:
    """URL del repositorio del curso (``repository.url`` de ``_config.yml``), sin ``/`` final.

    Parámetros:
        path: ruta del archivo de configuración (por defecto, el del repositorio).

    Devuelve:
        La URL, p. ej. ``https://github.com/curso-transformers/transformers-ii``.
    """
    url = (book_config(path).get("repository") or {}).get("url")
    if not isinstance(url, str) or not url.strip():
        raise ValueError(f"{path} no tiene repository.url: añádelo para generar los enlaces.")
    return url.strip().rstrip("/")


def colab_branch(path: str | Path = CONFIG_FILE) -> str:
    """Rama con las ediciones para Colab (``sphinx.config.colab_branch`` de ``_config.yml``).

    Parámetros:
        path: ruta del archivo de configuración (por defecto, el del repositorio).

    Devuelve:
        El nombre de la rama, p. ej. ``colab``; la escribe el flujo del libro.
    """
    branch = ((book_config(path).get("sphinx") or {}).get("config") or {}).get("colab_branch")
    if not isinstance(branch, str) or not branch.strip():
        raise ValueError(f"{path} no tiene sphinx.config.colab_branch (la rama de las ediciones).")
    return branch.strip()


def colab_url(notebook: str, path: str | Path = CONFIG_FILE) -> str:
    """Enlace de Colab a la edición de un cuaderno (la que publica la rama de ediciones).

    Parámetros:
        notebook: ruta del cuaderno en el repositorio (``chapters/01_atencion.ipynb``).
        path: ruta del archivo de configuración (por defecto, el del repositorio).

    Devuelve:
        ``https://colab.research.google.com/github/OWNER/REPO/blob/RAMA/chapters/….ipynb``,
        con ``RAMA`` = :func:`colab_branch`.
    """
    colab = (book_config(path).get("launch_buttons") or {}).get("colab_url", "").rstrip("/")
    if not colab:
        raise ValueError(f"{path} no tiene launch_buttons.colab_url.")
    owner_repo = repository_url(path).removeprefix("https://github.com/")
    return f"{colab}/github/{owner_repo}/blob/{colab_branch(path)}/{notebook}"
