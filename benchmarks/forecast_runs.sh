#!/usr/bin/env bash
# El pronóstico del capítulo 10 (issue 24), en dos pasos con un commit entre ellos:
#
#   bash benchmarks/forecast_runs.sh forecast   # escribe results/forecast_1e13.json: confírmalo en git
#   bash benchmarks/forecast_runs.sh verify     # entrena las tres formas (se reanuda si se corta)
#
# La verificación exige que el pronóstico esté confirmado tal cual y guarda su commit. Con una
# GPU: DEVICE=cuda bash benchmarks/forecast_runs.sh verify
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python}
case "${1:-}" in
  forecast)
    $PY -m transformer_lib forecast --from results/sweep_isoflop.json --budget 1e13 \
      --out results/forecast_1e13.json ;;
  verify)
    $PY -m transformer_lib forecast --verify results/forecast_1e13.json \
      --out results/forecast_1e13_verify.json --num-threads 1 ${DEVICE:+--device "$DEVICE"} ;;
  *) echo "Uso: bash benchmarks/forecast_runs.sh forecast|verify" >&2; exit 2 ;;
esac
