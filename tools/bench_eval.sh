#!/usr/bin/env bash
# Benchmark of `fieldseg evaluate` on a synth smallholder scene (SIZE px at 3 m), two cases:
#   dense  all the scene's fields (thousands) as truth vs a realistic prediction: the truth's label
#          raster fed to `fieldseg delineate --probabilities-in` (the oracle through the real
#          post-processing); evaluate with --no-boundary and with all metrics.
#   blobs  about 96 of the fields (every k-th id) as truth vs a prediction made of a few huge
#          polygons: the fields of three quarters of the scene dissolved per 1 km cell (ST_Union;
#          each blob has thousands of vertices and holes) plus the single fields of the last
#          quarter; evaluate with all metrics, plain and --partial.
# Each evaluate runs REPEAT times (env THREADS: evaluate --threads, default 0 = all cores);
# prints the median wall time and a few scores, so runs of two builds can be compared.
#
# Usage: tools/bench_eval.sh OUTDIR [FIELDSEG_BINARY]
#   env SIZE (default 2048), REPEAT (default 3), CASES (default "dense blobs"), THREADS (default 0)
set -euo pipefail
out=${1:?usage: tools/bench_eval.sh OUTDIR [FIELDSEG_BINARY]}
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/tools/find_fieldseg.sh"
fs=$(find_fieldseg "${2:-}") || exit 1
for tool in jq bc ogr2ogr ogrinfo; do
  command -v $tool >/dev/null || { echo "bench_eval: needs $tool (apt-get install jq bc gdal-bin)." >&2; exit 1; }
done
size=${SIZE:-2048}
repeat=${REPEAT:-3}
cases=${CASES:-dense blobs}
mkdir -p "$out"

# run NAME ARGS...: evaluate REPEAT times, print the median wall time and the scores.
run() {
  local name=$1 times=() t0 t1
  shift
  for ((i = 0; i < repeat; i++)); do
    t0=$(date +%s.%N)
    "$fs" -q evaluate "$@" --threads "${THREADS:-0}" --json > "$out/eval_$name.json"
    t1=$(date +%s.%N)
    times+=("$(echo "$t1 - $t0" | bc)")
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{v[NR] = $1} END {
    print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}')
  echo "$name: $(jq .truth_fields "$out/eval_$name.json") truth / $(jq .pred_fields \
    "$out/eval_$name.json") predicted fields: median $median s of $repeat (${times[*]});" \
    "median IoU $(jq .field_iou.median "$out/eval_$name.json"), pixel IoU $(jq .pixel.iou \
    "$out/eval_$name.json"), boundary F1 $(jq .boundary.f1 "$out/eval_$name.json")"
}

"$fs" -q synth --preset smallholder --size "$size" --seed 7 --out "$out/scene.tif" \
  --truth "$out/truth.gpkg" --overwrite
echo "fieldseg: $fs; $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

if [[ " $cases " == *" dense "* ]]; then
  "$fs" -q labels --image "$out/scene.tif" --fields "$out/truth.gpkg" --out "$out/labels.tif" \
    --overwrite
  "$fs" -q delineate --probabilities-in "$out/labels.tif" --out "$out/pred.gpkg" --overwrite
  run dense_no_boundary --pred "$out/pred.gpkg" --truth "$out/truth.gpkg" --no-boundary
  run dense_all --pred "$out/pred.gpkg" --truth "$out/truth.gpkg"
fi

if [[ " $cases " == *" blobs "* ]]; then
  read -r x0 y0 x1 y1 < <(ogrinfo -so -al "$out/truth.gpkg" |
    sed -n 's/^Extent: (\(.*\), \(.*\)) - (\(.*\), \(.*\))$/\1 \2 \3 \4/p')
  n=$(ogrinfo -so -al "$out/truth.gpkg" | sed -n 's/^Feature Count: //p')
  xm=$(echo "($x0 + $x1) / 2" | bc -l)
  ym=$(echo "($y0 + $y1) / 2" | bc -l)
  cx="ST_X(ST_Centroid(geom))"
  cy="ST_Y(ST_Centroid(geom))"
  last="($cx < $xm AND $cy < $ym)"
  ogr2ogr -f GPKG "$out/blobs_truth.gpkg" "$out/truth.gpkg" -nln fields -overwrite \
    -where "id % $(((n + 95) / 96)) = 0"
  ogr2ogr -f GPKG "$out/blobs_pred.gpkg" "$out/truth.gpkg" -dialect SQLite -nln fields \
    -nlt MULTIPOLYGON -overwrite -sql "SELECT ST_Union(geom) AS geom FROM fields WHERE NOT $last
      GROUP BY CAST(($cx - $x0) / 1000 AS INT), CAST(($cy - $y0) / 1000 AS INT)
      UNION ALL SELECT CastToMulti(geom) AS geom FROM fields WHERE $last"
  run blobs_all --pred "$out/blobs_pred.gpkg" --truth "$out/blobs_truth.gpkg"
  run blobs_partial --pred "$out/blobs_pred.gpkg" --truth "$out/blobs_truth.gpkg" --partial
fi
