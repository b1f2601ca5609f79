#!/usr/bin/env bash
# Scores a model (or saved probabilities) on one split of the Rwanda block split, the way users run
# it: `fieldseg delineate` per chip over the chosen months (dates averaged), then one pooled
# `fieldseg evaluate --partial` of all chips' fields against all the split's labelled fields.
#
# Usage: tools/rwanda/score.sh CHIPDIR OUTDIR MODEL|probs:DIR [DELINEATE_ARGS...]
#   CHIPDIR  what tools/rwanda/make_chips.sh wrote (vrt/, fields/)
#   MODEL    a .fsm: runs the network and keeps OUTDIR/prob/<chip>.tif
#   probs:DIR  re-runs only the post-processing on DIR/<chip>.tif (probabilities of an earlier run)
#   skimage:DIR  the independent skimage watershed (skimage_instances.py, ARGS go to it) on DIR
#   env SPLIT=val|train (default val), MONTHS="2021_08" (default all six), FIELDSEG (binary)
# Writes OUTDIR/pred/<chip>.geojson, OUTDIR/pred_all.geojson, OUTDIR/eval.json; prints one line.
set -euo pipefail
chipdir=${1:?usage: score.sh CHIPDIR OUTDIR MODEL|probs:DIR [ARGS...]}
out=${2:?usage}
what=${3:?usage}
shift 3
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/tools/find_fieldseg.sh"
fs=$(find_fieldseg "${FIELDSEG:-}") || exit 1
PY=python3; [[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3
split=$here/configs/splits/rwanda_blocks.json
key=validation; [[ ${SPLIT:-val} == train ]] && key=train
mapfile -t chips < <("$PY" -c "import json;print('\n'.join(json.load(open('$split'))['$key']))")
read -r -a months <<<"${MONTHS:-$("$PY" -c "import json;print(' '.join(json.load(open('$split'))['months']))")}"
mkdir -p "$out/pred" "$out/prob"
for c in "${chips[@]}"; do
  if [[ $what == skimage:* ]]; then
    "$PY" "$here/tools/rwanda/skimage_instances.py" "${what#skimage:}/$c.tif" "$out/pred/$c.geojson" "$@"
  elif [[ $what == probs:* ]]; then
    "$fs" -q delineate --probabilities-in "${what#probs:}/$c.tif" --out "$out/pred/$c.geojson" \
      --overwrite "$@"
  else
    imgs=()
    for m in "${months[@]}"; do imgs+=("$chipdir/vrt/rw${c}_$m.vrt"); done
    "$fs" -q delineate "${imgs[@]}" --model "$what" --out "$out/pred/$c.geojson" \
      --probabilities "$out/prob/$c.tif" --overwrite "$@"
  fi
done
files=()
for c in "${chips[@]}"; do files+=("$out/pred/$c.geojson"); done
"$PY" "$here/tools/rwanda/merge_geojson.py" "$out/pred_all.geojson" "${files[@]}"
truth=$chipdir/${SPLIT:-val}_fields.geojson
"$fs" -q evaluate --pred "$out/pred_all.geojson" --truth "$truth" --partial --json >"$out/eval.json"
"$PY" "$here/tools/rwanda/table_row.py" "$out/eval.json" "$what ${SPLIT:-val} ${MONTHS:-6 months} $*"
