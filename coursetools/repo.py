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
