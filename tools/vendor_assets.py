"""Trae MathJax, require.js y el gestor de widgets para que el sitio funcione sin internet.

Jupyter Book 1 carga MathJax 3, require.js y el gestor HTML de ipywidgets desde CDNs: sin
red (un aula tras un cortafuegos, un lector sin conexión) las ecuaciones se quedan en TeX
crudo. Este script descarga cada paquete del registro de npm con ``npm pack`` en la
versión fijada aquí, comprueba su suma SHA-512 (la misma «integrity» que guarda un
``package-lock.json``) y copia solo los archivos que usa el libro, con su licencia, a
``_build/vendor/``. La extensión ``_ext/offline_assets.py`` los publica en
``_static/vendor/`` y apunta a ellos ``mathjax_path`` y ``nb_ipywidgets_js``.

Los paquetes descargados se guardan en ``_build/vendor/.npm/``: con ellos ya no hace falta
ni red ni npm (``make clean`` los borra).

axe-core (:data:`AXE`), la auditoría de accesibilidad de ``tools/browser_check.py``, se fija
igual pero no se publica: va a ``_build/vendor/audit/`` (fuera de ``static/``).

Uso::

    python -m tools.vendor_assets [--dest _build/vendor]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from coursetools.repo import ROOT


@dataclass(frozen=True)
class Asset:
    """Un paquete de npm fijado y los archivos que el libro necesita de él.

    Parámetros:
        name: carpeta de destino dentro de ``_static/vendor/``.
        spec: paquete y versión exacta para ``npm pack`` (``mathjax@3.2.2``).
        integrity: suma ``sha512-…`` del archivo ``.tgz`` (la del registro de npm).
        keep: prefijos (dentro de ``package/``) de los archivos que se copian.
        strip: prefijo que se quita al copiar (``es5/`` en MathJax).
        drop: sufijos o nombres que no se copian (mapas de fuentes, variantes sin usar).
    """

    name: str
    spec: str
    integrity: str
    keep: tuple[str, ...]
    strip: str = ""
    drop: tuple[str, ...] = ()

    @property
    def tarball(self) -> str:
        """Nombre del ``.tgz`` que crea ``npm pack``."""
        package, version = self.spec.rsplit("@", 1)
        return f"{package.lstrip('@').replace('/', '-')}-{version}.tgz"


#: Versiones fijadas. Para actualizar una: cambia ``spec``, ejecuta
#: ``npm pack PAQUETE@VERSIÓN --json`` y copia su «integrity».
ASSETS: tuple[Asset, ...] = (
    Asset(
        name="mathjax",
        spec="mathjax@3.2.2",
        integrity=(
            "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/"
            "FEsPsjKPZGJvtRZM1vO+geW0OhGw=="
        ),
        keep=("LICENSE", "es5/"),
        strip="es5/",
        # Variantes combinadas que el libro no carga (usa tex-mml-chtml.js).
        drop=(
            "es5/tex-svg.js",
            "es5/tex-svg-full.js",
            "es5/tex-mml-svg.js",
            "es5/mml-svg.js",
            "es5/mml-chtml.js",
            "es5/tex-chtml-full.js",
            "es5/tex-chtml-full-speech.js",
            "es5/node-main.js",
            # latest.js carga «la última versión» desde un CDN: justo lo que evitamos.
            "es5/latest.js",
            "es5/output/svg",
            "es5/output/svg.js",
        ),
    ),
    Asset(
        name="requirejs",
        spec="requirejs@2.3.8",
        integrity=(
            "sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+"
            "Jd5otXKGNehIonFlyQXSowL6Mw=="
        ),
        keep=("require.js", "LICENSE", "README.md"),
    ),
    Asset(
        name="html-manager",
        spec="@jupyter-widgets/html-manager@1.0.15",
        integrity=(
            "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi/"
            "/SABeNz1yp47bCrJ3CQA=="
        ),
        # embed-amd.js y las fuentes que carga (iconos de los controles), con licencias.
        keep=("dist/", "LICENSE", "package.json"),
        strip="dist/",
        drop=(".map", "dist/embed.js", "dist/libembed-amd.js"),
    ),
)

#: axe-core: la prueba del navegador lo inyecta en cada página (no se publica con el sitio).
AXE = Asset(
    name="axe-core",
    spec="axe-core@4.14.1",
    integrity=(
        "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37"
        "OgudVGtQ=="
    ),
    keep=("axe.min.js", "LICENSE", "package.json"),
)
#: Subcarpeta (dentro de la de trabajo) de lo que no se publica.
AUDIT_DIR = "audit"

#: Ruta, dentro de ``_static/``, del script de MathJax que carga cada página.
MATHJAX_SCRIPT = "vendor/mathjax/tex-mml-chtml.js"
#: Scripts de los widgets, en el orden en que se cargan.
REQUIRE_SCRIPT = "vendor/requirejs/require.js"
WIDGETS_SCRIPT = "vendor/html-manager/embed-amd.js"
#: Carpeta por defecto (su subcarpeta ``static/`` se añade a ``html_static_path``).
DEFAULT_DEST = ROOT / "_build" / "vendor"


def sri(data: bytes) -> str:
    """Suma ``sha512-…`` en el formato de npm (Subresource Integrity).

    Parámetros:
        data: contenido del archivo.

    Devuelve:
        ``"sha512-"`` seguido de la suma en base64.
    """
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def _download(asset: Asset, cache: Path) -> Path:
    """Deja en ``cache`` el ``.tgz`` de ``asset`` comprobado; lo descarga si falta."""
    target = cache / asset.tarball
    if target.exists() and sri(target.read_bytes()) == asset.integrity:
        return target
    npm = os.environ.get("NPM") or shutil.which("npm")
    if npm is None:
        raise SystemExit(
            f"Hace falta npm para descargar {asset.spec} (MathJax y los widgets se sirven "
            "desde el propio sitio). Instala Node.js y npm (en Debian/Ubuntu: "
            "`apt-get install nodejs npm`) y vuelve a ejecutar `make book`."
        )
    cache.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [npm, "pack", asset.spec, "--pack-destination", str(cache), "--silent"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not target.exists():
        raise SystemExit(
            f"`npm pack {asset.spec}` falló (código {result.returncode}):\n{result.stderr.strip()}"
        )
    found = sri(target.read_bytes())
    if found != asset.integrity:
        target.unlink()
        raise SystemExit(
            f"La suma de {asset.tarball} no coincide: se esperaba {asset.integrity} y llegó "
            f"{found}. No se usa un archivo distinto del fijado en tools/vendor_assets.py."
        )
    return target


def _selected(asset: Asset, member: str) -> str | None:
    """Ruta de destino de un archivo del paquete, o ``None`` si no se copia."""
    path = PurePosixPath(member)
    if not path.parts or path.parts[0] != "package":
        return None
    inner = "/".join(path.parts[1:])
    if not any(inner == k or (k.endswith("/") and inner.startswith(k)) for k in asset.keep):
        return None
    if any(inner.endswith(d) or inner == d or inner.startswith(d + "/") for d in asset.drop):
        return None
    if asset.strip and inner.startswith(asset.strip):
        inner = inner[len(asset.strip) :]
    return inner


def install(asset: Asset, dest: Path, subdir: str = "static/vendor") -> Path:
    """Copia los archivos de ``asset`` a ``dest/<subdir>/<name>/`` (si no están ya).

    Parámetros:
        asset: paquete fijado.
        dest: carpeta de trabajo (``_build/vendor``).
        subdir: dónde, dentro de ``dest``: ``static/vendor`` se publica con el sitio;
            :data:`AUDIT_DIR`, no.

    Devuelve:
        La carpeta del paquete ya instalado.
    """
    folder = dest / subdir / asset.name
    stamp = folder / ".integrity"
    if stamp.exists() and stamp.read_text(encoding="ascii").strip() == asset.integrity:
        return folder
    tarball = _download(asset, dest / ".npm")
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive.getmembers():
            if not member.isfile():
                continue
            inner = _selected(asset, member.name)
            if inner is None:
                continue
            out = tmp / inner
            out.parent.mkdir(parents=True, exist_ok=True)
            source = archive.extractfile(member)
            assert source is not None
            out.write_bytes(source.read())
    (tmp / ".integrity").write_text(asset.integrity + "\n", encoding="ascii")
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    return folder


def axe_script(dest: Path = DEFAULT_DEST) -> Path:
    """``axe.min.js`` fijado, instalado en ``dest/audit/`` si falta (npm pack la primera vez).

    Parámetros:
        dest: carpeta de trabajo (``_build/vendor``).

    Devuelve:
        La ruta del script.
    """
    return install(AXE, dest, AUDIT_DIR) / "axe.min.js"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.vendor_assets", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="carpeta de trabajo")
    args = parser.parse_args(argv)
    for asset in ASSETS:
        folder = install(asset, args.dest)
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
        print(f"  {asset.spec}: {folder.relative_to(args.dest)} ({size / 1e6:.1f} MB)")
    for script in (MATHJAX_SCRIPT, REQUIRE_SCRIPT, WIDGETS_SCRIPT):
        if not (args.dest / "static" / script).is_file():
            print(f"Falta {script} tras la instalación: revisa ASSETS en tools/vendor_assets.py")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
