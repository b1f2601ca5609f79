#!/usr/bin/env bash
# Calibrates a model's post-processing thresholds on the TRAINING chips of the Rwanda block split
# (never on validation): one network pass per chip (six months averaged, as delineate runs), then
# `fieldseg calibrate --partial` over the grid below, pooled over all training chips.
#
# Usage: tools/rwanda/calibrate_train.sh CHIPDIR MODEL OUT.fsm [REPORT.json]
#   env T_EXT, T_BOUND, T_DIST, MARKER_H, MIN_AREA: the grid axes (defaults below).
#   env PROBS=DIR: use the saved training-chip probabilities DIR/<chip>.tif (score.sh's prob/) instead
#   of running the network again.
set -euo pipefail
chipdir=${1:?usage: calibrate_train.sh CHIPDIR MODEL OUT.fsm [REPORT.json]}
model=${2:?usage}
outm=${3:?usage}
report=${4:-${outm%.fsm}.calibration.json}
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/tools/find_fieldseg.sh"
fs=$(find_fieldseg "${FIELDSEG:-}") || exit 1
PY=python3; [[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
probs=${PROBS:-$work/prob}
[[ -n ${PROBS:-} ]] || SPLIT=train "$here/tools/rwanda/score.sh" "$chipdir" "$work" "$model" >/dev/null
split=$here/configs/splits/rwanda_blocks.json
mapfile -t chips < <("$PY" -c "import json;print('\n'.join(json.load(open('$split'))['train']))")
args=()
for c in "${chips[@]}"; do args+=(--probabilities-in "$probs/$c.tif"); done
for c in "${chips[@]}"; do args+=(--truth "$chipdir/fields/chip_$c.geojson"); done
"$fs" calibrate --model "$model" "${args[@]}" --partial --threads 2 \
  --t-ext "${T_EXT:-0.4,0.5}" --t-bound "${T_BOUND:-0.2,0.3,0.5}" \
  --t-dist "${T_DIST:-0,0.1,0.2}" --marker-h "${MARKER_H:-0.05,0.075,0.1,0.15}" --min-area-m2 "${MIN_AREA:-100,400,1000}" \
  --out "$outm" --report "$report" --overwrite
