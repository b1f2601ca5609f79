#!/usr/bin/env bash
# Benchmark of `fieldseg evaluate` on thousands of fields: a synth smallholder scene (SIZE px at
# 3 m), its truth, and a realistic prediction (the truth's label raster fed to `fieldseg delineate
# --probabilities-in`, i.e. the oracle through the real post-processing). Prints the wall time of
# evaluate with and without the boundary scores.
#
# Usage: tools/bench_eval.sh OUTDIR [FIELDSEG_BINARY]   env SIZE (default 2048)
set -euo pipefail
out=${1:?usage: tools/bench_eval.sh OUTDIR [FIELDSEG_BINARY]}
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/tools/find_fieldseg.sh"
fs=$(find_fieldseg "${2:-}") || exit 1
size=${SIZE:-2048}
mkdir -p "$out"
"$fs" -q synth --preset smallholder --size "$size" --seed 7 --out "$out/scene.tif" \
  --truth "$out/truth.gpkg" --overwrite
"$fs" -q labels --image "$out/scene.tif" --fields "$out/truth.gpkg" --out "$out/labels.tif" --overwrite
"$fs" -q delineate --probabilities-in "$out/labels.tif" --out "$out/pred.gpkg" --overwrite
lscpu | sed -n 's/^Model name: *//p'
for extra in "--no-boundary" ""; do
  t0=$(date +%s.%N)
  "$fs" -q evaluate --pred "$out/pred.gpkg" --truth "$out/truth.gpkg" $extra --json > "$out/eval.json"
  t1=$(date +%s.%N)
  echo "evaluate ${extra:-(all metrics)}: $(jq .truth_fields "$out/eval.json") truth /" \
    "$(jq .pred_fields "$out/eval.json") predicted fields: $(echo "$t1 - $t0" | bc) s;" \
    "median IoU $(jq .field_iou.median "$out/eval.json")"
done
