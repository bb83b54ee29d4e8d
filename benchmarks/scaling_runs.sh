#!/usr/bin/env bash
# Las rejillas de escalado de los capítulos 9b y 10 (issues 23 y 24), en el orden en que se
# entrenaron. Cada orden usa el motor reanudable: si se interrumpe, repetirla continúa donde se
# quedó. Dos cadenas independientes, una por núcleo (cada entrenamiento con 1 hilo):
#
#   bash benchmarks/scaling_runs.sh A   # tasas por tamaño → IsoFLOP principal
#   bash benchmarks/scaling_runs.sh B   # IsoFLOP con una tasa → con calendario fijo
#   bash benchmarks/scaling_runs.sh L   # la LSTM: tasas por tamaño → 2 semillas con la tasa ajustada
#   bash benchmarks/scaling_runs.sh T   # el GPT del barrido de tamaños con la regla de tasas de A
#   bash benchmarks/scaling_runs.sh E   # un presupuesto más, 3e12, para que a abarque 1,5 décadas
#
# Las rejillas 3 y 4 se entrenaron con la familia IsoFLOP de entonces (sin L1-d8, que se añadió
# después para que el presupuesto 3e10 de la principal tuviese su mínimo dentro).
#
# El pronóstico y su verificación (capítulo 10) van aparte: ver benchmarks/forecast_runs.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python}
SWEEP="$PY -m transformer_lib sweep --num-threads 1"

chain_a() {
  # 1. Barrido de tasas en un presupuesto (3e11 FLOPs): cada tamaño con 5 tasas.
  $SWEEP --grid isoflop --budgets 3e11 --lrs 1e-3,2e-3,4e-3,8e-3,1.6e-2 --seeds 1337 \
    --out results/sweep_lr.json
  # 2. El IsoFLOP principal: 3e10 → 1e12 FLOPs reales, una tasa por tamaño, 2 semillas.
  $SWEEP --grid isoflop --lr-from results/sweep_lr.json --out results/sweep_isoflop.json
}

chain_b() {
  # 3. El mismo IsoFLOP con una sola tasa (la de la receta, 1e-3) para todos los tamaños.
  $SWEEP --grid isoflop --seeds 1337 --out results/sweep_isoflop_lr1e-3.json
  # 4. Con una tasa y además un solo calendario (el de la ejecución más larga), como Kaplan.
  $SWEEP --grid isoflop --seeds 1337 --schedule fixed --out results/sweep_isoflop_fixed.json
}

chain_l() {
  # 5. La LSTM de referencia: 5 tamaños × 3 tasas con la receta de L(N) (2000 pasos)…
  local lstm="2,1,40;2,1,80;2,1,145;2,1,222;2,1,333"
  $SWEEP --grid size --arch lstm --sizes "$lstm" --lrs 1e-3,3e-3,1e-2 --seeds 1337 \
    --out results/sweep_lstm_lr.json
  # 6. …y dos semillas con la tasa de la regla lr(N) ajustada a ese barrido.
  $SWEEP --grid size --arch lstm --sizes "$lstm" --lr-from results/sweep_lstm_lr.json --seeds 1337,1338 \
    --out results/sweep_lstm.json
}

chain_t() {
  # 7. Para comparar con la LSTM en igualdad: el barrido de tamaños del GPT (2000 pasos) con una
  #    tasa por tamaño, la regla lr(N) del barrido de tasas de la cadena A.
  $SWEEP --grid size --lr-from results/sweep_lr.json --seeds 1337,1338 --out results/sweep_size_tuned.json
}

chain_e() {
  # 8. En la rejilla principal, el presupuesto 3e10 no tiene un mínimo claro: un presupuesto más,
  #    3e12, con la misma regla de tasas y 2 semillas, para ajustar a de 1e11 a 3e12.
  $SWEEP --grid isoflop --budgets 3e12 --lr-from results/sweep_lr.json --out results/sweep_isoflop_3e12.json
}

case "${1:-}" in
  A) chain_a ;;
  B) chain_b ;;
  L) chain_l ;;
  T) chain_t ;;
  E) chain_e ;;
  *) echo "Uso: bash benchmarks/scaling_runs.sh A|B|L|T|E" >&2; exit 2 ;;
esac
