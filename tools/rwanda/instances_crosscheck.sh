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
"$PY" - "$out" "$data/fields" "$@" <<'PY'
import json, os, sys
out, fields, chips = sys.argv[1], sys.argv[2], sys.argv[3:]
def merge(paths, dst):
    feats = []
    for p in paths:
        for f in json.load(open(p))["features"]:
            f["properties"] = {"id": len(feats) + 1}
            feats.append(f)
    json.dump({"type": "FeatureCollection", "features": feats}, open(dst, "w"))
merge([f"{out}/fs_{c}.geojson" for c in chips], f"{out}/fs_all.geojson")
merge([f"{out}/sk_{c}.geojson" for c in chips], f"{out}/sk_all.geojson")
merge([f"{fields}/chip_{c}.geojson" for c in chips], f"{out}/truth.geojson")
PY
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
