"""Tests de las tareas con corrección automática (transformer_lib.tareas).

- Las versiones del estudiante están al día con las del profesor y no filtran soluciones.
- Las soluciones del profesor pasan todas las comprobaciones; las versiones del estudiante
  salen «sin resolver»; cada implementación de ``tests/tareas_incorrectas`` falla con la
  explicación que le corresponde.
- ``python -m transformer_lib.tareas comprobar`` de principio a fin sobre cuadernos reales.
  La solución de la tarea 3 entrena ~1 min: ``TAREAS_SIN_ENTRENAR=1`` salta ese test.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import torch

from transformer_lib import GPT, GPTConfig
from transformer_lib.tareas import (
    UMBRAL_VALIDACION,
    comprobar_atencion,
    comprobar_entrenamiento,
    comprobar_mascara_causal,
)
from transformer_lib.tareas._nucleo import CORRECTO, INCORRECTO, SIN_RESOLVER
from transformer_lib.tareas.catalogo import TAREAS
from transformer_lib.tareas.generador import (
    ETIQUETA_EXCEPCION,
    FUENTE,
    MARCA_FIN,
    MARCA_INICIO,
    fugas,
    problemas,
    quitar_soluciones,
    version_estudiante,
)

RAIZ = Path(__file__).resolve().parents[1]
PROFESOR = RAIZ / FUENTE
ESTUDIANTE = RAIZ / "chapters" / "tareas"
INCORRECTAS = RAIZ / "tests" / "tareas_incorrectas"
CELDA_COLAB = (
    "# Celda para Colab: instala transformer_lib desde el repositorio del curso. Fuera de Colab no hace nada.\n"
    "import subprocess\nimport sys\n\n"
    'if "google.colab" in sys.modules:\n'
    '    subprocess.run([sys.executable, "-m", "pip", "install", "-q",\n'
    '                    "transformer_lib @ git+https://github.com/curso-transformers/transformers-ii"], check=True)'
)


def _hay_datos() -> bool:
    """Si el Quijote está en local (TRANSFORMER_LIB_DATA o la caché); las pruebas no descargan nada."""
    from transformer_lib.data import quijote_path

    try:
        quijote_path(download=False)
    except (FileNotFoundError, OSError):
        return False
    return True


necesita_datos = pytest.mark.skipif(not _hay_datos(), reason="hace falta pg2000.txt en local (TRANSFORMER_LIB_DATA o caché)")


# --------------------------------------------------------------------------------------
# Una sola fuente: generador, versiones al día y sin fugas
# --------------------------------------------------------------------------------------


def test_versiones_del_estudiante_al_dia_y_sin_fugas():
    encontrados = problemas(PROFESOR, ESTUDIANTE)
    assert encontrados == [], "\n".join(encontrados)


def test_cada_tarea_tiene_sus_dos_versiones():
    for id_ in TAREAS:
        assert (PROFESOR / f"{id_}.ipynb").is_file()
        assert (ESTUDIANTE / f"{id_}.ipynb").is_file()


@pytest.mark.parametrize("id_", list(TAREAS))
def test_version_del_estudiante_bien_formada(id_):
    nb = nbformat.read(ESTUDIANTE / f"{id_}.ipynb", as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.metadata["tarea"] == id_
    primera = nb.cells[0]
    assert primera.cell_type == "code" and primera.source == CELDA_COLAB
    assert primera.metadata.get("tags") == ["remove-cell"]
    assert nb.cells[1].cell_type == "markdown" and nb.cells[1].source.startswith("# Tarea ")
    n_stubs = 0
    for celda in nb.cells:
        assert MARCA_INICIO not in celda.source and MARCA_FIN not in celda.source
        if celda.cell_type != "code":
            continue
        assert celda.outputs == [] and celda.execution_count is None
        n_stubs += celda.source.count("raise NotImplementedError()")
        lanza = any(linea == "raise NotImplementedError()" for linea in celda.source.split("\n"))
        assert (ETIQUETA_EXCEPCION in celda.metadata.get("tags", [])) == lanza, celda.source[:80]
    assert n_stubs >= len(TAREAS[id_].ejercicios)


def test_el_enunciado_de_la_tarea_3_dice_el_umbral_de_verdad():
    nb = nbformat.read(ESTUDIANTE / "tarea_03_bloque_gpt.ipynb", as_version=4)
    texto = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert f"{UMBRAL_VALIDACION:.2f}".replace(".", ",") in texto


def test_quitar_soluciones_conserva_la_sangria_y_etiqueta():
    codigo = "def f(x):\n    '''doc'''\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n"
    sin, lanza = quitar_soluciones(codigo)
    assert sin == "def f(x):\n    '''doc'''\n    # TU CÓDIGO AQUÍ\n    raise NotImplementedError()\n"
    assert not lanza
    sin, lanza = quitar_soluciones("modelo = None\n### BEGIN SOLUTION\nmodelo = 3\n### END SOLUTION")
    assert sin == "modelo = None\n# TU CÓDIGO AQUÍ\nraise NotImplementedError()" and lanza


@pytest.mark.parametrize("codigo", [
    "### BEGIN SOLUTION\nx = 1\n",
    "x = 1\n### END SOLUTION\n",
    "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION\n",
])
def test_marcas_desparejadas_dan_error(codigo):
    with pytest.raises(ValueError, match="SOLUTION"):
        quitar_soluciones(codigo, "prueba")


def test_generador_quita_celdas_del_profesor_y_salidas():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("x = 1\n### BEGIN SOLUTION\nsecreto = 42\n### END SOLUTION"),
        nbformat.v4.new_markdown_cell("Nota para el profesor", metadata={"tags": ["solo-solucion"]}),
    ]
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", text="hola")]
    nb.cells[0].execution_count = 3
    est = version_estudiante(nb, "tarea_99_prueba.ipynb")
    assert len(est.cells) == 1
    assert est.cells[0].outputs == [] and est.cells[0].execution_count is None
    assert est.cells[0].metadata["tags"] == [ETIQUETA_EXCEPCION]
    assert est.metadata["tarea"] == "tarea_99_prueba"
    assert fugas(nb, est) == []
    est.cells[0].source += "\nsecreto = 42"
    assert fugas(nb, est) == ["celda 1: secreto = 42"]


def test_orden_generar_comprobar_detecta_una_version_desactualizada(tmp_path):
    destino = tmp_path / "tareas"
    subprocess.run([sys.executable, "-m", "transformer_lib.tareas", "generar", "--fuente", str(PROFESOR),
                    "--destino", str(destino)], check=True, capture_output=True)
    ok = subprocess.run([sys.executable, "-m", "transformer_lib.tareas", "generar", "--comprobar",
                         "--fuente", str(PROFESOR), "--destino", str(destino)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout
    ruta = destino / "tarea_01_atencion.ipynb"
    nb = nbformat.read(ruta, as_version=4)
    nb.cells[-1].source += "\n¡cambio!"
    nbformat.write(nb, ruta)
    mal = subprocess.run([sys.executable, "-m", "transformer_lib.tareas", "generar", "--comprobar",
                          "--fuente", str(PROFESOR), "--destino", str(destino)], capture_output=True, text=True)
    assert mal.returncode == 1 and "no está al día" in mal.stdout


# --------------------------------------------------------------------------------------
# Comprobaciones sobre código Python (rápidas)
# --------------------------------------------------------------------------------------


def _espacio(ruta: Path) -> dict:
    """Ejecuta las celdas de definiciones de un cuaderno (no las de comprobar ni entrenar)."""
    nb = nbformat.read(ruta, as_version=4)
    espacio: dict = {"__name__": "cuaderno"}
    for celda in nb.cells:
        if celda.cell_type != "code" or "remove-cell" in celda.metadata.get("tags", []):
            continue
        if any(p in celda.source for p in ("comprobar_", "prepare_quijote", "modelo is not None")):
            continue
        exec(compile(celda.source, str(ruta), "exec"), espacio)
    return espacio


def _comprobar_todo(espacio: dict, id_: str) -> dict:
    resultados = {}
    for e in TAREAS[id_].ejercicios:
        if e.id == "entrenamiento":
            continue
        resultados[e.id] = e.comprobar(*(espacio.get(n) for n in e.nombres), mostrar=False)
    return resultados


@pytest.mark.parametrize("id_", list(TAREAS))
def test_las_soluciones_del_profesor_pasan(id_):
    for ejercicio, r in _comprobar_todo(_espacio(PROFESOR / f"{id_}.ipynb"), id_).items():
        assert r.estado == CORRECTO, (ejercicio, r.texto())
        assert r.puntos == r.puntos_max and r.total >= 5


@pytest.mark.parametrize("id_", list(TAREAS))
def test_las_versiones_del_estudiante_salen_sin_resolver(id_):
    for ejercicio, r in _comprobar_todo(_espacio(ESTUDIANTE / f"{id_}.ipynb"), id_).items():
        assert r.estado == SIN_RESOLVER, (ejercicio, r.texto())
        assert r.puntos == 0
        assert "NotImplementedError" in r.texto() and "SIN RESOLVER" in r.texto()


def _cargar_incorrecta(ruta: Path):
    sys.path.insert(0, str(INCORRECTAS))  # para `from _base import PreLNBlock`
    try:
        spec = importlib.util.spec_from_file_location(f"incorrecta_{ruta.stem}", ruta)
        modulo = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(modulo)
    finally:
        sys.path.remove(str(INCORRECTAS))
    return modulo


_RUTAS_INCORRECTAS = sorted(p for p in INCORRECTAS.glob("*.py") if not p.name.startswith("_"))


def test_hay_muchas_implementaciones_incorrectas():
    assert len(_RUTAS_INCORRECTAS) >= 40
    ejercicios = {_cargar_incorrecta(p).EJERCICIO for p in _RUTAS_INCORRECTAS}
    todos = {e.id for t in TAREAS.values() for e in t.ejercicios} - {"entrenamiento"}
    assert ejercicios == todos


@pytest.mark.parametrize("ruta", _RUTAS_INCORRECTAS, ids=[p.stem for p in _RUTAS_INCORRECTAS])
def test_cada_error_clasico_falla_con_su_explicacion(ruta):
    modulo = _cargar_incorrecta(ruta)
    ejercicio = next(e for t in TAREAS.values() for e in t.ejercicios if e.id == modulo.EJERCICIO)
    r = ejercicio.comprobar(*(getattr(modulo, n) for n in ejercicio.nombres), mostrar=False)
    assert r.estado == INCORRECTO, r.texto()
    assert r.puntos == 0
    assert modulo.ESPERADO in " ".join(r.mensajes), r.texto()
    assert "Traceback" not in r.texto()


def test_una_excepcion_del_estudiante_se_informa_sin_propagarse(capsys):
    def rota(q, k, v, mask=None):
        raise RuntimeError("me he equivocado")

    r = comprobar_atencion(rota)  # no lanza
    salida = capsys.readouterr().out
    assert r.estado == INCORRECTO
    assert "RuntimeError: me he equivocado" in salida and "Traceback" not in salida


def test_objetos_ausentes_o_extranos_no_rompen_nada():
    assert comprobar_mascara_causal(None, mostrar=False).estado == SIN_RESOLVER
    r = comprobar_mascara_causal(lambda T: "no soy un tensor", mostrar=False)
    assert r.estado == INCORRECTO and "torch.Tensor" in " ".join(r.mensajes)
    r = comprobar_atencion(42, mostrar=False)
    assert r.estado in (INCORRECTO, "error")


def test_las_comprobaciones_no_tocan_la_semilla_del_estudiante():
    torch.manual_seed(123)
    esperado = torch.rand(3)
    torch.manual_seed(123)
    comprobar_mascara_causal(lambda T: torch.ones(T, T, dtype=torch.bool).tril(), mostrar=False)
    assert torch.equal(torch.rand(3), esperado)


@necesita_datos
def test_comprobar_entrenamiento():
    from transformer_lib.data import prepare_quijote

    datos = prepare_quijote()
    MiniGPT = _espacio(PROFESOR / "tarea_03_bloque_gpt.ipynb")["MiniGPT"]
    config = GPTConfig(vocab_size=datos.tokenizer.vocab_size, block_size=16, n_layer=1, n_head=2, d_model=32)
    sin_entrenar = MiniGPT(config)
    r = comprobar_entrenamiento(sin_entrenar, datos=datos, mostrar=False)
    assert r.estado == INCORRECTO and "tiene que bajar de" in " ".join(r.mensajes)
    assert "Pérdida de validación medida: 4." in " ".join(r.notas)  # ≈ ln 92 sin entrenar
    r = comprobar_entrenamiento(sin_entrenar, umbral=10.0, datos=datos, mostrar=False)
    assert r.estado == CORRECTO
    assert comprobar_entrenamiento(None, mostrar=False).estado == SIN_RESOLVER
    r = comprobar_entrenamiento(GPT(config), datos=datos, mostrar=False)
    assert r.estado == INCORRECTO and "no el GPT de la biblioteca" in " ".join(r.mensajes)
    otro_vocab = MiniGPT(GPTConfig(vocab_size=50, block_size=16, n_layer=1, n_head=2, d_model=32))
    r = comprobar_entrenamiento(otro_vocab, datos=datos, mostrar=False)
    assert "vocabulario de 50" in " ".join(r.mensajes)


# --------------------------------------------------------------------------------------
# De principio a fin: python -m transformer_lib.tareas comprobar
# --------------------------------------------------------------------------------------


def _cli(*args: str, cwd: Path = RAIZ, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "transformer_lib.tareas", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


class TestComprobarCuadernos:
    """Cuadernos de las tareas 1 y 2 (rápidos) y errores al ejecutar."""

    def test_soluciones_tareas_1_y_2(self, tmp_path):
        r = _cli("comprobar", str(PROFESOR / "tarea_01_atencion.ipynb"), str(PROFESOR / "tarea_02_multihead.ipynb"),
                 "--cache", str(tmp_path / "cache"), "--json", str(tmp_path / "r.json"))
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout.count("🎉 ¡Tarea completa!") == 2 and "Nota: 10/10 puntos." in r.stdout
        datos = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
        assert [d["puntos"] for d in datos] == [10, 10]
        # Con la caché, calificar un solo ejercicio no vuelve a ejecutar el cuaderno.
        assert len(list((tmp_path / "cache").glob("*.json"))) == 2
        r = _cli("comprobar", str(PROFESOR / "tarea_01_atencion.ipynb"), "--ejercicio", "mascara_causal",
                 "--cache", str(tmp_path / "cache"))
        assert r.returncode == 0 and "Ejercicio mascara_causal: 3/3 puntos." in r.stdout

    @necesita_datos
    def test_versiones_del_estudiante_sin_resolver(self):
        rutas = [str(ESTUDIANTE / f"{id_}.ipynb") for id_ in TAREAS]
        r = _cli("comprobar", *rutas)
        assert r.returncode == 1, r.stdout + r.stderr
        assert r.stdout.count("Nota: 0/10 puntos.") == 3
        assert r.stdout.count("SIN RESOLVER") == 7
        assert "Traceback" not in r.stdout + r.stderr

    def test_cuaderno_equivocado(self, tmp_path):
        nb = nbformat.read(ESTUDIANTE / "tarea_01_atencion.ipynb", as_version=4)
        for celda in nb.cells:
            if celda.source.startswith("def scaled_dot_product_attention"):
                celda.source = (INCORRECTAS / "atencion_sin_escala.py").read_text(encoding="utf-8")
            if celda.source.startswith("def causal_mask"):
                celda.source = "def causal_mask(T):\n    return torch.ones(T, T, dtype=torch.bool).tril()\n"
        nb.cells.insert(3, nbformat.v4.new_code_cell("1 / 0"))
        ruta = tmp_path / "tarea_01_atencion.ipynb"
        nbformat.write(nb, ruta)
        r = _cli("comprobar", str(ruta))
        assert r.returncode == 1, r.stdout + r.stderr
        assert "no divides las puntuaciones entre √d_k" in r.stdout
        assert "✅ causal_mask: CORRECTO" in r.stdout and "Nota: 3/10 puntos." in r.stdout
        assert "lanzó ZeroDivisionError: division by zero" in r.stdout
        assert "Traceback" not in r.stdout + r.stderr
        r = _cli("comprobar", str(ruta), "--ejercicio", "mascara_causal")
        assert r.returncode == 0

    def test_cuadernos_que_no_se_pueden_ejecutar(self, tmp_path):
        roto = tmp_path / "tarea_01_atencion.ipynb"
        roto.write_text("{esto no es json", encoding="utf-8")
        r = _cli("comprobar", str(roto))
        assert r.returncode == 2 and "no es un cuaderno de Jupyter válido" in r.stdout
        r = _cli("comprobar", str(tmp_path / "no_existe.ipynb"), "--tarea", "tarea_01_atencion")
        assert r.returncode == 2 and "no existe" in r.stdout
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import time\ntime.sleep(60)")])
        lento = tmp_path / "lento" / "tarea_02_multihead.ipynb"
        lento.parent.mkdir()
        nbformat.write(nb, lento)
        r = _cli("comprobar", str(lento), "--tiempo-limite", "3")
        assert r.returncode == 2 and "se agotó el tiempo" in r.stdout
        assert "Traceback" not in r.stdout + r.stderr

    def test_ayuda_y_argumentos_en_espanol(self):
        r = _cli("comprobar", "--help")
        assert r.returncode == 0 and "uso:" in r.stdout and "opciones:" in r.stdout
        r = _cli("comprobar", "x.ipynb", "--ejercicio", "no_existe")
        assert r.returncode == 2 and "No conozco el ejercicio" in r.stderr


@necesita_datos
@pytest.mark.skipif(os.environ.get("TAREAS_SIN_ENTRENAR") == "1", reason="TAREAS_SIN_ENTRENAR=1")
class TestTarea3Solucion:
    """La solución de la tarea 3 entrena de verdad (~1 min en 2 núcleos)."""

    def test_solucion_tarea_3_de_principio_a_fin(self, tmp_path):
        r = _cli("comprobar", str(PROFESOR / "tarea_03_bloque_gpt.ipynb"), "--json", str(tmp_path / "r.json"))
        assert r.returncode == 0, r.stdout + r.stderr
        assert "🎉 ¡Tarea completa!" in r.stdout and "Pérdida de validación medida" in r.stdout
