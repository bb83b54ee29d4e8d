# Makefile del curso «Transformers II: Arquitectura y Escalado».
#
#   make book      crea el entorno si hace falta, ejecuta los cuadernos y construye el
#                  sitio en _build/html/ (abre _build/html/index.html).
#   make test      lint (ruff y actionlint) + pruebas unitarias + nbval sobre todos los
#                  cuadernos (los capítulos, en un entorno de estudiante como el de Colab)
#                  + higiene + libro con avisos como errores + el sitio en Chromium sin
#                  red + la calificación de Classroom emulada.
#   make site-check     solo la prueba del sitio en Chromium (tras make book).
#   make student-env    solo nbval sobre los capítulos en el entorno de estudiante.
#   make classroom      solo la calificación de Classroom emulada.
#   make test-gpu  nbval exigiendo GPU: las celdas `requires-gpu` se ejecutan y, si no
#                  hay GPU CUDA, fallan en lugar de saltarse.
#   make clean     borra _build/ y las cachés (no toca el entorno virtual).
#   make distclean además borra el entorno virtual .venv/.

SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

# ---------------------------------------------------------------------------------------
# Entorno virtual: se crea si falta y se reinstala cuando cambian pyproject.toml o
# constraints.txt (el sello .venv/.installed es más antiguo que ellos).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed

# Construcción del libro y cachés.
BUILD       := _build
CACHE_NB    := $(BUILD)/.jupyter_cache
DOCTREES    := $(BUILD)/.doctrees
HASH_LIB    := $(CACHE_NB)/hash-transformer_lib.txt
HASH_EXT    := $(BUILD)/.hash-extensiones

# Pruebas.
JOBS         ?= 2
CELL_TIMEOUT ?= 180
PYTEST_ARGS  ?=
# Todos los cuadernos del repositorio (capítulos, tareas, soluciones del profesor…) que
# git no ignora; nunca las copias de _build/ ni los de .venv. Sin git, se buscan con find.
NOTEBOOKS = $(sort $(wildcard $(shell { git ls-files -co --exclude-standard -- '*.ipynb' 2>/dev/null \
              || find . -name '*.ipynb' -not -path './_build/*' -not -path './.*' -not -path '*/.ipynb_checkpoints/*'; } \
              | grep -v -e '^_build/' -e '/\.ipynb_checkpoints/' )))

# ---------------------------------------------------------------------------------------
# Variables de entorno para los cuadernos y las pruebas.
# Datos del curso: ../shared/data si existe (en el repositorio nunca hay una copia).
# En otro sitio, exporta TRANSFORMER_LIB_DATA o deja que load_quijote() lo descargue.
ifneq ($(wildcard ../shared/data),)
TRANSFORMER_LIB_DATA ?= $(abspath ../shared/data)
endif
ifneq ($(strip $(TRANSFORMER_LIB_DATA)),)
export TRANSFORMER_LIB_DATA
endif
# Un hilo de PyTorch por proceso: las pruebas y los cuadernos se ejecutan de dos en dos
# (JOBS=2) y, con 2 hilos cada uno en 2 núcleos, los modelos pequeños se vuelven decenas de
# veces más lentos por la competencia entre hilos. Cámbialo con OMP_NUM_THREADS=N make ...
export OMP_NUM_THREADS ?= 1
# Barras de progreso calladas (en el HTML y en los registros de CI).
export TQDM_DISABLE ?= 1
# Menos ruido en stderr de los núcleos de Jupyter (aviso de «frozen modules» y de rutas).
export PYDEVD_DISABLE_FILE_VALIDATION ?= 1
export JUPYTER_PLATFORM_DIRS ?= 1
# Que Python guarde los .pyc al importar (en .venv, _build/ y los __pycache__/ que git ignora):
# uv no los escribe al instalar y, si el sistema define PYTHONDONTWRITEBYTECODE (estas máquinas
# y CI), cada proceso volvería a compilar torch (import transformer_lib: 3,4 s en vez de 1,8 s).
unexport PYTHONDONTWRITEBYTECODE
# OJO: MPLBACKEND=Agg solo para las pruebas unitarias. En un núcleo de Jupyter anularía
# el backend «inline» y las figuras desaparecerían del libro.

.PHONY: help venv book test lint unit procesos nbval hygiene book-check html-check test-gpu \
        clean distclean caches vendor workflows site-check student-env classroom editions

help:
	@echo "Objetivos:"
	@echo "  make book      construye el libro en _build/html/ (crea .venv si falta)"
	@echo "  make test      lint, pruebas, nbval, higiene, libro con -W, navegador, estudiante"
	@echo "  make site-check / student-env / classroom   cada prueba del sitio por separado"
	@echo "  make editions  las ediciones para Colab en _build/colab/ (tras make book)"
	@echo "  make test-gpu  nbval con las celdas requires-gpu obligatorias"
	@echo "  make clean     borra _build/ y cachés"
	@echo "Variables: JOBS=$(JOBS) CELL_TIMEOUT=$(CELL_TIMEOUT) TRANSFORMER_LIB_DATA=$(TRANSFORMER_LIB_DATA)"

# ---------------------------------------------------------------------------------------
# Entorno
venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt tools/requirements.txt tools/uv_install.py
	@test -x $(PY) || { echo ">> Creando el entorno virtual $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo ">> Instalando transformer_lib y las dependencias del libro y de las pruebas (con uv)"
	$(PY) -m pip install --disable-pip-version-check -q "$$($(PYTHON) -c 'from tools.uv_install import UV_REQUIREMENT as r; print(r)')"
	$(PY) -m tools.uv_install --python $(PY) -- -c constraints.txt -e ".[book,notebooks,test]" \
	  -r tools/requirements.txt
	@# Los .pyc de lo que importan casi todos los procesos, una vez (uv no los escribe): si no,
	@# los primeros procesos de las pruebas, a la vez, compilarían torch cada uno.
	$(PY) -c "import transformer_lib.scaling, transformer_lib.tareas.grader, nbclient, matplotlib.pyplot"
	@touch $@

# Jupyter Book solo vuelve a ejecutar un cuaderno si cambia su código: no se entera de
# los cambios en transformer_lib. Guardamos un hash del paquete (y de constraints.txt)
# DENTRO de la caché de ejecución (así viaja con ella si CI la restaura) y, si no
# coincide, borramos la caché y los doctrees (para que Sphinx vuelva a leer los
# cuadernos). Los cambios en _ext/ (extensión local de Sphinx) solo obligan a releer.
caches:
	@h=$$( { find transformer_lib -name '*.py' -not -path '*/__pycache__/*' -print0 \
	          | LC_ALL=C sort -z | xargs -0 sha256sum; sha256sum constraints.txt; } | sha256sum | cut -c1-64); \
	if [ "$$(cat $(HASH_LIB) 2>/dev/null)" != "$$h" ]; then \
	  if [ -d $(CACHE_NB) ]; then echo ">> transformer_lib ha cambiado: se vuelven a ejecutar los cuadernos"; fi; \
	  rm -rf $(CACHE_NB) $(DOCTREES); mkdir -p $(CACHE_NB); echo "$$h" > $(HASH_LIB); \
	fi
	@h=$$(cat _ext/*.py 2>/dev/null | sha256sum | cut -c1-64); \
	if [ "$$(cat $(HASH_EXT) 2>/dev/null)" != "$$h" ]; then \
	  rm -rf $(DOCTREES); mkdir -p $(BUILD); echo "$$h" > $(HASH_EXT); \
	fi

# ---------------------------------------------------------------------------------------
# Libro
# MathJax, require.js y el gestor de widgets, fijados y comprobados, en _build/vendor/
# (npm pack la primera vez; después, de su caché). El sitio no carga nada de un CDN.
vendor: $(STAMP)
	@echo ">> Recursos del sitio servidos por el propio libro (tools/vendor_assets.py)"
	$(PY) -m tools.vendor_assets

book: $(STAMP) caches vendor
	@echo ">> Ejecutando los cuadernos que no estén en la caché ($(JOBS) en paralelo)"
	$(PY) -m tools.execute_notebooks --jobs $(JOBS)
	@echo ">> Construyendo el libro"
	$(BIN)/jupyter-book build . --keep-going
	$(MAKE) --no-print-directory editions
	@echo ">> Listo: abre $(BUILD)/html/index.html"

# ---------------------------------------------------------------------------------------
# Pruebas
# Pasos de `make test`, en este orden; al final se imprime lo que tardó cada uno (también
# en $(TIMES)). student-env va antes que book-check: el libro toma las salidas de los
# capítulos que nbval acaba de ejecutar en el entorno de estudiante (tools/execute_notebooks.py
# --from), así que cada capítulo se ejecuta una vez y cada tarea dos (nbval y Classroom).
# Un grupo «a+b,c» ejecuta a la vez dos carriles, «a» y «b» seguido de «c» (su salida se
# imprime al acabar, carril a carril): Classroom usa el entorno de estudiante y el libro, el
# sitio y Chromium, .venv; ninguno llena los dos núcleos todo el tiempo (el libro usa uno), como
# nbval y las pruebas de varios procesos.
TEST_STEPS := venv lint workflows hygiene unit procesos+nbval student-env \
              classroom+book-check,html-check,site-check
TIMES      := $(BUILD)/tiempos-make-test.txt

test:
	@mkdir -p $(BUILD); : > $(TIMES); rm -f $(TIMES).* $(BUILD)/paso-*.log; status=0; \
	for group in $(TEST_STEPS); do \
	  start=$$(date +%s); \
	  if [[ $$group != *+* ]]; then \
	    $(MAKE) --no-print-directory $$group || { status=$$?; failed=$$group; }; \
	    echo "$$group $$(( $$(date +%s) - start ))" >> $(TIMES); \
	  else \
	    lanes=$${group//+/ }; lane_no=0; pids=; \
	    for lane in $$lanes; do \
	      lane_no=$$((lane_no + 1)); \
	      ( for step in $${lane//,/ }; do \
	          s=$$(date +%s); mark=a-la-vez; \
	          $(MAKE) --no-print-directory $$step > $(BUILD)/paso-$$step.log 2>&1 || mark=FALLA; \
	          echo "$$step $$(( $$(date +%s) - s )) $$mark" >> $(TIMES).$$lane_no; \
	          [ $$mark != FALLA ] || exit 1; \
	        done ) & pids="$$pids $$!"; \
	    done; \
	    for pid in $$pids; do wait $$pid || status=1; done; \
	    for step in $${group//[+,]/ }; do \
	      if [ -f $(BUILD)/paso-$$step.log ]; then cat $(BUILD)/paso-$$step.log; fi; \
	    done; \
	    cat $(TIMES).* >> $(TIMES); rm -f $(TIMES).*; \
	    echo "a-la-vez:$$group $$(( $$(date +%s) - start ))" >> $(TIMES); \
	    failed=$$(awk '$$3 == "FALLA" { printf "%s ", $$1 }' $(TIMES)); \
	  fi; \
	  [ $$status -eq 0 ] || break; \
	done; \
	echo ">> Tiempo de cada paso de make test (segundos; * = a la vez que otro carril, cuenta su grupo):"; \
	awk '$$3 == "" { printf "   %-12s %5d\n", $$1, $$2; t += $$2 } \
	     $$3 != "" { printf "   %-12s %5d *%s\n", $$1, $$2, ($$3 == "FALLA" ? " falla" : "") } \
	     END { printf "   %-12s %5d\n", "total", t }' $(TIMES); \
	if [ $$status -ne 0 ]; then echo ">> make test: falla el paso $$failed"; exit $$status; fi; \
	echo ">> make test: todo en orden"

lint: $(STAMP)
	@echo ">> ruff (código y cuadernos)"
	$(BIN)/ruff check .

# actionlint sobre los flujos de GitHub y los de Classroom que genera transformer_lib.
workflows: $(STAMP)
	@echo ">> actionlint (.github/workflows y .github/classroom)"
	$(BIN)/actionlint .github/workflows/*.yml .github/classroom/*.yml

hygiene: $(STAMP)
	@echo ">> Higiene de los cuadernos (sin salidas, celda de Colab, etiquetas…)"
	$(PY) -m tools.check_notebooks

# Las pruebas que lanzan varios procesos que se esperan entre sí (marca `procesos`: torchrun,
# gloo) van aparte (make procesos) y de una en una: junto a las demás, en dos núcleos, cada una
# tardaba tres veces más. make test las ejecuta a la vez que nbval, que casi todo el tiempo
# tiene un solo cuaderno largo (la solución de la tarea 3).
unit: $(STAMP)
	@echo ">> Pruebas unitarias"
	MPLBACKEND=Agg $(PY) -m pytest tests -n $(JOBS) -m "not procesos" $(PYTEST_ARGS)

procesos: $(STAMP)
	@echo ">> Pruebas unitarias con varios procesos, de una en una"
	MPLBACKEND=Agg $(PY) -m pytest tests -m procesos $(PYTEST_ARGS)

# nbval ejecuta cada cuaderno en su propio núcleo y compara solo las celdas marcadas con
# `# NBVAL_CHECK_OUTPUT` (--nbval-lax). --dist loadscope mantiene juntas las celdas de un
# mismo cuaderno. Las celdas `requires-gpu` se saltan sin GPU (ver conftest.py).
NBVAL = $(PY) -m pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=$(CELL_TIMEOUT) \
        -n $(JOBS) --dist loadscope -p no:cacheprovider $(PYTEST_ARGS)

# Los cuadernos más lentos empiezan primero (nbval, el entorno de estudiante y Classroom los
# ejecutan de dos en dos: si el último en empezar es largo, el paso se alarga con un proceso
# parado). Solo cambia el orden; --no-loadscope-reorder hace que xdist lo respete.
SLOW_FIRST := 10_idea_clave tarea_03_bloque_gpt 07_encoder_decoder 04_layernorm \
              09b_leyes_de_escalado 09a_paralelismo_de_datos 08_mascara_causal
SLOW_PATTERNS = $(foreach name,$(SLOW_FIRST),%/$(name).ipynb)
# Los capítulos (chapters/*.ipynb) los ejecuta nbval en el entorno de estudiante (make
# student-env, sobre su edición para Colab); aquí, el resto: las tareas y sus soluciones.
CHAPTERS = $(filter-out chapters/tareas/%,$(filter chapters/%,$(NOTEBOOKS)))
NBVAL_NOTEBOOKS = $(filter-out $(CHAPTERS),$(NOTEBOOKS))
NBVAL_ORDER = $(foreach pattern,$(SLOW_PATTERNS),$(filter $(pattern),$(NBVAL_NOTEBOOKS))) \
              $(filter-out $(SLOW_PATTERNS),$(NBVAL_NOTEBOOKS))

nbval: $(STAMP)
	@if [ -z "$(strip $(NBVAL_NOTEBOOKS))" ]; then echo "No hay cuadernos que validar."; exit 1; fi
	@echo ">> nbval sobre $(words $(NBVAL_NOTEBOOKS)) cuadernos (los $(words $(CHAPTERS)) capítulos, en make student-env)"
	$(NBVAL) --no-loadscope-reorder $(NBVAL_ORDER)

test-gpu: $(STAMP)
	@echo ">> nbval con GPU obligatoria (REQUIRE_GPU=1)"
	REQUIRE_GPU=1 $(NBVAL) $(NOTEBOOKS)

# El libro con avisos como errores: un cuaderno que falla, una referencia rota o una
# cita inexistente hacen fallar `make test`. Los capítulos que el entorno de estudiante
# acaba de ejecutar enteros (con este mismo transformer_lib) no se ejecutan otra vez: sus
# salidas pasan a la caché del libro; los demás se ejecutan aquí.
book-check: $(STAMP) caches vendor
	$(PY) -m tools.execute_notebooks --jobs $(JOBS) --from $(BUILD)/student-env/executed
	@echo ">> Construyendo el libro con -W (avisos = errores)"
	$(BIN)/jupyter-book build . -W --keep-going
	$(MAKE) --no-print-directory editions EDITIONS_RAN=$(BUILD)/student-env/executed

# La edición para Colab y Jupyter de cada cuaderno (segundos): sin MyST en la prosa, con las
# cifras escritas; comprueba también el botón de Colab de cada página. Sale del borrador de
# $(BUILD)/colab-draft/ (lo que ejecuta student-env) con solo las cifras sustituidas, leídas
# de la caché de ejecución o, con EDITIONS_RAN (book-check), de las copias que ejecutó el
# entorno de estudiante, que deben ser esos mismos borradores. El flujo del libro la publica
# en la rama colab_branch de _config.yml.
EDITIONS_RAN ?=
editions: $(STAMP)
	@echo ">> Ediciones para Colab y Jupyter en $(BUILD)/colab/ (tools/build_editions.py)"
	$(PY) -m tools.build_editions --out $(BUILD)/colab --html $(BUILD)/html \
	  $(if $(EDITIONS_RAN),--ran $(EDITIONS_RAN))

html-check: $(STAMP)
	@echo ">> HTML: textos de la interfaz en inglés y referencias externas"
	$(PY) -m tools.check_html $(BUILD)/html

# El sitio servido en 127.0.0.1 y abierto en Chromium sin red: fórmulas compuestas, sin
# errores de consola, enlaces, lang="es", Colab, soluciones plegadas, widgets. Después, cada
# edición de $(BUILD)/colab convertida a HTML con nbconvert: sin MyST, fórmulas compuestas.
# Capturas en _build/screenshots/ (las ediciones, en colab/). Sin Chromium se salta con un
# aviso (con CI=true, falla).
site-check: $(STAMP)
	@echo ">> El sitio y las ediciones para Colab en Chromium (tools/browser_check.py)"
	$(PY) -m tools.browser_check $(BUILD)/html --jobs $(JOBS) --screenshots $(BUILD)/screenshots \
	  --editions $(BUILD)/colab

# nbval sobre la edición para Colab de cada capítulo (su borrador, sin las cifras) en un entorno
# nuevo con solo torch, lo que Colab trae y lo que instala su celda de Colab (la rueda local),
# con los dos hilos de Colab: es la ejecución de nbval de los capítulos, y sus salidas van al
# libro (tools/nbval_record.py). El entorno base se guarda en _build/student-env/.
student-env: $(STAMP)
	@echo ">> nbval sobre los capítulos en el entorno de estudiante (tools/student_env.py)"
	$(PY) -m tools.student_env --jobs $(JOBS) --first "$(SLOW_FIRST)" $(CHAPTERS)

# Las órdenes de cada flujo de .github/classroom/ sobre la solución (todos los puntos) y
# sobre el cuaderno sin resolver (ningún punto).
classroom: $(STAMP)
	@echo ">> Calificación de Classroom emulada (tools/classroom_check.py)"
	$(PY) -m tools.classroom_check --jobs $(JOBS) --first "$(SLOW_FIRST)"

# ---------------------------------------------------------------------------------------
clean:
	rm -rf $(BUILD) .pytest_cache .ruff_cache .hypothesis
	find . -name '__pycache__' -type d -not -path './$(VENV)/*' -prune -exec rm -rf {} +
	find . -name '.ipynb_checkpoints' -type d -not -path './$(VENV)/*' -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info
