#!/usr/bin/env bash
# La comprobación en GPU de un tirón (issue 27), desde una copia nueva del repositorio:
#
#   tools/gpu_check.sh              en una máquina con GPU CUDA (menos de 8 min en una H100/H200)
#   tools/gpu_check.sh --dry-run    lo mismo en CPU, con todos los tamaños al mínimo (lo prueba make test)
#
# 1. Crea el entorno en _build/gpu-env con el torch CUDA que resuelva el pip de la máquina: sin
#    la versión CPU fijada en constraints.txt (el resto de versiones sí se respetan). Si el
#    Python de la máquina ya trae un torch con CUDA (Colab, imágenes de NVIDIA…), el entorno lo
#    hereda (--system-site-packages) en vez de descargar otro. Si el entorno ya existe y está al
#    día, se reutiliza (para repetir la comprobación en pocos minutos).
# 2. Ejecuta `python -m tools.gpu_check` con ese entorno: make test-gpu, las mitades CUDA de los
#    benchmarks de entrenamiento y de caché KV, DDP con nccl si hay varias GPU y la verificación
#    del pronóstico. Escribe results/gpu/<gpu>.json.
#
# Opciones propias: --dry-run, --env CARPETA (el entorno; por defecto _build/gpu-env),
# --python PYTHON (usa ese intérprete tal cual, sin crear nada). Las demás opciones pasan a
# tools/gpu_check.py (python -m tools.gpu_check --help). Sin red, apunta pip a tus ruedas con
# PIP_FIND_LINKS=CARPETA PIP_NO_INDEX=1. Los datos: TRANSFORMER_LIB_DATA (o ../shared/data).
set -euo pipefail
cd "$(dirname "$0")/.."
STARTED_AT=$(date +%s.%N)

DRY_RUN=0
ENV_DIR=_build/gpu-env
PY=""
BASE_PYTHON=${PYTHON:-python3}
PASS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1; PASS+=("$1") ;;
    --env) ENV_DIR=${2:?"--env necesita una carpeta"}; shift ;;
    --python) PY=${2:?"--python necesita un intérprete"}; shift ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) PASS+=("$1") ;;
  esac
  shift
done

if [ -z "${TRANSFORMER_LIB_DATA:-}" ] && [ -d ../shared/data ]; then
  TRANSFORMER_LIB_DATA=$(cd ../shared/data && pwd)
  export TRANSFORMER_LIB_DATA
fi

# Las restricciones de constraints.txt sin la línea de torch (allí está la versión CPU).
constraints_without_torch() {
  grep -v -E '^torch==' constraints.txt > "$1"
}

MODE=existente
if [ -n "$PY" ]; then
  MODE="intérprete dado ($PY)"
elif [ "$DRY_RUN" = 1 ]; then
  # En CPU no se crea nada: el entorno de desarrollo (o el Python actual).
  PY=.venv/bin/python
  [ -x "$PY" ] || PY=$BASE_PYTHON
  mkdir -p _build/gpu-check
  constraints_without_torch _build/gpu-check/constraints-gpu.txt
  MODE="dry-run: sin crear entorno ($PY)"
else
  PY=$ENV_DIR/bin/python
  STAMP=$ENV_DIR/.installed
  if [ -x "$PY" ] && [ -f "$STAMP" ] && [ "$STAMP" -nt pyproject.toml ] && [ "$STAMP" -nt constraints.txt ]; then
    MODE="reutilizado ($ENV_DIR)"
  else
    rm -rf "$ENV_DIR"
    mkdir -p "$(dirname "$ENV_DIR")"
    if "$BASE_PYTHON" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
      echo ">> El Python de la máquina ya trae torch con CUDA: el entorno lo hereda"
      "$BASE_PYTHON" -m venv --system-site-packages "$ENV_DIR"
      MODE="venv --system-site-packages (torch de la máquina)"
    else
      echo ">> Entorno nuevo en $ENV_DIR: torch lo elige pip (la rueda CUDA de esta máquina)"
      "$BASE_PYTHON" -m venv "$ENV_DIR"
      MODE="venv nuevo (torch de pip)"
    fi
    constraints_without_torch "$ENV_DIR/constraints-gpu.txt"
    # Lo que necesitan los cuadernos y make test-gpu, no todo .[test] (ruff, hypothesis…): menos que bajar.
    "$PY" -m pip install --disable-pip-version-check -q -c "$ENV_DIR/constraints-gpu.txt" -e ".[notebooks]" \
      pytest pytest-xdist nbval ipykernel
    touch "$STAMP"
  fi
  if ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    "$PY" -c 'import torch; print(f"torch {torch.__version__} (CUDA {torch.version.cuda})")' || true
    echo "ERROR: el torch de $ENV_DIR no ve ninguna GPU CUDA. ¿Hay GPU y controlador (nvidia-smi)?" \
         "Prueba el guion en CPU con --dry-run." >&2
    exit 2
  fi
fi
ENV_SECONDS=$(awk -v a="$STARTED_AT" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo ">> Entorno: $MODE, listo en $ENV_SECONDS s"

exec "$PY" -m tools.gpu_check --python "$PY" --started-at "$STARTED_AT" --env-seconds "$ENV_SECONDS" \
  --env-mode "$MODE" ${PASS[@]+"${PASS[@]}"}
