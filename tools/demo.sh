#!/usr/bin/env bash
# Quick start, command 1: set up, build, and run fieldseg's main job on its embedded default input:
# a synthetic smallholder scene (exactly known fields) -> shipped model -> field polygons (GeoJSON)
# + quicklook PNG, then the field IoU of the result against the scene's truth.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
BUILD_DIR=${FIELDSEG_BUILD_DIR:-build}
OUT=${FIELDSEG_DEMO_OUT:-out/demo}
MODEL=${FIELDSEG_DEMO_MODEL:-models/synth_smallholder.fsm}
FS="$BUILD_DIR/tools/fieldseg"
mkdir -p "$OUT"

"$FS" synth --preset smallholder --size 1024 --gsd 3 --seed 7 --out "$OUT/scene.tif" \
  --truth "$OUT/truth.geojson" --overwrite
"$FS" delineate "$OUT/scene.tif" --model "$MODEL" --out "$OUT/fields.geojson" \
  --probabilities "$OUT/probabilities.tif" --overwrite
"$FS" render --image "$OUT/scene.tif" --fields "$OUT/fields.geojson" --out "$OUT/quicklook.png" \
  --overwrite
echo "== field-level scores of $MODEL on the demo scene (truth: $OUT/truth.geojson)"
"$FS" evaluate --pred "$OUT/fields.geojson" --truth "$OUT/truth.geojson"
echo "== outputs in $OUT: fields.geojson (open in QGIS), quicklook.png, probabilities.tif, fields.geojson.run.json"
