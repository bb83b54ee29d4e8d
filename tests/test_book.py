"""Pruebas del marco del libro: configuración, índice, cuadernos, citas y referencias.

No construyen el libro (eso lo hace ``make test`` con ``jupyter-book build -W``): revisan
los archivos fuente, así que fallan rápido y dicen exactamente qué falta.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

RAIZ = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(RAIZ / "tools"))

import check_notebooks  # noqa: E402

CONFIG = yaml.safe_load((RAIZ / "_config.yml").read_text(encoding="utf-8"))
TOC = yaml.safe_load((RAIZ / "_toc.yml").read_text(encoding="utf-8"))

#: Claves que el curso cita (CONVENTIONS / issue del libro).
CLAVES_OBLIGATORIAS = {
    "vaswani2017", "ba2016", "he2016", "xiong2020", "kaplan2020", "hoffmann2022",
    "besiroglu2024", "radford2019", "brown2020", "devlin2019", "raffel2020",
    "hendrycks2016", "bahdanau2015", "liu2020", "chowdhery2022", "press2017",
    "srivastava2014", "ioffe2015", "hochreiter1997", "elman1990", "michel2019",
    "voita2019", "geva2021", "loshchilov2019", "karpathy2022", "dao2022", "wang2019",
    "pascanu2013",
}  # fmt: skip

#: Capítulos que el índice debe listar, en este orden.
CAPITULOS = [
    "chapters/00_introduccion",
    "chapters/01_atencion",
    "chapters/02_multihead",
    "chapters/03_residuales",
    "chapters/04_layernorm",
    "chapters/05_feedforward",
    "chapters/06_bloque",
    "chapters/07_encoder_decoder",
    "chapters/08_mascara_causal",
    "chapters/09_escalado",
    "chapters/10_idea_clave",
]


# ---------------------------------------------------------------------------------------
# Utilidades


def _entradas_toc(nodo: object = TOC) -> list[str]:
    entradas: list[str] = []
    if isinstance(nodo, dict):
        for clave in ("root", "file"):
            if clave in nodo:
                entradas.append(str(nodo[clave]))
        for valor in nodo.values():
            entradas.extend(_entradas_toc(valor))
    elif isinstance(nodo, list):
        for valor in nodo:
            entradas.extend(_entradas_toc(valor))
    return entradas


def _fuente(entrada: str) -> Path | None:
    for sufijo in (".ipynb", ".md"):
        ruta = RAIZ / f"{entrada}{sufijo}"
        if ruta.exists():
            return ruta
    return None


def _paginas_existentes() -> list[Path]:
    """Fuentes del libro que existen (las entradas del índice aún no escritas no cuentan)."""
    return [r for r in (_fuente(e) for e in dict.fromkeys(_entradas_toc())) if r is not None]


def _markdown_de(ruta: Path) -> str:
    """Texto MyST de una página: el .md entero o las celdas de Markdown del cuaderno."""
    if ruta.suffix == ".md":
        return ruta.read_text(encoding="utf-8")
    nb = nbformat.read(ruta, as_version=4)
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def _cuadernos() -> list[Path]:
    return check_notebooks.cuadernos_del_repositorio()


def _id(ruta: Path) -> str:
    return ruta.relative_to(RAIZ).as_posix()


def _claves_bib() -> dict[str, object]:
    from pybtex.database import parse_file

    return dict(parse_file(str(RAIZ / "references.bib")).entries)


# ---------------------------------------------------------------------------------------
# Configuración


def test_configuracion_del_libro() -> None:
    assert CONFIG["language"] == "es"
    assert CONFIG["only_build_toc_files"] is True
    ejecucion = CONFIG["execute"]
    assert ejecucion["execute_notebooks"] == "cache"
    assert ejecucion["timeout"] >= 120, "los cuadernos necesitan más de 30 s por celda"
    assert "chapters/tareas/*" in ejecucion["exclude_patterns"]
    sphinx = CONFIG["sphinx"]
    # Sin recursive_update, html_theme_options borra los botones de lanzamiento.
    assert sphinx["recursive_update"] is True
    assert "sphinx_exercise" in sphinx["extra_extensions"]
    assert sphinx["config"]["language"] == "es"
    extensiones = set(CONFIG["parse"]["myst_enable_extensions"])
    faltan = {"amsmath", "colon_fence", "deflist", "dollarmath", "html_image", "substitution",
              "tasklist", "attrs_inline"} - extensiones  # fmt: skip
    assert not faltan, f"faltan extensiones de MyST: {sorted(faltan)}"
    assert CONFIG["bibtex_bibfiles"] == ["references.bib"]


def test_botones_y_repositorio() -> None:
    repo = CONFIG["repository"]
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", repo["url"]), repo["url"]
    assert repo["branch"] == "main"
    assert CONFIG["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    html = CONFIG["html"]
    assert html["use_repository_button"] and html["use_issues_button"]
    assert html["use_edit_page_button"]


def test_constraints_fija_torch_cpu() -> None:
    lineas = (RAIZ / "constraints.txt").read_text(encoding="utf-8").splitlines()
    assert "torch==2.13.0" in [linea.strip() for linea in lineas]


def test_ci_solo_llama_a_make_test() -> None:
    script = (RAIZ / ".ci" / "run").read_text(encoding="utf-8")
    ordenes = [
        linea.strip()
        for linea in script.splitlines()
        if linea.strip() and not linea.strip().startswith("#")
    ]
    assert any(re.search(r"\bmake test\b", o) for o in ordenes)
    assert not any(re.search(r"\bpytest\b|jupyter-book", o) for o in ordenes)


# ---------------------------------------------------------------------------------------
# Índice (_toc.yml)


def test_indice_formato_y_capitulos() -> None:
    assert TOC["format"] == "jb-book"
    assert TOC["root"] == "intro"
    entradas = _entradas_toc()
    assert len(entradas) == len(set(entradas)), "hay entradas repetidas en _toc.yml"
    capitulos = [e for e in entradas if e in CAPITULOS]
    assert capitulos == CAPITULOS
    for obligatoria in ("chapters/glosario", "chapters/bibliografia", "chapters/tareas/index"):
        assert obligatoria in entradas


def test_paginas_propias_existen() -> None:
    for entrada in ("intro", "chapters/00_introduccion", "chapters/glosario",
                    "chapters/bibliografia"):  # fmt: skip
        assert _fuente(entrada) is not None, f"falta {entrada}.md"


def test_entradas_del_indice_existen() -> None:
    faltan = [e for e in _entradas_toc() if _fuente(e) is None]
    if faltan and os.environ.get("CI"):
        pytest.fail(f"entradas de _toc.yml sin archivo: {faltan}")
    if faltan:
        pytest.skip(f"páginas aún no escritas (en CI es un error): {faltan}")


def test_todas_las_paginas_estan_en_el_indice() -> None:
    entradas = set(_entradas_toc())
    fuera = []
    for ruta in sorted((RAIZ / "chapters").rglob("*")):
        if ruta.suffix not in {".ipynb", ".md"} or ".ipynb_checkpoints" in ruta.parts:
            continue
        if "figuras" in ruta.parts:
            continue
        if ruta.relative_to(RAIZ).with_suffix("").as_posix() not in entradas:
            fuera.append(_id(ruta))
    assert not fuera, f"páginas que no están en _toc.yml: {fuera}"


# ---------------------------------------------------------------------------------------
# Cuadernos


@pytest.mark.parametrize("ruta", _cuadernos(), ids=_id)
def test_celda_de_colab_usa_el_repositorio_del_libro(ruta: Path) -> None:
    url = CONFIG["repository"]["url"].rstrip("/")
    primera = nbformat.read(ruta, as_version=4).cells[0]
    assert primera.cell_type == "code"
    assert f"git+{url}" in primera.source, (
        f"la celda de Colab no instala desde {url} (la URL de _config.yml)"
    )
    assert "remove-cell" in primera.metadata.get("tags", [])


@pytest.mark.parametrize("ruta", _cuadernos(), ids=_id)
def test_higiene_del_cuaderno(ruta: Path) -> None:
    problemas = check_notebooks.problemas_de_cuaderno(ruta)
    assert not problemas, "\n".join(problemas)


def test_la_comprobacion_de_higiene_detecta_salidas(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(check_notebooks.KERNELSPEC)
    colab = nbformat.v4.new_code_cell(check_notebooks.celda_colab_esperada())
    colab.metadata["tags"] = ["remove-cell"]
    titulo = nbformat.v4.new_markdown_cell("# 1. Prueba")
    dispositivo = nbformat.v4.new_code_cell("device = get_device()")
    gpu = nbformat.v4.new_code_cell("x = 1")
    gpu.metadata["tags"] = ["requires-gpu", "skip-execution"]
    nb.cells = [colab, titulo, dispositivo, gpu]
    ruta = tmp_path / "limpio.ipynb"
    nbformat.write(nb, ruta)
    assert check_notebooks.problemas_de_cuaderno(ruta) == []

    dispositivo.outputs = [nbformat.v4.new_output("stream", text="cpu\n")]
    dispositivo.execution_count = 3
    gpu.metadata["tags"] = ["requires-gpu"]
    nbformat.write(nb, ruta)
    problemas = " ".join(check_notebooks.problemas_de_cuaderno(ruta))
    assert "salidas" in problemas and "execution_count" in problemas
    assert "skip-execution" in problemas


def test_celdas_gpu_se_saltan_sin_gpu_y_fallan_con_require_gpu(tmp_path: Path) -> None:
    """El conftest.py de la raíz salta las celdas requires-gpu (o las exige con REQUIRE_GPU)."""
    (tmp_path / "conftest.py").write_text(
        (RAIZ / "conftest.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(check_notebooks.KERNELSPEC)
    normal = nbformat.v4.new_code_cell("x = 1")
    gpu = nbformat.v4.new_code_cell("y = x + 1")
    gpu.metadata["tags"] = ["requires-gpu", "skip-execution"]
    nb.cells = [normal, gpu]
    nbformat.write(nb, tmp_path / "gpu.ipynb")

    import torch

    hay_gpu = torch.cuda.is_available()

    def ejecutar(require_gpu: str) -> tuple[int, str]:
        entorno = {**os.environ, "REQUIRE_GPU": require_gpu}
        resultado = subprocess.run(
            [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-p",
             "no:cacheprovider", "-p", "no:xdist", "-rs", "gpu.ipynb"],
            cwd=tmp_path, env=entorno, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        return resultado.returncode, resultado.stdout + resultado.stderr

    codigo, salida = ejecutar("0")
    assert codigo == 0, salida
    if hay_gpu:
        assert "2 passed" in salida, salida
    else:
        assert "1 passed, 1 skipped" in salida, salida
        assert "requires-gpu" in salida and "no hay GPU" in salida

    codigo, salida = ejecutar("1")
    if hay_gpu:
        assert codigo == 0 and "2 passed" in salida, salida
    else:
        assert codigo != 0, salida
        assert "REQUIRE_GPU=1 pero no hay GPU CUDA" in salida, salida


# ---------------------------------------------------------------------------------------
# Bibliografía, citas y referencias cruzadas

_CITA = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")
_DOC = re.compile(r"\{doc\}`(?:[^`<]*<)?([^`>]+)>?`")
_ETIQUETA_EJERCICIO = re.compile(r"^:::+\{exercise\}[^\n]*\n(?::[a-z-]+:[^\n]*\n)*?:label: *(\S+)", re.M)  # fmt: skip
_SOLUCION = re.compile(r"^:::+\{solution\} *(\S+)", re.M)


def test_bibliografia_tiene_las_claves_del_curso() -> None:
    entradas = _claves_bib()
    faltan = CLAVES_OBLIGATORIAS - set(entradas)
    assert not faltan, f"faltan en references.bib: {sorted(faltan)}"
    for clave in CLAVES_OBLIGATORIAS:
        entrada = entradas[clave]
        assert entrada.fields.get("title"), f"{clave} sin título"
        assert entrada.fields.get("year"), f"{clave} sin año"
        assert entrada.persons.get("author"), f"{clave} sin autores"


def test_una_sola_pagina_de_bibliografia() -> None:
    con_directiva = [_id(r) for r in _paginas_existentes() if "{bibliography}" in _markdown_de(r)]
    assert con_directiva == ["chapters/bibliografia.md"]


def test_las_citas_existen_en_la_bibliografia() -> None:
    claves = set(_claves_bib())
    faltan: dict[str, list[str]] = {}
    for ruta in _paginas_existentes():
        for grupo in _CITA.findall(_markdown_de(ruta)):
            for clave in (c.strip() for c in grupo.split(",")):
                if clave not in claves:
                    faltan.setdefault(_id(ruta), []).append(clave)
    assert not faltan, f"citas sin entrada en references.bib: {faltan}"


def test_referencias_doc_apuntan_a_paginas_del_libro() -> None:
    entradas = set(_entradas_toc())
    rotas: dict[str, list[str]] = {}
    for ruta in _paginas_existentes():
        for destino in _DOC.findall(_markdown_de(ruta)):
            destino = destino.strip()
            if destino.startswith("/"):
                nombre = destino.lstrip("/")
            else:
                base = ruta.parent.relative_to(RAIZ)
                nombre = os.path.normpath((base / destino).as_posix())
            nombre = re.sub(r"\.(md|ipynb)$", "", nombre)
            if nombre not in entradas:
                rotas.setdefault(_id(ruta), []).append(destino)
    assert not rotas, f"{{doc}} que no apuntan a una página del índice: {rotas}"


def test_ejercicios_con_etiqueta_unica_y_soluciones_validas() -> None:
    etiquetas: dict[str, str] = {}
    soluciones: list[tuple[str, str]] = []
    for ruta in _paginas_existentes():
        texto = _markdown_de(ruta)
        for etiqueta in _ETIQUETA_EJERCICIO.findall(texto):
            assert etiqueta not in etiquetas, (
                f"etiqueta {etiqueta} repetida en {_id(ruta)} y {etiquetas[etiqueta]}"
            )
            etiquetas[etiqueta] = _id(ruta)
        soluciones += [(s, _id(ruta)) for s in _SOLUCION.findall(texto)]
        assert "solution-start" not in texto, (
            f"{_id(ruta)}: usa {{solution}} con :class: dropdown, no solution-start/end"
        )
    huerfanas = [(s, r) for s, r in soluciones if s not in etiquetas]
    assert not huerfanas, f"soluciones de ejercicios inexistentes: {huerfanas}"


# ---------------------------------------------------------------------------------------
# Páginas del marco


def test_mapa_del_curso_en_la_portada() -> None:
    intro = (RAIZ / "intro.md").read_text(encoding="utf-8")
    for capitulo in CAPITULOS:
        assert capitulo in intro, f"la portada no enlaza {capitulo}"
    modulos = ["attention", "positional", "multihead", "normalization", "feedforward",
               "blocks", "models", "data", "training", "scaling", "tareas"]  # fmt: skip
    for modulo in modulos:
        assert f"`{modulo}`" in intro, f"la portada no menciona el módulo {modulo}"


def test_glosario_cubre_los_terminos_del_curso() -> None:
    glosario = (RAIZ / "chapters" / "glosario.md").read_text(encoding="utf-8").lower()
    terminos = [
        "atención", "autoatención", "atención cruzada", "atención multi-cabeza", "cabeza",
        "consulta", "clave", "valor", "máscara causal", "máscara de relleno",
        "codificación posicional", "embedding", "token", "conexión residual",
        "normalización de capa", "red feed-forward", "bloque transformer", "encoder",
        "decoder", "pérdida", "entropía cruzada", "tasa de aprendizaje", "calentamiento",
        "lote", "paso de entrenamiento", "forzado del profesor", "generación autorregresiva",
        "ley de escalado", "cómputo", "parámetros sin embeddings", "mfu", "sobreajuste",
        "desvanecimiento del gradiente", "degradación", "pre-ln", "post-ln", "perplejidad",
        "precisión mixta",
    ]  # fmt: skip
    faltan = [t for t in terminos if t not in glosario]
    assert not faltan, f"faltan en el glosario: {faltan}"


def test_estilo_bibliografico_en_espanol() -> None:
    """Las referencias se formatean con «En» y «y», no con «In» y «and»."""
    from pybtex.database import parse_file

    spec = importlib.util.spec_from_file_location(
        "traducciones_es", RAIZ / "_ext" / "traducciones_es.py"
    )
    modulo = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("traducciones_es", modulo)  # las dataclasses lo necesitan
    spec.loader.exec_module(modulo)
    datos = parse_file(str(RAIZ / "references.bib"))
    estilo = modulo.EstiloBibliografiaEs()
    textos = {
        e.key: e.text.render_as("text") for e in estilo.format_entries(datos.entries.values())
    }
    assert " En Advances in Neural Information Processing Systems 30" in textos["vaswani2017"]
    assert "Hochreiter y Jürgen Schmidhuber" in textos["hochreiter1997"]
    assert " and " not in textos["hochreiter1997"]
    assert "y otros" in textos["chowdhery2022"]
    etiquetas = dict(
        zip(
            [e.key for e in datos.entries.values()],
            modulo.EtiquetasAutorAnio().format_labels(list(datos.entries.values())),
            strict=True,
        )
    )
    assert etiquetas["vaswani2017"] == "Vaswani et al., 2017"
    assert etiquetas["ioffe2015"] == "Ioffe y Szegedy, 2015"
    assert etiquetas["elman1990"] == "Elman, 1990"
