#!/usr/bin/env bash
# fieldseg's instances vs an independent marker-controlled watershed (skimage_instances.py) on the
# same real probability maps: MODEL delineates each chip (all six months averaged, card thresholds)
# and keeps its probabilities; the skimage watershed runs on those twice, with the parameters the
# two share taken from the card (t_ext, marker height h = marker_h, min area; sigma 1) and with
# skimage_instances.py's defaults (t_ext 0.4, h 0.1, min area 100 m2); all are scored pooled over
# the chips with `fieldseg evaluate --partial`. Prints {"fieldseg": {...}, "skimage": {...},
# "skimage_defaults": {...}} (JSON); "skimage" is the one at the card's parameters.
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
# The parameters fieldseg and the reference share, from the card (defaults where it has none).
read -r t_ext marker_h min_area < <("$fs" info "$model" --json | "$PY" -c "
import json, sys
t = json.load(sys.stdin)['model_card'].get('thresholds', {})
print(t.get('t_ext', 0.4), t.get('marker_h', 0.1), t.get('min_area_m2', 100))")
for c in "$@"; do
  dates=()
  for d in "$data"/source_train/*_source_train_"${c}"_2021_*; do
    dates+=("$d/B01.tif,$d/B02.tif,$d/B03.tif,$d/B04.tif")
  done
  "$fs" -q delineate "${dates[@]}" --model "$model" --out "$out/fs_$c.geojson" \
    --probabilities "$out/prob_$c.tif" --overwrite
  "$PY" "$here/tools/rwanda/skimage_instances.py" "$out/prob_$c.tif" "$out/sk_$c.geojson" \
    --t-ext "$t_ext" --h "$marker_h" --min-area-m2 "$min_area"
  "$PY" "$here/tools/rwanda/skimage_instances.py" "$out/prob_$c.tif" "$out/skd_$c.geojson"
done
truth_files=()
for c in "$@"; do truth_files+=("$data/fields/chip_$c.geojson"); done
"$PY" "$here/tools/rwanda/merge_geojson.py" "$out/truth.geojson" "${truth_files[@]}"
for p in fs sk skd; do
  files=()
  for c in "$@"; do files+=("$out/${p}_$c.geojson"); done
  "$PY" "$here/tools/rwanda/merge_geojson.py" "$out/${p}_all.geojson" "${files[@]}"
  "$fs" -q evaluate --pred "$out/${p}_all.geojson" --truth "$out/truth.geojson" --partial --json \
    --no-boundary >"$out/${p}_eval.json"
done
"$PY" -c "
import json, sys
r = {k: json.load(open(f'$out/{p}_eval.json'))
     for k, p in (('fieldseg', 'fs'), ('skimage', 'sk'), ('skimage_defaults', 'skd'))}
o = {k: {'median_iou': v['field_iou']['median'], 'mean_iou': v['field_iou']['mean'],
         'object_f1': v['objects']['f1'], 'pq': v['objects']['panoptic_quality'],
         'fields': v['scored_fields'], 'pred': v['pred_fields']} for k, v in r.items()}
o['shared_params'] = {'t_ext': $t_ext, 'h': $marker_h, 'min_area_m2': $min_area}
print(json.dumps(o))
"
