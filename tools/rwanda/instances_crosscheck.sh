#!/usr/bin/env bash
# fieldseg's instances vs an independent marker-controlled watershed (skimage_instances.py) on the
# same real probability maps: MODEL delineates each chip (all six months averaged, card thresholds)
# and keeps its probabilities; the skimage watershed runs on those; both are scored pooled over the
# chips with `fieldseg evaluate --partial`. Prints {"fieldseg": {...}, "skimage": {...}} (JSON).
#
# Usage: tools/rwanda/instances_crosscheck.sh MODEL OUTDIR CHIP... (e.g. 17 29 42 54)
#   env REALDATA (default ../shared/realdata), FIELDSEG (binary)
set -euo pipefail
model=${1:?usage: instances_crosscheck.sh MODEL OUTDIR CHIP...}
out=${2:?usage}
shift 2
(($#)) || { echo "instances_crosscheck: name at least one chip" >&2; exit 2; }
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/tools/find_fieldseg.sh"
fs=$(find_fieldseg "${FIELDSEG:-}") || exit 1
PY=python3; [[ -x /usr/bin/python3 ]] && PY=/usr/bin/python3
data=${REALDATA:-$here/../shared/realdata}/rwanda_competition
mkdir -p "$out"
for c in "$@"; do
  dates=()
  for d in "$data"/source_train/*_source_train_"${c}"_2021_*; do
    dates+=("$d/B01.tif,$d/B02.tif,$d/B03.tif,$d/B04.tif")
  done
  "$fs" -q delineate "${dates[@]}" --model "$model" --out "$out/fs_$c.geojson" \
    --probabilities "$out/prob_$c.tif" --overwrite
  "$PY" "$here/tools/rwanda/skimage_instances.py" "$out/prob_$c.tif" "$out/sk_$c.geojson"
done
fs_files=() sk_files=() truth_files=()
for c in "$@"; do
  fs_files+=("$out/fs_$c.geojson") sk_files+=("$out/sk_$c.geojson")
  truth_files+=("$data/fields/chip_$c.geojson")
done
"$PY" "$here/tools/rwanda/merge_geojson.py" "$out/fs_all.geojson" "${fs_files[@]}"
"$PY" "$here/tools/rwanda/merge_geojson.py" "$out/sk_all.geojson" "${sk_files[@]}"
"$PY" "$here/tools/rwanda/merge_geojson.py" "$out/truth.geojson" "${truth_files[@]}"
"$fs" -q evaluate --pred "$out/fs_all.geojson" --truth "$out/truth.geojson" --partial --json \
  --no-boundary >"$out/fs_eval.json"
"$fs" -q evaluate --pred "$out/sk_all.geojson" --truth "$out/truth.geojson" --partial --json \
  --no-boundary >"$out/sk_eval.json"
"$PY" -c "
import json, sys
r = {k: json.load(open(f'$out/{p}_eval.json')) for k, p in (('fieldseg', 'fs'), ('skimage', 'sk'))}
print(json.dumps({k: {'median_iou': v['field_iou']['median'], 'mean_iou': v['field_iou']['mean'],
                      'object_f1': v['objects']['f1'], 'pq': v['objects']['panoptic_quality'],
                      'fields': v['scored_fields'], 'pred': v['pred_fields']} for k, v in r.items()}))
"
