"""Pruebas de las herramientas del sitio: sin CDN, navegador, entorno de estudiante, Classroom.

Las comprobaciones de verdad (Chromium sobre el libro construido, los cuadernos en un
entorno limpio, la calificación emulada) las ejecuta ``make test``; aquí se prueban sus
piezas sin construir nada.
"""

from __future__ import annotations

import io
import re
import tarfile
from pathlib import Path

import nbformat
import pytest

from coursetools.repo import ROOT, book_config
from tools import (
    browser_check,
    check_html,
    classroom_check,
    execute_notebooks,
    student_env,
    vendor_assets,
)

WHEEL = Path("/tmp/rueda/transformer_lib-0.1.0-py3-none-any.whl")


# --- Nada de fuera -----------------------------------------------------------------------
def test_external_script_stylesheet_and_font_are_reported():
    html = """
    <script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>
    <link rel="stylesheet" href="//fonts.googleapis.com/css?family=Roboto">
    <link rel="preload" as="font" href="https://example.org/f.woff2">
    <img src="https://img.shields.io/badge.svg">
    <style>@import url("https://fonts.googleapis.com/css2");</style>
    """
    found = check_html.external_references(html)
    assert any("tex-mml-chtml.js" in f for f in found)
    assert any("fonts.googleapis.com/css?family" in f for f in found)
    assert any("f.woff2" in f for f in found)
    assert any("shields.io" in f for f in found)
    assert any(f.startswith("<style>") for f in found)
    assert len(found) == 5


def test_links_canonical_and_local_assets_are_not_external():
    html = """
    <a href="https://colab.research.google.com/github/x/y/blob/main/a.ipynb">Colab</a>
    <link rel="canonical" href="https://curso.example/intro.html">
    <script src="../_static/vendor/mathjax/tex-mml-chtml.js"></script>
    <link rel="stylesheet" href="_static/course.css">
    """
    assert check_html.external_references(html) == []


def test_stylesheet_urls_outside_comments_are_reported():
    css = (
        "/* @import url('https://fonts.googleapis.com/x'); */ a { background: url(//cdn.x/y.png) }"
    )
    assert check_html.stylesheet_references(css) == ["//cdn.x/y.png"]


def test_book_loads_mathjax_and_widgets_from_the_site():
    config = book_config()["sphinx"]["config"]
    scripts = [config["mathjax_path"], *config["nb_ipywidgets_js"]]
    assert all("://" not in s and not s.startswith("//") for s in scripts)
    assert config["mathjax_path"] == vendor_assets.MATHJAX_SCRIPT
    assert list(config["nb_ipywidgets_js"]) == [
        vendor_assets.REQUIRE_SCRIPT,
        "vendor/widgets_setup.js",
        vendor_assets.WIDGETS_SCRIPT,
    ]
    assert (ROOT / "_ext" / "static" / "vendor" / "widgets_setup.js").is_file()


def test_vendored_packages_are_pinned_with_integrity():
    for asset in (*vendor_assets.ASSETS, vendor_assets.AXE):
        package, version = asset.spec.rsplit("@", 1)
        assert package and version[0].isdigit(), asset.spec
        assert asset.integrity.startswith("sha512-") and len(asset.integrity) == 95


def test_sri_matches_npm_format():
    # sha512 de b"" en base64, como lo escribe npm en «integrity».
    assert vendor_assets.sri(b"") == (
        "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="
    )


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_install_copies_only_the_selected_files(tmp_path):
    data = _tarball(
        {
            "package/LICENSE": b"licencia",
            "package/es5/tex-mml-chtml.js": b"mathjax",
            "package/es5/latest.js": b"cdn",
            "package/es5/output/chtml/fonts/woff-v2/a.woff": b"fuente",
            "package/src/ignored.ts": b"",
        }
    )
    asset = vendor_assets.Asset(
        name="mathjax",
        spec="mathjax@3.2.2",
        integrity=vendor_assets.sri(data),
        keep=("LICENSE", "es5/"),
        strip="es5/",
        drop=("es5/latest.js",),
    )
    (tmp_path / ".npm").mkdir()
    (tmp_path / ".npm" / asset.tarball).write_bytes(data)
    folder = vendor_assets.install(asset, tmp_path)
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert files == [
        ".integrity",
        "LICENSE",
        "output/chtml/fonts/woff-v2/a.woff",
        "tex-mml-chtml.js",
    ]


def test_a_tarball_with_another_checksum_is_refused(tmp_path, monkeypatch):
    asset = vendor_assets.ASSETS[1]
    (tmp_path / ".npm").mkdir()
    (tmp_path / ".npm" / asset.tarball).write_bytes(_tarball({"package/require.js": b"x"}))
    monkeypatch.setenv("NPM", "false")  # «npm» que siempre falla: no hay nada que descargar
    with pytest.raises(SystemExit, match="falló"):
        vendor_assets.install(asset, tmp_path)


# --- Navegador ------------------------------------------------------------------------------
def test_redirect_page_without_lang_is_a_problem(tmp_path):
    (tmp_path / "intro.html").write_text('<html lang="es"></html>')
    bare = tmp_path / "index.html"
    bare.write_text('<meta http-equiv="Refresh" content="0; url=intro.html" />')
    assert any("lang" in p for p in browser_check.static_checks(tmp_path, bare))
    bare.write_text(
        '<!DOCTYPE html><html lang="es"><meta http-equiv="Refresh" content="0; url=falta.html">'
    )
    assert browser_check.static_checks(tmp_path, bare) == ["redirige a falta.html, que no existe"]


def test_expected_colab_link_follows_the_config():
    from coursetools.repo import colab_branch

    url = browser_check.expected_colab("chapters/01_atencion.html")
    repo = book_config()["repository"]["url"].removeprefix("https://github.com/")
    branch = colab_branch()
    assert branch == "colab"  # la edición para Colab, no la rama main (issue 25)
    assert url == (
        f"https://colab.research.google.com/github/{repo}/blob/{branch}/chapters/01_atencion.ipynb"
    )


def test_missing_browser_skips_outside_ci_and_fails_in_ci(tmp_path, monkeypatch, capsys):
    (tmp_path / "intro.html").write_text('<html lang="es"></html>')
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "no-existe"))
    monkeypatch.delenv("CI", raising=False)
    assert browser_check.main([str(tmp_path)]) == 0
    assert "SALTADA" in capsys.readouterr().out
    monkeypatch.setenv("CI", "true")
    assert browser_check.main([str(tmp_path)]) == 1


def test_axe_problems_block_only_serious_and_critical():
    found = browser_check.axe_problems(
        [
            {"id": "image-alt", "impact": "critical", "help": "alt", "nodes": ["img"], "count": 1},
            {"id": "region", "impact": "moderate", "help": "r", "nodes": ["div"], "count": 3},
        ]
    )
    assert len(found) == 1 and "image-alt" in found[0] and "critical" in found[0]


_SITE_PAGE = """<!DOCTYPE html><html lang="es"><head><meta charset="utf-8"><title>{title}</title>
<link rel="icon" href="data:,"></head>
<body><main><h1>{title}</h1><p>Texto.</p>{body}</main></body></html>"""


@pytest.mark.skipif(browser_check.find_browser() is None, reason="sin Chromium")
def test_browser_check_reports_console_offsite_and_accessibility(tmp_path, capsys):
    """Playwright con el Chromium del sistema: una página limpia pasa; otra con un error de
    consola, una petición fuera del sitio y una imagen sin texto alternativo, no."""
    pytest.importorskip("playwright")
    pixel = "data:image/gif;base64,R0lGODlhAQABAAAAACw="
    (tmp_path / "bien.html").write_text(
        _SITE_PAGE.format(title="Bien", body=f'<img src="{pixel}" alt="un punto">'), "utf-8"
    )
    bad = (
        f'<img src="{pixel}"><script>console.error("roto")</script>'
        '<script src="http://cdn.example.org/x.js"></script>'
    )
    (tmp_path / "mal.html").write_text(_SITE_PAGE.format(title="Mal", body=bad), "utf-8")
    assert browser_check.main([str(tmp_path), "--no-screenshots"]) == 1
    out = capsys.readouterr().out
    assert "  ✓ bien.html" in out and "  ✗ mal.html" in out
    report = out.split("✗ mal.html", 1)[1]
    assert "consola (error): roto" in report
    assert "petición fuera del sitio: http://cdn.example.org/x.js" in report
    assert "accesibilidad (critical, image-alt, 1 nodo(s))" in report
    assert "image-alt (critical): 1 nodo(s) en 1 página(s)" in out


# --- Entorno de estudiante -------------------------------------------------------------------
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb")) + sorted(
    (ROOT / "chapters" / "tareas").glob("*.ipynb")
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_colab_cell_installs_the_package_and_maps_to_the_wheel(path):
    args = student_env.colab_install_args(path)
    assert args[0] == "install"
    local = student_env.local_args(args, WHEEL)
    requirement = [a for a in local if a.startswith("transformer_lib")]
    assert len(requirement) == 1
    assert requirement[0].endswith(f"@ {WHEEL.as_uri()}")
    assert not any("git+" in a for a in local)


def test_extras_of_the_colab_cell_are_kept():
    args = ["install", "-q", "transformer_lib[tareas] @ git+https://github.com/o/r"]
    assert student_env.local_args(args, WHEEL)[-1] == f"transformer_lib[tareas] @ {WHEEL.as_uri()}"
    with pytest.raises(ValueError, match="no instala"):
        student_env.local_args(["install", "numpy"], WHEEL)


def test_environment_key_changes_with_the_preinstalled_list(monkeypatch):
    key = student_env.env_key()
    monkeypatch.setattr(student_env, "COLAB_PREINSTALLED", ("numpy",))
    assert student_env.env_key() != key


# --- El libro con las salidas del entorno de estudiante (cada cuaderno, dos veces) -----------
def _executed(folder, path, outputs):
    """Copia «ejecutada» de ``path`` en ``folder``: cada celda de código con ``outputs``."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=outputs)]
            cell.execution_count = 1
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nb.metadata["student_env"] = {"seconds": 1.5, "finished": "2026-01-01 00:00 UTC"}
    copy = folder / path.relative_to(ROOT)
    copy.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, copy)
    return copy


def test_book_reuses_an_executed_copy_only_if_code_and_package_match(tmp_path):
    from jupyter_cache import get_cache

    path = ROOT / "chapters" / "06_bloque.ipynb"
    copy = _executed(tmp_path, path, "hola\n")
    assert execute_notebooks.executed_copy(path, tmp_path) == (None, "la copia es de otro transformer_lib")
    (tmp_path / execute_notebooks.FINGERPRINT_FILE).write_text(execute_notebooks.package_fingerprint())
    nb, reason = execute_notebooks.executed_copy(path, tmp_path)
    assert reason == "" and nb is not None
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs[0].text == "hola\n" for c in code)
    assert "widgets" in nb.metadata and "student_env" not in nb.metadata
    # La clave de la caché es la del cuaderno fuente: el libro la encuentra sin ejecutar.
    cache = get_cache(tmp_path / "cache")
    source_key = cache.create_hashed_notebook(nbformat.read(path, as_version=4))[1]
    assert cache.create_hashed_notebook(nb)[1] == source_key
    assert execute_notebooks._reuse(cache, [path], tmp_path) == []
    cache.match_cache_notebook(nbformat.read(path, as_version=4))  # no lanza KeyError
    # Otro código en la copia: no vale, y el libro ejecutará el cuaderno.
    changed = nbformat.read(copy, as_version=4)
    next(c for c in changed.cells if c.cell_type == "code").source += "\nprint(1)"
    nbformat.write(changed, copy)
    assert execute_notebooks.executed_copy(path, tmp_path)[1] == (
        "el código de la copia no es el del cuaderno"
    )
    copy.unlink()
    assert execute_notebooks.executed_copy(path, tmp_path)[1] == "no hay copia ejecutada"


def test_package_fingerprint_follows_the_code(tmp_path):
    for name in ("pyproject.toml", "constraints.txt", "transformer_lib/a.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    before = execute_notebooks.package_fingerprint(tmp_path)
    assert len(before) == 64 and before == execute_notebooks.package_fingerprint(tmp_path)
    (tmp_path / "transformer_lib" / "a.py").write_text("x = 2\n")
    assert execute_notebooks.package_fingerprint(tmp_path) != before


# --- Classroom ------------------------------------------------------------------------------
WORKFLOWS = sorted((ROOT / ".github" / "classroom").glob("*.yml"))


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.stem)
def test_classroom_workflow_is_emulated_with_the_local_wheel(workflow):
    runs, graders = classroom_check.workflow_plan(workflow)
    assert graders and all(score > 0 for *_, score in graders)
    assert all(f"{workflow.stem}.ipynb" in command for _, command, _, _ in graders)
    lines = [classroom_check.local_line(line, WHEEL) for line in runs]
    installs = [line for line in lines if line and "transformer_lib" in line and "install" in line]
    assert installs and all(WHEEL.as_uri() in line and "git+" not in line for line in installs)
    assert not any(line and "torch" in line and "install" in line for line in lines)


def test_grader_reports_are_read_not_only_the_points():
    """La solución debe decir «¡Tarea completa!» (y la tarea 3, su pérdida medida); el
    cuaderno sin resolver, «SIN RESOLVER» en cada ejercicio y ningún error de ejecución."""
    unsolved = "❓ SIN RESOLVER\n❓ SIN RESOLVER\nNota: 0/10 puntos."
    assert classroom_check.report_problems("tarea_01_atencion", unsolved, solved=False) == []
    missing = classroom_check.report_problems("tarea_01_atencion", unsolved[:15], solved=False)
    assert missing == ["el informe dice «SIN RESOLVER» 1 veces y la tarea tiene 2 ejercicios"]
    crashed = unsolved + "\n💥 Errores al ejecutar tu cuaderno: ModuleNotFoundError"
    assert classroom_check.report_problems("tarea_01_atencion", crashed, solved=False) == [
        "el informe tiene errores de ejecución o una traza de Python"
    ]
    done = "🎉 ¡Tarea completa! Todo está bien."
    assert classroom_check.report_problems("tarea_02_multihead", done, solved=True) == []
    assert classroom_check.report_problems("tarea_03_bloque_gpt", done, solved=True) == [
        "el informe de la solución no dice «Pérdida de validación medida»"
    ]


def test_preloaded_grader_runs_the_command_as_python_dash_m_would(tmp_path):
    """Los pasos de calificación en el intérprete ya importado: misma salida y mismo código de
    salida que ``python -m transformer_lib.tareas …`` en un proceso nuevo; lo demás, a la shell."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    preloaded = classroom_check.Preloaded(Path(sys.executable), "transformer_lib.tareas", tmp_path, env,
                                          classroom_check.GRADER_IMPORTS)  # fmt: skip
    try:
        for command in ("python -m transformer_lib.tareas lista",
                        "python -m transformer_lib.tareas comprobar x.ipynb --grupo mascaras",
                        "python -m transformer_lib.tareas comprobar falta.ipynb --cache c"):  # fmt: skip
            args = preloaded.args(command)
            assert args == command.split()[3:]
            alone = subprocess.run([sys.executable, "-m", "transformer_lib.tareas", *args], cwd=tmp_path,
                                   env=env, capture_output=True, text=True)  # fmt: skip
            ok, text = preloaded.run(args, timeout=120)
            assert ok == (alone.returncode == 0) and text == alone.stdout, command
        assert "tarea_01_atencion" in preloaded.run(["lista"], timeout=120)[1]
        assert preloaded.run(["comprobar", "falta.ipynb"], timeout=120)[0] is False
    finally:
        preloaded.close()
    assert preloaded.process.returncode == 0
    for shell in ("python -m transformer_lib.tareas lista || true", "python -m otro lista",
                  "python -m transformer_lib.tareas lista > informe.txt"):  # fmt: skip
        assert preloaded.args(shell) is None


def test_make_test_runs_lanes_at_once_and_stops_at_a_failure(tmp_path):
    """«a+b,c» en TEST_STEPS: dos carriles a la vez (el segundo, b y después c); un fallo para
    su carril y los pasos siguientes, y make test dice cuál fue."""
    import subprocess

    # dos y tres se esperan el uno al otro (hasta 20 s): solo terminan bien si van a la vez.
    meet = "touch {me}; for i in $$(seq 200); do [ -f {other} ] && break; sleep 0.1; done; [ -f {other} ]"
    steps = {"uno": "echo UNO", "dos": meet.format(me=tmp_path / "d", other=tmp_path / "t") + "; echo DOS",
             "tres": meet.format(me=tmp_path / "t", other=tmp_path / "d") + "; echo TRES",
             "cuatro": "echo CUATRO", "cinco": "echo CINCO", "mal": "sleep 1; exit 3"}  # fmt: skip
    evals = [f"--eval={name}:;@{recipe}" for name, recipe in steps.items()]

    def make_test(plan: str) -> subprocess.CompletedProcess:
        return subprocess.run(["make", "-s", *evals, "test", f"TEST_STEPS={plan}", f"BUILD={tmp_path}"],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip

    done = make_test("uno dos+tres,cuatro cinco")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert out.index("UNO") < out.index("DOS") < out.index("TRES") < out.index("CUATRO") < out.index("CINCO")
    times = [line.split() for line in (tmp_path / "tiempos-make-test.txt").read_text().splitlines()]
    assert [t[0] for t in times] == ["uno", "dos", "tres", "cuatro", "a-la-vez:dos+tres,cuatro", "cinco"]
    assert [len(t) for t in times] == [2, 3, 3, 3, 2, 2]  # los del grupo, marcados
    total = int(re.search(r"total +(\d+)", out).group(1))
    assert re.search(r"dos +\d+ \*", out) and total == sum(int(t[1]) for t in times if len(t) == 2)
    failed = make_test("uno cuatro+mal,tres cinco")
    assert failed.returncode != 0 and "falla el paso mal" in failed.stdout
    assert "CUATRO" in failed.stdout  # el otro carril termina
    assert "TRES" not in failed.stdout and "CINCO" not in failed.stdout  # lo de después, no


# --- Página de estado y CI ------------------------------------------------------------------
def test_status_page_is_in_the_toc_and_uses_the_directive():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    assert "file: chapters/estado" in toc
    assert "```{execution-status}" in (ROOT / "chapters" / "estado.md").read_text(encoding="utf-8")
    assert "execution_status" in book_config()["sphinx"]["local_extensions"]


def test_status_page_lists_versions_and_machine(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "_ext"))
    import execution_status

    rows = dict(execution_status.machine_rows())
    for label in ("Python", "PyTorch", "Jupyter Book", "CPU", "Hilos de la CPU"):
        assert rows[label], label


def test_ci_installs_the_browser_the_readme_asks_for():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "apt-get update" in script and "apt-get install" in script
    assert "missing+=(chromium)" in script
    assert "apt-get install chromium" in readme
    requirements = (ROOT / "tools" / "requirements.txt").read_text(encoding="utf-8")
    assert re.search(r"^playwright==[0-9.]+$", requirements, re.M)  # Playwright, sin navegador
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    steps = makefile.split("\nTEST_STEPS :=", 1)[1].split("\n\n", 1)[0].split("\n")[0:2]
    steps = re.split(r"[\s+,]+", " ".join(steps).replace("\\", " ").strip())
    for target in ("workflows", "unit", "procesos", "nbval", "site-check", "student-env", "classroom",
                   "html-check", "book-check"):  # fmt: skip
        assert target in steps, target
    # El libro toma las salidas del entorno de estudiante: tiene que ir después.
    assert steps.index("student-env") < steps.index("book-check") < steps.index("site-check")
