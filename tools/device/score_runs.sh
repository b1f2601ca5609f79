#!/usr/bin/env bash
# Scores the label-efficiency and transfer runs of train_gpu.sh on this (CPU) host and writes a
# markdown report: Rwanda runs on the held-out east-half fields (`evaluate --partial`), synthetic
# runs on a held-out synthetic smallholder scene (seed 202, every field labelled).
# Usage: tools/device/score_runs.sh RESULTS_DIR OUT_DIR   (repository root; fieldseg built)
set -euo pipefail
res=$(cd "${1:?results dir}" && pwd); out=${2:?out dir}
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/tools/find_fieldseg.sh" 2>/dev/null && fs=$(find_fieldseg) || fs=$here/build/tools/fieldseg
data=${REALDATA:-$here/../shared/realdata}
rw=$data/rwanda_planetscope/prepared
threads=${THREADS:-0}
mkdir -p "$out/eval"
out=$(cd "$out" && pwd)
syn=$out/synth_test
if [[ ! -f $syn/test.tif ]]; then
  mkdir -p "$syn"
  "$fs" -q synth --preset smallholder --size 1024 --gsd 3 --seed 202 --out "$syn/test.tif" \
    --truth "$syn/test_truth.gpkg" --overwrite
fi
for m in "$res"/*.fsm; do
  name=$(basename "$m" .fsm)
  j=$out/eval/$name.json
  [[ -f $j ]] && continue
  if [[ $name == le_syn_* ]]; then
    img=$syn/test.tif; truth=(--truth "$syn/test_truth.gpkg")
  elif [[ $name == source_gpu ]]; then
    continue  # RGB NAIP model: scored on Rwanda (RGB bands) below
  else
    img=$rw/rwanda_planetscope_chip.tif; truth=(--truth "$rw/fields.geojson" --truth-split east --partial)
  fi
  echo "score_runs: $name" >&2
  "$fs" -q delineate "$img" --model "$m" --out "$out/eval/$name.gpkg" --threads "$threads" --overwrite
  "$fs" -q evaluate --pred "$out/eval/$name.gpkg" "${truth[@]}" --json > "$j.tmp" && mv "$j.tmp" "$j"
done
if [[ -f $res/source_gpu.fsm && ! -f $out/eval/source_gpu.json ]]; then
  "$fs" -q delineate "$rw/rwanda_planetscope_chip.tif" --model "$res/source_gpu.fsm" \
    --out "$out/eval/source_gpu.gpkg" --threads "$threads" --overwrite
  "$fs" -q evaluate --pred "$out/eval/source_gpu.gpkg" --truth "$rw/fields.geojson" --truth-split east \
    --partial --json > "$out/eval/source_gpu.json"
fi
/usr/bin/python3 "$here/tools/device/label_efficiency_table.py" "$out/eval" "$res" > "$out/report.md"
cat "$out/report.md"
